//! Wiring: database, keys, ports, middleware and routes into one `axum::Router`, used by the
//! binary and by the integration tests alike; and the orderly stop.

use crate::config::{Config, Limits};
use crate::db::accounts::SqlAccounts;
use crate::db::certificates::SqlCertificates;
use crate::db::channels::SqlChannels;
use crate::db::keys::{self, KeyError};
use crate::db::org::SqlOrg;
use crate::db::service_time::SqlServiceTime;
use crate::db::sessions::SessionStore;
use crate::db::sign_ins::SignInAttempts;
use crate::db::trustlist::SqlTrustlist;
use crate::db::{Db, DbError};
use crate::exports::SqlExports;
use crate::http::client_addr::{ClientAddrPolicy, client_addr};
use crate::http::guard::page_guard;
use crate::http::headers::{HeaderPolicy, security_headers};
use crate::http::health::{healthz, readyz};
use crate::http::limits::{Bounds, bound, signed_in_first};
use crate::http::origin::{OriginPolicy, origin_guard};
use crate::http::throttle::{DeviceTokens, Throttle};
use crate::jobs::Background;
use crate::metrics::Metrics;
use crate::secrets::{self, Loaded, SecretBox, SecretError};
pub use crate::state::AppState;
use app::ports::{Ports, RepoError};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "switchboard_session";
/// A session ends after this long without a request.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(8);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// The configured master keys, checked against the database (a missing key file is created
/// only for a database that holds no secrets yet).
pub async fn load_secrets(config: &Config, db: &Db) -> Result<SecretBox, StartError> {
    let secrets = match secrets::load(
        config.master_key.as_deref(),
        config.previous_master_keys.as_deref(),
        &config.data_dir,
    )? {
        Loaded::Ring(ring, source) => SecretBox::with_ring(*ring, source),
        Loaded::NoKeyFile(path) => {
            if let Some(needed) = keys::holds_secrets(&db.conn).await.map_err(DbError::from)? {
                return Err(KeyError::MissingKeyFile {
                    path: path.display().to_string(),
                    needed,
                }
                .into());
            }
            SecretBox::create_key_file(path)?
        }
    };
    keys::verify(&db.conn, &secrets).await?;
    secrets.spawn_reloader();
    Ok(secrets)
}

/// Connects, migrates, checks the master key and builds the ports.
pub async fn build_state(config: &Config) -> Result<AppState, StartError> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let secrets = load_secrets(config, &db).await?;
    let metrics = if config.metrics_addr.is_some() {
        Metrics::on()
    } else {
        Metrics::off()
    };
    let accounts = SqlAccounts::new(db.conn.clone());
    let org = SqlOrg::new(db.conn.clone());
    let exports = SqlExports::new(db.conn.clone()).with_metrics(metrics.clone());
    let channels = SqlChannels::new(db.conn.clone(), secrets.clone(), config.public_base());
    let imports = crate::imports::SqlImports::new(
        db.conn.clone(),
        channels.clone(),
        Arc::new(tokio::sync::Notify::new()),
        config.inspector.clone(),
    )
    .with_lease(config.import_lease)
    .with_metrics(metrics.clone());
    let mail = match &config.smtp {
        None => None,
        Some(smtp) => Some(
            crate::alerts::Mailer::new(smtp, smtp.ca_pem()?.as_deref()).map_err(|reason| {
                crate::config::ConfigError::Invalid {
                    name: "SWITCHBOARD_SMTP_URL",
                    reason,
                }
            })?,
        ),
    };
    let courier = crate::alerts::Courier {
        db: db.conn.clone(),
        secrets: secrets.clone(),
        public_base: config.public_base(),
        mail,
        wake: Arc::new(tokio::sync::Notify::new()),
    };
    let outbound = crate::providers::SqlOutbound::new(db.conn.clone(), secrets.clone())
        .with_metrics(metrics.clone())
        .with_public(crate::providers::PublicAddress {
            url: config.public_url.clone(),
            roots: config.public_ca.clone(),
        });
    let ports = Ports {
        accounts: Arc::new(accounts.clone()),
        tenants: Arc::new(accounts.clone()),
        trustlist: Arc::new(SqlTrustlist::new(db.conn.clone())),
        ous: Arc::new(org.clone()),
        skill_queues: Arc::new(org),
        certificates: Arc::new(SqlCertificates::new(
            db.conn.clone(),
            secrets.clone(),
            config.inspector.clone(),
        )),
        service_time: Arc::new(SqlServiceTime::new(db.conn.clone())),
        channels: Arc::new(channels),
        exports: Arc::new(exports.clone()),
        imports: Arc::new(imports.clone()),
        throttle: Arc::new(Throttle::new(
            SignInAttempts::new(db.conn.clone()),
            DeviceTokens::new({
                let secrets = secrets.clone();
                Arc::new(move || secrets.device_keys())
            }),
        )),
        outbound: Arc::new(outbound.clone()),
        audit: Arc::new(crate::db::audit::SqlAudit::new(db.conn.clone())),
        alerts: Arc::new(crate::db::alerts::SqlAlerts::new(
            db.conn.clone(),
            secrets.clone(),
            courier.mail.is_some(),
            courier.wake.clone(),
        )),
        apps: Arc::new(crate::db::apps::SqlApps::new(db.conn.clone())),
        public_url: Arc::new(config.public_url.clone()),
    };
    let db_conn = db.conn.clone();
    Ok(AppState {
        leptos_options: config.leptos.clone(),
        db,
        ports,
        draining: Default::default(),
        accounts,
        secrets,
        exports,
        imports,
        webhook_writer: crate::webhooks::WebhookWriter::spawn(db_conn, metrics.clone()),
        metrics,
        courier,
        outbound,
        app_rates: Default::default(),
    })
}

