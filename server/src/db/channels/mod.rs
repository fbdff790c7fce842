//! Channels: the `Channels` port. Every query is scoped by tenant; secrets are sealed with the
//! `SecretBox` before they reach a column and are never read back for a response. Writes here
//! (create, update, delete, scenario key); the row a channel becomes in `rows`, the list's
//! query in `list`, the Overview in `dashboard`, a channel's Activity in `activity`.

mod activity;
mod dashboard;
mod list;
mod rotation;
mod rows;

pub use rotation::sweep_ended as sweep_ended_overlaps;
pub(crate) use rows::{configured, draft_of};

use super::audit;
use super::channel_fields::{self, Names};
use super::entities::{channel, non_working_date, service_weekdays, skill_queue, trust_prefix};
use super::write::delete_owned;
use super::{internal, now};
use crate::secrets::SecretBox;
use crate::secrets::crypto::random_token;
use app::domain::TrustPrefix;
use app::domain::audit::{AuditAction, FieldChange, ObjectKind, created as created_fields, diff};
use app::domain::channel::{ProviderKind, SavedFor, ValidChannel, ValidationContext};
use app::domain::routing::RoutingRules;
use app::domain::service_time::WeekdayRules;
use app::domain::worktime::{SegmentInput, WorkTime};
use app::model::{
    ChannelActivity, ChannelForEdit, ChannelIntegration, ChannelPage, ChannelQuery, Dashboard,
};
use app::ports::{Actor, AuditEvent, Channels, RepoError};
use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, Set, TransactionTrait,
};

#[derive(Clone)]
pub struct SqlChannels {
    db: DatabaseConnection,
    secrets: SecretBox,
    public_base: String,
}

/// 128 random bits, hex.
fn random_key() -> String {
    random_token()[..32].to_owned()
}

/// The edit was made on a version someone else has saved over since.
fn stale() -> RepoError {
    conflict(
        "form",
        "Someone else saved this channel after you opened it. Your changes were not saved: reload the channel, then make them again.",
    )
}

fn conflict(field: &'static str, message: &str) -> RepoError {
    RepoError::Conflict {
        field,
        message: message.to_owned(),
    }
}

impl SqlChannels {
    pub fn new(db: DatabaseConnection, secrets: SecretBox, public_base: String) -> Self {
        Self {
            db,
            secrets,
            public_base,
        }
    }

    async fn find(&self, tenant_id: i64, id: i64) -> Result<channel::Model, RepoError> {
        channel::Entity::find_by_id(id)
            .filter(channel::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("find channel"))?
            .ok_or(RepoError::NotFound)
    }
}

#[async_trait]
impl Channels for SqlChannels {
    async fn list(&self, tenant_id: i64, q: &ChannelQuery) -> Result<ChannelPage, RepoError> {
        self.page(tenant_id, q).await
    }

