//! The provider endpoints behind the Channel Integration URLs (SPEC §4): raw body, no session,
//! authenticated before anything is parsed, stored once per provider message id, durable
//! before the 200.
//!
//! | answer | when |
//! |---|---|
//! | 200 | accepted (a redelivery is accepted and stored once) |
//! | 400 | the payload is malformed (a short reason) |
//! | 401 | missing or wrong credentials or signature: only the refusal is recorded |
//! | 404 | unknown key, or the channel's tenant space is disabled |
//! | 413 | body over 1 MiB, or more than 1,000 events in one delivery |
//! | 503 | the database is unavailable or the writer is full: the provider should retry |
//!
//! What one delivery may cost is bounded: the body is read up to 1 MiB (by the request bounds
//! of `http::limits`, before any of this runs), stored once (its events
//! point at it), at most 1,000 events are taken from it, every text is cut to its column and
//! cleaned of what a database cannot store (NUL), and the deliveries waiting for the writer
//! hold at most 64 MiB together.
//!
//! A refused delivery (401, 400, 403, 413; a body over 1 MiB is refused by the request bounds
//! and told here through `too_large_hook`) is recorded for the channel's
//! activity page with its reason in words, never its body or a credential: through the writer,
//! off the request path, one row per channel, reason and second, the newest 200 kept.

pub mod auth;
pub mod credentials;
pub mod parse;
pub mod self_test;
pub mod twilio;
pub mod writer;

use crate::db::entities::{channel, tenant};
use crate::state::AppState;
use app::domain::refusal::Refusal;
use app::domain::rotation::{UsedCredential, WebhookCredential};
use app::ports::ClientAddr;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parse::{Kind, ParseError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
pub use writer::{Delivery, Refused, StoreError, WebhookWriter};

/// The largest body accepted (the request bounds refuse a larger one before it is read).
pub const MAX_BODY: usize = crate::http::limits::WEBHOOK_BODY;
/// The most events one delivery may carry.
pub const MAX_EVENTS: usize = 1_000;
/// The longest `hub.challenge` echoed back.
const MAX_CHALLENGE: usize = 1024;

fn answer(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "webhook: database unavailable");
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable, retry later.",
    )
}

/// The channel of a webhook key, if its tenant space is active.
async fn channel_of(state: &AppState, key: &str) -> Result<Option<channel::Model>, Response> {
    if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let found = channel::Entity::find()
        .filter(channel::Column::WebhookKey.eq(key))
        .one(&state.db.conn)
        .await
        .map_err(unavailable)?;
    let Some(c) = found else { return Ok(None) };
    let active = tenant::Entity::find_by_id(c.tenant_id)
        .one(&state.db.conn)
        .await
        .map_err(unavailable)?
        .is_some_and(|t| !t.disabled);
    Ok(active.then_some(c))
}

fn secret(
    state: &AppState,
    c: &channel::Model,
    sealed: &Option<Vec<u8>>,
    field: &str,
) -> Option<String> {
    c.open_secret(&state.secrets, sealed, field, "webhook")
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(128).collect())
        .unwrap_or_default()
}

/// What a request looked like, for the record of a refusal.
struct Seen {
    client: Option<std::net::IpAddr>,
    /// `X-Switchboard-Test-Delivery` as received (a test delivery's sealed nonce).
    test: Option<String>,
    source: String,
    content_type: String,
    size: u64,
}

impl Seen {
    fn of(addr: Option<Extension<ClientAddr>>, headers: &HeaderMap, size: usize) -> Self {
        let client = addr.map(|Extension(a)| a.0);
        Self {
            client,
            test: self_test::header_of(headers),
            source: client.map(|a| a.to_string()).unwrap_or_default(),
            content_type: content_type(headers),
            size: u64::try_from(size).unwrap_or(u64::MAX),
        }
    }
}

