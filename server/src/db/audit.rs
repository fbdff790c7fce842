//! The audit log: `record` writes an entry on the connection (or transaction) of the change it
//! describes, so the entry and the change commit together or not at all; `SqlAudit` reads pages
//! of it; `purge` drops entries older than the retention period.

use super::entities::{audit_entry, tenant};
use super::internal;
use app::domain::audit::{AuditAction, AuditQuery, ObjectKind, PAGE_SIZE};
use app::model::{AuditEntry, AuditPage, Role};
use app::ports::{Actor, Audit, AuditEvent, RepoError};
use async_trait::async_trait;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use std::collections::HashMap;
use std::time::Duration;

fn now_ms() -> i64 {
    super::unix_millis(super::now())
}

/// At most `max` characters, control characters (NUL among them, which PostgreSQL cannot
/// store in text) shown as U+FFFD: a refused sign-in records whatever was typed.
fn clip(v: &str, max: usize) -> String {
    v.chars()
        .take(max)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// The row of one entry.
fn entry_row(
    actor: &Actor,
    entry: AuditEvent,
    at_ms: i64,
) -> Result<audit_entry::ActiveModel, RepoError> {
    let changes = serde_json::to_string(&entry.changes).map_err(|e| {
        tracing::error!(error = %e, "encoding an audit entry");
        RepoError::Internal
    })?;
    Ok(audit_entry::ActiveModel {
        at_ms: Set(at_ms),
        tenant_id: Set(entry.tenant_id),
        user_id: Set(actor.user_id),
        actor: Set(clip(&actor.username, 64)),
        // lower case first: lowercasing can make a name longer ('İ')
        actor_key: Set(clip(&actor.username.to_lowercase(), 64)),
        role: Set(actor.role.map(Role::as_str).unwrap_or("").to_owned()),
        client: Set(actor.client.map(|c| c.to_string()).unwrap_or_default()),
        action: Set(entry.action.as_str().to_owned()),
        object_kind: Set(entry.object.as_str().to_owned()),
        object_id: Set(entry.object_id),
        object_name: Set(clip(&entry.object_name, 256)),
        changes: Set(changes),
        ..Default::default()
    })
}

/// Writes one entry on `conn`: call it with the transaction of the change.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entry: AuditEvent,
) -> Result<(), RepoError> {
    entry_row(actor, entry, now_ms())?
        .insert(conn)
        .await
        .map_err(internal("record audit entry"))?;
    Ok(())
}

/// Entries written together (an import's channels), 1,000 to a statement (13 values each:
/// inside every database's limit of bound parameters).
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entries: Vec<AuditEvent>,
) -> Result<(), RepoError> {
    let at = now_ms();
    let mut rows = Vec::with_capacity(entries.len().min(1_000));
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        rows.clear();
        for entry in entries.by_ref().take(1_000) {
            rows.push(entry_row(actor, entry, at)?);
        }
        audit_entry::Entity::insert_many(rows.drain(..))
            .exec_without_returning(conn)
            .await
            .map_err(internal("record audit entries"))?;
    }
    Ok(())
}

/// The entries a query selects: one tenant's or everyone's, newest first.
pub fn select(tenant_id: Option<i64>, q: &AuditQuery) -> Select<audit_entry::Entity> {
    use audit_entry::Column as C;
    let mut s = audit_entry::Entity::find();
    if let Some(t) = tenant_id {
        s = s.filter(C::TenantId.eq(t));
    }
    if let Some(a) = &q.actor {
        s = s.filter(C::ActorKey.eq(a.as_str()));
        // a tenant's log does not tell who the system administrator is
        if tenant_id.is_some() {
            s = s.filter(C::Role.ne(Role::SystemAdmin.as_str()));
        }
    }
    if let Some(a) = q.action {
        s = s.filter(C::Action.eq(a.as_str()));
    }
    if let Some(k) = q.object {
        s = s.filter(C::ObjectKind.eq(k.as_str()));
    }
    if let Some(id) = q.object_id {
        s = s.filter(C::ObjectId.eq(id));
    }
    if let Some(f) = q.from_ms {
        s = s.filter(C::AtMs.gte(f));
    }
    if let Some(t) = q.to_ms {
        s = s.filter(C::AtMs.lt(t));
    }
    if let Some(b) = q.before {
        s = s.filter(C::Id.lt(b));
    }
    s.order_by_desc(C::Id)
}

