//! The shapes every repository write takes: an audited transaction (begin → body → audit
//! entry → commit, all or nothing) and the delete of one row a tenant space owns.

use super::{audit, begin_write, internal};
use app::ports::{Actor, AuditEvent, RepoError};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
};
use std::future::Future;
use std::pin::Pin;

/// What the body of [`audited`] returns: its value and the audit entry that says what it did.
pub type Audited<'t, T> =
    Pin<Box<dyn Future<Output = Result<(T, AuditEvent), RepoError>> + Send + 't>>;

/// Runs `body` in one transaction and records the entry it returns in the same transaction:
/// the change and its audit entry are committed together or not at all. An error from the
/// body (a conflict, not found) rolls back what it wrote and is answered as it is; a database
/// fault in beginning, recording or committing is logged with `context`.
pub async fn audited<T, F>(
    db: &DatabaseConnection,
    actor: &Actor,
    context: &'static str,
    body: F,
) -> Result<T, RepoError>
where
    T: Send,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> Audited<'t, T> + Send,
{
    let txn = begin_write(db).await.map_err(internal(context))?;
    let (value, event) = match body(&txn).await {
        Ok(done) => done,
        Err(e) => {
            let _ = txn.rollback().await;
            return Err(e);
        }
    };
    audit::record(&txn, actor, event).await?;
    txn.commit().await.map_err(internal(context))?;
    Ok(value)
}

/// A table whose rows belong to one tenant space: its id and tenant columns.
pub trait TenantOwned: EntityTrait {
    const ID: Self::Column;
    const TENANT: Self::Column;
}

/// Deletes the row `id` of `tenant_id` (never another tenant's) and records `event` with it;
/// `NotFound` when the tenant space has no such row (any more).
pub async fn delete_owned<E: TenantOwned>(
    db: &DatabaseConnection,
    actor: &Actor,
    tenant_id: i64,
    id: i64,
    event: AuditEvent,
    context: &'static str,
) -> Result<(), RepoError> {
    let only = Condition::all()
        .add(E::TENANT.eq(tenant_id))
        .add(E::ID.eq(id));
    delete_where::<E>(db, actor, only, event, context).await
}

/// Deletes the rows `only` selects and records `event` with them; `NotFound` when it selects
/// none. For tables no tenant owns (the trustlist); `only` must name the row.
pub(super) async fn delete_where<E: EntityTrait>(
    db: &DatabaseConnection,
    actor: &Actor,
    only: Condition,
    event: AuditEvent,
    context: &'static str,
) -> Result<(), RepoError> {
    audited(db, actor, context, move |txn| {
        Box::pin(async move {
            let deleted = E::delete_many()
                .filter(only)
                .exec(txn)
                .await
                .map_err(internal(context))?;
            if deleted.rows_affected == 0 {
                return Err(RepoError::NotFound);
            }
            Ok(((), event))
        })
    })
    .await
}

macro_rules! tenant_owned {
    ($($entity:ident),* $(,)?) => {
        $(impl TenantOwned for super::entities::$entity::Entity {
            const ID: Self::Column = super::entities::$entity::Column::Id;
            const TENANT: Self::Column = super::entities::$entity::Column::TenantId;
        })*
    };
}

tenant_owned!(ou, skill_queue, channel, certificate, non_working_date);
