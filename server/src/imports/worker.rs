//! The import worker: claims imports to check or apply with a lease, like the export worker
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and stops with it.

use super::SqlImports;
use crate::db::entities::import_task;
use crate::db::now;
use app::domain::import::ImportStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Statement,
};
use std::time::Duration;
use tokio::sync::watch;

/// How long a claim holds before another instance may take the import over; renewed after
/// every batch of rows (a dry run) or set to `APPLY_LEASE` (an apply, one transaction).
pub const LEASE: Duration = Duration::from_secs(60);
/// An apply's claim: longer than the longest apply (100,000 channels).
pub const APPLY_LEASE: Duration = Duration::from_secs(15 * 60);
/// An import whose instance stopped this many times fails instead of looping.
pub const MAX_ATTEMPTS: i32 = 3;
const POLL: Duration = Duration::from_secs(2);

/// Takes one import to check or apply whose lease is free (or expired).
pub async fn claim(db: &DatabaseConnection, instance: &str) -> Result<Option<i64>, DbErr> {
    let backend = db.get_database_backend();
    let t = now();
    let until = t + LEASE;
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "UPDATE import_tasks SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM import_tasks WHERE status IN ('checking', 'applying') \
             AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY id LIMIT 1 \
             FOR UPDATE SKIP LOCKED) RETURNING id"
        }
        _ => {
            "UPDATE import_tasks SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM import_tasks WHERE status IN ('checking', 'applying') \
             AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT 1) RETURNING id"
        }
    };
    let row = db
        .query_one(Statement::from_sql_and_values(
            backend,
            sql,
            [instance.into(), until.into(), t.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<i64>("", "id")).transpose()
}

/// Ends an import as Failed with a reason people read.
pub(crate) async fn fail(db: &DatabaseConnection, id: i64, reason: &str) {
    let result = import_task::Entity::update_many()
        .col_expr(
            import_task::Column::Status,
            Expr::value(ImportStatus::Failed.as_str()),
        )
        .col_expr(import_task::Column::Error, Expr::value(reason))
        .col_expr(
            import_task::Column::File,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(import_task::Column::FinishedAt, Expr::value(now()))
        .col_expr(
            import_task::Column::ClaimedUntil,
            Expr::value(Option::<time::OffsetDateTime>::None),
        )
        .filter(import_task::Column::Id.eq(id))
        .exec(db)
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, task_id = id, "marking an import failed");
    }
}

/// Gives a claimed import back (this instance is stopping).
async fn release(db: &DatabaseConnection, id: i64, instance: &str) {
    let result = import_task::Entity::update_many()
        .col_expr(
            import_task::Column::ClaimedUntil,
            Expr::value(Option::<time::OffsetDateTime>::None),
        )
        .col_expr(
            import_task::Column::ClaimedBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            import_task::Column::Attempts,
            Expr::col(import_task::Column::Attempts).sub(1),
        )
        .filter(import_task::Column::Id.eq(id))
        .filter(import_task::Column::ClaimedBy.eq(instance))
        .exec(db)
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, task_id = id, "releasing an import");
    }
}

/// Checks or applies one claimed import.
pub async fn run(imports: &SqlImports, id: i64, instance: &str) {
    let db = &imports.db;
    let task = match import_task::Entity::find_by_id(id).one(db).await {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "loading an import");
            return;
        }
    };
    if task.attempts > MAX_ATTEMPTS {
        fail(
            db,
            id,
            &format!("The import was interrupted {MAX_ATTEMPTS} times (the server stopped while it ran): nothing was changed. Import the file again."),
        )
        .await;
        return;
    }
    match ImportStatus::parse(&task.status) {
        Some(ImportStatus::Checking) => super::check::run(imports, task, instance).await,
        Some(ImportStatus::Applying) => super::apply::run(imports, task, instance).await,
        _ => {}
    }
}

/// Claims and runs imports until `stopped`, waking on the imports' notifier or every two
/// seconds.
pub fn spawn(
    imports: SqlImports,
    mut stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let instance = format!(
        "{}-{}",
        std::process::id(),
        &crate::crypto::random_token()[..8]
    );
    tokio::spawn(async move {
        while !*stopped.borrow() {
            match claim(&imports.db, &instance).await {
                Ok(Some(task)) => {
                    tokio::select! {
                        () = run(&imports, task, &instance) => {}
                        _ = stopped.changed() => {
                            release(&imports.db, task, &instance).await;
                            break;
                        }
                    }
                }
                Ok(None) => {
                    tokio::select! {
                        _ = tokio::time::timeout(POLL, imports.wake.notified()) => {}
                        _ = stopped.changed() => break,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "claiming an import");
                    tokio::select! {
                        () = tokio::time::sleep(POLL) => {}
                        _ = stopped.changed() => break,
                    }
                }
            }
        }
    })
}
