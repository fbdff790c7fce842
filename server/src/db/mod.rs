//! The database: connection (SQLite by default, PostgreSQL by URL), migrations, the session
//! store on the same pool, and the repositories that implement `app::ports`.

pub mod accounts;
pub mod alerts;
pub mod apps;
pub mod audit;
pub mod census;
pub mod certificates;
pub mod channel_fields;
pub mod channels;
pub mod entities;
pub mod health;
pub mod keys;
pub mod migration;
pub mod one_instance;
pub mod org;
pub mod retention;
pub mod service_time;
pub mod sessions;
pub mod sign_ins;
pub mod tallies;
pub mod trustlist;
pub mod write;

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, SqlxPostgresConnector,
    SqlxSqliteConnector, Statement, Value,
};
use sea_orm_migration::MigratorTrait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("database URL {0} is not supported (use sqlite://… or postgres://…)")]
    Unsupported(String),
    #[error("cannot create the data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Query(#[from] DbErr),
}

/// The raw pool under sea-orm, for the session store that shares it.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub pool: Pool,
}

impl Db {
    /// The pool's connections: (open, idle, the most it opens).
    pub fn pool_use(&self) -> (usize, usize, u32) {
        match &self.pool {
            Pool::Sqlite(p) => (
                p.size() as usize,
                p.num_idle(),
                p.options().get_max_connections(),
            ),
            Pool::Postgres(p) => (
                p.size() as usize,
                p.num_idle(),
                p.options().get_max_connections(),
            ),
        }
    }
}

impl Db {
    /// A connection for background deletes (the traffic purge): on SQLite a pool of one
    /// connection of its own that commits with `synchronous=NORMAL` — no fsync while it holds
    /// the write lock, and a delete lost to a power cut is only done again — opened when first
    /// used; the writer's commits keep FULL. On PostgreSQL (and an in-memory SQLite database,
    /// which a second pool would not see) the shared pool.
    pub fn background_connection(&self) -> DatabaseConnection {
        match &self.pool {
            Pool::Sqlite(p) => {
                let options = p.connect_options();
                if options.get_filename().as_os_str() == ":memory:" {
                    return self.conn.clone();
                }
                // and never checkpoints the WAL itself (the writer's commits do): a checkpoint
                // after its commit would only make a batch look longer
                let options = (*options)
                    .clone()
                    .synchronous(SqliteSynchronous::Normal)
                    .pragma("wal_autocheckpoint", "0");
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(0)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy_with(options);
                SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
            }
            Pool::Postgres(_) => self.conn.clone(),
        }
    }
}

/// The file of a `sqlite:` URL, if it names one (not `:memory:`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let fail = |e: sqlx::Error| DbError::Connect {
            url: redact(url),
            reason: e.to_string(),
        };
        if url.starts_with("sqlite:") {
            if let Some(dir) = sqlite_path(url).and_then(|p| p.parent().map(|d| d.to_path_buf()))
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(&dir).map_err(|e| DbError::DataDir {
                    path: dir.display().to_string(),
                    reason: e.to_string(),
                })?;
            }
            let options = SqliteConnectOptions::from_str(url)
                .map_err(fail)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(fail)?;
            Ok(Self {
                conn: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone()),
                pool: Pool::Sqlite(pool),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            use sqlx::{ConnectOptions, Connection};
            // a scan that stops after a few rows (LIMIT) always starts at the table's start:
            // synchronized scans start where another one is, so the same query could read a
            // different share of a million rows each time (a p99 of 145 ms beside a p50 of 6)
            let options = PgConnectOptions::from_str(url)
                .map_err(fail)?
                .options([("synchronize_seqscans", "off")]);
            // one direct connection first: its error says what is wrong (refused, auth, no
            // such database) where the pool would only time out
            options
                .connect()
                .await
                .map_err(fail)?
                .close()
                .await
                .map_err(fail)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(fail)?;
            Ok(Self {
                conn: SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone()),
                pool: Pool::Postgres(pool),
            })
        } else {
            Err(DbError::Unsupported(redact(url)))
        }
    }

    /// Brings the schema (and the session table) up to date.
    pub async fn migrate(&self) -> Result<(), DbError> {
        // instances that start together on PostgreSQL take turns: the first migrates, the
        // others wait on a lock held by a connection of their own (closed, not returned to the
        // pool, so the lock ends with it whatever happened) and then find nothing to do
        let turn = match &self.pool {
            Pool::Postgres(pool) => {
                let locked = |e: sqlx::Error| DbError::Migrate(format!("waiting for my turn: {e}"));
                let mut c = pool.acquire().await.map_err(locked)?;
                let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(7261001)")
                    .fetch_one(&mut *c)
                    .await
                    .map_err(locked)?;
                if !mine {
                    tracing::info!("another instance is migrating the database; waiting for it");
                    sqlx::query("SELECT pg_advisory_lock(7261001)")
                        .execute(&mut *c)
                        .await
                        .map_err(locked)?;
                }
                Some(c)
            }
            Pool::Sqlite(_) => None,
        };
        let migrated = async {
            migration::Migrator::up(&self.conn, None)
                .await
                .map_err(|e| DbError::Migrate(e.to_string()))?;
            sessions::SessionStore::new(self)
                .migrate()
                .await
                .map_err(|e| DbError::Migrate(e.to_string()))
        }
        .await;
        if let Some(c) = turn {
            let _ = c.close().await;
        }
        migrated
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> bool {
        self.conn.execute_unprepared("SELECT 1").await.is_ok()
    }
}

