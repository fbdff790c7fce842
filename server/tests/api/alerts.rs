//! Alerts: the settings (checked, per tenant space, the signing secret shown once and never
//! again), and alerts reaching a real SMTP server (Debian's `python3-aiosmtpd`, STARTTLS with
//! a certificate made at test time) and an HTTPS webhook (the fake provider's `/alerts`, its
//! signature checked here with an HMAC computed independently) — once per transition to
//! Failing and back, once per certificate threshold and digest day, not again after a
//! restart, retried after a failure.

#![allow(clippy::unwrap_used)]

use crate::common::fake_provider::{self, FakeProvider, Pki};
use crate::common::{MadeChannel, TestApp, spawn_app, spawn_app_with};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use server::db::entities::{alert, alert_send, channel};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A real SMTP server that requires STARTTLS, keeping what it receives in a Maildir.
struct Smtp {
    child: std::process::Child,
    port: u16,
    maildir: PathBuf,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> &'static str {
    // Debian's interpreter, whose packages hold aiosmtpd (another python3 may be first on PATH)
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

async fn smtp() -> Smtp {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("Test Mail CA");
    let leaf = pki.leaf("mail.test", &["127.0.0.1", "localhost"]);
    let (cert, key, ca_file) = (
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        dir.path().join("ca.pem"),
    );
    std::fs::write(&cert, &leaf.pem).unwrap();
    std::fs::write(&key, &leaf.key_pem).unwrap();
    std::fs::write(&ca_file, pki.ca_pem()).unwrap();
    let maildir = dir.path().join("mail");
    let port = crate::common::free_port();
    #[allow(clippy::zombie_processes)] // waited for by `Smtp`'s drop
    let child = std::process::Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .arg("--tlscert")
        .arg(&cert)
        .arg("--tlskey")
        .arg(&key)
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd (apt-get install python3-aiosmtpd)");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Smtp {
                child,
                port,
                maildir,
                ca_file,
                _dir: dir,
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aiosmtpd did not start on {port}");
}

/// Quoted-printable undone (lettre encodes long lines so).
fn unquote(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

impl Smtp {
    /// Every message received: (its To, its Subject, its body), oldest first.
    fn messages(&self) -> Vec<(String, String, String)> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| {
                let raw = std::fs::read_to_string(p).unwrap();
                let (head, body) = raw
                    .split_once("\n\n")
                    .or_else(|| raw.split_once("\r\n\r\n"))
                    .unwrap();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(name))
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                };
                (header("To:"), header("Subject:"), unquote(body))
            })
            .collect()
    }
}

