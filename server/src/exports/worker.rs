//! The export worker: claims running tasks with a lease and writes their files. A task whose
//! instance died is claimed again when its lease runs out; after three attempts it fails with
//! that reason instead of looping.

use super::writer::{self, ZipBuilder};
use super::{MAX_RECORDS, PER_FILE, group};
use crate::db::channel_fields::{Names, row};
use crate::db::entities::{channel, export_task};
use crate::db::now;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How long a claim holds before another instance may take the task over; renewed after
/// every file, so only a task whose instance stopped runs out of it.
/// `SWITCHBOARD_EXPORT_LEASE_SECS` changes it.
pub const LEASE: Duration = Duration::from_secs(60);

fn lease() -> Duration {
    std::env::var("SWITCHBOARD_EXPORT_LEASE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
        .unwrap_or(LEASE)
}
pub const MAX_ATTEMPTS: i32 = 3;
const POLL: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("task: {0}")]
    Join(String),
    #[error("another instance took the task over")]
    Lost,
}

/// The running worker of this instance; dropping it stops the worker too.
#[must_use = "the worker stops when its handle is dropped"]
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    done: Vec<tokio::task::JoinHandle<()>>,
}

impl WorkerHandle {
    /// Stops the worker: a task it is running is interrupted and its claim released, so
    /// another instance takes it over at once (not after the lease runs out).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for done in self.done {
            let _ = done.await;
        }
    }

    /// Another loop that stops with this one (the import worker).
    pub fn also(
        mut self,
        spawn: impl FnOnce(watch::Receiver<bool>) -> tokio::task::JoinHandle<()>,
    ) -> Self {
        self.done.push(spawn(self.stop.subscribe()));
        self
    }
}

/// A kind of background task that instances claim with a lease: exports, imports.
#[async_trait::async_trait]
pub trait Jobs: Send + Sync + 'static {
    /// For logs: "an export task", "an import".
    const WHAT: &'static str;
    /// Wakes the loop when a task is created.
    fn wake(&self) -> Arc<Notify>;
    async fn claim(&self, instance: &str) -> Result<Option<i64>, DbErr>;
    async fn run(&self, id: i64, instance: &str);
    /// Gives a claimed task back (this instance is stopping).
    async fn release(&self, id: i64, instance: &str);
}

/// An id for this instance's claims.
fn instance_name() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        &crate::crypto::random_token()[..8]
    )
}

/// Claims and runs `jobs` until `stopped`, waking on their notifier or every two seconds; a
/// task running when it stops is given back.
pub fn run_jobs<J: Jobs>(
    jobs: J,
    mut stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let instance = instance_name();
    let wake = jobs.wake();
    tokio::spawn(async move {
        while !*stopped.borrow() {
            match jobs.claim(&instance).await {
                Ok(Some(task)) => {
                    tokio::select! {
                        () = jobs.run(task, &instance) => {}
                        // stopped, or the handle dropped
                        _ = stopped.changed() => {
                            jobs.release(task, &instance).await;
                            break;
                        }
                    }
                }
                Ok(None) => {
                    tokio::select! {
                        _ = tokio::time::timeout(POLL, wake.notified()) => {}
                        _ = stopped.changed() => break,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "claiming {}", J::WHAT);
                    tokio::select! {
                        () = tokio::time::sleep(POLL) => {}
                        _ = stopped.changed() => break,
                    }
                }
            }
        }
    })
}

/// The export tasks of one database.
struct ExportJobs {
    db: DatabaseConnection,
    wake: Arc<Notify>,
}

#[async_trait::async_trait]
impl Jobs for ExportJobs {
    const WHAT: &'static str = "an export task";
    fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }
    async fn claim(&self, instance: &str) -> Result<Option<i64>, DbErr> {
        claim(&self.db, instance).await
    }
    async fn run(&self, id: i64, instance: &str) {
        run(&self.db, id, instance).await
    }
    async fn release(&self, id: i64, instance: &str) {
        release(&self.db, id, instance).await
    }
}

