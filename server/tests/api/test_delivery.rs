//! "Send a test delivery" end to end (issue 26): the public URL goes through a reverse proxy
//! in this test (TLS with its own certificate, made at test time), which forwards to the
//! server, changes a header on the way, answers 502, or is gone; and where the public address
//! is plain http, does not resolve, or presents a certificate nobody trusts.

#![allow(clippy::unwrap_used)]

use crate::common::fake_provider::{Pki, tls_acceptor};
use crate::common::*;
use crate::rotation::edit;
use crate::webhooks::{World, world_on};
use rustls::pki_types::CertificateDer;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the proxy does with the next connection.
#[derive(Clone)]
enum Mode {
    /// Passes the bytes through to the server.
    Forward,
    /// Passes them through with `from` replaced by `to` (same length) in the request.
    Rewrite(&'static [u8], &'static [u8]),
    /// Answers 502 Bad Gateway, as a proxy whose backend is down.
    BadGateway,
}

struct Proxy {
    port: u16,
    ca: Vec<u8>,
    mode: Arc<Mutex<Mode>>,
    target: Arc<Mutex<Option<std::net::SocketAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A TLS-terminating reverse proxy on 127.0.0.1 for `localhost`, with its own CA.
    async fn start() -> Self {
        let pki = Pki::new("Switchboard Proxy Test CA");
        let leaf = pki.leaf("localhost", &["localhost", "127.0.0.1"]);
        let acceptor = tls_acceptor(&leaf);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(Mode::Forward));
        let target: Arc<Mutex<Option<std::net::SocketAddr>>> = Arc::new(Mutex::new(None));
        let (m, t) = (mode.clone(), target.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, mode, target) = (
                    acceptor.clone(),
                    m.lock().unwrap().clone(),
                    *t.lock().unwrap(),
                );
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    match mode {
                        Mode::BadGateway => {
                            let mut buf = [0u8; 4096];
                            let _ = tls.read(&mut buf).await;
                            let _ = tls
                                .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway")
                                .await;
                            let _ = tls.shutdown().await;
                        }
                        Mode::Forward => {
                            let Ok(mut up) = tokio::net::TcpStream::connect(target.unwrap()).await
                            else {
                                return;
                            };
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                        }
                        Mode::Rewrite(from, to) => {
                            let Ok(mut up) = tokio::net::TcpStream::connect(target.unwrap()).await
                            else {
                                return;
                            };
                            // the request (head and small body) arrives in the first reads
                            let mut request = vec![0u8; 64 * 1024];
                            let n = tls.read(&mut request).await.unwrap_or(0);
                            request.truncate(n);
                            if let Some(at) = request.windows(from.len()).position(|w| w == from) {
                                request[at..at + from.len()].copy_from_slice(to);
                            }
                            let _ = up.write_all(&request).await;
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                        }
                    }
                });
            }
        });
        Self {
            port,
            ca: pki.ca_der(),
            mode,
            target,
            task,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

/// `webhooks::world` on `app`, its twilio channel with an Auth Token: the administrator's
/// session and the channels (infobip, twilio, cloud-api).
async fn channels(app: TestApp) -> (World, String, Vec<(&'static str, i64)>) {
    let w = world_on(app).await;
    let a = w.app.session("alpha-admin", "alpha-password").await;
    let twilio = w.ids["twilio"];
    let r = edit(&w, &a, twilio, |draft| {
        draft["auth_token"] = json!("0123456789abcdef0123456789abcdef");
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids = ["infobip", "twilio", "cloud-api"]
        .into_iter()
        .map(|p| (p, w.ids[p]))
        .collect();
    (w, a, ids)
}

async fn test_delivery(app: &TestApp, cookie: &str, id: i64) -> Vec<Value> {
    let r = app
        .call(
            "send_test_delivery",
            &[("id", &id.to_string())],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_array().unwrap().clone()
}

fn all_ok(results: &[Value]) -> bool {
    !results.is_empty() && results.iter().all(|r| r["ok"] == true)
}

fn said(results: &[Value]) -> String {
    results
        .iter()
        .map(|r| r["summary"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn a_test_delivery_goes_through_the_proxy_and_says_where_it_stopped() {
    let proxy = Proxy::start().await;
    let app = spawn_app_with(Options {
        public_url: Some(format!("https://localhost:{}", proxy.port)),
        public_ca: vec![CertificateDer::from(proxy.ca.clone())],
        ..Default::default()
    })
    .await;
    *proxy.target.lock().unwrap() = Some(app.addr);
    let (w, a, ids) = channels(app).await;
    let app = &w.app;

    // through the proxy and TLS: each provider's deliveries, authenticated as it would, arrive
    for (provider, id) in &ids {
        let results = test_delivery(app, &a, *id).await;
        assert_eq!(results.len(), if *provider == "cloud-api" { 1 } else { 2 });
        assert!(all_ok(&results), "{provider}: {}", said(&results));
        assert!(
            said(&results).contains("Received and accepted"),
            "{}",
            said(&results)
        );
        assert!(
            said(&results).contains("ms there and back"),
            "{}",
            said(&results)
        );
    }
    // never traffic: nothing stored, the health untouched, marked on Activity
    let (_, infobip) = ids[0];
    use server::db::entities::{channel, webhook_delivery, webhook_event};
    assert_eq!(
        webhook_event::Entity::find()
            .count(&app.state.db.conn)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        webhook_delivery::Entity::find()
            .count(&app.state.db.conn)
            .await
            .unwrap(),
        0
    );
    let row = channel::Entity::find_by_id(infobip)
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.last_accepted_at, None);
    let activity = |cookie: String| async move {
        app.state.webhook_writer.flush().await;
        app.call_json(
            "get_channel_activity",
            json!({"id": infobip, "at": "First"}),
            Some(&cookie),
        )
        .await
        .json()
    };
    let act = activity(a.clone()).await;
    assert_eq!(act["test_deliveries"].as_array().unwrap().len(), 2);
    assert_eq!(act["events"].as_array().unwrap().len(), 0);

    // a proxy that changes the AccountKey on the way: Switchboard refused it, and says why
    proxy.set(Mode::Rewrite(b"infobip-hook-1", b"infobip-hook-X"));
    let results = test_delivery(app, &a, infobip).await;
    assert!(!all_ok(&results));
    assert!(
        said(&results).contains("It reached Switchboard, which refused it (HTTP 401): AccountKey does not match the Webhook Password"),
        "{}",
        said(&results)
    );
    // …and that refusal is the test's, not the channel's
    let act = activity(a.clone()).await;
    assert_eq!(act["refused"].as_array().unwrap().len(), 0, "{act}");
    let row = channel::Entity::find_by_id(infobip)
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.last_refused_at, None);

    // a test header this Switchboard did not seal (an outsider's) marks nothing: the refusal
    // is the channel's, as any
    let message_url = app
        .call(
            "get_channel_integration",
            &[("id", &infobip.to_string())],
            Some(&a),
        )
        .await
        .json()["message_url"]
        .as_str()
        .unwrap()
        .to_owned();
    // (one of the right length, and one far past the 256 characters a header is read to)
    for header in ["0".repeat(32), "A".repeat(10_000)] {
        let forged = app
            .http
            .post(format!(
                "http://{}{}",
                app.addr,
                url::Url::parse(&message_url).unwrap().path()
            ))
            .header("Content-Type", "application/json")
            .header("AccountKey", "wrong-key")
            .header("X-Switchboard-Test-Delivery", header)
            .body(r#"{"results":[]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status().as_u16(), 401);
    }
    let act = activity(a.clone()).await;
    let refused: u64 = act["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(refused, 2, "{act}");

    // a proxy whose backend is down answers 502
    proxy.set(Mode::BadGateway);
    let results = test_delivery(app, &a, infobip).await;
    assert!(
        said(&results).contains("The proxy in front of Switchboard answered HTTP 502"),
        "{}",
        said(&results)
    );
    // the proxy itself is down: nothing answers at the public address
    proxy.task.abort();
    // the aborted accept loop drops its listener at once
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let results = test_delivery(app, &a, infobip).await;
    assert!(
        said(&results).contains(&format!(
            "Nothing answers at the public address localhost:{}",
            proxy.port
        )),
        "{}",
        said(&results)
    );
    // the newest 20 are kept
    for _ in 0..10 {
        test_delivery(app, &a, infobip).await;
    }
    use server::db::entities::webhook_self_test;
    assert_eq!(
        webhook_self_test::Entity::find()
            .filter(webhook_self_test::Column::ChannelId.eq(infobip))
            .count(&app.state.db.conn)
            .await
            .unwrap(),
        20
    );
    // another tenant space cannot send one for this channel, nor can someone signed out
    let root = app.session("root", ROOT_PASSWORD).await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password")
        .await;
    let b = app.session("beta-admin", "beta-password").await;
    let r = app
        .call(
            "send_test_delivery",
            &[("id", &infobip.to_string())],
            Some(&b),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .call("send_test_delivery", &[("id", &infobip.to_string())], None)
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[tokio::test]
async fn an_untrusted_certificate_an_unknown_name_and_plain_http_are_named() {
    // the proxy's certificate, but this server was not told its CA
    let proxy = Proxy::start().await;
    let app = spawn_app_with(Options {
        public_url: Some(format!("https://localhost:{}", proxy.port)),
        ..Default::default()
    })
    .await;
    *proxy.target.lock().unwrap() = Some(app.addr);
    let (w, a, ids) = channels(app).await;
    let app = &w.app;
    let results = test_delivery(app, &a, ids[0].1).await;
    assert!(
        said(&results).contains(&format!(
            "The TLS certificate of the public address localhost:{} is not trusted",
            proxy.port
        )),
        "{}",
        said(&results)
    );
    // a name that does not resolve
    let app = spawn_app_with(Options {
        public_url: Some("https://switchboard.invalid".into()),
        ..Default::default()
    })
    .await;
    let (w, a, ids) = channels(app).await;
    let app = &w.app;
    let results = test_delivery(app, &a, ids[0].1).await;
    assert!(
        said(&results)
            .contains("The name switchboard.invalid of the public address does not resolve (DNS)"),
        "{}",
        said(&results)
    );
    // plain http: providers call only https
    let (w, a, ids) = channels(spawn_app().await).await;
    let app = &w.app;
    let results = test_delivery(app, &a, ids[0].1).await;
    assert!(
        said(&results).contains("providers call only https:// addresses"),
        "{}",
        said(&results)
    );
}