/// Waits up to 20 s until `ready` holds.
async fn eventually(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..400 {
        if ready() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 20 s: {what}");
}

/// HMAC-SHA256 of `t.body` with `secret`, as a receiver checks it.
fn verify(signature: &str, secret: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let Ok(expected) = hex::decode(v1) else {
        return false;
    };
    mac.verify_slice(&expected).is_ok()
}

async fn save(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> crate::common::Answer {
    app.call("save_alerts", form, Some(cookie)).await
}

#[tokio::test]
async fn settings_are_checked_kept_per_tenant_space_and_the_secret_shown_once() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    let b = app
        .infobip_channel(&root, "Beta", "beta-admin", "hook-beta")
        .await;
    let r = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", "https://hooks.example.com/"),
                ("scope", "global"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // each field's own error, nothing saved
    for (field, value, message) in [
        ("emails", "ops.example.com", "has no @"),
        ("webhook_url", "http://hooks.example.com/a", "https://"),
        (
            "webhook_url",
            "https://elsewhere.example.org/a",
            "Not on the address trustlist",
        ),
        (
            "trust_certificate_id",
            "abc",
            "Choose a certificate from the list",
        ),
        ("trust_certificate_id", "999999", "no longer exists"),
    ] {
        let mut form = vec![
            ("emails", "ops@example.com"),
            ("webhook_url", ""),
            ("trust_certificate_id", ""),
        ];
        form.retain(|(f, _)| *f != field);
        form.push((field, value));
        let r = save(&app, &a.cookie, &form).await;
        assert_eq!(r.status, 422, "{field}={value}: {}", r.body);
        assert!(
            r.body.contains(message) && r.body.contains(field),
            "{field}: {}",
            r.body
        );
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("a{i}@example.com")).collect();
    let r = save(
        &app,
        &a.cookie,
        &[
            ("emails", &eleven.join("\n")),
            ("webhook_url", ""),
            ("trust_certificate_id", ""),
        ],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("At most 10 addresses"), "{}", r.body);
    let settings = app.call("get_alerts", &[], Some(&a.cookie)).await.json();
    assert_eq!(settings["emails"], serde_json::json!([]));

    // a webhook's first save makes its secret, shown once
    let form = [
        (
            "emails",
            "ops@example.com\nNight@Example.com, ops@EXAMPLE.com",
        ),
        ("webhook_url", "https://hooks.example.com/switchboard"),
        ("trust_certificate_id", ""),
        ("digest", "on"),
    ];
    let r = save(&app, &a.cookie, &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("sbwhsec_") && secret.len() >= 8 + 64,
        "{secret}"
    );
    let settings = app.call("get_alerts", &[], Some(&a.cookie)).await;
    assert!(!settings.body.contains(&secret));
    let s = settings.json();
    assert_eq!(
        s["emails"],
        serde_json::json!(["ops@example.com", "Night@Example.com"])
    );
    assert_eq!(s["has_secret"], true);
    assert_eq!(s["digest"], true);
    // saved again: the same secret, not shown
    let again = save(&app, &a.cookie, &form).await.json();
    assert_eq!(again["secret"], Value::Null);
    // a new one on request, shown once, another value
    let r = app.call("new_alert_secret", &[], Some(&a.cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let newer = r.json().as_str().unwrap().to_owned();
    assert_ne!(newer, secret);

    // another tenant space sees none of it, and cannot send a test alert with nowhere to go
    let other = app.call("get_alerts", &[], Some(&b.cookie)).await.json();
    assert_eq!(other["emails"], serde_json::json!([]));
    assert_eq!(other["webhook_url"], Value::Null);
    let r = app.call("send_test_alert", &[], Some(&b.cookie)).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Add an e-mail address or a webhook URL"),
        "{}",
        r.body
    );
    let r = app.call("new_alert_secret", &[], Some(&b.cookie)).await;
    assert!(r.body.contains("Save a webhook URL first"), "{}", r.body);
    // the system administrator has no tenant space's alerts
    assert_eq!(app.call("get_alerts", &[], Some(&root)).await.status, 403);

    // the audit log says what changed, never a secret
    let log = app
        .call_json(
            "list_tenant_audit",
            serde_json::json!({"filter": {"object": "alerts"}}),
            Some(&a.cookie),
        )
        .await;
    assert_eq!(log.status, 200, "{}", log.body);
    assert!(log.body.contains("Alert settings saved"), "{}", log.body);
    assert!(
        log.body.contains("Alert signing secret changed"),
        "{}",
        log.body
    );
    assert!(!log.body.contains(&secret) && !log.body.contains(&newer));
    let stored: Vec<String> = server::db::entities::audit_entry::Entity::find()
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.changes)
        .collect();
    assert!(
        stored
            .iter()
            .all(|c| !c.contains(&secret) && !c.contains(&newer))
    );
    assert!(stored.iter().any(|c| c.contains("Signing secret")));
    let _ = a.id;
}

/// The tenant space of `a` sends its alerts to `smtp` and to `fake`'s `/alerts` (trusting the
/// fake's CA): answers the webhook's secret.
async fn alerts_to(
    app: &TestApp,
    root: &str,
    a: &MadeChannel,
    fake: &FakeProvider,
    digest: bool,
) -> String {
    let r = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", &format!("{}/", fake.base)),
                ("scope", "global"),
                ("allow_private", "on"),
            ],
            Some(root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .upload_certificate(
            &a.cookie,
            "Alert receiver CA",
            "trust",
            fake.pki.ca_pem().into_bytes(),
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ca = r.json().as_i64().unwrap().to_string();
    let mut form = vec![
        ("emails", "ops@example.com".to_owned()),
        ("webhook_url", format!("{}/alerts", fake.base)),
        ("trust_certificate_id", ca),
    ];
    if digest {
        form.push(("digest", "on".into()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = save(app, &a.cookie, &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["secret"].as_str().unwrap().to_owned()
}

/// The settings of `alerts_to` again (its certificate already uploaded: the first one).
async fn alerts_to_again(app: &TestApp, a: &MadeChannel, fake: &FakeProvider) {
    let list = app
        .call("list_certificates", &[], Some(&a.cookie))
        .await
        .json();
    let ca = list[0]["id"].to_string();
    let r = save(
        app,
        &a.cookie,
        &[
            ("emails", "ops@example.com"),
            ("webhook_url", &format!("{}/alerts", fake.base)),
            ("trust_certificate_id", &ca),
            ("digest", "on"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn deliver(url: &str, key: &str, id: &str) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("AccountKey", key)
        .header("Content-Type", "application/json")
        .body(format!(
            r#"{{"results":[{{"messageId":"{id}","from":"4915100000001","to":"4915112345678","message":{{"type":"TEXT","text":"hi"}}}}]}}"#
        ))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn health(app: &TestApp, id: i64) -> i16 {
    channel::Entity::find_by_id(id)
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap()
        .health
}

#[tokio::test]
async fn a_failing_channel_and_its_recovery_reach_mail_and_the_signed_webhook_once() {
    let mail = smtp().await;
    let fake = fake_provider::start(fake_provider::FakeConfig::default()).await;
    let app = spawn_app_with(crate::common::Options {
        smtp: Some(server::config::SmtpConfig {
            url: format!("smtp://127.0.0.1:{}", mail.port),
            from: "alerts@switchboard.test".into(),
            ca_file: Some(mail.ca_file.clone()),
        }),
        ..Default::default()
    })
    .await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    let secret = alerts_to(&app, &root, &a, &fake, false).await;
    assert_eq!(
        app.call("get_alerts", &[], Some(&a.cookie)).await.json()["email_ready"],
        true
    );

    // accepted, then refused: Failing
    assert_eq!(deliver(&a.message_url, "hook-alpha", "m-1").await, 200);
    assert_eq!(deliver(&a.message_url, "wrong-key", "m-2").await, 401);
    app.state.webhook_writer.flush().await;
    assert_eq!(health(&app, a.id).await, 2);
    eventually("the failing alert by mail and webhook", || {
        mail.messages().len() == 1 && fake.alerts().len() == 1
    })
    .await;
    let (to, subject, body) = mail.messages().remove(0);
    assert_eq!(to, "ops@example.com");
    assert_eq!(subject, "[Switchboard] wa_infobip is failing");
    let activity = format!("{}/config/channels/{}/activity", app.base, a.id);
    assert!(body.contains("The last delivery was refused"), "{body}");
    assert!(
        body.contains(&format!("See the refused deliveries: {activity}")),
        "{body}"
    );
    let hook = fake.alerts().remove(0);
    assert!(
        verify(&hook.signature, &secret, &hook.body),
        "{}",
        hook.signature
    );
    assert!(!verify(&hook.signature, "sbwhsec_other", &hook.body));
    let json: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(json["kind"], "failing");
    assert_eq!(json["tenant"], "Alpha");
    assert_eq!(json["channel"]["id"], a.id);
    assert_eq!(hook.alert_id, json["id"].to_string());
    // never a credential
    for text in [body.as_str(), std::str::from_utf8(&hook.body).unwrap()] {
        assert!(
            !text.contains("hook-alpha") && !text.contains("wrong-key") && !text.contains(&secret)
        );
    }

    // accepted again: recovered, once
    assert_eq!(deliver(&a.message_url, "hook-alpha", "m-3").await, 200);
    app.state.webhook_writer.flush().await;
    assert_eq!(health(&app, a.id).await, 0);
    eventually("the recovery", || {
        mail.messages().len() == 2 && fake.alerts().len() == 2
    })
    .await;
    assert_eq!(mail.messages()[1].1, "[Switchboard] wa_infobip recovered");
    let json: Value = serde_json::from_slice(&fake.alerts()[1].body).unwrap();
    assert_eq!(json["kind"], "recovered");

    // it flaps: refused again within a quarter of an hour — no alert yet, nor a recovery
    assert_eq!(deliver(&a.message_url, "wrong-key", "m-4").await, 401);
    app.state.webhook_writer.flush().await;
    assert_eq!(health(&app, a.id).await, 2);
    assert_eq!(
        server::alerts::watch(&app.state.db.conn, server::db::now())
            .await
            .unwrap(),
        0
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((mail.messages().len(), fake.alerts().len()), (2, 2));
    // a quarter of an hour on, still failing: told once
    alert::Entity::update_many()
        .col_expr(
            alert::Column::CreatedAt,
            Expr::value(server::db::now() - time::Duration::minutes(20)),
        )
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(
        server::alerts::watch(&app.state.db.conn, server::db::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        server::alerts::watch(&app.state.db.conn, server::db::now())
            .await
            .unwrap(),
        0
    );
    eventually("the failure told after the quiet", || {
        mail.messages().len() == 3 && fake.alerts().len() == 3
    })
    .await;
    assert_eq!(mail.messages()[2].1, "[Switchboard] wa_infobip is failing");
    assert_eq!(deliver(&a.message_url, "hook-alpha", "m-5").await, 200);
    app.state.webhook_writer.flush().await;
    eventually("its recovery", || {
        mail.messages().len() == 4 && fake.alerts().len() == 4
    })
    .await;
    assert_eq!(mail.messages()[3].1, "[Switchboard] wa_infobip recovered");

    // a restart: another instance on the same database recomputes every channel, watches and
    // delivers — and raises nothing again
    let second = server::startup::build_state(&app.config).await.unwrap();
    channel::Entity::update_many()
        .col_expr(channel::Column::HealthDueAt, Expr::value(server::db::now()))
        .exec(&second.db.conn)
        .await
        .unwrap();
    server::db::health::sweep(&second.db.conn).await.unwrap();
    assert_eq!(
        server::alerts::watch(&second.db.conn, server::db::now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(second.courier.deliver_due().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((mail.messages().len(), fake.alerts().len()), (4, 4));
    assert_eq!(
        alert::Entity::find()
            .count(&app.state.db.conn)
            .await
            .unwrap(),
        4
    );

    // a certificate 10 days from its end: its alert by mail and webhook too
    let ending = Pki::new_until(
        "Ending CA",
        Some(server::db::now() + time::Duration::days(10)),
    );
    let r = app
        .upload_certificate(
            &a.cookie,
            "Ending CA",
            "trust",
            ending.ca_pem().into_bytes(),
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        server::alerts::watch(&app.state.db.conn, server::db::now())
            .await
            .unwrap(),
        1
    );
    eventually("the expiry alert", || {
        mail.messages().len() == 5 && fake.alerts().len() == 5
    })
    .await;
    assert_eq!(
        mail.messages()[4].1,
        "[Switchboard] The certificate Ending CA expires within 14 days"
    );
    assert!(
        mail.messages()[4]
            .2
            .contains(&format!("{}/config/certificates", app.base))
    );
    let expiring = &fake.alerts()[4];
    assert!(verify(&expiring.signature, &secret, &expiring.body));
    let json: Value = serde_json::from_slice(&expiring.body).unwrap();
    assert_eq!(json["kind"], "certificate_expiring");
    assert_eq!(
        server::alerts::watch(&app.state.db.conn, server::db::now())
            .await
            .unwrap(),
        0
    );

    // the attempts, newest first, on the page's data
    let page = app.call("get_alerts", &[], Some(&a.cookie)).await.json();
    let attempts = page["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 10, "{attempts:?}");
    assert!(attempts.iter().all(|t| t["ok"] == true), "{attempts:?}");
    assert!(
        attempts.iter().any(|t| t["via"] == "E-mail"
            && t["outcome"]
                .as_str()
                .unwrap()
                .starts_with("Accepted by the mail server (250)")),
        "{attempts:?}"
    );
    assert!(
        attempts.iter().any(|t| t["via"] == "Webhook"
            && t["outcome"]
                .as_str()
                .unwrap()
                .starts_with("Delivered: HTTP 200")),
        "{attempts:?}"
    );
}

#[tokio::test]
async fn a_failed_delivery_is_tried_again_and_thresholds_and_digests_are_raised_once() {
    let fake = fake_provider::start(fake_provider::FakeConfig::default()).await;
    // no mail server on this one: the address's attempt says so
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    let secret = alerts_to(&app, &root, &a, &fake, true).await;
    let conn = &app.state.db.conn;

    // the webhook fails once: the attempt says why and when it is tried again
    fake.answer_alerts_with(500);
    let r = app.call("send_test_alert", &[], Some(&a.cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // one a minute
    let again = app.call("send_test_alert", &[], Some(&a.cookie)).await;
    assert_eq!(again.status, 422);
    assert!(
        again
            .body
            .contains("A test alert was sent less than a minute ago: try again in"),
        "{}",
        again.body
    );
    eventually("the failed attempt", || fake.alerts().len() == 1).await;
    let attempts = loop {
        let page = app.call("get_alerts", &[], Some(&a.cookie)).await.json();
        let list = page["attempts"].as_array().unwrap().clone();
        if list.len() == 2 {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let outcome = |via: &str| {
        attempts
            .iter()
            .find(|t| t["via"] == via)
            .map(|t| t["outcome"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(
        outcome("Webhook"),
        "The webhook answered HTTP 500 (tried again in 30 s)"
    );
    assert!(
        outcome("E-mail").starts_with("E-mail is not set up on this server"),
        "{}",
        outcome("E-mail")
    );
    // time passes: the retry is due, and goes through
    fake.answer_alerts_with(200);
    alert_send::Entity::update_many()
        .col_expr(alert_send::Column::NextAt, Expr::value(server::db::now()))
        .filter(alert_send::Column::Via.eq("webhook"))
        .exec(conn)
        .await
        .unwrap();
    app.state.courier.wake.notify_one();
    eventually("the retry", || fake.alerts().len() == 2).await;
    let retried = &fake.alerts()[1];
    assert!(verify(&retried.signature, &secret, &retried.body));
    assert_eq!(
        retried.alert_id,
        fake.alerts()[0].alert_id,
        "the same alert, again"
    );

    // the address is removed: its waiting retry is not sent, and says why
    let r = save(
        &app,
        &a.cookie,
        &[
            ("emails", ""),
            ("webhook_url", &format!("{}/alerts", fake.base)),
            ("trust_certificate_id", ""),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    alert_send::Entity::update_many()
        .col_expr(alert_send::Column::NextAt, Expr::value(server::db::now()))
        .filter(alert_send::Column::Via.eq("email"))
        .exec(conn)
        .await
        .unwrap();
    app.state.courier.wake.notify_one();
    let gone = loop {
        let page = app.call("get_alerts", &[], Some(&a.cookie)).await.json();
        let first = page["attempts"][0].clone();
        if first["via"] == "E-mail"
            && first["ok"] == false
            && page["attempts"].as_array().unwrap().len() == 4
        {
            break first;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        gone["outcome"],
        "Not sent: this target was removed from the alert settings"
    );
    let state: Vec<String> = alert_send::Entity::find()
        .filter(alert_send::Column::Via.eq("email"))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(state, ["failed"]);
    // put it back for what follows
    alerts_to_again(&app, &a, &fake).await;

    // a certificate 10 days from its end: the 14 days' alert, once; 5 days on, the 7 days' one
    let now = server::db::now();
    let ending = Pki::new_until("Ending CA", Some(now + time::Duration::days(10)));
    let r = app
        .upload_certificate(
            &a.cookie,
            "Ending CA",
            "trust",
            ending.ca_pem().into_bytes(),
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let morning = now.replace_hour(9).unwrap();
    let expiring = |kind: &'static str| {
        alert::Entity::find()
            .filter(alert::Column::Kind.eq(kind))
            .all(conn)
    };
    // the first look also raises today's digest
    assert_eq!(server::alerts::watch(conn, morning).await.unwrap(), 2);
    assert_eq!(server::alerts::watch(conn, morning).await.unwrap(), 0);
    let certs = expiring("certificate_expiring").await.unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(
        certs[0].subject,
        "The certificate Ending CA expires within 14 days"
    );
    assert_eq!(expiring("digest").await.unwrap().len(), 1);
    let later = morning + time::Duration::days(5);
    // five days on: the 7 days' window and a new day's digest
    assert_eq!(server::alerts::watch(conn, later).await.unwrap(), 2);
    assert_eq!(server::alerts::watch(conn, later).await.unwrap(), 0);
    let subjects: Vec<String> = expiring("certificate_expiring")
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.subject)
        .collect();
    assert_eq!(
        subjects,
        [
            "The certificate Ending CA expires within 14 days",
            "The certificate Ending CA expires within 7 days"
        ]
    );
    // before 08:00 UTC no digest yet
    let early = (morning + time::Duration::days(6)).replace_hour(7).unwrap();
    assert_eq!(server::alerts::watch(conn, early).await.unwrap(), 0);
}

/// The tenant space of `a`'s administrator, by id.
async fn space_id(app: &TestApp, cookie: &str) -> i64 {
    app.whoami(cookie).await["tenant_id"].as_i64().unwrap()
}

#[tokio::test]
async fn past_a_thousand_waiting_deliveries_a_space_raises_no_more_and_keeps_its_last_hundred_attempts()
 {
    use app::domain::alerts::{ATTEMPTS_KEPT, AlertKind};
    use server::db::alerts::{PENDING_MOST, prune_attempts, raise};
    // no courier here: what is raised stays waiting
    let app = spawn_app_with(crate::common::Options {
        no_workers: true,
        ..crate::common::Options::default()
    })
    .await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    let b = app
        .infobip_channel(&root, "Beta", "beta-admin", "hook-beta")
        .await;
    for m in [&a, &b] {
        let r = save(
            &app,
            &m.cookie,
            &[
                ("emails", "ops@example.com"),
                ("webhook_url", ""),
                ("trust_certificate_id", ""),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let (alpha, beta) = (
        space_id(&app, &a.cookie).await,
        space_id(&app, &b.cookie).await,
    );
    let conn = &app.state.db.conn;
    let raise_one = |tenant: i64, n: u64| async move {
        raise(
            conn,
            tenant,
            AlertKind::Test,
            &format!("test-{n}"),
            None,
            "Test",
            serde_json::json!({}),
        )
        .await
        .unwrap()
    };
    for n in 0..PENDING_MOST {
        assert!(raise_one(alpha, n).await.is_some(), "alert {n}");
    }
    // one more: not raised while a thousand deliveries wait
    assert_eq!(raise_one(alpha, PENDING_MOST).await, None);
    // another space is not held by it
    assert!(raise_one(beta, 0).await.is_some());

    // attempts: the last hundred of a space are kept, another space's are not touched
    use sea_orm::{ConnectionTrait, Statement};
    let backend = conn.get_database_backend();
    for tenant in [alpha, beta] {
        for i in 0..150 {
            use sea_orm::{ActiveModelTrait, Set};
            server::db::entities::alert_attempt::ActiveModel {
                tenant_id: Set(tenant),
                alert_id: Set(0),
                kind: Set("test".into()),
                subject: Set(format!("attempt {i}")),
                via: Set("email".into()),
                target: Set("ops@example.com".into()),
                ok: Set(true),
                outcome: Set("Sent".into()),
                at: Set(time::OffsetDateTime::now_utc()),
                ..Default::default()
            }
            .insert(conn)
            .await
            .unwrap();
        }
    }
    prune_attempts(conn, alpha).await.unwrap();
    let count = |tenant: i64| async move {
        let row = conn
            .query_one(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM alert_attempts WHERE tenant_id = {tenant}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    assert_eq!(count(alpha).await, ATTEMPTS_KEPT as i64);
    assert_eq!(count(beta).await, 150);
    // the newest are the ones kept, and the page shows them
    let settings = app.call("get_alerts", &[], Some(&a.cookie)).await.json();
    assert_eq!(
        settings["attempts"].as_array().unwrap().len(),
        ATTEMPTS_KEPT
    );
    assert_eq!(settings["attempts"][0]["subject"], "attempt 149");
}
