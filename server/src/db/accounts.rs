//! Accounts and tenant spaces: the `Accounts` and `Tenants` ports.

use super::audit;
use super::entities::{setup_token, tenant, user};
use super::write::audited;
use super::{UniqueOr, display_time, internal, is_unique_violation, now};
use crate::secrets::crypto;
use app::domain::audit::{AuditAction, FieldChange, ObjectKind, created as created_fields, diff};
use app::domain::{NewPassword, TenantName, Username};
use app::model::{AdminSummary, Me, Role, SetupStatus, TenantSummary};
use app::ports::{Accounts, Actor, AuditEvent, Principal, RepoError, Tenants};
use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use std::collections::HashMap;

#[derive(Clone)]
pub struct SqlAccounts {
    db: DatabaseConnection,
}

impl SqlAccounts {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn hash(password: &NewPassword) -> Result<String, RepoError> {
        crypto::hash_password(password.expose())
            .await
            .map_err(hashing_error)
    }

    fn principal_of(u: user::Model, t: Option<tenant::Model>) -> Option<Principal> {
        let role = Role::from_db(&u.role)?;
        if t.as_ref().is_some_and(|t| t.disabled) {
            return None;
        }
        Some(Principal {
            epoch: u.session_epoch,
            me: Me {
                user_id: u.id,
                username: u.username,
                role,
                tenant_id: t.as_ref().map(|t| t.id),
                tenant_name: t.map(|t| t.name),
            },
        })
    }

    /// Whether at least one system administrator exists.
    pub async fn has_system_admin(&self) -> Result<bool, RepoError> {
        let n = user::Entity::find()
            .filter(user::Column::Role.eq(Role::SystemAdmin.as_str()))
            .count(&self.db)
            .await
            .map_err(internal("count system admins"))?;
        Ok(n > 0)
    }

    /// Creates a one-time setup token and returns it; only its digest is stored. Any older
    /// link stops working: only the newest one in the log is valid.
    pub async fn issue_setup_token(&self) -> Result<String, RepoError> {
        let token = crypto::random_token();
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin setup token"))?;
        setup_token::Entity::delete_many()
            .exec(&txn)
            .await
            .map_err(internal("delete older setup tokens"))?;
        setup_token::ActiveModel {
            token_digest: Set(crypto::token_digest(&token)),
            created_at: Set(now()),
        }
        .insert(&txn)
        .await
        .map_err(internal("insert setup token"))?;
        txn.commit().await.map_err(internal("commit setup token"))?;
        Ok(token)
    }

    /// Creates a system administrator (the CLI's `create-admin`).
    pub async fn create_system_admin(
        &self,
        username: &Username,
        password: &NewPassword,
    ) -> Result<i64, RepoError> {
        let hash = Self::hash(password).await?;
        let created = user_row(username, hash, Role::SystemAdmin, None)
            .insert(&self.db)
            .await
            .map_err(|e| username_conflict(e, username))?;
        // the first-run links are spent once any system administrator exists
        setup_token::Entity::delete_many()
            .exec(&self.db)
            .await
            .map_err(internal("delete setup tokens"))?;
        Ok(created.id)
    }
}

/// A new account's row: no sessions yet.
fn user_row(
    username: &Username,
    hash: String,
    role: Role,
    tenant_id: Option<i64>,
) -> user::ActiveModel {
    user::ActiveModel {
        username: Set(username.as_str().to_owned()),
        password_hash: Set(hash),
        role: Set(role.as_str().to_owned()),
        tenant_id: Set(tenant_id),
        session_epoch: Set(0),
        created_at: Set(now()),
        ..Default::default()
    }
}

fn hashing_error(e: crypto::CryptoError) -> RepoError {
    match e {
        crypto::CryptoError::Busy => RepoError::Busy,
        e => {
            tracing::error!(error = %e, "password hashing");
            RepoError::Internal
        }
    }
}

fn username_conflict(e: sea_orm::DbErr, username: &Username) -> RepoError {
    if is_unique_violation(&e) {
        RepoError::Conflict {
            field: "username",
            message: format!("The username '{}' is taken.", username.as_str()),
        }
    } else {
        internal("insert user")(e)
    }
}

