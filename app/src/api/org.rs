//! OUs and skill queues of the signed-in tenant administrator's tenant space.

use crate::error::AppError;
use crate::model::{Ou, SkillQueue};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ctx;

#[server(endpoint = "list_ous")]
pub async fn list_ous() -> Result<Vec<Ou>, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?.ous.list(tenant).await.map_err(AppError::from)
}

/// `parent_id` empty for a top-level OU.
#[server(endpoint = "create_ou")]
pub async fn create_ou(name: String, parent_id: String) -> Result<i64, AppError> {
    use crate::domain::{FieldErrors, OuName};
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut errors = FieldErrors::new();
    let name = errors.check("name", OuName::parse(&name));
    let parent = match parent_id.trim() {
        "" => Some(None),
        id => errors.check(
            "parent_id",
            id.parse::<i64>()
                .map(Some)
                .map_err(|_| "Choose a parent OU or none.".to_string()),
        ),
    };
    errors.into_result()?;
    let (Some(name), Some(parent)) = (name, parent) else {
        return Err(AppError::Internal);
    };
    ctx::ports()?
        .ous
        .create(&actor, tenant, &name, parent)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "delete_ou")]
pub async fn delete_ou(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .ous
        .delete(&actor, tenant, id)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "list_skill_queues")]
pub async fn list_skill_queues() -> Result<Vec<SkillQueue>, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .skill_queues
        .list(tenant)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "create_skill_queue")]
pub async fn create_skill_queue(name: String, access_code: String) -> Result<i64, AppError> {
    use crate::domain::{AccessCode, FieldErrors, SkillQueueName};
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut errors = FieldErrors::new();
    let name = errors.check("name", SkillQueueName::parse(&name));
    let code = errors.check("access_code", AccessCode::parse(&access_code));
    errors.into_result()?;
    let (Some(name), Some(code)) = (name, code) else {
        return Err(AppError::Internal);
    };
    ctx::ports()?
        .skill_queues
        .create(&actor, tenant, &name, &code)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "delete_skill_queue")]
pub async fn delete_skill_queue(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .skill_queues
        .delete(&actor, tenant, id)
        .await
        .map_err(AppError::from)
}
