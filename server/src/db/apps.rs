//! APP Management: the `Apps` port (the system administrator's apps, a tenant administrator's
//! read-only view) and the token issuer the API routes use (`exchange`, `mint`, `bearer`).
//!
//! An app's secret and its tokens are 256 random bits; the database keeps their SHA-256 only
//! (a slow hash protects guessable passwords, not random keys), compared in constant time.
//! After a reset the previous secret's hash is kept until the end of the overlap. A token is
//! checked against the database on every call, with its app: any instance accepts a token
//! another issued, and disabling or deleting an app ends its tokens at once.

use super::entities::{app_entry, app_token, tenant};
use super::write::audited;
use super::{UniqueOr, count_up_to, display_time, internal, now};
use crate::secrets::crypto::{random_token, token_digest};
use app::domain::apps::{
    Api, AppName, MAX_APPS_PER_TENANT, MAX_LIVE_TOKENS, apis_from_string, apis_to_string,
};
use app::domain::audit::{AuditAction, FieldChange, ObjectKind, created as created_fields};
use app::model::{AppSecretShown, AppSummary};
use app::ports::{Actor, AuditEvent, RepoError};
use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

/// How long an expired token is kept, so that a caller presenting it hears "expired" rather
/// than "unknown".
const EXPIRED_KEPT: time::Duration = time::Duration::days(1);
/// An app's last call is written at most this often (not a write per call).
const LAST_CALL_EVERY: time::Duration = time::Duration::minutes(1);

fn new_key() -> String {
    format!("sbak_{}", &random_token()[..32])
}

fn new_secret() -> String {
    format!("sbas_{}", random_token())
}

fn new_token() -> String {
    format!("sbat_{}", random_token())
}

/// Whether `secret` hashes to `hash`, in constant time.
fn matches(secret: &str, hash: &str) -> bool {
    bool::from(token_digest(secret).as_bytes().ct_eq(hash.as_bytes()))
}

fn summary(a: app_entry::Model, tenant_name: String) -> AppSummary {
    let at = now();
    AppSummary {
        id: a.id,
        name: a.name,
        tenant_id: a.tenant_id,
        tenant_name,
        app_key: a.app_key,
        apis: apis_from_string(&a.apis)
            .into_iter()
            .map(|x| x.code().to_owned())
            .collect(),
        enabled: a.enabled,
        created: display_time(a.created_at),
        secret_changed: display_time(a.secret_changed_at),
        previous_secret_until: a
            .previous_until
            .filter(|u| a.previous_hash.is_some() && *u > at)
            .map(display_time),
        last_token: a.last_token_at.map(display_time),
        last_call: a.last_call_at.map(display_time),
    }
}

/// The audit fields of an app (never its secret).
fn fields(name: &str, tenant: &str, key: &str, apis: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Name", name.to_owned()),
        ("Tenant space", tenant.to_owned()),
        ("App key", key.to_owned()),
        ("Subscriptions", apis.replace(',', ", ")),
    ]
}

#[derive(Clone)]
pub struct SqlApps {
    db: DatabaseConnection,
}

impl SqlApps {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn find(&self, id: i64) -> Result<(app_entry::Model, String), RepoError> {
        let found = app_entry::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(internal("find app"))?
            .ok_or(RepoError::NotFound)?;
        let tenant = tenant_name(&self.db, found.tenant_id).await?;
        Ok((found, tenant))
    }
}

/// Whether the tenant space exists and is enabled (its apps get and use tokens only then).
async fn space_enabled<C: ConnectionTrait>(db: &C, id: i64) -> Result<bool, RepoError> {
    Ok(tenant::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(internal("tenant of an app"))?
        .is_some_and(|t| !t.disabled))
}

async fn tenant_name<C: ConnectionTrait>(db: &C, id: i64) -> Result<String, RepoError> {
    Ok(tenant::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(internal("tenant of an app"))?
        .map(|t| t.name)
        .unwrap_or_default())
}

