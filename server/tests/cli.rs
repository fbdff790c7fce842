//! The `switchboard` binary's commands, run as a script would run them.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

use common::run_cli as run;
use std::process::Command;

#[tokio::test]
async fn migrate_create_admin_and_create_tenant() {
    let (_db, url) = fresh_database().await;
    let r = run(&url, &["migrate"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "database is up to date");

    let r = run(
        &url,
        &["create-admin", "--username", "ops"],
        "ops-password-1\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("created system administrator 'ops'"));

    let r = run(
        &url,
        &["create-admin", "--username", "OPS"],
        "ops-password-1\n",
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.trim(), "error: The username 'ops' is taken.");

    let r = run(&url, &["create-admin", "--username", "weak"], "short\n");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.trim(),
        "error: The password must be at least 8 characters."
    );

    let r = run(
        &url,
        &[
            "create-tenant",
            "--name",
            "Acme",
            "--admin-username",
            "acme-admin",
        ],
        "acme-password-1\r\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("created tenant space 'Acme'"));

    let r = run(
        &url,
        &[
            "create-tenant",
            "--name",
            "acme",
            "--admin-username",
            "other",
        ],
        "acme-password-1\n",
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.trim(),
        "error: A tenant space named 'acme' exists already."
    );
}

#[tokio::test]
async fn accounts_made_by_the_cli_sign_in_over_http() {
    let (db, url) = fresh_database().await;
    assert_eq!(
        run(
            &url,
            &["create-admin", "--username", "ops"],
            "ops-password-1\n"
        )
        .code,
        0
    );
    assert_eq!(
        run(
            &url,
            &[
                "create-tenant",
                "--name",
                "Acme",
                "--admin-username",
                "acme-admin"
            ],
            "acme-password-1\n",
        )
        .code,
        0
    );
    // a server on the same database
    let app = spawn_on(db, url).await;
    assert!(
        app.setup_link.is_none(),
        "an administrator exists: no setup link"
    );
    let root = app.session("ops", "ops-password-1").await;
    assert_eq!(app.whoami(&root).await["role"], "SystemAdmin");
    let tenant = app.session("acme-admin", "acme-password-1").await;
    assert_eq!(app.whoami(&tenant).await["tenant_name"], "Acme");
}

#[test]
fn unreachable_database_is_one_clear_line() {
    let r = run(
        "postgres://switchboard:secret@127.0.0.1:1/nothing",
        &["create-admin", "--username", "ops"],
        "ops-password-1\n",
    );
    assert_eq!(r.code, 1);
    let line = r.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.starts_with("error: cannot connect to the database at postgres://switchboard:****@127.0.0.1:1/nothing"), "{line}");
    assert!(!line.contains("secret"));
}

#[test]
fn bad_arguments_are_refused() {
    let r = run(
        "sqlite::memory:",
        &["create-admin", "--username", "a b"],
        "ops-password-1\n",
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: The username may contain only"),
        "{}",
        r.stderr
    );
    let r = run("mysql://x", &["migrate"], "");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not supported"), "{}", r.stderr);
}

#[tokio::test]
async fn seed_demo_fills_a_tenant_with_valid_channels_of_every_provider() {
    let (db, url) = fresh_database().await;
    assert_eq!(
        run(
            &url,
            &["create-admin", "--username", "ops"],
            "ops-password-1\n"
        )
        .code,
        0
    );
    let r = run(
        &url,
        &[
            "create-tenant",
            "--name",
            "Demo",
            "--admin-username",
            "demo-admin",
        ],
        "demo-password-1\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        &url,
        &["seed-demo", "--tenant", "Demo", "--channels", "23"],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("seeded 23 demo channels into 'Demo'"),
        "{}",
        r.stdout
    );
    // again: the numbering goes on
    assert_eq!(
        run(
            &url,
            &["seed-demo", "--tenant", "demo", "--channels", "2"],
            ""
        )
        .code,
        0
    );
    let r = run(
        &url,
        &["seed-demo", "--tenant", "Nobody", "--channels", "2"],
        "",
    );
    assert_eq!(
        (r.code, r.stderr.trim()),
        (1, "error: there is no tenant space named 'Nobody'")
    );
    // across tenant spaces: each made when missing, each numbered from its own first channel
    let r = run(
        &url,
        &[
            "seed-demo",
            "--tenant",
            "Spread",
            "--tenants",
            "3",
            "--channels",
            "4",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("seeded 12 demo channels into 3 tenant spaces 'Spread 0001'…"),
        "{}",
        r.stdout
    );
    // past the bounds: refused before anything is written, with the bound named
    for (args, error) in [
        (["0", "1"], "error: --tenants is 1 to 10,000"),
        (["10001", "1"], "error: --tenants is 1 to 10,000"),
        (
            ["2", "500001"],
            "error: at most 1,000,000 channels at a time",
        ),
        (
            ["10000", "18446744073709551615"],
            "error: at most 1,000,000 channels at a time",
        ),
    ] {
        let r = run(
            &url,
            &[
                "seed-demo",
                "--tenant",
                "Past",
                "--tenants",
                args[0],
                "--channels",
                args[1],
            ],
            "",
        );
        assert_eq!((r.code, r.stderr.trim()), (1, error), "{args:?}");
    }

    let app = spawn_on(db, url).await;
    let admin = app.session("demo-admin", "demo-password-1").await;
    let page = app
        .call_json(
            "list_channels",
            serde_json::json!({"query": {"search": "demo_", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 100}}),
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(page["total"], 25);
    assert_eq!(page["rows"][24]["name"], "demo_000024");
    let providers: std::collections::BTreeSet<_> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["provider"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(providers.len(), 4);
    // a seeded channel opens in the edit form and validates as it is
    let id = page["rows"][0]["id"].as_i64().unwrap().to_string();
    let e = app
        .call("get_channel", &[("id", &id)], Some(&admin))
        .await
        .json();
    let r = app
        .call_json(
            "update_channel",
            serde_json::json!({"id": e["id"], "version": e["version"], "draft": e["draft"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// `switchboard serve` on `url` with a short export lease; answers the child and its base URL.
async fn serve(url: &str) -> (std::process::Child, String) {
    serve_binary(
        url,
        &[
            ("SWITCHBOARD_EXPORT_LEASE_SECS", "2"),
            ("RUST_LOG", "error"),
        ],
    )
    .await
}

async fn task_status(url: &str) -> String {
    use sea_orm::EntityTrait;
    let db = server::db::Db::connect(url).await.unwrap();
    server::db::entities::export_task::Entity::find()
        .one(&db.conn)
        .await
        .unwrap()
        .map(|t| t.status)
        .unwrap_or_default()
}

/// The server is killed (SIGKILL) while an export runs; after a restart the task finishes.
#[tokio::test]
async fn an_export_interrupted_by_a_killed_server_finishes_after_a_restart() {
    let (_db, url) = fresh_database().await;
    assert_eq!(
        run(
            &url,
            &[
                "create-tenant",
                "--name",
                "Kill",
                "--admin-username",
                "kill-admin"
            ],
            "kill-password-1\n"
        )
        .code,
        0
    );
    let r = run(
        &url,
        &["seed-demo", "--tenant", "Kill", "--channels", "10000"],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    let (mut first, base) = serve(&url).await;
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{base}/api/login"))
        .form(&[("username", "kill-admin"), ("password", "kill-password-1")])
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(login.headers()).unwrap();
    let started = http
        .post(format!("{base}/api/start_export"))
        .header("Cookie", &cookie)
        .json(&serde_json::json!({"ids": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(task_status(&url).await, "running", "killed mid-export");

    let (mut second, _) = serve(&url).await;
    let mut status = String::new();
    for _ in 0..300 {
        status = task_status(&url).await;
        if status != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(status, "success");
}

/// SQLite serves one instance: a second `serve` on the same file refuses to start, names the
/// running one and points to PostgreSQL; once the first stops, the file is free again.
#[tokio::test]
async fn a_second_server_on_one_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/switchboard.db", dir.path().display());
    let (mut first, base) = serve(&url).await;
    let port = free_port();
    let second = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}, listening on {}", first.id(), &base[7..])),
        "names the running one: {stderr}"
    );
    assert!(stderr.contains("use PostgreSQL"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // the first one is unharmed
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let (mut again, _) = serve(&url).await;
    again.kill().unwrap();
    again.wait().unwrap();
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_only() {
    let (_db, url) = fresh_database().await;
    let port = free_port();
    let (mut child, base) = serve_binary(
        &url,
        &[("SWITCHBOARD_METRICS_ADDR", &format!("127.0.0.1:{port}"))],
    )
    .await;
    // a request on the public port, then the families on the metrics port
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for family in [
        "# TYPE switchboard_http_requests_total counter",
        "# TYPE switchboard_http_request_duration_seconds histogram",
        "# TYPE switchboard_db_pool_connections gauge",
        "# TYPE switchboard_webhook_queue_bytes gauge",
        "# TYPE switchboard_jobs gauge",
    ] {
        assert!(text.contains(family), "{family} in:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("switchboard_http_requests_total{")
                && l.contains(r#"route="/readyz""#)
                && l.contains(r#"status="200""#)),
        "{text}"
    );
    let public = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(public.status(), 404);
    // nothing but /metrics there
    let other = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    child.kill().unwrap();
    child.wait().unwrap();

    // an address that is not one, or the public port, is refused at start with the reason
    let public_port = free_port();
    let refused = [
        (
            "localhost".to_owned(),
            "it must be an address and port, such as 127.0.0.1:9464".to_owned(),
        ),
        (
            format!("127.0.0.1:{public_port}"),
            format!(
                "it must not be the public port ({public_port}): metrics are for operators only"
            ),
        ),
    ];
    for (value, reason) in refused {
        let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{public_port}"))
            .env("SWITCHBOARD_METRICS_ADDR", &value)
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            (
                Some(1),
                format!("error: SWITCHBOARD_METRICS_ADDR is not valid: {reason}").as_str()
            )
        );
    }
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secret() {
    let (_db, url) = fresh_database().await;
    let password = "CANARY-pass-4821";
    assert_eq!(
        run_cli(
            &url,
            &["create-admin", "--username", "ops"],
            &format!("{password}\n")
        )
        .code,
        0
    );
    let (child, base) = serve_binary(
        &url,
        &[
            ("SWITCHBOARD_LOG_FORMAT", "json"),
            ("SWITCHBOARD_TRUST_FORWARDED_FOR", "true"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let sign_in = |password: &'static str, id: Option<&'static str>| {
        let mut req = http
            .post(format!("{base}/api/login"))
            .header("Origin", &base)
            .header("Accept", "application/json")
            .form(&[("username", "ops"), ("password", password)]);
        if let Some(id) = id {
            req = req.header("X-Request-Id", id);
        }
        req.send()
    };
    // a proxy's id is kept; one a log or a header would misread is replaced
    let refused = sign_in("CANARY-wrong-7310", Some("proxy-req.42"))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["x-request-id"], "proxy-req.42");
    let odd = sign_in("CANARY-wrong-7311", Some("a b")).await.unwrap();
    let odd_id = odd.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(odd_id.len(), 24, "{odd_id}");
    let ok = sign_in("CANARY-pass-4821", None).await.unwrap();
    assert_eq!(ok.status(), 200);
    let own_id = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(own_id, odd_id);
    // a webhook with a credential in its header and its query
    let hook = http
        .get(format!(
            "{base}/social/on/whatsapp/cloud-api/{}?hub.mode=subscribe&hub.verify_token=CANARY-token-99&hub.challenge=1",
            "ab".repeat(16)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 404);
    assert!(hook.headers().contains_key("x-request-id"));

    // SIGTERM, then every line it wrote
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("CANARY"), "a secret in the log:\n{log}");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "{log}");
    for l in &lines {
        assert!(l["timestamp"].is_string() && l["level"].is_string(), "{l}");
    }
    // the request's span, outermost, on each line logged while answering it
    let request = |l: &serde_json::Value| l["spans"][0].clone();
    // the refused sign-in's line names the proxy's id, the request's route, never its path
    let refusal = lines
        .iter()
        .find(|l| request(l)["id"] == "proxy-req.42")
        .unwrap_or_else(|| panic!("no line of request proxy-req.42:\n{log}"));
    assert_eq!(request(refusal)["name"], "request", "{refusal}");
    assert_eq!(request(refusal)["route"], "/api/login", "{refusal}");
    assert_eq!(refusal["message"], "sign-in refused", "{refusal}");
    assert!(
        lines.iter().any(|l| request(l)["id"] == odd_id.as_str()),
        "{log}"
    );
    // every line inside a request carries its id
    for l in &lines {
        if let Some(spans) = l["spans"].as_array() {
            assert_eq!(spans[0]["name"], "request", "{l}");
            assert!(
                spans[0]["id"].as_str().is_some_and(|id| !id.is_empty()),
                "{l}"
            );
        }
    }
}

/// An infobip message delivery with its own message id.
fn message(id: &str) -> String {
    format!(
        r#"{{"results":[{{"messageId":"{id}","from":"4915100000001","to":"4915112345678","message":{{"type":"TEXT","text":"hi"}}}}]}}"#
    )
}

#[tokio::test]
async fn a_backup_under_webhook_load_restores_every_answered_delivery_and_secret() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/live/switchboard.db", dir.path().display());
    assert_eq!(
        run(
            &url,
            &["create-admin", "--username", "ops"],
            "ops-password-1\n"
        )
        .code,
        0
    );
    let (mut live, base) = serve_binary(&url, &[]).await;
    let client = Client::new(&base);
    let root = client.session("ops", "ops-password-1").await;
    let a = client
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;

    // four senders, each delivery answered before the next: (message id, when answered)
    let answered = Arc::new(Mutex::new(Vec::<(String, Instant)>::new()));
    let other = Arc::new(Mutex::new(Vec::<u16>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for s in 0..4 {
        let (answered, other, stop) = (answered.clone(), other.clone(), stop.clone());
        let to = a.message_url.clone();
        senders.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("m-{s}-{i}");
                i += 1;
                let status = http
                    .post(&to)
                    .header("AccountKey", "hook-alpha")
                    .header("Content-Type", "application/json")
                    .body(message(&id))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                if status == 200 {
                    answered.lock().unwrap().push((id, Instant::now()));
                } else {
                    other.lock().unwrap().push(status);
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let began = Instant::now();
    let path = dir.path().join("backup.db");
    let backup = {
        let (url, path) = (url.clone(), path.display().to_string());
        tokio::task::spawn_blocking(move || run(&url, &["backup", &path], ""))
            .await
            .unwrap()
    };
    assert_eq!(backup.code, 0, "{}", backup.stderr);
    assert!(
        backup.stdout.starts_with("backed up ")
            && backup.stdout.contains("Restoring it needs the master key "),
        "{}",
        backup.stdout
    );
    let during = answered.lock().unwrap().len();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    // the deliveries kept being answered while it was made
    assert!(
        other.lock().unwrap().is_empty(),
        "{:?}",
        other.lock().unwrap()
    );
    assert!(answered.lock().unwrap().len() > during);
    let before: Vec<String> = answered
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(before.len() >= 10, "{}", before.len());
    // a second backup to the same file is refused
    let again = run(&url, &["backup", &path.display().to_string()], "");
    assert_eq!(
        (again.code, again.stderr.trim()),
        (
            1,
            &*format!(
                "error: {} exists already: back up to a new file",
                path.display()
            )
        )
    );
    live.kill().unwrap();
    live.wait().unwrap();

    // restored with another master key: refused, and nothing is left where it was to go
    let wrong_dir = dir.path().join("wrong");
    let wrong_url = format!("sqlite://{}/switchboard.db", wrong_dir.display());
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["restore", &path.display().to_string()])
        .env("DATABASE_URL", &wrong_url)
        .env("SWITCHBOARD_MASTER_KEY", "ab".repeat(32))
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: the backup was not restored: ")
            && stderr.contains("the master key does not match this database"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&wrong_dir).unwrap().count(), 0);

    // into an empty data directory
    let restored = format!("sqlite://{}/restored/switchboard.db", dir.path().display());
    let r = run(&restored, &["restore", &path.display().to_string()], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(": 1 tenant spaces, 1 channels; the configured master key opens"),
        "{}",
        r.stdout
    );
    // never over a database
    let r = run(&restored, &["restore", &path.display().to_string()], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("exists already: restore into an empty data directory")
    );
    // nor from something that is not a backup
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just text").unwrap();
    let r = run(
        &format!("sqlite://{}/other/switchboard.db", dir.path().display()),
        &["restore", &junk.display().to_string()],
        "",
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("is not a Switchboard backup"),
        "{}",
        r.stderr
    );

    // a server on it: every delivery answered before the backup began, every secret opening
    let (mut server, base) = serve_binary(&restored, &[]).await;
    let db = sea_orm::Database::connect(&restored).await.unwrap();
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use server::db::entities::{channel, webhook_event};
    for id in &before {
        let found = webhook_event::Entity::find()
            .filter(webhook_event::Column::ProviderMessageId.eq(id.as_str()))
            .one(&db)
            .await
            .unwrap();
        assert!(
            found.is_some(),
            "delivery {id} answered before the backup is missing"
        );
    }
    let key: [u8; 32] = hex::decode(TEST_MASTER_KEY).unwrap().try_into().unwrap();
    let secrets = server::secrets::SecretBox::new(&key);
    let c = channel::Entity::find().one(&db).await.unwrap().unwrap();
    let mut opened = 0;
    for (column, field) in server::db::keys::CHANNEL_SECRETS {
        let sealed = match column {
            channel::Column::PasswordEnc => &c.password_enc,
            channel::Column::AccountKeyEnc => &c.account_key_enc,
            channel::Column::WebhookPasswordEnc => &c.webhook_password_enc,
            _ => continue,
        };
        assert!(sealed.is_some(), "{field}");
        assert!(
            c.open_secret(&secrets, sealed, field, "test").is_some(),
            "{field}"
        );
        opened += 1;
    }
    assert_eq!(opened, 3);
    let restored_client = Client::new(&base);
    let admin = restored_client
        .session("alpha-admin", "alpha-admin-password")
        .await;
    let page = restored_client
        .call_json(
            "list_channels",
            serde_json::json!({"query": {"search": "", "provider": "", "sort": "Name",
                "descending": false, "at": "First", "per_page": 20}}),
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(page["rows"][0]["name"], "wa_infobip");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn the_server_purges_webhook_traffic_older_than_its_retention() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
    use server::db::entities::webhook_delivery;
    let (_db, url) = fresh_database().await;
    assert_eq!(
        run(
            &url,
            &["create-admin", "--username", "ops"],
            "ops-password-1\n"
        )
        .code,
        0
    );
    let (mut first, base) = serve_binary(&url, &[]).await;
    let client = Client::new(&base);
    let root = client.session("ops", "ops-password-1").await;
    let a = client
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    let http = reqwest::Client::new();
    for id in ["m-old", "m-new"] {
        let status = http
            .post(&a.message_url)
            .header("AccountKey", "hook-alpha")
            .header("Content-Type", "application/json")
            .body(message(id))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    first.kill().unwrap();
    first.wait().unwrap();

    // the first delivery is made ten days old
    let db = server::db::Db::connect(&url).await.unwrap();
    let oldest = webhook_delivery::Entity::find()
        .order_by_asc(webhook_delivery::Column::Id)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::ReceivedAt,
            Expr::value(time::OffsetDateTime::now_utc() - time::Duration::days(10)),
        )
        .filter(webhook_delivery::Column::Id.eq(oldest.id))
        .exec(&db.conn)
        .await
        .unwrap();

    // a server that keeps seven days purges it at its start, and only it
    let (mut second, _) = serve_binary(&url, &[("SWITCHBOARD_TRAFFIC_RETENTION_DAYS", "7")]).await;
    let stderr = second.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut log = Vec::new();
    let purged = loop {
        let wait = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(wait) {
            Ok(line) if line.contains("webhook traffic purged") => break line,
            Ok(line) => log.push(line),
            Err(_) => panic!("no purge logged within 20 s: {log:?}"),
        }
    };
    assert!(
        purged.contains("deliveries=1") && purged.contains("keep_days=7"),
        "{purged}"
    );
    let left = webhook_delivery::Entity::find()
        .count(&db.conn)
        .await
        .unwrap();
    assert_eq!(left, 1);
    second.kill().unwrap();
    second.wait().unwrap();

    // what is not a number of days is refused at start with the rule
    for value in ["0", "-3", "30d", "1000001"] {
        let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("SWITCHBOARD_TRAFFIC_RETENTION_DAYS", value)
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            (
                Some(1),
                "error: SWITCHBOARD_TRAFFIC_RETENTION_DAYS is not valid: it must be a whole number from 1 to 1000000"
            ),
            "{value}"
        );
    }
}
