//! Ingest while the traffic purge runs: a SQLite database holding 1,000,000 deliveries (each
//! with its event) 60 days old, the real server on loopback, and `wrk` delivering infobip
//! messages for 10 s, four rounds of a run without the purge (the floor) and a run while the
//! purge (`retention::purge` with the server's pace) deletes the million — in turns, so that
//! the machine's drift falls on both alike. Prints the medians and each run, what the purge
//! deleted meanwhile, how long its batches held and waited for the write lock, and then how
//! fast it deletes the rest alone.
//!
//! Needs `wrk` on PATH. `cargo bench -p server --bench retention`.

mod common;

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement};
use server::db::entities::webhook_delivery;
use server::db::retention;
use server::startup;
use std::time::Instant;

const OLD: u64 = 1_000_000;
const ROUNDS: usize = 4;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = common::config(dir.path(), Some(addr));
    let state = startup::build_state(&config).await.expect("state");
    let url = common::infobip_channel(&state).await;
    let conn = state.db.conn.clone();
    let background = state.db.background_connection();

    // the million old deliveries and their events, in a few statements
    let seeded = Instant::now();
    let old_at = time::OffsetDateTime::now_utc() - time::Duration::days(60);
    let channel = server::db::entities::channel::Entity::find()
        .one(&conn)
        .await
        .expect("channel")
        .expect("a channel");
    let template = webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
        channel_id: sea_orm::Set(channel.id),
        tenant_id: sea_orm::Set(channel.tenant_id),
        endpoint: sea_orm::Set("message".into()),
        content_type: sea_orm::Set("application/json".into()),
        body: sea_orm::Set(
            br#"{"results":[{"messageId":"old","from":"4915100000001","to":"4915112345678","message":{"type":"TEXT","text":"an old message of a customer, kept thirty days"}}]}"#.to_vec(),
        ),
        received_at: sea_orm::Set(old_at),
        ..Default::default()
    })
    .exec(&conn)
    .await
    .expect("template")
    .last_insert_id;
    for sql in [
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
             INSERT INTO webhook_deliveries (channel_id, tenant_id, endpoint, content_type, \
             body, received_at) SELECT d.channel_id, d.tenant_id, d.endpoint, d.content_type, \
             d.body, d.received_at FROM n, webhook_deliveries d WHERE d.id = {template}",
            OLD - 1
        ),
        "INSERT INTO webhook_events (channel_id, tenant_id, kind, provider_message_id, sender, \
         recipient, text, status, status_rank, delivery_id, received_at) SELECT channel_id, \
         tenant_id, 'message', 'old-' || id, '4915100000001', '4915112345678', \
         'an old message of a customer, kept thirty days', NULL, 0, id, received_at \
         FROM webhook_deliveries"
            .to_owned(),
    ] {
        conn.execute(Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            sql,
        ))
        .await
        .expect("seed");
    }
    println!(
        "seeded {OLD} deliveries with their events, 60 days old, in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

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
    let ingest = |prefix: String| {
        let script = common::infobip_script(dir.path(), &prefix);
        let url = url.clone();
        tokio::task::spawn_blocking(move || common::wrk(&url, Some(&script)))
    };

    // without and with the purge in turns, so that the machine's drift falls on both alike
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut during = retention::Purged::default();
    for round in 0..ROUNDS {
        without.push(ingest(format!("without{round}")).await.expect("wrk"));
        let db = background.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let purging = tokio::spawn(async move {
            let cutoff = retention::cutoff(time::OffsetDateTime::now_utc(), 30);
            let mut p = retention::Purged::default();
            // one purge, stopped from outside between two batches: what it did so far is kept
            let pace = retention::Pace::default();
            let run = retention::purge_into(&db, cutoff, &pace, &mut p);
            tokio::select! {
                r = run => { r.expect("purge"); }
                _ = rx => {}
            }
            p
        });
        with.push(ingest(format!("with{round}")).await.expect("wrk"));
        let _ = tx.send(());
        let p = purging.await.expect("purge");
        during.deliveries += p.deliveries;
        during.batches += p.batches;
        during.held += p.held;
        during.longest = during.longest.max(p.longest);
        during.waited += p.waited;
        during.longest_wait = during.longest_wait.max(p.longest_wait);
    }
    let rest_started = Instant::now();
    let cutoff = retention::cutoff(time::OffsetDateTime::now_utc(), 30);
    let rest = retention::purge(&background, cutoff, &retention::Pace::default())
        .await
        .expect("purge");
    let rest_took = rest_started.elapsed();
    let left = webhook_delivery::Entity::find()
        .count(&conn)
        .await
        .expect("count");

    println!(
        "wrk -t2 -c{} -d{} on loopback, infobip message deliveries, server on SQLite (synchronous=FULL), same 2 cores; {ROUNDS} rounds of a run without the purge, then one while it runs:",
        common::CONNECTIONS,
        common::DURATION
    );
    let median = |runs: &[common::Run]| {
        let mut r: Vec<f64> = runs.iter().map(|r| r.rps).collect();
        r.sort_by(f64::total_cmp);
        (r[r.len() / 2] + r[(r.len() - 1) / 2]) / 2.0
    };
    for (name, runs) in [("without the purge", &without), ("while purging", &with)] {
        println!(
            "  {name:<18} median {:>6.0} req/s; runs {}; p99 {}; not 2xx {}",
            median(runs),
            runs.iter()
                .map(|r| format!("{:.0}", r.rps))
                .collect::<Vec<_>>()
                .join(", "),
            runs.iter()
                .map(|r| r.p99.clone())
                .collect::<Vec<_>>()
                .join(", "),
            runs.iter().map(|r| r.non_2xx).sum::<u64>()
        );
    }
    println!(
        "  while purging / without: {:.1} % (medians)",
        100.0 * median(&with) / median(&without)
    );
    println!(
        "purge while ingesting: {} deliveries (and their events) in {ROUNDS} x {}, {} batches holding the write lock {:.2} ms on average, the longest {:.2} ms; waiting for it {:.1} s in all, the longest wait {:.0} ms",
        during.deliveries,
        common::DURATION,
        during.batches,
        during.held.as_secs_f64() * 1000.0 / during.batches.max(1) as f64,
        during.longest.as_secs_f64() * 1000.0,
        during.waited.as_secs_f64(),
        during.longest_wait.as_secs_f64() * 1000.0
    );
    println!(
        "purge alone: the other {} in {:.1} s = {:.0} a second, the longest batch {:.2} ms; {} deliveries left (the new ones)",
        rest.deliveries,
        rest_took.as_secs_f64(),
        rest.deliveries as f64 / rest_took.as_secs_f64(),
        rest.longest.as_secs_f64() * 1000.0,
        left
    );
    assert_eq!(
        during.deliveries + rest.deliveries,
        OLD,
        "every old delivery purged"
    );
}
