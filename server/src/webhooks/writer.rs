//! Group commit: requests hand their deliveries to one writer task, which stores everything
//! waiting in one transaction and answers each request after the commit. One fsync then covers
//! many deliveries, instead of every request waiting its turn for its own.
//!
//! Bounded: the deliveries waiting hold at most `QUEUE_BYTES` together (a request that finds no
//! room within a moment is answered 503, so the provider retries); one transaction takes at most
//! `BATCH_JOBS` deliveries or `BATCH_BYTES`. When a batch fails, its deliveries are written one
//! by one, so one bad delivery fails alone and never the other tenants' deliveries beside it.

use super::parse::{self, Event, Kind, storable};
use crate::db::entities::{webhook_delivery, webhook_event, webhook_refusal};
use crate::db::now;
use crate::metrics::Metrics;
use app::domain::refusal::Refusal;
use axum::body::Bytes;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QuerySelect, Set, TransactionTrait,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// Bytes of deliveries waiting for the writer at once.
pub const QUEUE_BYTES: usize = 64 * 1024 * 1024;
/// How long a request waits for room in the queue before it is answered 503.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
const BATCH_JOBS: usize = 256;
/// Messages (deliveries, refusals, flushes) the writer's channel holds.
const QUEUE_MESSAGES: usize = 4096;
const BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Refused deliveries waiting to be recorded at most.
const REFUSALS_WAITING: usize = 1024;
/// Refused deliveries kept per channel (newest).
pub const REFUSALS_KEPT: u64 = 200;

/// A delivery a webhook URL refused: what is recorded about it (never the body or a credential).
#[derive(Debug, Clone)]
pub struct Refused {
    pub channel_id: i64,
    pub tenant_id: i64,
    /// `message`, `report`, `cloud` or `verify`
    pub endpoint: &'static str,
    pub status: u16,
    pub reason: Refusal,
    /// The parser's words for a malformed body.
    pub detail: Option<String>,
    pub source: String,
    pub content_type: String,
    pub size: u64,
    pub at: time::OffsetDateTime,
}

/// One accepted request: its raw body (stored once, as bytes) and the events parsed from it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `message`, `report` or `cloud`
    pub endpoint: &'static str,
    pub content_type: String,
    pub body: Bytes,
    pub events: Vec<Event>,
    /// During a webhook credential change: `new` or `previous`, the value it came with.
    pub credential: Option<&'static str>,
    /// twilio with an Auth Token: the form of the URL its signature matched.
    pub signed_as: Option<&'static str>,
}

impl Delivery {
    /// What the delivery holds in memory while it waits, roughly.
    fn weight(&self) -> usize {
        let events: usize = self
            .events
            .iter()
            .map(|e| {
                96 + e.provider_message_id.len()
                    + e.sender.len()
                    + e.recipient.len()
                    + e.text.as_ref().map_or(0, String::len)
                    + e.status.as_ref().map_or(0, String::len)
            })
            .sum();
        1024 + self.body.len() + events
    }
}

/// A delivery for one channel, as the writer takes it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub channel_id: i64,
    pub tenant_id: i64,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the writer queue is full")]
    Busy,
    #[error("the database did not take the delivery")]
    Unavailable,
}

struct Job {
    pending: Pending,
    done: oneshot::Sender<bool>,
    /// Room in the queue, given back when the job is answered.
    _room: OwnedSemaphorePermit,
}

enum Msg {
    Job(Job),
    /// A refused delivery to record; the permit bounds how many wait.
    Refused(Refused, OwnedSemaphorePermit),
    /// Answered once everything queued before it is committed.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct WebhookWriter {
    tx: mpsc::Sender<Msg>,
    room: Arc<Semaphore>,
    /// Refusals waiting to be recorded; past it they are counted in `dropped` only.
    refusal_room: Arc<Semaphore>,
    dropped: Arc<AtomicU64>,
    /// Deliveries to a URL whose key names no active channel: counted, never stored.
    unknown: Arc<AtomicU64>,
    closed: Arc<AtomicBool>,
    capacity: usize,
}

