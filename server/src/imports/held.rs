//! What the instance holding an import (its claim) may do: how long the claim lasts, and ending
//! the import as Failed, fenced so that an import another instance took over is left to it.
//! Used by the dry run (`check`), the apply and the worker that claims them.

use crate::db::entities::{import_chunk, import_row, import_task};
use crate::db::now;
use app::domain::import::ImportStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait, UpdateMany,
};
use std::time::Duration;

/// How long a claim holds before another instance may take the import over, unless
/// `SWITCHBOARD_IMPORT_LEASE_SECS` says otherwise (`SqlImports::lease`). It is renewed every
/// third of itself while a dry run reads and while an apply works out its changes; an apply's
/// transaction writes the claim first, so the claim's row stays locked until it commits
/// (PostgreSQL's claim skips locked rows, SQLite's waits for the write lock) however long the
/// transaction takes, and a server killed mid-transaction leaves nothing half-applied.
pub const LEASE: Duration = Duration::from_secs(60);
/// An import whose instance stopped this many times fails instead of looping.
pub const MAX_ATTEMPTS: i32 = 3;

/// What a failed import keeps of its dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// Its checked rows stay to be looked at (Apply refused).
    Keep,
    /// The file was refused: rows read before that mean nothing.
    Drop,
}

/// `update` made to end the import `id` that `instance` holds, in `status`: finished now, its
/// upload's column cleared, its claim released. It changes nothing once another instance has
/// taken the import over (`rows_affected` 0: the caller has lost it).
pub(crate) fn ending(
    update: UpdateMany<import_task::Entity>,
    id: i64,
    instance: &str,
    status: ImportStatus,
) -> UpdateMany<import_task::Entity> {
    update
        .col_expr(import_task::Column::Status, Expr::value(status.as_str()))
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
        .filter(import_task::Column::ClaimedBy.eq(instance))
}

/// Ends an import this instance holds as Failed with a reason people read, in one
/// transaction with dropping its upload (and its rows, `Rows::Drop`); an import another
/// instance has taken over is left to it. Answers whether it was this instance's.
pub(crate) async fn fail(
    db: &DatabaseConnection,
    id: i64,
    instance: &str,
    reason: &str,
    rows: Rows,
) -> bool {
    let failed = async {
        let txn = db.begin().await?;
        let update = import_task::Entity::update_many()
            .col_expr(import_task::Column::Error, Expr::value(reason));
        let marked = ending(update, id, instance, ImportStatus::Failed)
            .exec(&txn)
            .await?;
        if marked.rows_affected != 1 {
            return Ok(false);
        }
        import_chunk::Entity::delete_many()
            .filter(import_chunk::Column::TaskId.eq(id))
            .exec(&txn)
            .await?;
        if rows == Rows::Drop {
            import_row::Entity::delete_many()
                .filter(import_row::Column::TaskId.eq(id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok::<bool, DbErr>(true)
    };
    match failed.await {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!(
                task_id = id,
                "import taken over by another instance: not failed here"
            );
            false
        }
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "marking an import failed");
            false
        }
    }
}
