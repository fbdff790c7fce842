//! Channel health kept current: the facts of `app::domain::health` read from the database,
//! the level written to `channels.health` (for sorting and filtering in SQL) whenever a fact
//! changes, and a sweep for the changes time alone makes (`channels.health_due_at`).

use super::certificates::members_of;
use super::entities::{certificate, channel, ou, skill_queue};
use app::domain::health::{CertificateUse, HealthFacts, HealthLevel, assess, next_change};
use app::domain::refusal::Refusal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use time::OffsetDateTime;

/// Channels recomputed per query by the sweep.
const SWEEP_BATCH: u64 = 500;
/// How often the sweep looks for channels whose health is due.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The facts of each channel, with the certificates, queues and OUs they name.
pub async fn facts_of<C: ConnectionTrait>(
    conn: &C,
    channels: &[channel::Model],
) -> Result<HashMap<i64, HealthFacts>, DbErr> {
    let cert_ids: HashSet<i64> = channels
        .iter()
        .flat_map(|c| {
            [
                c.auth_certificate_id,
                c.trust_certificate_id,
                c.identity_certificate_id,
            ]
        })
        .flatten()
        .collect();
    let certs: HashMap<i64, (String, i64)> = if cert_ids.is_empty() {
        HashMap::new()
    } else {
        certificate::Entity::find()
            .filter(certificate::Column::Id.is_in(cert_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|m| {
                let earliest = members_of(&m)
                    .iter()
                    .map(|p| p.not_after)
                    .min()
                    .unwrap_or(m.not_after);
                (m.id, (m.name, unix(earliest)))
            })
            .collect()
    };
    let queue_ids: HashSet<i64> = channels
        .iter()
        .flat_map(|c| [Some(c.skill_queue_id), c.no_agent_queue_id])
        .flatten()
        .collect();
    let queues: HashSet<i64> = if queue_ids.is_empty() {
        HashSet::new()
    } else {
        skill_queue::Entity::find()
            .select_only()
            .column(skill_queue::Column::Id)
            .filter(skill_queue::Column::Id.is_in(queue_ids))
            .into_tuple::<i64>()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    };
    let ou_ids: HashSet<i64> = channels.iter().filter_map(|c| c.ou_id).collect();
    let ous: HashSet<i64> = if ou_ids.is_empty() {
        HashSet::new()
    } else {
        ou::Entity::find()
            .select_only()
            .column(ou::Column::Id)
            .filter(ou::Column::Id.is_in(ou_ids))
            .into_tuple::<i64>()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    };
    Ok(channels
        .iter()
        .map(|c| {
            let roles = [
                ("Authentication Certificate", c.auth_certificate_id),
                ("Trust Certificate", c.trust_certificate_id),
                ("Identity Certificate", c.identity_certificate_id),
            ];
            let facts = HealthFacts {
                created_at: unix(c.created_at),
                last_accepted_at: c.last_accepted_at.map(super::unix_millis),
                last_refused_at: c.last_refused_at.map(super::unix_millis),
                last_refused_reason: c
                    .last_refused_reason
                    .as_deref()
                    .and_then(Refusal::parse)
                    .map(|r| r.reason().to_owned()),
                last_test: match (c.last_test_ok, &c.last_test_summary) {
                    (Some(ok), summary) => Some((ok, summary.clone().unwrap_or_default())),
                    _ => None,
                },
                token_valid_until: c.token_valid_until.clone(),
                certificates: roles
                    .into_iter()
                    .filter_map(|(role, id)| {
                        let (name, not_after) = certs.get(&id?)?;
                        Some(CertificateUse {
                            role: role.to_owned(),
                            name: name.clone(),
                            not_after: *not_after,
                        })
                    })
                    .collect(),
                skill_queue_missing: !queues.contains(&c.skill_queue_id)
                    || c.no_agent_queue_id.is_some_and(|q| !queues.contains(&q)),
                ou_missing: c.ou_id.is_some_and(|o| !ous.contains(&o)),
            };
            (c.id, facts)
        })
        .collect())
}

/// A new level for a channel, and the facts it was computed from (written only while they
/// are still the stored ones).
pub struct Change {
    id: i64,
    rank: i16,
    due: Option<OffsetDateTime>,
    seen: channel::Model,
    /// Why, at the new level (what an alert of the change says).
    reasons: Vec<app::domain::health::HealthReason>,
}

/// What changes for these channels: the ones whose level or due time differ from the stored.
pub async fn plan<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<Change>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // in id order: rows are then locked in the order the webhook writer locks them
    let rows = channel::Entity::find()
        .filter(channel::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(channel::Column::Id)
        .all(conn)
        .await?;
    let facts = facts_of(conn, &rows).await?;
    let now = unix(OffsetDateTime::now_utc());
    Ok(rows
        .iter()
        .filter_map(|c| {
            let f = facts.get(&c.id)?;
            let health = assess(f, now);
            let rank = health.level.rank();
            let due = next_change(f, now).map(at);
            (c.health != rank || c.health_due_at != due).then(|| Change {
                id: c.id,
                rank,
                due,
                seen: c.clone(),
                reasons: health.reasons,
            })
        })
        .collect())
}

fn unchanged<T>(column: channel::Column, value: Option<T>) -> sea_orm::sea_query::SimpleExpr
where
    T: Into<sea_orm::Value>,
{
    match value {
        Some(v) => column.eq(v),
        None => column.is_null(),
    }
}

pub async fn apply<C: ConnectionTrait>(conn: &C, changes: &[Change]) -> Result<(), DbErr> {
    use channel::Column as Col;
    for c in changes {
        let s = &c.seen;
        let written = channel::Entity::update_many()
            .col_expr(Col::Health, Expr::value(c.rank))
            .col_expr(Col::HealthDueAt, Expr::value(c.due))
            .filter(Col::Id.eq(c.id))
            // only over the facts it was computed from, never a stale result over newer ones
            .filter(Col::UpdatedAt.eq(s.updated_at))
            .filter(unchanged(Col::LastAcceptedAt, s.last_accepted_at))
            .filter(unchanged(Col::LastRefusedAt, s.last_refused_at))
            .filter(unchanged(Col::LastTestAt, s.last_test_at))
            // and over the level it was computed against: of two instances computing the same
            // change, one writes it (and raises its alert)
            .filter(Col::Health.eq(s.health))
            .exec(conn)
            .await?;
        if written.rows_affected == 0 {
            // a fact changed in between (an accepted delivery does not recompute an OK
            // channel): the sweep's next pass computes it from the new facts
            mark_due(conn, &[c.id]).await?;
            continue;
        }
        // into or out of Failing: its alert, with the level that was just written (once:
        // the write above succeeds once per change)
        let (old, new) = (
            HealthLevel::from_rank(s.health),
            HealthLevel::from_rank(c.rank),
        );
        if old != new && (old == HealthLevel::Failing || new == HealthLevel::Failing) {
            crate::alerts::transition(conn, s, old, new, &c.reasons).await?;
        }
    }
    Ok(())
}

/// Makes the sweep recompute these channels on its next pass (within [`SWEEP_EVERY`]).
pub async fn mark_due<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    channel::Entity::update_many()
        .col_expr(
            channel::Column::HealthDueAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(channel::Column::Id.is_in(ids.iter().copied()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Recomputes and stores the health level (and when it is due next) of these channels, on
/// `conn` (the caller's transaction when the facts changed in it).
pub async fn refresh<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<(), DbErr> {
    let changed = plan(conn, ids).await?;
    apply(conn, &changed).await
}

/// [`refresh`] after a change that is already saved: a failure is logged and left to the
/// sweep, never reported as if the change had failed.
pub async fn refresh_after(db: &DatabaseConnection, ids: &[i64]) {
    // read outside, written in one transaction: a new level and its alert together
    let refreshed = async {
        let changed = plan(db, ids).await?;
        let txn = super::begin_write(db).await?;
        apply(&txn, &changed).await?;
        txn.commit().await
    };
    if let Err(e) = refreshed.await {
        tracing::warn!(error = %e, channels = ?ids, "health not recomputed; left to the sweep");
        if let Err(e) = mark_due(db, ids).await {
            tracing::warn!(error = %e, channels = ?ids, "health not marked due");
        }
    }
}

/// One pass over the channels whose health is due, in id order; returns how many it looked
/// at. A channel marked due again during the pass waits for the next one, so a pass ends.
pub async fn sweep(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let mut done = 0;
    let mut after = i64::MIN;
    loop {
        let ids: Vec<i64> = channel::Entity::find()
            .select_only()
            .column(channel::Column::Id)
            .filter(channel::Column::HealthDueAt.lte(OffsetDateTime::now_utc()))
            .filter(channel::Column::Id.gt(after))
            .order_by_asc(channel::Column::Id)
            .limit(SWEEP_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = ids.last().copied() else {
            return Ok(done);
        };
        after = last;
        // read outside, write in one transaction per batch (one commit, and a transaction that
        // only writes waits for SQLite's lock instead of failing on a stale snapshot)
        let changed = plan(db, &ids).await?;
        let txn = db.begin().await?;
        apply(&txn, &changed).await?;
        txn.commit().await?;
        done += ids.len();
    }
}