/// Claims and runs export tasks until stopped, waking on `wake` or every two seconds.
pub fn spawn(db: DatabaseConnection, wake: Arc<Notify>) -> WorkerHandle {
    let (stop, stopped) = watch::channel(false);
    let done = run_jobs(ExportJobs { db, wake }, stopped);
    WorkerHandle {
        stop,
        done: vec![done],
    }
}

/// Gives a claimed task back (this instance is stopping): it becomes claimable at once, and
/// the interrupted attempt does not count.
pub async fn release(db: &DatabaseConnection, id: i64, instance: &str) {
    let result = export_task::Entity::update_many()
        .col_expr(
            export_task::Column::ClaimedUntil,
            Expr::value(Option::<time::OffsetDateTime>::None),
        )
        .col_expr(
            export_task::Column::ClaimedBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            export_task::Column::Attempts,
            Expr::col(export_task::Column::Attempts).sub(1),
        )
        .filter(export_task::Column::Id.eq(id))
        .filter(export_task::Column::ClaimedBy.eq(instance))
        .filter(export_task::Column::Status.eq("running"))
        .exec(db)
        .await;
    match result {
        Ok(_) => tracing::info!(task_id = id, "export released for another instance"),
        Err(e) => tracing::error!(error = %e, task_id = id, "releasing an export"),
    }
}

/// Takes one running task whose lease is free (or expired).
pub async fn claim(db: &DatabaseConnection, instance: &str) -> Result<Option<i64>, DbErr> {
    claim_in(db, "export_tasks", "'running'", instance, lease()).await
}

/// Takes the oldest row of `table` (a constant) whose status is one of `statuses` (a constant
/// SQL list) and whose lease is free or expired, for `lease`. Safe with several instances:
/// PostgreSQL skips rows another transaction holds; SQLite runs the statement alone.
pub(crate) async fn claim_in(
    db: &DatabaseConnection,
    table: &'static str,
    statuses: &'static str,
    instance: &str,
    lease: Duration,
) -> Result<Option<i64>, DbErr> {
    let backend = db.get_database_backend();
    let t = now();
    let until = t + lease;
    let (p1, p2, p3, lock) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2", "$3", " FOR UPDATE SKIP LOCKED"),
        _ => ("?", "?", "?", ""),
    };
    let sql = format!(
        "UPDATE {table} SET claimed_by = {p1}, claimed_until = {p2}, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM {table} WHERE status IN ({statuses}) \
         AND (claimed_until IS NULL OR claimed_until < {p3}) ORDER BY id LIMIT 1{lock}) \
         RETURNING id"
    );
    let row = db
        .query_one(Statement::from_sql_and_values(
            backend,
            sql,
            [instance.into(), until.into(), t.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<i64>("", "id")).transpose()
}

async fn finish_failed(db: &DatabaseConnection, id: i64, reason: &str) {
    let result = export_task::Entity::update_many()
        .col_expr(export_task::Column::Status, Expr::value("failed"))
        .col_expr(export_task::Column::Error, Expr::value(reason))
        .col_expr(export_task::Column::FinishedAt, Expr::value(now()))
        .col_expr(
            export_task::Column::ClaimedUntil,
            Expr::value(Option::<time::OffsetDateTime>::None),
        )
        .filter(export_task::Column::Id.eq(id))
        .exec(db)
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, task_id = id, "marking an export failed");
    }
}

/// Runs one claimed task to Success or Failed.
pub async fn run(db: &DatabaseConnection, id: i64, instance: &str) {
    run_limited(db, id, instance, MAX_RECORDS).await
}

