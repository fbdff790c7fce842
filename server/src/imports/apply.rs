//! Apply: every change of a checked import is saved in one transaction, or none is. What to
//! write is worked out first, outside the transaction, so it holds the write lock only for the
//! writes. In it, each channel must still be at the version the dry run saw (someone who saved
//! it since would be overwritten otherwise), and still pass the rules with its OU and skill
//! queues still there; its version goes up (an open Edit form then sees a conflict) and it gets
//! one audit entry with its diff. The import's own entry and its status commit in the same
//! transaction: a server that stops in the middle leaves nothing half applied, and the next
//! claim applies it whole.

use super::SqlImports;
use super::check::{Renewing, renew_claim};
use super::held::{Rows, ending, fail};
use crate::db::audit;
use crate::db::channel_fields::{self, Names};
use crate::db::channels::{configured, draft_of};
use crate::db::entities::{channel, import_row, import_task};
use crate::db::now;
use crate::jobs::Outcome;
use app::domain::audit::{AuditAction, FieldChange, ObjectKind, diff};
use app::domain::channel::{ChannelDraft, SavedFor, ValidationContext};
use app::domain::import::{ImportStatus, RowOutcome};
use app::ports::{Actor, AuditEvent, Channels, RepoError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, Iterable, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use std::collections::HashMap;

/// Changed rows read at a time (and audit entries written at a time).
const BATCH: u64 = 1_000;

#[derive(Debug, thiserror::Error)]
enum ApplyError {
    /// Why nothing was applied, for the person who asked.
    #[error("{0}")]
    Refused(String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("repository: {0}")]
    Repo(#[from] RepoError),
    #[error("another instance took the import over")]
    Lost,
}

/// Applies a claimed import to Applied, or to Failed with nothing changed.
pub async fn run(imports: &SqlImports, task: import_task::Model, instance: &str) -> Outcome {
    let db = &imports.db;
    let id = task.id;
    let started = std::time::Instant::now();
    match apply(imports, &task, instance).await {
        Ok((n, locked)) => {
            tracing::info!(
                task_id = id,
                channels = n,
                ms = started.elapsed().as_millis() as u64,
                transaction_ms = locked.as_millis() as u64,
                "import applied"
            );
            Outcome::Succeeded
        }
        Err(ApplyError::Lost) => {
            tracing::warn!(task_id = id, "import taken over by another instance");
            Outcome::Lost
        }
        Err(ApplyError::Refused(reason)) => {
            tracing::info!(task_id = id, %reason, "import not applied");
            fail(db, id, instance, &reason, Rows::Keep).await;
            Outcome::Failed
        }
        Err(e) => {
            tracing::error!(error = %e, task_id = id, "import apply failed");
            fail(
                db,
                id,
                instance,
                "The import could not be applied: nothing was changed. Import the file again; if it fails again, contact support.",
                Rows::Keep,
            )
            .await;
            Outcome::Failed
        }
    }
}

/// Refreshes the claim (`claimed_by` is still this instance and the import still applying).
async fn keep_claim<C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: i64,
    instance: &str,
    until: Option<time::OffsetDateTime>,
) -> Result<(), ApplyError> {
    let kept = import_task::Entity::update_many()
        .col_expr(import_task::Column::ClaimedUntil, Expr::value(until))
        .filter(import_task::Column::Id.eq(id))
        .filter(import_task::Column::ClaimedBy.eq(instance))
        .filter(import_task::Column::Status.eq(ImportStatus::Applying.as_str()))
        .exec(conn)
        .await?;
    if kept.rows_affected == 0 {
        return Err(ApplyError::Lost);
    }
    Ok(())
}

/// One channel's change, worked out before the transaction: the columns to write and the
/// diff for its audit entry.
struct Planned {
    id: i64,
    version: i64,
    name: String,
    place: String,
    set: Vec<(channel::Column, sea_orm::Value)>,
    changes: Vec<FieldChange>,
}

fn moved(name: &str, place: &str) -> ApplyError {
    ApplyError::Refused(format!(
        "The channel '{name}' ({place}) was changed or deleted after the dry run: nothing was applied. Import the file again to check it against the channels as they are now."
    ))
}

async fn apply(
    imports: &SqlImports,
    task: &import_task::Model,
    instance: &str,
) -> Result<(usize, std::time::Duration), ApplyError> {
    let db = &imports.db;
    let tenant = task.tenant_id;
    let actor: Actor = task
        .applied_by
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .ok_or_else(|| ApplyError::Refused("Nobody asked for this import to be applied.".into()))?;
    keep_claim(db, task.id, instance, Some(now() + imports.lease)).await?;
    // the claim is kept while the changes are worked out
    let renewing = Renewing(tokio::spawn(renew_claim(
        db.clone(),
        task.id,
        instance.to_owned(),
        ImportStatus::Applying,
        imports.lease,
    )));
    let ctx = imports.channels.validation_context(tenant, None).await?;
    let names = Names::of_tenant(db, tenant).await?;

    // everything that can be worked out before the transaction is: it holds the write lock
    // (on SQLite, the whole database's) only for the writes
    let mut plan = Vec::with_capacity(usize::try_from(task.changed).unwrap_or(0));
    let mut last_seq = 0i64;
    loop {
        let rows: Vec<import_row::Model> = import_row::Entity::find()
            .filter(import_row::Column::TaskId.eq(task.id))
            .filter(import_row::Column::Outcome.eq(RowOutcome::Changed.as_str()))
            .filter(import_row::Column::Seq.gt(last_seq))
            .order_by_asc(import_row::Column::Seq)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        last_seq = last.seq;
        plan_batch(imports, tenant, &ctx, &names, &rows, &mut plan).await?;
    }
    if plan.len() as i64 != task.changed {
        return Err(ApplyError::Refused(format!(
            "The dry run found {} changed channels, but {} were found to apply: nothing was applied. Import the file again.",
            task.changed,
            plan.len()
        )));
    }

    drop(renewing);
    let locked = std::time::Instant::now();
    let txn = db.begin().await?;
    // a write first: on SQLite the transaction takes the write lock now (one that reads first
    // may find it cannot write later)
    // and on PostgreSQL it locks the claim's row until the commit: no other instance takes the
    // import over while this transaction runs, however long it takes
    keep_claim(&txn, task.id, instance, Some(now() + imports.lease)).await?;
    let applied = plan.len();
    let mut entries = Vec::with_capacity(BATCH as usize);
    for p in plan {
        let mut update = channel::Entity::update_many()
            .col_expr(
                channel::Column::Version,
                Expr::col(channel::Column::Version).add(1),
            )
            .filter(channel::Column::Id.eq(p.id))
            .filter(channel::Column::TenantId.eq(tenant))
            .filter(channel::Column::Version.eq(p.version));
        for (column, value) in p.set {
            update = update.col_expr(column, Expr::value(value));
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            return Err(moved(&p.name, &p.place));
        }
        entries.push(
            AuditEvent::new(
                AuditAction::ChannelImported,
                Some(tenant),
                ObjectKind::Channel,
                Some(p.id),
                p.name,
            )
            .with(p.changes),
        );
        if entries.len() == BATCH as usize {
            audit::record_many(&txn, &actor, std::mem::take(&mut entries)).await?;
        }
    }
    audit::record_many(&txn, &actor, entries).await?;
    audit::record(
        &txn,
        &actor,
        AuditEvent::new(
            AuditAction::ImportApplied,
            Some(tenant),
            ObjectKind::Import,
            Some(task.id),
            format!("Import {} ({})", task.id, task.file_name),
        )
        .with(vec![FieldChange {
            field: "Channels changed".into(),
            before: String::new(),
            after: applied.to_string(),
            secret: false,
        }]),
    )
    .await?;
    let update = import_task::Entity::update_many();
    let done = ending(update, task.id, instance, ImportStatus::Applied)
        .filter(import_task::Column::Status.eq(ImportStatus::Applying.as_str()))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(ApplyError::Lost);
    }
    txn.commit().await?;
    Ok((applied, locked.elapsed()))
}

