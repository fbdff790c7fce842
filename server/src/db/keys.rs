//! The master key and the database: a key check value per key that seals something here, so a
//! wrong, missing or silently recreated key refuses to start instead of failing every secret;
//! and the online re-encryption behind `switchboard rotate-key`.

use super::certificates::{KEY_FIELD, key_owner};
use super::entities::{certificate, channel, master_key};
use super::{is_unique_violation, now};
use crate::secrets::{KeyId, SecretBox, SecretError, SecretScope, sealed_key_id};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// What a key check value holds, sealed with the key it checks.
const CHECK_PLAINTEXT: &str = "switchboard master key check v1";
const CHECK_SCOPE: SecretScope<'static> = SecretScope {
    tenant_id: 0,
    channel: "-",
    field: "master-key-check",
};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the master key does not match this database: its secrets are sealed with key {needed}, \
         but the configured keys are {have}. Start with the key this database was set up with \
         (SWITCHBOARD_MASTER_KEY, or the master.key file it was created with); during a key \
         rotation, give the old key in SWITCHBOARD_PREVIOUS_MASTER_KEYS"
    )]
    WrongKey { needed: String, have: String },
    #[error(
        "the master key file {path} is missing, but this database holds secrets sealed with key \
         {needed}. Restore that file (or set SWITCHBOARD_MASTER_KEY to that key); a new key \
         would make every stored secret unreadable. Several instances on one database must \
         share one key: set SWITCHBOARD_MASTER_KEY on each"
    )]
    MissingKeyFile { path: String, needed: String },
    #[error("the master key check value of key {0} does not open (it was altered)")]
    Altered(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// The secret columns of a channel and the field name each is sealed under.
pub const CHANNEL_SECRETS: [(channel::Column, &str); 9] = [
    (channel::Column::PasswordEnc, "password"),
    (channel::Column::AccountKeyEnc, "account_key"),
    (channel::Column::AuthenticationKeyEnc, "authentication_key"),
    (channel::Column::WebhookPasswordEnc, "webhook_password"),
    (channel::Column::AppSecretEnc, "app_secret"),
    (channel::Column::AccessTokenEnc, "access_token"),
    (channel::Column::ApiKeySecretEnc, "api_key_secret"),
    (channel::Column::PreviousSecretEnc, PREVIOUS_SECRET),
    (channel::Column::AuthTokenEnc, "auth_token"),
];

/// The field the previous value of a webhook credential being changed is sealed under.
pub const PREVIOUS_SECRET: &str = "previous_secret";

fn sealed_of(m: &channel::Model, column: channel::Column) -> Option<&Vec<u8>> {
    match column {
        channel::Column::PasswordEnc => m.password_enc.as_ref(),
        channel::Column::AccountKeyEnc => m.account_key_enc.as_ref(),
        channel::Column::AuthenticationKeyEnc => m.authentication_key_enc.as_ref(),
        channel::Column::WebhookPasswordEnc => m.webhook_password_enc.as_ref(),
        channel::Column::AppSecretEnc => m.app_secret_enc.as_ref(),
        channel::Column::AccessTokenEnc => m.access_token_enc.as_ref(),
        channel::Column::ApiKeySecretEnc => m.api_key_secret_enc.as_ref(),
        channel::Column::PreviousSecretEnc => m.previous_secret_enc.as_ref(),
        channel::Column::AuthTokenEnc => m.auth_token_enc.as_ref(),
        _ => None,
    }
}

fn any_secret() -> Condition {
    CHANNEL_SECRETS
        .iter()
        .fold(Condition::any(), |c, (col, _)| c.add(col.is_not_null()))
}

/// The ids of the keys this database says seal its secrets.
pub async fn registered(db: &DatabaseConnection) -> Result<Vec<master_key::Model>, DbErr> {
    master_key::Entity::find()
        .order_by_asc(master_key::Column::CreatedAt)
        .all(db)
        .await
}

/// Whether anything in the database is sealed (or a key is registered): then no new key may be
/// made up.
pub async fn holds_secrets(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    if let Some(first) = registered(db).await?.into_iter().next() {
        return Ok(Some(first.key_id));
    }
    let sealed = channel::Entity::find()
        .filter(any_secret())
        .one(db)
        .await?
        .is_some()
        || certificate::Entity::find()
            .filter(certificate::Column::KeyEnc.is_not_null())
            .one(db)
            .await?
            .is_some();
    Ok(sealed.then(|| "(the key that sealed the stored secrets)".to_string()))
}

fn ids(list: &[KeyId]) -> String {
    list.iter()
        .map(KeyId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the configured keys against the database before anything else runs, and registers
/// the current key if it is new (the first start, or the start of a rotation).
pub async fn verify(db: &DatabaseConnection, secrets: &SecretBox) -> Result<(), KeyError> {
    for attempt in 0..2 {
        let ring = secrets.ring();
        let rows = registered(db).await?;
        let mut missing = Vec::new();
        for row in &rows {
            let Some(id) = KeyId::parse(&row.key_id) else {
                return Err(KeyError::Altered(row.key_id.clone()));
            };
            if !ring.ids().contains(&id) {
                missing.push(row.key_id.clone());
                continue;
            }
            match secrets.open(&row.check_value, CHECK_SCOPE) {
                Ok(text)
                    if text == CHECK_PLAINTEXT && sealed_key_id(&row.check_value) == Some(id) => {}
                _ => return Err(KeyError::Altered(row.key_id.clone())),
            }
        }
        if !missing.is_empty() {
            return Err(KeyError::WrongKey {
                needed: missing.join(", "),
                have: ids(&ring.ids()),
            });
        }
        if rows.is_empty() {
            // a database from before key checks: its secrets must open with these keys
            if let Some(sample) = sample_secret(db).await?
                && secrets
                    .open_bytes(
                        &sample.1,
                        SecretScope {
                            tenant_id: sample.0,
                            channel: &sample.2,
                            field: sample.3,
                        },
                    )
                    .is_err()
            {
                return Err(KeyError::WrongKey {
                    needed: "(the key that sealed the stored secrets)".into(),
                    have: ids(&ring.ids()),
                });
            }
        }
        let current = ring.current_id();
        if rows.iter().any(|r| r.key_id == current.to_string()) {
            return Ok(());
        }
        let check = secrets.seal(CHECK_PLAINTEXT, CHECK_SCOPE)?;
        let inserted = master_key::Entity::insert(master_key::ActiveModel {
            key_id: Set(current.to_string()),
            check_value: Set(check),
            genesis: Set(rows.is_empty().then_some(1)),
            created_at: Set(now()),
        })
        .exec_without_returning(db)
        .await;
        match inserted {
            Ok(_) => {
                tracing::info!(key_id = %current, "master key registered in the database");
                return Ok(());
            }
            // another instance registered a key at the same moment: look again
            Err(e) if is_unique_violation(&e) && attempt == 0 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// One stored secret (tenant, sealed value, channel uid, field), to try a key on.
async fn sample_secret(
    db: &DatabaseConnection,
) -> Result<Option<(i64, Vec<u8>, String, &'static str)>, DbErr> {
    let Some(m) = channel::Entity::find().filter(any_secret()).one(db).await? else {
        return Ok(None);
    };
    Ok(CHANNEL_SECRETS.iter().find_map(|(col, field)| {
        sealed_of(&m, *col).map(|v| (m.tenant_id, v.clone(), m.uid.clone(), *field))
    }))
}

/// What one pass of re-encryption did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Secrets now sealed with the current key that were not before.
    pub resealed: u64,
    /// Secrets that were already under the current key.
    pub current: u64,
    /// Secrets changed by someone else while this pass ran (left for the next pass).
    pub raced: u64,
}

/// Seals every secret that is not under the current key again, `batch` channels per
/// transaction-free step (each value is replaced only if it is still the value read, so an edit
/// made meanwhile is never overwritten). Stops after `max_channels` channels when given (a
/// later pass resumes: values already moved are skipped).
pub async fn reseal_pass(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    batch: u64,
    max_channels: Option<u64>,
) -> Result<Pass, KeyError> {
    let mut pass = Pass::default();
    let mut last_id = 0i64;
    let mut seen = 0u64;
    loop {
        let rows = channel::Entity::find()
            .filter(channel::Column::Id.gt(last_id))
            .filter(any_secret())
            .order_by_asc(channel::Column::Id)
            .limit(batch.max(1))
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        last_id = last.id;
        for m in &rows {
            for (col, field) in CHANNEL_SECRETS {
                let Some(sealed) = sealed_of(m, col) else {
                    continue;
                };
                let scope = SecretScope {
                    tenant_id: m.tenant_id,
                    channel: &m.uid,
                    field,
                };
                let Some(new) = secrets.reseal(sealed, scope)? else {
                    pass.current += 1;
                    continue;
                };
                let done = channel::Entity::update_many()
                    .col_expr(col, Expr::value(new))
                    .filter(channel::Column::Id.eq(m.id))
                    .filter(col.eq(sealed.clone()))
                    .exec(db)
                    .await?;
                if done.rows_affected == 1 {
                    pass.resealed += 1;
                } else {
                    pass.raced += 1;
                }
            }
            seen += 1;
            if max_channels.is_some_and(|max| seen >= max) {
                return Ok(pass);
            }
        }
    }
    // identity certificates' private keys
    let mut last_id = 0i64;
    loop {
        let rows = certificate::Entity::find()
            .filter(certificate::Column::Id.gt(last_id))
            .filter(certificate::Column::KeyEnc.is_not_null())
            .order_by_asc(certificate::Column::Id)
            .limit(batch.max(1))
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        last_id = last.id;
        for m in &rows {
            let (Some(sealed), Some(uid)) = (&m.key_enc, &m.uid) else {
                continue;
            };
            let owner = key_owner(uid);
            let scope = SecretScope {
                tenant_id: m.tenant_id,
                channel: &owner,
                field: KEY_FIELD,
            };
            let Some(new) = secrets.reseal(sealed, scope)? else {
                pass.current += 1;
                continue;
            };
            let done = certificate::Entity::update_many()
                .col_expr(certificate::Column::KeyEnc, Expr::value(new))
                .filter(certificate::Column::Id.eq(m.id))
                .filter(certificate::Column::KeyEnc.eq(sealed.clone()))
                .exec(db)
                .await?;
            if done.rows_affected == 1 {
                pass.resealed += 1;
            } else {
                pass.raced += 1;
            }
        }
    }
    Ok(pass)
}

/// How many stored secrets are not under the current key.
pub async fn not_current(db: &DatabaseConnection, secrets: &SecretBox) -> Result<u64, DbErr> {
    let current = secrets.ring().current_id();
    let mut n = 0;
    let mut last_id = 0i64;
    loop {
        let rows = channel::Entity::find()
            .filter(channel::Column::Id.gt(last_id))
            .filter(any_secret())
            .order_by_asc(channel::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        last_id = last.id;
        for m in &rows {
            n += CHANNEL_SECRETS
                .iter()
                .filter_map(|(col, _)| sealed_of(m, *col))
                .filter(|v| sealed_key_id(v) != Some(current))
                .count() as u64;
        }
    }
    let keys: Vec<Option<Vec<u8>>> = certificate::Entity::find()
        .select_only()
        .column(certificate::Column::KeyEnc)
        .filter(certificate::Column::KeyEnc.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    n += keys
        .iter()
        .flatten()
        .filter(|v| sealed_key_id(v) != Some(current))
        .count() as u64;
    Ok(n)
}

/// After a complete rotation: forgets every key but the current one.
pub async fn forget_other_keys(db: &DatabaseConnection, secrets: &SecretBox) -> Result<u64, DbErr> {
    let current = secrets.ring().current_id().to_string();
    Ok(master_key::Entity::delete_many()
        .filter(master_key::Column::KeyId.ne(current))
        .exec(db)
        .await?
        .rows_affected)
}
