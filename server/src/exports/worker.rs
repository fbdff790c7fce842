//! The export worker: claims running tasks with a lease and writes their files. A task whose
//! instance died is claimed again when its lease runs out; after three attempts it fails with
//! that reason instead of looping.

use super::writer::{self, ZipBuilder};
use super::{MAX_RECORDS, PER_FILE, group};
use crate::db::channel_fields::{Names, row};
use crate::db::entities::{channel, export_task};
use crate::db::now;
use crate::jobs::{Jobs, Outcome, claim_in};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub const MAX_ATTEMPTS: i32 = 3;

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

/// The export tasks of one database, as the job runner sees them.
pub struct ExportJobs {
    pub db: DatabaseConnection,
    pub wake: Arc<Notify>,
    pub lease: Duration,
    pub metrics: crate::metrics::Metrics,
}

#[async_trait::async_trait]
impl Jobs for ExportJobs {
    const WHAT: &'static str = "an export task";
    fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }
    async fn claim(&self, instance: &str) -> Result<Option<i64>, DbErr> {
        claim(&self.db, instance, self.lease).await
    }
    async fn run(&self, id: i64, instance: &str) {
        let started = std::time::Instant::now();
        let outcome = run(&self.db, id, instance, self.lease).await;
        if let Some(label) = outcome.label() {
            self.metrics
                .job_finished("export", label, started.elapsed());
        }
    }
    async fn release(&self, id: i64, instance: &str) {
        release(&self.db, id, instance).await
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

/// Takes one running task whose lease is free (or expired), for `lease`.
pub async fn claim(
    db: &DatabaseConnection,
    instance: &str,
    lease: Duration,
) -> Result<Option<i64>, DbErr> {
    claim_in(db, "export_tasks", "'running'", instance, lease).await
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
pub async fn run(db: &DatabaseConnection, id: i64, instance: &str, lease: Duration) -> Outcome {
    run_limited(db, id, instance, lease, MAX_RECORDS).await
}

/// `run`, with the most records an export may have (checked again now: channels may have been
/// added since the task was started).
pub async fn run_limited(
    db: &DatabaseConnection,
    id: i64,
    instance: &str,
    lease: Duration,
    max_records: u64,
) -> Outcome {
    let task = match export_task::Entity::find_by_id(id).one(db).await {
        Ok(Some(t)) => t,
        Ok(None) => return Outcome::Gone,
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "loading an export task");
            return Outcome::Interrupted;
        }
    };
    if task.attempts > MAX_ATTEMPTS {
        finish_failed(
            db,
            id,
            &format!("The export was interrupted {MAX_ATTEMPTS} times (the server stopped while it ran). Start it again."),
        )
        .await;
        return Outcome::Failed;
    }
    if task.channel_ids.is_none() {
        match crate::db::tallies::of(db, task.tenant_id)
            .await
            .map(|t| t.count("", false))
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
                return Outcome::Failed;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, task_id = id, "counting channels for an export");
                return Outcome::Interrupted;
            }
        }
    }
    let started = std::time::Instant::now();
    match write(db, &task, instance, lease).await {
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
            Outcome::Succeeded
        }
        Err(RunError::Lost) => {
            tracing::warn!(task_id = id, "export taken over by another instance");
            Outcome::Lost
        }
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "export failed");
            finish_failed(
                db,
                id,
                "The export could not be written. Try again; if it fails again, contact support.",
            )
            .await;
            Outcome::Failed
        }
    }
}

/// The columns an export reads (everything but the sealed secrets) of the tenant's channels.
fn select(tenant_id: i64) -> sea_orm::Select<channel::Entity> {
    columns().filter(channel::Column::TenantId.eq(tenant_id))
}

/// The channels `ids` of the tenant space (see `of_tenant_by_id`).
fn select_ids(tenant_id: i64, ids: &[i64]) -> sea_orm::Select<channel::Entity> {
    columns().filter(super::of_tenant_by_id(tenant_id, ids))
}

/// The columns an export reads: everything but the sealed secrets.
fn columns() -> sea_orm::Select<channel::Entity> {
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
        .column_as(Expr::val(Option::<Vec<u8>>::None), "previous_secret_enc")
        .column_as(Expr::val(Option::<Vec<u8>>::None), "auth_token_enc")
}

/// Writes the task's files: `(bytes, records, files)`. Only one file's rows are in memory
/// at a time.
async fn write(
    db: &DatabaseConnection,
    task: &export_task::Model,
    instance: &str,
    lease: Duration,
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
                select_ids(t, chunk)
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
                Expr::value(now() + lease),
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
