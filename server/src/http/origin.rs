//! Refuses state-changing requests that a browser sent on behalf of another site.
//!
//! The rule follows the Fetch metadata approach: `Sec-Fetch-Site` `same-origin` or `none`
//! passes, any other value is refused; without it, an `Origin` header must be this site's
//! (the public URL's origin, or the origin of the `Host` the request was sent to). Requests
//! with neither header do not come from a browser page and pass. Safe methods and the provider
//! webhooks (`/social/…`) and the send API (`apiaccess`), authenticated by their own
//! credentials and never by a cookie, are not checked.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct OriginPolicy {
    /// `scheme://host[:port]` of the public URL.
    pub public_origin: String,
}

impl OriginPolicy {
    pub fn new(public_url: &url::Url) -> Self {
        Self {
            public_origin: public_url.origin().ascii_serialization(),
        }
    }

    /// `true` when the request may proceed.
    pub fn allows(&self, method: &Method, path: &str, headers: &axum::http::HeaderMap) -> bool {
        if matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) {
            return true;
        }
        if path.starts_with("/social/") || crate::apiaccess::is_api_path(path) {
            return true;
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            return matches!(site.to_str(), Ok("same-origin" | "none"));
        }
        let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
            return true;
        };
        if origin == self.public_origin {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        match (url::Url::parse(origin), host) {
            (Ok(o), Some(host)) => {
                let authority = match o.port() {
                    Some(p) => format!("{}:{p}", o.host_str().unwrap_or_default()),
                    None => o.host_str().unwrap_or_default().to_string(),
                };
                origin != "null" && authority.eq_ignore_ascii_case(host)
            }
            _ => false,
        }
    }
}

pub async fn origin_guard(
    State(policy): State<Arc<OriginPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    if policy.allows(req.method(), req.uri().path(), req.headers()) {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "cross-origin request refused");
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Cross-origin request refused.",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn policy() -> OriginPolicy {
        OriginPolicy::new(&url::Url::parse("https://cc.example.com").unwrap())
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_first() {
        let p = policy();
        assert!(p.allows(
            &Method::POST,
            "/api/x",
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(p.allows(
            &Method::POST,
            "/api/x",
            &headers(&[("sec-fetch-site", "none")])
        ));
        assert!(!p.allows(
            &Method::POST,
            "/api/x",
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!p.allows(
            &Method::POST,
            "/api/x",
            &headers(&[("sec-fetch-site", "same-site")])
        ));
    }

    #[test]
    fn origin_must_be_this_site() {
        let p = policy();
        assert!(p.allows(
            &Method::POST,
            "/api/x",
            &headers(&[("origin", "https://cc.example.com")])
        ));
        assert!(p.allows(
            &Method::POST,
            "/api/x",
            &headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        assert!(!p.allows(
            &Method::POST,
            "/api/x",
            &headers(&[("origin", "https://evil.test"), ("host", "cc.example.com")])
        ));
        assert!(!p.allows(&Method::POST, "/api/x", &headers(&[("origin", "null")])));
        // no browser headers at all: not a cross-site browser request
        assert!(p.allows(&Method::POST, "/api/x", &HeaderMap::new()));
    }

    #[test]
    fn safe_methods_and_webhooks_pass() {
        let p = policy();
        let evil = headers(&[
            ("origin", "https://evil.test"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(p.allows(&Method::GET, "/config/channels", &evil));
        assert!(p.allows(
            &Method::POST,
            "/social/on/whatsapp/infobip/message/k",
            &evil
        ));
        assert!(!p.allows(&Method::DELETE, "/api/x", &evil));
    }
}
