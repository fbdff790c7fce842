//! Prometheus metrics through HTTP on both databases: counters that move with real webhook
//! deliveries and requests, health and expiry gauges that follow the sweep's census, gauges
//! of the pool and the writer, the output accepted by `promtool check metrics`, and nothing
//! of it on the public port.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use server::db::entities::channel;
use std::collections::{BTreeMap, BTreeSet};

/// A sample's name and its labels (sorted), as one key.
type Series = (String, BTreeSet<(String, String)>);

/// The samples of an exposition text.
fn samples(text: &str) -> BTreeMap<Series, f64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.trim_matches('"').to_owned())
            })
            .collect();
        out.insert((name.to_owned(), labels), value.parse().unwrap());
    }
    out
}

fn value(s: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    s.get(&(name.to_owned(), labels)).copied().unwrap_or(0.0)
}

/// The metrics listener of `app`, as `switchboard serve` runs it beside the public one.
async fn metrics_listener(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server::metrics::router(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn scrape(base: &str) -> String {
    let r = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    r.text().await.unwrap()
}

/// `promtool check metrics` on `text`: required in CI, where `.ci/install-tools` installs it.
fn promtool(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("promtool not run ({e}): install Debian's prometheus package");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn counters_move_with_real_traffic_and_gauges_with_the_census() {
    let app = spawn_app_with(Options {
        metrics: true,
        ..Default::default()
    })
    .await;
    let base = metrics_listener(&app).await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;

    let before = samples(&scrape(&base).await);
    for _ in 0..3 {
        assert_eq!(deliver(&a.message_url, "hook-alpha").await, 200);
    }
    for _ in 0..2 {
        assert_eq!(deliver(&a.report_url, "wrong").await, 401);
    }
    app.state.webhook_writer.flush().await;
    let text = scrape(&base).await;
    let after = samples(&text);
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let delivered = "switchboard_webhook_deliveries_total";
    assert_eq!(
        moved(
            delivered,
            &[("provider", "infobip"), ("outcome", "accepted")]
        ),
        3.0
    );
    assert_eq!(
        moved(
            delivered,
            &[("provider", "infobip"), ("outcome", "refused")]
        ),
        2.0
    );
    assert_eq!(
        moved(
            "switchboard_webhook_refusals_total",
            &[("provider", "infobip"), ("reason", "account_key_mismatch")]
        ),
        2.0
    );
    let route = "/social/on/whatsapp/{provider}/{kind}/{key}";
    let requests = "switchboard_http_requests_total";
    assert_eq!(
        moved(
            requests,
            &[("route", route), ("method", "POST"), ("status", "200")]
        ),
        3.0
    );
    assert_eq!(
        moved(
            requests,
            &[("route", route), ("method", "POST"), ("status", "401")]
        ),
        2.0
    );
    assert_eq!(
        moved(
            "switchboard_http_request_duration_seconds_count",
            &[("route", route), ("method", "POST"), ("status", "200")]
        ),
        3.0
    );
    // the writer committed the accepted ones, in batches it measured
    assert!(moved("switchboard_webhook_batch_deliveries_sum", &[]) >= 3.0);
    assert!(moved("switchboard_webhook_commit_duration_seconds_count", &[]) >= 1.0);
    assert_eq!(value(&after, "switchboard_webhook_queue_bytes", &[]), 0.0);
    assert!(value(&after, "switchboard_db_pool_max_connections", &[]) >= 1.0);
    // a server function is counted by its own route, a page by its template
    assert!(
        value(
            &after,
            requests,
            &[
                ("route", "/api/login"),
                ("method", "POST"),
                ("status", "200")
            ]
        ) >= 1.0,
        "{text}"
    );
    // no label holds a channel, a tenant space or a key
    let key = a.message_url.rsplit('/').next().unwrap();
    for (_, labels) in after.keys() {
        for (_, v) in labels {
            for private in [key, "wa_infobip", "Alpha", "alpha"] {
                assert_ne!(v, private);
                assert!(!v.contains(key), "{v}");
            }
        }
    }

    // the census after the sweep: the refused channel is Failing, a token expires in 5 days
    let in_five = (time::OffsetDateTime::now_utc() + time::Duration::days(5)).date();
    channel::Entity::update_many()
        .col_expr(
            channel::Column::TokenValidUntil,
            Expr::value(format!(
                "{:04}-{:02}-{:02}",
                in_five.year(),
                u8::from(in_five.month()),
                in_five.day()
            )),
        )
        .filter(channel::Column::Id.eq(a.id))
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    server::db::health::sweep(&app.state.db.conn).await.unwrap();
    let census = server::db::census::census(&app.state.db.conn)
        .await
        .unwrap();
    app.state.metrics.health(&census);
    let text = scrape(&base).await;
    let now = samples(&text);
    let channels = "switchboard_channels";
    assert_eq!(
        value(
            &now,
            channels,
            &[("provider", "infobip"), ("health", "failing")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&now, channels, &[("provider", "infobip"), ("health", "ok")]),
        0.0
    );
    // every provider and level is shown, zeros included
    assert_eq!(
        now.keys().filter(|(n, _)| n == channels).count(),
        12,
        "{text}"
    );
    for (days, n) in [("7", 1.0), ("14", 1.0), ("30", 1.0)] {
        assert_eq!(
            value(
                &now,
                "switchboard_expiring",
                &[("what", "token"), ("within_days", days)]
            ),
            n
        );
        assert_eq!(
            value(
                &now,
                "switchboard_expiring",
                &[("what", "certificate"), ("within_days", days)]
            ),
            0.0
        );
    }
    promtool(&text);

    // nothing of it on the public port
    let public = app.get("/metrics", None).await;
    assert_eq!(public.status, 404);
    assert!(!public.body.contains("# TYPE"));
}

#[tokio::test]
async fn without_a_metrics_address_nothing_is_kept() {
    let app = spawn_app().await;
    assert!(!app.state.metrics.is_on());
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    assert_eq!(deliver(&a.message_url, "hook-alpha").await, 200);
    assert!(app.state.metrics.render(&app.state).await.is_none());
}
