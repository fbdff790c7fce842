//! Export tasks through HTTP: selection, the 2,000-per-file split, the 100,000 limit, no
//! secrets in any exported byte, download authorization, recovery and claiming.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseBackend, Set, Statement};
use serde_json::{Value, json};
use server::db::entities::export_task;
use std::io::{Cursor, Read};
use std::time::Duration;

const CANARY: &str = "CANARY-55e1";

struct World {
    app: TestApp,
    a: String,
    b: String,
    queue: String,
    tenant_a: i64,
}

async fn world() -> World {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let tenant_a = app
        .create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    app.call(
        "add_trust_prefix",
        &[("prefix", "https://api.infobip.com"), ("scope", "global")],
        Some(&root),
    )
    .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let b = app.session("beta-admin", "beta-password1").await;
    let queue = app
        .call(
            "create_skill_queue",
            &[("name", "Care"), ("access_code", "1")],
            Some(&a),
        )
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    World {
        app,
        a,
        b,
        queue,
        tenant_a,
    }
}

fn infobip(name: &str, queue: &str) -> Value {
    json!({
        "provider": "infobip", "name": name, "skill_queue_id": queue,
        "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "10:00", "end": "16:00"}],
        "phone_number": "+4915112345678", "username": "acme", "base_url": "https://api.infobip.com/wa",
        "password": format!("{CANARY}-password"), "account_key": format!("{CANARY}-key"),
        "webhook_password": format!("{CANARY}-webhook"), "keywords": "agent, human",
    })
}

async fn wait(app: &TestApp, cookie: &str, id: i64) -> Value {
    for _ in 0..150 {
        let list = app.call("list_exports", &[], Some(cookie)).await.json();
        if let Some(t) = list.as_array().unwrap().iter().find(|t| t["id"] == id)
            && t["status"] != "Running"
        {
            return t.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("export {id} did not finish");
}

async fn download(
    app: &TestApp,
    cookie: Option<&str>,
    id: i64,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app
        .http
        .get(format!("{}/config/exports/{id}/download", app.base));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let res = req.send().await.unwrap();
    (
        res.status().as_u16(),
        res.headers().clone(),
        res.bytes().await.unwrap().to_vec(),
    )
}

/// Every entry of a zip container, decompressed.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            (f.name().to_owned(), out)
        })
        .collect()
}

