//! `GET /config/exports/{id}/download`: the artifact of a finished export, for the owning
//! tenant's administrators only (anyone else gets 404, as for a task that does not exist).

use crate::db::entities::export_task;
use crate::state::AppState;
use app::model::Role;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tower_sessions::Session;

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Not found.",
    )
        .into_response()
}

/// The tenant of the signed-in tenant administrator, if the session names a valid one (the
/// same check every server function makes).
async fn tenant_of(state: &AppState, session: &Session) -> Option<i64> {
    let p = app::api::signed_in(session, state.ports.accounts.as_ref())
        .await
        .ok()??;
    (p.me.role == Role::TenantAdmin)
        .then_some(p.me.tenant_id)
        .flatten()
}

pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    let Some(tenant) = tenant_of(&state, &session).await else {
        return not_found();
    };
    let task = match export_task::Entity::find_by_id(id)
        .filter(export_task::Column::TenantId.eq(tenant))
        .filter(export_task::Column::Status.eq("success"))
        .one(&state.db.conn)
        .await
    {
        Ok(Some(t)) => t,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "loading an export for download");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response();
        }
    };
    let (Some(bytes), Some(name), Some(content_type)) =
        (task.artifact, task.file_name, task.content_type)
    else {
        return not_found();
    };
    let disposition = format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}");
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    if let (Ok(ct), Ok(cd)) = (
        HeaderValue::from_str(&content_type),
        HeaderValue::from_str(&disposition),
    ) {
        h.insert(header::CONTENT_TYPE, ct);
        h.insert(header::CONTENT_DISPOSITION, cd);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
