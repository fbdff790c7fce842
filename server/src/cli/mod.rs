//! The `switchboard` command line: serve (default), migrate, create-admin, create-tenant,
//! seed-demo, rotate-key, backup, restore.
//! Errors print one line on standard error and exit non-zero.

pub mod backup;
mod rotate_key;

use crate::config::Config;
use crate::db::accounts::SqlAccounts;
use crate::startup;
use app::domain::{NewPassword, TenantName, Username};
use app::ports::{RepoError, Tenants};
use clap::{Parser, Subcommand};
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "switchboard",
    version,
    about = "Switchboard configuration center"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Create a system administrator; the password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        username: String,
    },
    /// Create a tenant space and its first tenant administrator; the administrator's password
    /// is read from standard input.
    CreateTenant {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_username: String,
    },
    /// Fill a tenant space with demo OUs, skill queues and N valid channels of every provider;
    /// with `--tenants T`, the T tenant spaces `<tenant> 0001`… (created when missing, without
    /// an administrator) each with N channels.
    SeedDemo {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value_t = 50)]
        channels: usize,
        #[arg(long)]
        tenants: Option<usize>,
    },
    /// Write brotli and gzip twins (`.br`, `.gz`) of the built site's wasm, JS and CSS, which
    /// the server then sends to browsers that accept them. Run after `cargo leptos build`.
    Precompress {
        /// The directory to compress (default: the site's pkg directory, from `LEPTOS_SITE_ROOT`
        /// and `LEPTOS_SITE_PKG_DIR`).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Write a consistent copy of the SQLite database to PATH while servers keep running
    /// (PostgreSQL: pg_dump). Says which master keys restoring it needs.
    Backup {
        /// A new file (it must not exist).
        path: std::path::PathBuf,
    },
    /// Restore a backup made by `switchboard backup` as the SQLite database DATABASE_URL
    /// names, which must not exist yet; checked first (integrity, schema, the master key).
    Restore {
        /// The backup file.
        path: std::path::PathBuf,
    },
    /// Re-encrypt every stored secret under a new master key while servers keep running.
    /// With a key file: makes the new key, keeps the old one beside it until every secret is
    /// moved, then drops it. With SWITCHBOARD_MASTER_KEY: set it to the new key and
    /// SWITCHBOARD_PREVIOUS_MASTER_KEYS to the old one (on the servers too), then run this.
    /// Safe to stop and run again: it continues where it was.
    RotateKey {
        /// Channels per step.
        #[arg(long, default_value_t = 500)]
        batch: u64,
        /// With a key file: seconds to wait after writing the new key, so running servers
        /// (which look at the file every second) seal with it before the last pass.
        #[arg(long, default_value_t = 3)]
        settle_secs: u64,
    },
}

