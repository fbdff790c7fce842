//! `switchboard rotate-key`: every stored secret re-encrypted under a new master key, in
//! batches, while servers keep running (they accept the old and the new key, by key id).
//!
//! With a key file, this makes the new key and writes it before the old one; servers read the
//! changed file within a second and seal with the new key from then on. Every secret still
//! under an old key is sealed again (a value changed meanwhile by an edit is left alone and
//! looked at in the next pass). When none is left, the old key is dropped from the file and
//! from the database's key checks (it is kept in `master.key.retired-<id>`, mode 0600, in case
//! a value sealed with it turns up). Stopped half-way, a second run continues: the key file
//! then already has the new key first and the old one after it. Two runs at once are refused
//! (`master.key.rotating` holds the running one's process id).
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
    #[error("another rotate-key is running (process {0}); if it is not, remove {1} and run again")]
    AlreadyRunning(u32, String),
    #[error("the key file {0} holds no key")]
    EmptyKeyFile(String),
}

/// The rotation lock: a file holding this process's id, removed when dropped.
struct Lock(std::path::PathBuf);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn lock(dir: &std::path::Path) -> Result<Lock, RotateError> {
    use std::io::Write;
    let path = dir.join("master.key.rotating");
    let io = |e: std::io::Error| {
        RotateError::Secret(SecretError::KeyFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                write!(f, "{}", std::process::id()).map_err(io)?;
                return Ok(Lock(path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder: Option<u32> = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse().ok());
                match holder {
                    Some(pid) if std::path::Path::new(&format!("/proc/{pid}")).exists() => {
                        return Err(RotateError::AlreadyRunning(pid, path.display().to_string()));
                    }
                    // left by a run that stopped: take it over
                    _ => std::fs::remove_file(&path).map_err(io)?,
                }
            }
            Err(e) => return Err(io(e)),
        }
    }
    Err(io(std::io::Error::other(
        "could not take the rotation lock",
    )))
}

/// Passes until no secret is left under an old key; after a pause of `settle` (a server that
/// sealed with a ring a moment old), once more, so the old keys can go.
async fn reseal_all(
    db: &Db,
    secrets: &SecretBox,
    batch: u64,
    settle: Duration,
) -> Result<(), RotateError> {
    let mut settled = false;
    for pass in 1..=MAX_PASSES {
        let done = keys::reseal_pass(&db.conn, secrets, batch, None).await?;
        let left = keys::not_current(&db.conn, secrets)
            .await
            .map_err(DbError::from)?;
        println!(
            "pass {pass}: {} secrets re-encrypted, {} already under the new key, {} changed meanwhile; {left} left",
            done.resealed, done.current, done.raced
        );
        if left > 0 {
            continue;
        }
        if settled {
            return Ok(());
        }
        tokio::time::sleep(settle).await;
        settled = true;
    }
    let left = keys::not_current(&db.conn, secrets)
        .await
        .map_err(DbError::from)?;
    if left == 0 {
        Ok(())
    } else {
        Err(RotateError::Unfinished(left))
    }
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
    // two runs on one key file would each make a key; with environment keys both move the
    // secrets to the same key, which is harmless
    let _lock = match &source {
        KeySource::File(_) => Some(lock(&config.data_dir)?),
        KeySource::Env => None,
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
            if keys.is_empty() {
                return Err(RotateError::EmptyKeyFile(path.display().to_string()));
            }
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
            // registered at once: a server restarting from now on must have the new key
            keys::verify(&db.conn, &secrets).await?;
            // running servers look at the file every second: let them all take the new key
            tokio::time::sleep(settle).await;
            secrets
        }
    };
    reseal_all(&db, &secrets, batch, settle).await?;
    let forgotten = keys::forget_other_keys(&db.conn, &secrets)
        .await
        .map_err(DbError::from)?;
    let current = secrets.ring().current_id();
    match source {
        KeySource::File(path) => {
            let keys = key_file_keys(&path)?;
            let Some((new, old)) = keys.split_first() else {
                return Err(RotateError::EmptyKeyFile(path.display().to_string()));
            };
            for (i, key) in old.iter().enumerate() {
                let id = KeyRing::new(key, &[]).current_id();
                let retired = path.with_file_name(format!("master.key.retired-{id}"));
                if !retired.exists() {
                    write_key_file(&retired, std::slice::from_ref(key))?;
                }
                if i == 0 {
                    println!(
                        "the old key {id} is kept in {} (delete it when you no longer need it)",
                        retired.display()
                    );
                }
            }
            write_key_file(&path, std::slice::from_ref(new))?;
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
