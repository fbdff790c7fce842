//! The provider endpoints behind the Channel Integration URLs (SPEC §4): raw body, no session,
//! authenticated before anything is parsed, stored once per provider message id, durable
//! before the 200.
//!
//! | answer | when |
//! |---|---|
//! | 200 | accepted (a redelivery is accepted and stored once) |
//! | 400 | the payload is malformed (a short reason) |
//! | 401 | missing or wrong credentials or signature: nothing stored |
//! | 404 | unknown key, or the channel's tenant space is disabled |
//! | 413 | body over 1 MiB |
//! | 503 | the database is unavailable: the provider should retry |

pub mod auth;
pub mod parse;

use crate::db::entities::{channel, tenant, webhook_event};
use crate::db::now;
use crate::secrets::SecretScope;
use crate::startup::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parse::{Event, Kind};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use std::collections::HashMap;

/// The largest body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

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

async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let too_large = || {
        answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The body is larger than 1 MiB.",
        )
    };
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY)
    {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| too_large())
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
    let sealed = sealed.as_ref()?;
    state
        .secrets
        .open(
            sealed,
            SecretScope {
                tenant_id: c.tenant_id,
                channel: &c.uid,
                field,
            },
        )
        .map_err(|e| tracing::error!(error = %e, channel_id = c.id, field, "webhook: secret"))
        .ok()
}

/// One request's events, waiting for the writer.
struct Job {
    channel_id: i64,
    tenant_id: i64,
    events: Vec<Event>,
    raw: String,
    done: tokio::sync::oneshot::Sender<bool>,
}

/// Group commit: requests hand their events to one writer task, which stores everything
/// waiting in one transaction and answers each request after the commit. One fsync then
/// covers many deliveries, instead of every request waiting its turn for its own.
#[derive(Clone)]
pub struct WebhookWriter {
    tx: tokio::sync::mpsc::Sender<Job>,
}

/// At most this many requests in one transaction.
const BATCH: usize = 256;

impl WebhookWriter {
    pub fn spawn(db: sea_orm::DatabaseConnection) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let ok = match write_batch(&db, &batch).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(error = %e, requests = batch.len(), "webhook: storing a batch");
                        false
                    }
                };
                for job in batch {
                    let _ = job.done.send(ok);
                }
            }
        });
        Self { tx }
    }

    /// Stores the events durably; `false` when the database could not take them.
    async fn write(&self, c: &channel::Model, events: Vec<Event>, raw: String) -> bool {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            channel_id: c.id,
            tenant_id: c.tenant_id,
            events,
            raw,
            done,
        };
        if self.tx.send(job).await.is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// Stores the jobs' events in one transaction: messages once, reports only moving forward.
async fn write_batch(db: &sea_orm::DatabaseConnection, jobs: &[Job]) -> Result<(), sea_orm::DbErr> {
    let txn = db.begin().await?;
    for job in jobs {
        for e in &job.events {
            let rank = e.status.as_deref().map(parse::status_rank).unwrap_or(0);
            let model = webhook_event::ActiveModel {
                channel_id: Set(job.channel_id),
                tenant_id: Set(job.tenant_id),
                kind: Set(e.kind.as_str().to_owned()),
                provider_message_id: Set(e.provider_message_id.chars().take(256).collect()),
                sender: Set(e.sender.chars().take(256).collect()),
                recipient: Set(e.recipient.chars().take(256).collect()),
                text: Set(e.text.clone()),
                status: Set(e.status.clone().map(|s| s.chars().take(64).collect())),
                status_rank: Set(rank),
                raw: Set(job.raw.clone()),
                received_at: Set(now()),
                ..Default::default()
            };
            use webhook_event::Column as W;
            let mut conflict = OnConflict::columns([W::ChannelId, W::Kind, W::ProviderMessageId]);
            match e.kind {
                Kind::Message => {
                    conflict.do_nothing();
                }
                Kind::Report => {
                    conflict
                        .update_columns([W::Status, W::StatusRank, W::Raw, W::ReceivedAt])
                        .action_and_where(
                            Expr::col((webhook_event::Entity, W::StatusRank))
                                .lt(Expr::cust("excluded.status_rank")),
                        );
                }
            }
            webhook_event::Entity::insert(model)
                .on_conflict(conflict)
                .exec_without_returning(&txn)
                .await?;
        }
    }
    txn.commit().await
}

