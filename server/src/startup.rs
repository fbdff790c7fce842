//! Wiring: database, ports, middleware and routes into one `axum::Router`, used by the binary
//! and by the integration tests alike.

use crate::config::Config;
use crate::db::accounts::SqlAccounts;
use crate::db::certificates::SqlCertificates;
use crate::db::channels::SqlChannels;
use crate::db::org::SqlOrg;
use crate::db::service_time::SqlServiceTime;
use crate::db::sessions::SessionStore;
use crate::db::trustlist::SqlTrustlist;
use crate::db::{Db, DbError};
use crate::exports::SqlExports;
use crate::http::client::{ClientAddrPolicy, client_addr};
use crate::http::headers::{HeaderPolicy, security_headers};
use crate::http::health::{healthz, readyz};
use crate::http::origin::{OriginPolicy, origin_guard};
use crate::http::throttle::SlidingWindowThrottle;
use crate::secrets::{SecretBox, SecretError};
use app::ports::{Ports, RepoError};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "switchboard_session";
/// A session ends after this long without a request.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(8);

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub ports: Ports,
    #[from_ref(skip)]
    pub accounts: SqlAccounts,
    #[from_ref(skip)]
    pub secrets: SecretBox,
    #[from_ref(skip)]
    pub exports: SqlExports,
    #[from_ref(skip)]
    pub webhook_writer: crate::webhooks::WebhookWriter,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
}

/// Connects, migrates and builds the ports.
pub async fn build_state(config: &Config) -> Result<AppState, StartError> {
    let db = Db::connect(&config.database_url).await?;
    let secrets = SecretBox::load(config.master_key.as_deref(), &config.data_dir)?;
    db.migrate().await?;
    let accounts = SqlAccounts::new(db.conn.clone());
    let org = SqlOrg::new(db.conn.clone());
    let exports = SqlExports::new(db.conn.clone());
    let ports = Ports {
        accounts: Arc::new(accounts.clone()),
        tenants: Arc::new(accounts.clone()),
        trustlist: Arc::new(SqlTrustlist::new(db.conn.clone())),
        ous: Arc::new(org.clone()),
        skill_queues: Arc::new(org),
        certificates: Arc::new(SqlCertificates::new(db.conn.clone())),
        service_time: Arc::new(SqlServiceTime::new(db.conn.clone())),
        channels: Arc::new(SqlChannels::new(
            db.conn.clone(),
            secrets.clone(),
            config.public_base(),
        )),
        exports: Arc::new(exports.clone()),
        throttle: Arc::new(SlidingWindowThrottle::default()),
    };
    let db_conn = db.conn.clone();
    Ok(AppState {
        leptos_options: config.leptos.clone(),
        db,
        ports,
        accounts,
        secrets,
        exports,
        webhook_writer: crate::webhooks::WebhookWriter::spawn(db_conn),
    })
}

/// With no system administrator yet: a fresh one-time setup link.
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

pub fn build_router(state: AppState, config: &Config) -> Router {
    let options = state.leptos_options.clone();
    let routes = generate_route_list(App);
    let ports = state.ports.clone();
    let context = move || provide_context(ports.clone());

    let sessions = SessionManagerLayer::new(SessionStore::new(&state.db))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route(
            "/config/exports/{id}/download",
            get(crate::exports::download::download),
        )
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
        .layer(TraceLayer::new_for_http())
        .layer(from_fn_with_state(
            HeaderPolicy {
                hsts: config.secure_cookies(),
            },
            security_headers,
        ))
        .with_state(state)
}

/// Serves `router` on `listener` until ctrl-c / SIGTERM. Sockets get TCP_NODELAY (without it
/// keep-alive responses stall on delayed ACKs) and the peer address for throttling.
pub async fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Starts this instance's export worker.
pub fn spawn_export_worker(state: &AppState) {
    crate::exports::worker::spawn(state.db.conn.clone(), state.exports.wake.clone());
}

/// Deletes expired sessions every hour, in the background.
pub fn spawn_session_cleanup(state: &AppState) {
    use tower_sessions::session_store::ExpiredDeletion;
    let store = SessionStore::new(&state.db);
    tokio::spawn(async move {
        if let Err(e) = store
            .continuously_delete_expired(tokio::time::Duration::from_secs(3600))
            .await
        {
            tracing::error!(error = %e, "session cleanup stopped");
        }
    });
}