/// How an accepted delivery authenticated: during a credential change, which value it came
/// with; for twilio with an Auth Token, which form of the URL its signature matched.
#[derive(Default)]
struct HowAuthenticated {
    credential: Option<(WebhookCredential, UsedCredential)>,
    signed_as: Option<&'static str>,
}

/// Records the refusal (off the request path) and answers it. A test delivery's refusal is
/// noted on its test instead: the channel's log and health are not touched.
#[allow(clippy::too_many_arguments)]
async fn refuse(
    state: &AppState,
    c: &channel::Model,
    endpoint: &'static str,
    seen: Seen,
    status: StatusCode,
    reason: Refusal,
    detail: Option<String>,
    text: &str,
) -> Response {
    // a test delivery of this Switchboard's: its refusal is noted on the test (whether the
    // row is still open or not), never in the channel's log
    if let Some(nonce) = seen
        .test
        .as_deref()
        .and_then(|h| self_test::open(state, c, h))
    {
        self_test::note(state, c.id, &nonce, Some((reason, detail.as_deref()))).await;
        state.metrics.webhook(&c.provider, "test");
        return answer(status, text);
    }
    state.metrics.refusal(&c.provider, reason.code());
    state.webhook_writer.refuse(Refused {
        channel_id: c.id,
        tenant_id: c.tenant_id,
        endpoint,
        status: status.as_u16(),
        reason,
        detail,
        source: seen.source,
        content_type: seen.content_type,
        size: seen.size,
        at: crate::db::now(),
    });
    answer(status, text)
}

/// Lookups of bodies refused for their size running at once; more are not recorded.
const TOO_LARGE_LOOKUPS: usize = 16;

/// For the request bounds: a webhook body refused as over 1 MiB (before its channel was
/// looked up) is recorded for the channel its URL names, off the request path.
pub fn too_large_hook(state: AppState) -> crate::http::limits::TooLargeHook {
    let lookups = std::sync::Arc::new(tokio::sync::Semaphore::new(TOO_LARGE_LOOKUPS));
    std::sync::Arc::new(move |r: crate::http::limits::TooLargeWebhook| {
        let Some((provider, endpoint, key)) = webhook_path(&r.path) else {
            return;
        };
        state
            .metrics
            .refusal(provider, Refusal::BodyTooLarge.code());
        let Ok(permit) = lookups.clone().try_acquire_owned() else {
            return;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Ok(Some(c)) = channel_of(&state, &key).await
                && c.provider == provider
            {
                state.webhook_writer.refuse(Refused {
                    channel_id: c.id,
                    tenant_id: c.tenant_id,
                    endpoint,
                    status: StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
                    reason: Refusal::BodyTooLarge,
                    detail: None,
                    source: r.source.map(|a| a.to_string()).unwrap_or_default(),
                    content_type: r.content_type,
                    size: r.size,
                    at: crate::db::now(),
                });
            }
        });
    })
}

/// `(provider, endpoint, key)` of a webhook URL path.
fn webhook_path(path: &str) -> Option<(&'static str, &'static str, String)> {
    let rest = path.strip_prefix("/social/on/whatsapp/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["cloud-api", key] => Some(("cloud-api", "cloud", (*key).to_owned())),
        [provider, kind, key] => {
            let provider = ["infobip", "other", "twilio"]
                .into_iter()
                .find(|p| p == provider)?;
            let endpoint = match *kind {
                "message" => "message",
                "report" => "report",
                _ => return None,
            };
            Some((provider, endpoint, (*key).to_owned()))
        }
        _ => None,
    }
}

