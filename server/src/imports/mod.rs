//! Importing the exported spreadsheet back. An upload is stored as a task; the worker reads it
//! without trusting it (`sheet`, in a child process: `reader`), checks every row as a saved form would be checked and stores
//! the outcome of each (`check`, the dry run); Apply saves every change in one transaction, or
//! none (`apply`). The worker is the export worker's second loop (`worker`).

pub mod apply;
pub mod check;
pub mod held;
pub mod reader;
pub mod sheet;
pub mod worker;

use crate::db::audit;
use crate::db::channels::SqlChannels;
use crate::db::entities::{import_chunk, import_row, import_task};
use crate::db::{display_time, internal, is_unique_violation, now};
use app::domain::audit::{AuditAction, ObjectKind, created as created_fields};
use app::domain::import::{ImportStatus, PREVIEW_PAGE, RowCounts, RowOutcome, can_apply};
use app::model::{ImportRowView, ImportSummary, ImportView, PageAt, PageKey};
use app::ports::{Actor, AuditEvent, Imports, Recheck, RepoError, Upload};
use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;

/// How long an import's claim holds unless configured otherwise.
pub const DEFAULT_LEASE: std::time::Duration = held::LEASE;

/// Imports kept per tenant: starting one more drops the oldest (and its rows).
pub const KEPT: u64 = 20;

#[derive(Clone)]
pub struct SqlImports {
    pub(crate) db: DatabaseConnection,
    pub(crate) channels: SqlChannels,
    /// Wakes the worker when there is something to check or apply.
    pub wake: Arc<Notify>,
    /// The program that reads uploads in a child process (`switchboard read-import`).
    pub(crate) reader: PathBuf,
    /// How long a claim holds before another instance may take the import over.
    pub(crate) lease: std::time::Duration,
    pub(crate) metrics: crate::metrics::Metrics,
}

impl SqlImports {
    pub fn new(
        db: DatabaseConnection,
        channels: SqlChannels,
        wake: Arc<Notify>,
        reader: PathBuf,
    ) -> Self {
        Self {
            db,
            channels,
            wake,
            reader,
            lease: held::LEASE,
            metrics: crate::metrics::Metrics::off(),
        }
    }

    /// Counts its jobs in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Claims that last `lease` (a test's short one; `SWITCHBOARD_IMPORT_LEASE_SECS`).
    pub fn with_lease(mut self, lease: std::time::Duration) -> Self {
        // renewed every third of itself: a lease of nothing would renew without pause
        self.lease = lease.max(std::time::Duration::from_secs(1));
        self
    }
}

/// Another import of the tenant is being checked or applied.
fn busy_error(field: &'static str) -> RepoError {
    conflict(
        field,
        "Another import of this tenant space is being checked or applied: wait for it to finish.",
    )
}

fn conflict(field: &'static str, message: impl Into<String>) -> RepoError {
    RepoError::Conflict {
        field,
        message: message.into(),
    }
}

/// The name a file is shown by: its last path segment, without control characters, at most
/// 200 characters.
pub fn display_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "upload.xlsx".into()
    } else {
        clean
    }
}

fn summary(t: &import_task::Model) -> ImportSummary {
    let status = ImportStatus::parse(&t.status).unwrap_or(ImportStatus::Failed);
    ImportSummary {
        id: t.id,
        status,
        file_name: t.file_name.clone(),
        rows_read: t.rows_read,
        counts: RowCounts {
            unchanged: t.unchanged,
            changed: t.changed,
            errors: t.errors,
            unknown: t.unknown,
        },
        created: display_time(t.created_at),
        finished: t.finished_at.map(display_time),
        error: t.error.clone(),
    }
}

/// Every column of a task but the upload.
fn task_columns() -> sea_orm::Select<import_task::Entity> {
    use import_task::Column as T;
    import_task::Entity::find()
        .select_only()
        .columns([
            T::Id,
            T::TenantId,
            T::Status,
            T::FileName,
            T::RowsRead,
            T::Unchanged,
            T::Changed,
            T::Errors,
            T::Unknown,
            T::Error,
            T::AppliedBy,
            T::Attempts,
            T::ClaimedBy,
            T::ClaimedUntil,
            T::CreatedAt,
            T::FinishedAt,
        ])
        .column_as(Expr::val(Option::<Vec<u8>>::None), "file")
}