/// Logs a database error with its context and answers the opaque port error.
pub fn internal(context: &'static str) -> impl FnOnce(DbErr) -> app::ports::RepoError {
    move |e| {
        tracing::error!(error = %e, context, "database");
        app::ports::RepoError::Internal
    }
}

/// A write's error as a repository answers it: a unique-constraint violation is a `Conflict`
/// on `field` with `message` (shown next to that field); any other error is logged with
/// `context` and answered `Internal`.
pub trait UniqueOr<T> {
    fn unique_or(
        self,
        field: &'static str,
        message: impl Into<String>,
        context: &'static str,
    ) -> Result<T, app::ports::RepoError>;
}

impl<T> UniqueOr<T> for Result<T, DbErr> {
    fn unique_or(
        self,
        field: &'static str,
        message: impl Into<String>,
        context: &'static str,
    ) -> Result<T, app::ports::RepoError> {
        self.map_err(|e| {
            if is_unique_violation(&e) {
                app::ports::RepoError::Conflict {
                    field,
                    message: message.into(),
                }
            } else {
                internal(context)(e)
            }
        })
    }
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A row names one that is not there (any more), or one still named by others was deleted.
/// (SQLite reports a restricted delete as its trigger code 1811, not as 787.)
pub fn is_foreign_key_violation(e: &DbErr) -> bool {
    if matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    ) {
        return true;
    }
    let database = match e {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(sqlx::Error::Database(d)))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(sqlx::Error::Database(d))) => d,
        _ => return false,
    };
    matches!(database.code().as_deref(), Some("787" | "1811" | "23503"))
        && (database.code().as_deref() != Some("1811")
            || database.message().contains("FOREIGN KEY"))
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Unix milliseconds.
pub fn unix_millis(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `YYYY-MM-DD HH:MM UTC`
pub fn display_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A transaction that will write: on SQLite it takes the write lock at once (a no-op write
/// first), waiting for it as long as the busy timeout allows. A deferred transaction whose
/// first statement writes the name index (an FTS5 table, which reads before it writes) could
/// find another writer's commit in between and fail at once with "database is locked".
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        txn.execute_unprepared("DELETE FROM channel_tallies WHERE 0")
            .await?;
    }
    Ok(txn)
}

/// How many rows `query` (`?` placeholders) answers, counted up to `cap + 1` and no further:
/// a count that costs at most that many rows, however many match.
pub(crate) async fn count_up_to<C: ConnectionTrait>(
    db: &C,
    query: &str,
    values: Vec<Value>,
    cap: u64,
) -> Result<u64, DbErr> {
    let sql = format!("SELECT COUNT(*) AS n FROM ({query} LIMIT {}) AS t", cap + 1);
    let row = db
        .query_one(statement(db.get_database_backend(), &sql, values))
        .await?;
    let n: i64 = match row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A statement written with `?` placeholders, numbered `$1`, `$2`… for PostgreSQL (the SQL
/// itself holds no `?` of its own).
pub(crate) fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut numbered = String::with_capacity(sql.len() + 8);
        for (i, part) in sql.split('?').enumerate() {
            if i > 0 {
                numbered.push_str(&format!("${i}"));
            }
            numbered.push_str(part);
        }
        numbered
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/x.db"),
            Some(PathBuf::from("data/x.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:****@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn formats_times() {
        let t = time::macros::datetime!(2026-11-25 15:30:59 UTC);
        assert_eq!(display_time(t), "2026-11-25 15:30 UTC");
    }
}
