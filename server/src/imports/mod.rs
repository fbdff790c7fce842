//! Importing the exported spreadsheet back. An upload is stored as a task; the worker reads it
//! without trusting it (`sheet`), checks every row as a saved form would be checked and stores
//! the outcome of each (`check`, the dry run); Apply saves every change in one transaction, or
//! none (`apply`). The worker is the export worker's second loop (`worker`).

pub mod apply;
pub mod check;
pub mod sheet;
pub mod worker;

use crate::db::audit;
use crate::db::channels::SqlChannels;
use crate::db::entities::{import_row, import_task};
use crate::db::{display_time, internal, is_unique_violation, now};
use app::domain::audit::{AuditAction, ObjectKind, created as created_fields};
use app::domain::import::{ImportStatus, PREVIEW_PAGE, RowCounts, RowOutcome, can_apply};
use app::model::{ImportRowView, ImportSummary, ImportView};
use app::ports::{Actor, AuditEvent, Imports, RepoError};
use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::sync::Arc;
use tokio::sync::Notify;

/// Imports kept per tenant: starting one more drops the oldest (and its rows).
pub const KEPT: u64 = 20;

#[derive(Clone)]
pub struct SqlImports {
    pub(crate) db: DatabaseConnection,
    pub(crate) channels: SqlChannels,
    /// Wakes the worker when there is something to check or apply.
    pub wake: Arc<Notify>,
}

impl SqlImports {
    pub fn new(db: DatabaseConnection, channels: SqlChannels, wake: Arc<Notify>) -> Self {
        Self { db, channels, wake }
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

#[async_trait]
impl Imports for SqlImports {
    async fn start(
        &self,
        actor: &Actor,
        tenant_id: i64,
        file_name: &str,
        file: Vec<u8>,
    ) -> Result<i64, RepoError> {
        if file.is_empty() {
            return Err(conflict("file", "Choose the .xlsx or .zip file to import."));
        }
        if file.len() > sheet::MAX_FILE_BYTES {
            return Err(conflict("file", sheet::SheetError::TooLarge.to_string()));
        }
        if !file.starts_with(b"PK\x03\x04") {
            return Err(conflict(
                "file",
                sheet::SheetError::NotASpreadsheet.to_string(),
            ));
        }
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
        let size = file.len();
        let txn = self.db.begin().await.map_err(internal("begin import"))?;
        let task = import_task::ActiveModel {
            tenant_id: Set(tenant_id),
            status: Set(ImportStatus::Checking.as_str().into()),
            file_name: Set(name.clone()),
            file: Set(Some(file)),
            rows_read: Set(0),
            unchanged: Set(0),
            changed: Set(0),
            errors: Set(0),
            unknown: Set(0),
            attempts: Set(0),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        // two uploads at once: the index of running imports lets one in
        .map_err(|e| {
            if is_unique_violation(&e) {
                busy_error("file")
            } else {
                internal("insert import task")(e)
            }
        })?;
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
        self.wake.notify_one();
        Ok(task.id)
    }

    async fn list(&self, tenant_id: i64) -> Result<Vec<ImportSummary>, RepoError> {
        Ok(task_columns()
            .filter(import_task::Column::TenantId.eq(tenant_id))
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
        page: u64,
    ) -> Result<ImportView, RepoError> {
        let task = task_columns()
            .filter(import_task::Column::Id.eq(id))
            .filter(import_task::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("find import"))?
            .ok_or(RepoError::NotFound)?;
        let summary = summary(&task);
        let total = match outcome {
            Some(o) => summary.counts.of(o),
            None => task.rows_read,
        };
        let last_page = (total.max(1) as u64).div_ceil(PREVIEW_PAGE).max(1);
        let page = page.clamp(1, last_page);
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
        type Row = (
            i64,
            Option<String>,
            i64,
            String,
            Option<i64>,
            String,
            String,
        );
        let rows: Vec<Row> = q
            .order_by_asc(import_row::Column::Seq)
            .offset((page - 1) * PREVIEW_PAGE)
            .limit(PREVIEW_PAGE)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(internal("import rows"))?;
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
            page,
            total,
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
        self.wake.notify_one();
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