/// Drops a task's rows and then the task, 5,000 rows to a statement.
pub(crate) async fn delete_task(db: &DatabaseConnection, id: i64) -> Result<(), RepoError> {
    forget_upload(db, id)
        .await
        .map_err(internal("delete an old upload"))?;
    loop {
        let ids: Vec<i64> = import_row::Entity::find()
            .select_only()
            .column(import_row::Column::Id)
            .filter(import_row::Column::TaskId.eq(id))
            .limit(5_000)
            .into_tuple()
            .all(db)
            .await
            .map_err(internal("old import rows"))?;
        if ids.is_empty() {
            break;
        }
        import_row::Entity::delete_many()
            .filter(import_row::Column::Id.is_in(ids))
            .exec(db)
            .await
            .map_err(internal("delete old import rows"))?;
    }
    import_task::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map_err(internal("delete old import"))?;
    Ok(())
}

/// The status of a task whose upload is arriving: not listed, not claimed.
const RECEIVING: &str = "receiving";
/// The size of each stored piece of an upload.
pub const CHUNK: usize = 1024 * 1024;
/// An upload still arriving after this long was abandoned (its request ended without the
/// task being forgotten: the process stopped).
const ABANDONED: time::Duration = time::Duration::minutes(15);

/// A task whose upload is arriving: forgotten (with what arrived) unless it is started.
struct Receiving {
    db: DatabaseConnection,
    task: Option<i64>,
}

impl Drop for Receiving {
    fn drop(&mut self) {
        let Some(id) = self.task.take() else {
            return;
        };
        let db = self.db.clone();
        // also when the request is dropped half-way (the client went away)
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = delete_task(&db, id).await {
                    tracing::error!(?e, task_id = id, "forgetting an import whose upload failed");
                }
            });
        }
    }
}

/// Stores `upload` for task `id` in pieces of `CHUNK` bytes as it arrives (never more than a
/// piece in memory); answers its size. Refuses what is not a zip as soon as its first bytes
/// show it.
async fn store_upload(
    db: &DatabaseConnection,
    id: i64,
    mut upload: Upload,
) -> Result<usize, RepoError> {
    use futures::StreamExt;
    let mut piece: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut seq = 0i32;
    let mut size = 0usize;
    let store = async |data: Vec<u8>, seq: &mut i32| -> Result<(), RepoError> {
        import_chunk::ActiveModel {
            task_id: Set(id),
            seq: Set(*seq),
            data: Set(data),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(internal("store an upload's piece"))?;
        *seq += 1;
        Ok(())
    };
    while let Some(bytes) = upload.next().await {
        let bytes = bytes?;
        let seen = size;
        size += bytes.len();
        if seen < 4 && size >= 4 {
            let mut head = piece.clone();
            head.extend_from_slice(&bytes[..(4 - seen).min(bytes.len())]);
            if !head.starts_with(b"PK\x03\x04") {
                return Err(conflict(
                    "file",
                    sheet::SheetError::NotASpreadsheet.to_string(),
                ));
            }
        }
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let take = (CHUNK - piece.len()).min(rest.len());
            piece.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if piece.len() == CHUNK {
                let full = std::mem::replace(&mut piece, Vec::with_capacity(CHUNK));
                store(full, &mut seq).await?;
            }
        }
    }
    if size > 0 && size < 4 {
        return Err(conflict(
            "file",
            sheet::SheetError::NotASpreadsheet.to_string(),
        ));
    }
    if !piece.is_empty() {
        store(piece, &mut seq).await?;
    }
    Ok(size)
}

