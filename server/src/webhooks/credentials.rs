//! A webhook credential together with its previous value while it changes: during the overlap
//! a delivery with either is accepted (and which one it came with is recorded); after it, the
//! previous value is refused with the moment it was retired, so the administrator knows the
//! provider's portal still has the old one.

use crate::db::entities::channel;
use crate::db::{display_time, keys::PREVIOUS_SECRET};
use crate::state::AppState;
use app::domain::audit::{AuditAction, ObjectKind};
use app::domain::refusal::Refusal;
use app::domain::rotation::{UsedCredential, WebhookCredential};
use app::ports::{Actor, AuditEvent};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use std::net::IpAddr;
use time::OffsetDateTime;

/// How often the time the previous value was last seen is written, at most.
const PREVIOUS_SEEN_EVERY: time::Duration = time::Duration::MINUTE;

/// The previous value of the credential a channel is changing (or last changed), opened only
/// when a delivery did not match the current one.
pub struct Previous<'a> {
    pub credential: WebhookCredential,
    pub until: OffsetDateTime,
    open: Box<dyn Fn() -> Option<String> + Send + Sync + 'a>,
}

/// The channel's change; `None` when there is none (or its previous value is dropped).
pub fn previous_of<'a>(state: &'a AppState, c: &'a channel::Model) -> Option<Previous<'a>> {
    let credential = WebhookCredential::parse(c.rotation_credential.as_deref()?)?;
    let until = c.rotation_until?;
    c.previous_secret_enc.as_ref()?;
    Some(Previous {
        credential,
        until,
        open: Box::new(move || {
            c.open_secret(
                &state.secrets,
                &c.previous_secret_enc,
                PREVIOUS_SECRET,
                "webhook",
            )
            .filter(|v| !v.is_empty())
        }),
    })
}

/// A refusal and its detail (when the previous value was retired).
pub type Refused = (Refusal, Option<String>);

/// Runs `check` with the current value of `credential`, then (if that fails and the channel
/// is changing it) with the previous one. Accepted: what `check` found, and during the
/// overlap which value it came with.
pub fn check_with<T>(
    credential: WebhookCredential,
    current: &str,
    previous: Option<&Previous<'_>>,
    now: OffsetDateTime,
    check: impl Fn(&str) -> Result<T, Refusal>,
) -> Result<(T, Option<UsedCredential>), Refused> {
    let changing = previous.filter(|p| p.credential == credential);
    let first = match check(current) {
        Ok(t) => {
            let used = changing
                .filter(|p| now < p.until)
                .map(|_| UsedCredential::New);
            return Ok((t, used));
        }
        Err(e) => e,
    };
    if let Some(p) = changing
        && let Some(value) = (p.open)()
        && let Ok(t) = check(&value)
    {
        if now < p.until {
            return Ok((t, Some(UsedCredential::Previous)));
        }
        return Err((Refusal::previous(credential), Some(display_time(p.until))));
    }
    Err((first, None))
}

/// Notes, off the request path, that the provider came with the new value (the first time:
/// an audit entry says the provider switched) or the previous one (at most once a minute).
pub fn note_seen(
    state: &AppState,
    c: &channel::Model,
    credential: WebhookCredential,
    used: UsedCredential,
    client: Option<IpAddr>,
) {
    let now = crate::db::now();
    let due = match used {
        UsedCredential::New => c.rotation_new_seen_at.is_none(),
        UsedCredential::Previous => c
            .rotation_previous_seen_at
            .is_none_or(|t| now - t >= PREVIOUS_SEEN_EVERY),
    };
    if !due {
        return;
    }
    let (state, id, tenant_id, name) = (state.clone(), c.id, c.tenant_id, c.name.clone());
    // the change this request was checked against, not one started since
    let started = c.rotation_started_at;
    tokio::spawn(async move {
        use channel::Column as C;
        let update = channel::Entity::update_many()
            .filter(C::Id.eq(id))
            .filter(C::RotationCredential.eq(credential.as_str()))
            .filter(C::RotationStartedAt.eq(started));
        let result = match used {
            UsedCredential::New => {
                update
                    .col_expr(C::RotationNewSeenAt, Expr::value(now))
                    .filter(C::RotationNewSeenAt.is_null())
                    .exec(&state.db.conn)
                    .await
            }
            UsedCredential::Previous => {
                update
                    .col_expr(C::RotationPreviousSeenAt, Expr::value(now))
                    .filter(
                        Condition::any()
                            .add(C::RotationPreviousSeenAt.is_null())
                            .add(C::RotationPreviousSeenAt.lt(now - PREVIOUS_SEEN_EVERY)),
                    )
                    .exec(&state.db.conn)
                    .await
            }
        };
        match result {
            // one instance wins the first sighting: its entry is the only one
            Ok(r) if r.rows_affected == 1 && used == UsedCredential::New => {
                let entry = AuditEvent::new(
                    AuditAction::WebhookCredentialSwitchSeen,
                    Some(tenant_id),
                    ObjectKind::Channel,
                    Some(id),
                    name,
                )
                .with(app::domain::audit::created(&[(
                    "Credential",
                    credential.label().to_owned(),
                )]));
                let actor = Actor::anonymous("(provider)", client);
                if let Err(e) = state.ports.audit.record(&actor, entry).await {
                    tracing::warn!(error = ?e, channel_id = id, "webhook: switch seen entry");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, channel_id = id, "webhook: credential seen"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previous(until: OffsetDateTime) -> Previous<'static> {
        Previous {
            credential: WebhookCredential::WebhookPassword,
            until,
            open: Box::new(|| Some("old-password".into())),
        }
    }

    fn check(offered: &'static str) -> impl Fn(&str) -> Result<(), Refusal> {
        move |v: &str| {
            if v == offered {
                Ok(())
            } else {
                Err(Refusal::AccountKeyMismatch)
            }
        }
    }

    #[test]
    fn the_previous_value_works_until_the_overlap_ends() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let hour = time::Duration::HOUR;
        let p = previous(now + hour);
        let cred = WebhookCredential::WebhookPassword;
        assert_eq!(
            check_with(cred, "new-password", Some(&p), now, check("new-password")),
            Ok(((), Some(UsedCredential::New)))
        );
        assert_eq!(
            check_with(cred, "new-password", Some(&p), now, check("old-password")),
            Ok(((), Some(UsedCredential::Previous)))
        );
        assert_eq!(
            check_with(cred, "new-password", Some(&p), now, check("wrong")),
            Err((Refusal::AccountKeyMismatch, None))
        );
        // after the overlap: the previous value is named, with when it was retired
        let (refusal, detail) = check_with(
            cred,
            "new-password",
            Some(&p),
            now + 2 * hour,
            check("old-password"),
        )
        .unwrap_err();
        assert_eq!(refusal, Refusal::PreviousWebhookPassword);
        assert_eq!(detail, Some(display_time(now + hour)));
        assert_eq!(
            check_with(
                cred,
                "new-password",
                Some(&p),
                now + 2 * hour,
                check("new-password")
            ),
            Ok(((), None))
        );
        // another credential's change is not this one's
        assert_eq!(
            check_with(
                WebhookCredential::AppSecret,
                "new-password",
                Some(&p),
                now,
                check("old-password")
            ),
            Err((Refusal::AccountKeyMismatch, None))
        );
        assert_eq!(
            check_with(cred, "new-password", None, now, check("new-password")),
            Ok(((), None))
        );
    }
}