#[async_trait]
impl app::ports::Apps for SqlApps {
    async fn list(&self, tenant_id: Option<i64>) -> Result<Vec<AppSummary>, RepoError> {
        let mut q = app_entry::Entity::find();
        if let Some(t) = tenant_id {
            q = q.filter(app_entry::Column::TenantId.eq(t));
        }
        let apps = q
            .order_by_asc(app_entry::Column::NameKey)
            .order_by_asc(app_entry::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal("list apps"))?;
        let ids: Vec<i64> = apps.iter().map(|a| a.tenant_id).collect();
        let names: HashMap<i64, String> = tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(ids))
            .all(&self.db)
            .await
            .map_err(internal("tenants of apps"))?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        Ok(apps
            .into_iter()
            .map(|a| {
                let t = names.get(&a.tenant_id).cloned().unwrap_or_default();
                summary(a, t)
            })
            .collect())
    }

    async fn create(
        &self,
        actor: &Actor,
        tenant_id: i64,
        name: &AppName,
        apis: &[Api],
    ) -> Result<AppSecretShown, RepoError> {
        let Some(space) = tenant::Entity::find_by_id(tenant_id)
            .one(&self.db)
            .await
            .map_err(internal("tenant for an app"))?
        else {
            return Err(RepoError::Conflict {
                field: "tenant_id",
                message: "That tenant space does not exist.".into(),
            });
        };
        let key = new_key();
        let secret = new_secret();
        let at = now();
        let apis = apis_to_string(apis);
        let name = name.as_str().to_owned();
        let row = app_entry::ActiveModel {
            tenant_id: Set(tenant_id),
            name: Set(name.clone()),
            name_key: Set(name.to_lowercase()),
            app_key: Set(key.clone()),
            secret_hash: Set(token_digest(&secret)),
            previous_hash: Set(None),
            previous_until: Set(None),
            apis: Set(apis.clone()),
            enabled: Set(true),
            created_at: Set(at),
            secret_changed_at: Set(at),
            last_token_at: Set(None),
            last_call_at: Set(None),
            ..Default::default()
        };
        let id = audited(&self.db, actor, "create app", move |txn| {
            Box::pin(async move {
                let held = count_up_to(
                    txn,
                    "SELECT 1 FROM apps WHERE tenant_id = ?",
                    vec![tenant_id.into()],
                    MAX_APPS_PER_TENANT,
                )
                .await
                .map_err(internal("count apps"))?;
                if held >= MAX_APPS_PER_TENANT {
                    return Err(RepoError::Conflict {
                        field: "tenant_id",
                        message: format!(
                            "This tenant space has {MAX_APPS_PER_TENANT} apps, the most it may have: delete one first."
                        ),
                    });
                }
                let created = row.insert(txn).await.unique_or(
                    "name",
                    "This tenant space already has an app with this name.",
                    "insert app",
                )?;
                let mut changes = created_fields(&fields(&name, &space.name, &key, &apis));
                changes.push(FieldChange::secret("App secret", false, true));
                let entry = AuditEvent::new(
                    AuditAction::AppCreated,
                    Some(tenant_id),
                    ObjectKind::App,
                    Some(created.id),
                    name.clone(),
                )
                .with(changes);
                Ok((created.id, entry))
            })
        })
        .await?;
        let (found, _) = self.find(id).await?;
        Ok(AppSecretShown {
            app_id: id,
            name: found.name,
            app_key: found.app_key,
            app_secret: secret,
            previous_secret_until: None,
        })
    }

    async fn reset_secret(
        &self,
        actor: &Actor,
        id: i64,
        overlap_hours: u32,
    ) -> Result<AppSecretShown, RepoError> {
        let (found, _) = self.find(id).await?;
        let secret = new_secret();
        let at = now();
        let until = (overlap_hours > 0).then(|| at + time::Duration::hours(overlap_hours.into()));
        let hash = token_digest(&secret);
        let previous = found.secret_hash.clone();
        let name = found.name.clone();
        let tenant_id = found.tenant_id;
        audited(&self.db, actor, "reset app secret", move |txn| {
            Box::pin(async move {
                let done = app_entry::Entity::update_many()
                    .col_expr(app_entry::Column::SecretHash, Expr::value(hash))
                    .col_expr(
                        app_entry::Column::PreviousHash,
                        Expr::value(until.map(|_| previous)),
                    )
                    .col_expr(app_entry::Column::PreviousUntil, Expr::value(until))
                    .col_expr(app_entry::Column::SecretChangedAt, Expr::value(at))
                    .filter(app_entry::Column::Id.eq(id))
                    .exec(txn)
                    .await
                    .map_err(internal("reset app secret"))?;
                if done.rows_affected == 0 {
                    return Err(RepoError::NotFound);
                }
                if until.is_none() {
                    // no overlap: what the previous secret got ends with it
                    app_token::Entity::delete_many()
                        .filter(app_token::Column::AppId.eq(id))
                        .exec(txn)
                        .await
                        .map_err(internal("revoke tokens of a reset"))?;
                }
                let overlap = match until {
                    Some(u) => format!("until {}", display_time(u)),
                    None => "none: it and its tokens stopped working at once".to_owned(),
                };
                let entry = AuditEvent::new(
                    AuditAction::AppSecretReset,
                    Some(tenant_id),
                    ObjectKind::App,
                    Some(id),
                    name,
                )
                .with(vec![
                    FieldChange::secret("App secret", true, true),
                    FieldChange {
                        field: "Previous secret works".into(),
                        before: String::new(),
                        after: overlap,
                        secret: false,
                    },
                ]);
                Ok(((), entry))
            })
        })
        .await?;
        Ok(AppSecretShown {
            app_id: id,
            name: found.name,
            app_key: found.app_key,
            app_secret: secret,
            previous_secret_until: until.map(display_time),
        })
    }

    async fn set_enabled(&self, actor: &Actor, id: i64, enabled: bool) -> Result<(), RepoError> {
        let (found, _) = self.find(id).await?;
        let (action, word) = if enabled {
            (AuditAction::AppEnabled, "Enabled")
        } else {
            (AuditAction::AppDisabled, "Disabled")
        };
        audited(&self.db, actor, "set app status", move |txn| {
            Box::pin(async move {
                app_entry::Entity::update_many()
                    .col_expr(app_entry::Column::Enabled, Expr::value(enabled))
                    .filter(app_entry::Column::Id.eq(id))
                    .exec(txn)
                    .await
                    .map_err(internal("set app status"))?;
                if !enabled {
                    // its tokens end now: none is left to be accepted after a re-enable
                    app_token::Entity::delete_many()
                        .filter(app_token::Column::AppId.eq(id))
                        .exec(txn)
                        .await
                        .map_err(internal("revoke app tokens"))?;
                }
                let entry = AuditEvent::new(
                    action,
                    Some(found.tenant_id),
                    ObjectKind::App,
                    Some(id),
                    found.name.clone(),
                )
                .with(vec![FieldChange {
                    field: "Status".into(),
                    before: if found.enabled { "Enabled" } else { "Disabled" }.into(),
                    after: word.into(),
                    secret: false,
                }]);
                Ok(((), entry))
            })
        })
        .await
    }

    async fn delete(&self, actor: &Actor, id: i64) -> Result<(), RepoError> {
        let (found, tenant) = self.find(id).await?;
        audited(&self.db, actor, "delete app", move |txn| {
            Box::pin(async move {
                app_token::Entity::delete_many()
                    .filter(app_token::Column::AppId.eq(id))
                    .exec(txn)
                    .await
                    .map_err(internal("delete app tokens"))?;
                let gone = app_entry::Entity::delete_many()
                    .filter(app_entry::Column::Id.eq(id))
                    .exec(txn)
                    .await
                    .map_err(internal("delete app"))?;
                if gone.rows_affected == 0 {
                    return Err(RepoError::NotFound);
                }
                let entry = AuditEvent::new(
                    AuditAction::AppDeleted,
                    Some(found.tenant_id),
                    ObjectKind::App,
                    Some(id),
                    found.name.clone(),
                )
                .with(app::domain::audit::diff(
                    &fields(&found.name, &tenant, &found.app_key, &found.apis),
                    &[],
                ));
                Ok(((), entry))
            })
        })
        .await
    }
}

