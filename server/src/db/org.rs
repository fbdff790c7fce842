//! OUs and skill queues: the `Ous` and `SkillQueues` ports. Every query is scoped by tenant.

use super::entities::{channel, ou, skill_queue};
use super::write::{audited, delete_owned};
use super::{UniqueOr, display_time, internal, now};
use app::domain::audit::{AuditAction, ObjectKind, created as created_fields};
use app::domain::{AccessCode, OuName, SkillQueueName};
use app::model::{Ou, SkillQueue};
use app::ports::{Actor, AuditEvent, Ous, RepoError, SkillQueues};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use std::collections::HashMap;

/// How deep OUs may nest.
pub const OU_MAX_DEPTH: u32 = 8;

#[derive(Clone)]
pub struct SqlOrg {
    db: DatabaseConnection,
}

impl SqlOrg {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn find_ou(&self, tenant_id: i64, id: i64) -> Result<Option<ou::Model>, RepoError> {
        ou::Entity::find_by_id(id)
            .filter(ou::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("find ou"))
    }
}

/// Orders OUs depth-first (siblings by name) with depth and path.
fn tree(models: Vec<ou::Model>) -> Vec<Ou> {
    let mut children: HashMap<Option<i64>, Vec<&ou::Model>> = HashMap::new();
    for m in &models {
        children.entry(m.parent_id).or_default().push(m);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.name_key.cmp(&b.name_key).then(a.id.cmp(&b.id)));
    }
    let mut out = Vec::with_capacity(models.len());
    // (node, depth, parent path)
    let mut stack: Vec<(&ou::Model, u32, String)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|m| (*m, 0, String::new())).collect())
        .unwrap_or_default();
    while let Some((m, depth, parent_path)) = stack.pop() {
        let path = if parent_path.is_empty() {
            m.name.clone()
        } else {
            format!("{parent_path} / {}", m.name)
        };
        let kids = children.get(&Some(m.id)).map(Vec::as_slice).unwrap_or(&[]);
        for k in kids.iter().rev() {
            stack.push((*k, depth + 1, path.clone()));
        }
        out.push(Ou {
            id: m.id,
            name: m.name.clone(),
            parent_id: m.parent_id,
            depth,
            path,
            children: kids.len() as u32,
        });
    }
    out
}

#[async_trait]
impl Ous for SqlOrg {
    async fn list(&self, tenant_id: i64) -> Result<Vec<Ou>, RepoError> {
        let models = ou::Entity::find()
            .filter(ou::Column::TenantId.eq(tenant_id))
            .order_by_asc(ou::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal("list ous"))?;
        Ok(tree(models))
    }

    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &OuName,
        parent_id: Option<i64>,
    ) -> Result<i64, RepoError> {
        let mut parent_name = String::new();
        if let Some(parent) = parent_id {
            let no_parent = || RepoError::Conflict {
                field: "parent_id",
                message: "That parent OU does not exist.".into(),
            };
            let mut depth = 1;
            let mut cursor = self
                .find_ou(tenant_id, parent)
                .await?
                .ok_or_else(no_parent)?;
            parent_name = cursor.name.clone();
            while let Some(up) = cursor.parent_id {
                depth += 1;
                cursor = self.find_ou(tenant_id, up).await?.ok_or_else(no_parent)?;
            }
            if depth >= OU_MAX_DEPTH {
                return Err(RepoError::Conflict {
                    field: "parent_id",
                    message: format!("OUs can nest at most {OU_MAX_DEPTH} levels deep."),
                });
            }
        }
        let name = name.as_str().to_owned();
        let row = ou::ActiveModel {
            tenant_id: Set(tenant_id),
            parent_id: Set(parent_id),
            name: Set(name.clone()),
            name_key: Set(name.to_lowercase()),
            created_at: Set(now()),
            ..Default::default()
        };
        audited(&self.db, actor, "create ou", move |txn| {
            Box::pin(async move {
                let created = row.insert(txn).await.unique_or(
                    "name",
                    format!("An OU named '{name}' exists already."),
                    "insert ou",
                )?;
                let event = AuditEvent::new(
                    AuditAction::OuCreated,
                    Some(tenant_id),
                    ObjectKind::Ou,
                    Some(created.id),
                    name.clone(),
                )
                .with(created_fields(&[
                    ("Name", name),
                    ("Parent OU", parent_name),
                ]));
                Ok((created.id, event))
            })
        })
        .await
    }

    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        let Some(found) = self.find_ou(tenant_id, id).await? else {
            return Err(RepoError::NotFound);
        };
        let children = ou::Entity::find()
            .filter(ou::Column::TenantId.eq(tenant_id))
            .filter(ou::Column::ParentId.eq(found.id))
            .count(&self.db)
            .await
            .map_err(internal("count sub-ous"))?;
        if children > 0 {
            return Err(RepoError::Conflict {
                field: "form",
                message: format!("'{}' has sub-OUs: delete them first.", found.name),
            });
        }
        if let Some(c) = channel::Entity::find()
            .filter(channel::Column::TenantId.eq(tenant_id))
            .filter(channel::Column::OuId.eq(found.id))
            .one(&self.db)
            .await
            .map_err(internal("find channel using ou"))?
        {
            return Err(RepoError::Conflict {
                field: "form",
                message: format!(
                    "The channel '{}' is in '{}': move it to another OU first.",
                    c.name, found.name
                ),
            });
        }
        let event = AuditEvent::new(
            AuditAction::OuDeleted,
            Some(tenant_id),
            ObjectKind::Ou,
            Some(found.id),
            found.name,
        );
        delete_owned::<ou::Entity>(&self.db, actor, tenant_id, found.id, event, "delete ou").await
    }
}

