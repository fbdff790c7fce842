//! A webhook credential changed with an overlap: the new value takes over at once, the previous
//! one is kept sealed (`keys::PREVIOUS_SECRET`) and accepted until the overlap ends — early,
//! on request, or when it runs out (the sweep records that). One change at a time per channel:
//! a new one replaces the running one, whose previous value stops at once.

use super::{SqlChannels, conflict, random_key};
use crate::db::entities::channel;
use crate::db::keys::PREVIOUS_SECRET;
use crate::db::{audit, display_time, internal, now};
use crate::secrets::SecretScope;
use app::domain::audit::{AuditAction, FieldChange, ObjectKind};
use app::domain::channel::{ProviderKind, SecretValue, ValidChannel};
use app::domain::rotation::{DEFAULT_OVERLAP_HOURS, RotationStatus, WebhookCredential};
use app::model::{CredentialChange, CredentialChanged};
use app::ports::{Actor, AuditEvent, RepoError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

/// The most channels whose overlap the sweep records as ended in one run.
const ENDED_PER_SWEEP: u64 = 500;
/// How long after its overlap a previous value is kept (sealed), so a delivery that still
/// comes with it is refused by name ("retired on …"); then the sweep drops it.
pub const RETIRED_KEPT: time::Duration = time::Duration::days(7);

/// The change a channel shows on Channel Integration, if it had one.
pub(super) fn status_of(m: &channel::Model) -> Option<RotationStatus> {
    let credential = WebhookCredential::parse(m.rotation_credential.as_deref()?)?;
    let until = m.rotation_until?;
    Some(RotationStatus {
        credential,
        started: display_time(m.rotation_started_at?),
        until: display_time(until),
        active: now() < until,
        new_first_seen: m.rotation_new_seen_at.map(display_time),
        previous_last_seen: m.rotation_previous_seen_at.map(display_time),
    })
}

impl SqlChannels {
    fn seal_as(&self, m: &channel::Model, plain: &str, field: &str) -> Result<Vec<u8>, RepoError> {
        self.secrets
            .seal(
                plain,
                SecretScope {
                    tenant_id: m.tenant_id,
                    channel: &m.uid,
                    field,
                },
            )
            .map_err(|e| {
                tracing::error!(error = %e, "sealing a secret");
                RepoError::Internal
            })
    }

    /// The value of `credential` the channel has now.
    fn current(&self, m: &channel::Model, credential: WebhookCredential) -> Option<String> {
        match credential {
            WebhookCredential::WebhookPassword => m.open_secret(
                &self.secrets,
                &m.webhook_password_enc,
                "webhook_password",
                "credential change",
            ),
            WebhookCredential::AppSecret => m.open_secret(
                &self.secrets,
                &m.app_secret_enc,
                "app_secret",
                "credential change",
            ),
            WebhookCredential::VerificationCode => m.verification_code.clone(),
        }
        .filter(|v| !v.is_empty())
    }

    pub(super) async fn change_credential(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
        change: &CredentialChange,
    ) -> Result<CredentialChanged, RepoError> {
        let m = self.find(tenant_id, id).await?;
        let credential = change.credential;
        let label = credential.label();
        let provider = ProviderKind::parse(&m.provider).map_err(|_| RepoError::Internal)?;
        if !WebhookCredential::of(provider).contains(&credential) {
            return Err(conflict(
                "credential",
                &format!("A {} channel has no {label}.", m.provider),
            ));
        }
        let Some(current) = self.current(&m, credential) else {
            return Err(conflict(
                "credential",
                &format!("The channel has no {label} yet: set it on Edit."),
            ));
        };
        let generated = change.value.is_none().then(|| match credential {
            WebhookCredential::VerificationCode => random_key(),
            _ => {
                let mut random = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
                app::domain::outbound::webhook_password_from(&random)
            }
        });
        let new = change
            .value
            .clone()
            .or_else(|| generated.clone())
            .ok_or(RepoError::Internal)?;
        if crate::webhooks::auth::same(new.as_bytes(), current.as_bytes()) {
            return Err(conflict(
                "value",
                &format!("This is the {label} in use now: enter another."),
            ));
        }
        let started = now();
        let until = started + time::Duration::hours(i64::from(change.overlap_hours));
        let previous = self.seal_as(&m, &current, PREVIOUS_SECRET)?;
        use channel::Column as C;
        let mut update = channel::Entity::update_many()
            .col_expr(C::RotationCredential, Expr::value(credential.as_str()))
            .col_expr(C::PreviousSecretEnc, Expr::value(previous))
            .col_expr(C::RotationStartedAt, Expr::value(started))
            .col_expr(C::RotationUntil, Expr::value(until))
            .col_expr(
                C::RotationNewSeenAt,
                Expr::value(Option::<time::OffsetDateTime>::None),
            )
            .col_expr(
                C::RotationPreviousSeenAt,
                Expr::value(Option::<time::OffsetDateTime>::None),
            )
            // an overlap of 0 ends now: its end is recorded with the start
            .col_expr(
                C::RotationEndedAt,
                Expr::value((change.overlap_hours == 0).then_some(started)),
            )
            .col_expr(C::UpdatedAt, Expr::value(started))
            .col_expr(C::Version, Expr::col(C::Version).add(1));
        update = match credential {
            WebhookCredential::WebhookPassword => update.col_expr(
                C::WebhookPasswordEnc,
                Expr::value(self.seal_as(&m, &new, "webhook_password")?),
            ),
            WebhookCredential::AppSecret => update.col_expr(
                C::AppSecretEnc,
                Expr::value(self.seal_as(&m, &new, "app_secret")?),
            ),
            WebhookCredential::VerificationCode => {
                update.col_expr(C::VerificationCode, Expr::value(new.clone()))
            }
        };
        let txn = crate::db::begin_write(&self.db)
            .await
            .map_err(internal("begin credential change"))?;
        let result = update
            .filter(C::Id.eq(id))
            .filter(C::TenantId.eq(tenant_id))
            .filter(C::Version.eq(m.version))
            .exec(&txn)
            .await
            .map_err(internal("credential change"))?;
        if result.rows_affected == 0 {
            return Err(super::stale());
        }
        let overlap = if change.overlap_hours == 0 {
            "none: the previous value stopped at once".to_owned()
        } else {
            format!(
                "{} hours, until {}",
                change.overlap_hours,
                display_time(until)
            )
        };
        let value_change = if credential.secret() {
            FieldChange::secret(label, true, true)
        } else {
            FieldChange {
                field: label.to_owned(),
                before: current.clone(),
                after: new.clone(),
                secret: false,
            }
        };
        let mut changes = vec![value_change];
        changes.extend(app::domain::audit::created(&[("Overlap", overlap)]));
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::WebhookCredentialChangeStarted,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(id),
                m.name.clone(),
            )
            .with(changes),
        )
        .await?;
        txn.commit()
            .await
            .map_err(internal("commit credential change"))?;
        Ok(CredentialChanged {
            label: label.to_owned(),
            generated,
            until: display_time(until),
        })
    }

    /// On Edit: what a save does to a running or past change. A Webhook Password or APP Secret
    /// replaced by another value with "keep accepting the current one" ticked starts an
    /// overlap of 24 hours (a change on Channel Integration picks another length); replaced
    /// without it, or a provider changed, ends any change at once (the previous value is
    /// dropped). Writes the columns into `am`; returns the credential and the overlap's end of
    /// an overlap started.
    pub(super) fn carry_previous(
        &self,
        existing: &channel::Model,
        c: &ValidChannel,
        am: &mut channel::ActiveModel,
    ) -> Result<Option<(WebhookCredential, time::OffsetDateTime)>, RepoError> {
        if existing.provider != c.credentials.provider().as_str() {
            forget(am);
            return Ok(None);
        }
        for credential in [
            WebhookCredential::WebhookPassword,
            WebhookCredential::AppSecret,
        ] {
            let Some(SecretValue::Set(new)) = c.credentials.webhook_secret(credential) else {
                continue;
            };
            let Some(current) = self.current(existing, credential) else {
                continue;
            };
            if crate::webhooks::auth::same(new.as_bytes(), current.as_bytes()) {
                continue;
            }
            if !c.keep_previous_webhook_secret {
                forget(am);
                return Ok(None);
            }
            let started = now();
            let until = started + time::Duration::hours(i64::from(DEFAULT_OVERLAP_HOURS));
            am.rotation_credential = Set(Some(credential.as_str().to_owned()));
            am.previous_secret_enc =
                Set(Some(self.seal_as(existing, &current, PREVIOUS_SECRET)?));
            am.rotation_started_at = Set(Some(started));
            am.rotation_until = Set(Some(until));
            am.rotation_new_seen_at = Set(None);
            am.rotation_previous_seen_at = Set(None);
            am.rotation_ended_at = Set(None);
            return Ok(Some((credential, until)));
        }
        Ok(None)
    }

    pub(super) async fn end_overlap(
        &self,
        actor: &Actor,
        tenant_id: i64,
        id: i64,
    ) -> Result<(), RepoError> {
        let m = self.find(tenant_id, id).await?;
        let at = now();
        let txn = crate::db::begin_write(&self.db)
            .await
            .map_err(internal("begin end of overlap"))?;
        use channel::Column as C;
        let result = channel::Entity::update_many()
            .col_expr(C::RotationUntil, Expr::value(at))
            .col_expr(C::RotationEndedAt, Expr::value(at))
            .filter(C::Id.eq(id))
            .filter(C::TenantId.eq(tenant_id))
            .filter(C::RotationUntil.gt(at))
            // the change this page showed, not one started since
            .filter(C::RotationStartedAt.eq(m.rotation_started_at))
            .exec(&txn)
            .await
            .map_err(internal("end overlap"))?;
        if result.rows_affected == 0 {
            return Err(conflict(
                "form",
                "No overlap is running on this channel: the previous value is already refused.",
            ));
        }
        let what = m
            .rotation_credential
            .as_deref()
            .and_then(WebhookCredential::parse)
            .map_or("Webhook credential", WebhookCredential::label);
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::WebhookCredentialChangeEnded,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(id),
                m.name,
            )
            .with(app::domain::audit::created(&[(
                "Previous value",
                format!("{what}: ended early, refused from {}", display_time(at)),
            )])),
        )
        .await?;
        txn.commit()
            .await
            .map_err(internal("commit end of overlap"))?;
        Ok(())
    }
}