/// The apps of a tenant space an oAuth channel may pick: enabled and subscribed to
/// `sendWhatsappMessage` (id and key, by name).
pub async fn pickable<C: ConnectionTrait>(
    db: &C,
    tenant_id: i64,
) -> Result<Vec<(i64, String)>, DbErr> {
    Ok(app_entry::Entity::find()
        .filter(app_entry::Column::TenantId.eq(tenant_id))
        .filter(app_entry::Column::Enabled.eq(true))
        .order_by_asc(app_entry::Column::NameKey)
        .all(db)
        .await?
        .into_iter()
        .filter(|a| apis_from_string(&a.apis).contains(&Api::SendWhatsappMessage))
        .map(|a| (a.id, a.app_key))
        .collect())
}

/// A token issued.
#[derive(Clone)]
pub struct Issued {
    pub token: String,
    pub app_id: i64,
    pub app_key: String,
    pub tenant_id: i64,
    /// The subscribed APIs' codes, space-separated (OAuth's `scope`).
    pub scope: String,
    pub created_at: time::OffsetDateTime,
    pub lifetime: u32,
}

/// Shows who the token is for, never the token.
impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("app_id", &self.app_id)
            .field("tenant_id", &self.tenant_id)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// Ends a token at once (one made for a single call, or one whose answer was refused).
