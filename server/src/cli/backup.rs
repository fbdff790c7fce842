//! `switchboard backup PATH` and `switchboard restore PATH` for a SQLite database.
//!
//! A backup is `VACUUM INTO`: a consistent copy made inside one read transaction of the
//! running database, so servers keep answering (WAL: writers are not held) while it is made.
//! It holds every secret sealed, never opened: restoring it needs the master key it names,
//! which travels apart from it. A restore goes into an empty place only (never over a
//! database), is checked before it takes that place (its integrity, its schema brought up to
//! date, the configured master key opening it), and takes it in one rename.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`): see the README.

use crate::config::Config;
use crate::db::{Db, sqlite_path};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backup and restore copy a SQLite database; DATABASE_URL names PostgreSQL: use pg_dump and pg_restore (see \"Backups\" in the README)"
    )]
    NotSqlite,
    #[error("there is no database at {0}")]
    NoDatabase(String),
    #[error("{0} exists already: back up to a new file")]
    BackupExists(String),
    #[error(
        "{0} exists already: restore into an empty data directory (move the database there away first)"
    )]
    TargetExists(String),
    #[error("{0} is not a file")]
    NoBackup(String),
    #[error("{path} is not a Switchboard backup: {reason}")]
    NotABackup { path: String, reason: String },
    #[error("the backup was not restored: {0}")]
    Refused(String),
    #[error("{context}: {reason}")]
    Failed { context: String, reason: String },
}

fn failed(context: impl Into<String>) -> impl FnOnce(String) -> BackupError {
    let context = context.into();
    move |reason| BackupError::Failed { context, reason }
}

/// The SQLite file of the configuration's database.
fn database_file(config: &Config) -> Result<PathBuf, BackupError> {
    if !config.database_url.starts_with("sqlite:") {
        return Err(BackupError::NotSqlite);
    }
    sqlite_path(&config.database_url).ok_or(BackupError::NotSqlite)
}

/// `PRAGMA quick_check` of a SQLite file opened read-only (nothing written beside it), and
/// whether it has Switchboard's migrations table.
async fn check_file(path: &Path) -> Result<(), BackupError> {
    let not = |reason: String| BackupError::NotABackup {
        path: path.display().to_string(),
        reason,
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| not(e.to_string()))?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| not(e.to_string()))?;
    if check != "ok" {
        return Err(not(format!("its integrity check says {check}")));
    }
    let migrations: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| not(e.to_string()))?;
    let _ = conn.close().await;
    if migrations == 0 {
        return Err(not("it has no Switchboard schema".to_owned()));
    }
    Ok(())
}

fn size_text(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// Writes a consistent copy of the running database to `to`; answers what to say.
pub async fn backup(config: &Config, to: &Path) -> Result<String, BackupError> {
    let from = database_file(config)?;
    if !from.is_file() {
        return Err(BackupError::NoDatabase(from.display().to_string()));
    }
    if to.exists() {
        return Err(BackupError::BackupExists(to.display().to_string()));
    }
    let started = Instant::now();
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| failed("the database")(e.to_string()))?;
    let keys: Vec<String> = crate::db::keys::registered(&db.conn)
        .await
        .map_err(|e| failed("the master key ids")(e.to_string()))?
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    let crate::db::Pool::Sqlite(pool) = &db.pool else {
        return Err(BackupError::NotSqlite);
    };
    let target = to.to_string_lossy().into_owned();
    sqlx::query("VACUUM INTO ?")
        .bind(&target)
        .execute(pool)
        .await
        .map_err(|e| failed(format!("writing {target}"))(e.to_string()))?;
    pool.close().await;
    check_file(to).await?;
    let needs = match keys.as_slice() {
        [] => "It holds no sealed secret: any master key opens it.".to_owned(),
        [one] => format!(
            "Restoring it needs the master key {one} (SWITCHBOARD_MASTER_KEY, or the master.key file of {}): keep a copy of that key apart from the backup.",
            config.data_dir.display()
        ),
        many => format!(
            "Restoring it needs the master keys {} (SWITCHBOARD_MASTER_KEY and SWITCHBOARD_PREVIOUS_MASTER_KEYS, or the master.key file of {}): keep a copy of them apart from the backup.",
            many.join(", "),
            config.data_dir.display()
        ),
    };
    Ok(format!(
        "backed up {} to {} ({}) in {:.1}s. {needs}",
        from.display(),
        to.display(),
        size_text(to),
        started.elapsed().as_secs_f64()
    ))
}

/// The files SQLite keeps beside `db`.
fn companions(db: &Path) -> [PathBuf; 2] {
    let with = |suffix: &str| {
        let mut s = db.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    [with("-wal"), with("-shm")]
}

fn remove_with_companions(db: &Path) {
    let _ = std::fs::remove_file(db);
    for c in companions(db) {
        let _ = std::fs::remove_file(c);
    }
}

/// Restores the backup `from` as the configuration's database, which must not exist yet;
/// answers what to say.
pub async fn restore(config: &Config, from: &Path) -> Result<String, BackupError> {
    let target = database_file(config)?;
    if target.exists() || companions(&target).iter().any(|c| c.exists()) {
        return Err(BackupError::TargetExists(target.display().to_string()));
    }
    if !from.is_file() {
        return Err(BackupError::NoBackup(from.display().to_string()));
    }
    check_file(from).await?;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir).map_err(|e| failed(dir.display().to_string())(e.to_string()))?;
    // beside the target (one file system: the last step is a rename), under a name no server
    // opens
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "switchboard.db".into());
    let staging = dir.join(format!(".{name}.restoring"));
    remove_with_companions(&staging);
    std::fs::copy(from, &staging)
        .map_err(|e| failed(format!("copying to {}", staging.display()))(e.to_string()))?;
    let mut staged = config.clone();
    staged.database_url = format!("sqlite://{}", staging.display());
    // the schema brought up to date and the master key checked, as a server start would
    let counted = async {
        let state = crate::startup::build_state(&staged)
            .await
            .map_err(|e| BackupError::Refused(e.to_string()))?;
        let crate::db::Pool::Sqlite(pool) = &state.db.pool else {
            return Err(BackupError::NotSqlite);
        };
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool);
        let counting = |e: sqlx::Error| failed("counting what was restored")(e.to_string());
        let tenants = count("SELECT COUNT(*) FROM tenants")
            .await
            .map_err(counting)?;
        let channels = count("SELECT COUNT(*) FROM channels")
            .await
            .map_err(counting)?;
        // everything into the main file, then closed: the rename moves one file
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await;
        pool.close().await;
        Ok::<_, BackupError>((tenants, channels))
    }
    .await;
    let (tenants, channels) = match counted {
        Ok(n) => n,
        Err(e) => {
            remove_with_companions(&staging);
            return Err(e);
        }
    };
    for (c, t) in companions(&staging).iter().zip(companions(&target)) {
        if c.exists() {
            std::fs::rename(c, &t).map_err(|e| failed("moving the restore in")(e.to_string()))?;
        }
    }
    std::fs::rename(&staging, &target)
        .map_err(|e| failed("moving the restore in")(e.to_string()))?;
    Ok(format!(
        "restored {} into {}: {tenants} tenant spaces, {channels} channels; the configured master key opens its secrets. Start it with `switchboard serve`.",
        from.display(),
        target.display()
    ))
}