#[async_trait]
impl Accounts for SqlAccounts {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal>, RepoError> {
        // a name no account can have is not looked up (it may hold what a database refuses,
        // such as NUL), but costs the same hashing work as a wrong password
        let found = match Username::parse(username) {
            Ok(name) => user::Entity::find()
                .filter(user::Column::Username.eq(name.as_str()))
                .find_also_related(tenant::Entity)
                .one(&self.db)
                .await
                .map_err(internal("find user for sign-in"))?,
            Err(_) => None,
        };
        let hash = found.as_ref().map(|(u, _)| u.password_hash.clone());
        // always hash, so an unknown user takes as long as a wrong password
        let checked = password.chars().count() <= app::domain::account::PASSWORD_MAX;
        let password = if checked { password } else { "" };
        if !crypto::verify_password(password, hash)
            .await
            .map_err(hashing_error)?
            || !checked
        {
            return Ok(None);
        }
        Ok(found.and_then(|(u, t)| Self::principal_of(u, t)))
    }

    async fn principal(&self, user_id: i64) -> Result<Option<Principal>, RepoError> {
        let found = user::Entity::find_by_id(user_id)
            .find_also_related(tenant::Entity)
            .one(&self.db)
            .await
            .map_err(internal("find user for session"))?;
        Ok(found.and_then(|(u, t)| Self::principal_of(u, t)))
    }

    async fn setup_state(&self) -> Result<SetupStatus, RepoError> {
        Ok(if self.has_system_admin().await? {
            SetupStatus::Done
        } else {
            SetupStatus::Open
        })
    }

    async fn username_exists(&self, username: &str) -> Result<bool, RepoError> {
        let Ok(name) = Username::parse(username) else {
            return Ok(false);
        };
        Ok(user::Entity::find()
            .filter(user::Column::Username.eq(name.as_str()))
            .count(&self.db)
            .await
            .map_err(internal("find username"))?
            > 0)
    }

    async fn complete_setup(
        &self,
        actor: &Actor,
        token: &str,
        username: &Username,
        password: &NewPassword,
    ) -> Result<Principal, RepoError> {
        // the cheap checks first: a wrong token or a finished setup never costs a hash
        self.setup_allowed(&self.db, token).await?;
        let hash = Self::hash(password).await?;
        let txn = self.db.begin().await.map_err(internal("begin setup"))?;
        self.setup_allowed(&txn, token).await?;
        let created = user_row(username, hash, Role::SystemAdmin, None)
            .insert(&txn)
            .await
            .map_err(|e| username_conflict(e, username))?;
        setup_token::Entity::delete_many()
            .exec(&txn)
            .await
            .map_err(internal("delete setup tokens"))?;
        let actor = Actor {
            user_id: Some(created.id),
            role: Some(Role::SystemAdmin),
            ..actor.clone()
        };
        audit::record(
            &txn,
            &actor,
            AuditEvent::new(
                AuditAction::Setup,
                None,
                ObjectKind::Account,
                Some(created.id),
                username.as_str(),
            ),
        )
        .await?;
        txn.commit().await.map_err(internal("commit setup"))?;
        Self::principal_of(created, None).ok_or(RepoError::Internal)
    }
}

