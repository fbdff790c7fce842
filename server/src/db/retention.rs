//! Retention of webhook traffic (`SWITCHBOARD_TRAFFIC_RETENTION_DAYS`, default 30): the
//! deliveries older than the retention (with the events whose latest delivery they are: the
//! foreign key cascades), the refusals, the test messages sent (with their statuses), the
//! hourly delivery counts and the alerts raised (with their deliveries) are deleted in the
//! background, a small batch at a time.
//!
//! SQLite has one writer, and the webhook writer's commits must not queue behind a purge. So
//! each batch is read first by primary key (a read takes no write lock), then deleted by its
//! ids in one short statement whose size adapts to keep it within [`Pace::hold`]; after each
//! batch the purge pauses several times as long as the batch held the lock. On SQLite the
//! purge commits on its own connection with `synchronous=NORMAL` (no fsync while the lock is
//! held): a purge lost to a power cut is only done again, and the writer's commits keep FULL.
//!
//! What a channel's health needs survives: the last accepted and last refused delivery (and
//! why) are kept on the channel's row, not read from the traffic.

use super::entities::{alert, outbound_message, webhook_count, webhook_delivery, webhook_refusal};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, prelude::TimeDateTimeWithTimeZone,
};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Days of webhook traffic kept unless `SWITCHBOARD_TRAFFIC_RETENTION_DAYS` says otherwise.
pub const DEFAULT_DAYS: u64 = 30;
/// Alerts are kept at least this long, however short the traffic's retention.
pub const ALERTS_KEPT_AT_LEAST: time::Duration = time::Duration::days(45);
/// How often a purge runs (the first at start).
pub const PURGE_EVERY: Duration = Duration::from_secs(600);

/// How a purge shares the database with the traffic it purges.
#[derive(Clone, Debug)]
pub struct Pace {
    /// The longest one batch should hold the write lock; the batch size halves when one took
    /// longer and doubles (up to `most`) when one took less than a quarter of it.
    pub hold: Duration,
    /// Rows a batch starts with, and the fewest and most it ever takes.
    pub first: u64,
    pub fewest: u64,
    pub most: u64,
    /// After each batch, the purge waits this many times as long as the batch took
    /// (at least `least_pause`): the lock is the purge's at most 1 / (1 + pause) of the time.
    pub pause: u32,
    pub least_pause: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Self {
            hold: Duration::from_millis(4),
            first: 100,
            fewest: 10,
            most: 1_000,
            pause: 9,
            least_pause: Duration::from_millis(5),
        }
    }
}

/// What one purge deleted, and how long its batches held the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Deliveries (their events went with them).
    pub deliveries: u64,
    /// Test messages sent (their statuses went with them).
    pub outbound: u64,
    pub refusals: u64,
    /// Hourly delivery counts of a tenant space.
    pub counts: u64,
    /// Alerts raised (their deliveries went with them).
    pub alerts: u64,
    pub batches: u64,
    /// The longest one batch held the write lock (its delete and commit).
    pub longest: Duration,
    /// All batches' deletes together.
    pub held: Duration,
    /// How long batches waited for the write lock (behind the webhook writer), together, and
    /// the longest wait: time the purge yielded, not time it held anything.
    pub waited: Duration,
    pub longest_wait: Duration,
}

impl Purged {
    pub fn rows(&self) -> u64 {
        self.deliveries + self.outbound + self.refusals + self.counts + self.alerts
    }

    /// (table, rows) for logs and metrics.
    pub fn by_table(&self) -> [(&'static str, u64); 5] {
        [
            ("webhook_deliveries", self.deliveries),
            ("outbound_messages", self.outbound),
            ("webhook_refusals", self.refusals),
            ("webhook_counts", self.counts),
            ("alerts", self.alerts),
        ]
    }
}

/// The time before which traffic is deleted, `days` before `now`.
pub fn cutoff(now: OffsetDateTime, days: u64) -> OffsetDateTime {
    i64::try_from(days)
        .ok()
        .and_then(|d| now.checked_sub(time::Duration::days(d)))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .max(OffsetDateTime::UNIX_EPOCH)
}

/// One batch's size and the pause after it, adapting to what the batch took.
struct Stride<'a> {
    pace: &'a Pace,
    size: u64,
}

