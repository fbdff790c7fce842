//! The dry run: the upload is read in a child process (`reader`, `sheet`), handed over in
//! batches of 1,000 rows, and every row is matched to the tenant's channel of that name, laid
//! over its stored draft and checked by the channel rules; what it would change is the diff of
//! the channel's fields before and after. Each row's outcome is stored for the preview, and
//! the changed rows' drafts for Apply. Nothing of a channel is written.

use super::SqlImports;
use super::held::{Rows, ending, fail};
use super::reader::{self, Batch, ReadError};
use super::sheet::SheetError;
use crate::db::channel_fields::{self, Names};
use crate::db::channels::{configured, draft_of};
use crate::db::entities::{channel, import_row, import_task};
use crate::db::now;
use crate::jobs::Outcome;
use app::domain::audit::diff;
use app::domain::channel::{CHANNEL_NAME_MAX, SavedFor, ValidationContext};
use app::domain::import::{
    COLUMNS, ImportStatus, NameIds, RowCounts, RowError, RowOutcome, check_row, shown,
};
use app::ports::{Channels, RepoError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error("{0}")]
    Sheet(#[from] SheetError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("repository: {0}")]
    Repo(#[from] RepoError),
    #[error("{0}")]
    Other(String),
    #[error("another instance took the import over")]
    Lost,
}

/// Runs the dry run of a claimed import to Checked or Failed.
pub async fn run(imports: &SqlImports, task: import_task::Model, instance: &str) -> Outcome {
    let db = &imports.db;
    let id = task.id;
    let started = std::time::Instant::now();
    match check(imports, task, instance).await {
        Ok(counts) => {
            tracing::info!(
                task_id = id,
                changed = counts.changed,
                unchanged = counts.unchanged,
                errors = counts.errors,
                unknown = counts.unknown,
                ms = started.elapsed().as_millis() as u64,
                "import checked"
            );
            Outcome::Succeeded
        }
        Err(CheckError::Lost) => {
            tracing::warn!(task_id = id, "import taken over by another instance");
            Outcome::Lost
        }
        Err(CheckError::Sheet(e)) => {
            fail(db, id, instance, &e.to_string(), Rows::Drop).await;
            Outcome::Failed
        }
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "import check failed");
            fail(
                db,
                id,
                instance,
                "The file could not be checked: nothing was changed. Import it again; if it fails again, contact support.",
                Rows::Drop,
            )
            .await;
            Outcome::Failed
        }
    }
}

