//! The HTTP server: HTTP/1.1 connections with bounded heads (size and arrival time, which is
//! also the idle time of a kept-alive connection), caps on open connections (in all and per
//! peer address), TCP_NODELAY
//! (keep-alive responses otherwise stall on delayed ACKs), the peer address for every request,
//! and a graceful stop: on the signal no new connection is accepted, requests in flight get
//! `shutdown_grace` to finish, idle connections close.

use crate::config::Limits;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The largest request head (request line and headers) read into memory.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
pub const MAX_HEADERS: usize = 100;

/// Open connections per peer address (an IPv6 peer by its /64).
struct PerPeer {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place; given back when dropped.
struct PeerSlot {
    owner: Arc<PerPeer>,
    peer: IpAddr,
}

impl PerPeer {
    fn enter(self: &Arc<Self>, peer: IpAddr) -> Option<PeerSlot> {
        let peer = super::client_addr::address_key(peer);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(peer).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            owner: self.clone(),
            peer,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.peer);
            }
        }
    }
}

/// Serves `router` until `signal` completes, then stops gracefully (bounded by
/// `limits.shutdown_grace`). Returns once every connection is closed or the grace is over.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    signal: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.connections.max(1)));
    let per_peer = Arc::new(PerPeer {
        limit: limits.connections_per_peer.max(1),
        open: Mutex::new(HashMap::new()),
    });
    let graceful = GracefulShutdown::new();
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // out of file descriptors and the like: wait instead of spinning
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many open connections: closed at once");
            drop(stream);
            continue;
        };
        let Some(peer_slot) = per_peer.enter(peer.ip()) else {
            tracing::warn!(%peer, "too many open connections from one address: closed at once");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .max_header_size(MAX_HEAD_BYTES)
            .max_buf_size(MAX_HEAD_BYTES)
            .max_headers(MAX_HEADERS);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            drop((permit, peer_slot));
        });
    }
    drop(listener);
    tracing::info!("stopping: no new connections; waiting for requests in flight");
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = limits.shutdown_grace.as_secs(),
            "requests still running when the grace period ended"
        );
    }
}

/// Why the server stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: an orchestrator or a load balancer's operator; drain first.
    Terminate,
    /// Ctrl-C (SIGINT): a person at a terminal; stop now.
    Interrupt,
}

/// Completes on SIGTERM or ctrl-c (SIGINT), saying which.
pub async fn shutdown_signal() -> Stop {
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
        _ = ctrl_c => Stop::Interrupt,
        _ = term => Stop::Terminate,
    }
}

/// Completes when the server should stop taking requests: at once on ctrl-c; on SIGTERM
/// after `drain`, during which `/readyz` answers 503 (`draining`) and requests are served.
pub async fn stop_after_drain(draining: crate::http::health::Draining, drain: std::time::Duration) {
    if shutdown_signal().await == Stop::Terminate && !drain.is_zero() {
        draining.start();
        tracing::info!(
            drain_secs = drain.as_secs(),
            "stopping: /readyz answers 503 while requests are still served"
        );
        // a second signal cuts the drain short
        tokio::select! {
            () = tokio::time::sleep(drain) => {}
            _ = shutdown_signal() => tracing::info!("stopping now: a second signal"),
        }
    }
}
