//! `GET /config/audit.csv` and `GET /system/audit.csv`: the filtered audit log as a `.csv`,
//! newest first, at most `CSV_MAX_ROWS` entries, streamed a page at a time (memory stays one
//! page whatever the log's size). Anyone but the page's role gets 404.

use crate::db::audit::{select, view};
use crate::exports::download::signed_in_as;
use crate::state::AppState;
use app::domain::audit::{AuditFilter, AuditQuery, CSV_MAX_ROWS, csv_field};
use app::model::{AuditEntry, Role};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DatabaseConnection, QuerySelect};
use tower_sessions::Session;

const CHUNK: u64 = 1_000;

const HEADER: &str = "Time,Actor,Role,Tenant space,Client address,Action,Object type,Object id,Object name,Changes\r\n";

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// One line per entry; the changes as `field: before → after` joined by `; `.
pub fn line(e: &AuditEntry) -> String {
    let changes = e
        .changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, c.before, c.after))
        .collect::<Vec<_>>()
        .join("; ");
    let fields = [
        e.at.as_str(),
        &e.actor,
        &e.role,
        e.tenant.as_deref().unwrap_or(""),
        &e.client,
        &e.action_label,
        &e.object_kind,
        &e.object_id.map(|i| i.to_string()).unwrap_or_default(),
        &e.object_name,
        &changes,
    ];
    let mut out = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

struct Cursor {
    db: DatabaseConnection,
    tenant: Option<i64>,
    query: AuditQuery,
    sent: u64,
    done: bool,
}

async fn next_chunk(mut c: Cursor) -> Option<(Result<Bytes, std::io::Error>, Cursor)> {
    if c.done {
        return None;
    }
    let take = CHUNK.min(CSV_MAX_ROWS - c.sent);
    let rows = match select(c.tenant, &c.query).limit(take).all(&c.db).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "audit csv");
            return Some((
                Err(std::io::Error::other("audit csv")),
                Cursor { done: true, ..c },
            ));
        }
    };
    let last = rows.last().map(|r| r.id);
    let n = rows.len() as u64;
    let entries = match view(&c.db, rows, c.tenant.is_some()).await {
        Ok(v) => v,
        Err(_) => {
            return Some((
                Err(std::io::Error::other("audit csv")),
                Cursor { done: true, ..c },
            ));
        }
    };
    let mut text = String::new();
    for e in &entries {
        text.push_str(&line(e));
    }
    c.sent += n;
    c.query.before = last;
    c.done = n < take || c.sent >= CSV_MAX_ROWS;
    Some((Ok(Bytes::from(text)), c))
}

async fn csv(state: AppState, session: Session, filter: AuditFilter, role: Role) -> Response {
    let Some((_, tenant)) = signed_in_as(&state, &session, role).await else {
        return plain(StatusCode::NOT_FOUND, "Not found.");
    };
    let Ok(mut query) = filter.parse() else {
        return plain(
            StatusCode::BAD_REQUEST,
            "The filters are not valid: correct them on the audit page.",
        );
    };
    let tenant = match role {
        Role::TenantAdmin => match tenant {
            Some(t) => Some(t),
            None => return plain(StatusCode::NOT_FOUND, "Not found."),
        },
        Role::SystemAdmin => None,
    };
    query.before = None;
    // the byte order mark tells Excel the file is UTF-8
    let first = futures::stream::once(async {
        Ok::<_, std::io::Error>(Bytes::from(format!("\u{FEFF}{HEADER}")))
    });
    let rest = futures::stream::unfold(
        Cursor {
            db: state.db.conn.clone(),
            tenant,
            query,
            sent: 0,
            done: false,
        },
        next_chunk,
    );
    use futures::StreamExt;
    let mut res = Response::new(Body::from_stream(first.chain(rest)));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-log.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub async fn tenant_csv(
    State(state): State<AppState>,
    session: Session,
    Query(filter): Query<AuditFilter>,
) -> Response {
    csv(state, session, filter, Role::TenantAdmin).await
}

pub async fn system_csv(
    State(state): State<AppState>,
    session: Session,
    Query(filter): Query<AuditFilter>,
) -> Response {
    csv(state, session, filter, Role::SystemAdmin).await
}
