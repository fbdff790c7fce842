//! Retention of webhook traffic (`server::db::retention`): what is older than the retention
//! goes, what is younger and what a channel's health needs stay, and the database stays flat
//! under steady traffic over ten retention windows (time compressed: one window is three
//! rounds of traffic, each round's start the cutoff of a later purge).

#![allow(clippy::unwrap_used)]

use crate::common::{MadeChannel, TestApp, spawn_app};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, Statement,
};
use server::db::entities::{
    channel, outbound_message, outbound_status, webhook_count, webhook_delivery, webhook_event,
    webhook_refusal,
};
use server::db::retention::{Pace, Purged, cutoff, purge};
use std::time::Duration;
use time::OffsetDateTime;

/// An infobip message delivery of `text` with its own message id.
fn message(id: &str, text: &str) -> String {
    serde_json::json!({"results": [{"messageId": id, "from": "4915100000001",
        "to": "4915112345678", "message": {"type": "TEXT", "text": text}}]})
    .to_string()
}

async fn post(http: &reqwest::Client, url: &str, key: &str, body: String) -> u16 {
    http.post(url)
        .header("AccountKey", key)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn channel_row(app: &TestApp, id: i64) -> channel::Model {
    channel::Entity::find_by_id(id)
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap()
}

/// A tenant space with one infobip channel whose Webhook Password is `hook-alpha`.
async fn made(app: &TestApp) -> MadeChannel {
    let root = app.setup_admin().await;
    app.infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await
}

/// A pace that takes two rows a batch and never waits, so that a few rows make several
/// batches.
fn two_at_a_time() -> Pace {
    Pace {
        first: 2,
        fewest: 1,
        most: 2,
        pause: 0,
        least_pause: Duration::ZERO,
        ..Pace::default()
    }
}

#[tokio::test]
async fn traffic_older_than_the_retention_goes_and_what_health_needs_stays() {
    let app = spawn_app().await;
    let a = made(&app).await;
    let conn = &app.state.db.conn;
    let http = reqwest::Client::new();
    let now = OffsetDateTime::now_utc();
    let old = now - time::Duration::days(40);

    // five messages and a refusal, made 40 days old
    for i in 0..5 {
        let body = message(&format!("old-{i}"), "old");
        assert_eq!(post(&http, &a.message_url, "hook-alpha", body).await, 200);
    }
    assert_eq!(
        post(&http, &a.message_url, "wrong", message("x", "x")).await,
        401
    );
    app.state.webhook_writer.flush().await;
    let old_deliveries = webhook_delivery::Entity::find().count(conn).await.unwrap();
    assert_eq!(old_deliveries, 5);
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::ReceivedAt, Expr::value(old))
        .exec(conn)
        .await
        .unwrap();
    webhook_event::Entity::update_many()
        .col_expr(webhook_event::Column::ReceivedAt, Expr::value(old))
        .exec(conn)
        .await
        .unwrap();
    webhook_refusal::Entity::update_many()
        .col_expr(webhook_refusal::Column::LastAt, Expr::value(old))
        .exec(conn)
        .await
        .unwrap();
    let tenant_id = channel_row(&app, a.id).await.tenant_id;
    let old_hour = old.unix_timestamp().div_euclid(3600);
    webhook_count::Entity::insert(webhook_count::ActiveModel {
        tenant_id: Set(tenant_id),
        hour: Set(old_hour),
        accepted: Set(7),
        refused: Set(1),
    })
    .exec(conn)
    .await
    .unwrap();
    // test messages sent, one 40 days ago and one now, each with a status
    for (pid, at) in [("out-old", old), ("out-new", now)] {
        let m = outbound_message::Entity::insert(outbound_message::ActiveModel {
            channel_id: Set(a.id),
            tenant_id: Set(tenant_id),
            provider_message_id: Set(pid.into()),
            recipient: Set("+4915100000009".into()),
            text: Set("test".into()),
            sent_at: Set(at),
            ..Default::default()
        })
        .exec(conn)
        .await
        .unwrap()
        .last_insert_id;
        outbound_status::Entity::insert(outbound_status::ActiveModel {
            outbound_id: Set(m),
            status: Set("DELIVERED".into()),
            status_rank: Set(3),
            detail: Set(None),
            received_at: Set(at),
            ..Default::default()
        })
        .exec(conn)
        .await
        .unwrap();
    }

    // then today's traffic: two messages, a report of an old message, a refusal (in a second
    // of its own: refusals are counted per second)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for i in 0..2 {
        let body = message(&format!("new-{i}"), "new");
        assert_eq!(post(&http, &a.message_url, "hook-alpha", body).await, 200);
    }
    let report = serde_json::json!({"results": [{"messageId": "old-0", "to": "4915112345678",
        "status": {"groupName": "DELIVERED"}}]})
    .to_string();
    assert_eq!(post(&http, &a.report_url, "hook-alpha", report).await, 200);
    assert_eq!(
        post(&http, &a.message_url, "wrong", message("y", "y")).await,
        401
    );
    app.state.webhook_writer.flush().await;
    let before = channel_row(&app, a.id).await;
    assert!(before.last_accepted_at.is_some() && before.last_refused_at.is_some());

    let purged = purge(
        &app.state.db.background_connection(),
        cutoff(OffsetDateTime::now_utc(), 30),
        &two_at_a_time(),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            purged.deliveries,
            purged.outbound,
            purged.refusals,
            purged.counts
        ),
        (5, 1, 1, 1),
        "{purged:?}"
    );
    // five old deliveries two at a time, then one batch with nothing old ends the walk
    assert!(purged.batches >= 6, "{purged:?}");

    // what is left: today's deliveries, their events, and the old message's new report
    assert_eq!(
        webhook_delivery::Entity::find().count(conn).await.unwrap(),
        3
    );
    let events: Vec<(String, String)> = webhook_event::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.provider_message_id))
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        events.contains(&("report".into(), "old-0".into())),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|(k, m)| k == "message" && m.starts_with("old"))
    );
    let sent: Vec<String> = outbound_message::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.provider_message_id)
        .collect();
    assert_eq!(sent, ["out-new"]);
    assert_eq!(
        outbound_status::Entity::find().count(conn).await.unwrap(),
        1
    );
    assert_eq!(
        webhook_refusal::Entity::find().count(conn).await.unwrap(),
        1
    );
    let hours: Vec<i64> = webhook_count::Entity::find()
        .filter(webhook_count::Column::TenantId.eq(tenant_id))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.hour)
        .collect();
    assert!(!hours.contains(&old_hour) && !hours.is_empty(), "{hours:?}");

    // the channel's facts are its own: unchanged, and its pages still answer
    let after = channel_row(&app, a.id).await;
    assert_eq!(
        (
            after.last_accepted_at,
            after.last_refused_at,
            after.last_refused_reason,
            after.health
        ),
        (
            before.last_accepted_at,
            before.last_refused_at,
            before.last_refused_reason,
            before.health
        )
    );
    let act = app
        .call_json(
            "get_channel_activity",
            serde_json::json!({"id": a.id, "at": "First"}),
            Some(&a.cookie),
        )
        .await;
    assert_eq!(act.status, 200, "{}", act.body);
    assert_eq!(act.json()["total"], 3);

    // nothing is left to purge; a second purge finds it so at once
    let again = purge(
        &app.state.db.background_connection(),
        cutoff(OffsetDateTime::now_utc(), 30),
        &Pace::default(),
    )
    .await
    .unwrap();
    assert_eq!(again.rows(), 0, "{again:?}");
}