impl<'a> Stride<'a> {
    fn new(pace: &'a Pace) -> Self {
        let size = pace.first.clamp(pace.fewest.max(1), pace.most.max(1));
        Self { pace, size }
    }

    /// Records a batch that held the lock `took` after waiting `waited` for it: the next
    /// batch's size, and the pause before it — as long as it waited at least (a busy writer
    /// slows the purge down), and `pause` times its hold.
    fn next_after_wait(
        &mut self,
        took: Duration,
        waited: Duration,
        purged: &mut Purged,
    ) -> Duration {
        self.next(took, purged).max(waited)
    }

    /// Records a batch that took `took`: the next batch's size, and the pause before it.
    fn next(&mut self, took: Duration, purged: &mut Purged) -> Duration {
        purged.batches += 1;
        purged.held += took;
        purged.longest = purged.longest.max(took);
        let p = self.pace;
        if took > p.hold {
            self.size = (self.size / 2).max(p.fewest.max(1));
        } else if took < p.hold / 4 {
            self.size = (self.size * 2).min(p.most.max(1));
        }
        (took * p.pause).max(p.least_pause)
    }

    /// Records a batch that held the lock `took` (after waiting `waited`) and waits before
    /// the next one.
    async fn after(&mut self, (took, waited): (Duration, Duration), purged: &mut Purged) {
        let pause = self.next_after_wait(took, waited, purged);
        tokio::time::sleep(pause).await;
    }
}

/// Deletes the traffic received before `cutoff`, paced by `pace`; answers what it deleted.
/// Stopping it between two batches (dropping the future) loses nothing: each batch is one
/// transaction.
pub async fn purge(
    db: &DatabaseConnection,
    cutoff: OffsetDateTime,
    pace: &Pace,
) -> Result<Purged, DbErr> {
    let mut purged = Purged::default();
    purge_into(db, cutoff, pace, &mut purged).await?;
    Ok(purged)
}

/// [`purge`], counting into `purged` batch by batch (what a stopped purge did is there).
pub async fn purge_into(
    db: &DatabaseConnection,
    cutoff: OffsetDateTime,
    pace: &Pace,
    purged: &mut Purged,
) -> Result<(), DbErr> {
    let before = purged.clone();
    by_id::<webhook_delivery::Entity>(
        db,
        webhook_delivery::Column::Id,
        webhook_delivery::Column::ReceivedAt,
        cutoff,
        pace,
        purged,
        |p| &mut p.deliveries,
    )
    .await?;
    by_id::<outbound_message::Entity>(
        db,
        outbound_message::Column::Id,
        outbound_message::Column::SentAt,
        cutoff,
        pace,
        purged,
        |p| &mut p.outbound,
    )
    .await?;
    by_id::<webhook_refusal::Entity>(
        db,
        webhook_refusal::Column::Id,
        webhook_refusal::Column::LastAt,
        cutoff,
        pace,
        purged,
        |p| &mut p.refusals,
    )
    .await?;
    counts(db, cutoff, pace, purged).await?;
    // an alert is what keeps it from being raised again: kept past the longest window
    // it can be raised in (a certificate's 30 days), whatever the traffic's retention
    let alerts_cutoff = cutoff.min(OffsetDateTime::now_utc() - ALERTS_KEPT_AT_LEAST);
    by_id::<alert::Entity>(
        db,
        alert::Column::Id,
        alert::Column::CreatedAt,
        alerts_cutoff,
        pace,
        purged,
        |p| &mut p.alerts,
    )
    .await?;
    if purged.rows() > before.rows()
        && db.get_database_backend() == sea_orm::DatabaseBackend::Postgres
    {
        // what was deleted is room for new rows once vacuumed; autovacuum waits for a fifth
        // of a table to be dead, so a steady purge would otherwise grow the tables
        let done = purged.by_table();
        for ((table, n), (_, was)) in done.into_iter().zip(before.by_table()) {
            // and the tables whose rows went with them
            let with: &[&str] = match table {
                "webhook_deliveries" => &["webhook_events"],
                "outbound_messages" => &["outbound_statuses"],
                "alerts" => &["alert_sends"],
                _ => &[],
            };
            if n > was {
                for t in std::iter::once(&table).chain(with) {
                    db.execute_unprepared(&format!("VACUUM (SKIP_LOCKED) {t}"))
                        .await?;
                }
            }
        }
    }
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await?;
    }
    Ok(())
}