pub async fn revoke(db: &DatabaseConnection, token: &str) -> Result<(), RepoError> {
    app_token::Entity::delete_many()
        .filter(app_token::Column::TokenHash.eq(token_digest(token)))
        .exec(db)
        .await
        .map_err(internal("revoke a token"))?;
    Ok(())
}

/// Why no token was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No app has this key, or the secret is not its secret (one answer for both).
    Credentials {
        tenant_id: Option<i64>,
        app_id: Option<i64>,
    },
    /// The secret is right but the app is disabled, or its tenant space is.
    Disabled { tenant_id: i64, app_id: i64 },
}

/// An app that presented a valid token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub app_id: i64,
    pub app_key: String,
    pub name: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub apis: Vec<Api>,
}

/// Why a token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefused {
    /// No token is known by this value (never issued, revoked, or long expired).
    Unknown,
    Expired,
    /// The app or its tenant space was disabled.
    Disabled,
}

/// An app's key and secret for a token of `lifetime` seconds.
pub async fn exchange(
    db: &DatabaseConnection,
    key: &str,
    secret: &str,
    lifetime: u32,
) -> Result<Result<Issued, Refused>, RepoError> {
    let found = if app::domain::apps::is_app_key(key) {
        app_entry::Entity::find()
            .filter(app_entry::Column::AppKey.eq(key))
            .one(db)
            .await
            .map_err(internal("find app by key"))?
    } else {
        None
    };
    let at = now();
    let Some(app) = found else {
        // the same work as for a known key: a digest and a comparison
        let _ = matches(secret, &token_digest("no app has this key"));
        return Ok(Err(Refused::Credentials {
            tenant_id: None,
            app_id: None,
        }));
    };
    let current = matches(secret, &app.secret_hash);
    let previous = app
        .previous_hash
        .as_deref()
        .is_some_and(|h| matches(secret, h))
        && app.previous_until.is_some_and(|u| u > at);
    if !(current || previous) {
        return Ok(Err(Refused::Credentials {
            tenant_id: Some(app.tenant_id),
            app_id: Some(app.id),
        }));
    }
    if !app.enabled || !space_enabled(db, app.tenant_id).await? {
        return Ok(Err(Refused::Disabled {
            tenant_id: app.tenant_id,
            app_id: app.id,
        }));
    }
    issue(db, &app, lifetime).await.map(Ok)
}

/// A token for the app `app_id` of `tenant_id`, issued by this server to itself (an oAuth
/// channel that picked the app): `None` when the tenant space has no such enabled app.
pub async fn mint(
    db: &DatabaseConnection,
    tenant_id: i64,
    app_id: i64,
    lifetime: u32,
) -> Result<Option<Issued>, RepoError> {
    let Some(app) = app_entry::Entity::find_by_id(app_id)
        .filter(app_entry::Column::TenantId.eq(tenant_id))
        .filter(app_entry::Column::Enabled.eq(true))
        .one(db)
        .await
        .map_err(internal("find app to mint"))?
    else {
        return Ok(None);
    };
    if !apis_from_string(&app.apis).contains(&Api::SendWhatsappMessage)
        || !space_enabled(db, tenant_id).await?
    {
        return Ok(None);
    }
    issue(db, &app, lifetime).await.map(Some)
}

