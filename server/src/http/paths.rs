//! One address per page. A page's path with a trailing `/`, an empty segment (`//`) or a
//! dot segment (`/./`, `/../`, also percent-encoded) is answered with a permanent redirect to
//! its canonical form before anything else looks at it: the router matches such paths
//! loosely, and the page guard, which decides a page's access and status, matches them exactly,
//! so a page could otherwise render its content under an error status.
//!
//! Only `GET` and `HEAD` of pages are redirected; server functions (`/api/…`), webhooks
//! (`/social/…`) and the built files (`/pkg/…`) are matched exactly and answer 404 otherwise.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The canonical form of `path`, or `None` when it is canonical already.
pub fn canonical(path: &str) -> Option<String> {
    if path == "/" {
        return None;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match dots(segment) {
            Some(1) => {}
            Some(2) => {
                segments.pop();
            }
            _ if segment.is_empty() => {}
            _ => segments.push(segment),
        }
    }
    let out = format!("/{}", segments.join("/"));
    (out != path).then_some(out)
}

/// `Some(1)` for `.` and `Some(2)` for `..`, spelled plainly or percent-encoded (`%2e`).
fn dots(segment: &str) -> Option<usize> {
    let decoded = segment.replace("%2e", ".").replace("%2E", ".");
    match decoded.as_str() {
        "." => Some(1),
        ".." => Some(2),
        _ => None,
    }
}

fn is_page(path: &str) -> bool {
    !["/api/", "/social/", "/pkg/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// The middleware: a `GET`/`HEAD` of a page at a non-canonical path is sent to the canonical
/// one (`308`, the query kept).
pub async fn canonical_paths(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) || !is_page(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(path) = canonical(req.uri().path()) else {
        return next.run(req).await;
    };
    let target = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    // a browser reads `/\host` as `//host`: such a path is not redirected anywhere
    let location = (!target.contains('\\'))
        .then(|| HeaderValue::from_str(&target).ok())
        .flatten();
    match location.ok_or(()) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Not found.",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_canonical() {
        for (path, want) in [
            (
                "/config/channels/1/integration/",
                "/config/channels/1/integration",
            ),
            (
                "/config/channels/1/./integration",
                "/config/channels/1/integration",
            ),
            (
                "/config/x/../channels/1/integration",
                "/config/channels/1/integration",
            ),
            (
                "/config/x/%2e%2E/channels/1/integration",
                "/config/channels/1/integration",
            ),
            ("/config//channels", "/config/channels"),
            ("/../../config", "/config"),
            ("//evil.example/x", "/evil.example/x"),
            ("/config/", "/config"),
            ("/..", "/"),
        ] {
            assert_eq!(canonical(path).as_deref(), Some(want), "{path}");
        }
        for path in [
            "/",
            "/config",
            "/config/channels/1/integration",
            "/login",
            "/config/a.b/c..d",
        ] {
            assert_eq!(canonical(path), None, "{path}");
        }
        assert!(!is_page("/api/login"));
        assert!(!is_page("/social/on/whatsapp/infobip/message/k/"));
        assert!(is_page("/config/channels/"));
    }
}
