//! `/healthz` (the process answers) and `/readyz` (it should be sent requests: its database
//! answers and it is not stopping).

use crate::db::Db;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this instance is stopping. From SIGTERM on, `/readyz` answers 503 while the
/// instance still serves for `Limits::drain`, so that a load balancer checking it takes the
/// instance out before its listener closes.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

pub async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

pub async fn readyz(
    State(db): State<Db>,
    State(draining): State<Draining>,
) -> (StatusCode, &'static str) {
    if draining.is_on() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "draining: this instance is stopping",
        )
    } else if db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
