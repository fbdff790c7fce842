//! Sign-in attempts in the database (`http::throttle` decides what they count against): every
//! instance on the same database counts the same attempts, and none is forgotten by a restart.
//!
//! A reservation counts and inserts under a lock per key, so that any number of attempts at the
//! same moment, on any number of instances, gets at most `limit` through: PostgreSQL takes a
//! transaction-scoped advisory lock per key (in one order, so two reservations never wait on
//! each other crosswise) in a READ COMMITTED transaction, whose count after the lock sees every
//! reservation committed before it; SQLite's first statement is a write (the key's expired
//! rows go), which takes the database's one write lock for the whole transaction. A key that is
//! full already is refused before any lock or write (`full`): a count read without the lock
//! can only be as high as the one that would be read under it later.
//!
//! Times are the database's clock on PostgreSQL (instances' clocks may differ), this machine's on
//! SQLite (one instance). `sweep` deletes what the window no longer counts, every minute.

use crate::db::statement;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    IsolationLevel, TransactionTrait,
};

#[derive(Clone)]
pub struct SignInAttempts {
    db: DatabaseConnection,
}

/// How a reservation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// Counted against every key, under this attempt number.
    Granted(i64),
    /// A key already has `limit` attempts in the window: the seconds until its oldest ages out.
    Wait(u64),
}

impl SignInAttempts {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Now, in milliseconds since the Unix epoch, by the clock every instance shares.
    pub async fn now_ms(&self) -> Result<i64, DbErr> {
        let backend = self.db.get_database_backend();
        if backend != DatabaseBackend::Postgres {
            return Ok(system_now_ms());
        }
        let row = self
            .db
            .query_one(statement(
                backend,
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) AS now",
                vec![],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the time".into()))?;
        row.try_get("", "now")
    }

    /// Without a lock or a write: the seconds to wait when one of `keys` already has `limit`
    /// attempts younger than `window_ms` at `now_ms`. A refusal from here stands (the count
    /// under the lock could only be as high); `None` says nothing until `reserve` counts again.
    pub async fn full(
        &self,
        keys: &[String],
        limit: u64,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<Option<u64>, DbErr> {
        waits(&self.db, keys, limit, window_ms, now_ms).await
    }

    /// Counts an attempt at `now_ms` against each of `keys` unless one of them already has
    /// `limit` attempts younger than `window_ms` (counted under the keys' lock).
    pub async fn reserve(
        &self,
        keys: &[String],
        limit: u64,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<Reserved, DbErr> {
        let backend = self.db.get_database_backend();
        let since = now_ms - window_ms;
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        let txn: DatabaseTransaction = if backend == DatabaseBackend::Postgres {
            let txn = self
                .db
                .begin_with_config(
                    Some(IsolationLevel::ReadCommitted),
                    Some(AccessMode::ReadWrite),
                )
                .await?;
            for key in &keys {
                txn.execute(statement(
                    backend,
                    "SELECT pg_advisory_xact_lock(hashtextextended(?, 7261))",
                    vec![format!("switchboard/sign-in/{key}").into()],
                ))
                .await?;
            }
            txn
        } else {
            let txn = self.db.begin().await?;
            // a write first: it takes SQLite's write lock before the counts
            for key in &keys {
                txn.execute(statement(
                    backend,
                    "DELETE FROM sign_in_attempts WHERE key = ? AND at <= ?",
                    vec![key.clone().into(), since.into()],
                ))
                .await?;
            }
            txn
        };
        if let Some(secs) = waits(&txn, &keys, limit, window_ms, now_ms).await? {
            txn.rollback().await?;
            return Ok(Reserved::Wait(secs));
        }
        let attempt = {
            use rand::Rng;
            rand::rngs::OsRng.gen_range(1..i64::MAX)
        };
        for key in &keys {
            txn.execute(statement(
                backend,
                "INSERT INTO sign_in_attempts (key, attempt, at) VALUES (?, ?, ?)",
                vec![key.clone().into(), attempt.into(), now_ms.into()],
            ))
            .await?;
        }
        txn.commit().await?;
        Ok(Reserved::Granted(attempt))
    }

    /// Takes an attempt back (its password was right, or was never checked).
    pub async fn forget(&self, attempt: i64) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        self.db
            .execute(statement(
                backend,
                "DELETE FROM sign_in_attempts WHERE attempt = ?",
                vec![attempt.into()],
            ))
            .await
            .map(|_| ())
    }

    /// Deletes the attempts at least `window_ms` old (every minute, on every instance): the
    /// table holds what the window counts and little more.
    pub async fn sweep(&self, window_ms: i64) -> Result<u64, DbErr> {
        self.sweep_at(self.now_ms().await?, window_ms).await
    }

    async fn sweep_at(&self, now_ms: i64, window_ms: i64) -> Result<u64, DbErr> {
        let since = now_ms - window_ms;
        let backend = self.db.get_database_backend();
        self.db
            .execute(statement(
                backend,
                "DELETE FROM sign_in_attempts WHERE at <= ?",
                vec![since.into()],
            ))
            .await
            .map(|r| r.rows_affected())
    }
}

/// The longest wait any of `keys` asks for: `None` while none has `limit` attempts younger than
/// `window_ms` at `now_ms`.
async fn waits(
    conn: &impl ConnectionTrait,
    keys: &[String],
    limit: u64,
    window_ms: i64,
    now_ms: i64,
) -> Result<Option<u64>, DbErr> {
    let mut wait: Option<u64> = None;
    for key in keys {
        let row = conn
            .query_one(statement(
                conn.get_database_backend(),
                "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM sign_in_attempts \
                 WHERE key = ? AND at > ?",
                vec![key.clone().into(), (now_ms - window_ms).into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("a count".into()))?;
        let n: i64 = row.try_get("", "n")?;
        if u64::try_from(n).unwrap_or(0) >= limit {
            let oldest: Option<i64> = row.try_get("", "oldest")?;
            let left_ms = window_ms - (now_ms - oldest.unwrap_or(now_ms));
            let secs = u64::try_from(left_ms.max(0))
                .unwrap_or(0)
                .div_ceil(1000)
                .max(1);
            wait = Some(wait.map_or(secs, |w| w.max(secs)));
        }
    }
    Ok(wait)
}

/// This machine's clock, in milliseconds since the Unix epoch.
pub fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `sql` with `?` placeholders, numbered `$1, $2, …` for PostgreSQL.
#[cfg(test)]
impl SignInAttempts {
    /// `sweep` as if it were `now_ms`.
    pub async fn sweep_as_of(&self, now_ms: i64, window_ms: i64) -> Result<u64, DbErr> {
        self.sweep_at(now_ms, window_ms).await
    }

    /// How many rows the table holds (for tests of the sweep).
    pub async fn count_rows(&self) -> Result<i64, DbErr> {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one(statement(
                backend,
                "SELECT COUNT(*) AS n FROM sign_in_attempts",
                vec![],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("a count".into()))?;
        row.try_get("", "n")
    }
}
