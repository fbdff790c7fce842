//! The token issuer: `tokenByAkSk` as the reference platform documents it, and the OAuth 2.0
//! client-credentials grant (RFC 6749 §4.4, errors as §5.2). Both count a wrong key or secret
//! against the sign-in throttle of the client address (in the database, shared by every
//! instance and with sign-ins) before the secret is checked, and record it in the audit log.
//! Not per app key: a key is public, and guesses at it from elsewhere must not keep the app
//! itself from its tokens (its secret, 256 random bits, is not guessed in any number of tries).

use super::{content_type_is, error, no_store};
use crate::db::apps::{Issued, Refused};
use crate::state::AppState;
use app::domain::apps::{Api, DEFAULT_TOKEN_SECONDS, apis_from_string, parse_token_expire};
use app::domain::audit::{AuditAction, ObjectKind};
use app::ports::{Actor, AuditEvent, ClientAddr};
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use std::net::IpAddr;

/// What the throttle counts a token request under besides its address: the address again,
/// in a name no username has (`:` is in none), so that only the address limits it.
fn throttle_key(client: IpAddr) -> String {
    format!("app:{client}")
}

/// Why the issuer gave no token.
enum NoToken {
    /// Too many wrong attempts: the seconds to wait.
    Throttled(u64),
    Credentials,
    Disabled,
    Internal,
}

/// Checks `key` and `secret` (throttled, audited when wrong) and issues a token.
async fn issue(
    state: &AppState,
    client: IpAddr,
    key: &str,
    secret: &str,
    lifetime: u32,
) -> Result<Issued, NoToken> {
    let throttle = &state.ports.throttle;
    let attempt = match throttle.reserve(client, &throttle_key(client), None).await {
        Ok(Ok(a)) => a,
        Ok(Err(wait)) => return Err(NoToken::Throttled(wait)),
        Err(_) => return Err(NoToken::Internal),
    };
    let outcome = match crate::db::apps::exchange(&state.db.conn, key, secret, lifetime).await {
        Ok(o) => o,
        Err(_) => {
            throttle.settle(attempt, true).await;
            return Err(NoToken::Internal);
        }
    };
    let (refusal, tenant_id, app_id) = match outcome {
        Ok(issued) => {
            throttle.settle(attempt, true).await;
            tracing::info!(
                app_id = issued.app_id,
                tenant_id = issued.tenant_id,
                "app token issued"
            );
            return Ok(issued);
        }
        Err(Refused::Credentials { tenant_id, app_id }) => {
            throttle.settle(attempt, false).await;
            (NoToken::Credentials, tenant_id, app_id)
        }
        Err(Refused::Disabled { tenant_id, app_id }) => {
            // counted like a wrong secret: each refusal writes an audit entry
            throttle.settle(attempt, false).await;
            (NoToken::Disabled, Some(tenant_id), Some(app_id))
        }
    };
    // the throttle above bounds how many of these one address writes; a key no app has is
    // kept only as "(unknown app key)" (it may be a secret pasted into the wrong field)
    let shown = if app_id.is_some() {
        key
    } else {
        "(unknown app key)"
    };
    let why = match refusal {
        NoToken::Disabled => "the app or its tenant space is disabled",
        _ => "wrong app key or app secret",
    };
    let entry = AuditEvent::new(
        AuditAction::AppTokenRefused,
        tenant_id,
        ObjectKind::App,
        app_id,
        shown,
    )
    .with(app::domain::audit::created(&[("Reason", why.to_owned())]));
    if state
        .ports
        .audit
        .record(&Actor::anonymous(shown, Some(client)), entry)
        .await
        .is_err()
    {
        return Err(NoToken::Internal);
    }
    tracing::info!(%client, ?app_id, reason = why, "app token refused");
    Err(refusal)
}

fn retry_after(res: &mut Response, wait: u64) {
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
}

fn client_of(addr: Option<Extension<ClientAddr>>) -> IpAddr {
    addr.map_or(IpAddr::from([0, 0, 0, 0]), |Extension(ClientAddr(ip))| ip)
}

#[derive(serde::Deserialize)]
struct AkSk {
    app_key: String,
    app_secret: String,
}

/// `POST /apigovernance/api/oauth/tokenByAkSk`: `{"app_key","app_secret"}`, `X-Token-Expire`
/// (seconds, 1 to 3600, default 600).
pub async fn token_by_ak_sk(
    State(state): State<AppState>,
    addr: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !content_type_is(&headers, "application/json") {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "Send the body as JSON with Content-Type: application/json.",
        );
    }
    let lifetime = match parse_token_expire(
        headers
            .get("x-token-expire")
            .map(|v| v.to_str().unwrap_or("?")),
    ) {
        Ok(s) => s,
        Err(m) => return error(StatusCode::BAD_REQUEST, "invalid_token_expire", m),
    };
    let Ok(ak) = serde_json::from_slice::<AkSk>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be {\"app_key\": \"…\", \"app_secret\": \"…\"}.",
        );
    };
    match issue(
        &state,
        client_of(addr),
        ak.app_key.trim(),
        &ak.app_secret,
        lifetime,
    )
    .await
    {
        Ok(t) => {
            let mut res = axum::Json(json!({
                "AccessToken": t.token,
                "ApplyType": "Bearer",
                "CreateTime": crate::db::unix_millis(t.created_at).to_string(),
                "Expires": t.lifetime.to_string(),
                "Scope": t.scope,
                "AppKey": t.app_key,
                "UserID": t.tenant_id.to_string(),
            }))
            .into_response();
            no_store(&mut res);
            res
        }
        Err(NoToken::Throttled(wait)) => {
            let mut res = error(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("Too many wrong attempts: try again in {wait} s."),
            );
            retry_after(&mut res, wait);
            res
        }
        Err(NoToken::Credentials) => error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "The app key or app secret is wrong.",
        ),
        Err(NoToken::Disabled) => error(
            StatusCode::FORBIDDEN,
            "app_disabled",
            "The app (or its tenant space) is disabled.",
        ),
        Err(NoToken::Internal) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side: try again.",
        ),
    }
}

