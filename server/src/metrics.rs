//! Prometheus metrics, served on their own listener (`SWITCHBOARD_METRICS_ADDR`) and never on
//! the public port. Each [`Metrics`] has its own registry (no process-wide recorder), so
//! instances and tests in one process count apart. Off (`Metrics::off`), every call is a
//! no-op and nothing is kept.
//!
//! Labels are bounded sets: a route template, a method, a status, a provider, a refusal
//! reason, a diagnosis, a job kind. Never a channel, a tenant space or anything a caller
//! types — a million channels must not become a million series.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latency buckets in seconds, for requests, commits, outbound calls and jobs.
const SECONDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];
/// Deliveries per writer batch (the writer takes at most 256).
const BATCH_SIZES: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// Bytes per writer batch (the writer takes at most 8 MiB).
const BATCH_BYTES: [f64; 8] = [
    1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 8388608.0,
];

/// Every family: name, kind, help. Described once, so that each is shown with its type and
/// help even before it has a sample.
const FAMILIES: [(&str, Kind, &str); 22] = [
    (
        "switchboard_http_requests_total",
        Kind::Counter,
        "HTTP requests answered, by route template, method and status.",
    ),
    (
        "switchboard_http_request_duration_seconds",
        Kind::Histogram,
        "Time to answer an HTTP request (to its headers), by route template, method and status.",
    ),
    (
        "switchboard_webhook_deliveries_total",
        Kind::Counter,
        "Webhook deliveries by provider and outcome (accepted, refused, busy, unavailable).",
    ),
    (
        "switchboard_webhook_refusals_total",
        Kind::Counter,
        "Webhook deliveries refused, by provider and refusal reason.",
    ),
    (
        "switchboard_webhook_queue_deliveries",
        Kind::Gauge,
        "Deliveries and refusals waiting for the webhook writer.",
    ),
    (
        "switchboard_webhook_queue_bytes",
        Kind::Gauge,
        "Bytes of accepted deliveries waiting for the webhook writer.",
    ),
    (
        "switchboard_webhook_queue_capacity_bytes",
        Kind::Gauge,
        "The most bytes the webhook writer's queue holds before a delivery is answered 503.",
    ),
    (
        "switchboard_webhook_batch_deliveries",
        Kind::Histogram,
        "Deliveries per transaction of the webhook writer.",
    ),
    (
        "switchboard_webhook_batch_bytes",
        Kind::Histogram,
        "Bytes of deliveries per transaction of the webhook writer.",
    ),
    (
        "switchboard_webhook_commit_duration_seconds",
        Kind::Histogram,
        "Time the webhook writer takes to store one batch, to its commit.",
    ),
    (
        "switchboard_db_pool_connections",
        Kind::Gauge,
        "Database connections of this instance's pool, by state (in_use, idle).",
    ),
    (
        "switchboard_db_pool_max_connections",
        Kind::Gauge,
        "The most connections this instance's database pool opens.",
    ),
    (
        "switchboard_jobs_started_total",
        Kind::Counter,
        "Export and import jobs started by a person, by kind.",
    ),
    (
        "switchboard_jobs_finished_total",
        Kind::Counter,
        "Export and import job runs finished by this instance, by kind and outcome.",
    ),
    (
        "switchboard_job_duration_seconds",
        Kind::Histogram,
        "Time of one job run on this instance, by kind and outcome.",
    ),
    (
        "switchboard_jobs",
        Kind::Gauge,
        "Export and import jobs in the database, by kind and state.",
    ),
    (
        "switchboard_outbound_calls_total",
        Kind::Counter,
        "Calls to a provider (Test connection, Send test message), by provider, call and diagnosis.",
    ),
    (
        "switchboard_outbound_call_duration_seconds",
        Kind::Histogram,
        "Time of a call to a provider, by provider and call.",
    ),
    (
        "switchboard_channels",
        Kind::Gauge,
        "Channels of every tenant space by provider and health (ok, attention, failing), as of the last health sweep.",
    ),
    (
        "switchboard_traffic_purged_rows_total",
        Kind::Counter,
        "Rows of webhook traffic older than the retention deleted, by table (the events and statuses that went with them are not counted).",
    ),
    (
        "switchboard_traffic_purge_batch_seconds_max",
        Kind::Gauge,
        "The longest one delete of the last traffic purge took (how long it held SQLite's write lock at most).",
    ),
    (
        "switchboard_expiring",
        Kind::Gauge,
        "Certificates and access tokens that expire within 7, 14 or 30 days (not yet expired), as of the last health sweep.",
    ),
];

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

