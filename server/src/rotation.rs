//! `switchboard rotate-key`: every stored secret re-encrypted under a new master key, in
//! batches, while servers keep running (they accept the old and the new key, by key id).
//!
//! With a key file, this makes the new key and writes it before the old one; servers read the
//! changed file within a second and seal with the new key from then on. Every secret still
//! under an old key is sealed again (a value changed meanwhile by an edit is left alone and
//! looked at in the next pass). When none is left, the old key is dropped from the file and
//! from the database's key checks. Stopped half-way, a second run continues: the key file then
//! already has the new key first and the old one after it.
//!
//! With `SWITCHBOARD_MASTER_KEY`, the environment cannot change under a running process: set
//! the new key there and the old one in `SWITCHBOARD_PREVIOUS_MASTER_KEYS` on every server
//! (one at a time), run this, then remove the previous keys.

use crate::config::Config;
use crate::db::keys::{self, KeyError};
use crate::db::{Db, DbError};
use crate::secrets::{
    self, KeyRing, KeySource, Loaded, SecretBox, SecretError, generate_key, key_file_keys,
    write_key_file,
};
use std::time::Duration;

/// At most this many passes over the secrets before giving up.
const MAX_PASSES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "SWITCHBOARD_MASTER_KEY names one key only. To rotate, set SWITCHBOARD_MASTER_KEY to the \
         new key and SWITCHBOARD_PREVIOUS_MASTER_KEYS to the current one, here and on every \
         server, then run rotate-key again"
    )]
    NoPreviousKey,
    #[error("there is no master key yet (no {0}): start the server once first")]
    NoKey(String),
    #[error(
        "{0} secrets are still sealed with an old key after {MAX_PASSES} passes: a server that \
         does not know the new key may be writing them. Check the servers' keys and run again"
    )]
    Unfinished(u64),
}

pub async fn rotate(config: &Config, batch: u64, settle: Duration) -> Result<(), RotateError> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let (ring, source) = match secrets::load(
        config.master_key.as_deref(),
        config.previous_master_keys.as_deref(),
        &config.data_dir,
    )? {
        Loaded::Ring(ring, source) => (*ring, source),
        Loaded::NoKeyFile(path) => return Err(RotateError::NoKey(path.display().to_string())),
    };
    let secrets = match &source {
        KeySource::Env => {
            if ring.ids().len() < 2 {
                return Err(RotateError::NoPreviousKey);
            }
            let secrets = SecretBox::with_ring(ring, KeySource::Env);
            keys::verify(&db.conn, &secrets).await?;
            println!(
                "rotating to key {} (from the environment)",
                secrets.ring().current_id()
            );
            secrets
        }
        KeySource::File(path) => {
            // the keys must be this database's before anything is written
            keys::verify(
                &db.conn,
                &SecretBox::with_ring(ring.clone(), KeySource::Env),
            )
            .await?;
            let mut keys = key_file_keys(path)?;
            if keys.len() == 1 {
                keys.insert(0, generate_key());
                write_key_file(path, &keys)?;
                println!(
                    "wrote the new key {} to {}; the old key stays beside it until every secret is moved",
                    KeyRing::new(&keys[0], &[]).current_id(),
                    path.display()
                );
            } else {
                println!(
                    "continuing the rotation to key {} ({})",
                    ring.current_id(),
                    path.display()
                );
            }
            let secrets = SecretBox::with_ring(
                KeyRing::new(&keys[0], &keys[1..]),
                KeySource::File(path.clone()),
            );
            keys::verify(&db.conn, &secrets).await?;
            // running servers look at the file every second: let them all take the new key
            tokio::time::sleep(settle).await;
            secrets
        }
    };
    let mut left = 0;
    for pass in 1..=MAX_PASSES {
        let done = keys::reseal_pass(&db.conn, &secrets, batch, None).await?;
        left = keys::not_current(&db.conn, &secrets)
            .await
            .map_err(DbError::from)?;
        println!(
            "pass {pass}: {} secrets re-encrypted, {} already under the new key, {} changed meanwhile; {left} left",
            done.resealed, done.current, done.raced
        );
        if left == 0 {
            break;
        }
    }
    if left > 0 {
        return Err(RotateError::Unfinished(left));
    }
    let forgotten = keys::forget_other_keys(&db.conn, &secrets)
        .await
        .map_err(DbError::from)?;
    let current = secrets.ring().current_id();
    match source {
        KeySource::File(path) => {
            let keys = key_file_keys(&path)?;
            write_key_file(&path, &keys[..1])?;
            println!(
                "every secret is sealed with key {current}; the old key is removed from {} ({forgotten} key check(s) dropped)",
                path.display()
            );
        }
        KeySource::Env => println!(
            "every secret is sealed with key {current} ({forgotten} key check(s) dropped); \
             remove SWITCHBOARD_PREVIOUS_MASTER_KEYS from every server's configuration"
        ),
    }
    Ok(())
}