impl WebhookWriter {
    pub fn spawn(db: DatabaseConnection, metrics: Metrics) -> Self {
        Self::spawn_with_room(db, QUEUE_BYTES, metrics)
    }

    /// A writer whose queue holds at most `room` bytes of deliveries (`QUEUE_BYTES` in the
    /// server; tests go past a small one).
    pub fn spawn_with_room(db: DatabaseConnection, room: usize, metrics: Metrics) -> Self {
        let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE_MESSAGES);
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                let mut bytes = 0;
                let mut batch = Vec::new();
                let mut refusals = Vec::new();
                let mut flushes = Vec::new();
                let mut take =
                    |msg: Msg,
                     bytes: &mut usize,
                     batch: &mut Vec<Job>,
                     flushes: &mut Vec<oneshot::Sender<()>>| {
                        match msg {
                            Msg::Job(job) => {
                                *bytes += job.pending.delivery.weight();
                                batch.push(job);
                            }
                            Msg::Refused(r, permit) => refusals.push((r, permit)),
                            Msg::Flush(ack) => flushes.push(ack),
                        }
                    };
                take(msg, &mut bytes, &mut batch, &mut flushes);
                while flushes.is_empty() && batch.len() < BATCH_JOBS && bytes < BATCH_BYTES {
                    match rx.try_recv() {
                        Ok(msg) => take(msg, &mut bytes, &mut batch, &mut flushes),
                        Err(_) => break,
                    }
                }
                if !batch.is_empty() {
                    let pending: Vec<&Pending> = batch.iter().map(|j| &j.pending).collect();
                    let started = std::time::Instant::now();
                    let results = write_all(&db, &pending).await;
                    metrics.writer_batch(pending.len(), bytes, started.elapsed());
                    for (job, ok) in batch.into_iter().zip(results) {
                        let _ = job.done.send(ok);
                    }
                }
                if !refusals.is_empty() {
                    let list: Vec<Refused> = refusals.into_iter().map(|(r, _permit)| r).collect();
                    if let Err(e) = write_refusals(&db, list).await {
                        tracing::warn!(error = %e, "webhook: recording refused deliveries");
                    }
                }
                for ack in flushes {
                    let _ = ack.send(());
                }
            }
        });
        Self {
            tx,
            room: Arc::new(Semaphore::new(room)),
            refusal_room: Arc::new(Semaphore::new(REFUSALS_WAITING)),
            dropped: Arc::new(AtomicU64::new(0)),
            unknown: Arc::new(AtomicU64::new(0)),
            closed: Arc::new(AtomicBool::new(false)),
            capacity: room,
        }
    }

    /// Stores the delivery durably; answers once it is committed.
    pub async fn store(
        &self,
        channel_id: i64,
        tenant_id: i64,
        delivery: Delivery,
    ) -> Result<(), StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable);
        }
        let weight = u32::try_from(delivery.weight().min(self.capacity)).unwrap_or(u32::MAX);
        let room = tokio::time::timeout(QUEUE_WAIT, self.room.clone().acquire_many_owned(weight))
            .await
            .map_err(|_| StoreError::Busy)?
            .map_err(|_| StoreError::Unavailable)?;
        let (done, answer) = oneshot::channel();
        let job = Job {
            pending: Pending {
                channel_id,
                tenant_id,
                delivery,
            },
            done,
            _room: room,
        };
        self.tx
            .send(Msg::Job(job))
            .await
            .map_err(|_| StoreError::Unavailable)?;
        match answer.await {
            Ok(true) => Ok(()),
            _ => Err(StoreError::Unavailable),
        }
    }

    /// Records a refused delivery, off the request path: never waits; when too many wait
    /// already, it is only counted (`refusals_dropped`).
    pub fn refuse(&self, refused: Refused) {
        let Ok(permit) = self.refusal_room.clone().try_acquire_owned() else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if self.closed.load(Ordering::Acquire)
            || self.tx.try_send(Msg::Refused(refused, permit)).is_err()
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a delivery to an unknown key (or a disabled tenant's): nothing is written for it,
    /// since anyone can send them; the count is logged at 1, 2, 4, 8, … so a flood costs a
    /// log line per doubling.
    pub fn note_unknown(&self) {
        let n = self.unknown.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!(
                deliveries = n,
                "webhook: deliveries to unknown keys since this instance started"
            );
        }
    }

    /// What waits to be written: (deliveries and refusals, bytes of deliveries, the most
    /// bytes that may wait).
    pub fn queued(&self) -> (usize, usize, usize) {
        (
            QUEUE_MESSAGES - self.tx.capacity(),
            self.capacity.saturating_sub(self.room.available_permits()),
            self.capacity,
        )
    }

    /// Deliveries to unknown keys since this instance started.
    pub fn unknown_keys(&self) -> u64 {
        self.unknown.load(Ordering::Relaxed)
    }

    /// Refused deliveries not recorded because too many waited.
    pub fn refusals_dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// For shutdown: refuses new deliveries, then waits until everything queued is committed
    /// (and answered).
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.flush().await;
    }

    /// Waits until everything queued before it (deliveries and refusals) is written.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// Writes the deliveries in one transaction; if that fails, each one alone. `true` for each