const META: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    Key::from_parts(
        name,
        labels
            .iter()
            .map(|(k, v)| Label::new(*k, v.to_string()))
            .collect::<Vec<_>>(),
    )
}

/// This instance's metrics; cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Inner>>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Metrics(on)"
        } else {
            "Metrics(off)"
        })
    }
}

impl Metrics {
    /// Metrics that are kept and can be rendered.
    pub fn on() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&SECONDS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("switchboard_webhook_batch_deliveries".into()),
                    &BATCH_SIZES,
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("switchboard_webhook_batch_bytes".into()),
                    &BATCH_BYTES,
                )
            })
            // UNWRAP-FREE: the bucket lists above are constant and not empty
            .unwrap_or_default()
            .build_recorder();
        for (name, kind, help) in FAMILIES {
            match kind {
                Kind::Counter => recorder.describe_counter(name.into(), None, help.into()),
                Kind::Gauge => recorder.describe_gauge(name.into(), None, help.into()),
                Kind::Histogram => recorder.describe_histogram(name.into(), None, help.into()),
            }
        }
        let handle = recorder.handle();
        Self(Some(Arc::new(Inner { recorder, handle })))
    }

    /// Metrics that keep nothing (no listener asked for them).
    pub fn off() -> Self {
        Self(None)
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    fn count(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        if let Some(i) = &self.0 {
            i.recorder
                .register_counter(&key(name, labels), &META)
                .increment(n);
        }
    }

    fn set(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        if let Some(i) = &self.0 {
            i.recorder
                .register_gauge(&key(name, labels), &META)
                .set(value);
        }
    }

    fn observe(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        if let Some(i) = &self.0 {
            i.recorder
                .register_histogram(&key(name, labels), &META)
                .record(value);
        }
    }

    /// One HTTP request answered.
    pub fn http(&self, route: &str, method: &Method, status: u16, took: Duration) {
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::HEAD => "HEAD",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::PATCH => "PATCH",
            Method::OPTIONS => "OPTIONS",
            _ => "other",
        };
        let status = status.to_string();
        let labels = [("route", route), ("method", method), ("status", &status)];
        self.count("switchboard_http_requests_total", &labels, 1);
        self.observe(
            "switchboard_http_request_duration_seconds",
            &labels,
            took.as_secs_f64(),
        );
    }

    /// A webhook delivery answered: `outcome` is accepted, refused, busy or unavailable.
    pub fn webhook(&self, provider: &str, outcome: &'static str) {
        self.count(
            "switchboard_webhook_deliveries_total",
            &[("provider", provider), ("outcome", outcome)],
            1,
        );
    }

    /// A webhook delivery refused, for `reason` (a refusal's code).
    pub fn refusal(&self, provider: &str, reason: &str) {
        self.webhook(provider, "refused");
        self.count(
            "switchboard_webhook_refusals_total",
            &[("provider", provider), ("reason", reason)],
            1,
        );
    }

    /// One transaction of the webhook writer.
    pub fn writer_batch(&self, deliveries: usize, bytes: usize, took: Duration) {
        self.observe(
            "switchboard_webhook_batch_deliveries",
            &[],
            deliveries as f64,
        );
        self.observe("switchboard_webhook_batch_bytes", &[], bytes as f64);
        self.observe(
            "switchboard_webhook_commit_duration_seconds",
            &[],
            took.as_secs_f64(),
        );
    }

    /// A job a person started: `kind` is export, import_check or import_apply.
    pub fn job_started(&self, kind: &'static str) {
        self.count("switchboard_jobs_started_total", &[("kind", kind)], 1);
    }

    /// One run of a job finished: `outcome` is succeeded, failed or lost (another instance
    /// took it over).
    pub fn job_finished(&self, kind: &'static str, outcome: &'static str, took: Duration) {
        let labels = [("kind", kind), ("outcome", outcome)];
        self.count("switchboard_jobs_finished_total", &labels, 1);
        self.observe(
            "switchboard_job_duration_seconds",
            &labels,
            took.as_secs_f64(),
        );
    }

    /// One run of the traffic purge.
    pub fn purged(&self, purged: &crate::db::retention::Purged) {
        for (table, n) in purged.by_table() {
            self.count(
                "switchboard_traffic_purged_rows_total",
                &[("table", table)],
                n,
            );
        }
        self.set(
            "switchboard_traffic_purge_batch_seconds_max",
            &[],
            purged.longest.as_secs_f64(),
        );
    }

    /// One call to a provider: `call` is test_connection or send_test_message; `diagnosis`
    /// one of [`crate::providers::client::Failure::code`] or the provider's answer's.
    pub fn outbound(&self, provider: &str, call: &'static str, diagnosis: &str, took: Duration) {
        self.count(
            "switchboard_outbound_calls_total",
            &[
                ("provider", provider),
                ("call", call),
                ("diagnosis", diagnosis),
            ],
            1,
        );
        self.observe(
            "switchboard_outbound_call_duration_seconds",
            &[("provider", provider), ("call", call)],
            took.as_secs_f64(),
        );
    }

    /// The health sweep's counts, replacing the previous ones.
    pub fn health(&self, counts: &crate::db::census::Census) {
        if !self.is_on() {
            return;
        }
        for (provider, level, n) in &counts.channels {
            self.set(
                "switchboard_channels",
                &[("provider", provider), ("health", level)],
                *n as f64,
            );
        }
        for (what, days, n) in &counts.expiring {
            let days = days.to_string();
            self.set(
                "switchboard_expiring",
                &[("what", what), ("within_days", &days)],
                *n as f64,
            );
        }
    }

    /// Folds histogram samples into their buckets (they are kept raw until then).
    pub fn upkeep(&self) {
        if let Some(i) = &self.0 {
            i.handle.run_upkeep();
        }
    }

    /// The exposition text, with the gauges read at this moment from `state`.
    pub async fn render(&self, state: &AppState) -> Option<String> {
        let inner = self.0.as_ref()?;
        let (size, idle, max) = state.db.pool_use();
        self.set(
            "switchboard_db_pool_connections",
            &[("state", "in_use")],
            size.saturating_sub(idle) as f64,
        );
        self.set(
            "switchboard_db_pool_connections",
            &[("state", "idle")],
            idle as f64,
        );
        self.set("switchboard_db_pool_max_connections", &[], max as f64);
        let (messages, bytes, capacity) = state.webhook_writer.queued();
        self.set("switchboard_webhook_queue_deliveries", &[], messages as f64);
        self.set("switchboard_webhook_queue_bytes", &[], bytes as f64);
        self.set(
            "switchboard_webhook_queue_capacity_bytes",
            &[],
            capacity as f64,
        );
        match crate::jobs::states(&state.db.conn).await {
            Ok(states) => {
                for (kind, st, n) in states {
                    self.set(
                        "switchboard_jobs",
                        &[("kind", kind), ("state", st)],
                        n as f64,
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "counting jobs for metrics"),
        }
        Some(inner.handle.render())
    }
}

/// A request's route as metrics and the request log name it: its template (`MatchedPath`);
/// the site's built files as `/pkg/*`, anything else no route matched (static files, 404s) as
/// `unmatched`. Never the path, which may hold a webhook key.
pub fn route_of<B>(req: &axum::http::Request<B>) -> &str {
    match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str(),
        None if req.uri().path().starts_with("/pkg/") => "/pkg/*",
        None => "unmatched",
    }
}

/// Counts every request by its route (`route_of`).
pub async fn track(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    if !metrics.is_on() {
        return next.run(req).await;
    }
    let route = route_of(&req).to_owned();
    let method = req.method().clone();
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.http(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The metrics listener's router: `GET /metrics`, nothing else.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(exposition))
        .with_state(state)
}

async fn exposition(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state).await {
        Some(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
