//! Webhook load: starts the real server on loopback with a fresh SQLite database, then drives
//! it with `wrk` (a real HTTP load generator, bounded in time) — infobip message deliveries
//! with the AccountKey header and a new message id per request — and, in the same run,
//! `/healthz` as the floor. Prints accepted webhooks per second, latencies and the ratio.
//!
//! Needs `wrk` on PATH (`apt-get install wrk`). `cargo bench -p server --bench webhooks`.

mod common;

use sea_orm::{EntityTrait, PaginatorTrait};
use server::db::entities::webhook_event;
use server::startup;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let config = common::config(dir.path(), Some(addr));
    let state = startup::build_state(&config).await.expect("state");
    let url = common::infobip_channel(&state).await;
    let conn = state.db.conn.clone();
    let router = startup::build_router(state, &config);
    tokio::spawn(async move {
        startup::serve(
            listener,
            router,
            &server::config::Limits::default(),
            std::future::pending(),
        )
        .await;
    });

    let script = common::infobip_script(dir.path(), "bench");
    let bench_url = url.clone();
    let hooks = tokio::task::spawn_blocking(move || common::wrk(&bench_url, Some(&script)))
        .await
        .expect("wrk");
    let health_url = format!("{base}/healthz");
    let health = tokio::task::spawn_blocking(move || common::wrk(&health_url, None))
        .await
        .expect("wrk");
    let stored = webhook_event::Entity::find()
        .count(&conn)
        .await
        .expect("count");
    println!(
        "wrk -t2 -c{} -d{} on loopback, server on SQLite (synchronous=FULL), same 2 cores:",
        common::CONNECTIONS,
        common::DURATION
    );
    println!(
        "  infobip webhooks: {:>9.0} req/s  p50 {}  p99 {}  ({} requests, {} not 2xx, {} stored)",
        hooks.rps, hooks.p50, hooks.p99, hooks.requests, hooks.non_2xx, stored
    );
    println!(
        "  /healthz:         {:>9.0} req/s  p50 {}  p99 {}",
        health.rps, health.p50, health.p99
    );
    if health.rps > 0.0 {
        println!(
            "  webhooks / healthz throughput: {:.1} %",
            100.0 * hooks.rps / health.rps
        );
    }
}