/// An error of RFC 6749 §5.2.
fn oauth_error(status: StatusCode, code: &str, description: impl Into<String>) -> Response {
    let mut res = (
        status,
        axum::Json(json!({ "error": code, "error_description": description.into() })),
    )
        .into_response();
    no_store(&mut res);
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// The client's id and secret of an `Authorization: Basic` header (each form-urlencoded, RFC
/// 6749 §2.3.1); `Err` when the header is Basic but not readable.
fn basic(headers: &HeaderMap) -> Result<Option<(String, String)>, ()> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| ())?.trim();
    let Some((scheme, rest)) = v.split_once(' ') else {
        return Err(());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(());
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| ())?;
    let text = String::from_utf8(raw).map_err(|_| ())?;
    let (id, secret) = text.split_once(':').ok_or(())?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((decode(id), decode(secret))))
}

/// `POST /oauth/token` (`application/x-www-form-urlencoded`): `grant_type=client_credentials`,
/// the client by HTTP Basic or `client_id`/`client_secret` in the body (not both), `scope`
/// optional (a subset of the app's subscriptions).
pub async fn oauth_token(
    State(state): State<AppState>,
    addr: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !content_type_is(&headers, "application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the request as application/x-www-form-urlencoded.",
        );
    }
    let mut grant = None;
    let mut id = None;
    let mut secret = None;
    let mut scope = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        let slot = match k.as_ref() {
            "grant_type" => &mut grant,
            "client_id" => &mut id,
            "client_secret" => &mut secret,
            "scope" => &mut scope,
            _ => continue,
        };
        if slot.is_some() {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The parameter {k} is given more than once."),
            );
        }
        *slot = Some(v.into_owned());
    }
    let Ok(header_client) = basic(&headers) else {
        let mut res = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The Authorization header is not HTTP Basic with the app key and app secret.",
        );
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"switchboard\""),
        );
        return res;
    };
    match grant.as_deref() {
        Some("client_credentials") => {}
        Some(other) => {
            let shown: String = other.chars().take(40).collect();
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "Only grant_type=client_credentials is supported, not \u{201c}{shown}\u{201d}."
                ),
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Give grant_type=client_credentials.",
            );
        }
    }
    let by_basic = header_client.is_some();
    let (key, secret) = match (header_client, id, secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Authenticate the client one way: HTTP Basic or client_id and client_secret in the body, not both.",
            );
        }
        (Some(pair), None, None) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            let mut res = oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Authenticate with the app key and app secret (HTTP Basic, or client_id and client_secret).",
            );
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"switchboard\""),
            );
            return res;
        }
    };
    let asked: Vec<String> = scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(unknown) = asked.iter().find(|s| Api::parse(s).is_none()) {
        let shown: String = unknown.chars().take(40).collect();
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("\u{201c}{shown}\u{201d} is not an API of this server."),
        );
    }
    let issued = issue(
        &state,
        client_of(addr),
        key.trim(),
        &secret,
        DEFAULT_TOKEN_SECONDS,
    )
    .await;
    let t = match issued {
        Ok(t) => t,
        Err(NoToken::Throttled(wait)) => {
            let mut res = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_client",
                format!("Too many wrong attempts: try again in {wait} s."),
            );
            retry_after(&mut res, wait);
            return res;
        }
        Err(NoToken::Credentials) => {
            let mut res = oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The app key or app secret is wrong.",
            );
            if by_basic {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"switchboard\""),
                );
            }
            return res;
        }
        Err(NoToken::Disabled) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "The app (or its tenant space) is disabled.",
            );
        }
        Err(NoToken::Internal) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Something went wrong on our side: try again.",
            );
        }
    };
    // a scope asked for must be among the subscriptions (the token carries all of them,
    // RFC 6749 §3.3: the answer's scope says so); else the token just made is revoked
    let held = apis_from_string(&t.scope.replace(' ', ","));
    let missing: Vec<&str> = asked
        .iter()
        .map(String::as_str)
        .filter(|s| Api::parse(s).is_none_or(|a| !held.contains(&a)))
        .collect();
    if !missing.is_empty() {
        if crate::db::apps::revoke(&state.db.conn, &t.token)
            .await
            .is_err()
        {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Something went wrong on our side: try again.",
            );
        }
        let shown: String = missing.join(" ").chars().take(80).collect();
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("The app does not subscribe to: {shown}."),
        );
    }
    let mut res = axum::Json(json!({
        "access_token": t.token,
        "token_type": "Bearer",
        "expires_in": t.lifetime,
        "scope": t.scope,
    }))
    .into_response();
    no_store(&mut res);
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}
