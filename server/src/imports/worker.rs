//! The import worker: claims imports to check or apply with a lease, like the export worker
//! (the job runner is `crate::jobs`).

use super::SqlImports;
use super::held::{MAX_ATTEMPTS, Rows, fail};
use crate::db::entities::import_task;
use crate::jobs::{Jobs, Outcome, claim_in};
use app::domain::import::ImportStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

/// Takes one import to check or apply whose lease is free (or expired).
pub async fn claim(
    db: &DatabaseConnection,
    instance: &str,
    lease: std::time::Duration,
) -> Result<Option<i64>, DbErr> {
    claim_in(
        db,
        "import_tasks",
        "'checking', 'applying'",
        instance,
        lease,
    )
    .await
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

/// Checks or applies one claimed import: its kind for metrics and how it ended.
pub async fn run(imports: &SqlImports, id: i64, instance: &str) -> (&'static str, Outcome) {
    let db = &imports.db;
    let task = match import_task::Entity::find_by_id(id).one(db).await {
        Ok(Some(t)) => t,
        Ok(None) => return ("import_check", Outcome::Gone),
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "loading an import");
            return ("import_check", Outcome::Interrupted);
        }
    };
    let kind = if task.status == ImportStatus::Applying.as_str() {
        "import_apply"
    } else {
        "import_check"
    };
    if task.attempts > MAX_ATTEMPTS {
        // a dry run's rows so far mean nothing; an apply's checked rows stay to be looked at
        let rows = if task.status == ImportStatus::Applying.as_str() {
            Rows::Keep
        } else {
            Rows::Drop
        };
        fail(
            db,
            id,
            instance,
            &format!("The import was interrupted {MAX_ATTEMPTS} times (the server stopped while it ran): nothing was changed. Import the file again."),
            rows,
        )
        .await;
        return (kind, Outcome::Failed);
    }
    let outcome = match ImportStatus::parse(&task.status) {
        Some(ImportStatus::Checking) => super::check::run(imports, task, instance).await,
        Some(ImportStatus::Applying) => super::apply::run(imports, task, instance).await,
        _ => Outcome::Gone,
    };
    (kind, outcome)
}

#[async_trait::async_trait]
impl Jobs for SqlImports {
    const WHAT: &'static str = "an import";
    fn wake(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.wake.clone()
    }
    async fn claim(&self, instance: &str) -> Result<Option<i64>, DbErr> {
        claim(&self.db, instance, self.lease).await
    }
    async fn run(&self, id: i64, instance: &str) {
        let started = std::time::Instant::now();
        let (kind, outcome) = run(self, id, instance).await;
        if let Some(label) = outcome.label() {
            self.metrics.job_finished(kind, label, started.elapsed());
        }
    }
    async fn release(&self, id: i64, instance: &str) {
        release(&self.db, id, instance).await
    }
}
