//! Every request is bounded by design (SPEC §5): its body by a limit per route, answered 413
//! before more than the limit is read; the bodies being read, all requests together, by a byte
//! budget; its body's arrival and its answer by timeouts; and, on the routes that need no
//! sign-in, the requests one client address has in flight at once.
//!
//! | route | body at most |
//! |---|---|
//! | `POST /api/upload_certificate` | 136 KiB (the file, at most 128 KiB, and the form around it) |
//! | `POST /api/import_channels` | 20 MiB + 64 KiB (the file, at most 20 MiB, and the form around it); two at once server-wide, 120 s to arrive |
//! | other server functions `/api/…` | 256 KiB |
//! | webhooks `/social/…` | 1 MiB |
//! | everything else | 16 KiB |

use crate::config::Limits;
use app::error::AppError;
use app::ports::ClientAddr;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a body waits for room in the budget before the request is answered 503.
const BUDGET_WAIT: Duration = Duration::from_secs(1);

pub const SERVER_FN_BODY: usize = 256 * 1024;
pub const CERTIFICATE_BODY: usize = 136 * 1024;
pub const IMPORT_BODY: usize = app::domain::import::MAX_IMPORT_BYTES + 64 * 1024;
/// Import uploads read at once, server-wide: each may reserve 20 MiB of the body budget
/// before its sender is known, so a few cannot take all of it.
pub const IMPORT_UPLOADS: usize = 2;
/// How long an import upload's body may take to arrive (20 MiB over a slow uplink).
pub const IMPORT_BODY_READ: Duration = Duration::from_secs(120);
pub const WEBHOOK_BODY: usize = crate::webhooks::MAX_BODY;
pub const OTHER_BODY: usize = 16 * 1024;

/// The largest body `path` accepts.
pub fn body_limit(path: &str) -> usize {
    if path == "/api/upload_certificate" {
        CERTIFICATE_BODY
    } else if path == "/api/import_channels" {
        IMPORT_BODY
    } else if path.starts_with("/api/") {
        SERVER_FN_BODY
    } else if path.starts_with("/social/") {
        WEBHOOK_BODY
    } else {
        OTHER_BODY
    }
}

/// The server functions that take `multipart/form-data` (their codec cannot take anything
/// else, and panics on a body without a boundary: such a request is refused here first).
pub const MULTIPART_FNS: &[&str] = &["/api/upload_certificate", "/api/import_channels"];

/// The routes anyone may call without a sign-in (health checks excepted: a load balancer
/// calls them from one address, and they cost nothing).
pub fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/" | "/login"
            | "/setup"
            | "/favicon.svg"
            | "/api/login"
            | "/api/complete_setup"
            | "/api/setup_state"
            | "/api/current_user"
    ) || path.starts_with("/social/")
        || path.starts_with("/pkg/")
}

/// Requests in flight per client address.
#[derive(Debug)]
pub struct InFlight {
    limit: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One request's place; given back when dropped.
pub struct Slot {
    owner: Arc<InFlight>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.owner.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

impl InFlight {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more request of `client`, if it has fewer than the limit in flight.
    pub fn enter(self: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let client = super::client::address_key(client);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(client).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            owner: self.clone(),
            client,
        })
    }