/// A failure to report in one line.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// With hashed file names, every page names its files from `hash.txt` beside the binary
/// (Leptos panics on each page without it): refuse to start instead.
fn check_site(config: &Config) -> Result<(), CliError> {
    if !config.leptos.hash_files {
        return Ok(());
    }
    match crate::http::assets::hash_file_path(&config.leptos) {
        Some(path) if path.is_file() => Ok(()),
        Some(path) => Err(CliError(format!(
            "this build names its files by their hash, but {} is missing: deploy the hash.txt that `cargo leptos build` wrote beside the binary (or set LEPTOS_HASH_FILES=false for a build without hashed names)",
            path.display()
        ))),
        None => Err(CliError(
            "cannot tell where this binary is (for hash.txt)".into(),
        )),
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_sessions=warn"));
    let format = crate::config::LogFormat::from_env().unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // colours for a person at a terminal, never escape codes in a file or a collector
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::config::LogFormat::Text => builder.try_init(),
        // each line one object: the event's fields flat, and the spans it is in, outermost
        // (the request's: its id, method and route) first
        crate::config::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = crate::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            println!("database is up to date");
            Ok(())
        }
        Command::CreateAdmin { username } => {
            let username = Username::parse(&username).map_err(CliError)?;
            let password = read_password()?;
            let state = startup::build_state(&config).await?;
            let id = state
                .accounts
                .create_system_admin(&username, &password)
                .await
                .map_err(repo_error)?;
            println!(
                "created system administrator '{}' (id {id})",
                username.as_str()
            );
            Ok(())
        }
        Command::CreateTenant {
            name,
            admin_username,
        } => {
            let name = TenantName::parse(&name).map_err(CliError)?;
            let admin = Username::parse(&admin_username).map_err(CliError)?;
            let password = read_password()?;
            let state = startup::build_state(&config).await?;
            let accounts: &SqlAccounts = &state.accounts;
            let id = accounts
                .create(
                    &app::ports::Actor::operator("switchboard create-tenant"),
                    &name,
                    &admin,
                    &password,
                )
                .await
                .map_err(repo_error)?;
            println!(
                "created tenant space '{}' (id {id}) with administrator '{}'",
                name.as_str(),
                admin.as_str()
            );
            Ok(())
        }
        Command::Backup { path } => {
            println!("{}", backup::backup(&config, &path).await?);
            Ok(())
        }
        Command::Restore { path } => {
            println!("{}", backup::restore(&config, &path).await?);
            Ok(())
        }
        Command::RotateKey { batch, settle_secs } => {
            rotate_key::rotate(&config, batch, std::time::Duration::from_secs(settle_secs))
                .await
                .map_err(|e| CliError(e.to_string()))
        }
        Command::Precompress { dir } => {
            let dir = dir.unwrap_or_else(|| {
                std::path::Path::new(&*config.leptos.site_root).join(&*config.leptos.site_pkg_dir)
            });
            let started = std::time::Instant::now();
            if config.leptos.hash_files {
                let hash_file = crate::http::assets::hash_file_path(&config.leptos)
                    .ok_or_else(|| CliError("cannot tell where this binary is".into()))?;
                if let Some(name) = crate::http::assets::settle_main_wasm(
                    &dir,
                    &hash_file,
                    &config.leptos.output_name,
                )
                .map_err(|e| CliError(e.to_string()))?
                {
                    println!("renamed the main wasm to {name} (the hash of its bytes)");
                }
            }
            let report = crate::http::assets::precompress(&dir)
                .map_err(|e| CliError(format!("{}: {e}", dir.display())))?;
            let kb = |n: Option<u64>| {
                n.map_or("-".to_owned(), |n| format!("{:.1} KB", n as f64 / 1000.0))
            };
            for f in &report.files {
                println!(
                    "{:<60} {:>10.1} KB  br {:>10}  gz {:>10}",
                    f.path.strip_prefix(&dir).unwrap_or(&f.path).display(),
                    f.raw as f64 / 1000.0,
                    kb(f.br),
                    kb(f.gz)
                );
            }
            println!(
                "precompressed {} files in {:.1}s",
                report.files.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::SeedDemo {
            tenant,
            channels,
            tenants,
        } => {
            let spaces = tenants.unwrap_or(1);
            if !(1..=10_000).contains(&spaces) {
                return Err(CliError("--tenants is 1 to 10,000".into()));
            }
            if channels.saturating_mul(spaces) > 1_000_000 {
                return Err(CliError("at most 1,000,000 channels at a time".into()));
            }
            let state = startup::build_state(&config).await?;
            let started = std::time::Instant::now();
            match tenants {
                None => {
                    crate::demo::seed(&state, &tenant, channels).await?;
                }
                Some(n) => {
                    crate::demo::seed_tenants(&state, &tenant, n, channels).await?;
                }
            }
            println!(
                "seeded {} demo channels into {} in {:.1}s",
                channels * spaces,
                match tenants {
                    None => format!("'{tenant}'"),
                    Some(n) => format!("{n} tenant spaces '{tenant} 0001'…"),
                },
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

fn repo_error(e: RepoError) -> CliError {
    match e {
        RepoError::Conflict { message, .. } => CliError(message),
        RepoError::NotFound => CliError("not found".into()),
        RepoError::Busy => CliError("busy: try again".into()),
        RepoError::Internal => CliError("database error (see the log above)".into()),
    }
}

/// One line from standard input, without its line ending, checked by the password rules.
fn read_password() -> Result<NewPassword, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError(format!("cannot read the password from standard input: {e}")))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    NewPassword::parse(password).map_err(CliError)
}

async fn serve(config: Config) -> Result<(), CliError> {
    check_site(&config)?;
    let _sqlite_held = crate::db::one_instance::hold(
        &config.database_url,
        &format!(
            "pid {}, listening on {}",
            std::process::id(),
            config.leptos.site_addr
        ),
    )
    .map_err(CliError)?;
    let state = startup::build_state(&config).await?;
    if let Some(link) = startup::first_run_link(&state, &config)
        .await
        .map_err(repo_error)?
    {
        tracing::info!("first run: create the system administrator at {link}");
    }
    let background = startup::start_background(&state, &config);
    let addr = config.leptos.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError(format!("cannot listen on {addr}: {e}")))?;
    let router = startup::build_router(state.clone(), &config);
    let metrics = match config.metrics_addr {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| CliError(format!("cannot listen for metrics on {at}: {e}")))?;
            let bound = listener.local_addr().unwrap_or(at);
            tracing::info!("metrics: http://{bound}/metrics");
            let router = crate::metrics::router(state.clone());
            Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            }))
        }
        None => None,
    };
    tracing::info!(
        "Switchboard is listening on {addr}; open {}",
        config.public_base()
    );
    startup::serve(
        listener,
        router,
        &config.limits,
        crate::http::serve::stop_after_drain(state.draining.clone(), config.limits.drain),
    )
    .await;
    startup::finish(&state, background, config.limits.shutdown_grace).await;
    if let Some(m) = metrics {
        m.abort();
    }
    Ok(())
}
