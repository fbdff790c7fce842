//! An instance's background work, started together and stopped by one handle: the jobs that
//! instances claim with a lease (exports, imports; `FOR UPDATE SKIP LOCKED` on PostgreSQL) and
//! the periodic chores (the health sweep, the audit purge, the session cleanup).
//!
//! `startup::build_state` starts none of it: the server starts it (`startup::start_background`),
//! a command that only changes data (`create-admin`, `seed-demo`) does not.

use crate::db::now;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// How often an idle job loop looks for work it was not woken for: on PostgreSQL another
/// instance's task wakes it at once (`announce`, `listen`); this catches a notification lost
/// while the listener reconnected, and a lease that ran out.
const POLL: Duration = Duration::from_secs(2);

/// The PostgreSQL notification channel of exports' new tasks.
pub const EXPORTS_CHANNEL: &str = "switchboard_exports";
/// The PostgreSQL notification channel of imports' tasks to read or apply.
pub const IMPORTS_CHANNEL: &str = "switchboard_imports";

/// Tells every instance on the database that a task of `channel` is waiting (PostgreSQL's
/// `NOTIFY`; SQLite serves one instance, whose loop its own `Notify` wakes). A notification
/// that cannot be sent is logged: the task still starts within `POLL`.
pub async fn announce(db: &impl ConnectionTrait, channel: &'static str) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    let sent = db
        .execute(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, '')",
            [channel.into()],
        ))
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, channel, "announcing a task");
    }
}

/// One connection's `LISTEN`: returns only when the connection fails.
async fn listen_once(
    database_url: &str,
    wakes: &[(&'static str, Arc<Notify>)],
) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
    listener
        .listen_all(wakes.iter().map(|(channel, _)| *channel))
        .await?;
    // anything announced while this was not listening
    for (_, wake) in wakes {
        wake.notify_one();
    }
    loop {
        match listener.try_recv().await? {
            Some(note) => {
                if let Some((_, wake)) = wakes.iter().find(|(c, _)| *c == note.channel()) {
                    wake.notify_one();
                }
            }
            // the connection was lost (the next call makes a new one): what was announced
            // meanwhile is not delivered, so every loop looks now
            None => {
                for (_, wake) in wakes {
                    wake.notify_one();
                }
            }
        }
    }
}

/// Wakes the job loops of this instance when any instance announces a task: one connection
/// that `LISTEN`s on each channel of `wakes` (reconnecting after a loss) until `stopped`.
pub fn listen(
    database_url: String,
    wakes: Vec<(&'static str, Arc<Notify>)>,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !*stopped.borrow() {
            let listening = listen_once(&database_url, &wakes);
            tokio::select! {
                Err(e) = listening => {
                    tracing::warn!(error = %e, "listening for tasks; again in 2 s");
                    tokio::select! {
                        () = tokio::time::sleep(POLL) => {}
                        _ = stopped.changed() => break,
                    }
                }
                _ = stopped.changed() => break,
            }
        }
    })
}

/// The background work of this instance; dropping it stops everything too.
#[must_use = "the background work stops when its handle is dropped"]
pub struct Background {
    stop: watch::Sender<bool>,
    done: Vec<JoinHandle<()>>,
}

impl Default for Background {
    fn default() -> Self {
        Self {
            stop: watch::channel(false).0,
            done: Vec::new(),
        }
    }
}

impl Background {
    /// Adds a loop that runs until the handle stops.
    pub fn with(mut self, spawn: impl FnOnce(watch::Receiver<bool>) -> JoinHandle<()>) -> Self {
        self.done.push(spawn(self.stop.subscribe()));
        self
    }

    /// Stops everything: a job that is running is interrupted and its claim released, so
    /// another instance takes it over at once (not after its lease runs out).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for done in self.done {
            let _ = done.await;
        }
    }
}

/// Runs `work` now and then every `every` (a run that overran delays the next, it never
/// doubles up) until `stopped`; a run that fails is logged as `what` and the next one comes.
pub fn periodic<F, Fut, E>(
    what: &'static str,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
    mut work: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => break,
            }
            tokio::select! {
                result = work() => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "{what}");
                    }
                }
                _ = stopped.changed() => break,
            }
        }
        tracing::debug!("{what} stopped");
    })
}

