//! Alerts: the `Alerts` port (where a tenant space's alerts go, set on the Alerts page), the
//! raising of an alert (a channel turning Failing or recovering, a certificate or token
//! entering a warning window, the daily digest, a test) and the queue of its deliveries that
//! the courier (`crate::alerts`) works through.
//!
//! An alert is raised once: `(tenant_id, dedupe)` is unique, and a health transition raises
//! its alert in the transaction that writes the new level. Each address and the webhook get a
//! delivery of their own, tried again with backoff until it succeeds or its attempts are used.

use super::entities::{alert, alert_attempt, alert_send, alert_settings, certificate, tenant};
use super::write::audited;
use super::{internal, now};
use crate::secrets::{SecretBox, SecretScope};
use app::domain::CertificateKind;
use app::domain::alerts::{ATTEMPTS_KEPT, AlertKind};
use app::domain::audit::{AuditAction, FieldChange, ObjectKind, diff};
use app::model::{AlertAttempt, AlertSettings};
use app::ports::{Actor, AlertTargets, Alerts, AuditEvent, RepoError};
use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::sync::Arc;
use tokio::sync::Notify;

/// Test alerts a tenant space may send: one in this long.
pub const TEST_EVERY: time::Duration = time::Duration::minutes(1);
/// Deliveries waiting in one tenant space's queue beyond which no further alert is raised
/// for it (a space whose targets all fail cannot fill the queue without end).
pub const PENDING_MOST: u64 = 1_000;

/// Where the webhook's signing secret is sealed: bound to the tenant space and this field.
pub fn secret_scope(tenant_id: i64) -> SecretScope<'static> {
    SecretScope {
        tenant_id,
        channel: "alerts",
        field: "webhook_signing_secret",
    }
}

/// A new signing secret: 256 random bits, hex, with a prefix that says what it is.
fn new_secret() -> String {
    format!("sbwhsec_{}", crate::secrets::crypto::random_token())
}

/// The addresses of a stored row (one a line).
pub fn emails_of(s: &alert_settings::Model) -> Vec<String> {
    s.emails
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Clone)]
pub struct SqlAlerts {
    db: DatabaseConnection,
    secrets: SecretBox,
    email_ready: bool,
    /// Wakes the courier when an alert is raised here.
    wake: Arc<Notify>,
}

impl SqlAlerts {
    pub fn new(
        db: DatabaseConnection,
        secrets: SecretBox,
        email_ready: bool,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            secrets,
            email_ready,
            wake,
        }
    }

    async fn row(&self, tenant_id: i64) -> Result<Option<alert_settings::Model>, RepoError> {
        alert_settings::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await
            .map_err(internal("alert settings"))
    }
}