async fn store(
    state: &AppState,
    c: &channel::Model,
    events: Vec<Event>,
    raw: &str,
) -> Result<(), Response> {
    if state.webhook_writer.write(c, events, raw.to_owned()).await {
        Ok(())
    } else {
        Err(answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable, retry later.",
        ))
    }
}

/// `POST /social/on/whatsapp/{infobip|other|twilio}/{message|report}/{key}`
pub async fn provider_post(
    State(state): State<AppState>,
    Path((provider, kind, key)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let kind = match kind.as_str() {
        "message" => Kind::Message,
        "report" => Kind::Report,
        _ => return answer(StatusCode::NOT_FOUND, "Not found."),
    };
    if !matches!(provider.as_str(), "infobip" | "other" | "twilio") {
        return answer(StatusCode::NOT_FOUND, "Not found.");
    }
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let c = match channel_of(&state, &key).await {
        Ok(Some(c)) if c.provider == provider => c,
        Ok(_) => return answer(StatusCode::NOT_FOUND, "Not found."),
        Err(r) => return r,
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let password =
        secret(&state, &c, &c.webhook_password_enc, "webhook_password").unwrap_or_default();
    let authentic = !password.is_empty()
        && match provider.as_str() {
            "twilio" => auth::basic(
                header("authorization"),
                c.webhook_user.as_deref().unwrap_or_default(),
                &password,
            ),
            _ => auth::account_key(header("accountkey"), &password),
        };
    if !authentic {
        return answer(StatusCode::UNAUTHORIZED, "Missing or wrong credentials.");
    }
    let events = match provider.as_str() {
        "twilio" => parse::twilio(kind, &body),
        _ => parse::infobip(kind, &body),
    };
    let events = match events {
        Ok(e) => e,
        Err(reason) => {
            return answer(
                StatusCode::BAD_REQUEST,
                &format!("Malformed payload: {reason}."),
            );
        }
    };
    match store(&state, &c, events, &String::from_utf8_lossy(&body)).await {
        Ok(()) => answer(StatusCode::OK, "OK"),
        Err(r) => r,
    }
}

/// `GET /social/on/whatsapp/cloud-api/{key}`: Meta's verification handshake.
pub async fn cloud_verify(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let c = match channel_of(&state, &key).await {
        Ok(Some(c)) if c.provider == "cloud-api" => c,
        Ok(_) => return answer(StatusCode::NOT_FOUND, "Not found."),
        Err(r) => return r,
    };
    let code = c.verification_code.unwrap_or_default();
    let token = q
        .get("hub.verify_token")
        .map(String::as_str)
        .unwrap_or_default();
    let ok = q.get("hub.mode").map(String::as_str) == Some("subscribe")
        && !code.is_empty()
        && auth::same(token.as_bytes(), code.as_bytes());
    match (ok, q.get("hub.challenge")) {
        (true, Some(challenge)) => answer(StatusCode::OK, challenge),
        _ => answer(StatusCode::FORBIDDEN, "Verification failed."),
    }
}

/// `POST /social/on/whatsapp/cloud-api/{key}`: messages and statuses, signed by Meta.
pub async fn cloud_post(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let c = match channel_of(&state, &key).await {
        Ok(Some(c)) if c.provider == "cloud-api" => c,
        Ok(_) => return answer(StatusCode::NOT_FOUND, "Not found."),
        Err(r) => return r,
    };
    let app_secret = secret(&state, &c, &c.app_secret_enc, "app_secret").unwrap_or_default();
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if app_secret.is_empty() || !auth::hub_signature(signature, &app_secret, &body) {
        return answer(StatusCode::UNAUTHORIZED, "Missing or wrong signature.");
    }
    let events = match parse::cloud_api(&body) {
        Ok(e) => e,
        Err(reason) => {
            return answer(
                StatusCode::BAD_REQUEST,
                &format!("Malformed payload: {reason}."),
            );
        }
    };
    match store(&state, &c, events, &String::from_utf8_lossy(&body)).await {
        Ok(()) => answer(StatusCode::OK, "OK"),
        Err(r) => r,
    }
}