impl SqlAccounts {
    /// Setup may run: no system administrator yet, and `token` is the newest setup link's.
    async fn setup_allowed(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        token: &str,
    ) -> Result<(), RepoError> {
        let admins = user::Entity::find()
            .filter(user::Column::Role.eq(Role::SystemAdmin.as_str()))
            .count(db)
            .await
            .map_err(internal("count system admins"))?;
        if admins > 0 {
            return Err(RepoError::Conflict {
                field: "form",
                message: "Setup is already complete. Sign in instead.".into(),
            });
        }
        let valid = setup_token::Entity::find_by_id(crypto::token_digest(token))
            .one(db)
            .await
            .map_err(internal("find setup token"))?
            .is_some();
        if !valid {
            return Err(RepoError::Conflict {
                field: "form",
                message: "This setup link is not valid. Use the newest link from the server log."
                    .into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Tenants for SqlAccounts {
    async fn list(&self) -> Result<Vec<TenantSummary>, RepoError> {
        let tenants = tenant::Entity::find()
            .order_by_asc(tenant::Column::NameKey)
            .all(&self.db)
            .await
            .map_err(internal("list tenants"))?;
        let admins = user::Entity::find()
            .filter(user::Column::Role.eq(Role::TenantAdmin.as_str()))
            .order_by_asc(user::Column::Username)
            .all(&self.db)
            .await
            .map_err(internal("list tenant admins"))?;
        let mut by_tenant: HashMap<i64, Vec<AdminSummary>> = HashMap::new();
        for a in admins {
            if let Some(t) = a.tenant_id {
                by_tenant.entry(t).or_default().push(AdminSummary {
                    user_id: a.id,
                    username: a.username,
                });
            }
        }
        Ok(tenants
            .into_iter()
            .map(|t| TenantSummary {
                admins: by_tenant.remove(&t.id).unwrap_or_default(),
                id: t.id,
                name: t.name,
                disabled: t.disabled,
                created: display_time(t.created_at),
            })
            .collect())
    }

    async fn create(
        &self,
        actor: &Actor,
        name: &TenantName,
        admin: &Username,
        password: &NewPassword,
    ) -> Result<i64, RepoError> {
        let hash = Self::hash(password).await?;
        let txn = self
            .db
            .begin()
            .await
            .map_err(internal("begin create tenant"))?;
        let tenant = tenant::ActiveModel {
            name: Set(name.as_str().to_owned()),
            name_key: Set(name.as_str().to_lowercase()),
            disabled: Set(false),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .unique_or(
            "name",
            format!("A tenant space named '{}' exists already.", name.as_str()),
            "insert tenant",
        )?;
        user_row(admin, hash, Role::TenantAdmin, Some(tenant.id))
            .insert(&txn)
            .await
            .map_err(|e| match username_conflict(e, admin) {
                RepoError::Conflict { message, .. } => RepoError::Conflict {
                    field: "admin_username",
                    message,
                },
                other => other,
            })?;
        audit::record(
            &txn,
            actor,
            AuditEvent::new(
                AuditAction::TenantCreated,
                Some(tenant.id),
                ObjectKind::Tenant,
                Some(tenant.id),
                name.as_str(),
            )
            .with(created_fields(&[
                ("Name", name.as_str().to_owned()),
                ("Tenant administrator", admin.as_str().to_owned()),
            ])),
        )
        .await?;
        txn.commit()
            .await
            .map_err(internal("commit create tenant"))?;
        Ok(tenant.id)
    }

    async fn reset_admin_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password: &NewPassword,
    ) -> Result<(), RepoError> {
        let hash = Self::hash(password).await?;
        let Some(target) = user::Entity::find_by_id(user_id)
            .filter(user::Column::Role.eq(Role::TenantAdmin.as_str()))
            .one(&self.db)
            .await
            .map_err(internal("find tenant admin"))?
        else {
            return Err(RepoError::NotFound);
        };
        audited(&self.db, actor, "reset password", move |txn| {
            Box::pin(async move {
                let result = user::Entity::update_many()
                    .col_expr(user::Column::PasswordHash, Expr::value(hash))
                    .col_expr(
                        user::Column::SessionEpoch,
                        Expr::col(user::Column::SessionEpoch).add(1),
                    )
                    .filter(user::Column::Id.eq(user_id))
                    .filter(user::Column::Role.eq(Role::TenantAdmin.as_str()))
                    .exec(txn)
                    .await
                    .map_err(internal("reset password"))?;
                if result.rows_affected == 0 {
                    return Err(RepoError::NotFound);
                }
                let entry = AuditEvent::new(
                    AuditAction::AdminPasswordReset,
                    target.tenant_id,
                    ObjectKind::Account,
                    Some(target.id),
                    target.username,
                )
                .with(vec![FieldChange::secret("Password", true, true)]);
                Ok(((), entry))
            })
        })
        .await
    }

    async fn set_disabled(
        &self,
        actor: &Actor,
        tenant_id: i64,
        disabled: bool,
    ) -> Result<(), RepoError> {
        audited(&self.db, actor, "set tenant disabled", move |txn| {
            Box::pin(async move {
                // a no-op write first: the row is locked before it is read (see
                // service_time::locked)
                tenant::Entity::update_many()
                    .col_expr(
                        tenant::Column::Disabled,
                        Expr::col(tenant::Column::Disabled).into(),
                    )
                    .filter(tenant::Column::Id.eq(tenant_id))
                    .exec(txn)
                    .await
                    .map_err(internal("lock tenant"))?;
                let Some(before) = tenant::Entity::find_by_id(tenant_id)
                    .one(txn)
                    .await
                    .map_err(internal("find tenant"))?
                else {
                    return Err(RepoError::NotFound);
                };
                tenant::Entity::update_many()
                    .col_expr(tenant::Column::Disabled, Expr::value(disabled))
                    .filter(tenant::Column::Id.eq(tenant_id))
                    .exec(txn)
                    .await
                    .map_err(internal("set tenant disabled"))?;
                let state = |d: bool| if d { "Disabled" } else { "Enabled" }.to_owned();
                let action = if disabled {
                    AuditAction::TenantDisabled
                } else {
                    AuditAction::TenantEnabled
                };
                let entry = AuditEvent::new(
                    action,
                    Some(tenant_id),
                    ObjectKind::Tenant,
                    Some(tenant_id),
                    before.name,
                )
                .with(diff(
                    &[("Status", state(before.disabled))],
                    &[("Status", state(disabled))],
                ));
                Ok(((), entry))
            })
        })
        .await
    }
}
