//! Every request is bounded by design (SPEC §5): its body by a limit per route, answered 413
//! before more than the limit is read; the bodies being read, all requests together, by a byte
//! budget; its body's arrival by a timeout and a minimum rate, and its answer by a timeout;
//! and, on the routes that need no sign-in, the requests one client address has in flight at
//! once.
//!
//! Nothing shared is taken by a caller who has not signed in on a route that needs it: such a
//! server function call is answered 401 before its body is read (`signed_in_first`, which
//! runs before these bounds). The body budget is two pools, one for the routes anyone may call
//! (webhooks, sign-in) and one for signed-in callers, so callers who never signed in cannot
//! hold what signed-in ones need; within each pool a client address (public) or a tenant space
//! (signed in) holds at most a share, beyond one request, so no one of them holds the others'
//! room. Import uploads are one per tenant space at a time, two at once server-wide.
//!
//! | route | body at most |
//! |---|---|
//! | `POST /api/upload_certificate` | 136 KiB (the file, at most 128 KiB, and the form around it) |
//! | `POST /api/import_channels` | 20 MiB + 64 KiB (the file, at most 20 MiB, and the form around it); one per tenant space and two server-wide at once, 120 s to arrive |
//! | other server functions `/api/…` | 256 KiB |
//! | webhooks `/social/…` | 1 MiB |
//! | the send API and its token issuer (`/apiaccess/…`, `/apigovernance/…`, `/oauth/token`) | 64 KiB |
//! | everything else | 16 KiB |

use crate::config::Limits;
use app::error::AppError;
use app::ports::{ClientAddr, Principal};
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
use tower_sessions::Session;

/// How long a body waits for room in the budget before the request is answered 503.
const BUDGET_WAIT: Duration = Duration::from_secs(1);

pub const SERVER_FN_BODY: usize = 256 * 1024;
pub const CERTIFICATE_BODY: usize = 136 * 1024;
pub const IMPORT_BODY: usize = app::domain::import::MAX_IMPORT_BYTES + 64 * 1024;
/// Import uploads read at once, server-wide (each may reserve 20 MiB of the body budget); one
/// tenant space reads one at a time.
pub const IMPORT_UPLOADS: usize = 2;
/// How long an import upload's body may take to arrive (20 MiB over a slow uplink).
pub const IMPORT_BODY_READ: Duration = Duration::from_secs(120);
/// What an import upload holds of the body budget: it is not gathered in memory but stored as
/// it arrives, a piece (1 MiB) at a time.
pub const IMPORT_ROOM: usize = 4 * 1024 * 1024;
pub const WEBHOOK_BODY: usize = 1024 * 1024;
/// The send API (a text of 4,096 characters, each escaped in JSON at worst as 12 bytes).
pub const API_BODY: usize = 64 * 1024;
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
    } else if crate::apiaccess::is_api_path(path) {
        API_BODY
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
            | "/api/logout"
    ) || path.starts_with("/social/")
        || path.starts_with("/pkg/")
        || crate::apiaccess::is_api_path(path)
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
        let client = super::client_addr::address_key(client);
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

/// Who holds room in the body budget: a client address (its /64 for IPv6) on the routes anyone
/// may call, a tenant space (or, for the system administrator, the account) otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    Address(IpAddr),
    Tenant(i64),
    Account(i64),
}

impl Holder {
    fn of(principal: Option<&Principal>, client: IpAddr) -> Self {
        match principal {
            Some(p) => match p.me.tenant_id {
                Some(t) => Self::Tenant(t),
                None => Self::Account(p.me.user_id),
            },
            None => Self::Address(super::client_addr::address_key(client)),
        }
    }
}

/// One pool of the body budget: a semaphore of bytes, and what each holder holds of it.
#[derive(Debug)]
pub struct Pool {
    bytes: Arc<Semaphore>,
    size: usize,
    /// What one holder may hold in all, when it reads more than one body.
    share: usize,
    held: Mutex<HashMap<Holder, usize>>,
}

/// The room one body holds in a pool, grown as its bytes arrive (a sender that stalls holds
/// what it sent, nothing more); given back when dropped, also half-way through a `grow`.
pub struct Room {
    pool: Arc<Pool>,
    holder: Holder,
    bytes: usize,
    permits: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for Room {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut held = self.pool.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.holder) {
            *n = n.saturating_sub(self.bytes);
            if *n == 0 {
                held.remove(&self.holder);
            }
        }
    }
}

