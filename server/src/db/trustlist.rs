//! The address trustlist: the `Trustlist` port.

use super::entities::{tenant, trust_prefix};
use super::{display_time, internal, is_unique_violation, now};
use app::domain::TrustPrefix;
use app::model::TrustEntry;
use app::ports::{RepoError, Trustlist};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

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
        prefix: &TrustPrefix,
        tenant_id: Option<i64>,
        allow_private: bool,
    ) -> Result<i64, RepoError> {
        if let Some(t) = tenant_id {
            let exists = tenant::Entity::find_by_id(t)
                .one(&self.db)
                .await
                .map_err(internal("find tenant for trustlist"))?
                .is_some();
            if !exists {
                return Err(RepoError::Conflict {
                    field: "scope",
                    message: "That tenant space does not exist.".into(),
                });
            }
        }
        let created = trust_prefix::ActiveModel {
            prefix: Set(prefix.as_str().to_owned()),
            tenant_id: Set(tenant_id),
            scope_key: Set(tenant_id.map_or_else(|| "global".to_string(), |t| t.to_string())),
            created_at: Set(now()),
            allow_private: Set(allow_private),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                RepoError::Conflict {
                    field: "prefix",
                    message: "This prefix is already on the trustlist for that scope.".into(),
                }
            } else {
                internal("insert trust prefix")(e)
            }
        })?;
        Ok(created.id)
    }

    async fn remove(&self, id: i64) -> Result<(), RepoError> {
        let result = trust_prefix::Entity::delete_many()
            .filter(trust_prefix::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(internal("delete trust prefix"))?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }
}

/// The trustlist entries that apply to a tenant (global and its own), as a call checks them.
pub async fn for_tenant(
    db: &DatabaseConnection,
    tenant_id: i64,
) -> Result<Vec<crate::providers::client::Allowed>, sea_orm::DbErr> {
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
            Some(crate::providers::client::Allowed {
                prefix: TrustPrefix::parse(&p.prefix).ok()?,
                allow_private: p.allow_private,
            })
        })
        .collect())
}