/// With no system administrator yet: a fresh one-time setup link (older ones stop working).
pub async fn first_run_link(
    state: &AppState,
    config: &Config,
) -> Result<Option<String>, RepoError> {
    if state.accounts.has_system_admin().await? {
        return Ok(None);
    }
    let token = state.accounts.issue_setup_token().await?;
    Ok(Some(format!(
        "{}/setup?token={token}",
        config.public_base()
    )))
}

async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let ports = state.ports.clone();
    handle_server_fns_with_context(move || provide_context(ports.clone()), req).await
}

/// The app's page routes, worked out once per process. Leptos suspends every resource in the
/// process while it walks the app for this list (a process-wide flag), so a page rendering
/// meanwhile would never finish: a second router built while another serves — tests do that,
/// many apps in one process — must not walk it again.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Every route and, outermost first: the request id, metrics (when kept), security headers,
/// panic catcher, tracing (a span per request: its id and route), compression
/// (not for answers holding webhook secrets), canonical page paths, origin check, client
/// address, session, the caller of a server function (resolved before its body is read),
/// request bounds (in-flight cap, upload places, body limit and budget, timeouts), page guard.
/// The site's built files are served under `/pkg`, precompressed and cached by name.
pub fn build_router(state: AppState, config: &Config) -> Router {
    let options = state.leptos_options.clone();
    let routes = route_list();
    let ports = state.ports.clone();
    let context = move || provide_context(ports.clone());

    let sessions = SessionManagerLayer::new(SessionStore::new(&state.db))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));

    let pkg_dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let pkg = Router::new()
        .fallback_service(crate::http::assets::pkg_service(&pkg_dir))
        .layer(from_fn_with_state(
            crate::http::assets::Immutable::scan(&pkg_dir),
            crate::http::assets::cache_policy,
        ));

    Router::new()
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route(
            "/config/exports/{id}/download",
            get(crate::exports::download::download),
        )
        .route("/config/audit.csv", get(crate::http::audit_csv::tenant_csv))
        .route("/system/audit.csv", get(crate::http::audit_csv::system_csv))
        .merge(crate::apiaccess::routes())
        .route(
            "/social/on/whatsapp/cloud-api/{key}",
            get(crate::webhooks::cloud_verify).post(crate::webhooks::cloud_post),
        )
        .route(
            "/social/on/whatsapp/{provider}/{kind}/{key}",
            post(crate::webhooks::provider_post),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(from_fn_with_state(state.clone(), page_guard))
        .layer(from_fn_with_state(
            crate::http::assets::PagePreloads::load(&options),
            crate::http::assets::preload_on_pages,
        ))
        .layer(from_fn_with_state(
            Bounds::new(config.limits.clone())
                .with_webhook_hook(crate::webhooks::too_large_hook(state.clone())),
            bound,
        ))
        .layer(from_fn_with_state(
            state.ports.accounts.clone(),
            signed_in_first,
        ))
        .layer(sessions)
        .layer(from_fn_with_state(
            ClientAddrPolicy {
                trust_forwarded_for: config.trust_forwarded_for,
            },
            client_addr,
        ))
        .layer(from_fn_with_state(
            Arc::new(OriginPolicy::new(&config.public_url)),
            origin_guard,
        ))
        .layer(axum::middleware::from_fn(
            crate::http::paths::canonical_paths,
        ))
        .layer(axum::middleware::from_fn(
            crate::http::compression::mark_secret_bearing,
        ))
        .layer(crate::http::compression::layer())
        .layer(
            TraceLayer::new(crate::http::trace::QuietHealth)
                .make_span_with(crate::http::trace::RequestSpan),
        )
        .layer(CatchPanicLayer::custom(
            crate::http::headers::panic_response,
        ))
        .layer(from_fn_with_state(
            HeaderPolicy {
                hsts: config.secure_cookies(),
            },
            security_headers,
        ))
        .layer(from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(from_fn_with_state(
            crate::http::request_id::RequestIdPolicy {
                trust_proxy: config.trust_forwarded_for,
            },
            crate::http::request_id::request_id,
        ))
        .with_state(state)
}

/// Serves `router` on `listener` until `signal`, then lets requests in flight finish (bounded).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    signal: impl Future<Output = ()>,
) {
    crate::http::serve::serve(listener, router, limits.clone(), signal).await
}