/// `YYYY-MM-DD HH:MM:SS UTC`
fn display_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn role_label(code: &str) -> String {
    match Role::from_db(code) {
        Some(Role::SystemAdmin) => "System administrator",
        Some(Role::TenantAdmin) => "Tenant administrator",
        None => "",
    }
    .to_owned()
}

/// Who a tenant's log names for what the system administrator did in it.
pub const SYSTEM_ACTOR: &str = "System administrator";

/// Entries as pages show them, with their tenant's name. `for_tenant`: a tenant's log, where
/// the system administrator's name and address are not shown.
pub async fn view<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<audit_entry::Model>,
    for_tenant: bool,
) -> Result<Vec<AuditEntry>, RepoError> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.tenant_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(ids))
            .all(conn)
            .await
            .map_err(internal("audit tenant names"))?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let masked = for_tenant && r.role == Role::SystemAdmin.as_str();
            AuditEntry {
                id: r.id,
                at: display_ms(r.at_ms),
                actor: if masked {
                    SYSTEM_ACTOR.to_owned()
                } else {
                    r.actor
                },
                role: role_label(&r.role),
                tenant: r.tenant_id.and_then(|t| names.get(&t).cloned()),
                client: if masked { String::new() } else { r.client },
                action_label: AuditAction::parse(&r.action)
                    .map(|a| a.label().to_owned())
                    .unwrap_or_else(|| r.action.clone()),
                action: r.action,
                object_kind: ObjectKind::parse(&r.object_kind)
                    .map(|k| k.label().to_owned())
                    .unwrap_or(r.object_kind),
                object_id: r.object_id,
                object_name: r.object_name,
                changes: serde_json::from_str(&r.changes).unwrap_or_default(),
            }
        })
        .collect())
}

#[derive(Clone)]
pub struct SqlAudit {
    db: DatabaseConnection,
}

impl SqlAudit {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Audit for SqlAudit {
    async fn record(&self, actor: &Actor, event: AuditEvent) -> Result<(), RepoError> {
        record(&self.db, actor, event).await
    }

    async fn list(
        &self,
        tenant_id: Option<i64>,
        query: &AuditQuery,
    ) -> Result<AuditPage, RepoError> {
        let mut rows = select(tenant_id, query)
            .limit(PAGE_SIZE + 1)
            .all(&self.db)
            .await
            .map_err(internal("list audit entries"))?;
        let more = rows.len() as u64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        let next_before = more.then(|| rows.last().map(|r| r.id)).flatten();
        Ok(AuditPage {
            entries: view(&self.db, rows, tenant_id.is_some()).await?,
            next_before,
        })
    }
}

/// Entries purged per statement (a long purge never holds the write lock for long).
const PURGE_BATCH: u64 = 5_000;

/// Deletes the entries older than `keep_days` days; answers how many.
pub async fn purge(db: &DatabaseConnection, keep_days: u64) -> Result<u64, DbErr> {
    let cutoff = now_ms() - (keep_days as i64) * 86_400_000;
    let mut total = 0;
    loop {
        let batch = Query::select()
            .column(audit_entry::Column::Id)
            .from(audit_entry::Entity)
            .and_where(audit_entry::Column::AtMs.lt(cutoff))
            .order_by(audit_entry::Column::AtMs, sea_orm::Order::Asc)
            .limit(PURGE_BATCH)
            .to_owned();
        let n = audit_entry::Entity::delete_many()
            .filter(audit_entry::Column::Id.in_subquery(batch))
            .exec(db)
            .await?
            .rows_affected;
        total += n;
        if n < PURGE_BATCH {
            return Ok(total);
        }
    }
}

/// How often entries older than the retention are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_to_the_second() {
        assert_eq!(display_ms(1_793_491_200_999), "2026-11-01 00:00:00 UTC");
        assert_eq!(role_label("tenant_admin"), "Tenant administrator");
        assert_eq!(role_label(""), "");
        assert_eq!(clip("äöü", 2), "äö");
        assert_eq!(clip("a\u{0}b\n", 10), "a\u{FFFD}b\u{FFFD}");
    }
}
