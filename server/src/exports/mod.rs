//! Export tasks: created by a server function, run in the background by a worker on any
//! instance (claimed with a lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL), written as `.xlsx`
//! (≤ 2,000 records) or a `.zip` of numbered `.xlsx` files, stored in the database, and served
//! by a plain download route.

pub mod download;
pub mod worker;
pub mod writer;

use crate::db::audit;
use crate::db::entities::{channel, export_task};
use crate::db::{display_time, internal, now};
use app::domain::audit::{AuditAction, ObjectKind, created as created_fields};
use app::model::{ExportStatus, ExportTask};
use app::ports::{Actor, AuditEvent, Exports, RepoError};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::sync::Arc;
use tokio::sync::Notify;

/// At most this many records in one export.
pub const MAX_RECORDS: u64 = 100_000;
/// At most this many records in one file.
pub const PER_FILE: usize = 2_000;
/// At most this many channels may be selected for one export (all channels: no list at all).
pub const MAX_SELECTED: usize = 10_000;

#[derive(Clone)]
pub struct SqlExports {
    db: DatabaseConnection,
    /// Wakes this instance's worker when a task is created.
    pub wake: Arc<Notify>,
    max_records: u64,
    metrics: crate::metrics::Metrics,
}

impl SqlExports {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            wake: Arc::new(Notify::new()),
            max_records: MAX_RECORDS,
            metrics: crate::metrics::Metrics::off(),
        }
    }

    /// Counts the exports it starts in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }
}

/// The channels `ids` if they are the tenant's, found by their primary key: the tenant is
/// checked on each row (`+` keeps SQLite, which has no statistics, from walking the whole
/// tenant space on a tenant index instead: 0.2 s per 5,000 ids at 1,000,000 channels).
pub(crate) fn of_tenant_by_id(tenant_id: i64, ids: &[i64]) -> sea_orm::Condition {
    sea_orm::Condition::all()
        // an integer, written in: no value of a caller's reaches this SQL
        .add(sea_orm::sea_query::Expr::cust(format!(
            "+\"channels\".\"tenant_id\" = {tenant_id}"
        )))
        .add(channel::Column::Id.is_in(ids.iter().copied()))
}

pub(crate) fn status_of(s: &str) -> ExportStatus {
    match s {
        "success" => ExportStatus::Success,
        "failed" => ExportStatus::Failed,
        _ => ExportStatus::Running,
    }
}

#[async_trait]
impl Exports for SqlExports {
    async fn start(
        &self,
        actor: &Actor,
        tenant_id: i64,
        ids: Option<Vec<i64>>,
    ) -> Result<i64, RepoError> {
        if ids.as_ref().is_some_and(|l| l.len() > MAX_SELECTED) {
            return Err(RepoError::Conflict {
                field: "form",
                message: format!(
                    "At most {} channels can be selected for one export. Select fewer, or none to export all of them.",
                    group(MAX_SELECTED as u64)
                ),
            });
        }
        let mut ids = ids;
        if let Some(list) = ids.as_mut() {
            list.sort_unstable();
            list.dedup();
        }
        let count = match &ids {
            None => crate::db::tallies::of(&self.db, tenant_id)
                .await
                .map_err(internal("count channels for export"))?
                .count("", false),
            Some(list) => {
                let mut n = 0;
                for chunk in list.chunks(PER_FILE) {
                    n += channel::Entity::find()
                        .filter(of_tenant_by_id(tenant_id, chunk))
                        .count(&self.db)
                        .await
                        .map_err(internal("count selected channels"))?;
                }
                n
            }
        };
        if count == 0 {
            return Err(RepoError::Conflict {
                field: "form",
                message: "There is no channel to export.".into(),
            });
        }
        if count > self.max_records {
            return Err(RepoError::Conflict {
                field: "form",
                message: format!(
                    "At most {} channels can be exported at a time; this export has {count}. Select fewer channels.",
                    group(self.max_records)
                ),
            });
        }
        let all = ids.is_none();
        let txn = self.db.begin().await.map_err(internal("begin export"))?;
        let task = export_task::ActiveModel {
            tenant_id: Set(tenant_id),
            status: Set("running".into()),
            channel_ids: Set(ids.map(|l| serde_json::to_string(&l).unwrap_or_default())),
            record_count: Set(count as i64),
            file_count: Set(count.div_ceil(PER_FILE as u64) as i64),
            attempts: Set(0),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(internal("insert export task"))?;
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::ExportStarted,
                Some(tenant_id),
                ObjectKind::Export,
                Some(task.id),
                format!("Export {}", task.id),
            )
            .with(created_fields(&[(
                "Channels",
                if all {
                    format!("All ({count})")
                } else {
                    format!("Selected ({count})")
                },
            )])),
        )
        .await?;
        txn.commit().await.map_err(internal("commit export"))?;
        self.metrics.job_started("export");
        self.wake.notify_one();
        crate::jobs::announce(&self.db, crate::jobs::EXPORTS_CHANNEL).await;
        Ok(task.id)
    }

    async fn list(&self, tenant_id: i64) -> Result<Vec<ExportTask>, RepoError> {
        use export_task::Column as E;
        let rows: Vec<(
            i64,
            String,
            i64,
            i64,
            Option<String>,
            Option<String>,
            time::OffsetDateTime,
            Option<time::OffsetDateTime>,
        )> = export_task::Entity::find()
            .select_only()
            .columns([
                E::Id,
                E::Status,
                E::RecordCount,
                E::FileCount,
                E::Error,
                E::FileName,
                E::CreatedAt,
                E::FinishedAt,
            ])
            .filter(E::TenantId.eq(tenant_id))
            .order_by_desc(E::Id)
            .limit(100)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(internal("list export tasks"))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, status, records, files, error, file_name, created, finished)| {
                    let status = status_of(&status);
                    ExportTask {
                        id,
                        status,
                        record_count: records,
                        file_count: files,
                        created: display_time(created),
                        finished: finished.map(display_time),
                        error: error.filter(|_| status == ExportStatus::Failed),
                        file_name: file_name.filter(|_| status == ExportStatus::Success),
                    }
                },
            )
            .collect())
    }
}

/// `100,000`
pub(crate) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_thousands() {
        assert_eq!(super::group(100_000), "100,000");
        assert_eq!(super::group(999), "999");
        assert_eq!(super::group(1_234_567), "1,234,567");
    }
}
