//! The address trustlist: the `Trustlist` port.

use super::entities::{tenant, trust_prefix};
use super::write::{audited, delete_where};
use super::{UniqueOr, display_time, internal, now};
use app::domain::TrustPrefix;
use app::domain::audit::{AuditAction, ObjectKind, created as created_fields, diff};
use app::model::TrustEntry;
use app::ports::{Actor, AuditEvent, RepoError, Trustlist};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

/// A trustlist entry's fields as its audit entries name them.
fn fields(prefix: &str, scope: &str, allow_private: bool) -> Vec<(&'static str, String)> {
    vec![
        ("Prefix", prefix.to_owned()),
        ("Scope", scope.to_owned()),
        (
            "Allow private network addresses",
            if allow_private { "Yes" } else { "No" }.to_owned(),
        ),
    ]
}

#[derive(Clone)]
pub struct SqlTrustlist {
    db: DatabaseConnection,
}

impl SqlTrustlist {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Trustlist for SqlTrustlist {
    async fn list(&self) -> Result<Vec<TrustEntry>, RepoError> {
        let entries = trust_prefix::Entity::find()
            .order_by_asc(trust_prefix::Column::Prefix)
            .order_by_asc(trust_prefix::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal("list trustlist"))?;
        let names: HashMap<i64, String> = tenant::Entity::find()
            .all(&self.db)
            .await
            .map_err(internal("list tenants for trustlist"))?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        Ok(entries
            .into_iter()
            .map(|e| TrustEntry {
                id: e.id,
                tenant_name: e.tenant_id.and_then(|t| names.get(&t).cloned()),
                tenant_id: e.tenant_id,
                prefix: e.prefix,
                allow_private: e.allow_private,
                created: display_time(e.created_at),
            })
            .collect())
    }

    async fn add(
        &self,
        actor: &Actor,
        prefix: &TrustPrefix,
        tenant_id: Option<i64>,
        allow_private: bool,
    ) -> Result<i64, RepoError> {
        let mut scope = "Global".to_owned();
        if let Some(t) = tenant_id {
            let found = tenant::Entity::find_by_id(t)
                .one(&self.db)
                .await
                .map_err(internal("find tenant for trustlist"))?;
            let Some(found) = found else {
                return Err(RepoError::Conflict {
                    field: "scope",
                    message: "That tenant space does not exist.".into(),
                });
            };
            scope = found.name;
        }
        let prefix = prefix.as_str().to_owned();
        let row = trust_prefix::ActiveModel {
            prefix: Set(prefix.clone()),
            tenant_id: Set(tenant_id),
            scope_key: Set(tenant_id.map_or_else(|| "global".to_string(), |t| t.to_string())),
            created_at: Set(now()),
            allow_private: Set(allow_private),
            ..Default::default()
        };
        audited(&self.db, actor, "add trust prefix", move |txn| {
            Box::pin(async move {
                let created = row.insert(txn).await.unique_or(
                    "prefix",
                    "This prefix is already on the trustlist for that scope.",
                    "insert trust prefix",
                )?;
                let entry = AuditEvent::new(
                    AuditAction::TrustAdded,
                    tenant_id,
                    ObjectKind::TrustEntry,
                    Some(created.id),
                    prefix.clone(),
                )
                .with(created_fields(&fields(&prefix, &scope, allow_private)));
                Ok((created.id, entry))
            })
        })
        .await
    }

    async fn remove(&self, actor: &Actor, id: i64) -> Result<(), RepoError> {
        let Some(found) = trust_prefix::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(internal("find trust prefix"))?
        else {
            return Err(RepoError::NotFound);
        };
        let scope = match found.tenant_id {
            None => "Global".to_owned(),
            Some(t) => tenant::Entity::find_by_id(t)
                .one(&self.db)
                .await
                .map_err(internal("find tenant for trustlist"))?
                .map(|t| t.name)
                .unwrap_or_default(),
        };
        let entry = AuditEvent::new(
            AuditAction::TrustRemoved,
            found.tenant_id,
            ObjectKind::TrustEntry,
            Some(id),
            found.prefix.clone(),
        )
        .with(diff(
            &fields(&found.prefix, &scope, found.allow_private),
            &[],
        ));
        let only = sea_orm::Condition::all().add(trust_prefix::Column::Id.eq(id));
        delete_where::<trust_prefix::Entity>(&self.db, actor, only, entry, "remove trust prefix")
            .await
    }
}

/// A trustlist entry as an outbound call checks it.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub prefix: TrustPrefix,
    pub allow_private: bool,
}

/// The trustlist entries that apply to a tenant (global and its own), as a call checks them.
pub async fn for_tenant(
    db: &DatabaseConnection,
    tenant_id: i64,
) -> Result<Vec<Allowed>, sea_orm::DbErr> {
    Ok(trust_prefix::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(trust_prefix::Column::TenantId.is_null())
                .add(trust_prefix::Column::TenantId.eq(tenant_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| {
            Some(Allowed {
                prefix: TrustPrefix::parse(&p.prefix).ok()?,
                allow_private: p.allow_private,
            })
        })
        .collect())
}
