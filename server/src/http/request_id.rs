//! A request id on every request: the proxy's `X-Request-Id` when the instance is behind one
//! (`SWITCHBOARD_TRUST_FORWARDED_FOR`) and it is a usable one, else a new random one. It is
//! put on the request (for the request log's span, so every line logged while answering it
//! carries it, and for the pages and server functions, which show it on an internal error) and
//! returned as `X-Request-Id`, so that a person can quote it and an operator find it.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request this task answers (for answers made without the request, such as
    /// the panic catcher's).
    static CURRENT: String;
}

/// Whether to take a proxy's id: only behind a proxy this instance trusts.
#[derive(Clone, Copy, Debug)]
pub struct RequestIdPolicy {
    pub trust_proxy: bool,
}

/// An id a proxy may give: 1 to 64 of `A-Z a-z 0-9 - _ . :` (nothing a log line or a header
/// would read otherwise).
pub fn usable(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// 96 random bits, hex.
pub fn fresh() -> String {
    let bytes: [u8; 12] = rand::random();
    hex::encode(bytes)
}

/// The id of the request being answered, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

pub async fn request_id(
    State(policy): State<RequestIdPolicy>,
    mut req: Request,
    next: Next,
) -> Response {
    let given = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| policy.trust_proxy && usable(v))
        .map(str::to_owned);
    let id = given.unwrap_or_else(fresh);
    // usable() or hex: always a valid header value
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("-"));
    req.headers_mut().insert(HEADER, value.clone());
    req.extensions_mut().insert(app::RequestId(id.clone()));
    let mut res = CURRENT.scope(id, next.run(req)).await;
    res.headers_mut().insert(HEADER, value);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxys_id_is_taken_only_when_it_is_plain_and_short() {
        assert!(usable("req-1a2b.c3:4_5"));
        assert!(usable(&"a".repeat(64)));
        assert!(!usable(&"a".repeat(65)));
        assert!(!usable(""));
        for bad in ["a b", "a\nb", "a\"b", "a{b}", "ä", "a/b", "a=b"] {
            assert!(!usable(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_panic_is_answered_with_the_reference_to_quote() {
        use http_body_util::BodyExt;
        let res = CURRENT
            .scope("req-9".to_owned(), async {
                crate::http::headers::panic_response(Box::new("boom"))
            })
            .await;
        assert_eq!(res.status(), 500);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "Something went wrong on our side. Please try again; if it happens again, quote the reference req-9."
        );
    }

    #[test]
    fn fresh_ids_are_usable_and_differ() {
        let a = fresh();
        assert_eq!(a.len(), 24);
        assert!(usable(&a));
        assert_ne!(a, fresh());
    }
}
