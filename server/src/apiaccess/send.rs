//! The `sendWhatsappMessage` API: an app sends a text through a channel of its tenant space,
//! exactly as Send test message does (the same outbound client, trustlist, certificates and
//! timeouts), and reads the message's status as the provider's reports come in.

use super::{caller, error};
use crate::db::entities::{outbound_message, outbound_status};
use crate::providers::Sender;
use crate::state::AppState;
use app::domain::apps::{Api, SendDraft};
use app::ports::RepoError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value, json};

fn internal() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Something went wrong on our side: try again.",
    )
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `GET /apiaccess/rest/ccmessaging`: the app the token belongs to and its subscriptions.
pub async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match caller(&state, &headers, None).await {
        Err(res) => res,
        Ok(app) => {
            let mut res = axum::Json(json!({
                "app": app.name,
                "appKey": app.app_key,
                "tenantSpace": app.tenant_name,
                "subscriptions": app.apis.iter().map(|a| a.code()).collect::<Vec<_>>(),
            }))
            .into_response();
            super::no_store(&mut res);
            res
        }
    }
}

/// `POST /apiaccess/rest/ccmessaging/sendWhatsappMessage`:
/// `{"channelId", "to", "text", "clientReference"?}`.
pub async fn send_whatsapp_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = match caller(&state, &headers, Some(Api::SendWhatsappMessage)).await {
        Ok(app) => app,
        Err(res) => return res,
    };
    if !super::content_type_is(&headers, "application/json") {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "Send the body as JSON with Content-Type: application/json.",
        );
    }
    let Ok(draft) = serde_json::from_slice::<SendDraft>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be a JSON object: {\"channelId\": 1, \"to\": \"+8613800000000\", \"text\": \"…\", \"clientReference\": \"…\"}.",
        );
    };
    let request = match draft.check() {
        Ok(r) => r,
        Err(fields) => {
            let first = fields.first().map(|(_, m)| m.clone()).unwrap_or_default();
            let map: Map<String, Value> = fields
                .into_iter()
                .map(|(f, m)| (f.to_owned(), Value::String(m)))
                .collect();
            let mut res = (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": {
                    "code": "invalid_request",
                    "message": first,
                    "fields": map,
                }})),
            )
                .into_response();
            super::no_store(&mut res);
            return res;
        }
    };
    let sent = state
        .outbound
        .send(
            app.tenant_id,
            request.channel_id,
            &request.to,
            &request.text,
            Sender::App {
                app_id: app.app_id,
                client_reference: request.client_reference.as_deref(),
            },
        )
        .await;
    match sent {
        Ok(sent) => {
            let status = if sent.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (
                status,
                [(
                    header::LOCATION,
                    HeaderValue::from_str(&format!(
                        "{}/messages/{}",
                        super::BASE_PATH,
                        sent.message_id
                    ))
                    .unwrap_or(HeaderValue::from_static("/")),
                )],
                axum::Json(json!({
                    "messageId": sent.message_id,
                    "providerMessageId": sent.provider_message_id,
                    "clientReference": request.client_reference,
                    "replayed": sent.replayed,
                })),
            )
                .into_response()
        }
        Err(RepoError::NotFound) => error(
            StatusCode::NOT_FOUND,
            "unknown_channel",
            format!(
                "The tenant space of this app has no channel {}.",
                request.channel_id
            ),
        ),
        Err(RepoError::Conflict {
            field: "form",
            message,
        }) => error(StatusCode::BAD_GATEWAY, "not_sent", message),
        Err(RepoError::Conflict {
            field: "clientReferenceUnknown",
            message,
        }) => error(StatusCode::CONFLICT, "outcome_unknown", message),
        Err(RepoError::Conflict {
            field: "formUnknown",
            message,
        }) => error(StatusCode::GATEWAY_TIMEOUT, "outcome_unknown", message),
        Err(RepoError::Conflict { message, .. }) => {
            error(StatusCode::CONFLICT, "reference_in_use", message)
        }
        Err(RepoError::Busy) => {
            let mut res = error(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                "The tenant space has as many calls to providers under way as it may: try again in a moment.",
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            res
        }
        Err(RepoError::Internal) => internal(),
    }
}

/// `GET /apiaccess/rest/ccmessaging/messages/{id}`: a message this app sent, its latest status
/// and every report.
pub async fn message(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let app = match caller(&state, &headers, Some(Api::SendWhatsappMessage)).await {
        Ok(app) => app,
        Err(res) => return res,
    };
    let unknown = || {
        error(
            StatusCode::NOT_FOUND,
            "unknown_message",
            "This app sent no message with this id.",
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return unknown();
    };
    let found = outbound_message::Entity::find_by_id(id)
        .filter(outbound_message::Column::AppId.eq(app.app_id))
        .filter(outbound_message::Column::TenantId.eq(app.tenant_id))
        .one(&state.db.conn)
        .await;
    let m = match found {
        Ok(Some(m)) => m,
        Ok(None) => return unknown(),
        Err(e) => {
            tracing::error!(error = %e, "find a sent message");
            return internal();
        }
    };
    let statuses = match outbound_status::Entity::find()
        .filter(outbound_status::Column::OutboundId.eq(m.id))
        .order_by_asc(outbound_status::Column::Id)
        .all(&state.db.conn)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "statuses of a sent message");
            return internal();
        }
    };
    let pending = m.provider_message_id.starts_with(crate::providers::PENDING);
    let unknown = m.provider_message_id.starts_with(crate::providers::UNKNOWN);
    // the furthest a message got (reports may arrive out of order)
    let latest = statuses
        .iter()
        .max_by_key(|s| (s.status_rank, s.id))
        .map(|s| s.status.clone())
        .unwrap_or_else(|| {
            match (pending, unknown) {
                (true, _) => "sending",
                (_, true) => "unknown",
                _ => "sent",
            }
            .to_owned()
        });
    let mut res = axum::Json(json!({
        "messageId": m.id,
        "channelId": m.channel_id,
        "to": m.recipient,
        "clientReference": m.client_reference,
        "providerMessageId": (!pending && !unknown).then_some(m.provider_message_id),
        "status": latest,
        "statuses": statuses.iter().map(|s| json!({
            "status": s.status,
            "at": rfc3339(s.received_at),
            "detail": s.detail,
        })).collect::<Vec<_>>(),
    }))
    .into_response();
    super::no_store(&mut res);
    res
}