async fn issue(
    db: &DatabaseConnection,
    app: &app_entry::Model,
    lifetime: u32,
) -> Result<Issued, RepoError> {
    let token = new_token();
    let at = now();
    let scope = apis_from_string(&app.apis)
        .into_iter()
        .map(Api::code)
        .collect::<Vec<_>>()
        .join(" ");
    let txn = super::begin_write(db)
        .await
        .map_err(internal("begin token"))?;
    // expired tokens go after a day; beyond the cap (live or expired), the oldest are
    // retired: an app asking for one-second tokens in a loop keeps 100 rows, not a day's
    app_token::Entity::delete_many()
        .filter(app_token::Column::AppId.eq(app.id))
        .filter(app_token::Column::ExpiresAt.lt(at - EXPIRED_KEPT))
        .exec(&txn)
        .await
        .map_err(internal("drop expired tokens"))?;
    let live: Vec<i64> = app_token::Entity::find()
        .select_only()
        .column(app_token::Column::Id)
        .filter(app_token::Column::AppId.eq(app.id))
        .order_by_desc(app_token::Column::Id)
        .offset(MAX_LIVE_TOKENS - 1)
        .limit(MAX_LIVE_TOKENS)
        .into_tuple()
        .all(&txn)
        .await
        .map_err(internal("count live tokens"))?;
    if !live.is_empty() {
        app_token::Entity::delete_many()
            .filter(app_token::Column::Id.is_in(live))
            .exec(&txn)
            .await
            .map_err(internal("retire oldest tokens"))?;
    }
    app_token::ActiveModel {
        app_id: Set(app.id),
        token_hash: Set(token_digest(&token)),
        scope: Set(scope.clone()),
        created_at: Set(at),
        expires_at: Set(at + time::Duration::seconds(lifetime.into())),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(internal("store token"))?;
    app_entry::Entity::update_many()
        .col_expr(app_entry::Column::LastTokenAt, Expr::value(at))
        .filter(app_entry::Column::Id.eq(app.id))
        .exec(&txn)
        .await
        .map_err(internal("note token issued"))?;
    txn.commit().await.map_err(internal("commit token"))?;
    Ok(Issued {
        token,
        app_id: app.id,
        app_key: app.app_key.clone(),
        tenant_id: app.tenant_id,
        scope,
        created_at: at,
        lifetime,
    })
}

/// The app a Bearer token belongs to, if the token is live and its app and tenant space are
/// enabled; notes the app's last call.
pub async fn bearer(
    db: &DatabaseConnection,
    token: &str,
) -> Result<Result<Caller, TokenRefused>, RepoError> {
    if !token.starts_with("sbat_") || token.len() != 69 {
        return Ok(Err(TokenRefused::Unknown));
    }
    let Some(row) = app_token::Entity::find()
        .filter(app_token::Column::TokenHash.eq(token_digest(token)))
        .one(db)
        .await
        .map_err(internal("find token"))?
    else {
        return Ok(Err(TokenRefused::Unknown));
    };
    let at = now();
    if row.expires_at <= at {
        return Ok(Err(TokenRefused::Expired));
    }
    let Some(app) = app_entry::Entity::find_by_id(row.app_id)
        .one(db)
        .await
        .map_err(internal("app of a token"))?
    else {
        return Ok(Err(TokenRefused::Unknown));
    };
    let Some(space) = tenant::Entity::find_by_id(app.tenant_id)
        .one(db)
        .await
        .map_err(internal("tenant of a token"))?
    else {
        return Ok(Err(TokenRefused::Unknown));
    };
    if !app.enabled || space.disabled {
        return Ok(Err(TokenRefused::Disabled));
    }
    if app.last_call_at.is_none_or(|t| t < at - LAST_CALL_EVERY) {
        let noted = app_entry::Entity::update_many()
            .col_expr(app_entry::Column::LastCallAt, Expr::value(at))
            .filter(app_entry::Column::Id.eq(app.id))
            .exec(db)
            .await;
        if let Err(e) = noted {
            tracing::warn!(error = %e, app_id = app.id, "note an app's last call");
        }
    }
    Ok(Ok(Caller {
        app_id: app.id,
        app_key: app.app_key,
        name: app.name,
        tenant_id: app.tenant_id,
        tenant_name: space.name,
        apis: apis_from_string(&app.apis),
    }))
}

/// Deletes tokens expired more than a day ago, of every app (the retention sweep).
pub async fn sweep_tokens(db: &DatabaseConnection) -> Result<u64, DbErr> {
    Ok(app_token::Entity::delete_many()
        .filter(app_token::Column::ExpiresAt.lt(now() - EXPIRED_KEPT))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_keys_and_tokens_have_their_shapes() {
        assert!(app::domain::apps::is_app_key(&new_key()));
        assert_eq!(new_secret().len(), 69);
        assert_eq!(new_token().len(), 69);
        assert_ne!(new_secret(), new_secret());
        let s = new_secret();
        assert!(matches(&s, &token_digest(&s)));
        assert!(!matches(&new_secret(), &token_digest(&s)));
    }
}
