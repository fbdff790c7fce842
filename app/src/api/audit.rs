//! The audit log: a tenant administrator reads their tenant's entries, the system administrator
//! everyone's. Nothing here writes: entries are written by the changes themselves.

use crate::domain::audit::AuditFilter;
use crate::error::AppError;
use crate::model::AuditPage;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::ctx;

/// A page of the signed-in tenant's entries, newest first.
#[server(endpoint = "list_tenant_audit", input = Json)]
pub async fn list_tenant_audit(filter: AuditFilter) -> Result<AuditPage, AppError> {
    let tenant = ctx::require_tenant().await?;
    let query = filter.parse()?;
    Ok(ctx::ports()?.audit.list(Some(tenant), &query).await?)
}

/// A page of every entry (all tenants and the system administrator's), newest first.
#[server(endpoint = "list_system_audit", input = Json)]
pub async fn list_system_audit(filter: AuditFilter) -> Result<AuditPage, AppError> {
    ctx::require_system().await?;
    let query = filter.parse()?;
    Ok(ctx::ports()?.audit.list(None, &query).await?)
}