/// Parses, then stores; the answer for the provider.
async fn accept(
    state: &AppState,
    c: &channel::Model,
    endpoint: &'static str,
    (headers, seen): (&HeaderMap, Seen),
    (body, how): (Bytes, HowAuthenticated),
    events: Result<Vec<parse::Event>, ParseError>,
) -> Response {
    let events = match events {
        Ok(e) => e,
        Err(ParseError::Malformed(reason)) => {
            let text = format!("Malformed payload: {reason}.");
            return refuse(
                state,
                c,
                endpoint,
                seen,
                StatusCode::BAD_REQUEST,
                Refusal::Malformed,
                Some(reason),
                &text,
            )
            .await;
        }
        Err(ParseError::TooManyEvents) => {
            return refuse(
                state,
                c,
                endpoint,
                seen,
                StatusCode::PAYLOAD_TOO_LARGE,
                Refusal::TooManyEvents,
                None,
                "The delivery holds more than 1,000 events; send at most 1,000 in one request.",
            )
            .await;
        }
    };
    // a test delivery of this Switchboard's is never stored, whatever happens to its row
    if let Some(nonce) = seen
        .test
        .as_deref()
        .and_then(|h| self_test::open(state, c, h))
    {
        state.metrics.webhook(&c.provider, "test");
        return if self_test::note(state, c.id, &nonce, None).await {
            answer(StatusCode::OK, &format!("OK: test delivery {nonce}"))
        } else {
            answer(
                StatusCode::CONFLICT,
                "This test delivery is over or was already received.",
            )
        };
    }
    let delivery = Delivery {
        endpoint,
        content_type: content_type(headers),
        body,
        events,
        credential: how.credential.map(|(_, used)| used.as_str()),
        signed_as: how.signed_as,
    };
    match state
        .webhook_writer
        .store(c.id, c.tenant_id, delivery)
        .await
    {
        Ok(()) => {
            if let Some((credential, used)) = how.credential {
                credentials::note_seen(state, c, credential, used, seen.client);
            }
            state.metrics.webhook(&c.provider, "accepted");
            answer(StatusCode::OK, "OK")
        }
        Err(StoreError::Busy) => {
            state.metrics.webhook(&c.provider, "busy");
            busy()
        }
        Err(StoreError::Unavailable) => {
            state.metrics.webhook(&c.provider, "unavailable");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable, retry later.",
            )
        }
    }
}

/// 503 with `Retry-After`: the writer's queue is full.
fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::RETRY_AFTER, "1"),
        ],
        "Busy, retry shortly.",
    )
        .into_response()
}

/// 404 for a key that names no active channel of this provider; counted, not recorded.
fn unknown_key(state: &AppState) -> Response {
    state.webhook_writer.note_unknown();
    // the provider in such a URL is the caller's word: not a label
    state.metrics.webhook("none", "unknown_key");
    answer(StatusCode::NOT_FOUND, "Not found.")
}

/// `POST /social/on/whatsapp/{infobip|other|twilio}/{message|report}/{key}`
pub async fn provider_post(
    State(state): State<AppState>,
    Path((provider, kind, key)): Path<(String, String, String)>,
    OriginalUri(uri): OriginalUri,
    addr: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (kind, endpoint) = match kind.as_str() {
        "message" => (Kind::Message, "message"),
        "report" => (Kind::Report, "report"),
        _ => return answer(StatusCode::NOT_FOUND, "Not found."),
    };
    if !matches!(provider.as_str(), "infobip" | "other" | "twilio") {
        return answer(StatusCode::NOT_FOUND, "Not found.");
    }
    let c = match channel_of(&state, &key).await {
        Ok(Some(c)) if c.provider == provider => c,
        Ok(_) => return unknown_key(&state),
        Err(r) => return r,
    };
    let seen = Seen::of(addr, &headers, body.len());
    let password =
        secret(&state, &c, &c.webhook_password_enc, "webhook_password").unwrap_or_default();
    let previous = credentials::previous_of(&state, &c);
    let twilio = provider == "twilio";
    let checked = if password.is_empty() {
        Err((Refusal::NoWebhookPassword, None))
    } else {
        credentials::check_with(
            WebhookCredential::WebhookPassword,
            &password,
            previous.as_ref(),
            crate::db::now(),
            |password| {
                if twilio {
                    auth::check_basic(
                        headers
                            .get(header::AUTHORIZATION)
                            .and_then(|v| v.to_str().ok()),
                        c.webhook_user.as_deref().unwrap_or_default(),
                        password,
                    )
                } else {
                    // the raw header bytes: a password with non-ASCII characters arrives as UTF-8
                    auth::check_account_key(
                        headers.get("accountkey").map(|v| v.as_bytes()),
                        password,
                    )
                }
            },
        )
    };
    let used = match checked {
        Ok(((), used)) => used,
        Err((reason, detail)) => {
            return refuse(
                &state,
                &c,
                endpoint,
                seen,
                StatusCode::UNAUTHORIZED,
                reason,
                detail,
                "Missing or wrong credentials.",
            )
            .await;
        }
    };
    let mut how = HowAuthenticated {
        credential: used.map(|u| (WebhookCredential::WebhookPassword, u)),
        signed_as: None,
    };
    let events = if twilio {
        match twilio_events(&state, &c, kind, &uri, &headers, &body) {
            Ok((events, signed_as)) => {
                how.signed_as = signed_as;
                events
            }
            Err((reason, status, text)) => {
                return refuse(&state, &c, endpoint, seen, status, reason, None, text).await;
            }
        }
    } else {
        parse::infobip(kind, &body)
    };
    accept(&state, &c, endpoint, (&headers, seen), (body, how), events).await
}

