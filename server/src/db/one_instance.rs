//! SQLite serves one instance: `switchboard serve` holds an exclusive lock on a file beside the
//! database for as long as it runs, and a second one on the same file refuses to start, naming
//! the first. (Commands that only change data — `create-admin`, `rotate-key` — may run beside
//! it: SQLite's own locking keeps them apart.) Several instances need PostgreSQL.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file of the SQLite database at `db`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".serving");
    PathBuf::from(name)
}

/// Holds the SQLite database of `database_url` for this server (`None` for PostgreSQL) until the
/// answer is dropped; `whoami` says who holds it ("pid 12, listening on …"), for the next one's
/// refusal.
pub fn hold(database_url: &str, whoami: &str) -> Result<Option<File>, String> {
    let Some(db) = super::sqlite_path(database_url) else {
        return Ok(None);
    };
    let path = lock_path(&db);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            let written = file
                .set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(whoami.as_bytes()))
                .and_then(|()| file.flush());
            if let Err(e) = written {
                tracing::warn!(error = %e, path = %path.display(), "writing the instance lock");
            }
            Ok(Some(file))
        }
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.take(512).read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process".to_owned()
            } else {
                holder.to_owned()
            };
            Err(format!(
                "another `switchboard serve` ({holder}) is already serving the SQLite database {}: \
                 SQLite serves one instance. To run more than one instance, use PostgreSQL \
                 (DATABASE_URL=postgres://…; see \"Running several instances\" in the README)",
                db.display()
            ))
        }
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_server_on_the_same_file_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/data/switchboard.db", dir.path().display());
        let first = hold(&url, "pid 1, listening on 127.0.0.1:3000").unwrap();
        assert!(first.is_some());
        let refused = hold(&url, "pid 2").unwrap_err();
        assert!(
            refused.contains("pid 1, listening on 127.0.0.1:3000"),
            "{refused}"
        );
        assert!(refused.contains("PostgreSQL"), "{refused}");
        // another database is another matter
        let other = format!("sqlite://{}/other.db", dir.path().display());
        assert!(hold(&other, "pid 3").unwrap().is_some());
        drop(first);
        assert!(hold(&url, "pid 2").unwrap().is_some());
        assert!(hold("postgres://h/db", "pid 4").unwrap().is_none());
    }
}
