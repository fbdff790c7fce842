//! Security headers on every response. Pages set their own Content-Security-Policy with the
//! response's script nonce (see `app::shell`); everything else gets a policy that allows
//! nothing.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const FALLBACK_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Clone, Copy, Debug)]
pub struct HeaderPolicy {
    /// Send `Strict-Transport-Security` (when the public URL is https).
    pub hsts: bool,
}

pub async fn security_headers(
    State(policy): State<HeaderPolicy>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, FALLBACK_CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    let dynamic = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if dynamic {
        // pages and server function answers carry account data: never cache them
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if policy.hsts {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    res
}

/// The answer when a handler panicked (a bug): a generic 500 instead of a dropped connection,
/// and the fact in the log (the panic's text may hold request data, so it is not echoed).
pub fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked; answered 500");
    let text = match crate::http::request_id::current() {
        Some(id) => format!(
            "Something went wrong on our side. Please try again; if it happens again, quote the reference {id}."
        ),
        None => "Something went wrong on our side. Please try again.".to_owned(),
    };
    let mut res = Response::new(axum::body::Body::from(text));
    *res.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}
