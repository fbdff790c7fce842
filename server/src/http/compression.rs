//! On-the-fly compression of pages (HTML) and server function answers (JSON): brotli at
//! quality 4 or gzip, whichever the browser prefers. Static files come precompressed
//! (`assets`); downloads (xlsx, zip) are compressed already.
//!
//! BREACH: a compressed response that holds a secret beside text an attacker can choose leaks
//! the secret through its length. Answers that hold a channel's webhook keys or Verification
//! Code are therefore marked `no-transform` and sent as they are.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Smaller bodies fit in one packet either way.
const MIN_SIZE: u16 = 512;

pub const NO_TRANSFORM: &str = "no-store, no-transform";

/// The layer for the whole router.
pub fn layer() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Default)
        .compress_when(SizeAbove::new(MIN_SIZE).and(compressible))
}

fn compressible(
    _status: StatusCode,
    _version: Version,
    headers: &HeaderMap,
    _extensions: &axum::http::Extensions,
) -> bool {
    let text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    let no_transform = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("no-transform"));
    text && !no_transform
}

/// Requests whose answers carry a channel's webhook keys or Verification Code, an app's new
/// secret, or a token. The path is read as the page router reads it (dot segments resolved),
/// so no spelling of it escapes.
pub fn carries_webhook_secrets(path: &str) -> bool {
    let resolved = url::Url::parse(&format!("http://switchboard.invalid{path}"))
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| path.to_owned());
    let path = resolved.as_str();
    if matches!(
        path,
        "/api/get_channel_integration"
            | "/api/create_app"
            | "/api/reset_app_secret"
            | "/api/change_webhook_credential"
    ) || crate::apiaccess::carries_tokens(path)
    {
        return true;
    }
    let mut parts = path.trim_end_matches('/').split('/');
    matches!(
        (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next()
        ),
        (
            Some(""),
            Some("config"),
            Some("channels"),
            Some(_),
            Some("integration"),
            None
        )
    )
}

/// Marks the answers of `carries_webhook_secrets` requests so that `layer` leaves them alone.
pub async fn mark_secret_bearing(req: Request, next: Next) -> Response {
    let secret = carries_webhook_secrets(req.uri().path());
    let mut res = next.run(req).await;
    if secret {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(NO_TRANSFORM),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integration_page_and_its_server_function_carry_secrets() {
        assert!(carries_webhook_secrets("/api/get_channel_integration"));
        assert!(carries_webhook_secrets("/config/channels/17/integration"));
        assert!(carries_webhook_secrets("/config/channels/17/integration/"));
        assert!(carries_webhook_secrets("/config/channels/17/./integration"));
        assert!(carries_webhook_secrets(
            "/config/x/../channels/17/integration"
        ));
        assert!(!carries_webhook_secrets("/config/channels"));
        assert!(!carries_webhook_secrets("/config/channels/17/edit"));
        assert!(!carries_webhook_secrets(
            "/config/channels/17/integration/x"
        ));
        assert!(!carries_webhook_secrets("/api/list_channels"));
        assert!(carries_webhook_secrets("/api/create_app"));
        assert!(carries_webhook_secrets("/api/reset_app_secret"));
        assert!(carries_webhook_secrets("/api/change_webhook_credential"));
        assert!(carries_webhook_secrets("/oauth/token"));
        assert!(carries_webhook_secrets(
            "/apigovernance/api/oauth/tokenByAkSk"
        ));
    }

    #[test]
    fn only_html_and_json_without_no_transform_are_compressed() {
        let with = |ct: &str, cc: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).expect("ct"));
            if let Some(cc) = cc {
                h.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_str(cc).expect("cc"),
                );
            }
            compressible(
                StatusCode::OK,
                Version::HTTP_11,
                &h,
                &axum::http::Extensions::new(),
            )
        };
        assert!(with("text/html; charset=utf-8", None));
        assert!(with("application/json", Some("no-store")));
        assert!(!with("text/html; charset=utf-8", Some(NO_TRANSFORM)));
        assert!(!with("application/zip", None));
        assert!(!with(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            None
        ));
        assert!(!with("application/wasm", None));
    }
}