/// delivery that is committed.
pub async fn write_all(db: &DatabaseConnection, jobs: &[&Pending]) -> Vec<bool> {
    match write_batch(db, jobs).await {
        Ok(()) => return vec![true; jobs.len()],
        Err(e) if jobs.len() == 1 => {
            tracing::error!(error = %e, channel_id = jobs[0].channel_id, "webhook: storing a delivery");
            return vec![false];
        }
        Err(e) => {
            tracing::warn!(error = %e, deliveries = jobs.len(), "webhook: a batch failed; writing its deliveries one by one");
        }
    }
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let ok = match write_batch(db, std::slice::from_ref(job)).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, channel_id = job.channel_id, "webhook: storing a delivery");
                false
            }
        };
        results.push(ok);
    }
    results
}

/// One transaction: each delivery's body once, then its events (messages once, reports only
/// moving forward). A delivery none of whose events changed anything (a pure redelivery) is
/// not kept.
async fn write_batch(db: &DatabaseConnection, jobs: &[&Pending]) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let mut accepted: BTreeMap<i64, (i64, time::OffsetDateTime)> = BTreeMap::new();
    for job in jobs {
        let d = &job.delivery;
        let received = now();
        accepted.insert(job.channel_id, (job.tenant_id, received));
        let delivery_id = webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
            channel_id: Set(job.channel_id),
            tenant_id: Set(job.tenant_id),
            endpoint: Set(d.endpoint.to_owned()),
            content_type: Set(storable(&d.content_type, 128)),
            body: Set(d.body.to_vec()),
            received_at: Set(received),
            credential: Set(d.credential.map(str::to_owned)),
            signed_as: Set(d.signed_as.map(str::to_owned)),
            ..Default::default()
        })
        .exec(&txn)
        .await?
        .last_insert_id;
        let mut changed = 0u64;
        for e in &d.events {
            let rank = e.status.as_deref().map(parse::status_rank).unwrap_or(0);
            let model = webhook_event::ActiveModel {
                channel_id: Set(job.channel_id),
                tenant_id: Set(job.tenant_id),
                kind: Set(e.kind.as_str().to_owned()),
                // cut and cleaned when parsed (`Event::new`)
                provider_message_id: Set(e.provider_message_id.clone()),
                sender: Set(e.sender.clone()),
                recipient: Set(e.recipient.clone()),
                text: Set(e.text.clone()),
                status: Set(e.status.clone()),
                status_rank: Set(rank),
                delivery_id: Set(Some(delivery_id)),
                received_at: Set(received),
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
                        .update_columns([W::Status, W::StatusRank, W::DeliveryId, W::ReceivedAt])
                        .action_and_where(
                            Expr::col((webhook_event::Entity, W::StatusRank))
                                .lt(Expr::cust("excluded.status_rank")),
                        );
                }
            }
            let rows = webhook_event::Entity::insert(model)
                .on_conflict(conflict)
                .exec_without_returning(&txn)
                .await?;
            if rows > 0 && e.kind == Kind::Report {
                follow_sent_message(&txn, job.channel_id, e, rank, received).await?;
            }
            changed += rows;
        }
        if changed == 0 {
            webhook_delivery::Entity::delete_by_id(delivery_id)
                .exec(&txn)
                .await?;
        }
    }
    note_accepted(&txn, &accepted).await?;
    let mut per_tenant: BTreeMap<i64, i64> = BTreeMap::new();
    for job in jobs {
        *per_tenant.entry(job.tenant_id).or_default() += 1;
    }
    count(&txn, per_tenant.into_iter().map(|(t, n)| (t, n, 0))).await?;
    txn.commit().await
}