impl Room {
    /// `n` more bytes of the body: refused at once when its holder would hold more than its
    /// share with its other bodies (a holder reading one body only may take up to the pool),
    /// else waits up to `wait` for room in the pool.
    pub async fn grow(&mut self, n: usize, wait: Duration) -> bool {
        if n == 0 {
            return true;
        }
        if self.bytes + n > self.pool.size {
            return false;
        }
        {
            let mut held = self.pool.held.lock().unwrap_or_else(|e| e.into_inner());
            let all = held.entry(self.holder).or_insert(0);
            let others = *all - self.bytes;
            if others > 0 && *all + n > self.pool.share {
                if *all == 0 {
                    held.remove(&self.holder);
                }
                return false;
            }
            *all += n;
        }
        // counted as this body's from here: if this waiting is given up (the request is
        // dropped), `Drop` gives it back
        self.bytes += n;
        let wanted = u32::try_from(n).unwrap_or(u32::MAX);
        match tokio::time::timeout(wait, self.pool.bytes.clone().acquire_many_owned(wanted)).await {
            Ok(Ok(permit)) => {
                match self.permits.as_mut() {
                    Some(p) => p.merge(permit),
                    None => self.permits = Some(permit),
                }
                true
            }
            _ => {
                self.bytes -= n;
                let mut held = self.pool.held.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(all) = held.get_mut(&self.holder) {
                    *all = all.saturating_sub(n);
                    if *all == 0 {
                        held.remove(&self.holder);
                    }
                }
                false
            }
        }
    }
}

