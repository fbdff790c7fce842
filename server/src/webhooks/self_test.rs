//! The receiving end of "Send a test delivery" (`providers::test_delivery`): a delivery that
//! carries `X-Switchboard-Test-Delivery` — the test's nonce sealed with the master key for
//! this channel, so only this Switchboard can make one — is checked like any other, then noted
//! on the test's row (arrived, or why it was refused) and answered without being stored: it is
//! never customer traffic and never changes health. A header that does not open for this
//! channel is ignored before the database is asked anything (the delivery is treated as any).

use crate::db::entities::{channel, webhook_self_test};
use crate::secrets::{SecretBox, SecretScope};
use crate::state::AppState;
use app::domain::refusal::Refusal;
use axum::http::HeaderMap;
use base64::Engine;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The header a test delivery carries its nonce in.
pub const HEADER: &str = "x-switchboard-test-delivery";
/// The test deliveries kept per channel.
pub const KEPT: u64 = 20;
/// How long after it started a test's row takes its delivery (the call's own limit is 20 s).
const OPEN_FOR: time::Duration = time::Duration::seconds(60);

/// The longest header value looked at (a sealed nonce is about 100 characters).
const MAX_HEADER: usize = 256;

fn scope(c: &channel::Model) -> SecretScope<'_> {
    SecretScope {
        tenant_id: c.tenant_id,
        channel: &c.uid,
        field: "test_delivery",
    }
}

/// The header value a test delivery of `c` carries for `nonce`.
pub fn seal(secrets: &SecretBox, c: &channel::Model, nonce: &str) -> Option<String> {
    let sealed = secrets.seal(nonce, scope(c)).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
}

/// The header's value, as received (bounded), if the request carries one.
pub fn header_of(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(HEADER)?.to_str().ok()?;
    (v.len() <= MAX_HEADER).then(|| v.to_owned())
}

/// The nonce a header value seals for this channel; `None` when it was not made by this
/// Switchboard for this channel (nothing else is looked at, nothing is written).
pub fn open(state: &AppState, c: &channel::Model, header: &str) -> Option<String> {
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    // a key this Switchboard does not have: not ours (and no reload of the key file for it)
    let id = crate::secrets::sealed_key_id(&sealed)?;
    if !state.secrets.ring_has(id) {
        return None;
    }
    let nonce = state.secrets.open(&sealed, scope(c)).ok()?;
    (nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit())).then_some(nonce)
}

/// Notes on the test's row that its delivery arrived (`None`) or was refused; whether the
/// nonce named a test of this channel still open.
pub async fn note(
    state: &AppState,
    channel_id: i64,
    nonce: &str,
    refused: Option<(Refusal, Option<&str>)>,
) -> bool {
    use webhook_self_test::Column as T;
    let at = crate::db::now();
    let update = webhook_self_test::Entity::update_many()
        .filter(T::Nonce.eq(nonce))
        .filter(T::ChannelId.eq(channel_id))
        .filter(T::StartedAt.gt(at - OPEN_FOR))
        .filter(T::ReceivedAt.is_null())
        .filter(T::Refusal.is_null());
    let update = match refused {
        None => update.col_expr(T::ReceivedAt, Expr::value(at)),
        Some((reason, detail)) => update
            .col_expr(T::Refusal, Expr::value(reason.code()))
            .col_expr(
                T::RefusalDetail,
                Expr::value(detail.map(|d| super::parse::storable(d, 128))),
            ),
    };
    match update.exec(&state.db.conn).await {
        Ok(r) => r.rows_affected == 1,
        Err(e) => {
            tracing::warn!(error = %e, channel_id, "webhook: a test delivery's row");
            false
        }
    }
}