    async fn validation_context(
        &self,
        tenant_id: i64,
        channel_id: Option<i64>,
    ) -> Result<ValidationContext, RepoError> {
        let trust = trust_prefix::Entity::find()
            .filter(
                Condition::any()
                    .add(trust_prefix::Column::TenantId.is_null())
                    .add(trust_prefix::Column::TenantId.eq(tenant_id)),
            )
            .all(&self.db)
            .await
            .map_err(internal("trustlist for tenant"))?
            .into_iter()
            .filter_map(|p| TrustPrefix::parse(&p.prefix).ok())
            .collect();
        let (configured, saved_for) = match channel_id {
            Some(id) => {
                let m = self.find(tenant_id, id).await?;
                (configured(&m), Some(SavedFor::of(&draft_of(&m))))
            }
            None => (Vec::new(), None),
        };
        let today = now();
        let apps = crate::db::apps::pickable(&self.db, tenant_id)
            .await
            .map_err(internal("apps an oAuth channel may pick"))?;
        Ok(ValidationContext {
            trust,
            configured,
            saved_for,
            apps,
            today: format!(
                "{:04}-{:02}-{:02}",
                today.year(),
                u8::from(today.month()),
                today.day()
            ),
        })
    }

    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        c: &ValidChannel,
    ) -> Result<i64, RepoError> {
        self.check_references(tenant_id, c).await?;
        let am = self.new_row(tenant_id, c)?;
        let txn = crate::db::begin_write(&self.db)
            .await
            .map_err(internal("begin channel"))?;
        let created = match am.insert(&txn).await {
            Ok(created) => created,
            Err(e) => {
                let _ = txn.rollback().await;
                return Err(self.write_refused(tenant_id, c, e, "insert channel").await);
            }
        };
        let names = Names::of_channels(&txn, tenant_id, &[&created])
            .await
            .map_err(internal("channel names"))?;
        let mut changes = created_fields(&channel_fields::fields(&created, &names));
        changes.extend(channel_fields::secret_changes(None, &created));
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::ChannelCreated,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(created.id),
                created.name.clone(),
            )
            .with(changes),
        )
        .await?;
        txn.commit().await.map_err(internal("commit channel"))?;
        super::health::refresh_after(&self.db, &[created.id]).await;
        Ok(created.id)
    }

    async fn update(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
        version: i64,
        c: &ValidChannel,
    ) -> Result<(), RepoError> {
        let existing = self.find(tenant_id, id).await?;
        // the entry's "before" is the version the edit was made on
        if existing.version != version {
            return Err(stale());
        }
        self.check_references(tenant_id, c).await?;
        let mut am = channel::ActiveModel {
            updated_at: Set(now()),
            ..Default::default()
        };
        self.apply(&mut am, tenant_id, &existing.uid, c)?;
        let provider = c.credentials.provider();
        am.verification_code = Set(match (provider, existing.verification_code.clone()) {
            (ProviderKind::CloudApi, Some(code)) => Some(code),
            (ProviderKind::CloudApi, None) => Some(random_key()),
            _ => None,
        });
        if provider == ProviderKind::CloudApi {
            am.scenario_key = Set(None);
        }
        // a new Webhook Password or APP Secret: the previous one is accepted for 24 hours
        let carried = self.carry_previous(&existing, c, &mut am)?;
        // the new version is counted by the database from the stored one (a version sent by
        // a client is only compared, never computed with)
        let txn = crate::db::begin_write(&self.db)
            .await
            .map_err(internal("begin channel update"))?;
        let result = channel::Entity::update_many()
            .set(am)
            .col_expr(
                channel::Column::Version,
                Expr::col(channel::Column::Version).add(1),
            )
            .filter(channel::Column::Id.eq(id))
            .filter(channel::Column::TenantId.eq(tenant_id))
            .filter(channel::Column::Version.eq(version))
            .exec(&txn)
            .await;
        let result = match result {
            Ok(result) => result,
            Err(e) => {
                let _ = txn.rollback().await;
                return Err(self.write_refused(tenant_id, c, e, "update channel").await);
            }
        };
        if result.rows_affected == 0 {
            return Err(stale());
        }
        let after = channel::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(internal("read channel after update"))?
            .ok_or(RepoError::Internal)?;
        let names = Names::of_channels(&txn, tenant_id, &[&existing, &after])
            .await
            .map_err(internal("channel names"))?;
        let mut changes = diff(
            &channel_fields::fields(&existing, &names),
            &channel_fields::fields(&after, &names),
        );
        changes.extend(channel_fields::secret_changes(Some(&existing), &after));
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::ChannelEdited,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(id),
                after.name.clone(),
            )
            .with(changes),
        )
        .await?;
        if let Some((credential, until)) = carried {
            audit::record(
                &txn,
                actor,
                AuditEvent::new(
                    AuditAction::WebhookCredentialChangeStarted,
                    Some(tenant_id),
                    ObjectKind::Channel,
                    Some(id),
                    after.name.clone(),
                )
                .with(created_fields(&[(
                    "Overlap",
                    format!(
                        "{}: the previous one is accepted until {} (saved on Edit)",
                        credential.label(),
                        crate::db::display_time(until)
                    ),
                )])),
            )
            .await?;
        }
        txn.commit()
            .await
            .map_err(internal("commit channel update"))?;
        super::health::refresh_after(&self.db, &[id]).await;
        Ok(())
    }

    async fn for_edit(&self, tenant_id: i64, id: i64) -> Result<ChannelForEdit, RepoError> {
        let m = self.find(tenant_id, id).await?;
        let health = self
            .health_of(std::slice::from_ref(&m))
            .await?
            .remove(&m.id)
            .unwrap_or_default();
        Ok(ChannelForEdit {
            id: m.id,
            version: m.version,
            configured: configured(&m),
            draft: draft_of(&m),
            health,
        })
    }

    async fn exists(&self, tenant_id: i64, id: i64) -> Result<bool, RepoError> {
        Ok(channel::Entity::find_by_id(id)
            .filter(channel::Column::TenantId.eq(tenant_id))
            .count(&self.db)
            .await
            .map_err(internal("channel exists"))?
            > 0)
    }

    async fn delete(&self, actor: &Actor, tenant_id: i64, id: i64) -> Result<(), RepoError> {
        let existing = self.find(tenant_id, id).await?;
        let entry = AuditEvent::new(
            AuditAction::ChannelDeleted,
            Some(tenant_id),
            ObjectKind::Channel,
            Some(id),
            existing.name,
        );
        delete_owned::<channel::Entity>(&self.db, actor, tenant_id, id, entry, "delete channel")
            .await
    }

    async fn integration(&self, tenant_id: i64, id: i64) -> Result<ChannelIntegration, RepoError> {
        let m = self.find(tenant_id, id).await?;
        let base = format!("{}/social/on/whatsapp", self.public_base);
        let cloud = m.provider == ProviderKind::CloudApi.as_str();
        let url = |kind: &str| format!("{base}/{}/{kind}/{}", m.provider, m.webhook_key);
        Ok(ChannelIntegration {
            id: m.id,
            name: m.name.clone(),
            provider: m.provider.clone(),
            message_url: (!cloud).then(|| url("message")),
            report_url: (!cloud).then(|| url("report")),
            callback_url: cloud.then(|| format!("{base}/cloud-api/{}", m.webhook_key)),
            verification_code: if cloud {
                m.verification_code.clone()
            } else {
                None
            },
            scenario_key: if cloud { None } else { m.scenario_key.clone() },
            credentials: ProviderKind::parse(&m.provider)
                .map(|p| app::domain::rotation::WebhookCredential::of(p).to_vec())
                .unwrap_or_default(),
            rotation: rotation::status_of(&m),
            signatures_checked: m.provider == ProviderKind::Twilio.as_str()
                && m.auth_token_enc.is_some(),
            health: self
                .health_of(std::slice::from_ref(&m))
                .await?
                .remove(&m.id)
                .unwrap_or_default(),
            time_zone: self.time_zone_of(tenant_id).await?,
        })
    }

    async fn routing(&self, tenant_id: i64, id: i64) -> Result<(RoutingRules, String), RepoError> {
        let m = self.find(tenant_id, id).await?;
        let d = draft_of(&m);
        let work = |segments: &[SegmentInput]| {
            WorkTime::parse(segments).map_err(|_| {
                internal("stored work time")(DbErr::Custom(format!(
                    "channel {} has work time that does not parse",
                    m.id
                )))
            })
        };
        let weekdays = service_weekdays::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await
            .map_err(internal("weekdays"))?;
        let time_zone = weekdays
            .as_ref()
            .map_or_else(|| "UTC".to_owned(), |w| w.time_zone.clone());
        let rules = weekdays
            .and_then(|w| WeekdayRules::decode(&w.workdays))
            .unwrap_or_default();
        let non_working_dates = non_working_date::Entity::find()
            .filter(non_working_date::Column::TenantId.eq(tenant_id))
            .all(&self.db)
            .await
            .map_err(internal("non-working dates"))?
            .into_iter()
            .map(|d| (d.date, d.name))
            .collect();
        let skill_queue = skill_queue::Entity::find_by_id(m.skill_queue_id)
            .filter(skill_queue::Column::TenantId.eq(tenant_id))
            .one(&self.db)
            .await
            .map_err(internal("skill queue of a channel"))?
            .map_or_else(|| "(removed)".to_owned(), |q| q.name);
        Ok((
            RoutingRules {
                weekdays: rules,
                non_working_dates,
                workday: work(&d.workday)?,
                non_workday: work(&d.non_workday)?,
                notification: m.non_working_notification.clone(),
                keywords: serde_json::from_str(&m.keywords).unwrap_or_default(),
                skill_queue,
                robot: m.robot_access_code.is_some(),
                offline_prompt: m
                    .offline_limit_minutes
                    .is_some()
                    .then(|| m.offline_prompt.clone().unwrap_or_default()),
            },
            time_zone,
        ))
    }

    async fn dashboard(&self, tenant_id: i64) -> Result<Dashboard, RepoError> {
        self.overview(tenant_id).await
    }

    async fn activity(
        &self,
        tenant_id: i64,
        id: i64,
        at: &app::model::PageAt,
    ) -> Result<ChannelActivity, RepoError> {
        self.activity_of(tenant_id, id, at).await
    }

    async fn generate_scenario_key(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<(), RepoError> {
        let m = self.find(tenant_id, id).await?;
        if m.provider == ProviderKind::CloudApi.as_str() {
            return Err(conflict(
                "form",
                "cloud-api channels do not use a scenario key.",
            ));
        }
        if m.scenario_key.is_some() {
            return Ok(());
        }
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin scenario key"))?;
        let result = channel::Entity::update_many()
            .col_expr(channel::Column::ScenarioKey, Expr::value(random_key()))
            .filter(channel::Column::Id.eq(id))
            .filter(channel::Column::TenantId.eq(tenant_id))
            .filter(channel::Column::ScenarioKey.is_null())
            .exec(&txn)
            .await
            .map_err(internal("generate scenario key"))?;
        // a key made by a request at the same moment is that request's entry
        if result.rows_affected > 0 {
            audit::record(
                &txn,
                actor,
                AuditEvent::new(
                    AuditAction::ScenarioKeyGenerated,
                    Some(tenant_id),
                    ObjectKind::Channel,
                    Some(id),
                    m.name,
                )
                .with(vec![FieldChange::secret("Scenario Key", false, true)]),
            )
            .await?;
        }
        txn.commit()
            .await
            .map_err(internal("commit scenario key"))?;
        Ok(())
    }

    async fn change_webhook_credential(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
        change: &app::model::CredentialChange,
    ) -> Result<app::model::CredentialChanged, RepoError> {
        self.change_credential(actor, tenant_id, id, change).await
    }

    async fn end_webhook_overlap(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<(), RepoError> {
        self.end_overlap(actor, tenant_id, id).await
    }
}
