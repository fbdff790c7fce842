//! The receiving end of "Send a test delivery" (`providers::test_delivery`): a delivery that
//! carries `X-Switchboard-Test-Delivery` with the nonce of a test this channel started is
//! checked like any other, then noted on the test's row — arrived, or why it was refused —
//! and answered without being stored: it is never customer traffic and never changes health.
//! A nonce no test of this channel started changes nothing (the delivery is treated as any).

use crate::db::entities::webhook_self_test;
use crate::state::AppState;
use app::domain::refusal::Refusal;
use axum::http::HeaderMap;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The header a test delivery carries its nonce in.
pub const HEADER: &str = "x-switchboard-test-delivery";
/// The test deliveries kept per channel.
pub const KEPT: u64 = 20;
/// How long after it started a test's row takes its delivery (the call's own limit is 20 s).
const OPEN_FOR: time::Duration = time::Duration::seconds(60);

/// The nonce of a request, if it carries one of the right shape (32 hexadecimal characters).
pub fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(HEADER)?.to_str().ok()?;
    (v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_owned())
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
