//! Stopping loses nothing (SPEC §5): the real binary under webhook load gets SIGTERM; every
//! delivery answered 200 is in the database afterwards, and an export it was running is given
//! back for another instance at once.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use server::db::entities::{export_task, webhook_event};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test]
async fn sigterm_under_webhook_load_keeps_every_delivery_it_answered() {
    // the data, made through the API of an in-process server on the same database
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;

    let (mut child, base) = serve_binary(
        &app.config.database_url,
        &[("SWITCHBOARD_SHUTDOWN_GRACE_SECS", "10")],
    )
    .await;
    let url = c.message_url.replace(&app.base, &base);

    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let other = Arc::new(Mutex::new(Vec::<u16>::new()));
    let stop_at = Instant::now() + Duration::from_secs(20);
    let workers: Vec<_> = (0..12)
        .map(|w| {
            let (url, accepted, other) = (url.clone(), accepted.clone(), other.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut failures_in_a_row = 0;
                for i in 0.. {
                    if Instant::now() > stop_at || failures_in_a_row > 20 {
                        break;
                    }
                    let id = format!("w{w}-{i}");
                    let body = format!(
                        r#"{{"results":[{{"messageId":"{id}","from":"4915","message":{{"text":"load"}}}}]}}"#
                    );
                    match http
                        .post(&url)
                        .header("AccountKey", "alpha-hook-1")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => {
                            failures_in_a_row = 0;
                            accepted.lock().unwrap().push(id);
                        }
                        Ok(r) => other.lock().unwrap().push(r.status().as_u16()),
                        // refused or reset: the server is stopping or gone
                        Err(_) => {
                            failures_in_a_row += 1;
                            tokio::time::sleep(Duration::from_millis(25)).await;
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_term = accepted.lock().unwrap().len();
    assert!(before_term > 0, "the load is running");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for w in workers {
        w.await.unwrap();
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(
        log.contains("every accepted webhook delivery is committed"),
        "{log}"
    );

    let accepted = accepted.lock().unwrap().clone();
    let stored: std::collections::HashSet<String> = webhook_event::Entity::find()
        .filter(webhook_event::Column::ChannelId.eq(c.id))
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.provider_message_id)
        .collect();
    let missing: Vec<&String> = accepted.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} deliveries answered 200 are not stored: {:?}",
        missing.len(),
        accepted.len(),
        &missing[..missing.len().min(5)]
    );
    let other = other.lock().unwrap();
    assert!(
        other.iter().all(|s| *s == 503),
        "answers besides 200 during the stop: {other:?}"
    );
}

#[tokio::test]
async fn a_stopping_worker_gives_its_export_back_at_once() {
    let (_db, url) = fresh_database().await;
    let addr: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
    let config = config_for(url, addr, "http://127.0.0.1:1", &Options::default());
    let state = server::startup::build_state(&config).await.unwrap();
    let tenant = app::ports::Tenants::create(
        &state.accounts,
        &app::ports::Actor::operator("test"),
        &app::domain::TenantName::parse("Acme").unwrap(),
        &app::domain::Username::parse("acme-admin").unwrap(),
        &app::domain::NewPassword::parse("acme-password").unwrap(),
    )
    .await
    .unwrap();
    server::demo::seed(&state, "Acme", 20_000).await.unwrap();
    let task = state
        .ports
        .exports
        .start(&app::ports::Actor::anonymous("test", None), tenant, None)
        .await
        .unwrap();

    let worker = server::startup::start_background(&state, &config);
    let started = Instant::now();
    loop {
        let t = export_task::Entity::find_by_id(task)
            .one(&state.db.conn)
            .await
            .unwrap()
            .unwrap();
        if t.claimed_by.is_some() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never claimed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.stop().await;
    let t = export_task::Entity::find_by_id(task)
        .one(&state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.status, "running", "stopped before it finished");
    assert_eq!(t.claimed_by, None, "the claim is given back");
    assert_eq!(t.claimed_until, None);
    assert_eq!(t.attempts, 0, "an orderly stop is not a failed attempt");

    // another instance takes it at once (no lease to wait out) and finishes it
    let other = server::startup::start_background(&state, &config);
    let started = Instant::now();
    let done = loop {
        let t = export_task::Entity::find_by_id(task)
            .one(&state.db.conn)
            .await
            .unwrap()
            .unwrap();
        if t.status != "running" {
            break t;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    other.stop().await;
    assert_eq!(done.status, "success", "{:?}", done.error);
    assert_eq!(done.record_count, 20_000);
}

/// Drain before stop: from SIGTERM on `/readyz` answers 503 with the reason while the instance
/// still answers everything else for `SWITCHBOARD_DRAIN_SECS`; then it stops as before.
#[tokio::test]
async fn sigterm_makes_readyz_unready_while_the_instance_still_serves_for_the_drain() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Drain", "drain-admin", "drain-hook-1")
        .await;
    let (mut child, base) =
        serve_binary(&app.config.database_url, &[("SWITCHBOARD_DRAIN_SECS", "3")]).await;
    let http = reqwest::Client::new();
    let url = c.message_url.replace(&app.base, &base);

    let term = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // unready soon after the signal, with the reason
    let mut unready_after = None;
    while term.elapsed() < Duration::from_secs(2) {
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        if r.status() == 503 {
            assert_eq!(
                r.text().await.unwrap(),
                "draining: this instance is stopping"
            );
            unready_after = Some(term.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let unready_after = unready_after.expect("/readyz stayed ready after SIGTERM");
    assert!(
        unready_after < Duration::from_millis(1000),
        "{unready_after:?}"
    );
    // and everything else is still served during the drain: health, pages, webhooks
    let mut served = 0;
    let mut i = 0;
    while term.elapsed() < Duration::from_millis(2500) {
        assert_eq!(
            http.get(format!("{base}/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let body = format!(
            r#"{{"results":[{{"messageId":"drain-{i}","from":"4915","message":{{"text":"still here"}}}}]}}"#
        );
        let r = http
            .post(&url)
            .header("AccountKey", "drain-hook-1")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a delivery during the drain");
        served += 1;
        i += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served >= 10, "{served}");
    // then it stops, on its own, after the drain
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            term.elapsed() < Duration::from_secs(20),
            "the server did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stopped_after = term.elapsed();
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(stopped_after >= Duration::from_secs(3), "{stopped_after:?}");
    assert!(log.contains("/readyz answers 503"), "{log}");
    // the drain's 503s are answers to the load balancer, not failures to log at every check
    assert!(!log.contains("response failed"), "{log}");
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "the listener is closed"
    );
}