/// Bytes the traffic takes: SQLite's pages in use or free (the file's size), PostgreSQL's
/// traffic tables with their indexes and TOAST.
async fn size(app: &TestApp) -> i64 {
    let conn = &app.state.db.conn;
    let backend = conn.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT CAST(SUM(pg_total_relation_size(CAST(t AS regclass))) AS BIGINT) AS n FROM \
             unnest(ARRAY['webhook_deliveries', 'webhook_events', 'webhook_refusals', \
             'webhook_counts', 'outbound_messages', 'outbound_statuses']) AS t"
        }
        _ => "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()",
    };
    conn.query_one(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap()
}

#[tokio::test]
async fn the_database_stays_flat_over_ten_retention_windows_of_traffic() {
    const WINDOW: usize = 3;
    const ROUNDS: usize = 10 * WINDOW;
    const PER_ROUND: usize = 300;
    const SENDERS: usize = 6;
    let app = spawn_app().await;
    let a = made(&app).await;
    let conn = &app.state.db.conn;
    let background = app.state.db.background_connection();
    let text = "x".repeat(600);
    let mut starts = Vec::new();
    let mut sizes = Vec::new();
    let mut total = Purged::default();
    for round in 0..ROUNDS {
        starts.push(OffsetDateTime::now_utc());
        let mut senders = Vec::new();
        for s in 0..SENDERS {
            let (url, text) = (a.message_url.clone(), text.clone());
            senders.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in (s..PER_ROUND).step_by(SENDERS) {
                    let body = message(&format!("r{round}-{i}"), &text);
                    assert_eq!(post(&http, &url, "hook-alpha", body).await, 200);
                }
                // and a refusal per sender and round
                assert_eq!(post(&http, &url, "wrong", message("z", "z")).await, 401);
            }));
        }
        for s in senders {
            s.await.unwrap();
        }
        app.state.webhook_writer.flush().await;
        // the round that began `WINDOW` rounds ago is the oldest kept
        if round + 1 >= WINDOW {
            let p = purge(&background, starts[round + 1 - WINDOW], &Pace::default())
                .await
                .unwrap();
            total.deliveries += p.deliveries;
            total.refusals += p.refusals;
            total.longest = total.longest.max(p.longest);
        }
        let kept = webhook_delivery::Entity::find().count(conn).await.unwrap();
        assert_eq!(
            kept as usize,
            PER_ROUND * (round + 1).min(WINDOW),
            "round {round}"
        );
        sizes.push(size(&app).await);
    }
    println!(
        "sizes after each round (KiB): {:?}; purged {} deliveries, longest batch {:?}",
        sizes.iter().map(|s| s / 1024).collect::<Vec<_>>(),
        total.deliveries,
        total.longest
    );
    assert_eq!(
        total.deliveries as usize,
        PER_ROUND * (ROUNDS - WINDOW),
        "{total:?}"
    );
    assert_eq!(
        webhook_event::Entity::find().count(conn).await.unwrap() as usize,
        PER_ROUND * WINDOW
    );
    // flat: from the second window on, never more than a fifth above its size then, while
    // ten windows of traffic went through
    let steady = sizes[2 * WINDOW - 1];
    let last = *sizes.last().unwrap();
    for (round, s) in sizes.iter().enumerate().skip(2 * WINDOW) {
        assert!(
            *s <= steady + steady / 5,
            "round {round}: {s} bytes beside {steady} at round {}: {sizes:?}",
            2 * WINDOW - 1
        );
    }
    // and far below what the traffic would have taken unpurged (its first window grew it
    // by `sizes[WINDOW - 1] - sizes[0]`, nine more would have)
    let window_growth = sizes[WINDOW - 1] - sizes[0];
    assert!(
        last < sizes[0] + 3 * window_growth,
        "{last} bytes; a window of traffic took {window_growth}: {sizes:?}"
    );
}