/// How the audit log names the webhook's certificate.
async fn certificate_name<C: ConnectionTrait>(
    conn: &C,
    tenant_id: i64,
    id: Option<i64>,
) -> Result<String, RepoError> {
    let Some(id) = id else {
        return Ok("a public certificate authority".into());
    };
    Ok(certificate::Entity::find_by_id(id)
        .filter(certificate::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await
        .map_err(internal("alert certificate"))?
        .map_or_else(|| format!("certificate {id} (deleted)"), |c| c.name))
}

/// A URL as the audit log shows it: its query (which may carry a receiver's token) left out.
fn shown_url(url: &str) -> String {
    match url.split_once('?') {
        Some((head, _)) => format!("{head}?…"),
        None => url.to_owned(),
    }
}

/// The audit fields of the settings (never the secret).
fn fields(
    emails: &[String],
    webhook: Option<&str>,
    certificate: &str,
    digest: bool,
) -> Vec<(&'static str, String)> {
    vec![
        ("E-mail addresses", emails.join(", ")),
        ("Webhook URL", webhook.map(shown_url).unwrap_or_default()),
        ("Webhook trusts", certificate.to_owned()),
        ("Daily digest", if digest { "on" } else { "off" }.to_owned()),
    ]
}

#[async_trait]
impl Alerts for SqlAlerts {
    async fn settings(&self, tenant_id: i64) -> Result<AlertSettings, RepoError> {
        let row = self.row(tenant_id).await?;
        let attempts = alert_attempt::Entity::find()
            .filter(alert_attempt::Column::TenantId.eq(tenant_id))
            .order_by_desc(alert_attempt::Column::Id)
            .limit(ATTEMPTS_KEPT as u64)
            .all(&self.db)
            .await
            .map_err(internal("alert attempts"))?
            .into_iter()
            .map(|a| AlertAttempt {
                at: super::display_time(a.at),
                kind: AlertKind::parse(&a.kind)
                    .map_or_else(|| a.kind.clone(), |k| k.label().to_owned()),
                subject: a.subject,
                via: if a.via == "email" {
                    "E-mail"
                } else {
                    "Webhook"
                }
                .to_owned(),
                target: a.target,
                ok: a.ok,
                outcome: a.outcome,
            })
            .collect();
        Ok(match row {
            Some(s) => AlertSettings {
                emails: emails_of(&s),
                webhook_url: s.webhook_url.clone(),
                has_secret: s.webhook_secret_enc.is_some(),
                trust_certificate_id: s.trust_certificate_id,
                digest: s.digest,
                email_ready: self.email_ready,
                attempts,
            },
            None => AlertSettings {
                emails: Vec::new(),
                webhook_url: None,
                has_secret: false,
                trust_certificate_id: None,
                digest: false,
                email_ready: self.email_ready,
                attempts,
            },
        })
    }

    async fn save(
        &self,
        actor: &Actor,
        tenant_id: i64,
        targets: &AlertTargets,
    ) -> Result<Option<String>, RepoError> {
        if let Some(id) = targets.trust_certificate_id {
            let found = certificate::Entity::find_by_id(id)
                .filter(certificate::Column::TenantId.eq(tenant_id))
                .one(&self.db)
                .await
                .map_err(internal("alert certificate"))?;
            match found {
                None => {
                    return Err(RepoError::Conflict {
                        field: "trust_certificate_id",
                        message: "This certificate no longer exists: choose another".into(),
                    });
                }
                Some(c) if c.kind == CertificateKind::Identity.as_str() => {
                    return Err(RepoError::Conflict {
                        field: "trust_certificate_id",
                        message: "Choose a trust certificate: an identity certificate is one Switchboard presents, not one it trusts".into(),
                    });
                }
                Some(_) => {}
            }
        }
        if let Some(url) = &targets.webhook_url {
            let allowed = super::trustlist::for_tenant(&self.db, tenant_id)
                .await
                .map_err(internal("alert trustlist"))?;
            if !allowed.iter().any(|a| a.prefix.allows(url)) {
                return Err(RepoError::Conflict {
                    field: "webhook_url",
                    message: "Not on the address trustlist: ask the system administrator to add its prefix".into(),
                });
            }
        }
        // made now, kept only if this save is the one that sets the first secret
        let fresh = new_secret();
        let sealed = self
            .secrets
            .seal(&fresh, secret_scope(tenant_id))
            .map_err(|e| {
                tracing::error!(error = %e, "sealing an alert signing secret");
                RepoError::Internal
            })?;
        let targets = targets.clone();
        audited(&self.db, actor, "save alert settings", move |txn| {
            Box::pin(async move {
                use alert_settings::Column as C;
                // the row as it is under this transaction's lock: two saves at once each see
                // what the other left
                alert_settings::Entity::update_many()
                    .col_expr(
                        C::TenantId,
                        sea_orm::sea_query::Expr::col(C::TenantId).into(),
                    )
                    .filter(C::TenantId.eq(tenant_id))
                    .exec(txn)
                    .await
                    .map_err(internal("lock alert settings"))?;
                let old = alert_settings::Entity::find_by_id(tenant_id)
                    .one(txn)
                    .await
                    .map_err(internal("alert settings"))?;
                let old_certificate = certificate_name(
                    txn,
                    tenant_id,
                    old.as_ref().and_then(|o| o.trust_certificate_id),
                )
                .await?;
                let new_certificate =
                    certificate_name(txn, tenant_id, targets.trust_certificate_id).await?;
                let had_secret = old.as_ref().is_some_and(|o| o.webhook_secret_enc.is_some());
                // a secret is made with the first webhook, kept while there is one, dropped
                // with it
                let (secret_enc, shown) = match (&targets.webhook_url, &old) {
                    (None, _) => (None, None),
                    (Some(_), Some(o)) if o.webhook_secret_enc.is_some() => {
                        (o.webhook_secret_enc.clone(), None)
                    }
                    (Some(_), _) => (Some(sealed), Some(fresh)),
                };
                let before = match &old {
                    Some(o) => fields(
                        &emails_of(o),
                        o.webhook_url.as_deref(),
                        &old_certificate,
                        o.digest,
                    ),
                    None => Vec::new(),
                };
                let after = fields(
                    &targets.emails,
                    targets.webhook_url.as_deref(),
                    &new_certificate,
                    targets.digest,
                );
                let mut changes = diff(&before, &after);
                let has_secret = secret_enc.is_some();
                if had_secret != has_secret {
                    changes.push(FieldChange::secret(
                        "Signing secret",
                        had_secret,
                        has_secret,
                    ));
                }
                let model = alert_settings::ActiveModel {
                    tenant_id: Set(tenant_id),
                    emails: Set(targets.emails.join("\n")),
                    webhook_url: Set(targets.webhook_url.clone()),
                    webhook_secret_enc: Set(secret_enc),
                    trust_certificate_id: Set(targets.trust_certificate_id),
                    digest: Set(targets.digest),
                    updated_at: Set(now()),
                };
                alert_settings::Entity::insert(model)
                    .on_conflict(
                        OnConflict::column(C::TenantId)
                            .update_columns([
                                C::Emails,
                                C::WebhookUrl,
                                C::WebhookSecretEnc,
                                C::TrustCertificateId,
                                C::Digest,
                                C::UpdatedAt,
                            ])
                            .to_owned(),
                    )
                    .exec_without_returning(txn)
                    .await
                    .map_err(internal("save alert settings"))?;
                let event = AuditEvent::new(
                    AuditAction::AlertsSaved,
                    Some(tenant_id),
                    ObjectKind::Alerts,
                    None,
                    "Alerts",
                )
                .with(changes);
                Ok((shown, event))
            })
        })
        .await
    }

    async fn new_secret(&self, actor: &Actor, tenant_id: i64) -> Result<String, RepoError> {
        let has_webhook = self
            .row(tenant_id)
            .await?
            .is_some_and(|s| s.webhook_url.is_some());
        if !has_webhook {
            return Err(RepoError::Conflict {
                field: "form",
                message: "Save a webhook URL first: the secret signs what is sent to it".into(),
            });
        }
        let secret = new_secret();
        let sealed = self
            .secrets
            .seal(&secret, secret_scope(tenant_id))
            .map_err(|e| {
                tracing::error!(error = %e, "sealing an alert signing secret");
                RepoError::Internal
            })?;
        audited(&self.db, actor, "new alert secret", move |txn| {
            Box::pin(async move {
                let written = alert_settings::Entity::update_many()
                    .col_expr(
                        alert_settings::Column::WebhookSecretEnc,
                        sea_orm::sea_query::Expr::value(Some(sealed)),
                    )
                    .col_expr(
                        alert_settings::Column::UpdatedAt,
                        sea_orm::sea_query::Expr::value(now()),
                    )
                    .filter(alert_settings::Column::TenantId.eq(tenant_id))
                    .filter(alert_settings::Column::WebhookUrl.is_not_null())
                    .exec(txn)
                    .await
                    .map_err(internal("new alert secret"))?;
                if written.rows_affected == 0 {
                    return Err(RepoError::Conflict {
                        field: "form",
                        message: "Save a webhook URL first: the secret signs what is sent to it"
                            .into(),
                    });
                }
                let event = AuditEvent::new(
                    AuditAction::AlertSecretChanged,
                    Some(tenant_id),
                    ObjectKind::Alerts,
                    None,
                    "Alerts",
                )
                .with(vec![FieldChange::secret("Signing secret", true, true)]);
                Ok(((), event))
            })
        })
        .await?;
        Ok(secret)
    }

    async fn send_test(&self, actor: &Actor, tenant_id: i64) -> Result<(), RepoError> {
        // one a minute: a test goes to every address, and the mail server is the operator's
        let last = alert::Entity::find()
            .filter(alert::Column::TenantId.eq(tenant_id))
            .filter(alert::Column::Kind.eq(AlertKind::Test.code()))
            .order_by_desc(alert::Column::Id)
            .one(&self.db)
            .await
            .map_err(internal("last test alert"))?;
        if let Some(last) = last {
            let wait = (last.created_at + TEST_EVERY - now()).whole_seconds();
            if wait > 0 {
                return Err(RepoError::Conflict {
                    field: "form",
                    message: format!(
                        "A test alert was sent less than a minute ago: try again in {wait} s"
                    ),
                });
            }
        }
        let dedupe = format!("test:{}", &crate::secrets::crypto::random_token()[..24]);
        let payload = serde_json::json!({ "asked_by": actor.username, "path": "/config/alerts" });
        let raised = audited(&self.db, actor, "send test alert", move |txn| {
            Box::pin(async move {
                let raised = raise(
                    txn,
                    tenant_id,
                    AlertKind::Test,
                    &dedupe,
                    None,
                    "Test alert",
                    payload,
                )
                .await
                .map_err(internal("raise test alert"))?;
                if raised.is_none() {
                    return Err(RepoError::Conflict {
                        field: "form",
                        message: "Add an e-mail address or a webhook URL and save them first"
                            .into(),
                    });
                }
                let event = AuditEvent::new(
                    AuditAction::TestAlertSent,
                    Some(tenant_id),
                    ObjectKind::Alerts,
                    None,
                    "Alerts",
                );
                Ok((raised, event))
            })
        })
        .await?;
        if raised.is_some() {
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// Raises an alert of `tenant_id` once: nothing when the tenant space sends its alerts
/// nowhere, or when an alert with `dedupe` was raised before. Its deliveries (each address,
/// the webhook) are queued with it. Answers the new alert's id.
pub async fn raise<C: ConnectionTrait>(
    conn: &C,
    tenant_id: i64,
    kind: AlertKind,
    dedupe: &str,
    channel_id: Option<i64>,
    subject: &str,
    mut payload: serde_json::Value,
) -> Result<Option<i64>, DbErr> {
    let Some(settings) = alert_settings::Entity::find_by_id(tenant_id)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let mut targets: Vec<(&'static str, String)> = emails_of(&settings)
        .into_iter()
        .map(|e| ("email", e))
        .collect();
    if let (Some(url), Some(_)) = (&settings.webhook_url, &settings.webhook_secret_enc) {
        targets.push(("webhook", url.clone()));
    }
    if targets.is_empty() {
        return Ok(None);
    }
    // counted in the database, up to the cap (no thousand ids fetched to be counted here)
    let waiting = super::count_up_to(
        conn,
        "SELECT 1 FROM alert_sends WHERE tenant_id = ? AND state = 'pending'",
        vec![tenant_id.into()],
        PENDING_MOST,
    )
    .await?;
    if waiting >= PENDING_MOST {
        tracing::warn!(
            tenant_id,
            dedupe,
            "alert not raised: the space's deliveries back up"
        );
        return Ok(None);
    }
    let tenant_name = tenant::Entity::find_by_id(tenant_id)
        .one(conn)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    if let Some(p) = payload.as_object_mut() {
        p.insert("tenant".into(), tenant_name.into());
    }
    let at = now();
    let inserted = alert::Entity::insert(alert::ActiveModel {
        tenant_id: Set(tenant_id),
        kind: Set(kind.code().to_owned()),
        dedupe: Set(dedupe.chars().take(200).collect()),
        channel_id: Set(channel_id),
        subject: Set(subject.to_owned()),
        payload: Set(payload.to_string()),
        created_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([alert::Column::TenantId, alert::Column::Dedupe])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if inserted == 0 {
        return Ok(None);
    }
    let Some(id) = alert::Entity::find()
        .select_only()
        .column(alert::Column::Id)
        .filter(alert::Column::TenantId.eq(tenant_id))
        .filter(alert::Column::Dedupe.eq(dedupe.chars().take(200).collect::<String>()))
        .into_tuple::<i64>()
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    alert_send::Entity::insert_many(targets.into_iter().map(|(via, target)| {
        alert_send::ActiveModel {
            alert_id: Set(id),
            tenant_id: Set(tenant_id),
            via: Set(via.to_owned()),
            target: Set(target),
            state: Set("pending".into()),
            attempts: Set(0),
            next_at: Set(at),
            claimed_until: Set(None),
            ..Default::default()
        }
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(Some(id))
}

/// Keeps the last [`ATTEMPTS_KEPT`] attempts of a tenant space.
pub async fn prune_attempts<C: ConnectionTrait>(conn: &C, tenant_id: i64) -> Result<(), DbErr> {
    let oldest_kept: Option<i64> = alert_attempt::Entity::find()
        .select_only()
        .column(alert_attempt::Column::Id)
        .filter(alert_attempt::Column::TenantId.eq(tenant_id))
        .order_by_desc(alert_attempt::Column::Id)
        .offset(ATTEMPTS_KEPT as u64 - 1)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    if let Some(id) = oldest_kept {
        alert_attempt::Entity::delete_many()
            .filter(alert_attempt::Column::TenantId.eq(tenant_id))
            .filter(alert_attempt::Column::Id.lt(id))
            .exec(conn)
            .await?;
    }
    Ok(())
}
