//! The API an app of APP Management calls (SPEC §7), as plain axum routes beside the pages:
//!
//! | route | what |
//! |---|---|
//! | `POST /apigovernance/api/oauth/tokenByAkSk` | a token for an app key and secret (the reference platform's call) |
//! | `POST /oauth/token` | the same as an OAuth 2.0 client-credentials grant (RFC 6749 §4.4) |
//! | `GET /apiaccess/rest/ccmessaging` | who the token belongs to (what Test connection of an oAuth channel calls) |
//! | `POST /apiaccess/rest/ccmessaging/sendWhatsappMessage` | sends a text through a channel of the app's tenant space |
//! | `GET /apiaccess/rest/ccmessaging/messages/{id}` | a sent message's status and its delivery reports |
//! | `GET /apiaccess/rest/ccmessaging/openapi.json` | this API described (OpenAPI 3.1) |
//!
//! Wrong keys and secrets are throttled like sign-ins (the same counts in the database, per
//! address and per app key) and recorded in the audit log. A token is checked in the database
//! on every call. Each app makes at most `RATE_PER_SECOND` calls a second (a burst of
//! `RATE_BURST`) on one instance; the routes need no session and take no session cookie.

pub mod send;
pub mod tokens;

use crate::db::apps::{Caller, TokenRefused};
use crate::state::AppState;
use app::domain::apps::Api;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Calls one app may make a second, on average, on one instance.
pub const RATE_PER_SECOND: f64 = 10.0;
/// Calls one app may make at once after a quiet moment.
pub const RATE_BURST: f64 = 20.0;
/// The path of the send API's BaseUrl (an oAuth channel's BaseUrl ends with it).
pub const BASE_PATH: &str = app::domain::channel::OAUTH_PATH;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/apigovernance/api/oauth/tokenByAkSk",
            post(tokens::token_by_ak_sk),
        )
        .route("/oauth/token", post(tokens::oauth_token))
        .route(BASE_PATH, get(send::whoami))
        .route(
            &format!("{BASE_PATH}/sendWhatsappMessage"),
            post(send::send_whatsapp_message),
        )
        .route(&format!("{BASE_PATH}/messages/{{id}}"), get(send::message))
        .route(&format!("{BASE_PATH}/openapi.json"), get(openapi))
}

/// Whether `path` is one of these routes' (they need no sign-in and no origin check: their
/// callers authenticate with their own credentials, never with a cookie).
pub fn is_api_path(path: &str) -> bool {
    path == "/oauth/token"
        || path.starts_with("/apigovernance/")
        || path == BASE_PATH
        || path.starts_with(&format!("{BASE_PATH}/"))
}

/// Whether `path` answers with a token (not compressed, not stored).
pub fn carries_tokens(path: &str) -> bool {
    path == "/oauth/token" || path == "/apigovernance/api/oauth/tokenByAkSk"
}

async fn openapi() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("openapi.json"),
    )
        .into_response()
}

/// Whether the request's `Content-Type` is `media` (parameters such as `charset` aside).
pub fn content_type_is(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media))
}

/// An error of the send API: `{"error": {"code", "message", "fields"?}}`.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let mut res = (
        status,
        axum::Json(json!({ "error": { "code": code, "message": message.into() } })),
    )
        .into_response();
    no_store(&mut res);
    res
}

pub fn no_store(res: &mut Response) {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-transform"),
    );
}

/// Calls per app, as token buckets (one instance's).
#[derive(Clone, Default)]
pub struct AppRates(Arc<Mutex<HashMap<i64, (f64, Instant)>>>);

impl AppRates {
    /// `Ok` when `app_id` may call now, else the seconds until it may.
    pub fn take(&self, app_id: i64) -> Result<(), u64> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        // forget apps idle long enough to be full again (the map holds only the busy ones)
        if map.len() > 1024 {
            map.retain(|_, (_, at)| {
                now.duration_since(*at).as_secs_f64() < RATE_BURST / RATE_PER_SECOND
            });
        }
        let (tokens, at) = map.entry(app_id).or_insert((RATE_BURST, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * RATE_PER_SECOND).min(RATE_BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / RATE_PER_SECOND).ceil().max(1.0) as u64)
        }
    }
}

/// The app calling with `Authorization: Bearer …`, subscribed to `api` when one is named,
/// within its rate; else the answer to give.
pub async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    api: Option<Api>,
) -> Result<Caller, Response> {
    let unauthorized = |code: &str, message: &str| {
        let mut res = error(StatusCode::UNAUTHORIZED, code, message);
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"switchboard\""),
        );
        res
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    let Some(token) = token else {
        return Err(unauthorized(
            "unauthorized",
            "Send the header Authorization: Bearer with a token from POST /apigovernance/api/oauth/tokenByAkSk or POST /oauth/token.",
        ));
    };
    let found = crate::db::apps::bearer(&state.db.conn, token)
        .await
        .map_err(|_| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side: try again.",
            )
        })?;
    let app = match found {
        Ok(app) => app,
        Err(TokenRefused::Unknown) => {
            return Err(unauthorized(
                "invalid_token",
                "The token is not valid (never issued, or revoked): get a new one.",
            ));
        }
        Err(TokenRefused::Expired) => {
            return Err(unauthorized(
                "token_expired",
                "The token has expired: get a new one.",
            ));
        }
        Err(TokenRefused::Disabled) => {
            return Err(error(
                StatusCode::FORBIDDEN,
                "app_disabled",
                "The app (or its tenant space) is disabled.",
            ));
        }
    };
    if let Err(wait) = state.app_rates.take(app.app_id) {
        let mut res = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "This app calls more than {RATE_PER_SECOND} times a second: try again in {wait} s."
            ),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Err(res);
    }
    if let Some(api) = api
        && !app.apis.contains(&api)
    {
        return Err(error(
            StatusCode::FORBIDDEN,
            "not_subscribed",
            format!(
                "The app does not subscribe to {}: a system administrator adds it on APP Management.",
                api.code()
            ),
        ));
    }
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(is_api_path("/oauth/token"));
        assert!(is_api_path("/apigovernance/api/oauth/tokenByAkSk"));
        assert!(is_api_path("/apiaccess/rest/ccmessaging"));
        assert!(is_api_path(
            "/apiaccess/rest/ccmessaging/sendWhatsappMessage"
        ));
        assert!(!is_api_path("/apiaccess/rest/ccmessagingx"));
        assert!(!is_api_path("/oauth/tokens"));
        assert!(carries_tokens("/oauth/token"));
        assert!(!carries_tokens("/apiaccess/rest/ccmessaging"));
    }

    #[test]
    fn rates_allow_a_burst_then_the_rate() {
        let rates = AppRates::default();
        for _ in 0..RATE_BURST as usize {
            rates.take(1).unwrap();
        }
        assert!(rates.take(1).unwrap_err() >= 1);
        // another app is not held by the first
        rates.take(2).unwrap();
    }
}