async fn clear_rows(db: &DatabaseConnection, id: i64) -> Result<(), DbErr> {
    import_row::Entity::delete_many()
        .filter(import_row::Column::TaskId.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

async fn check(
    imports: &SqlImports,
    task: import_task::Model,
    instance: &str,
) -> Result<RowCounts, CheckError> {
    let db = &imports.db;
    let tenant = task.tenant_id;
    let upload = super::stored_upload(db.clone(), &task);
    // an earlier attempt's rows
    clear_rows(db, task.id).await?;
    let names = Names::of_tenant(db, tenant).await?;
    let name_ids = NameIds {
        ous: names
            .ous
            .iter()
            .map(|(id, n)| (n.to_lowercase(), *id))
            .collect(),
        queues: names
            .queues
            .iter()
            .map(|(id, n)| (n.to_lowercase(), *id))
            .collect(),
    };
    let ctx = imports.channels.validation_context(tenant, None).await?;

    // the claim is kept while the reader works, also before its first rows arrive
    let _renewing = Renewing(tokio::spawn(renew_claim(
        db.clone(),
        task.id,
        instance.to_owned(),
        ImportStatus::Checking,
        imports.lease,
    )));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(2);
    let exe = imports.reader.clone();
    let reader = tokio::spawn(async move { reader::read_in_child(&exe, upload, tx).await });

    let mut state = State {
        counts: RowCounts::default(),
        seen: HashMap::new(),
        file: None,
        seq: 0,
    };
    let mut failure = None;
    while let Some(batch) = rx.recv().await {
        let rows = match check_batch(
            imports,
            &TaskId {
                id: task.id,
                tenant,
            },
            &names,
            &name_ids,
            &ctx,
            &mut state,
            batch,
        )
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        // the claim first, then the rows, together: an instance that lost the import (its
        // lease ran out and another took it over) writes nothing more
        let txn = db.begin().await?;
        let renewed = progress(&state)
            .col_expr(
                import_task::Column::ClaimedUntil,
                Expr::value(now() + imports.lease),
            )
            .filter(import_task::Column::Id.eq(task.id))
            .filter(import_task::Column::ClaimedBy.eq(instance))
            .exec(&txn)
            .await?;
        if renewed.rows_affected == 0 {
            failure = Some(CheckError::Lost);
            break;
        }
        if !rows.is_empty() {
            import_row::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    drop(rx);
    let read = reader
        .await
        .map_err(|e| CheckError::Other(format!("reader: {e}")))?;
    if let Some(e) = failure {
        return Err(e);
    }
    match read {
        Err(ReadError::Sheet(e)) => return Err(e.into()),
        Err(ReadError::Upload(e)) => return Err(e.into()),
        Ok(Err(())) => return Err(CheckError::Other("the checker stopped".into())),
        Ok(Ok(())) => {}
    }
    if state.seq == 0 {
        return Err(CheckError::Sheet(SheetError::NoRows));
    }
    let done = ending(progress(&state), task.id, instance, ImportStatus::Checked)
        .filter(import_task::Column::Status.eq(ImportStatus::Checking.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(CheckError::Lost);
    }
    super::forget_upload(db, task.id).await?;
    Ok(state.counts)
}

/// Renews this instance's claim on an import in `status` every third of `lease`, until the
/// task ends, another instance holds it, or the answer is dropped (`Renewing`).
pub(super) async fn renew_claim(
    db: DatabaseConnection,
    id: i64,
    instance: String,
    status: ImportStatus,
    lease: std::time::Duration,
) {
    loop {
        tokio::time::sleep(lease / 3).await;
        let renewed = import_task::Entity::update_many()
            .col_expr(
                import_task::Column::ClaimedUntil,
                Expr::value(now() + lease),
            )
            .filter(import_task::Column::Id.eq(id))
            .filter(import_task::Column::ClaimedBy.eq(instance.as_str()))
            .filter(import_task::Column::Status.eq(status.as_str()))
            .exec(&db)
            .await;
        match renewed {
            Ok(r) if r.rows_affected == 1 => {}
            Ok(_) => return,
            Err(e) => tracing::error!(error = %e, task_id = id, "renewing an import's claim"),
        }
    }
}

/// Stops the renewal of a claim when the work ends, however it ends.
pub(super) struct Renewing(pub(super) tokio::task::JoinHandle<()>);

impl Drop for Renewing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The task a batch belongs to.
struct TaskId {
    id: i64,
    tenant: i64,
}

/// An update of the task that writes what the dry run has seen so far.
fn progress(state: &State) -> sea_orm::UpdateMany<import_task::Entity> {
    use import_task::Column as T;
    let c = &state.counts;
    import_task::Entity::update_many()
        .col_expr(T::RowsRead, Expr::value(state.seq))
        .col_expr(T::Unchanged, Expr::value(c.unchanged))
        .col_expr(T::Changed, Expr::value(c.changed))
        .col_expr(T::Errors, Expr::value(c.errors))
        .col_expr(T::Unknown, Expr::value(c.unknown))
}

/// What the dry run has seen so far.
struct State {
    counts: RowCounts,
    /// Channel names already on a row (by the SHA-256 of their lower case: a few bytes a row,
    /// however long a name a file holds): where.
    seen: HashMap<[u8; 32], Place>,
    /// The file of the latest row, shared by the places of its rows.
    file: Option<Arc<str>>,
    seq: i64,
}

/// Where a row is: the file inside a zip, if any, and its row number.
struct Place {
    file: Option<Arc<str>>,
    row: u32,
}

impl std::fmt::Display for Place {
    /// `row 7` or `channels-002.xlsx, row 7`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}, row {}", self.row),
            None => write!(f, "row {}", self.row),
        }
    }
}

impl State {
    fn place(&mut self, file: &Option<String>, row: u32) -> Place {
        if self.file.as_deref() != file.as_deref() {
            self.file = file.as_deref().map(Arc::from);
        }
        Place {
            file: self.file.clone(),
            row,
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Checks one batch; answers its rows (written by the caller with the claim renewed).
async fn check_batch(
    imports: &SqlImports,
    task: &TaskId,
    names: &Names,
    name_ids: &NameIds,
    ctx: &ValidationContext,
    state: &mut State,
    batch: Batch,
) -> Result<Vec<import_row::ActiveModel>, CheckError> {
    let db = &imports.db;
    let name_column = batch.letters.first().cloned().flatten().unwrap_or_default();
    // only what can be a channel's name is looked up (a longer one matches none)
    let keys: Vec<String> = batch
        .rows
        .iter()
        .map(|r| r.cells[0].trim())
        .filter(|k| !k.is_empty() && k.chars().count() <= CHANNEL_NAME_MAX)
        .map(str::to_lowercase)
        .collect();
    let stored: HashMap<String, channel::Model> = channel::Entity::find()
        .filter(channel::Column::TenantId.eq(task.tenant))
        .filter(channel::Column::NameKey.is_in(keys))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.name_key.clone(), m))
        .collect();
    let mut rows = Vec::with_capacity(batch.rows.len());
    for r in &batch.rows {
        state.seq += 1;
        let name = r.cells[0].trim();
        let key = name.to_lowercase();
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut out = import_row::ActiveModel {
            task_id: Set(task.id),
            seq: Set(state.seq),
            file: Set(r.file.clone()),
            row_number: Set(i64::from(r.row)),
            channel_name: Set(name.chars().take(256).collect()),
            channel_id: Set(None),
            version: Set(None),
            outcome: Set(String::new()),
            details: Set("[]".into()),
            draft: Set(None),
            ..Default::default()
        };
        let refuse = |message: String| {
            vec![RowError {
                column: COLUMNS[0].to_owned(),
                cell: Some(format!("{name_column}{}", r.row)),
                message,
            }]
        };
        let outcome = if name.is_empty() {
            out.details = Set(json(&refuse(
                "The Channel Name is empty: every row names the channel it changes.".into(),
            )));
            RowOutcome::Error
        } else if let Some(earlier) = state.seen.get(&digest) {
            out.details = Set(json(&refuse(format!(
                "'{}' is on {earlier} too: change a channel on one row only.",
                shown(name)
            ))));
            RowOutcome::Error
        } else {
            let here = state.place(&r.file, r.row);
            state.seen.insert(digest, here);
            match stored.get(&key) {
                None => RowOutcome::Unknown,
                Some(m) => {
                    out.channel_id = Set(Some(m.id));
                    out.version = Set(Some(m.version));
                    let draft = draft_of(m);
                    let ctx = ValidationContext {
                        configured: configured(m),
                        saved_for: Some(SavedFor::of(&draft)),
                        ..ctx.clone()
                    };
                    let cells: Vec<Option<&str>> = batch
                        .letters
                        .iter()
                        .zip(&r.cells)
                        .map(|(letter, v)| letter.as_ref().map(|_| v.as_str()))
                        .collect();
                    match check_row(draft, &cells, &batch.letters, r.row, name_ids, &ctx) {
                        Err(errors) => {
                            out.details = Set(json(&errors));
                            RowOutcome::Error
                        }
                        Ok((draft, valid)) => {
                            let (_, after) = imports.channels.edited(m, &valid)?;
                            let changes = diff(
                                &channel_fields::fields(m, names),
                                &channel_fields::fields(&after, names),
                            );
                            if changes.is_empty() {
                                RowOutcome::Unchanged
                            } else {
                                out.details = Set(json(&changes));
                                out.draft = Set(Some(json(&draft)));
                                RowOutcome::Changed
                            }
                        }
                    }
                }
            }
        };
        out.outcome = Set(outcome.as_str().to_owned());
        state.counts.add(outcome);
        rows.push(out);
    }
    Ok(rows)
}