/// `run`, with the most records an export may have (checked again now: channels may have been
/// added since the task was started).
pub async fn run_limited(db: &DatabaseConnection, id: i64, instance: &str, max_records: u64) {
    let task = match export_task::Entity::find_by_id(id).one(db).await {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "loading an export task");
            return;
        }
    };
    if task.attempts > MAX_ATTEMPTS {
        finish_failed(
            db,
            id,
            &format!("The export was interrupted {MAX_ATTEMPTS} times (the server stopped while it ran). Start it again."),
        )
        .await;
        return;
    }
    if task.channel_ids.is_none() {
        match channel::Entity::find()
            .filter(channel::Column::TenantId.eq(task.tenant_id))
            .count(db)
            .await
        {
            Ok(n) if n > max_records => {
                finish_failed(
                    db,
                    id,
                    &format!(
                        "The tenant has {} channels now, more than the {} an export may hold. Select fewer channels.",
                        group(n),
                        group(max_records)
                    ),
                )
                .await;
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, task_id = id, "counting channels for an export");
                return;
            }
        }
    }
    let started = std::time::Instant::now();
    match write(db, &task, instance).await {
        Ok((bytes, records, files)) => {
            let single = files <= 1;
            let stamp = now();
            let name = format!(
                "channels-{:04}{:02}{:02}-{:02}{:02}.{}",
                stamp.year(),
                u8::from(stamp.month()),
                stamp.day(),
                stamp.hour(),
                stamp.minute(),
                if single { "xlsx" } else { "zip" }
            );
            let content_type = if single { writer::XLSX } else { writer::ZIP };
            let result = export_task::Entity::update_many()
                .col_expr(export_task::Column::Status, Expr::value("success"))
                .col_expr(export_task::Column::Artifact, Expr::value(bytes))
                .col_expr(
                    export_task::Column::RecordCount,
                    Expr::value(records as i64),
                )
                .col_expr(export_task::Column::FileCount, Expr::value(files as i64))
                .col_expr(export_task::Column::FileName, Expr::value(name))
                .col_expr(export_task::Column::ContentType, Expr::value(content_type))
                .col_expr(export_task::Column::FinishedAt, Expr::value(now()))
                .col_expr(
                    export_task::Column::ClaimedUntil,
                    Expr::value(Option::<time::OffsetDateTime>::None),
                )
                .filter(export_task::Column::Id.eq(id))
                .filter(export_task::Column::Status.eq("running"))
                .filter(export_task::Column::ClaimedBy.eq(instance))
                .exec(db)
                .await;
            match result {
                Ok(_) => tracing::info!(
                    task_id = id,
                    records,
                    files,
                    ms = started.elapsed().as_millis() as u64,
                    "export finished"
                ),
                Err(e) => tracing::error!(error = %e, task_id = id, "saving an export"),
            }
        }
        Err(RunError::Lost) => {
            tracing::warn!(task_id = id, "export taken over by another instance");
        }
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "export failed");
            finish_failed(
                db,
                id,
                "The export could not be written. Try again; if it fails again, contact support.",
            )
            .await;
        }
    }
}

/// The columns an export reads: everything but the sealed secrets.
fn select(tenant_id: i64) -> sea_orm::Select<channel::Entity> {
    use channel::Column as C;
    channel::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::TenantId,
            C::Uid,
            C::WebhookKey,
            C::Name,
            C::NameKey,
            C::ChannelType,
            C::Provider,
            C::VerificationMethod,
            C::PhoneNumber,
            C::Username,
            C::BaseUrl,
            C::AppKey,
            C::TokenValidUntil,
            C::ApiKeySid,
            C::AccountSid,
            C::WebhookUser,
            C::AuthCertificateId,
            C::TrustCertificateId,
            C::IdentityCertificateId,
            C::OuId,
            C::SkillQueueId,
            C::Keywords,
            C::Workday,
            C::NonWorkday,
            C::NonWorkingNotification,
            C::LastAgentDays,
            C::NoReplyMinutes,
            C::NoReplyMessage,
            C::NoAgentSeconds,
            C::NoAgentQueueId,
            C::SessionTransfer,
            C::OfflinePrompt,
            C::OfflineLimitMinutes,
            C::RobotAccessCode,
            C::RobotAssistant,
            C::VerificationCode,
            C::ScenarioKey,
            C::Version,
            C::CreatedAt,
            C::UpdatedAt,
            C::Health,
        ])
        // the secret columns are read as NULL: they never leave the database for an export
        .column_as(Expr::val(Option::<Vec<u8>>::None), "password_enc")
        .column_as(Expr::val(Option::<Vec<u8>>::None), "account_key_enc")
        .column_as(Expr::val(Option::<Vec<u8>>::None), "authentication_key_enc")
        .column_as(Expr::val(Option::<Vec<u8>>::None), "webhook_password_enc")
        .column_as(Expr::val(Option::<Vec<u8>>::None), "app_secret_enc")
        .column_as(Expr::val(Option::<Vec<u8>>::None), "access_token_enc")
        .column_as(Expr::val(Option::<Vec<u8>>::None), "api_key_secret_enc")
        .filter(C::TenantId.eq(tenant_id))
}

