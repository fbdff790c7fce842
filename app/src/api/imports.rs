//! Imports of an edited export into the signed-in tenant administrator's tenant space.

use crate::error::AppError;
use crate::model::{ImportSummary, ImportView};
use leptos::prelude::*;
use leptos::server_fn::codec::{Json, MultipartData, MultipartFormData};

#[cfg(feature = "ssr")]
use super::ctx;

/// A multipart form with `file`: the `.xlsx` or `.zip` that Export produced, at most 20 MiB.
/// The file is stored as it arrives; answers the import's id. Its dry run runs in the
/// background.
#[server(endpoint = "import_channels", input = MultipartFormData)]
pub async fn import_channels(data: MultipartData) -> Result<i64, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::import::MAX_IMPORT_BYTES;
    use crate::ports::RepoError;
    use futures::StreamExt;
    let (tenant, actor) = ctx::tenant_actor().await?;
    let mut form = data.into_inner().ok_or(AppError::BadRequest)?;
    while let Some(field) = form.next_field().await.map_err(|_| AppError::BadRequest)? {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let mut total = 0usize;
        let refused = |message: &str| RepoError::Conflict {
            field: "file",
            message: message.to_owned(),
        };
        let upload = field.map(move |piece| match piece {
            Ok(piece) => {
                total += piece.len();
                if total > MAX_IMPORT_BYTES {
                    Err(refused(
                        "The file is larger than 20 MiB: import at most 100,000 channels at a time.",
                    ))
                } else {
                    Ok(piece.to_vec())
                }
            }
            Err(_) => Err(refused(
                "The upload broke off before its end: upload the file again.",
            )),
        });
        // the upload may take minutes: who sent it is asked again before it is started
        let user_id = actor.user_id;
        let still_signed_in = Box::pin(async move {
            ctx::still_signed_in_as(user_id)
                .await
                .map_err(|_| RepoError::Conflict {
                    field: "file",
                    message: "You were signed out while the file was uploading: sign in and upload it again.".into(),
                })
        });
        let id = ctx::ports()?
            .imports
            .start(
                &actor,
                tenant,
                &file_name,
                Box::pin(upload),
                still_signed_in,
            )
            .await?;
        tracing::info!(tenant_id = tenant, import_id = id, "import started");
        return Ok(id);
    }
    Err(FieldErrors::single("file", "Choose the .xlsx or .zip file to import.").into())
}

#[server(endpoint = "list_imports")]
pub async fn list_imports() -> Result<Vec<ImportSummary>, AppError> {
    let tenant = ctx::require_tenant().await?;
    ctx::ports()?
        .imports
        .list(tenant)
        .await
        .map_err(AppError::from)
}

/// One import and a page of its dry run: rows of `outcome` (a `RowOutcome` code) or all rows.
#[server(endpoint = "get_import", input = Json)]
pub async fn get_import(
    id: i64,
    outcome: String,
    at: crate::model::PageAt,
) -> Result<ImportView, AppError> {
    use crate::domain::FieldErrors;
    use crate::domain::import::RowOutcome;
    let tenant = ctx::require_tenant().await?;
    let outcome = match outcome.as_str() {
        "" => None,
        code => Some(RowOutcome::parse(code).ok_or_else(|| {
            AppError::from(FieldErrors::single("outcome", "Choose which rows to show."))
        })?),
    };
    ctx::ports()?
        .imports
        .view(tenant, id, outcome, &at)
        .await
        .map_err(AppError::from)
}

/// Asks for a checked import to be applied (in the background, all or nothing).
#[server(endpoint = "apply_import", input = Json)]
pub async fn apply_import(id: i64) -> Result<(), AppError> {
    let (tenant, actor) = ctx::tenant_actor().await?;
    ctx::ports()?
        .imports
        .apply(&actor, tenant, id)
        .await
        .map_err(AppError::from)
}