/// How often expired sessions are deleted.
const SESSION_CLEANUP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Starts this instance's background work: the export and import workers and the periodic
/// chores.
pub fn start_background(state: &AppState, config: &Config) -> Background {
    let exports = crate::exports::worker::ExportJobs {
        db: state.db.conn.clone(),
        wake: state.exports.wake.clone(),
        lease: config.export_lease,
        metrics: state.metrics.clone(),
    };
    let imports = state.imports.clone();
    let wakes = vec![
        (crate::jobs::EXPORTS_CHANNEL, state.exports.wake.clone()),
        (crate::jobs::IMPORTS_CHANNEL, state.imports.wake.clone()),
    ];
    let postgres_url =
        matches!(state.db.pool, crate::db::Pool::Postgres(_)).then(|| config.database_url.clone());
    let sweep_db = state.db.conn.clone();
    let purge_db = state.db.conn.clone();
    let keep_days = config.audit_retention_days;
    let traffic_db = state.db.background_connection();
    let courier = state.courier.clone();
    let watch_db = state.db.conn.clone();
    let traffic_days = config.traffic_retention_days;
    let traffic_metrics = state.metrics.clone();
    let sessions = SessionStore::new(&state.db);
    let sign_ins = SignInAttempts::new(state.db.conn.clone());
    let background = match postgres_url {
        // tasks another instance starts wake this one at once
        Some(url) => Background::default().with(|stopped| crate::jobs::listen(url, wakes, stopped)),
        None => Background::default(),
    };
    let background = if state.metrics.is_on() {
        let census_db = state.db.conn.clone();
        let census = state.metrics.clone();
        let upkeep = state.metrics.clone();
        background
            // what the health sweep decided, counted across tenant spaces
            .with(|stopped| {
                crate::jobs::periodic(
                    "metrics census",
                    crate::db::health::SWEEP_EVERY,
                    stopped,
                    move || {
                        let db = census_db.clone();
                        let metrics = census.clone();
                        async move {
                            metrics.health(&crate::db::census::census(&db).await?);
                            Ok::<(), sea_orm::DbErr>(())
                        }
                    },
                )
            })
            .with(|stopped| {
                crate::jobs::periodic(
                    "metrics upkeep",
                    std::time::Duration::from_secs(5),
                    stopped,
                    move || {
                        upkeep.upkeep();
                        std::future::ready(Ok::<(), std::convert::Infallible>(()))
                    },
                )
            })
    } else {
        background
    };
    background
        .with(|stopped| crate::jobs::run_jobs(exports, stopped))
        .with(|stopped| crate::jobs::run_jobs(imports, stopped))
        // health that time alone changes (a token or certificate expiring)
        .with(|stopped| {
            crate::jobs::periodic(
                "health sweep",
                crate::db::health::SWEEP_EVERY,
                stopped,
                move || {
                    let db = sweep_db.clone();
                    async move {
                        let n = crate::db::health::sweep(&db).await?;
                        if n > 0 {
                            tracing::debug!(channels = n, "health recomputed");
                        }
                        // the health changes just written, and every create and delete since
                        let t = crate::db::tallies::compact(&db).await?;
                        if t > 0 {
                            tracing::debug!(tenants = t, "channel tallies compacted");
                        }
                        // webhook credential overlaps that ran out: their end is audited
                        let e = crate::db::channels::sweep_ended_overlaps(&db).await?;
                        if e > 0 {
                            tracing::info!(channels = e, "webhook credential overlaps ended");
                        }
                        Ok::<(), sea_orm::DbErr>(())
                    }
                },
            )
        })
        .with(|stopped| {
            crate::jobs::periodic(
                "audit purge",
                crate::db::audit::PURGE_EVERY,
                stopped,
                move || {
                    let db = purge_db.clone();
                    async move {
                        let n = crate::db::audit::purge(&db, keep_days).await?;
                        if n > 0 {
                            tracing::info!(entries = n, keep_days, "audit entries purged");
                        }
                        Ok::<(), sea_orm::DbErr>(())
                    }
                },
            )
        })
        // alerts: delivered as they are raised, and what time alone raises
        .with(|stopped| tokio::spawn(courier.run(stopped)))
        .with(|stopped| {
            crate::jobs::periodic(
                "alert watch",
                crate::alerts::WATCH_EVERY,
                stopped,
                move || {
                    let db = watch_db.clone();
                    async move {
                        let n = crate::alerts::watch(&db, crate::db::now()).await?;
                        if n > 0 {
                            tracing::info!(
                                alerts = n,
                                "alerts raised for expiring certificates, tokens or digests"
                            );
                        }
                        Ok::<(), sea_orm::DbErr>(())
                    }
                },
            )
        })
        // webhook traffic older than the retention, a few milliseconds of the lock at a time
        .with(|stopped| {
            crate::jobs::periodic(
                "traffic purge",
                crate::db::retention::PURGE_EVERY,
                stopped,
                move || {
                    let db = traffic_db.clone();
                    let metrics = traffic_metrics.clone();
                    async move {
                        use crate::db::retention;
                        let cutoff = retention::cutoff(crate::db::now(), traffic_days);
                        let purged =
                            retention::purge(&db, cutoff, &retention::Pace::default()).await?;
                        metrics.purged(&purged);
                        let tokens = crate::db::apps::sweep_tokens(&db).await?;
                        if tokens > 0 {
                            tracing::info!(tokens, "expired app tokens deleted");
                        }
                        if purged.rows() > 0 {
                            tracing::info!(
                                deliveries = purged.deliveries,
                                outbound = purged.outbound,
                                refusals = purged.refusals,
                                counts = purged.counts,
                                batches = purged.batches,
                                longest_ms = purged.longest.as_secs_f64() * 1000.0,
                                keep_days = traffic_days,
                                "webhook traffic purged"
                            );
                        }
                        Ok::<(), sea_orm::DbErr>(())
                    }
                },
            )
        })
        .with(|stopped| {
            crate::jobs::periodic(
                "session cleanup",
                SESSION_CLEANUP_EVERY,
                stopped,
                move || {
                    let sessions = sessions.clone();
                    async move {
                        use tower_sessions::session_store::ExpiredDeletion;
                        sessions.delete_expired().await
                    }
                },
            )
        })
        // failed sign-ins the window no longer counts
        .with(|stopped| {
            crate::jobs::periodic(
                "sign-in attempts sweep",
                crate::http::throttle::DEFAULT_WINDOW,
                stopped,
                move || {
                    let attempts = sign_ins.clone();
                    async move {
                        let window = crate::http::throttle::DEFAULT_WINDOW;
                        attempts
                            .sweep(i64::try_from(window.as_millis()).unwrap_or(i64::MAX))
                            .await
                            .map(|_| ())
                    }
                },
            )
        })
}

/// What follows the HTTP server's stop: every webhook delivery that was queued is committed
/// (each was answered only after its commit), and the export and import workers give back the
/// tasks they were running, so another instance takes them over at once. Bounded by `grace` (a database
/// that does not answer must not keep the process from ending; nothing unanswered is lost).
pub async fn finish(state: &AppState, background: Background, grace: std::time::Duration) {
    let stop = async {
        state.webhook_writer.close().await;
        background.stop().await;
    };
    match tokio::time::timeout(grace, stop).await {
        Ok(()) => tracing::info!("stopped: every accepted webhook delivery is committed"),
        Err(_) => tracing::error!(
            "stopped before the webhook writer and the export and import workers finished (database unavailable?); deliveries not yet answered will be retried by their providers"
        ),
    }
}
