//! From a valid channel to its row: references checked in the tenant space, secrets sealed,
//! certificates named, work time encoded; a new row's keys; batches for demo data.

use super::*;
use crate::db::entities::{certificate, channel, ou, skill_queue};
use crate::db::{UniqueOr, internal, is_foreign_key_violation, is_unique_violation, now};
use crate::secrets::SecretScope;
use app::domain::CertificateKind;
use app::domain::channel::{
    ChannelDraft, Credentials, ProviderKind, SecretField, SecretValue, ValidChannel,
    VerificationMethod,
};
use app::domain::worktime::{SegmentInput, WorkTime};
use app::ports::RepoError;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use std::collections::HashMap;

impl SqlChannels {
    pub(super) async fn check_references(
        &self,
        tenant_id: i64,
        c: &ValidChannel,
    ) -> Result<(), RepoError> {
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
    pub(super) async fn write_refused(
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

    pub(super) fn seal(
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
    pub(super) fn apply(
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
        am.app_id = Set(None);
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
                app_id,
                app_secret,
                base_url,
                webhook_password,
                trust_certificate_id,
            } => {
                am.verification_method = Set(Some(VerificationMethod::OAuth.as_str().into()));
                am.username = Set(Some(app_key.clone()));
                am.app_id = Set(*app_id);
                am.base_url = Set(base_url.clone());
                am.trust_certificate_id = Set(*trust_certificate_id);
                // a picked app keeps no secret here: the stored one (if any) is cleared
                if let Some(secret) = app_secret {
                    secrets.insert(SecretField::Password, secret);
                }
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
                auth_token,
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
                // none (or removed): the column is cleared
                if let Some(token) = auth_token {
                    secrets.insert(SecretField::AuthToken, token);
                }
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
                SecretField::AuthToken => am.auth_token_enc = value,
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
        // an import replaces credentials at once: a change it replaces is over
        if existing.rotation_credential.is_some() && replaces_webhook_secret(existing, c) {
            super::rotation::forget(&mut am);
        }
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

/// Whether saving `c` over `existing` sets a new Webhook Password or APP Secret, or another
/// provider.
fn replaces_webhook_secret(existing: &channel::Model, c: &ValidChannel) -> bool {
    use app::domain::rotation::WebhookCredential;
    existing.provider != c.credentials.provider().as_str()
        || [
            WebhookCredential::WebhookPassword,
            WebhookCredential::AppSecret,
        ]
        .into_iter()
        .any(|w| matches!(c.credentials.webhook_secret(w), Some(SecretValue::Set(_))))
}

/// The certificates a channel names, the form field of each and the kind it must be.
pub(super) fn certificate_refs(c: &Credentials) -> Vec<(i64, &'static str, CertificateKind)> {
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

pub(super) fn encode_work_time(w: &WorkTime) -> String {
    w.segments()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn decode_work_time(s: &str) -> Vec<SegmentInput> {
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
                SecretField::AuthToken => &m.auth_token_enc,
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
impl SqlChannels {
    /// A new channel's row: fresh uid and webhook key (and a Verification Code for
    /// cloud-api), version 1, due for its first health check now.
    pub(super) fn new_row(
        &self,
        tenant_id: i64,
        c: &ValidChannel,
    ) -> Result<channel::ActiveModel, RepoError> {
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
        Ok(am)
    }

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
                models.push(self.new_row(tenant_id, c)?);
            }
            let txn = crate::db::begin_write(&self.db)
                .await
                .map_err(internal("begin batch"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