/// Works out one batch of changed rows: each channel still at the version the dry run saw,
/// still passing the rules, its OU and skill queues still the tenant's.
async fn plan_batch(
    imports: &SqlImports,
    tenant: i64,
    ctx: &ValidationContext,
    names: &Names,
    rows: &[import_row::Model],
    plan: &mut Vec<Planned>,
) -> Result<(), ApplyError> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.channel_id).collect();
    let stored: HashMap<i64, channel::Model> = channel::Entity::find()
        .filter(channel::Column::TenantId.eq(tenant))
        .filter(channel::Column::Id.is_in(ids))
        .all(&imports.db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    for r in rows {
        let place = match &r.file {
            Some(f) => format!("{f}, row {}", r.row_number),
            None => format!("row {}", r.row_number),
        };
        let m = match (r.channel_id.and_then(|id| stored.get(&id)), r.version) {
            (Some(m), Some(v)) if m.version == v => m,
            _ => return Err(moved(&r.channel_name, &place)),
        };
        let draft: ChannelDraft = r
            .draft
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .ok_or_else(|| moved(&r.channel_name, &place))?;
        let ctx = ValidationContext {
            configured: configured(m),
            saved_for: Some(SavedFor::of(&draft_of(m))),
            ..ctx.clone()
        };
        let valid = draft.validate(&ctx).map_err(|e| {
            ApplyError::Refused(format!(
                "The channel '{}' ({place}) no longer passes the rules ({}): nothing was applied. Import the file again.",
                r.channel_name,
                e.0.first().map(|f| f.message.as_str()).unwrap_or("")
            ))
        })?;
        let b = &valid.basic;
        let gone = b
            .ou_id
            .filter(|id| !names.ous.contains_key(id))
            .map(|_| "OU")
            .or_else(|| (!names.queues.contains_key(&b.skill_queue_id)).then_some("skill queue"))
            .or_else(|| {
                b.no_agent_transfer
                    .filter(|(_, q)| !names.queues.contains_key(q))
                    .map(|_| "target skill queue")
            });
        if let Some(what) = gone {
            return Err(ApplyError::Refused(format!(
                "The {what} of the channel '{}' ({place}) was deleted after the dry run: nothing was applied. Import the file again.",
                r.channel_name
            )));
        }
        let (am, after) = imports.channels.edited(m, &valid)?;
        let set = channel::Column::iter()
            .filter_map(|c| match am.get(c) {
                sea_orm::ActiveValue::Set(v) => Some((c, v)),
                _ => None,
            })
            .collect();
        plan.push(Planned {
            id: m.id,
            version: m.version,
            name: m.name.clone(),
            place,
            set,
            changes: diff(
                &channel_fields::fields(m, names),
                &channel_fields::fields(&after, names),
            ),
        });
    }
    Ok(())
}
