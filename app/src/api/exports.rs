//! Export tasks of the signed-in tenant administrator's tenant space.

use crate::error::AppError;
use crate::model::ExportTask;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::ctx;

/// Exports the channels with these ids, or every channel of the tenant when `ids` is empty.
/// Answers the new task's id; the work runs in the background.
#[server(endpoint = "start_export", input = Json)]
pub async fn start_export(ids: Vec<i64>) -> Result<i64, AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    let ids = (!ids.is_empty()).then_some(ids);
    let id = ctx::ports()?.exports.start(&actor, tenant, ids).await?;
    tracing::info!(tenant_id = tenant, task_id = id, "export started");
    Ok(id)
}

#[server(endpoint = "list_exports")]
pub async fn list_exports() -> Result<Vec<ExportTask>, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .exports
        .list(tenant)
        .await
        .map_err(AppError::from)
}