/// A refusal found before the body is parsed: the reason, the status and the answer.
type Stop = (Refusal, StatusCode, &'static str);
/// A body's events, or why it has none.
type Parsed = Result<Vec<parse::Event>, ParseError>;

/// twilio: the form (or JSON) body's event, after its `X-Twilio-Signature` is checked when
/// the channel has an Auth Token; and the form of the URL the signature matched.
fn twilio_events(
    state: &AppState,
    c: &channel::Model,
    kind: Kind,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Parsed, Option<&'static str>), Stop> {
    let json = content_type(headers).starts_with("application/json");
    let params = if json {
        parse::twilio_json(body)
    } else {
        twilio::form(body).ok_or_else(parse::too_many_params)
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => return Ok((Err(e), None)),
    };
    let token = secret(state, c, &c.auth_token_enc, "auth_token").unwrap_or_default();
    let mut signed_as = None;
    if !token.is_empty() {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        let urls = twilio::signed_urls(&state.ports.public_url, path);
        if json && !twilio::has_body_hash(&urls.0) {
            return Err((
                Refusal::TwilioBodyHashMissing,
                StatusCode::UNAUTHORIZED,
                "Missing or wrong signature.",
            ));
        }
        // a JSON body is signed by its hash in the URL, not by its fields
        let signed: &[_] = if json { &[] } else { &params };
        match twilio::check(
            headers.get("x-twilio-signature").map(|v| v.as_bytes()),
            &token,
            &urls,
            signed,
            body,
        ) {
            Ok((form, body_hash)) => signed_as = Some(form.as_str(body_hash)),
            Err(reason) => {
                return Err((
                    reason,
                    StatusCode::UNAUTHORIZED,
                    "Missing or wrong signature.",
                ));
            }
        }
    }
    Ok((parse::twilio_fields(kind, &params), signed_as))
}

/// `GET /social/on/whatsapp/cloud-api/{key}`: Meta's verification handshake.
pub async fn cloud_verify(
    State(state): State<AppState>,
    Path(key): Path<String>,
    addr: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let c = match channel_of(&state, &key).await {
        Ok(Some(c)) if c.provider == "cloud-api" => c,
        Ok(_) => return unknown_key(&state),
        Err(r) => return r,
    };
    let code = c.verification_code.clone().unwrap_or_default();
    let token = q
        .get("hub.verify_token")
        .map(String::as_str)
        .unwrap_or_default();
    let previous = credentials::previous_of(&state, &c);
    let checked = if q.get("hub.mode").map(String::as_str) != Some("subscribe") {
        Err((Refusal::VerifyModeWrong, None))
    } else if code.is_empty() {
        Err((Refusal::VerifyTokenMismatch, None))
    } else {
        credentials::check_with(
            WebhookCredential::VerificationCode,
            &code,
            previous.as_ref(),
            crate::db::now(),
            |code| {
                if auth::same(token.as_bytes(), code.as_bytes()) {
                    Ok(())
                } else {
                    Err(Refusal::VerifyTokenMismatch)
                }
            },
        )
        .and_then(|((), used)| match q.get("hub.challenge") {
            Some(challenge) if challenge.len() <= MAX_CHALLENGE => Ok((challenge, used)),
            _ => Err((Refusal::ChallengeMissing, None)),
        })
    };
    let seen = Seen::of(addr, &headers, 0);
    match checked {
        Ok((challenge, used)) => {
            if let Some(used) = used {
                credentials::note_seen(
                    &state,
                    &c,
                    WebhookCredential::VerificationCode,
                    used,
                    seen.client,
                );
            }
            // the handshake is rare and authenticated: its time is kept for the activity page
            let _ = channel::Entity::update_many()
                .col_expr(
                    channel::Column::VerifiedAt,
                    sea_orm::sea_query::Expr::value(crate::db::now()),
                )
                .filter(channel::Column::Id.eq(c.id))
                .exec(&state.db.conn)
                .await
                .map_err(
                    |e| tracing::warn!(error = %e, channel_id = c.id, "webhook: verified time"),
                );
            answer(StatusCode::OK, challenge)
        }
        Err((reason, detail)) => {
            refuse(
                &state,
                &c,
                "verify",
                seen,
                StatusCode::FORBIDDEN,
                reason,
                detail,
                "Verification failed.",
            )
            .await
        }
    }
}

/// `POST /social/on/whatsapp/cloud-api/{key}`: messages and statuses, signed by Meta.
pub async fn cloud_post(
    State(state): State<AppState>,
    Path(key): Path<String>,
    addr: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = match channel_of(&state, &key).await {
        Ok(Some(c)) if c.provider == "cloud-api" => c,
        Ok(_) => return unknown_key(&state),
        Err(r) => return r,
    };
    let seen = Seen::of(addr, &headers, body.len());
    let app_secret = secret(&state, &c, &c.app_secret_enc, "app_secret").unwrap_or_default();
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    let previous = credentials::previous_of(&state, &c);
    let checked = if app_secret.is_empty() {
        Err((Refusal::NoAppSecret, None))
    } else {
        credentials::check_with(
            WebhookCredential::AppSecret,
            &app_secret,
            previous.as_ref(),
            crate::db::now(),
            |secret| auth::check_hub_signature(signature, secret, &body),
        )
    };
    let used = match checked {
        Ok(((), used)) => used,
        Err((reason, detail)) => {
            return refuse(
                &state,
                &c,
                "cloud",
                seen,
                StatusCode::UNAUTHORIZED,
                reason,
                detail,
                "Missing or wrong signature.",
            )
            .await;
        }
    };
    let how = HowAuthenticated {
        credential: used.map(|u| (WebhookCredential::AppSecret, u)),
        signed_as: None,
    };
    let events = parse::cloud_api(&body);
    accept(&state, &c, "cloud", (&headers, seen), (body, how), events).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_paths_name_their_channel() {
        let key = "0".repeat(32);
        assert_eq!(
            webhook_path(&format!("/social/on/whatsapp/infobip/message/{key}")),
            Some(("infobip", "message", key.clone()))
        );
        assert_eq!(
            webhook_path(&format!("/social/on/whatsapp/twilio/report/{key}")),
            Some(("twilio", "report", key.clone()))
        );
        assert_eq!(
            webhook_path(&format!("/social/on/whatsapp/cloud-api/{key}")),
            Some(("cloud-api", "cloud", key.clone()))
        );
        assert_eq!(
            webhook_path(&format!("/social/on/whatsapp/evil/message/{key}")),
            None
        );
        assert_eq!(
            webhook_path(&format!("/social/on/whatsapp/infobip/other/{key}")),
            None
        );
        assert_eq!(webhook_path("/api/login"), None);
    }
}