/// Drops a channel's change: no previous value is accepted or kept (a provider changed, a
/// credential replaced at once, an import).
pub(crate) fn forget(am: &mut channel::ActiveModel) {
    am.rotation_credential = Set(None);
    am.previous_secret_enc = Set(None);
    am.rotation_started_at = Set(None);
    am.rotation_until = Set(None);
    am.rotation_new_seen_at = Set(None);
    am.rotation_previous_seen_at = Set(None);
    am.rotation_ended_at = Set(None);
}

/// An overlap that ran out: channel id, tenant space, name, credential, end.
type Ran = (
    i64,
    i64,
    String,
    Option<String>,
    Option<time::OffsetDateTime>,
);

/// Records the end of the overlaps that ran out (one audit entry each, written by the
/// instance whose update wins), and drops the previous values retired over `RETIRED_KEPT`
/// ago: part of the health sweep (both on the index of `rotation_until`).
pub async fn sweep_ended(db: &DatabaseConnection) -> Result<u64, DbErr> {
    use channel::Column as C;
    let at = now();
    let due: Vec<Ran> = channel::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::TenantId,
            C::Name,
            C::RotationCredential,
            C::RotationUntil,
        ])
        .filter(C::RotationUntil.lte(at))
        .filter(C::RotationEndedAt.is_null())
        .order_by_asc(C::RotationUntil)
        .limit(ENDED_PER_SWEEP)
        .into_tuple()
        .all(db)
        .await?;
    let mut n = 0;
    for (id, tenant_id, name, credential, until) in due {
        let Some(until) = until else { continue };
        let txn = db.begin().await?;
        let won = channel::Entity::update_many()
            .col_expr(C::RotationEndedAt, Expr::value(until))
            .filter(C::Id.eq(id))
            .filter(C::RotationEndedAt.is_null())
            .filter(C::RotationUntil.eq(until))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if won {
            let what = credential
                .as_deref()
                .and_then(WebhookCredential::parse)
                .map_or("Webhook credential", WebhookCredential::label);
            let entry = AuditEvent::new(
                AuditAction::WebhookCredentialChangeEnded,
                Some(tenant_id),
                ObjectKind::Channel,
                Some(id),
                name,
            )
            .with(app::domain::audit::created(&[(
                "Previous value",
                format!(
                    "{what}: the overlap ran out, refused from {}",
                    display_time(until)
                ),
            )]));
            if audit::record(&txn, &Actor::anonymous("(system)", None), entry)
                .await
                .is_err()
            {
                let _ = txn.rollback().await;
                return Err(DbErr::Custom("audit entry of an ended overlap".into()));
            }
            n += 1;
        }
        txn.commit().await?;
    }
    channel::Entity::update_many()
        .col_expr(C::PreviousSecretEnc, Expr::value(Option::<Vec<u8>>::None))
        .filter(C::RotationUntil.lt(at - RETIRED_KEPT))
        .filter(C::PreviousSecretEnc.is_not_null())
        .exec(db)
        .await?;
    Ok(n)
}