/// The text of an xlsx: its shared strings and its sheet, and the number of rows.
fn sheet(xlsx: &[u8]) -> (String, usize) {
    let parts = entries(xlsx);
    let text: String = parts
        .iter()
        .filter(|(n, _)| n.ends_with(".xml"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    let sheet = parts
        .iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .unwrap();
    let rows = String::from_utf8_lossy(&sheet.1).matches("<row ").count();
    (text, rows)
}

#[tokio::test]
async fn selected_channels_export_as_one_xlsx_without_secrets() {
    let w = world().await;
    let mut ids = Vec::new();
    for name in ["wa_one", "wa_two", "wa_three", "wa_not_selected"] {
        let r = w
            .app
            .call_json(
                "create_channel",
                json!({"draft": infobip(name, &w.queue)}),
                Some(&w.a),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        ids.push(r.json().as_i64().unwrap());
    }
    let r = w
        .app
        .call_json("start_export", json!({"ids": &ids[..3]}), Some(&w.a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_i64().unwrap();
    let t = wait(&w.app, &w.a, id).await;
    assert_eq!(
        (
            t["status"].as_str(),
            t["record_count"].as_i64(),
            t["file_count"].as_i64()
        ),
        (Some("Success"), Some(3), Some(1))
    );

    let (status, headers, bytes) = download(&w.app, Some(&w.a), id).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"channels-") && cd.contains(".xlsx\""),
        "{cd}"
    );
    let (text, rows) = sheet(&bytes);
    assert_eq!(rows, 4, "a header and three channels");
    for expected in [
        "Channel Name",
        "Business Solution Provider",
        "wa_one",
        "wa_two",
        "wa_three",
        "Care",
        "09:00–18:00",
        "agent, human",
    ] {
        assert!(text.contains(expected), "{expected} missing");
    }
    assert!(!text.contains("wa_not_selected"));
    // no secret in any byte, compressed or not
    assert!(!String::from_utf8_lossy(&bytes).contains(CANARY));
    assert!(!text.contains(CANARY), "a secret was exported");
}

/// A canary in every secret field of every provider: no exported byte carries one.
#[tokio::test]
async fn no_secret_field_of_any_provider_is_exported() {
    let w = world().await;
    let root = w.app.session(ROOT_USER, ROOT_PASSWORD).await;
    for p in [
        "https://bsp.itau.example",
        "https://aicc.example.com:8443",
        "https://api.twilio.com",
        "https://graph.facebook.com",
    ] {
        w.app
            .call(
                "add_trust_prefix",
                &[("prefix", p), ("scope", "global")],
                Some(&root),
            )
            .await;
    }
    let secret = |f: &str| format!("{CANARY}-{f}");
    let drafts = [
        infobip("wa_infobip", &w.queue),
        json!({"provider": "other", "verification_method": "basic", "name": "wa_basic", "phone_number": "5511987654321", "username": "u", "password": secret("password"), "base_url": "https://bsp.itau.example", "authentication_key": secret("authentication_key"), "webhook_password": secret("webhook_password")}),
        json!({"provider": "other", "verification_method": "oAuth", "name": "wa_oauth", "username": "app", "password": secret("app_secret"), "base_url": "https://aicc.example.com:8443/apiaccess/rest/ccmessaging", "webhook_password": secret("webhook_password")}),
        json!({"provider": "cloud-api", "name": "wa_cloud", "app_key": "123", "app_secret": secret("app_secret"), "phone_number": "15550001111", "base_url": "https://graph.facebook.com", "access_token": secret("access_token"), "token_valid_until": "2099-01-01"}),
        json!({"provider": "twilio", "name": "wa_twilio", "phone_number": "+14155238886", "api_key_sid": format!("SK{}", "a1".repeat(16)), "api_key_secret": secret("api_key_secret"), "base_url": "https://api.twilio.com", "account_sid": format!("AC{}", "0f".repeat(16)), "webhook_user": "hook", "webhook_password": secret("webhook_password")}),
    ];
    for mut d in drafts {
        for (k, v) in [
            ("skill_queue_id", json!(w.queue)),
            ("workday", json!([{"start": "09:00", "end": "18:00"}])),
            ("non_workday", json!([{"start": "09:00", "end": "18:00"}])),
        ] {
            d[k] = v;
        }
        let r = w
            .app
            .call_json("create_channel", json!({"draft": d}), Some(&w.a))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let id = w
        .app
        .call_json("start_export", json!({"ids": []}), Some(&w.a))
        .await
        .json()
        .as_i64()
        .unwrap();
    assert_eq!(wait(&w.app, &w.a, id).await["record_count"], 5);
    let (_, _, bytes) = download(&w.app, Some(&w.a), id).await;
    let (text, rows) = sheet(&bytes);
    assert_eq!(rows, 6);
    assert!(text.contains("wa_twilio") && text.contains("other (oAuth)"));
    assert!(!text.contains(CANARY), "a secret was exported");
    assert!(!String::from_utf8_lossy(&bytes).contains(CANARY));
}

#[tokio::test]
async fn more_than_2000_records_become_a_zip_of_numbered_files() {
    let w = world().await;
    server::demo::seed(&w.app.state, "Alpha", 2001)
        .await
        .unwrap();
    let r = w
        .app
        .call_json("start_export", json!({"ids": []}), Some(&w.a))
        .await;
    let id = r.json().as_i64().unwrap();
    let t = wait(&w.app, &w.a, id).await;
    assert_eq!(
        (
            t["status"].as_str(),
            t["record_count"].as_i64(),
            t["file_count"].as_i64()
        ),
        (Some("Success"), Some(2001), Some(2))
    );
    let (status, headers, bytes) = download(&w.app, Some(&w.a), id).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/zip");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".zip\"")
    );
    let files = entries(&bytes);
    let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["channels-001.xlsx", "channels-002.xlsx"]);
    assert_eq!(sheet(&files[0].1).1, 2001, "a header and 2,000 channels");
    assert_eq!(sheet(&files[1].1).1, 2, "a header and the last channel");
    // the demo secrets are nowhere either
    for (_, xlsx) in &files {
        assert!(!sheet(xlsx).0.contains("demo-password"));
    }
}

#[tokio::test]
async fn more_than_100000_records_are_refused_up_front() {
    let w = world().await;
    let db = &w.app.state.db.conn;
    let cols = "tenant_id, uid, webhook_key, name, name_key, channel_type, provider, base_url, skill_queue_id, keywords, workday, non_workday, non_working_notification, session_transfer, robot_assistant, version, created_at, updated_at";
    let values = format!(
        "{}, 'u' || i, 'k' || i, 'bulk_' || i, 'bulk_' || i, 'whatsapp', 'infobip', 'https://api.infobip.com', {}, '[]', '09:00-18:00', '09:00-18:00', '', false, false, 1",
        w.tenant_a, w.queue
    );
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres => format!(
            "INSERT INTO channels ({cols}) SELECT {values}, now(), now() FROM generate_series(1, 100001) AS i"
        ),
        _ => format!(
            "INSERT INTO channels ({cols}) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100001) SELECT {values}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM n"
        ),
    };
    db.execute(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let r = w
        .app
        .call_json("start_export", json!({"ids": []}), Some(&w.a))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains(
            "At most 100,000 channels can be exported at a time; this export has 100001."
        ),
        "{}",
        r.body
    );
    assert_eq!(
        w.app.call("list_exports", &[], Some(&w.a)).await.json(),
        json!([]),
        "no task was created"
    );
    let r = w
        .app
        .call_json("start_export", json!({"ids": []}), Some(&w.b))
        .await;
    assert!(
        r.body.contains("There is no channel to export."),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn tasks_and_downloads_belong_to_their_tenant() {
    let w = world().await;
    let r = w
        .app
        .call_json(
            "create_channel",
            json!({"draft": infobip("wa_a", &w.queue)}),
            Some(&w.a),
        )
        .await;
    let channel = r.json().as_i64().unwrap();
    let id = w
        .app
        .call_json("start_export", json!({"ids": [channel]}), Some(&w.a))
        .await
        .json()
        .as_i64()
        .unwrap();
    wait(&w.app, &w.a, id).await;
    assert_eq!(
        w.app.call("list_exports", &[], Some(&w.b)).await.json(),
        json!([])
    );
    let cross = download(&w.app, Some(&w.b), id).await;
    let missing = download(&w.app, Some(&w.b), 987654321).await;
    assert_eq!((cross.0, &cross.2), (missing.0, &missing.2));
    assert_eq!(cross.0, 404);
    assert_eq!(download(&w.app, None, id).await.0, 404);
    // B selecting A's channel exports nothing of A's
    let r = w
        .app
        .call_json("start_export", json!({"ids": [channel]}), Some(&w.b))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(download(&w.app, Some(&w.a), id).await.0, 200);
    for name in ["list_exports"] {
        assert_eq!(w.app.call(name, &[], None).await.status, 401);
    }
}

#[tokio::test]
async fn a_task_left_running_by_a_dead_instance_is_finished_or_failed() {
    let w = world().await;
    w.app
        .call_json(
            "create_channel",
            json!({"draft": infobip("wa_a", &w.queue)}),
            Some(&w.a),
        )
        .await;
    let db = &w.app.state.db.conn;
    let past = server::db::now() - time::Duration::minutes(5);
    // claimed by an instance that died mid-run (its lease ran out): taken over and finished
    let orphan = export_task::ActiveModel {
        tenant_id: Set(w.tenant_a),
        status: Set("running".into()),
        channel_ids: Set(None),
        record_count: Set(1),
        file_count: Set(1),
        attempts: Set(1),
        claimed_by: Set(Some("dead-instance".into())),
        claimed_until: Set(Some(past)),
        created_at: Set(past),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    // interrupted three times already: failed with the reason, not retried forever
    let hopeless = export_task::ActiveModel {
        tenant_id: Set(w.tenant_a),
        status: Set("running".into()),
        channel_ids: Set(None),
        record_count: Set(1),
        file_count: Set(1),
        attempts: Set(3),
        claimed_by: Set(Some("dead-instance".into())),
        claimed_until: Set(Some(past)),
        created_at: Set(past),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    w.app.state.exports.wake.notify_one();
    let done = wait(&w.app, &w.a, orphan.id).await;
    assert_eq!(done["status"], "Success");
    let failed = wait(&w.app, &w.a, hopeless.id).await;
    assert_eq!(failed["status"], "Failed");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("interrupted 3 times"),
        "{failed}"
    );
}

/// Two instances claiming at once never take the same task (row locks with SKIP LOCKED on
/// PostgreSQL; one writer at a time on SQLite).
#[tokio::test]
async fn two_instances_never_claim_the_same_task() {
    let (_db, url) = fresh_database().await;
    let one = server::db::Db::connect(&url).await.unwrap();
    one.migrate().await.unwrap();
    let two = server::db::Db::connect(&url).await.unwrap();
    one.conn.execute(Statement::from_string(one.conn.get_database_backend(),
        "INSERT INTO tenants (name, name_key, disabled, created_at) VALUES ('T', 't', false, CURRENT_TIMESTAMP)".to_string())).await.unwrap();
    let tenant: i64 = one
        .conn
        .query_one(Statement::from_string(
            one.conn.get_database_backend(),
            "SELECT id FROM tenants".to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    for _ in 0..40 {
        export_task::ActiveModel {
            tenant_id: Set(tenant),
            status: Set("running".into()),
            record_count: Set(1),
            file_count: Set(1),
            attempts: Set(0),
            created_at: Set(server::db::now()),
            ..Default::default()
        }
        .insert(&one.conn)
        .await
        .unwrap();
    }
    let claim_all = |conn: sea_orm::DatabaseConnection, name: &'static str| async move {
        let mut got = Vec::new();
        while let Some(id) =
            server::exports::worker::claim(&conn, name, server::config::DEFAULT_EXPORT_LEASE)
                .await
                .unwrap()
        {
            got.push(id);
        }
        got
    };
    let (a, b) = tokio::join!(
        claim_all(one.conn.clone(), "one"),
        claim_all(two.conn.clone(), "two")
    );
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a task was claimed twice");
    assert_eq!(all.len(), 40, "every task was claimed");
}

#[tokio::test]
async fn a_selection_over_ten_thousand_ids_is_refused() {
    let w = world().await;
    let ids: Vec<i64> = (1..=10_001).collect();
    let r = w
        .app
        .call_json("start_export", json!({ "ids": ids }), Some(&w.a))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("At most 10,000 channels can be selected"),
        "{}",
        r.body
    );
    // at the cap the list is taken (none of these ids is the tenant's: nothing to export)
    let ids: Vec<i64> = (1_000_000..1_010_000).collect();
    let r = w
        .app
        .call_json("start_export", json!({ "ids": ids }), Some(&w.a))
        .await;
    assert!(
        r.body.contains("There is no channel to export."),
        "{}",
        r.body
    );
}

/// Channels added between the start and the run: the limit is checked again when it runs.
#[tokio::test]
async fn the_record_limit_is_checked_again_when_the_task_runs() {
    let (_db, url) = fresh_database().await;
    let addr: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
    let config = config_for(url, addr, "http://127.0.0.1:1", &Options::default());
    // no worker here: the task waits until this test runs it
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
    server::demo::seed(&state, "Acme", 2).await.unwrap();
    let task = state
        .ports
        .exports
        .start(&app::ports::Actor::anonymous("test", None), tenant, None)
        .await
        .unwrap();
    server::demo::seed(&state, "Acme", 1).await.unwrap();
    let claimed = server::exports::worker::claim(
        &state.db.conn,
        "test",
        server::config::DEFAULT_EXPORT_LEASE,
    )
    .await
    .unwrap();
    assert_eq!(claimed, Some(task));
    server::exports::worker::run_limited(
        &state.db.conn,
        task,
        "test",
        server::config::DEFAULT_EXPORT_LEASE,
        2,
    )
    .await;
    let t = state.ports.exports.list(tenant).await.unwrap();
    assert_eq!(t[0].status, app::model::ExportStatus::Failed);
    assert!(
        t[0].error
            .as_deref()
            .unwrap()
            .contains("The tenant has 3 channels now, more than the 2 an export may hold"),
        "{:?}",
        t[0].error
    );
}
