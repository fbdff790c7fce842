//! The system administrator's functions: tenant spaces, their administrators, the trustlist.
//! Every one starts with `require_system()`.

use crate::error::AppError;
use crate::model::{TenantSummary, TrustEntry};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ctx;

#[server(endpoint = "list_tenants")]
pub async fn list_tenants() -> Result<Vec<TenantSummary>, AppError> {
    ctx::require_system().await?;
    ctx::ports()?.tenants.list().await.map_err(AppError::from)
}

#[server(endpoint = "create_tenant")]
pub async fn create_tenant(
    name: String,
    admin_username: String,
    admin_password: String,
) -> Result<i64, AppError> {
    use crate::domain::{FieldErrors, NewPassword, TenantName, Username};
    let actor = ctx::system_actor().await?;
    let mut errors = FieldErrors::new();
    let name = errors.check("name", TenantName::parse(&name));
    let admin = errors.check("admin_username", Username::parse(&admin_username));
    let password = errors.check("admin_password", NewPassword::parse(&admin_password));
    errors.into_result()?;
    let (Some(name), Some(admin), Some(password)) = (name, admin, password) else {
        return Err(AppError::Internal);
    };
    let id = ctx::ports()?
        .tenants
        .create(&actor, &name, &admin, &password)
        .await?;
    tracing::info!(tenant_id = id, "tenant space created");
    Ok(id)
}

#[server(endpoint = "reset_admin_password")]
pub async fn reset_admin_password(user_id: i64, new_password: String) -> Result<(), AppError> {
    use crate::domain::NewPassword;
    let actor = ctx::system_actor().await?;
    let password =
        NewPassword::parse(&new_password).map_err(|m| AppError::field("new_password", m))?;
    ctx::ports()?
        .tenants
        .reset_admin_password(&actor, user_id, &password)
        .await?;
    tracing::info!(user_id, "tenant administrator password reset");
    Ok(())
}

#[server(endpoint = "set_tenant_disabled")]
pub async fn set_tenant_disabled(tenant_id: i64, disabled: bool) -> Result<(), AppError> {
    let actor = ctx::system_actor().await?;
    ctx::ports()?
        .tenants
        .set_disabled(&actor, tenant_id, disabled)
        .await?;
    tracing::info!(tenant_id, disabled, "tenant space status changed");
    Ok(())
}

#[server(endpoint = "list_trustlist")]
pub async fn list_trustlist() -> Result<Vec<TrustEntry>, AppError> {
    ctx::require_system().await?;
    ctx::ports()?.trustlist.list().await.map_err(AppError::from)
}

/// `scope` is `global` or a tenant space's id.
/// `allow_private` is the checkbox "Allow private network addresses" (`on` when ticked).
#[server(endpoint = "add_trust_prefix")]
pub async fn add_trust_prefix(
    prefix: String,
    scope: String,
    allow_private: Option<String>,
) -> Result<i64, AppError> {
    use crate::domain::{FieldErrors, TrustPrefix};
    let actor = ctx::system_actor().await?;
    let mut errors = FieldErrors::new();
    let prefix = errors.check("prefix", TrustPrefix::parse(&prefix));
    let tenant_id = match scope.trim() {
        "global" => Some(None),
        id => errors.check(
            "scope",
            id.parse::<i64>()
                .map(Some)
                .map_err(|_| "Choose Global or a tenant space.".to_string()),
        ),
    };
    errors.into_result()?;
    let (Some(prefix), Some(tenant_id)) = (prefix, tenant_id) else {
        return Err(AppError::Internal);
    };
    ctx::ports()?
        .trustlist
        .add(
            &actor,
            &prefix,
            tenant_id,
            allow_private.is_some_and(|v| matches!(v.as_str(), "on" | "true")),
        )
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "remove_trust_prefix")]
pub async fn remove_trust_prefix(id: i64) -> Result<(), AppError> {
    let actor = ctx::system_actor().await?;
    ctx::ports()?
        .trustlist
        .remove(&actor, id)
        .await
        .map_err(AppError::from)
}
