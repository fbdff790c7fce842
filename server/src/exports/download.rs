//! `GET /config/exports/{id}/download`: the artifact of a finished export, for the owning
//! tenant's administrators only (anyone else gets 404, as for a task that does not exist).

use crate::db::entities::export_task;
use crate::state::AppState;
use app::domain::audit::{AuditAction, ObjectKind};
use app::model::{Me, Role};
use app::ports::{Actor, AuditEvent, ClientAddr};
use axum::body::Body;
use axum::extract::{Extension, Path, State};
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

/// The signed-in account and its tenant, if the session names a valid account with the role
/// `role` (the same check every server function makes).
pub async fn signed_in_as(
    state: &AppState,
    session: &Session,
    role: Role,
) -> Option<(Me, Option<i64>)> {
    let p = app::api::signed_in(session, state.ports.accounts.as_ref())
        .await
        .ok()??;
    (p.me.role == role).then(|| {
        let tenant = p.me.tenant_id;
        (p.me, tenant)
    })
}

fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side.",
    )
        .into_response()
}

pub async fn download(
    State(state): State<AppState>,
    session: Session,
    client: Option<Extension<ClientAddr>>,
    Path(id): Path<i64>,
) -> Response {
    let Some((me, Some(tenant))) = signed_in_as(&state, &session, Role::TenantAdmin).await else {
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
            return internal_error();
        }
    };

    let (Some(bytes), Some(name), Some(content_type)) =
        (task.artifact, task.file_name, task.content_type)
    else {
        return not_found();
    };
    let actor = Actor::of(&me, client.map(|Extension(c)| c.0));
    let event = AuditEvent::new(
        AuditAction::ExportDownloaded,
        Some(tenant),
        ObjectKind::Export,
        Some(task.id),
        name.clone(),
    );
    // no entry, no file: a download that cannot be recorded does not happen
    if state.ports.audit.record(&actor, event).await.is_err() {
        return internal_error();
    }
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