    /// Addresses with requests in flight (what the map holds: never more than the requests).
    pub fn clients(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A webhook request refused here for its body's size, for the channel's record.
#[derive(Debug, Clone)]
pub struct TooLargeWebhook {
    pub path: String,
    pub source: Option<IpAddr>,
    pub content_type: String,
    /// What it declared, or more than the limit when it did not say.
    pub size: u64,
}

/// Told of every webhook body refused as too large; must not block.
pub type TooLargeHook = Arc<dyn Fn(TooLargeWebhook) + Send + Sync>;

#[derive(Clone)]
pub struct Bounds {
    pub limits: Limits,
    pub in_flight: Arc<InFlight>,
    /// Bytes of bodies being read at once.
    pub bodies: Arc<Semaphore>,
    /// Import uploads being read at once.
    pub uploads: Arc<Semaphore>,
    pub on_webhook_too_large: Option<TooLargeHook>,
}

impl Bounds {
    pub fn new(limits: Limits) -> Self {
        Self {
            in_flight: InFlight::new(limits.public_requests_per_client),
            bodies: Arc::new(Semaphore::new(limits.body_budget.max(1))),
            uploads: Arc::new(Semaphore::new(IMPORT_UPLOADS)),
            limits,
            on_webhook_too_large: None,
        }
    }

    pub fn with_webhook_hook(mut self, hook: TooLargeHook) -> Self {
        self.on_webhook_too_large = Some(hook);
        self
    }
}

/// An answer for a request refused here: a server function's caller gets the `AppError` it
/// decodes, everyone else a line of text.
pub fn refuse(path: &str, status: StatusCode, error: AppError) -> Response {
    let mut res = if path.starts_with("/api/") {
        let body = serde_json::to_string(&error).unwrap_or_else(|_| "\"Internal\"".into());
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            error.to_string(),
        )
            .into_response()
    };
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::REQUEST_TIMEOUT {
        // the rest of the body is not read: the connection cannot carry another request
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

fn too_large(path: &str, limit: usize) -> Response {
    refuse(
        path,
        StatusCode::PAYLOAD_TOO_LARGE,
        AppError::TooLarge {
            limit_kib: (limit / 1024) as u32,
        },
    )
}

/// Tells the webhook hook (if any) of a webhook body refused for its size.
fn tell_too_large(
    bounds: &Bounds,
    path: &str,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    size: u64,
) {
    let Some(hook) = bounds.on_webhook_too_large.as_ref() else {
        return;
    };
    if !path.starts_with("/social/") {
        return;
    }
    hook(TooLargeWebhook {
        path: path.to_owned(),
        source: extensions.get::<ClientAddr>().map(|c| c.0),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(128)
            .collect(),
        size,
    });
}

/// The middleware: in-flight cap on public routes, body limit and read timeout, answer timeout.
pub async fn bound(State(bounds): State<Bounds>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let _slot = if is_public(&path) {
        let client = req
            .extensions()
            .get::<ClientAddr>()
            .map(|c| c.0)
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        match bounds.in_flight.enter(client) {
            Some(slot) => Some(slot),
            None => {
                tracing::warn!(%client, %path, "too many requests in flight from one address");
                return refuse(&path, StatusCode::TOO_MANY_REQUESTS, AppError::Busy);
            }
        }
    } else {
        None
    };
    if MULTIPART_FNS.contains(&path.as_str()) {
        let boundary = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| multer::parse_boundary(ct).ok());
        if boundary.is_none() {
            return refuse(&path, StatusCode::BAD_REQUEST, AppError::BadRequest);
        }
    }
    let import = path == "/api/import_channels";
    let _upload = if import {
        match bounds.uploads.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                tracing::warn!(%path, "too many import uploads at once");
                return refuse(&path, StatusCode::SERVICE_UNAVAILABLE, AppError::Busy);
            }
        }
    } else {
        None
    };
    let limit = body_limit(&path);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > limit as u64) {
        tell_too_large(&bounds, &path, req.headers(), req.extensions(), n);
        return too_large(&path, limit);
    }
    // room for the body in the budget of all bodies being read: what it declares, or the
    // route's limit when it declares nothing and may send one (chunked)
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let room = match declared {
        Some(n) => n as usize,
        None if chunked => limit,
        None => 0,
    };
    let _room = if room > 0 {
        let want = u32::try_from(room.min(bounds.limits.body_budget)).unwrap_or(u32::MAX);
        match tokio::time::timeout(BUDGET_WAIT, bounds.bodies.clone().acquire_many_owned(want))
            .await
        {
            Ok(Ok(permit)) => Some(permit),
            _ => {
                tracing::warn!(%path, "request bodies over their budget: refused");
                return refuse(
                    &path,
                    StatusCode::SERVICE_UNAVAILABLE,
                    AppError::Unavailable,
                );
            }
        }
    } else {
        None
    };
    let (parts, body) = req.into_parts();
    let read_time = if import {
        bounds.limits.body_read.max(IMPORT_BODY_READ)
    } else {
        bounds.limits.body_read
    };
    let collected = tokio::time::timeout(read_time, Limited::new(body, limit).collect()).await;
    let bytes = match collected {
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            let size = limit as u64 + 1;
            tell_too_large(&bounds, &path, &parts.headers, &parts.extensions, size);
            return too_large(&path, limit);
        }
        Ok(Err(_)) => {
            return refuse(&path, StatusCode::BAD_REQUEST, AppError::BadRequest);
        }
        Err(_) => {
            tracing::warn!(%path, "request body too slow: cut off");
            return refuse(&path, StatusCode::REQUEST_TIMEOUT, AppError::TimedOut);
        }
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    match tokio::time::timeout(bounds.limits.request, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::error!(%path, "request not answered in time");
            refuse(
                &path,
                StatusCode::SERVICE_UNAVAILABLE,
                AppError::Unavailable,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_by_route() {
        assert_eq!(body_limit("/api/login"), 256 * 1024);
        assert_eq!(body_limit("/api/upload_certificate"), 136 * 1024);
        assert_eq!(
            body_limit("/api/import_channels"),
            20 * 1024 * 1024 + 64 * 1024
        );
        assert_eq!(
            body_limit("/social/on/whatsapp/infobip/message/k"),
            1024 * 1024
        );
        assert_eq!(body_limit("/config/channels"), 16 * 1024);
        assert!(is_public("/api/login"));
        assert!(is_public("/social/on/whatsapp/cloud-api/k"));
        assert!(!is_public("/api/list_channels"));
        assert!(!is_public("/healthz"));
    }

    #[test]
    fn in_flight_per_client_is_capped_and_given_back() {
        let f = InFlight::new(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let one = f.enter(a).unwrap();
        let two = f.enter(a).unwrap();
        assert!(
            f.enter(a).is_none(),
            "a third request of one address waits its turn"
        );
        let other = f.enter(b).unwrap();
        drop(one);
        let three = f.enter(a).unwrap();
        drop((two, three, other));
        assert_eq!(
            f.clients(),
            0,
            "nothing is kept for addresses with no request"
        );
    }
}