/// Writes the task's files: `(bytes, records, files)`. Only one file's rows are in memory
/// at a time.
async fn write(
    db: &DatabaseConnection,
    task: &export_task::Model,
    instance: &str,
) -> Result<(Vec<u8>, usize, usize), RunError> {
    let t = task.tenant_id;
    let names = Names::of_tenant(db, t).await?;
    let selected: Option<Vec<i64>> = task
        .channel_ids
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());

    // the first file waits: only a second one makes the export a zip
    let mut first: Option<Vec<u8>> = None;
    let mut zip: Option<ZipBuilder> = None;
    let mut records = 0usize;
    let mut last_id = 0i64;
    let mut chunk_index = 0usize;
    let mut written = 0usize;
    loop {
        let batch: Vec<channel::Model> = match &selected {
            None => {
                select(t)
                    .filter(channel::Column::Id.gt(last_id))
                    .order_by_asc(channel::Column::Id)
                    .limit(PER_FILE as u64)
                    .all(db)
                    .await?
            }
            Some(ids) => {
                let Some(chunk) = ids.chunks(PER_FILE).nth(chunk_index) else {
                    break;
                };
                chunk_index += 1;
                select(t)
                    .filter(channel::Column::Id.is_in(chunk.to_vec()))
                    .order_by_asc(channel::Column::Id)
                    .all(db)
                    .await?
            }
        };
        if batch.is_empty() {
            if selected.is_some() {
                continue;
            }
            break;
        }
        last_id = batch.last().map(|c| c.id).unwrap_or(last_id);
        records += batch.len();
        let rows: Vec<Vec<String>> = batch.iter().map(|c| row(c, &names)).collect();
        drop(batch);
        let bytes = tokio::task::spawn_blocking(move || writer::xlsx(&rows))
            .await
            .map_err(|e| RunError::Join(e.to_string()))??;
        written += 1;
        // keep the claim: renew the lease, and stop if another instance has taken over
        let renewed = export_task::Entity::update_many()
            .col_expr(
                export_task::Column::ClaimedUntil,
                Expr::value(now() + lease()),
            )
            .filter(export_task::Column::Id.eq(task.id))
            .filter(export_task::Column::ClaimedBy.eq(instance))
            .filter(export_task::Column::Status.eq("running"))
            .exec(db)
            .await?;
        if renewed.rows_affected == 0 {
            return Err(RunError::Lost);
        }
        match (zip.as_mut(), first.take()) {
            (Some(z), _) => z.add(&bytes)?,
            (None, None) => first = Some(bytes),
            (None, Some(earlier)) => {
                let mut z = ZipBuilder::new();
                z.add(&earlier)?;
                z.add(&bytes)?;
                zip = Some(z);
            }
        }
        if selected.is_none() && !records.is_multiple_of(PER_FILE) {
            break;
        }
    }
    match zip {
        Some(z) => Ok((z.finish()?, records, written)),
        None => {
            let bytes = match first {
                Some(b) => b,
                None => writer::xlsx(&[])?,
            };
            Ok((bytes, records, 1))
        }
    }
}
