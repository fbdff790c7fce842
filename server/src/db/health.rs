//! Channel health kept current: the facts of `app::domain::health` read from the database,
//! the level written to `channels.health` (for sorting and filtering in SQL) whenever a fact
//! changes, and a sweep for the changes time alone makes (`channels.health_due_at`).

use super::certificates::members_of;
use super::entities::{certificate, channel, ou, skill_queue};
use app::domain::health::{CertificateUse, HealthFacts, assess, next_change};
use app::domain::refusal::Refusal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
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

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
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
                last_accepted_at: c.last_accepted_at.map(millis),
                last_refused_at: c.last_refused_at.map(millis),
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

/// Recomputes and stores the health level (and when it is due next) of these channels.
pub async fn refresh<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = channel::Entity::find()
        .filter(channel::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    let facts = facts_of(conn, &rows).await?;
    let now = unix(OffsetDateTime::now_utc());
    for c in &rows {
        let Some(f) = facts.get(&c.id) else { continue };
        let rank = assess(f, now).level.rank();
        let due = next_change(f, now).map(at);
        if c.health == rank && c.health_due_at == due {
            continue;
        }
        channel::Entity::update_many()
            .col_expr(channel::Column::Health, Expr::value(rank))
            .col_expr(channel::Column::HealthDueAt, Expr::value(due))
            .filter(channel::Column::Id.eq(c.id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Recomputes every channel whose health is due; returns how many.
pub async fn sweep(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let mut done = 0;
    loop {
        let ids: Vec<i64> = channel::Entity::find()
            .select_only()
            .column(channel::Column::Id)
            .filter(channel::Column::HealthDueAt.lte(OffsetDateTime::now_utc()))
            .limit(SWEEP_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            return Ok(done);
        }
        // one transaction per batch: one commit instead of one per changed channel
        let txn = db.begin().await?;
        refresh(&txn, &ids).await?;
        txn.commit().await?;
        done += ids.len();
    }
}

/// Runs [`sweep`] now and then every [`SWEEP_EVERY`], for as long as the process lives.
pub fn spawn_sweeper(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(channels = n, "health recomputed"),
                Err(e) => tracing::warn!(error = %e, "health sweep"),
            }
        }
    });
}