/// The newest accepted delivery on each channel's row; health recomputed where it can change
/// (a channel not OK, or one that had received nothing yet).
async fn note_accepted(
    txn: &DatabaseTransaction,
    accepted: &BTreeMap<i64, (i64, time::OffsetDateTime)>,
) -> Result<(), DbErr> {
    use crate::db::entities::channel::{Column as C, Entity as Channel};
    if accepted.is_empty() {
        return Ok(());
    }
    let due: Vec<i64> = Channel::find()
        .select_only()
        .column(C::Id)
        .filter(C::Id.is_in(accepted.keys().copied()))
        .filter(
            Condition::any()
                .add(C::Health.ne(0))
                .add(C::LastAcceptedAt.is_null()),
        )
        .into_tuple()
        .all(txn)
        .await?;
    for (channel_id, (_, at)) in accepted {
        Channel::update_many()
            .col_expr(C::LastAcceptedAt, Expr::value(*at))
            .filter(C::Id.eq(*channel_id))
            // never backwards
            .filter(
                Condition::any()
                    .add(C::LastAcceptedAt.is_null())
                    .add(C::LastAcceptedAt.lt(*at)),
            )
            .exec(txn)
            .await?;
    }
    crate::db::health::refresh(txn, &due).await
}

/// Adds to the per-tenant, per-hour counts of accepted and refused deliveries.
async fn count(
    txn: &DatabaseTransaction,
    rows: impl Iterator<Item = (i64, i64, i64)>,
) -> Result<(), DbErr> {
    use crate::db::entities::webhook_count::{ActiveModel, Column as W, Entity};
    let hour = now().unix_timestamp().div_euclid(3600);
    for (tenant_id, accepted, refused) in rows {
        let mut conflict = OnConflict::columns([W::TenantId, W::Hour]);
        conflict
            .value(
                W::Accepted,
                Expr::col((Entity, W::Accepted)).add(Expr::cust("excluded.accepted")),
            )
            .value(
                W::Refused,
                Expr::col((Entity, W::Refused)).add(Expr::cust("excluded.refused")),
            );
        Entity::insert(ActiveModel {
            tenant_id: Set(tenant_id),
            hour: Set(hour),
            accepted: Set(accepted),
            refused: Set(refused),
        })
        .on_conflict(conflict)
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// A report about a test message this server sent: one more step of its timeline.
async fn follow_sent_message(
    txn: &sea_orm::DatabaseTransaction,
    channel_id: i64,
    e: &Event,
    rank: i32,
    received: time::OffsetDateTime,
) -> Result<(), DbErr> {
    use crate::db::entities::{outbound_message, outbound_status};
    let Some(sent) = outbound_message::Entity::find()
        .filter(outbound_message::Column::ChannelId.eq(channel_id))
        .filter(outbound_message::Column::ProviderMessageId.eq(e.provider_message_id.as_str()))
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    outbound_status::Entity::insert(outbound_status::ActiveModel {
        outbound_id: Set(sent.id),
        status: Set(e.status.clone().unwrap_or_default()),
        status_rank: Set(rank),
        detail: Set(e.text.clone()),
        received_at: Set(received),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Records refusals: one row per channel, reason and second (later ones in that second add to
/// its count), then keeps the newest `REFUSALS_KEPT` rows of each channel touched.
async fn write_refusals(db: &DatabaseConnection, list: Vec<Refused>) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Alias, Query};
    use webhook_refusal::Column as R;
    let mut rows: HashMap<(i64, Refusal, i64), (Refused, i64)> = HashMap::new();
    for r in list {
        let key = (r.channel_id, r.reason, r.at.unix_timestamp());
        let entry = rows.entry(key).or_insert_with(|| (r.clone(), 0));
        entry.1 += 1;
        entry.0 = r;
    }
    let channels: BTreeSet<i64> = rows.keys().map(|k| k.0).collect();
    // per channel the newest refusal; per tenant how many
    let mut newest: BTreeMap<i64, (time::OffsetDateTime, Refusal)> = BTreeMap::new();
    let mut per_tenant: BTreeMap<i64, i64> = BTreeMap::new();
    for ((channel_id, reason, _), (r, n)) in &rows {
        let e = newest.entry(*channel_id).or_insert((r.at, *reason));
        if r.at >= e.0 {
            *e = (r.at, *reason);
        }
        *per_tenant.entry(r.tenant_id).or_default() += n;
    }
    let txn = db.begin().await?;
    for ((channel_id, reason, second), (r, count)) in rows {
        let model = webhook_refusal::ActiveModel {
            channel_id: Set(channel_id),
            tenant_id: Set(r.tenant_id),
            endpoint: Set(r.endpoint.to_owned()),
            status: Set(i32::from(r.status)),
            reason: Set(reason.code().to_owned()),
            detail: Set(r.detail.as_deref().map(|d| storable(d, 256))),
            source: Set(storable(&r.source, 64)),
            content_type: Set(storable(&r.content_type, 128)),
            size: Set(i64::try_from(r.size).unwrap_or(i64::MAX)),
            second: Set(second),
            count: Set(count),
            last_at: Set(r.at),
            ..Default::default()
        };
        let mut conflict = OnConflict::columns([R::ChannelId, R::Reason, R::Second]);
        conflict
            .value(
                R::Count,
                Expr::col((webhook_refusal::Entity, R::Count)).add(Expr::cust("excluded.count")),
            )
            .update_columns([
                R::LastAt,
                R::Source,
                R::ContentType,
                R::Size,
                R::Detail,
                R::Status,
            ]);
        webhook_refusal::Entity::insert(model)
            .on_conflict(conflict)
            .exec_without_returning(&txn)
            .await?;
    }
    for channel_id in channels {
        let newest = Query::select()
            .column(R::Id)
            .from(webhook_refusal::Entity)
            .and_where(Expr::col(R::ChannelId).eq(channel_id))
            .order_by(R::Id, sea_orm::Order::Desc)
            .limit(REFUSALS_KEPT)
            .to_owned();
        // a derived table: MySQL-style engines refuse LIMIT in IN, and SQLite/PostgreSQL take it
        let kept = Query::select()
            .column(R::Id)
            .from_subquery(newest, Alias::new("newest"))
            .to_owned();
        webhook_refusal::Entity::delete_many()
            .filter(R::ChannelId.eq(channel_id))
            .filter(R::Id.not_in_subquery(kept))
            .exec(&txn)
            .await?;
    }
    {
        use crate::db::entities::channel::{Column as C, Entity as Channel};
        for (channel_id, (at, reason)) in &newest {
            Channel::update_many()
                .col_expr(C::LastRefusedAt, Expr::value(*at))
                .col_expr(C::LastRefusedReason, Expr::value(reason.code()))
                .filter(C::Id.eq(*channel_id))
                // a refusal recorded late never hides a newer one
                .filter(
                    Condition::any()
                        .add(C::LastRefusedAt.is_null())
                        .add(C::LastRefusedAt.lt(*at)),
                )
                .exec(&txn)
                .await?;
        }
    }
    let ids: Vec<i64> = newest.keys().copied().collect();
    crate::db::health::refresh(&txn, &ids).await?;
    count(&txn, per_tenant.into_iter().map(|(t, n)| (t, 0, n))).await?;
    txn.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_weighs_at_least_its_body() {
        let d = Delivery {
            endpoint: "message",
            content_type: "application/json".into(),
            body: Bytes::from(vec![b'x'; 5000]),
            events: vec![],
            credential: None,
            signed_as: None,
        };
        assert!(d.weight() >= 5000);
    }
}