impl Pool {
    pub fn new(size: usize, share: usize) -> Arc<Self> {
        let size = size.max(1);
        Arc::new(Self {
            bytes: Arc::new(Semaphore::new(size)),
            size,
            share: share.max(1),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// An empty room for one body of `holder`.
    pub fn room(self: &Arc<Self>, holder: Holder) -> Room {
        Room {
            pool: self.clone(),
            holder,
            bytes: 0,
            permits: None,
        }
    }

    /// Holders with room (what the map holds: never more than the bodies being read).
    pub fn holders(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Import uploads being read: at most one per tenant space, `IMPORT_UPLOADS` in all.
#[derive(Debug)]
pub struct Uploads {
    all: Arc<Semaphore>,
    tenants: Mutex<std::collections::HashSet<Holder>>,
}

/// One upload's place; given back when dropped.
pub struct Upload {
    owner: Arc<Uploads>,
    holder: Holder,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Upload {
    fn drop(&mut self) {
        self.owner
            .tenants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.holder);
    }
}

/// Why an upload has no place now.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadRefused {
    /// The tenant space has an upload being read.
    Own,
    /// Every place is taken.
    Full,
}

impl Uploads {
    pub fn new(places: usize) -> Arc<Self> {
        Arc::new(Self {
            all: Arc::new(Semaphore::new(places.max(1))),
            tenants: Mutex::new(std::collections::HashSet::new()),
        })
    }

    pub fn enter(self: &Arc<Self>, holder: Holder) -> Result<Upload, UploadRefused> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if tenants.contains(&holder) {
            return Err(UploadRefused::Own);
        }
        let permit = self
            .all
            .clone()
            .try_acquire_owned()
            .map_err(|_| UploadRefused::Full)?;
        tenants.insert(holder);
        Ok(Upload {
            owner: self.clone(),
            holder,
            _permit: permit,
        })
    }
}

#[derive(Clone)]
pub struct Bounds {
    pub limits: Limits,
    pub in_flight: Arc<InFlight>,
    /// Bytes of bodies being read at once on the routes anyone may call...
    pub public_bodies: Arc<Pool>,
    /// ...and for signed-in callers.
    pub signed_in_bodies: Arc<Pool>,
    /// Import uploads being read at once.
    pub uploads: Arc<Uploads>,
    pub on_webhook_too_large: Option<TooLargeHook>,
}

impl Bounds {
    pub fn new(limits: Limits) -> Self {
        let public = limits.body_budget / 2;
        let signed_in = limits.body_budget - public;
        Self {
            in_flight: InFlight::new(limits.public_requests_per_client),
            public_bodies: Pool::new(public, public / 8),
            signed_in_bodies: Pool::new(signed_in, signed_in / 4),
            uploads: Uploads::new(IMPORT_UPLOADS),
            limits,
            on_webhook_too_large: None,
        }
    }

    pub fn with_webhook_hook(mut self, hook: TooLargeHook) -> Self {
        self.on_webhook_too_large = Some(hook);
        self
    }
}

/// Resolves the session of a call to a server function that needs a sign-in before its body
/// is read: a caller who is not signed in is answered 401 here, holding nothing.
pub async fn signed_in_first(
    State(accounts): State<Arc<dyn app::ports::Accounts>>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/")
        || is_public(path)
        || matches!(
            *req.method(),
            axum::http::Method::GET | axum::http::Method::HEAD
        )
    {
        return next.run(req).await;
    }
    let path = path.to_owned();
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return next.run(req).await;
    };
    match app::api::signed_in(&session, accounts.as_ref()).await {
        Ok(Some(principal)) => {
            req.extensions_mut().insert(app::api::SignedIn(principal));
            next.run(req).await
        }
        Ok(None) => refuse(&path, StatusCode::UNAUTHORIZED, AppError::Unauthenticated),
        Err(e) => refuse(&path, StatusCode::INTERNAL_SERVER_ERROR, e),
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

/// Why a body was not read to its end.
#[derive(Debug, PartialEq, Eq)]
enum BodyError {
    TooLarge,
    Broken,
    /// Not there within the read time, or arriving slower than `BODY_MIN_RATE`.
    TooSlow,
    /// No room for it in the body budget.
    NoRoom,
}

/// How long a body may take: at most `read` in all, and at `min_rate` bytes a second on
/// average once `grace` has passed (`Limits`).
#[derive(Debug, Clone, Copy)]
struct Pace {
    read: Duration,
    grace: Duration,
    min_rate: u64,
}

impl Pace {
    fn of(limits: &Limits, read: Duration) -> Self {
        Self {
            read,
            grace: limits.body_grace,
            min_rate: limits.body_min_rate.max(1),
        }
    }

    /// How long a body with `received` bytes so far may have taken.
    fn allowed(&self, received: usize) -> Duration {
        let by_rate = self.grace + Duration::from_secs_f64(received as f64 / self.min_rate as f64);
        self.read.min(by_rate)
    }
}

/// A body handed on as it arrives (an import upload), under the same bounds as one read whole:
/// at most `limit` bytes, and by the deadline of `body_deadline` — counted in the time spent
/// waiting for the sender only, so the server's own pauses between reads (storing a piece)
/// never count against it. What stopped it is kept in `verdict`, for the answer.
struct Streamed {
    inner: Limited<Body>,
    received: usize,
    pace: Pace,
    /// Time spent waiting for the sender so far (not counting the wait under way).
    waited: Duration,
    /// Since when the wait under way has lasted.
    waiting_since: Option<tokio::time::Instant>,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    verdict: Arc<Mutex<Option<BodyError>>>,
}

impl Streamed {
    fn new(body: Body, limit: usize, pace: Pace) -> (Self, Arc<Mutex<Option<BodyError>>>) {
        let verdict = Arc::new(Mutex::new(None));
        (
            Self {
                inner: Limited::new(body, limit),
                received: 0,
                pace,
                waited: Duration::ZERO,
                waiting_since: None,
                timer: Box::pin(tokio::time::sleep(pace.read)),
                verdict: verdict.clone(),
            },
            verdict,
        )
    }

    fn stop(&self, why: BodyError) -> axum::BoxError {
        let text = format!("{why:?}");
        *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        text.into()
    }
}

impl http_body::Body for Streamed {
    type Data = axum::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::future::Future;
        use std::task::Poll;
        let this = self.get_mut();
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += since.elapsed();
                }
                if let Some(data) = frame.data_ref() {
                    this.received += data.len();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                let why = if e.downcast_ref::<LengthLimitError>().is_some() {
                    BodyError::TooLarge
                } else {
                    BodyError::Broken
                };
                Poll::Ready(Some(Err(this.stop(why))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.waiting_since.is_none() {
                    // a new wait: it may last what the sender's pace has earned, less what it
                    // has waited before
                    let now = tokio::time::Instant::now();
                    this.waiting_since = Some(now);
                    let earned = this.pace.allowed(this.received);
                    this.timer
                        .as_mut()
                        .reset(now + earned.saturating_sub(this.waited));
                }
                match this.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(this.stop(BodyError::TooSlow)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

/// Reads `body` whole: at most `limit` bytes, at its `pace`, each piece with room in `room`
/// (else `NoRoom`).
async fn read_body(
    body: Body,
    limit: usize,
    pace: Pace,
    room: &mut Room,
) -> Result<axum::body::Bytes, BodyError> {
    let started = tokio::time::Instant::now();
    let mut body = Limited::new(body, limit);
    let mut bytes = Vec::new();
    loop {
        let deadline = started + pace.allowed(bytes.len());
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::TooSlow),
            Ok(None) => return Ok(bytes.into()),
            Ok(Some(Err(e))) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(BodyError::TooLarge);
            }
            Ok(Some(Err(_))) => return Err(BodyError::Broken),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if !room.grow(data.len(), BUDGET_WAIT).await {
                        return Err(BodyError::NoRoom);
                    }
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }
}

/// The middleware: in-flight cap on public routes, one import upload per tenant space, body
/// limit, room in the body budget, read timeout and rate, answer timeout.
pub async fn bound(State(bounds): State<Bounds>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let client = req
        .extensions()
        .get::<ClientAddr>()
        .map(|c| c.0)
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let principal = req
        .extensions()
        .get::<app::api::SignedIn>()
        .map(|s| s.0.clone());
    let _slot = if is_public(&path) {
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
    let holder = Holder::of(principal.as_ref(), client);
    let import = path == "/api/import_channels";
    let _upload = if import {
        match bounds.uploads.enter(holder) {
            Ok(place) => Some(place),
            Err(UploadRefused::Own) => {
                return refuse(
                    &path,
                    StatusCode::CONFLICT,
                    AppError::Conflict(
                        "Another import of this tenant space is being uploaded: wait for it to finish."
                            .into(),
                    ),
                );
            }
            Err(UploadRefused::Full) => {
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
    // room for the body in its pool of the budget, taken as its bytes arrive; an import upload
    // is stored as it arrives: it holds a few pieces' room from the start, not itself
    let pool = match holder {
        Holder::Address(_) => &bounds.public_bodies,
        Holder::Tenant(_) | Holder::Account(_) => &bounds.signed_in_bodies,
    };
    let mut room = pool.room(holder);
    if import && !room.grow(IMPORT_ROOM, BUDGET_WAIT).await {
        tracing::warn!(%path, ?holder, "request bodies over their budget: refused");
        return refuse(
            &path,
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unavailable,
        );
    }
    let (parts, body) = req.into_parts();
    if import {
        let answer = streamed(&bounds, &path, client, parts, body, limit, next).await;
        drop(room);
        return answer;
    }
    let pace = Pace::of(&bounds.limits, bounds.limits.body_read);
    let bytes = match read_body(body, limit, pace, &mut room).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            let size = limit as u64 + 1;
            tell_too_large(&bounds, &path, &parts.headers, &parts.extensions, size);
            return too_large(&path, limit);
        }
        Err(BodyError::Broken) => {
            return refuse(&path, StatusCode::BAD_REQUEST, AppError::BadRequest);
        }
        Err(BodyError::TooSlow) => {
            tracing::warn!(%path, %client, "request body too slow: cut off");
            return refuse(&path, StatusCode::REQUEST_TIMEOUT, AppError::TimedOut);
        }
        Err(BodyError::NoRoom) => {
            tracing::warn!(%path, ?holder, "request bodies over their budget: refused");
            return refuse(
                &path,
                StatusCode::SERVICE_UNAVAILABLE,
                AppError::Unavailable,
            );
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

/// Hands an import upload's body on as it arrives, within its bounds (`Streamed`); the answer
/// says what stopped the body, if something did. The handler has the body's read time and
/// then the usual time to answer.
async fn streamed(
    bounds: &Bounds,
    path: &str,
    client: IpAddr,
    parts: axum::http::request::Parts,
    body: Body,
    limit: usize,
    next: Next,
) -> Response {
    let read_time = bounds.limits.body_read.max(IMPORT_BODY_READ);
    let (body, verdict) = Streamed::new(body, limit, Pace::of(&bounds.limits, read_time));
    let req = Request::from_parts(parts, Body::new(body));
    let answer = tokio::time::timeout(read_time + bounds.limits.request, next.run(req)).await;
    let stopped = verdict.lock().unwrap_or_else(|e| e.into_inner()).take();
    match (answer, stopped) {
        (_, Some(BodyError::TooSlow)) => {
            tracing::warn!(%path, %client, "request body too slow: cut off");
            refuse(path, StatusCode::REQUEST_TIMEOUT, AppError::TimedOut)
        }
        (_, Some(BodyError::TooLarge)) => too_large(path, limit),
        (_, Some(BodyError::Broken)) => refuse(path, StatusCode::BAD_REQUEST, AppError::BadRequest),
        (_, Some(BodyError::NoRoom)) => {
            refuse(path, StatusCode::SERVICE_UNAVAILABLE, AppError::Unavailable)
        }
        (Ok(res), None) => res,
        (Err(_), None) => {
            tracing::error!(%path, "request not answered in time");
            refuse(path, StatusCode::SERVICE_UNAVAILABLE, AppError::Unavailable)
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
        assert!(is_public("/api/logout"));
        assert!(!is_public("/api/list_channels"));
        assert!(!is_public("/healthz"));
    }

    #[tokio::test]
    async fn a_pool_gives_each_holder_a_share_when_it_reads_several_bodies() {
        let pool = Pool::new(100, 40);
        let wait = Duration::from_millis(50);
        let (a, b, c) = (Holder::Tenant(1), Holder::Tenant(2), Holder::Tenant(3));
        // one body larger than the share is fine while it is its holder's only one
        let mut big = pool.room(a);
        assert!(big.grow(30, wait).await);
        assert!(big.grow(30, wait).await);
        // a second body of that holder is not, whatever room is left
        let mut second = pool.room(a);
        assert!(!second.grow(10, wait).await);
        // another holder takes what is left, within its share
        let mut other = pool.room(b);
        assert!(other.grow(30, wait).await);
        assert!(!pool.room(b).grow(20, wait).await, "b holds 30 of its 40");
        // the pool itself is full: a third holder waits, then is told
        assert!(!pool.room(c).grow(20, wait).await);
        assert_eq!(pool.holders(), 2, "a refused holder keeps nothing");
        // no body is larger than its pool
        assert!(!pool.room(c).grow(101, wait).await);
        drop(big);
        let mut c_room = pool.room(c);
        assert!(c_room.grow(20, wait).await);
        drop((second, other, c_room));
        assert_eq!(pool.holders(), 0);
        assert_eq!(pool.bytes.available_permits(), 100);
    }

    #[tokio::test]
    async fn a_body_given_up_while_it_waits_for_room_gives_its_share_back() {
        let pool = Pool::new(100, 40);
        let mut full = pool.room(Holder::Tenant(1));
        assert!(full.grow(100, Duration::from_millis(10)).await);
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut room = pool.room(Holder::Tenant(2));
                room.grow(10, Duration::from_secs(30)).await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.holders(), 2, "the waiting body counts for its holder");
        // the request is dropped while it waits
        waiting.abort();
        let _ = waiting.await;
        assert_eq!(pool.holders(), 1, "and gives it back");
        drop(full);
        assert_eq!(pool.holders(), 0);
        assert_eq!(pool.bytes.available_permits(), 100);
    }

    #[test]
    fn uploads_are_one_per_tenant_and_capped_in_all() {
        let uploads = Uploads::new(2);
        let one = uploads.enter(Holder::Tenant(1)).unwrap();
        assert_eq!(
            uploads.enter(Holder::Tenant(1)).err(),
            Some(UploadRefused::Own)
        );
        let two = uploads.enter(Holder::Tenant(2)).unwrap();
        assert_eq!(
            uploads.enter(Holder::Tenant(3)).err(),
            Some(UploadRefused::Full)
        );
        drop(one);
        let three = uploads.enter(Holder::Tenant(3)).unwrap();
        drop((two, three));
        assert!(uploads.enter(Holder::Tenant(1)).is_ok());
    }

    #[tokio::test]
    async fn a_body_that_stalls_is_cut_off_after_its_grace() {
        let (mut tx, body) = {
            let (tx, rx) =
                futures::channel::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(4);
            (tx, Body::from_stream(rx))
        };
        use futures::SinkExt;
        tx.send(Ok(axum::body::Bytes::from_static(b"a little")))
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let pool = Pool::new(4 * 1024 * 1024, 1024 * 1024);
        let mut room = pool.room(Holder::Tenant(1));
        let pace = Pace::of(&Limits::default(), Duration::from_secs(60));
        let read = read_body(body, 1024 * 1024, pace, &mut room).await;
        assert_eq!(read.err(), Some(BodyError::TooSlow));
        let took = started.elapsed();
        let grace = Limits::default().body_grace;
        assert!(
            took >= grace && took < grace + Duration::from_secs(2),
            "{took:?}"
        );
        drop(tx);
        // a body that keeps coming is read whole, its room taken as it arrives
        let body = Body::from(vec![b'x'; 100_000]);
        let mut room = pool.room(Holder::Tenant(2));
        let read = read_body(body, 200_000, pace, &mut room).await;
        assert_eq!(read.unwrap().len(), 100_000);
        assert_eq!(room.bytes, 100_000);
        drop(room);
        // no room in the budget: refused as it arrives
        let small = Pool::new(50_000, 50_000);
        let body = Body::from(vec![b'x'; 100_000]);
        let mut room = small.room(Holder::Tenant(3));
        assert_eq!(
            read_body(body, 200_000, pace, &mut room).await.err(),
            Some(BodyError::NoRoom)
        );
        let body = Body::from(vec![b'x'; 100_000]);
        let mut room = pool.room(Holder::Tenant(4));
        assert_eq!(
            read_body(body, 99_999, pace, &mut room).await.err(),
            Some(BodyError::TooLarge)
        );
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
