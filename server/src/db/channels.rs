//! Channels: the `Channels` port. Every query is scoped by tenant; secrets are sealed with the
//! `SecretBox` before they reach a column and are never read back for a response.

use super::audit;
use super::channel_fields::{self, Names};
use super::entities::{
    certificate, channel, non_working_date, ou, service_weekdays, skill_queue, trust_prefix,
    webhook_count, webhook_event,
};
use super::{UniqueOr, display_time, internal, is_foreign_key_violation, is_unique_violation, now};
use crate::crypto::random_token;
use crate::secrets::{SecretBox, SecretScope};
use app::domain::audit::{AuditAction, FieldChange, ObjectKind, created as created_fields, diff};
use app::domain::channel::{
    ChannelDraft, Credentials, ProviderKind, SavedFor, SecretField, SecretValue, ValidChannel,
    ValidationContext, VerificationMethod,
};
use app::domain::health::{self, Health, HealthLevel};
use app::domain::routing::RoutingRules;
use app::domain::service_time::WeekdayRules;
use app::domain::worktime::{SegmentInput, WorkTime};
use app::domain::{CertificateKind, TrustPrefix};
use app::model::{
    ActivityEvent, AttentionChannel, ChannelActivity, ChannelForEdit, ChannelIntegration,
    ChannelPage, ChannelQuery, ChannelSort, ChannelSummary, Dashboard, EndpointActivity,
    ExpiringCertificate, LastTest, OutboundTimeline, RefusedDelivery,
};
use app::ports::{Actor, AuditEvent, Channels, RepoError};
use async_trait::async_trait;
use sea_orm::sea_query::{Alias, Expr, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::HashMap;

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

    /// The ids a channel refers to must be the tenant's: another tenant's id is answered like
    /// a missing one.
    async fn check_references(&self, tenant_id: i64, c: &ValidChannel) -> Result<(), RepoError> {
        let b = &c.basic;
        let queues: Vec<(i64, &'static str, &'static str)> =
            std::iter::once((b.skill_queue_id, "skill_queue_id", "Choose a skill queue."))
                .chain(
                    b.no_agent_transfer
                        .map(|(_, q)| (q, "no_agent_queue_id", "Choose a target skill queue.")),
                )
                .collect();
        for (id, field, message) in queues {
            let n = skill_queue::Entity::find_by_id(id)
                .filter(skill_queue::Column::TenantId.eq(tenant_id))
                .count(&self.db)
                .await
                .map_err(internal("check skill queue"))?;
            if n == 0 {
                return Err(conflict(field, message));
            }
        }
        if let Some(id) = b.ou_id {
            let n = ou::Entity::find_by_id(id)
                .filter(ou::Column::TenantId.eq(tenant_id))
                .count(&self.db)
                .await
                .map_err(internal("check ou"))?;
            if n == 0 {
                return Err(conflict("ou_id", "Choose a OU."));
            }
        }
        for (id, field, kind) in certificate_refs(&c.credentials) {
            let found = certificate::Entity::find_by_id(id)
                .filter(certificate::Column::TenantId.eq(tenant_id))
                .one(&self.db)
                .await
                .map_err(internal("check certificate"))?;
            match found {
                None => return Err(conflict(field, "Choose a certificate.")),
                Some(cert) if cert.kind != kind.as_str() => {
                    return Err(conflict(
                        field,
                        &format!(
                            "'{}' is not {}: choose one uploaded as that kind.",
                            cert.name,
                            match kind {
                                CertificateKind::Identity => "an identity certificate",
                                CertificateKind::Trust => "a trust certificate",
                                CertificateKind::Authentication => "an authentication certificate",
                            }
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// What to answer when the database refused a channel's write: its name is taken, or
    /// something it names (an OU, a skill queue, a certificate) was deleted since it was
    /// checked — which one is found by checking again.
    async fn write_refused(
        &self,
        tenant_id: i64,
        c: &ValidChannel,
        e: DbErr,
        what: &'static str,
    ) -> RepoError {
        if is_unique_violation(&e) {
            return conflict(
                "name",
                &format!("A channel named '{}' exists already.", c.name.as_str()),
            );
        }
        if is_foreign_key_violation(&e) {
            return match self.check_references(tenant_id, c).await {
                Err(gone) => gone,
                Ok(()) => conflict(
                    "form",
                    "Something this channel names was deleted while it was saved: check its OU, skill queues and certificates, and save again.",
                ),
            };
        }
        internal(what)(e)
    }

    fn seal(
        &self,
        value: &SecretValue,
        tenant_id: i64,
        uid: &str,
        field: SecretField,
    ) -> Result<ActiveValue<Option<Vec<u8>>>, RepoError> {
        match value {
            SecretValue::Keep => Ok(ActiveValue::NotSet),
            SecretValue::Set(plain) => self
                .secrets
                .seal(
                    plain,
                    SecretScope {
                        tenant_id,
                        channel: uid,
                        field: field.field(),
                    },
                )
                .map(|b| Set(Some(b)))
                .map_err(|e| {
                    tracing::error!(error = %e, "sealing a secret");
                    RepoError::Internal
                }),
        }
    }

    /// Writes every column of `c` into `am` (secrets sealed; `Keep` leaves a column as is, and
    /// secrets the provider does not use are cleared).
    fn apply(
        &self,
        am: &mut channel::ActiveModel,
        tenant_id: i64,
        uid: &str,
        c: &ValidChannel,
    ) -> Result<(), RepoError> {
        let mut secrets: HashMap<SecretField, &SecretValue> = HashMap::new();
        am.name = Set(c.name.as_str().to_owned());
        am.name_key = Set(c.name.as_str().to_lowercase());
        am.channel_type = Set("whatsapp".into());
        am.provider = Set(c.credentials.provider().as_str().to_owned());
        am.verification_method = Set(None);
        am.phone_number = Set(None);
        am.username = Set(None);
        am.app_key = Set(None);
        am.token_valid_until = Set(None);
        am.api_key_sid = Set(None);
        am.account_sid = Set(None);
        am.webhook_user = Set(None);
        am.auth_certificate_id = Set(None);
        am.trust_certificate_id = Set(None);
        am.identity_certificate_id = Set(None);
        match &c.credentials {
            Credentials::Infobip {
                phone_number,
                username,
                password,
                base_url,
                account_key,
                webhook_password,
                auth_certificate_id,
            } => {
                am.phone_number = Set(Some(phone_number.clone()));
                am.username = Set(Some(username.clone()));
                am.base_url = Set(base_url.clone());
                am.auth_certificate_id = Set(*auth_certificate_id);
                secrets.insert(SecretField::Password, password);
                secrets.insert(SecretField::AccountKey, account_key);
                secrets.insert(SecretField::WebhookPassword, webhook_password);
            }
            Credentials::OtherBasic {
                phone_number,
                username,
                password,
                base_url,
                authentication_key,
                webhook_password,
                trust_certificate_id,
                identity_certificate_id,
            } => {
                am.verification_method = Set(Some(VerificationMethod::Basic.as_str().into()));
                am.phone_number = Set(Some(phone_number.clone()));
                am.username = Set(Some(username.clone()));
                am.base_url = Set(base_url.clone());
                am.trust_certificate_id = Set(*trust_certificate_id);
                am.identity_certificate_id = Set(*identity_certificate_id);
                secrets.insert(SecretField::Password, password);
                secrets.insert(SecretField::AuthenticationKey, authentication_key);
                secrets.insert(SecretField::WebhookPassword, webhook_password);
            }
            Credentials::OtherOAuth {
                app_key,
                app_secret,
                base_url,
                webhook_password,
                trust_certificate_id,
            } => {
                am.verification_method = Set(Some(VerificationMethod::OAuth.as_str().into()));
                am.username = Set(Some(app_key.clone()));
                am.base_url = Set(base_url.clone());
                am.trust_certificate_id = Set(*trust_certificate_id);
                secrets.insert(SecretField::Password, app_secret);
                secrets.insert(SecretField::WebhookPassword, webhook_password);
            }
            Credentials::CloudApi {
                app_key,
                app_secret,
                phone_number,
                base_url,
                access_token,
                token_valid_until,
                trust_certificate_id,
                identity_certificate_id,
            } => {
                am.app_key = Set(Some(app_key.clone()));
                am.phone_number = Set(Some(phone_number.clone()));
                am.base_url = Set(base_url.clone());
                am.token_valid_until = Set(Some(token_valid_until.clone()));
                am.trust_certificate_id = Set(*trust_certificate_id);
                am.identity_certificate_id = Set(*identity_certificate_id);
                secrets.insert(SecretField::AppSecret, app_secret);
                secrets.insert(SecretField::AccessToken, access_token);
            }
            Credentials::Twilio {
                phone_number,
                api_key_sid,
                api_key_secret,
                base_url,
                account_sid,
                webhook_user,
                webhook_password,
                auth_certificate_id,
            } => {
                am.phone_number = Set(Some(phone_number.clone()));
                am.api_key_sid = Set(Some(api_key_sid.clone()));
                am.base_url = Set(base_url.clone());
                am.account_sid = Set(Some(account_sid.clone()));
                am.webhook_user = Set(Some(webhook_user.clone()));
                am.auth_certificate_id = Set(*auth_certificate_id);
                secrets.insert(SecretField::ApiKeySecret, api_key_secret);
                secrets.insert(SecretField::WebhookPassword, webhook_password);
            }
        }
        for field in SecretField::ALL {
            let value = match secrets.get(&field) {
                Some(v) => self.seal(v, tenant_id, uid, field)?,
                None => Set(None),
            };
            match field {
                SecretField::Password => am.password_enc = value,
                SecretField::AccountKey => am.account_key_enc = value,
                SecretField::AuthenticationKey => am.authentication_key_enc = value,
                SecretField::WebhookPassword => am.webhook_password_enc = value,
                SecretField::AppSecret => am.app_secret_enc = value,
                SecretField::AccessToken => am.access_token_enc = value,
                SecretField::ApiKeySecret => am.api_key_secret_enc = value,
            }
        }
        let b = &c.basic;
        am.ou_id = Set(b.ou_id);
        am.skill_queue_id = Set(b.skill_queue_id);
        am.keywords = Set(serde_json::to_string(&b.keywords).unwrap_or_else(|_| "[]".into()));
        am.workday = Set(encode_work_time(&b.workday));
        am.non_workday = Set(encode_work_time(&b.non_workday));
        am.non_working_notification = Set(b.non_working_notification.clone());
        am.last_agent_days = Set(b.last_agent_days.map(i32::from));
        am.no_reply_minutes = Set(b.no_reply_end.as_ref().map(|(m, _)| i32::from(*m)));
        am.no_reply_message = Set(b.no_reply_end.as_ref().map(|(_, msg)| msg.clone()));
        am.no_agent_seconds = Set(b.no_agent_transfer.map(|(s, _)| i32::from(s)));
        am.no_agent_queue_id = Set(b.no_agent_transfer.map(|(_, q)| q));
        am.session_transfer = Set(b.session_transfer);
        am.offline_prompt = Set(b.offline_messages.as_ref().map(|(p, _)| p.clone()));
        am.offline_limit_minutes = Set(b.offline_messages.as_ref().map(|(_, l)| i32::from(*l)));
        am.robot_access_code = Set(c.robot.access_code.clone());
        am.robot_assistant = Set(c.robot.assistant);
        Ok(())
    }
}

impl SqlChannels {
    /// What saving `c` over `existing` writes (an import's change: the provider and its
    /// credentials stay, so the verification code and scenario key stay too): the columns
    /// that change and `updated_at`; and the channel as it will read afterwards, for the diff.
    pub(crate) fn edited(
        &self,
        existing: &channel::Model,
        c: &ValidChannel,
    ) -> Result<(channel::ActiveModel, channel::Model), RepoError> {
        use sea_orm::{Iterable, ModelTrait};
        let mut am = <channel::ActiveModel as Default>::default();
        self.apply(&mut am, existing.tenant_id, &existing.uid, c)?;
        // only what changes is written: an UPDATE that sets an indexed column rewrites its
        // index entries even when the value is the same
        let mut after = existing.clone();
        for column in channel::Column::iter() {
            if let ActiveValue::Set(v) = am.get(column) {
                if existing.get(column) == v {
                    am.not_set(column);
                } else {
                    after.set(column, v);
                }
            }
        }
        am.updated_at = Set(now());
        after.updated_at = now();
        Ok((am, after))
    }
}

/// The certificates a channel names, the form field of each and the kind it must be.
fn certificate_refs(c: &Credentials) -> Vec<(i64, &'static str, CertificateKind)> {
    let (auth, trust, identity) = match c {
        Credentials::Infobip {
            auth_certificate_id,
            ..
        }
        | Credentials::Twilio {
            auth_certificate_id,
            ..
        } => (*auth_certificate_id, None, None),
        Credentials::OtherBasic {
            trust_certificate_id,
            identity_certificate_id,
            ..
        }
        | Credentials::CloudApi {
            trust_certificate_id,
            identity_certificate_id,
            ..
        } => (None, *trust_certificate_id, *identity_certificate_id),
        Credentials::OtherOAuth {
            trust_certificate_id,
            ..
        } => (None, *trust_certificate_id, None),
    };
    [
        (auth, "auth_certificate_id", CertificateKind::Authentication),
        (trust, "trust_certificate_id", CertificateKind::Trust),
        (
            identity,
            "identity_certificate_id",
            CertificateKind::Identity,
        ),
    ]
    .into_iter()
    .filter_map(|(id, f, k)| id.map(|id| (id, f, k)))
    .collect()
}

fn encode_work_time(w: &WorkTime) -> String {
    w.segments()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_work_time(s: &str) -> Vec<SegmentInput> {
    s.split(',')
        .filter_map(|seg| seg.split_once('-'))
        .map(|(a, b)| SegmentInput::new(a, b))
        .collect()
}

pub(crate) fn configured(m: &channel::Model) -> Vec<SecretField> {
    SecretField::ALL
        .into_iter()
        .filter(|f| {
            match f {
                SecretField::Password => &m.password_enc,
                SecretField::AccountKey => &m.account_key_enc,
                SecretField::AuthenticationKey => &m.authentication_key_enc,
                SecretField::WebhookPassword => &m.webhook_password_enc,
                SecretField::AppSecret => &m.app_secret_enc,
                SecretField::AccessToken => &m.access_token_enc,
                SecretField::ApiKeySecret => &m.api_key_secret_enc,
            }
            .is_some()
        })
        .collect()
}

/// The form as it was saved; secret fields empty.
pub(crate) fn draft_of(m: &channel::Model) -> ChannelDraft {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let id = |v: Option<i64>| v.map(|i| i.to_string()).unwrap_or_default();
    let num = |v: Option<i32>| v.map(|i| i.to_string()).unwrap_or_default();
    let keywords: Vec<String> = serde_json::from_str(&m.keywords).unwrap_or_default();
    let oauth = m.verification_method.as_deref() == Some(VerificationMethod::OAuth.as_str());
    ChannelDraft {
        provider: m.provider.clone(),
        verification_method: opt(&m.verification_method),
        phone_number: opt(&m.phone_number),
        username: opt(&m.username),
        base_url: m.base_url.clone(),
        webhook_user: opt(&m.webhook_user),
        app_key: if oauth {
            String::new()
        } else {
            opt(&m.app_key)
        },
        token_valid_until: opt(&m.token_valid_until),
        api_key_sid: opt(&m.api_key_sid),
        account_sid: opt(&m.account_sid),
        auth_certificate_id: id(m.auth_certificate_id),
        trust_certificate_id: id(m.trust_certificate_id),
        identity_certificate_id: id(m.identity_certificate_id),
        name: m.name.clone(),
        ou_id: id(m.ou_id),
        skill_queue_id: m.skill_queue_id.to_string(),
        keywords: keywords.join(", "),
        workday: decode_work_time(&m.workday),
        non_workday: decode_work_time(&m.non_workday),
        non_working_notification: m.non_working_notification.clone(),
        last_agent_mode: m.last_agent_days.is_some(),
        last_agent_days: num(m.last_agent_days),
        no_reply_end: m.no_reply_minutes.is_some(),
        no_reply_minutes: num(m.no_reply_minutes),
        no_reply_message: opt(&m.no_reply_message),
        no_agent_transfer: m.no_agent_seconds.is_some(),
        no_agent_seconds: num(m.no_agent_seconds),
        no_agent_queue_id: id(m.no_agent_queue_id),
        session_transfer: m.session_transfer,
        offline_messages: m.offline_limit_minutes.is_some(),
        offline_prompt: opt(&m.offline_prompt),
        offline_limit_minutes: num(m.offline_limit_minutes),
        robot: m.robot_access_code.is_some(),
        robot_access_code: opt(&m.robot_access_code),
        robot_assistant: m.robot_assistant,
        ..ChannelDraft::default()
    }
}

/// `%text%` with LIKE's wildcards escaped.
fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl SqlChannels {
    /// Inserts many valid channels at once (demo data, benchmarks), in one transaction per
    /// batch of 500. References are not checked: the caller made them.
    pub async fn insert_batch(
        &self,
        tenant_id: i64,
        channels: &[ValidChannel],
    ) -> Result<(), RepoError> {
        for chunk in channels.chunks(500) {
            let mut models = Vec::with_capacity(chunk.len());
            for c in chunk {
                let uid = random_key();
                let mut am = channel::ActiveModel {
                    tenant_id: Set(tenant_id),
                    uid: Set(uid.clone()),
                    webhook_key: Set(random_key()),
                    verification_code: Set(
                        (c.credentials.provider() == ProviderKind::CloudApi).then(random_key)
                    ),
                    scenario_key: Set(None),
                    version: Set(1),
                    created_at: Set(now()),
                    updated_at: Set(now()),
                    // the health sweep computes it
                    health_due_at: Set(Some(now())),
                    ..Default::default()
                };
                self.apply(&mut am, tenant_id, &uid, c)?;
                models.push(am);
            }
            let txn = self.db.begin().await.map_err(internal("begin batch"))?;
            channel::Entity::insert_many(models)
                .exec(&txn)
                .await
                .unique_or(
                    "name",
                    "A channel with one of these names exists already.",
                    "insert channel batch",
                )?;
            txn.commit().await.map_err(internal("commit batch"))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Channels for SqlChannels {
    async fn list(&self, tenant_id: i64, q: &ChannelQuery) -> Result<ChannelPage, RepoError> {
        use channel::Column as C;
        let mut filter = Condition::all().add(C::TenantId.eq(tenant_id));
        if !q.search.is_empty() {
            filter = filter.add(
                Expr::col(C::NameKey).like(LikeExpr::new(contains_pattern(&q.search)).escape('\\')),
            );
        }
        if !q.provider.is_empty() {
            filter = filter.add(C::Provider.eq(q.provider.clone()));
        }
        let mut counted = channel::Entity::find().filter(filter.clone());
        if q.attention {
            counted = counted.filter(C::Health.gt(0));
        }
        let total = counted
            .count(&self.db)
            .await
            .map_err(internal("count channels"))?;
        if q.attention {
            // counted with the health index above; for the page sorted by anything else, the
            // unary `+` keeps SQLite on the sort's index (filtering the health read from
            // `idx_channels_name_health`) instead of sorting every unhealthy channel
            filter = filter.add(if q.sort == ChannelSort::Health {
                Expr::col(C::Health).gt(0)
            } else {
                Expr::cust("+health > 0")
            });
        }
        let order = if q.descending {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        };
        let mut select = channel::Entity::find().filter(filter);
        select = match q.sort {
            ChannelSort::Name => select.order_by(C::NameKey, order),
            ChannelSort::Provider => select
                .order_by(C::Provider, order.clone())
                .order_by(C::NameKey, sea_orm::Order::Asc),
            ChannelSort::Updated => select
                .order_by(C::UpdatedAt, order.clone())
                .order_by(C::Id, order),
            // (tenant_id, health, name_key) is an index: worst first, then by name
            ChannelSort::Health => select
                .order_by(C::Health, order)
                .order_by(C::NameKey, sea_orm::Order::Asc),
        };
        let rows: Vec<channel::Model> = select
            .offset(u64::from(q.page - 1) * u64::from(q.per_page))
            .limit(u64::from(q.per_page))
            .all(&self.db)
            .await
            .map_err(internal("list channels"))?;
        let ou_ids: Vec<i64> = rows.iter().filter_map(|r| r.ou_id).collect();
        let queue_ids: Vec<i64> = rows.iter().map(|r| r.skill_queue_id).collect();
        let ous: HashMap<i64, String> = if ou_ids.is_empty() {
            HashMap::new()
        } else {
            ou::Entity::find()
                .filter(ou::Column::TenantId.eq(tenant_id))
                .filter(ou::Column::Id.is_in(ou_ids))
                .all(&self.db)
                .await
                .map_err(internal("names of ous"))?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect()
        };
        let queues: HashMap<i64, String> = if queue_ids.is_empty() {
            HashMap::new()
        } else {
            skill_queue::Entity::find()
                .filter(skill_queue::Column::TenantId.eq(tenant_id))
                .filter(skill_queue::Column::Id.is_in(queue_ids))
                .all(&self.db)
                .await
                .map_err(internal("names of queues"))?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect()
        };
        let mut health = self.health_of(&rows).await?;
        Ok(ChannelPage {
            rows: rows
                .into_iter()
                .map(|m| ChannelSummary {
                    id: m.id,
                    channel_type: "WhatsApp".into(),
                    ou: m.ou_id.and_then(|o| ous.get(&o).cloned()),
                    skill_queue: queues.get(&m.skill_queue_id).cloned().unwrap_or_default(),
                    scenario_key: m.scenario_key.is_some(),
                    updated: display_time(m.updated_at),
                    last_received: m.last_accepted_at.map(display_time),
                    last_test: match (m.last_test_ok, m.last_test_at) {
                        (Some(ok), Some(at)) => Some(LastTest {
                            ok,
                            at: display_time(at),
                            summary: m.last_test_summary.clone().unwrap_or_default(),
                        }),
                        _ => None,
                    },
                    health: health.remove(&m.id).unwrap_or_default(),
                    name: m.name,
                    provider: m.provider,
                })
                .collect(),
            total,
            page: q.page,
            per_page: q.per_page,
        })
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
        Ok(ValidationContext {
            trust,
            configured,
            saved_for,
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
        let uid = random_key();
        let mut am = channel::ActiveModel {
            tenant_id: Set(tenant_id),
            uid: Set(uid.clone()),
            webhook_key: Set(random_key()),
            verification_code: Set(
                (c.credentials.provider() == ProviderKind::CloudApi).then(random_key)
            ),
            scenario_key: Set(None),
            version: Set(1),
            created_at: Set(now()),
            updated_at: Set(now()),
            health_due_at: Set(Some(now())),
            ..Default::default()
        };
        self.apply(&mut am, tenant_id, &uid, c)?;
        let txn = self.db.begin().await.map_err(internal("begin channel"))?;
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
        // the new version is counted by the database from the stored one (a version sent by
        // a client is only compared, never computed with)
        let txn = self
            .db
            .begin()
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
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin channel delete"))?;
        let result = channel::Entity::delete_many()
            .filter(channel::Column::TenantId.eq(tenant_id))
            .filter(channel::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(internal("delete channel"))?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::ChannelDeleted,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(id),
                existing.name,
            ),
        )
        .await?;
        txn.commit()
            .await
            .map_err(internal("commit channel delete"))?;
        Ok(())
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
        use channel::Column as C;
        // the few unhealthy ones grouped, the rest by one count (both on covering indexes)
        let counts: Vec<(i16, i64)> = channel::Entity::find()
            .select_only()
            .column(C::Health)
            .column_as(C::Id.count(), "n")
            .filter(C::TenantId.eq(tenant_id))
            .filter(C::Health.gt(0))
            .group_by(C::Health)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(internal("health counts"))?;
        let all = channel::Entity::find()
            .filter(C::TenantId.eq(tenant_id))
            .count(&self.db)
            .await
            .map_err(internal("count channels"))?;
        let mut out = Dashboard::default();
        for (rank, n) in counts {
            let n = u64::try_from(n).unwrap_or(0);
            match HealthLevel::from_rank(rank) {
                HealthLevel::Attention => out.attention += n,
                _ => out.failing += n,
            }
        }
        out.ok = all.saturating_sub(out.attention + out.failing);
        let worst = channel::Entity::find()
            .filter(C::TenantId.eq(tenant_id))
            .filter(C::Health.gt(0))
            .order_by(C::Health, sea_orm::Order::Desc)
            .order_by(C::NameKey, sea_orm::Order::Asc)
            .limit(20)
            .all(&self.db)
            .await
            .map_err(internal("channels needing attention"))?;
        let mut health = self.health_of(&worst).await?;
        out.needs_attention = worst
            .into_iter()
            .map(|m| AttentionChannel {
                health: health.remove(&m.id).unwrap_or_default(),
                id: m.id,
                name: m.name,
                provider: m.provider,
            })
            .collect();
        let now = now();
        let soon = now + time::Duration::days(health::CERTIFICATE_WARNING_DAYS);
        let mut certs: Vec<ExpiringCertificate> = certificate::Entity::find()
            .filter(certificate::Column::TenantId.eq(tenant_id))
            // a chain may hold a member that expires before the first certificate
            .filter(
                Condition::any()
                    .add(certificate::Column::NotAfter.lte(soon))
                    .add(certificate::Column::ChainPem.is_not_null()),
            )
            .all(&self.db)
            .await
            .map_err(internal("certificates expiring"))?
            .into_iter()
            .filter_map(|m| {
                let earliest = super::certificates::members_of(&m)
                    .iter()
                    .map(|p| p.not_after)
                    .min()
                    .unwrap_or(m.not_after);
                (earliest <= soon).then(|| ExpiringCertificate {
                    id: m.id,
                    name: m.name,
                    kind: m.kind,
                    not_after: super::certificates::day(earliest),
                    expired: earliest <= now,
                })
            })
            .collect();
        certs.sort_by(|a, b| a.not_after.cmp(&b.not_after).then(a.name.cmp(&b.name)));
        out.certificates = certs;
        let hour = now.unix_timestamp().div_euclid(3600);
        let (accepted, refused): (Option<i64>, Option<i64>) = webhook_count::Entity::find()
            .select_only()
            // PostgreSQL sums bigints as numeric
            .column_as(
                Expr::col(webhook_count::Column::Accepted)
                    .sum()
                    .cast_as(Alias::new("BIGINT")),
                "a",
            )
            .column_as(
                Expr::col(webhook_count::Column::Refused)
                    .sum()
                    .cast_as(Alias::new("BIGINT")),
                "r",
            )
            .filter(webhook_count::Column::TenantId.eq(tenant_id))
            .filter(webhook_count::Column::Hour.gt(hour - 24))
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(internal("deliveries in 24 hours"))?
            .unwrap_or_default();
        out.accepted_24h = u64::try_from(accepted.unwrap_or(0)).unwrap_or(0);
        out.refused_24h = u64::try_from(refused.unwrap_or(0)).unwrap_or(0);
        Ok(out)
    }

    async fn activity(
        &self,
        tenant_id: i64,
        id: i64,
        page: u32,
    ) -> Result<ChannelActivity, RepoError> {
        self.activity_of(tenant_id, id, page).await
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
}

impl SqlChannels {
    /// The newest test messages of a channel (at most 10), each with its reports in order.
    async fn sent_of(&self, channel_id: i64) -> Result<Vec<OutboundTimeline>, RepoError> {
        use super::entities::{outbound_message, outbound_status};
        let sent = outbound_message::Entity::find()
            .filter(outbound_message::Column::ChannelId.eq(channel_id))
            .order_by_desc(outbound_message::Column::Id)
            .limit(10)
            .all(&self.db)
            .await
            .map_err(internal("sent messages"))?;
        let ids: Vec<i64> = sent.iter().map(|m| m.id).collect();
        let mut statuses: HashMap<i64, Vec<(String, String, Option<String>)>> = HashMap::new();
        if !ids.is_empty() {
            for s in outbound_status::Entity::find()
                .filter(outbound_status::Column::OutboundId.is_in(ids))
                .order_by_asc(outbound_status::Column::Id)
                .all(&self.db)
                .await
                .map_err(internal("sent message statuses"))?
            {
                statuses.entry(s.outbound_id).or_default().push((
                    s.status,
                    display_time(s.received_at),
                    s.detail,
                ));
            }
        }
        Ok(sent
            .into_iter()
            .map(|m| OutboundTimeline {
                statuses: statuses.remove(&m.id).unwrap_or_default(),
                provider_message_id: m.provider_message_id,
                recipient: m.recipient,
                text: m.text,
                sent: display_time(m.sent_at),
            })
            .collect())
    }

    async fn last_of(&self, channel_id: i64, kind: &str) -> Result<Option<String>, RepoError> {
        Ok(webhook_event::Entity::find()
            .select_only()
            .column_as(webhook_event::Column::ReceivedAt.max(), "last")
            .filter(webhook_event::Column::ChannelId.eq(channel_id))
            .filter(webhook_event::Column::Kind.eq(kind))
            .into_tuple::<Option<time::OffsetDateTime>>()
            .one(&self.db)
            .await
            .map_err(internal("last event"))?
            .flatten()
            .map(display_time))
    }

    /// Per webhook URL of the channel: the last accepted and the last refused delivery.
    async fn endpoints_of(&self, c: &channel::Model) -> Result<Vec<EndpointActivity>, RepoError> {
        use super::entities::{webhook_delivery, webhook_refusal};
        let urls: &[(&str, &str)] = if c.provider == ProviderKind::CloudApi.as_str() {
            &[
                ("cloud", "URL: messages and statuses"),
                ("verify", "URL: verification (Verify and save)"),
            ]
        } else {
            &[
                ("message", "url used to send message to agent"),
                ("report", "url used to send report to agent"),
            ]
        };
        let mut out = Vec::with_capacity(urls.len());
        for (endpoint, label) in urls {
            let last_accepted = if *endpoint == "verify" {
                c.verified_at
            } else {
                webhook_delivery::Entity::find()
                    .select_only()
                    .column_as(webhook_delivery::Column::ReceivedAt.max(), "last")
                    .filter(webhook_delivery::Column::ChannelId.eq(c.id))
                    .filter(webhook_delivery::Column::Endpoint.eq(*endpoint))
                    .into_tuple::<Option<time::OffsetDateTime>>()
                    .one(&self.db)
                    .await
                    .map_err(internal("last accepted delivery"))?
                    .flatten()
            };
            let last_refused = webhook_refusal::Entity::find()
                .select_only()
                .column_as(webhook_refusal::Column::LastAt.max(), "last")
                .filter(webhook_refusal::Column::ChannelId.eq(c.id))
                .filter(webhook_refusal::Column::Endpoint.eq(*endpoint))
                .into_tuple::<Option<time::OffsetDateTime>>()
                .one(&self.db)
                .await
                .map_err(internal("last refused delivery"))?
                .flatten();
            out.push(EndpointActivity {
                refused_last: match (last_refused, last_accepted) {
                    (Some(r), Some(a)) => r > a,
                    (Some(_), None) => true,
                    _ => false,
                },
                label: (*label).to_owned(),
                last_accepted: last_accepted.map(display_time),
                last_refused: last_refused.map(display_time),
            });
        }
        Ok(out)
    }

    /// The newest refused deliveries of a channel (at most 50 shown), in words.
    async fn refused_of(&self, channel_id: i64) -> Result<Vec<RefusedDelivery>, RepoError> {
        use super::entities::webhook_refusal;
        use app::domain::refusal::Refusal;
        Ok(webhook_refusal::Entity::find()
            .filter(webhook_refusal::Column::ChannelId.eq(channel_id))
            .order_by_desc(webhook_refusal::Column::Id)
            .limit(50)
            .all(&self.db)
            .await
            .map_err(internal("refused deliveries"))?
            .into_iter()
            .map(|r| {
                let kind = Refusal::parse(&r.reason);
                let words = kind.map_or("Refused", Refusal::reason);
                RefusedDelivery {
                    at: display_time(r.last_at),
                    count: u64::try_from(r.count).unwrap_or(0),
                    endpoint: r.endpoint,
                    status: u16::try_from(r.status).unwrap_or(0),
                    reason: match r.detail {
                        Some(detail) => format!("{words}: {detail}"),
                        None => words.to_owned(),
                    },
                    fix: kind.map_or("", Refusal::fix).to_owned(),
                    source: r.source,
                    content_type: r.content_type,
                    size: u64::try_from(r.size).unwrap_or(0),
                }
            })
            .collect())
    }

    /// Health of each channel, computed now from what is stored.
    pub async fn health_of(
        &self,
        rows: &[channel::Model],
    ) -> Result<HashMap<i64, Health>, RepoError> {
        let facts = super::health::facts_of(&self.db, rows)
            .await
            .map_err(internal("health facts"))?;
        let now = now().unix_timestamp();
        Ok(facts
            .into_iter()
            .map(|(id, f)| (id, health::assess(&f, now)))
            .collect())
    }

    async fn time_zone_of(&self, tenant_id: i64) -> Result<String, RepoError> {
        Ok(service_weekdays::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await
            .map_err(internal("time zone"))?
            .map_or_else(|| "UTC".to_owned(), |w| w.time_zone))
    }

    pub async fn activity_of(
        &self,
        tenant_id: i64,
        id: i64,
        page: u32,
    ) -> Result<ChannelActivity, RepoError> {
        const PER_PAGE: u32 = 20;
        let c = self.find(tenant_id, id).await?;
        let filter = webhook_event::Column::ChannelId.eq(c.id);
        let total = webhook_event::Entity::find()
            .filter(filter.clone())
            .count(&self.db)
            .await
            .map_err(internal("count events"))?;
        let events = webhook_event::Entity::find()
            .filter(filter)
            .order_by_desc(webhook_event::Column::ReceivedAt)
            .order_by_desc(webhook_event::Column::Id)
            .offset(u64::from(page - 1) * u64::from(PER_PAGE))
            .limit(u64::from(PER_PAGE))
            .all(&self.db)
            .await
            .map_err(internal("list events"))?
            .into_iter()
            .map(|e| ActivityEvent {
                kind: e.kind,
                provider_message_id: e.provider_message_id,
                sender: e.sender,
                recipient: e.recipient,
                text: e.text,
                status: e.status,
                received: display_time(e.received_at),
            })
            .collect();
        Ok(ChannelActivity {
            id: c.id,
            name: c.name.clone(),
            provider: c.provider.clone(),
            last_message: self.last_of(c.id, "message").await?,
            last_report: self.last_of(c.id, "report").await?,
            sent: self.sent_of(c.id).await?,
            endpoints: self.endpoints_of(&c).await?,
            refused: self.refused_of(c.id).await?,
            events,
            total,
            page,
            per_page: PER_PAGE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("Wa_1"), "%wa\\_1%");
        assert_eq!(contains_pattern("100%"), "%100\\%%");
    }

    #[test]
    fn work_time_round_trips_through_its_column() {
        let w = WorkTime::parse(&[
            SegmentInput::new("09:00", "12:00"),
            SegmentInput::new("13:00", "24:00"),
        ])
        .unwrap();
        let col = encode_work_time(&w);
        assert_eq!(col, "09:00-12:00,13:00-24:00");
        assert_eq!(WorkTime::parse(&decode_work_time(&col)).unwrap(), w);
    }
}