/// Tasks whose upload never finished arriving (their process stopped meanwhile), with what
/// had arrived.
async fn forget_abandoned_uploads(db: &DatabaseConnection) -> Result<(), RepoError> {
    let abandoned: Vec<i64> = import_task::Entity::find()
        .select_only()
        .column(import_task::Column::Id)
        .filter(import_task::Column::Status.eq(RECEIVING))
        .filter(import_task::Column::CreatedAt.lt(now() - ABANDONED))
        .limit(100)
        .into_tuple()
        .all(db)
        .await
        .map_err(internal("abandoned uploads"))?;
    for id in abandoned {
        delete_task(db, id).await?;
    }
    Ok(())
}

/// The upload of task `task`, piece by piece, read from the database one piece at a time.
pub(crate) fn stored_upload(
    db: DatabaseConnection,
    task: &import_task::Model,
) -> futures::stream::BoxStream<'static, Result<Vec<u8>, sea_orm::DbErr>> {
    use futures::StreamExt;
    if let Some(file) = task.file.clone() {
        // a task stored before uploads were kept in pieces
        return futures::stream::once(async move { Ok(file) }).boxed();
    }
    let id = task.id;
    futures::stream::unfold(Some(0i32), move |next| {
        let db = db.clone();
        async move {
            let seq = next?;
            let piece = import_chunk::Entity::find()
                .filter(import_chunk::Column::TaskId.eq(id))
                .filter(import_chunk::Column::Seq.eq(seq))
                .one(&db)
                .await;
            match piece {
                Ok(Some(p)) => Some((Ok(p.data), Some(seq + 1))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    })
    .boxed()
}

/// Drops what is left of an import's upload (read, or refused).
pub(crate) async fn forget_upload(db: &DatabaseConnection, id: i64) -> Result<(), sea_orm::DbErr> {
    import_chunk::Entity::delete_many()
        .filter(import_chunk::Column::TaskId.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

#[async_trait]
impl Imports for SqlImports {
    async fn start(
        &self,
        actor: &Actor,
        tenant_id: i64,
        file_name: &str,
        upload: Upload,
        still_signed_in: Recheck,
    ) -> Result<i64, RepoError> {
        let busy = import_task::Entity::find()
            .filter(import_task::Column::TenantId.eq(tenant_id))
            .filter(import_task::Column::Status.is_in([
                ImportStatus::Checking.as_str(),
                ImportStatus::Applying.as_str(),
            ]))
            .count(&self.db)
            .await
            .map_err(internal("running imports"))?;
        if busy > 0 {
            return Err(busy_error("file"));
        }
        forget_abandoned_uploads(&self.db).await?;
        // keep the newest KEPT - 1 and this one (a tenant has at most KEPT)
        let kept: Vec<i64> = import_task::Entity::find()
            .select_only()
            .column(import_task::Column::Id)
            .filter(import_task::Column::TenantId.eq(tenant_id))
            .order_by_desc(import_task::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(internal("old imports"))?;
        for id in kept.into_iter().skip(KEPT as usize - 1) {
            delete_task(&self.db, id).await?;
        }
        let name = display_name(file_name);
        // the task waits, unclaimed and unlisted, while its upload arrives
        let task = import_task::ActiveModel {
            tenant_id: Set(tenant_id),
            status: Set(RECEIVING.into()),
            file_name: Set(name.clone()),
            file: Set(None),
            rows_read: Set(0),
            unchanged: Set(0),
            changed: Set(0),
            errors: Set(0),
            unknown: Set(0),
            attempts: Set(0),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(internal("insert import task"))?;
        let mut receiving = Receiving {
            db: self.db.clone(),
            task: Some(task.id),
        };
        let arrived = async {
            let size = store_upload(&self.db, task.id, upload).await?;
            if size == 0 {
                return Err(conflict("file", "Choose the .xlsx or .zip file to import."));
            }
            still_signed_in.await?;
            Ok(size)
        };
        let size = match arrived.await {
            Ok(size) => size,
            Err(e) => {
                // forgotten before the answer (the guard does it only for a dropped request)
                receiving.task = None;
                delete_task(&self.db, task.id).await?;
                return Err(e);
            }
        };
        let txn = self.db.begin().await.map_err(internal("begin import"))?;
        // only now can a worker claim it; two uploads at once: the index of running imports
        // lets one in
        let ready = import_task::Entity::update_many()
            .col_expr(
                import_task::Column::Status,
                Expr::value(ImportStatus::Checking.as_str()),
            )
            .filter(import_task::Column::Id.eq(task.id))
            .filter(import_task::Column::Status.eq(RECEIVING))
            .exec(&txn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    busy_error("file")
                } else {
                    internal("start import")(e)
                }
            })?;
        if ready.rows_affected == 0 {
            return Err(RepoError::Internal);
        }
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::ImportStarted,
                Some(tenant_id),
                ObjectKind::Import,
                Some(task.id),
                format!("Import {} ({name})", task.id),
            )
            .with(created_fields(&[
                ("File", name.clone()),
                ("Size", format!("{size} bytes")),
            ])),
        )
        .await?;
        txn.commit().await.map_err(internal("commit import"))?;
        receiving.task = None;
        self.metrics.job_started("import_check");
        self.wake.notify_one();
        crate::jobs::announce(&self.db, crate::jobs::IMPORTS_CHANNEL).await;
        Ok(task.id)
    }

    async fn list(&self, tenant_id: i64) -> Result<Vec<ImportSummary>, RepoError> {
        Ok(task_columns()
            .filter(import_task::Column::TenantId.eq(tenant_id))
            .filter(import_task::Column::Status.ne(RECEIVING))
            .order_by_desc(import_task::Column::Id)
            .limit(KEPT)
            .all(&self.db)
            .await
            .map_err(internal("list imports"))?
            .iter()
            .map(summary)
            .collect())
    }

    async fn view(
        &self,
        tenant_id: i64,
        id: i64,
        outcome: Option<RowOutcome>,
        at: &PageAt,
    ) -> Result<ImportView, RepoError> {
        let task = task_columns()
            .filter(import_task::Column::Id.eq(id))
            .filter(import_task::Column::TenantId.eq(tenant_id))
            .filter(import_task::Column::Status.ne(RECEIVING))
            .one(&self.db)
            .await
            .map_err(internal("find import"))?
            .ok_or(RepoError::NotFound)?;
        let summary = summary(&task);
        let total = match outcome {
            Some(o) => summary.counts.of(o),
            None => task.rows_read,
        };
        type Row = (
            i64,
            Option<String>,
            i64,
            String,
            Option<i64>,
            String,
            String,
        );
        // the page is found from a row's place in the file (its seq) on the task's index, never
        // by skipping rows
        let fetch = |from: Option<i64>, forwards: bool, limit: u64| {
            let mut q = import_row::Entity::find()
                .select_only()
                .columns([
                    import_row::Column::Seq,
                    import_row::Column::File,
                    import_row::Column::RowNumber,
                    import_row::Column::ChannelName,
                    import_row::Column::ChannelId,
                    import_row::Column::Outcome,
                    import_row::Column::Details,
                ])
                .filter(import_row::Column::TaskId.eq(id));
            if let Some(o) = outcome {
                q = q.filter(import_row::Column::Outcome.eq(o.as_str()));
            }
            if let Some(seq) = from {
                q = q.filter(if forwards {
                    import_row::Column::Seq.gt(seq)
                } else {
                    import_row::Column::Seq.lt(seq)
                });
            }
            let q = if forwards {
                q.order_by_asc(import_row::Column::Seq)
            } else {
                q.order_by_desc(import_row::Column::Seq)
            };
            let db = self.db.clone();
            async move {
                q.limit(limit)
                    .into_tuple::<Row>()
                    .all(&db)
                    .await
                    .map_err(internal("import rows"))
            }
        };
        let per = PREVIEW_PAGE as usize;
        let seq_of = |k: &PageKey| k.0.strip_prefix("r:").and_then(|s| s.parse::<i64>().ok());
        let from = match at {
            PageAt::After(k) => seq_of(k).map(|s| (s, true)),
            PageAt::Before(k) => seq_of(k).map(|s| (s, false)),
            PageAt::First | PageAt::Last => None,
        };
        let mut rows: Vec<Row> = match from {
            Some((seq, forwards)) => fetch(Some(seq), forwards, PREVIEW_PAGE + 1).await?,
            None => Vec::new(),
        };
        // from either end: asked for, or nothing is left beyond the row named
        let (forwards, at_end) = match (from, rows.is_empty()) {
            (Some((_, forwards)), false) => (forwards, false),
            (Some((_, forwards)), true) => (!forwards, true),
            (None, _) => (!matches!(at, PageAt::Last), true),
        };
        if at_end {
            rows = fetch(None, forwards, PREVIEW_PAGE + 1).await?;
        }
        let more = rows.len() > per;
        rows.truncate(per);
        if !forwards {
            rows.reverse();
        }
        let beyond = |seq: i64, forwards: bool| {
            let fetch = &fetch;
            async move { Ok::<bool, RepoError>(!fetch(Some(seq), forwards, 1).await?.is_empty()) }
        };
        let (has_previous, has_next) = match (rows.first(), rows.last()) {
            (Some(first), Some(_)) if forwards => (!at_end && beyond(first.0, false).await?, more),
            (Some(_), Some(last)) => (more, !at_end && beyond(last.0, true).await?),
            _ => (false, false),
        };
        let key = |r: &Row| PageKey(format!("r:{}", r.0));
        let (first, last) = (rows.first().map(key), rows.last().map(key));
        let rows = rows
            .into_iter()
            .map(
                |(seq, file, row, channel_name, channel_id, outcome, details)| {
                    let outcome = RowOutcome::parse(&outcome).unwrap_or(RowOutcome::Error);
                    let (changes, errors) = match outcome {
                        RowOutcome::Changed => {
                            (serde_json::from_str(&details).unwrap_or_default(), vec![])
                        }
                        RowOutcome::Error => {
                            (vec![], serde_json::from_str(&details).unwrap_or_default())
                        }
                        _ => (vec![], vec![]),
                    };
                    ImportRowView {
                        seq,
                        file,
                        row,
                        channel_name,
                        channel_id,
                        outcome,
                        changes,
                        errors,
                    }
                },
            )
            .collect();
        Ok(ImportView {
            summary,
            outcome,
            rows,
            total,
            first,
            last,
            has_previous,
            has_next,
        })
    }

    async fn apply(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        let task = task_columns()
            .filter(import_task::Column::Id.eq(id))
            .filter(import_task::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("find import"))?
            .ok_or(RepoError::NotFound)?;
        let s = summary(&task);
        can_apply(s.status, &s.counts).map_err(|m| conflict("form", m))?;
        let who = serde_json::to_string(actor).map_err(|e| {
            tracing::error!(error = %e, "encoding the actor of an import");
            RepoError::Internal
        })?;
        // only a checked task turns into an applying one, once
        let result = import_task::Entity::update_many()
            .col_expr(
                import_task::Column::Status,
                Expr::value(ImportStatus::Applying.as_str()),
            )
            .col_expr(import_task::Column::AppliedBy, Expr::value(who))
            .col_expr(import_task::Column::Attempts, Expr::value(0))
            .col_expr(
                import_task::Column::ClaimedUntil,
                Expr::value(Option::<time::OffsetDateTime>::None),
            )
            .filter(import_task::Column::Id.eq(id))
            .filter(import_task::Column::TenantId.eq(tenant_id))
            .filter(import_task::Column::Status.eq(ImportStatus::Checked.as_str()))
            .exec(&self.db)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    busy_error("form")
                } else {
                    internal("request apply")(e)
                }
            })?;
        if result.rows_affected == 0 {
            return Err(conflict("form", "This import is being applied already."));
        }
        self.metrics.job_started("import_apply");
        self.wake.notify_one();
        crate::jobs::announce(&self.db, crate::jobs::IMPORTS_CHANNEL).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_are_shown_without_paths_or_control_characters() {
        assert_eq!(
            super::display_name("C:\\Users\\a\\channels.xlsx"),
            "channels.xlsx"
        );
        assert_eq!(super::display_name("../../x\u{0}y.zip"), "xy.zip");
        assert_eq!(super::display_name(""), "upload.xlsx");
        assert_eq!(super::display_name(&"a".repeat(500)).len(), 200);
    }
}