#[async_trait]
impl SkillQueues for SqlOrg {
    async fn list(&self, tenant_id: i64) -> Result<Vec<SkillQueue>, RepoError> {
        Ok(skill_queue::Entity::find()
            .filter(skill_queue::Column::TenantId.eq(tenant_id))
            .order_by_asc(skill_queue::Column::NameKey)
            .all(&self.db)
            .await
            .map_err(internal("list skill queues"))?
            .into_iter()
            .map(|q| SkillQueue {
                id: q.id,
                name: q.name,
                access_code: q.access_code,
                created: display_time(q.created_at),
            })
            .collect())
    }

    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &SkillQueueName,
        access_code: &AccessCode,
    ) -> Result<i64, RepoError> {
        let taken = skill_queue::Entity::find()
            .filter(skill_queue::Column::TenantId.eq(tenant_id))
            .filter(skill_queue::Column::AccessCode.eq(access_code.as_str()))
            .count(&self.db)
            .await
            .map_err(internal("check access code"))?;
        if taken > 0 {
            return Err(RepoError::Conflict {
                field: "access_code",
                message: format!(
                    "The access code '{}' is used by another skill queue.",
                    access_code.as_str()
                ),
            });
        }
        let (name, access_code) = (name.as_str().to_owned(), access_code.as_str().to_owned());
        let row = skill_queue::ActiveModel {
            tenant_id: Set(tenant_id),
            name: Set(name.clone()),
            name_key: Set(name.to_lowercase()),
            access_code: Set(access_code.clone()),
            created_at: Set(now()),
            ..Default::default()
        };
        audited(&self.db, actor, "create skill queue", move |txn| {
            Box::pin(async move {
                let created = row.insert(txn).await.unique_or(
                    "name",
                    format!("A skill queue named '{name}' exists already."),
                    "insert skill queue",
                )?;
                let event = AuditEvent::new(
                    AuditAction::SkillQueueCreated,
                    Some(tenant_id),
                    ObjectKind::SkillQueue,
                    Some(created.id),
                    name.clone(),
                )
                .with(created_fields(&[
                    ("Name", name),
                    ("Access code", access_code),
                ]));
                Ok((created.id, event))
            })
        })
        .await
    }

    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        let Some(found) = skill_queue::Entity::find_by_id(id)
            .filter(skill_queue::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("find skill queue"))?
        else {
            return Err(RepoError::NotFound);
        };
        if let Some(c) = channel::Entity::find()
            .filter(channel::Column::TenantId.eq(tenant_id))
            .filter(
                sea_orm::Condition::any()
                    .add(channel::Column::SkillQueueId.eq(id))
                    .add(channel::Column::NoAgentQueueId.eq(id)),
            )
            .one(&self.db)
            .await
            .map_err(internal("find channel using skill queue"))?
        {
            return Err(RepoError::Conflict {
                field: "form",
                message: format!(
                    "The channel '{}' routes to this skill queue: choose another one there first.",
                    c.name
                ),
            });
        }
        let event = AuditEvent::new(
            AuditAction::SkillQueueDeleted,
            Some(tenant_id),
            ObjectKind::SkillQueue,
            Some(id),
            found.name,
        );
        delete_owned::<skill_queue::Entity>(
            &self.db,
            actor,
            tenant_id,
            id,
            event,
            "delete skill queue",
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, parent: Option<i64>, name: &str) -> ou::Model {
        ou::Model {
            id,
            tenant_id: 1,
            parent_id: parent,
            name: name.into(),
            name_key: name.to_lowercase(),
            created_at: now(),
        }
    }

    #[test]
    fn tree_is_depth_first_with_paths() {
        let t = tree(vec![
            m(1, None, "Sales"),
            m(2, Some(1), "EMEA"),
            m(3, None, "Care"),
            m(4, Some(1), "APAC"),
            m(5, Some(2), "Berlin"),
        ]);
        let rows: Vec<(&str, u32, &str)> = t
            .iter()
            .map(|o| (o.name.as_str(), o.depth, o.path.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("Care", 0, "Care"),
                ("Sales", 0, "Sales"),
                ("APAC", 1, "Sales / APAC"),
                ("EMEA", 1, "Sales / EMEA"),
                ("Berlin", 2, "Sales / EMEA / Berlin"),
            ]
        );
        assert_eq!(t[1].children, 2);
    }
}
