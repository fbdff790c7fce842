//! One address per page. A page's path with a trailing `/` or an empty segment (`//`) is
//! answered with a permanent redirect to its canonical form, and one with a dot segment
//! (`/./`, `/../`, also percent-encoded; no browser sends them) with a plain 404, before
//! anything else looks at it: the router matches such paths loosely, and the page guard, which
//! decides a page's access and status, matches them exactly, so a page could otherwise render
//! its content under an error status.
//!
//! Only `GET` and `HEAD` of pages are judged; server functions (`/api/…`), webhooks
//! (`/social/…`) and the built files (`/pkg/…`) are matched exactly and answer 404 otherwise.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What a page's path is.
#[derive(Debug, PartialEq, Eq)]
pub enum Canonical {
    /// Canonical: served as it is.
    Is,
    /// Canonical once its empty segments (a trailing `/`, `//`) are dropped.
    At(String),
    /// A dot segment: no page is at such an address.
    Nowhere,
}

/// Judges `path`.
pub fn canonical(path: &str) -> Canonical {
    if path == "/" {
        return Canonical::Is;
    }
    if path.split('/').any(is_dots) {
        return Canonical::Nowhere;
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let out = format!("/{}", segments.join("/"));
    if out == path {
        Canonical::Is
    } else {
        Canonical::At(out)
    }
}

/// `.` or `..`, spelled plainly or percent-encoded (`%2e`).
fn is_dots(segment: &str) -> bool {
    let decoded = segment.replace("%2e", ".").replace("%2E", ".");
    decoded == "." || decoded == ".."
}

fn is_page(path: &str) -> bool {
    !["/api/", "/social/", "/pkg/"]
        .iter()
        .any(|p| path.starts_with(p))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Not found.",
    )
        .into_response()
}

/// The middleware: a `GET`/`HEAD` of a page at a non-canonical path is sent to the canonical
/// one (`308`, the query kept), or answered 404 when it has dot segments.
pub async fn canonical_paths(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) || !is_page(req.uri().path()) {
        return next.run(req).await;
    }
    let path = match canonical(req.uri().path()) {
        Canonical::Is => return next.run(req).await,
        Canonical::Nowhere => return not_found(),
        Canonical::At(path) => path,
    };
    let target = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    // a browser reads `/\host` as `//host`: such a path is not redirected anywhere
    let location = (!target.contains('\\'))
        .then(|| HeaderValue::from_str(&target).ok())
        .flatten();
    match location {
        Some(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        None => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_judged() {
        for (path, want) in [
            (
                "/config/channels/1/integration/",
                "/config/channels/1/integration",
            ),
            ("/config//channels", "/config/channels"),
            ("//evil.example/x", "/evil.example/x"),
            ("/config/", "/config"),
        ] {
            assert_eq!(canonical(path), Canonical::At(want.into()), "{path}");
        }
        for path in [
            "/config/channels/1/./integration",
            "/config/x/../channels/1/integration",
            "/config/x/%2e%2E/channels/1/integration",
            "/../../config",
            "/..",
            "/%2e%2e/secret.txt",
        ] {
            assert_eq!(canonical(path), Canonical::Nowhere, "{path}");
        }
        for path in [
            "/",
            "/config",
            "/config/channels/1/integration",
            "/login",
            "/config/a.b/c..d",
        ] {
            assert_eq!(canonical(path), Canonical::Is, "{path}");
        }
        assert!(!is_page("/api/login"));
        assert!(!is_page("/social/on/whatsapp/infobip/message/k/"));
        assert!(is_page("/config/channels/"));
    }
}