/// Runs one batch's delete in a transaction that takes SQLite's write lock first: the wait
/// for the lock (behind the webhook writer) is counted apart from the time the batch holds
/// it, and only the latter sizes the next batch. Answers the rows deleted and the hold.
async fn locked<F>(
    db: &DatabaseConnection,
    purged: &mut Purged,
    delete: F,
) -> Result<(u64, (Duration, Duration)), DbErr>
where
    F: for<'t> FnOnce(
        &'t sea_orm::DatabaseTransaction,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<u64, DbErr>> + Send + 't>,
    >,
{
    let asked = Instant::now();
    let txn = super::begin_write(db).await?;
    let waited = asked.elapsed();
    purged.waited += waited;
    purged.longest_wait = purged.longest_wait.max(waited);
    let held_from = Instant::now();
    let n = delete(&txn).await?;
    txn.commit().await?;
    let held = held_from.elapsed();
    // the purge's connection never checkpoints on commit (`Db::background_connection`): it
    // copies its WAL frames into the database now and then, without the write lock, so the
    // writer's next checkpoint does not find the whole purge to copy
    if purged.batches % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1
        && db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite
    {
        db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await?;
    }
    Ok((n, (held, waited)))
}

/// Batches between two checkpoints of the purge's own WAL frames (SQLite).
const CHECKPOINT_EVERY: u64 = 64;

/// Rows of a table whose ids grow with time, oldest first: each batch is the next ids in
/// order, read without a lock; those older than `cutoff` are deleted by id. The walk ends at
/// the first batch with nothing old in it (the rest is newer) or at the table's end.
async fn by_id<E: EntityTrait>(
    db: &DatabaseConnection,
    id: E::Column,
    at: E::Column,
    cutoff: OffsetDateTime,
    pace: &Pace,
    purged: &mut Purged,
    count: fn(&mut Purged) -> &mut u64,
) -> Result<(), DbErr> {
    let mut stride = Stride::new(pace);
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, TimeDateTimeWithTimeZone)> = E::find()
            .select_only()
            .column(id)
            .column(at)
            .filter(id.gt(after))
            .order_by_asc(id)
            .limit(stride.size)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(());
        };
        let old: Vec<i64> = rows
            .iter()
            .filter(|(_, t)| *t < cutoff)
            .map(|(i, _)| *i)
            .collect();
        if old.is_empty() {
            return Ok(());
        }
        let (n, held) = locked(db, purged, |txn| {
            Box::pin(async move {
                Ok(E::delete_many()
                    .filter(id.is_in(old))
                    .exec(txn)
                    .await?
                    .rows_affected)
            })
        })
        .await?;
        *count(purged) += n;
        let full = rows.len() as u64 == stride.size;
        stride.after(held, purged).await;
        if !full {
            return Ok(());
        }
        after = last;
    }
}

