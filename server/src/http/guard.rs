//! Decides a page's access and HTTP status before any of it is rendered: streamed HTML cannot
//! change its status once the first bytes are out, so a status set while rendering is a race.
//!
//! | page | decided here |
//! |---|---|
//! | `/config…`, `/system…` signed out | 302 to `/login?next=…` |
//! | the other role's area | 403 (the page renders "Access denied") |
//! | `/config/channels/{id}/…` of no channel of the tenant | 404 (the page renders "Not found") |
//! | `/login` signed in | 302 to the account's home (or to `next`) |

use crate::state::AppState;
use app::domain::redirect::{local_target, query_value};
use app::model::Role;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Login,
    Area(Role),
}

fn page_of(path: &str) -> Option<Page> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if path == "/login" {
        Some(Page::Login)
    } else if under("/config")
        && !(path.starts_with("/config/exports/") && path.ends_with("/download"))
    {
        Some(Page::Area(Role::TenantAdmin))
    } else if under("/system") {
        Some(Page::Area(Role::SystemAdmin))
    } else {
        None
    }
}

/// The id of `/config/channels/{id}/{edit|integration|activity}`.
fn channel_page(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/config/channels/")?;
    let (id, page) = rest.split_once('/')?;
    matches!(page, "edit" | "integration" | "activity").then_some(id)
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => (
            StatusCode::FOUND,
            [(header::LOCATION, HeaderValue::from_static("/"))],
        )
            .into_response(),
    }
}

fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let Some(page) = page_of(&path) else {
        return next.run(req).await;
    };
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return next.run(req).await;
    };
    let principal = match app::api::signed_in(&session, state.ports.accounts.as_ref()).await {
        Ok(p) => p,
        Err(_) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Something went wrong on our side. Please try again.",
            )
                .into_response();
        }
    };
    let Some(me) = principal.map(|p| p.me) else {
        if page == Page::Login {
            return next.run(req).await;
        }
        let here = req
            .uri()
            .path_and_query()
            .map_or(path.as_str(), |p| p.as_str());
        return found(&format!("/login?next={}", query_value(here)));
    };
    let role = match page {
        Page::Login => {
            let next_param = req.uri().query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "next")
                    .map(|(_, v)| v.into_owned())
            });
            let target = next_param
                .filter(|_| me.role == Role::TenantAdmin)
                .and_then(|n| local_target(&n, &state.ports.public_url));
            return found(target.as_deref().unwrap_or(me.role.home()));
        }
        Page::Area(role) => role,
    };
    if me.role != role {
        return with_status(next.run(req).await, StatusCode::FORBIDDEN);
    }
    if let (Some(id), Some(tenant)) = (channel_page(&path), me.tenant_id) {
        let exists = match id.parse::<i64>() {
            Ok(id) => state
                .ports
                .channels
                .exists(tenant, id)
                .await
                .unwrap_or(false),
            Err(_) => false,
        };
        if !exists {
            return with_status(next.run(req).await, StatusCode::NOT_FOUND);
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_their_areas() {
        assert_eq!(page_of("/login"), Some(Page::Login));
        assert_eq!(page_of("/config"), Some(Page::Area(Role::TenantAdmin)));
        assert_eq!(page_of("/config/ous"), Some(Page::Area(Role::TenantAdmin)));
        assert_eq!(page_of("/configure"), None);
        assert_eq!(
            page_of("/system/tenants"),
            Some(Page::Area(Role::SystemAdmin))
        );
        assert_eq!(page_of("/config/exports/7/download"), None);
        assert_eq!(page_of("/api/login"), None);
        assert_eq!(channel_page("/config/channels/12/edit"), Some("12"));
        assert_eq!(channel_page("/config/channels/x/activity"), Some("x"));
        assert_eq!(channel_page("/config/channels/new"), None);
        assert_eq!(channel_page("/config/channels"), None);
    }
}
