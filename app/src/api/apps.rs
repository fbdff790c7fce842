//! APP Management: the system administrator's apps (create, reset the secret, disable,
//! enable, delete) and the tenant administrator's read-only view of their tenant space's.

use crate::error::AppError;
use crate::model::{AppSecretShown, AppSummary};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ctx;

#[server(endpoint = "list_apps")]
pub async fn list_apps() -> Result<Vec<AppSummary>, AppError> {
    ctx::require_system().await?;
    ctx::ports()?.apps.list(None).await.map_err(AppError::from)
}

/// The apps bound to the signed-in tenant administrator's tenant space.
#[server(endpoint = "list_tenant_apps")]
pub async fn list_tenant_apps() -> Result<Vec<AppSummary>, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .apps
        .list(Some(tenant))
        .await
        .map_err(AppError::from)
}

/// `apis` holds the codes of the ticked subscriptions (`apis[0]`, … in the form).
#[server(endpoint = "create_app")]
pub async fn create_app(
    name: String,
    tenant_id: String,
    apis: Option<Vec<String>>,
) -> Result<AppSecretShown, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::apps::{AppName, parse_apis};
    let actor = ctx::system_actor().await?;
    let mut errors = FieldErrors::new();
    let name = errors.check("name", AppName::parse(&name));
    let tenant = errors.check(
        "tenant_id",
        tenant_id
            .trim()
            .parse::<i64>()
            .map_err(|_| "Choose the tenant space the app is bound to.".to_string()),
    );
    let apis = errors.check("apis", parse_apis(&apis.unwrap_or_default()));
    errors.into_result()?;
    let (Some(name), Some(tenant), Some(apis)) = (name, tenant, apis) else {
        return Err(AppError::Internal);
    };
    let shown = ctx::ports()?
        .apps
        .create(&actor, tenant, &name, &apis)
        .await?;
    tracing::info!(app_id = shown.app_id, tenant_id = tenant, "app created");
    Ok(shown)
}

#[server(endpoint = "reset_app_secret")]
pub async fn reset_app_secret(
    app_id: i64,
    overlap_hours: String,
) -> Result<AppSecretShown, AppError> {
    use crate::domain::apps::parse_overlap_hours;
    let actor = ctx::system_actor().await?;
    let hours =
        parse_overlap_hours(&overlap_hours).map_err(|m| AppError::field("overlap_hours", m))?;
    let shown = ctx::ports()?
        .apps
        .reset_secret(&actor, app_id, hours)
        .await?;
    tracing::info!(app_id, overlap_hours = hours, "app secret reset");
    Ok(shown)
}

#[server(endpoint = "set_app_enabled")]
pub async fn set_app_enabled(app_id: i64, enabled: bool) -> Result<(), AppError> {
    let actor = ctx::system_actor().await?;
    ctx::ports()?
        .apps
        .set_enabled(&actor, app_id, enabled)
        .await?;
    tracing::info!(app_id, enabled, "app status changed");
    Ok(())
}

#[server(endpoint = "delete_app")]
pub async fn delete_app(id: i64) -> Result<(), AppError> {
    let actor = ctx::system_actor().await?;
    ctx::ports()?.apps.delete(&actor, id).await?;
    tracing::info!(app_id = id, "app deleted");
    Ok(())
}