/// How one run of a job ended, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Another instance took it over.
    Lost,
    /// Stopped by an error of the database before an outcome was written; it is claimed again.
    Interrupted,
    /// Nothing to do (the job was gone).
    Gone,
}

impl Outcome {
    /// Its metric label; none for a job that was gone.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Self::Succeeded => Some("succeeded"),
            Self::Failed => Some("failed"),
            Self::Lost => Some("lost"),
            Self::Interrupted => Some("interrupted"),
            Self::Gone => None,
        }
    }
}

/// Export tasks and imports by state, as metrics count them: (kind, state, n), every state
/// each can be in (zeros included).
pub async fn states(
    db: &sea_orm::DatabaseConnection,
) -> Result<Vec<(&'static str, &'static str, i64)>, sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    let imports = app::domain::import::ImportStatus::ALL.map(|s| s.as_str());
    let mut out = Vec::new();
    for (kind, table, all) in [
        (
            "export",
            "export_tasks",
            &["running", "success", "failed"][..],
        ),
        ("import", "import_tasks", &imports[..]),
    ] {
        let rows = db
            .query_all(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT status, COUNT(*) AS n FROM {table} GROUP BY status"),
            ))
            .await?;
        for state in all {
            let mut n = 0;
            for r in &rows {
                if r.try_get::<String>("", "status")? == *state {
                    n = r.try_get::<i64>("", "n")?;
                }
            }
            out.push((kind, *state, n));
        }
    }
    Ok(out)
}

/// A kind of background task that instances claim with a lease: exports, imports.
#[async_trait::async_trait]
pub trait Jobs: Send + Sync + 'static {
    /// For logs: "an export task", "an import".
    const WHAT: &'static str;
    /// Wakes the loop when a task is created.
    fn wake(&self) -> Arc<Notify>;
    async fn claim(&self, instance: &str) -> Result<Option<i64>, DbErr>;
    async fn run(&self, id: i64, instance: &str);
    /// Gives a claimed task back (this instance is stopping).
    async fn release(&self, id: i64, instance: &str);
}

/// An id for this instance's claims.
fn instance_name() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        &crate::secrets::crypto::random_token()[..8]
    )
}

/// Claims and runs `jobs` until `stopped`, waking on their notifier or every two seconds; a
/// task running when it stops is given back.
pub fn run_jobs<J: Jobs>(jobs: J, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    let instance = instance_name();
    let wake = jobs.wake();
    tokio::spawn(async move {
        while !*stopped.borrow() {
            match jobs.claim(&instance).await {
                Ok(Some(task)) => {
                    tokio::select! {
                        () = jobs.run(task, &instance) => {}
                        // stopped, or the handle dropped
                        _ = stopped.changed() => {
                            jobs.release(task, &instance).await;
                            break;
                        }
                    }
                }
                Ok(None) => {
                    tokio::select! {
                        _ = tokio::time::timeout(POLL, wake.notified()) => {}
                        _ = stopped.changed() => break,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "claiming {}", J::WHAT);
                    tokio::select! {
                        () = tokio::time::sleep(POLL) => {}
                        _ = stopped.changed() => break,
                    }
                }
            }
        }
    })
}

/// Takes the oldest row of `table` (a constant) whose status is one of `statuses` (a constant
/// SQL list) and whose lease is free or expired, for `lease`. Safe with several instances:
/// PostgreSQL skips rows another transaction holds; SQLite runs the statement alone.
pub(crate) async fn claim_in(
    db: &DatabaseConnection,
    table: &'static str,
    statuses: &'static str,
    instance: &str,
    lease: Duration,
) -> Result<Option<i64>, DbErr> {
    let backend = db.get_database_backend();
    let t = now();
    let until = t + lease;
    let (p1, p2, p3, lock) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2", "$3", " FOR UPDATE SKIP LOCKED"),
        _ => ("?", "?", "?", ""),
    };
    let sql = format!(
        "UPDATE {table} SET claimed_by = {p1}, claimed_until = {p2}, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM {table} WHERE status IN ({statuses}) \
         AND (claimed_until IS NULL OR claimed_until < {p3}) ORDER BY id LIMIT 1{lock}) \
         RETURNING id"
    );
    let row = db
        .query_one(Statement::from_sql_and_values(
            backend,
            sql,
            [instance.into(), until.into(), t.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<i64>("", "id")).transpose()
}