/// Hourly counts of the hours before `cutoff`'s, oldest hour first (on the hour's index).
async fn counts(
    db: &DatabaseConnection,
    cutoff: OffsetDateTime,
    pace: &Pace,
    purged: &mut Purged,
) -> Result<(), DbErr> {
    use webhook_count::{Column as C, Entity};
    let before = cutoff.unix_timestamp().div_euclid(3600);
    let mut stride = Stride::new(pace);
    loop {
        let rows: Vec<(i64, i64)> = Entity::find()
            .select_only()
            .column(C::Hour)
            .column(C::TenantId)
            .filter(C::Hour.lt(before))
            .order_by_asc(C::Hour)
            .order_by_asc(C::TenantId)
            .limit(stride.size)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(hour, tenant)) = rows.last() else {
            return Ok(());
        };
        // exactly the rows read: every earlier hour whole, and this hour up to this tenant
        // (counts are only ever added to the current hour, never to one this old)
        let (n, held) = locked(db, purged, |txn| {
            Box::pin(async move {
                Ok(Entity::delete_many()
                    .filter(C::Hour.lte(hour))
                    .filter(
                        Condition::any()
                            .add(C::Hour.lt(hour))
                            .add(Expr::col(C::TenantId).lte(tenant)),
                    )
                    .exec(txn)
                    .await?
                    .rows_affected)
            })
        })
        .await?;
        purged.counts += n;
        let full = rows.len() as u64 == stride.size;
        stride.after(held, purged).await;
        if !full {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_whole_days_back_and_never_before_1970() {
        let now = OffsetDateTime::from_unix_timestamp(1_796_000_000).unwrap();
        assert_eq!(
            cutoff(now, 30).unix_timestamp(),
            1_796_000_000 - 30 * 86_400
        );
        assert_eq!(cutoff(now, 1_000_000), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(cutoff(now, u64::MAX), OffsetDateTime::UNIX_EPOCH);
    }

    #[test]
    fn a_batch_that_held_the_lock_too_long_halves_and_a_quick_one_doubles() {
        let pace = Pace::default();
        let mut stride = Stride::new(&pace);
        let mut purged = Purged::default();
        assert_eq!(stride.size, 100);
        stride.next(Duration::from_millis(9), &mut purged);
        assert_eq!(stride.size, 50);
        stride.next(Duration::from_millis(2), &mut purged);
        assert_eq!(stride.size, 50, "within the hold: kept");
        stride.next(Duration::from_micros(500), &mut purged);
        assert_eq!(stride.size, 100);
        for _ in 0..10 {
            stride.next(Duration::from_micros(100), &mut purged);
        }
        assert_eq!(stride.size, pace.most);
        for _ in 0..20 {
            stride.next(Duration::from_secs(1), &mut purged);
        }
        assert_eq!(stride.size, pace.fewest);
        assert_eq!(purged.batches, 33);
        assert_eq!(purged.longest, Duration::from_secs(1));
    }

    #[test]
    fn a_batch_that_waited_for_the_lock_pauses_at_least_as_long() {
        let pace = Pace::default();
        let mut stride = Stride::new(&pace);
        let mut purged = Purged::default();
        assert_eq!(
            stride.next_after_wait(
                Duration::from_millis(2),
                Duration::from_millis(300),
                &mut purged
            ),
            Duration::from_millis(300)
        );
        assert_eq!(
            stride.next_after_wait(Duration::from_millis(2), Duration::ZERO, &mut purged),
            Duration::from_millis(18)
        );
    }

    #[test]
    fn the_pause_after_a_batch_is_a_multiple_of_what_it_took() {
        let pace = Pace::default();
        let mut stride = Stride::new(&pace);
        let mut purged = Purged::default();
        assert_eq!(
            stride.next(Duration::from_millis(3), &mut purged),
            Duration::from_millis(27)
        );
        assert_eq!(
            stride.next(Duration::from_micros(10), &mut purged),
            pace.least_pause
        );
        assert_eq!(purged.held, Duration::from_micros(3_010));
    }
}
