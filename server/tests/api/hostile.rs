//! Hostile input against the running server, as an attacker would send it to a fresh one
//! (SPEC §5): every request is bounded, costs no more than its size, answers a clear status
//! and never panics.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use server::config::Limits;
use server::db::entities::{webhook_delivery, webhook_event};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1024 * 1024;

fn short_timeouts() -> Limits {
    Limits {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
        ..Limits::default()
    }
}

async fn events(app: &TestApp) -> u64 {
    webhook_event::Entity::find()
        .count(&app.state.db.conn)
        .await
        .unwrap()
}

async fn deliveries(app: &TestApp) -> u64 {
    webhook_delivery::Entity::find()
        .count(&app.state.db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn bodies_over_each_routes_limit_get_413_and_bodies_at_it_pass() {
    let app = spawn_app().await;
    // the routes that need a sign-in are judged for a signed-in caller (anyone else is
    // answered 401 before the body's size is looked at)
    let root = app.setup_admin().await;
    let post = |path: &str, len: usize, ct: &str| {
        app.http
            .post(format!("{}{path}", app.base))
            .header("Content-Type", ct.to_owned())
            .header("Cookie", root.clone())
            .body(vec![b'x'; len])
            .send()
    };
    for (path, limit_kib, ct) in [
        ("/api/list_channels", 256, "application/json"),
        ("/api/login", 256, "application/x-www-form-urlencoded"),
        (
            "/api/upload_certificate",
            136,
            "multipart/form-data; boundary=x",
        ),
        ("/login", 16, "application/x-www-form-urlencoded"),
    ] {
        let r = post(path, limit_kib * 1024 + 1, ct).await.unwrap();
        assert_eq!(r.status(), 413, "{path}");
        let body = r.text().await.unwrap();
        if path.starts_with("/api/") {
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&body).unwrap(),
                json!({"TooLarge": {"limit_kib": limit_kib}}),
                "{path}"
            );
        } else {
            assert!(body.contains(&format!("at most {limit_kib} KiB")), "{body}");
        }
        // at the limit the body reaches the handler (which finds it nonsense, not too large)
        let r = post(path, limit_kib * 1024, ct).await.unwrap();
        assert_ne!(r.status(), 413, "{path} at its limit");
    }
    // signed out, a server function that needs a sign-in reads nothing, whatever the size
    let r = app
        .http
        .post(format!("{}/api/list_channels", app.base))
        .header("Content-Type", "application/json")
        .body(vec![b'x'; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let c = app
        .infobip_channel(&root, "Acme", "acme-admin", "hook-password-1")
        .await;
    let big = app
        .http
        .post(&c.message_url)
        .header("AccountKey", "hook-password-1")
        .body(vec![b' '; MIB + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let at = app
        .http
        .post(&c.message_url)
        .header("AccountKey", "hook-password-1")
        .body([br#"{"results":[]}"#.as_slice(), &vec![b' '; MIB - 14]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(at.status(), 200, "1 MiB exactly is accepted");
}

#[tokio::test]
async fn forty_concurrent_wrong_passwords_are_at_most_ten_evaluations() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let answers = join_all((0..40).map(|_| app.login(ROOT_USER, "wrong-password"))).await;
    let evaluated = answers.iter().filter(|a| a.status == 401).count();
    let throttled = answers.iter().filter(|a| a.status == 429).count();
    assert!(evaluated <= 10, "{evaluated} passwords were checked");
    assert_eq!(evaluated + throttled, 40);
    assert!(
        answers
            .iter()
            .filter(|a| a.status == 429)
            .all(|a| a.headers.get("retry-after").is_some())
    );
}

#[tokio::test]
async fn a_right_password_does_not_reset_the_failures_before_it() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for round in 0..2 {
        for _ in 0..9 {
            let a = app.login(ROOT_USER, "wrong-password").await;
            if round == 0 {
                assert_eq!(a.status, 401);
            }
        }
        let a = app.login(ROOT_USER, ROOT_PASSWORD).await;
        if round == 0 {
            assert_eq!(a.status, 200, "the tenth attempt is checked");
        } else {
            assert_eq!(
                a.status, 429,
                "9 wrong, 1 right, 9 wrong: the window is full"
            );
        }
    }
}

#[tokio::test]
async fn sign_in_never_redirects_off_the_site_and_never_drops_the_connection() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Acme", "acme-admin", "acme-password")
        .await;
    let cases = [
        ("/\t/evil.test", "/config/channels"),
        ("/\n/evil.test", "/config/channels"),
        ("/\r\nSet-Cookie: x=1", "/config/channels"),
        ("//evil.test", "/config/channels"),
        ("/.//evil.test", "/config/channels"),
        ("/\\evil.test", "/config/channels"),
        ("https://evil.test/", "/config/channels"),
        ("/config/ous?tab=1", "/config/ous?tab=1"),
        ("/caf\u{e9}", "/caf%C3%A9"),
    ];
    for (next, expected) in cases {
        for accept in ["text/html", "application/json"] {
            let r = app
                .http
                .post(format!("{}/api/login", app.base))
                .header("Accept", accept)
                .form(&[
                    ("username", "acme-admin"),
                    ("password", "acme-password"),
                    ("next", next),
                ])
                .send()
                .await
                .unwrap_or_else(|e| panic!("{next:?}: the connection broke: {e}"));
            let location = r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            if accept == "text/html" {
                assert_eq!(r.status(), 302, "{next:?}");
            } else {
                assert_eq!(r.status(), 200, "{next:?}");
            }
            assert_eq!(location, expected, "{next:?} ({accept})");
        }
    }
}

#[tokio::test]
async fn a_nul_in_one_delivery_fails_nothing_and_no_other_tenants_delivery() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    let b = app
        .infobip_channel(&root, "Bravo", "bravo-admin", "bravo-hook-1")
        .await;
    app.call(
        "add_trust_prefix",
        &[("prefix", "https://api.twilio.com"), ("scope", "global")],
        Some(&root),
    )
    .await;
    let queue = app
        .call("list_skill_queues", &[], Some(&a.cookie))
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let twilio = app
        .call_json(
            "create_channel",
            json!({"draft": {"provider": "twilio", "name": "wa_twilio", "phone_number": "+14155238886", "api_key_sid": format!("SK{}", "a1".repeat(16)), "api_key_secret": "s", "base_url": "https://api.twilio.com", "account_sid": format!("AC{}", "0f".repeat(16)), "webhook_user": "hook", "webhook_password": "twilio-hook-1", "skill_queue_id": queue, "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]}}),
            Some(&a.cookie),
        )
        .await
        .json()
        .as_i64()
        .unwrap();
    let twilio_url = app
        .call(
            "get_channel_integration",
            &[("id", &twilio.to_string())],
            Some(&a.cookie),
        )
        .await
        .json()["message_url"]
        .as_str()
        .unwrap()
        .to_owned();

    let nul_json = br#"{"results":[{"messageId":"nul\u0000id","from":"49\u0000151","message":{"text":"a\u0000b"}}]}"#.to_vec();
    let clean =
        br#"{"results":[{"messageId":"clean-1","from":"4915","message":{"text":"hello"}}]}"#
            .to_vec();
    let nul_form = b"MessageSid=SM%00nul&From=whatsapp%3A%2B49%00&Body=x%00y".to_vec();
    // at the same moment, so the writer takes them into one transaction when it can
    let (r1, r2, r3) = tokio::join!(
        app.http
            .post(&a.message_url)
            .header("AccountKey", "alpha-hook-1")
            .body(nul_json.clone())
            .send(),
        app.http
            .post(&b.message_url)
            .header("AccountKey", "bravo-hook-1")
            .body(clean)
            .send(),
        app.http
            .post(&twilio_url)
            .basic_auth("hook", Some("twilio-hook-1"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(nul_form.clone())
            .send(),
    );
    assert_eq!(r1.unwrap().status(), 200);
    assert_eq!(r2.unwrap().status(), 200);
    assert_eq!(r3.unwrap().status(), 200);
    let stored = webhook_event::Entity::find()
        .filter(webhook_event::Column::ChannelId.eq(a.id))
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.provider_message_id, "nul\u{FFFD}id");
    assert_eq!(stored.text.as_deref(), Some("a\u{FFFD}b"));
    // the raw body is kept as the bytes that came
    let raw = webhook_delivery::Entity::find_by_id(stored.delivery_id.unwrap())
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.body, nul_json);
    let form_event = webhook_event::Entity::find()
        .filter(webhook_event::Column::ChannelId.eq(twilio))
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(form_event.text.as_deref(), Some("x\u{FFFD}y"));
    assert_eq!(
        webhook_event::Entity::find()
            .filter(webhook_event::Column::ChannelId.eq(b.id))
            .count(&app.state.db.conn)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_failing_delivery_in_a_batch_fails_alone() {
    use server::webhooks::writer::{Pending, write_all};
    use server::webhooks::{Delivery, parse};
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    let tenant = app.whoami(&c.cookie).await["tenant_id"].as_i64().unwrap();
    let event = |id: &str| parse::Event {
        kind: parse::Kind::Message,
        provider_message_id: id.into(),
        sender: "4915".into(),
        recipient: "4930".into(),
        text: Some("hi".into()),
        status: None,
    };
    let delivery = |id: &str| Delivery {
        endpoint: "message",
        content_type: "application/json".into(),
        body: axum::body::Bytes::from_static(b"{}"),
        events: vec![event(id)],
        credential: None,
        signed_as: None,
    };
    // a channel that does not exist (deleted meanwhile): its insert fails on the foreign key
    let culprit = Pending {
        channel_id: i64::MAX,
        tenant_id: tenant,
        delivery: delivery("culprit"),
    };
    let good = Pending {
        channel_id: c.id,
        tenant_id: tenant,
        delivery: delivery("good-1"),
    };
    let results = write_all(&app.state.db.conn, &[&culprit, &good]).await;
    assert_eq!(results, vec![false, true]);
    assert_eq!(events(&app).await, 1);
    assert_eq!(deliveries(&app).await, 1);
}

#[tokio::test]
async fn five_thousand_events_in_one_delivery_are_refused_in_moments() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    let results = |n: usize| {
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"messageId":"m-{i}","from":"4915","message":{{"text":"{}"}}}}"#,
                    "x".repeat(60)
                )
            })
            .collect();
        format!(r#"{{"results":[{}]}}"#, items.join(","))
    };
    let body = results(5_000);
    assert!(body.len() < MIB);
    let started = Instant::now();
    let r = app
        .http
        .post(&c.message_url)
        .header("AccountKey", "alpha-hook-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("at most 1,000"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(events(&app).await, 0);
    assert_eq!(deliveries(&app).await, 0);
    // at the cap: accepted, every event stored, the body stored once
    let r = app
        .http
        .post(&c.message_url)
        .header("AccountKey", "alpha-hook-1")
        .body(results(1_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(events(&app).await, 1_000);
    assert_eq!(deliveries(&app).await, 1);
}

#[tokio::test]
async fn slow_senders_are_cut_off() {
    let app = spawn_app_with(Options {
        limits: Some(short_timeouts()),
        ..Options::default()
    })
    .await;
    // a body that trickles in: 408 after the body timeout
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    wr.write_all(
        format!(
            "POST /api/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
            app.addr
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..50 {
            if wr.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), rd.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    trickle.abort();

    // a head that never ends, and a connection that says nothing: closed after the head timeout
    for head in ["POST /api/login HTTP/1.1\r\nHost: x\r\nX-Slow: ", ""] {
        let started = Instant::now();
        let a = raw_exchange(app.addr, head, b"", Duration::from_secs(5)).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{head:?}: {:?}",
            started.elapsed()
        );
        assert!(a.status == 0 || a.status == 408, "{head:?}: {}", a.text);
    }
}

#[tokio::test]
async fn requests_in_flight_per_address_are_capped_on_public_routes() {
    let app = spawn_app_with(Options {
        limits: Some(Limits {
            public_requests_per_client: 2,
            body_read: Duration::from_secs(10),
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    // two sign-ins whose bodies never come hold both places of 127.0.0.1
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        s.write_all(
            format!(
                "POST /api/login HTTP/1.1\r\nHost: {}\r\nContent-Length: 50\r\n\r\n",
                app.addr
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = app.login("someone", "wrong-password").await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(a.json(), json!("Busy"));
    assert_eq!(a.headers.get("retry-after").unwrap(), "1");
    // a route that needs a session is not capped this way
    let a = app.call("list_tenants", &[], None).await;
    assert_eq!(a.status, 401);
    drop(held);
    let mut status = 0;
    for _ in 0..50 {
        status = app.login("someone", "wrong-password").await.status;
        if status != 429 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 401, "the places are given back");
}

#[tokio::test]
async fn a_request_not_answered_in_time_gets_503() {
    let app = spawn_app_with(Options {
        limits: Some(Limits {
            // shorter than one password hash
            request: Duration::from_millis(1),
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    let a = app.login("someone", "some-password").await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.json(), json!("Unavailable"));
    assert_eq!(a.headers.get("retry-after").unwrap(), "1");
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once() {
    let app = spawn_app_with(Options {
        limits: Some(Limits {
            connections: 2,
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    let one = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let two = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let a = raw_exchange(
        app.addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(a.status, 0, "{}", a.text);
    assert!(started.elapsed() < Duration::from_secs(1));
    drop((one, two));
    let mut status = 0;
    for _ in 0..50 {
        status = raw_exchange(
            app.addr,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"",
            Duration::from_secs(2),
        )
        .await
        .status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}

/// Any body, of any shape, authenticated as each provider would: the answer is one of SPEC §4's.
#[tokio::test]
async fn webhook_bodies_of_any_shape_answer_only_the_specified_statuses() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    use server::webhooks::auth::hub_signature_of;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    for prefix in ["https://api.twilio.com", "https://graph.facebook.com"] {
        app.call(
            "add_trust_prefix",
            &[("prefix", prefix), ("scope", "global")],
            Some(&root),
        )
        .await;
    }
    let queue = app
        .call("list_skill_queues", &[], Some(&c.cookie))
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let base = json!({"skill_queue_id": queue, "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]});
    let mut urls = Vec::new();
    for draft in [
        json!({"provider": "twilio", "name": "wa_twilio", "phone_number": "+14155238886", "api_key_sid": format!("SK{}", "a1".repeat(16)), "api_key_secret": "s", "base_url": "https://api.twilio.com", "account_sid": format!("AC{}", "0f".repeat(16)), "webhook_user": "hook", "webhook_password": "twilio-hook-1"}),
        json!({"provider": "cloud-api", "name": "wa_cloud", "app_key": "123", "app_secret": "app_secret_123", "phone_number": "15550001111", "base_url": "https://graph.facebook.com", "access_token": "t", "token_valid_until": "2099-01-01"}),
    ] {
        let mut d = base.clone();
        for (k, v) in draft.as_object().unwrap() {
            d[k] = v.clone();
        }
        let id = app
            .call_json("create_channel", json!({"draft": d}), Some(&c.cookie))
            .await
            .json();
        let i = app
            .call(
                "get_channel_integration",
                &[("id", &id.to_string())],
                Some(&c.cookie),
            )
            .await
            .json();
        urls.push(
            i["message_url"]
                .as_str()
                .or(i["callback_url"].as_str())
                .unwrap()
                .to_owned(),
        );
    }
    let (twilio_url, cloud_url) = (urls[0].clone(), urls[1].clone());

    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "\\{\"results\":\\[(\\{\"messageId\":\"[a-z0-9\\\\u0000]{0,6}\",\"status\":\\{\"groupName\":\"[A-Z]{0,8}\"\\}\\},?){0,4}\\]\\}"
            .prop_map(String::into_bytes),
        "\\{\"object\":\"whatsapp_business_account\",\"entry\":\\[\\{\"changes\":\\[\\{\"value\":\\{\"(messages|statuses)\":\\[(\\{\"id\":\"[a-z0-9]{0,4}\",\"status\":\"[a-z]{0,5}\"\\},?){0,3}\\]\\}\\}\\]\\}\\]\\}"
            .prop_map(String::into_bytes),
        "(MessageSid=[A-Z0-9%]{0,6}&?|MessageStatus=[a-z%]{0,6}&?|Body=[a-z%0-9]{0,8}&?){0,4}".prop_map(String::into_bytes),
        ".{0,64}".prop_map(String::into_bytes),
    ];
    let mut runner = TestRunner::new(Config::with_cases(96));
    let mut seen = std::collections::BTreeMap::new();
    for case in 0..96 {
        let body = bodies.new_tree(&mut runner).unwrap().current();
        let honest = case % 7 != 0;
        let req = match case % 4 {
            0 => app
                .http
                .post(&c.message_url)
                .header("AccountKey", if honest { "alpha-hook-1" } else { "wrong" }),
            1 => app
                .http
                .post(&c.report_url)
                .header("AccountKey", if honest { "alpha-hook-1" } else { "wrong" }),
            2 => app
                .http
                .post(&twilio_url)
                .basic_auth("hook", Some(if honest { "twilio-hook-1" } else { "wrong" })),
            _ => app.http.post(&cloud_url).header(
                "X-Hub-Signature-256",
                hub_signature_of(if honest { "app_secret_123" } else { "wrong" }, &body),
            ),
        };
        let status = req
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(
            [200, 400, 401, 404, 413].contains(&status),
            "{status} for case {case}: {:?}",
            String::from_utf8_lossy(&body)
        );
        *seen.entry(status).or_insert(0) += 1;
    }
    for status in [200, 400, 401] {
        assert!(seen.contains_key(&status), "{seen:?}");
    }
}

/// The writer's queue is bounded by bytes: with the writer held up, a delivery that finds no
/// room is refused (503 for the provider), and the one waiting is still committed.
#[tokio::test]
async fn the_webhook_writer_queue_is_bounded_by_bytes() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
    use server::webhooks::{Delivery, StoreError, WebhookWriter, parse};
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    let tenant = app.whoami(&c.cookie).await["tenant_id"].as_i64().unwrap();
    let writer = WebhookWriter::spawn_with_room(
        app.state.db.conn.clone(),
        16 * 1024,
        server::metrics::Metrics::off(),
    );
    let delivery = |id: &str| Delivery {
        endpoint: "message",
        content_type: "application/json".into(),
        body: axum::body::Bytes::from(vec![b' '; 10 * 1024]),
        events: vec![parse::Event {
            kind: parse::Kind::Message,
            provider_message_id: id.into(),
            sender: String::new(),
            recipient: String::new(),
            text: None,
            status: None,
        }],
        credential: None,
        signed_as: None,
    };
    // hold the database's write lock from another connection: the writer waits
    let other = server::db::Db::connect(&app.config.database_url)
        .await
        .unwrap();
    let blocker = other.conn.begin().await.unwrap();
    match blocker.get_database_backend() {
        DatabaseBackend::Postgres => {
            blocker
                .execute_unprepared("LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE")
                .await
                .unwrap();
        }
        _ => {
            blocker
                .execute_unprepared("INSERT INTO setup_tokens (token_digest, created_at) VALUES ('x', CURRENT_TIMESTAMP)")
                .await
                .unwrap();
        }
    }
    let first = tokio::spawn({
        let writer = writer.clone();
        async move { writer.store(c.id, tenant, delivery("first")).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let second = writer.store(c.id, tenant, delivery("second")).await;
    assert_eq!(second, Err(StoreError::Busy));
    assert!(started.elapsed() < Duration::from_secs(4));
    blocker.rollback().await.unwrap();
    assert_eq!(
        first.await.unwrap(),
        Ok(()),
        "the delivery that waited is committed"
    );
    assert_eq!(events(&app).await, 1);
}

#[tokio::test]
async fn request_heads_over_their_limits_are_refused() {
    let app = spawn_app().await;
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let a = raw_exchange(app.addr, &huge, b"", Duration::from_secs(5)).await;
    assert_eq!(a.status, 431, "{}", a.text);
    let many: String = (0..101).map(|i| format!("X-H{i}: v\r\n")).collect();
    let a = raw_exchange(
        app.addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n"),
        b"",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(a.status, 431, "{}", a.text);
    let a = raw_exchange(
        app.addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(a.status, 200, "a normal head passes");
}

/// Failures are counted per username too: spreading guesses over many addresses does not help.
#[tokio::test]
async fn guesses_at_one_username_from_many_addresses_are_throttled() {
    let app = spawn_app_with(Options {
        trust_forwarded_for: true,
        ..Options::default()
    })
    .await;
    app.setup_admin().await;
    let login_from = |i: u8, password: &'static str| {
        app.http
            .post(format!("{}/api/login", app.base))
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .form(&[("username", "ROOT"), ("password", password)])
            .send()
    };
    for i in 0..10 {
        assert_eq!(login_from(i, "wrong-password").await.unwrap().status(), 401);
    }
    assert_eq!(
        login_from(200, "wrong-password").await.unwrap().status(),
        429
    );
    assert_eq!(login_from(201, ROOT_PASSWORD).await.unwrap().status(), 429);
}

/// Starts a request declaring a body of `declared` bytes and sends `sent` of them; answers its
/// connection and what the server said within half a second (empty: it awaits the rest).
async fn held_body(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    declared: usize,
    sent: usize,
) -> (tokio::net::TcpStream, String) {
    let mut held = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    held.write_all(
        format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{cookie}Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n",
            app.addr,
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    held.write_all(&vec![b' '; sent]).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_millis(500), held.read(&mut answer))
        .await
        .map_or(0, |r| r.unwrap_or(0));
    (held, String::from_utf8_lossy(&answer[..n]).into_owned())
}

/// The bodies being read at once stay within a byte budget of two pools, one for the routes
/// anyone may call and one for signed-in callers, taken as the bytes arrive; in each, a client
/// address or a tenant space reading several bodies holds at most a share. So a caller who
/// never signed in holds nothing a signed-in one needs, and one tenant space holds nothing
/// another needs.
#[tokio::test]
async fn bodies_being_read_at_once_stay_within_their_budget_shared_fairly() {
    // 64 KiB: 32 KiB for public routes (4 KiB an address), 32 KiB for signed-in callers
    // (8 KiB a tenant space); slow senders are not cut off while the test looks
    let app = spawn_app_with(Options {
        limits: Some(Limits {
            body_budget: 64 * 1024,
            body_read: Duration::from_secs(30),
            body_grace: Duration::from_secs(30),
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let b = app.session("beta-admin", "beta-password1").await;
    let call = |cookie: &str| {
        app.http
            .post(format!("{}/api/list_channels", app.base))
            .header("Content-Type", "application/json")
            .header("Cookie", cookie.to_owned())
            .body(vec![b' '; 6 * 1024])
            .send()
    };

    // never signed in: refused before anything is read or held
    let (_anonymous, answer) = held_body(&app, "/api/list_channels", None, 60 * 1024, 1024).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // a declared body that does not come holds nothing
    let (_declared, answer) = held_body(
        &app,
        "/social/on/whatsapp/infobip/message/k",
        None,
        30 * 1024,
        0,
    )
    .await;
    assert_eq!(answer, "", "the webhook's body is awaited");
    assert_eq!(call(&a).await.unwrap().status(), 400);
    // 30 KiB of a webhook body that stalls holds 30 KiB of the public pool: signed-in
    // callers are not touched by it, its address gets no more
    let (_webhook, answer) = held_body(
        &app,
        "/social/on/whatsapp/infobip/message/k",
        None,
        31 * 1024,
        30 * 1024,
    )
    .await;
    assert_eq!(answer, "", "the webhook's body is awaited");
    let r = call(&a).await.unwrap();
    assert_eq!(
        r.status(),
        400,
        "room for Alpha: the body is read (and found wanting)"
    );
    let r = app
        .http
        .post(format!("{}/api/login", app.base))
        .body(vec![b' '; 2 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "the address holds its share");
    assert_eq!(r.headers().get("retry-after").unwrap(), "1");

    // Alpha holds 7 KiB of a body: its next 6 KiB is over its share, Beta's is not
    let (alpha, answer) =
        held_body(&app, "/api/list_channels", Some(&a), 12 * 1024, 7 * 1024).await;
    assert_eq!(answer, "");
    assert_eq!(call(&a).await.unwrap().status(), 503);
    assert_eq!(call(&b).await.unwrap().status(), 400);
    // a request without a body needs no room
    let r = app.call("current_user", &[], Some(&a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // given back, Alpha has room again
    drop(alpha);
    let mut status = 0;
    for _ in 0..50 {
        status = call(&a).await.unwrap().status().as_u16();
        if status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 400, "the room is given back");
}

/// A body that stalls is cut off once its grace has passed (408), not after the whole read
/// time, and gives its room back.
#[tokio::test]
async fn a_body_that_stalls_is_cut_off_early() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let started = Instant::now();
    let (mut held, _) = held_body(&app, "/api/list_channels", Some(&root), 200 * 1024, 1024).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(8), held.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "cut off after {took:?}, not after the 10 s read time"
    );
}

#[tokio::test]
async fn connections_per_peer_address_are_capped() {
    let app = spawn_app_with(Options {
        limits: Some(Limits {
            connections_per_peer: 2,
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    let one = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let two = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = raw_exchange(
        app.addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        a.status, 0,
        "a third connection from 127.0.0.1 is closed: {}",
        a.text
    );
    drop((one, two));
    let mut status = 0;
    for _ in 0..50 {
        status = raw_exchange(
            app.addr,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"",
            Duration::from_secs(2),
        )
        .await
        .status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}

/// Guesses at an account from elsewhere do not lock its owner out: the owner's browser signed
/// in before and holds a device cookie.
#[tokio::test]
async fn the_owners_browser_is_not_locked_out_by_guesses_at_the_account() {
    let app = spawn_app_with(Options {
        trust_forwarded_for: true,
        ..Options::default()
    })
    .await;
    app.setup_admin().await;
    let login = |ip: &'static str, password: &'static str, cookie: Option<String>| {
        let mut req = app
            .http
            .post(format!("{}/api/login", app.base))
            .header("X-Forwarded-For", ip)
            .form(&[("username", ROOT_USER), ("password", password)]);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send()
    };
    let first = login("203.0.113.1", ROOT_PASSWORD, None).await.unwrap();
    assert_eq!(first.status(), 200);
    let device = device_cookie_line(first.headers());
    assert!(
        device.contains("HttpOnly") && device.contains("SameSite=Lax"),
        "{device}"
    );
    // honoured for 30 days, as long as it lives
    assert!(device.contains("Max-Age=2592000"), "{device}");
    assert!(
        first
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("switchboard_session=")),
        "the session cookie is still set beside it"
    );
    let device = device.split(';').next().unwrap().to_owned();
    for i in 0..10 {
        let ip: &'static str = Box::leak(format!("198.51.100.{i}").into_boxed_str());
        assert_eq!(
            login(ip, "wrong-password", None).await.unwrap().status(),
            401
        );
    }
    // the account is held back for everyone else...
    assert_eq!(
        login("203.0.113.2", ROOT_PASSWORD, None)
            .await
            .unwrap()
            .status(),
        429
    );
    assert_eq!(
        login(
            "203.0.113.2",
            ROOT_PASSWORD,
            Some("switchboard_device=00".into())
        )
        .await
        .unwrap()
        .status(),
        429
    );
    // ...but not for the browser that signed in before
    assert_eq!(
        login("203.0.113.1", ROOT_PASSWORD, Some(device))
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Garbage to every server function, signed in or not: a 4xx that names no internals, never a
/// 500 (which would mean bad input reached somewhere it should not).
#[tokio::test]
async fn garbage_to_any_server_function_is_a_client_error() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    let endpoints = [
        "current_user",
        "login",
        "logout",
        "setup_state",
        "complete_setup",
        "list_certificates",
        "upload_certificate",
        "delete_certificate",
        "list_channels",
        "get_channel_options",
        "create_channel",
        "get_channel",
        "update_channel",
        "delete_channel",
        "get_channel_integration",
        "generate_scenario_key",
        "get_channel_activity",
        "start_export",
        "list_exports",
        "list_ous",
        "create_ou",
        "delete_ou",
        "list_skill_queues",
        "create_skill_queue",
        "delete_skill_queue",
        "get_service_time",
        "save_weekdays",
        "add_non_working_date",
        "remove_non_working_date",
        "list_tenants",
        "create_tenant",
        "reset_admin_password",
        "set_tenant_disabled",
        "list_trustlist",
        "add_trust_prefix",
        "remove_trust_prefix",
    ];
    let bodies: [(&str, &[u8]); 5] = [
        ("application/json", b"{\"id\": \"x\", \"draft\": 7"),
        ("application/json", b"\x00\xff\xfe"),
        (
            "application/x-www-form-urlencoded",
            b"id=%00&name=%ZZ&&==&page=-1",
        ),
        (
            "application/x-www-form-urlencoded",
            b"id=99999999999999999999999",
        ),
        (
            "multipart/form-data; boundary=zz",
            b"--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx",
        ),
    ];
    for endpoint in endpoints {
        for cookie in [None, Some(root.as_str()), Some(c.cookie.as_str())] {
            for (ct, body) in bodies {
                let mut req = app
                    .http
                    .post(format!("{}/api/{endpoint}", app.base))
                    .header("Content-Type", ct)
                    .header("Accept", "application/json")
                    .body(body.to_vec());
                if let Some(cookie) = cookie {
                    req = req.header("Cookie", cookie);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                let text = r.text().await.unwrap();
                assert!(
                    (400..500).contains(&status) || status == 200,
                    "{endpoint} {ct} {:?}: {status} {text}",
                    String::from_utf8_lossy(body)
                );
                assert!(!text.to_lowercase().contains("sql"), "{endpoint}: {text}");
            }
        }
    }
}

#[tokio::test]
async fn odd_page_paths_are_never_a_server_error() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    for path in [
        "/config/channels/%00/edit",
        "/config/channels/99999999999999999999/edit",
        "/config/channels/-1/activity?page=0",
        "/config/channels/1/activity?page=99999999999",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/pkg/..%2f..%2fCargo.toml",
        "/login?next=%0a%0d",
        "/setup?token=%00",
        "/social/on/whatsapp/infobip/message/%00",
        "/config/exports/abc/download",
    ] {
        for cookie in [None, Some(c.cookie.as_str())] {
            let a = app.get(path, cookie).await;
            assert!(a.status < 500, "{path}: {}", a.status);
            assert!(!a.body.contains("Cargo"), "{path}");
        }
    }
}

/// The device cookie holds on another instance, and after a restart: its key comes from the
/// master key, not from the process. Guesses through a second instance hold the account
/// back there; the owner's browser, which signed in through the first, still gets in.
#[tokio::test]
async fn the_device_cookie_of_one_instance_is_known_to_another() {
    let options = || Options {
        trust_forwarded_for: true,
        ..Options::default()
    };
    let first = spawn_app_with(options()).await;
    first.setup_admin().await;
    let login = |base: String, ip: &'static str, password: &'static str, cookie: Option<String>| {
        let http = first.http.clone();
        async move {
            let mut req = http
                .post(format!("{base}/api/login"))
                .header("X-Forwarded-For", ip)
                .form(&[("username", ROOT_USER), ("password", password)]);
            if let Some(c) = cookie {
                req = req.header("Cookie", c);
            }
            req.send().await.unwrap()
        }
    };
    let signed_in = login(first.base.clone(), "203.0.113.1", ROOT_PASSWORD, None).await;
    assert_eq!(signed_in.status(), 200);
    let device = device_cookie_line(signed_in.headers())
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // a second instance on the same database with the same master key (the first goes on)
    let http = first.http.clone();
    let TestApp { db, config, .. } = first;
    let second = spawn_on_with(db, config.database_url.clone(), options()).await;
    let second_base = second.base.clone();
    for i in 0..10 {
        let ip: &'static str = Box::leak(format!("198.51.100.{i}").into_boxed_str());
        let wrong = http
            .post(format!("{second_base}/api/login"))
            .header("X-Forwarded-For", ip)
            .form(&[("username", ROOT_USER), ("password", "wrong-password")])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
    }
    let held_back = http
        .post(format!("{second_base}/api/login"))
        .header("X-Forwarded-For", "203.0.113.2")
        .form(&[("username", ROOT_USER), ("password", ROOT_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(held_back.status(), 429, "the account is held back there");
    let owner = http
        .post(format!("{second_base}/api/login"))
        .header("X-Forwarded-For", "203.0.113.1")
        .header("Cookie", device)
        .form(&[("username", ROOT_USER), ("password", ROOT_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        owner.status(),
        200,
        "the first instance's device cookie is known"
    );
}
