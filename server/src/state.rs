//! What the router and the handlers share. Its own module, so `webhooks/`, `exports/` and
//! `http/` use it without importing the router that uses them.

use crate::db::Db;
use crate::db::accounts::SqlAccounts;
use crate::exports::SqlExports;
use crate::secrets::SecretBox;
use crate::webhooks::writer::WebhookWriter;
use app::ports::Ports;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub ports: Ports,
    pub draining: crate::http::health::Draining,
    #[from_ref(skip)]
    pub accounts: SqlAccounts,
    #[from_ref(skip)]
    pub secrets: SecretBox,
    #[from_ref(skip)]
    pub exports: SqlExports,
    #[from_ref(skip)]
    pub imports: crate::imports::SqlImports,
    #[from_ref(skip)]
    pub webhook_writer: WebhookWriter,
    /// Kept only when an operator asked for them (`SWITCHBOARD_METRICS_ADDR`).
    #[from_ref(skip)]
    pub metrics: crate::metrics::Metrics,
    /// Delivers alerts (started by `startup::start_background`).
    #[from_ref(skip)]
    pub courier: crate::alerts::Courier,
    /// Sends for the send API (`apiaccess`), as Send test message does.
    #[from_ref(skip)]
    pub outbound: crate::providers::SqlOutbound,
    /// Calls per app of the send API, on this instance.
    #[from_ref(skip)]
    pub app_rates: crate::apiaccess::AppRates,
}
