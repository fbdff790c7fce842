//! The audit log through HTTP: every change leaves its entry (actor, role, client, field diff,
//! secrets only as "changed"), tenants see only their own entries, filters and pages are done
//! in SQL, the `.csv` export, and the retention purge.

#![allow(clippy::unwrap_used)]

use crate::common::fake_provider::{self, FakeConfig};
use crate::common::{ROOT_PASSWORD, ROOT_USER, TestApp, fresh_database, spawn_app};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use server::db::entities::audit_entry;
use std::time::Duration;

/// Every entry the filter selects, all pages, newest first.
async fn entries(app: &TestApp, cookie: &str, system: bool, filter: Value) -> Vec<Value> {
    let name = if system {
        "list_system_audit"
    } else {
        "list_tenant_audit"
    };
    let mut out = Vec::new();
    let mut filter = filter;
    loop {
        let r = app
            .call_json(name, json!({ "filter": filter.clone() }), Some(cookie))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.json();
        out.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_i64() {
            Some(b) => filter["before"] = json!(b.to_string()),
            None => return out,
        }
    }
}

fn actions(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn find<'a>(list: &'a [Value], action: &str) -> &'a Value {
    list.iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {:?}", actions(list)))
}

/// The change of `field` in an entry: (before, after, secret).
fn change(entry: &Value, field: &str) -> (String, String, bool) {
    let c = entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in {entry}"));
    (
        c["before"].as_str().unwrap().to_owned(),
        c["after"].as_str().unwrap().to_owned(),
        c["secret"].as_bool().unwrap_or(false),
    )
}

const SECRETS: [&str; 6] = [
    "audit-canary-password",
    "audit-canary-hook-1",
    "audit-canary-hook-2",
    "alpha-password-2",
    "alpha-password",
    "infobip-account-key",
];

#[tokio::test]
async fn every_change_leaves_its_entry_with_actor_diff_and_no_secret() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    // a refused sign-in names what was typed, with no role
    assert_eq!(app.login(ROOT_USER, "not-the-password").await.status, 401);
    // a name no account has is not kept: it may be a password typed into the wrong field
    assert_eq!(app.login("hunter2-secret\u{0}", "x").await.status, 401);
    let root = {
        let _ = root;
        app.session(ROOT_USER, ROOT_PASSWORD).await
    };
    let alpha = app
        .create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    let beta = app
        .create_tenant(&root, "Beta", "beta-admin", "beta-password")
        .await;
    let tenants = app.call("list_tenants", &[], Some(&root)).await.json();
    let alpha_admin = tenants
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == alpha)
        .unwrap()["admins"][0]["user_id"]
        .as_i64()
        .unwrap();
    let r = app
        .call(
            "reset_admin_password",
            &[
                ("user_id", &alpha_admin.to_string()),
                ("new_password", "alpha-password-2"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for disabled in ["true", "false"] {
        let r = app
            .call(
                "set_tenant_disabled",
                &[("tenant_id", &beta.to_string()), ("disabled", disabled)],
                Some(&root),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let trust = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", fake.base.as_str()),
                ("scope", &alpha.to_string()),
                ("allow_private", "on"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(trust.status, 200, "{}", trust.body);
    let global = app
        .call(
            "add_trust_prefix",
            &[("prefix", "https://example.com/api"), ("scope", "global")],
            Some(&root),
        )
        .await
        .json()
        .as_i64()
        .unwrap();
    let r = app
        .call(
            "remove_trust_prefix",
            &[("id", &global.to_string())],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // the tenant administrator's changes
    let a = app.session("alpha-admin", "alpha-password-2").await;
    let call = |name: &'static str, form: Vec<(&'static str, String)>| {
        let (app, a) = (&app, a.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app.call(name, &form, Some(&a)).await;
            assert_eq!(r.status, 200, "{name}: {}", r.body);
            r.json()
        }
    };
    let ou = call(
        "create_ou",
        vec![("name", "EMEA".into()), ("parent_id", "".into())],
    )
    .await;
    call("delete_ou", vec![("id", ou.to_string())]).await;
    let queue = call(
        "create_skill_queue",
        vec![("name", "Care".into()), ("access_code", "1".into())],
    )
    .await;
    let spare = call(
        "create_skill_queue",
        vec![("name", "Spare".into()), ("access_code", "2".into())],
    )
    .await;
    call("delete_skill_queue", vec![("id", spare.to_string())]).await;
    let r = app
        .upload_certificate(&a, "fake ca", "authentication", fake.pki.ca_der(), "")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ca = r.json().as_i64().unwrap();
    let other_ca = app
        .upload_certificate(
            &a,
            "unused ca",
            "trust",
            fake_provider::Pki::new("unused").ca_der(),
            "",
        )
        .await
        .json()
        .as_i64()
        .unwrap();
    call("delete_certificate", vec![("id", other_ca.to_string())]).await;
    call(
        "save_weekdays",
        vec![("monday", "on".into()), ("saturday", "on".into())],
    )
    .await;
    let date = call(
        "add_non_working_date",
        vec![("date", "2026-12-25".into()), ("name", "Christmas".into())],
    )
    .await;
    call(
        "remove_non_working_date",
        vec![("id", date["id"].to_string())],
    )
    .await;
    call(
        "save_time_zone",
        vec![("time_zone", "Europe/Berlin".into())],
    )
    .await;

    let draft = json!({"provider": "infobip", "name": "wa_audit", "phone_number": "+4915112345678",
        "username": "acme", "password": "audit-canary-password", "base_url": fake.base,
        "account_key": "infobip-account-key", "webhook_password": "audit-canary-hook-1",
        "auth_certificate_id": ca.to_string(), "skill_queue_id": queue.to_string(),
        "non_working_notification": "We are closed.",
        "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]});
    let r = app
        .call_json("create_channel", json!({ "draft": draft }), Some(&a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_i64().unwrap();
    let stored = app
        .call("get_channel", &[("id", &id.to_string())], Some(&a))
        .await
        .json();
    let mut edited = stored["draft"].clone();
    edited["non_working_notification"] = json!("Back on Monday.");
    edited["webhook_password"] = json!("audit-canary-hook-2");
    let r = app
        .call_json(
            "update_channel",
            json!({"id": id, "version": stored["version"], "draft": edited}),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    call("generate_scenario_key", vec![("id", id.to_string())]).await;
    let test = call("test_channel_connection", vec![("id", id.to_string())]).await;
    assert_eq!(test["ok"], true, "{test}");
    let sent = app
        .call(
            "send_test_message",
            &[
                ("id", &id.to_string()),
                ("recipient", "+491701234567"),
                ("text", "hello"),
            ],
            Some(&a),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let export = app
        .call_json("start_export", json!({ "ids": [id] }), Some(&a))
        .await
        .json()
        .as_i64()
        .unwrap();
    let mut downloaded = 0;
    for _ in 0..150 {
        let res = app
            .http
            .get(format!("{}/config/exports/{export}/download", app.base))
            .header("Cookie", &a)
            .send()
            .await
            .unwrap();
        if res.status() == 200 {
            downloaded += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(downloaded, 1, "the export finished and was downloaded");
    call("delete_channel", vec![("id", id.to_string())]).await;
    let r = app.call("logout", &[], Some(&a)).await;
    assert!(r.status < 400, "{}", r.body);

    // what the tenant administrator sees: their tenant's entries, newest first
    let b = app.session("beta-admin", "beta-password").await;
    let a = app.session("alpha-admin", "alpha-password-2").await;
    let log = entries(&app, &a, false, json!({})).await;
    for action in [
        "tenant_created",
        "admin_password_reset",
        "trust_added",
        "sign_in",
        "ou_created",
        "ou_deleted",
        "skill_queue_created",
        "skill_queue_deleted",
        "certificate_uploaded",
        "certificate_deleted",
        "weekdays_saved",
        "non_working_date_added",
        "non_working_date_removed",
        "time_zone_saved",
        "channel_created",
        "channel_edited",
        "scenario_key_generated",
        "connection_tested",
        "test_message_sent",
        "export_started",
        "export_downloaded",
        "channel_deleted",
        "sign_out",
    ] {
        find(&log, action);
    }
    let ids: Vec<i64> = log.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    // nothing of another tenant or of the system alone
    for e in &log {
        assert_eq!(e["tenant"], "Alpha", "{e}");
    }
    for action in ["trust_removed", "setup", "sign_in_refused"] {
        assert!(!actions(&log).contains(&action.to_owned()), "{action}");
    }
    // who, from where, in which role
    let created = find(&log, "channel_created");
    assert_eq!(created["actor"], "alpha-admin");
    assert_eq!(created["role"], "Tenant administrator");
    assert_eq!(created["client"], "127.0.0.1");
    assert_eq!(created["object_kind"], "Channel");
    assert_eq!(created["object_id"], id);
    assert_eq!(created["object_name"], "wa_audit");
    assert_eq!(
        change(created, "Non-Working Time Notification"),
        ("".into(), "We are closed.".into(), false)
    );
    assert_eq!(change(created, "Skill Queue").1, "Care");
    assert_eq!(change(created, "Authentication Certificate").1, "fake ca");
    assert_eq!(
        change(created, "Webhook Password"),
        ("not set".into(), "set".into(), true)
    );
    // an edit lists exactly what changed; a secret typed again reads "changed"
    let edit = find(&log, "channel_edited");
    let fields: Vec<&str> = edit["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["Non-Working Time Notification", "Webhook Password"],
        "{edit}"
    );
    assert_eq!(
        change(edit, "Non-Working Time Notification"),
        ("We are closed.".into(), "Back on Monday.".into(), false)
    );
    assert_eq!(
        change(edit, "Webhook Password"),
        ("set".into(), "changed".into(), true)
    );
    // what the system administrator did to the tenant space is in its log, without their
    // name or address
    let reset = find(&log, "admin_password_reset");
    assert_eq!(reset["actor"], "System administrator");
    assert_eq!(reset["role"], "System administrator");
    assert_eq!(reset["client"], "");
    assert_eq!(reset["object_name"], "alpha-admin");
    assert_eq!(
        change(reset, "Password"),
        ("set".into(), "changed".into(), true)
    );
    assert_eq!(
        change(find(&log, "weekdays_saved"), "Saturday"),
        ("Non-workday".into(), "Workday".into(), false)
    );
    assert_eq!(
        change(find(&log, "time_zone_saved"), "Time zone"),
        ("UTC".into(), "Europe/Berlin".into(), false)
    );
    assert!(
        change(find(&log, "connection_tested"), "Result")
            .1
            .starts_with("Passed")
    );
    assert_eq!(find(&log, "sign_out")["actor"], "alpha-admin");

    // the system administrator sees everything, the refused sign-in among it
    let all = entries(&app, &root, true, json!({})).await;
    assert!(all.len() > log.len());
    let refused: Vec<&Value> = all
        .iter()
        .filter(|e| e["action"] == "sign_in_refused")
        .collect();
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[0]["actor"], "(unknown username)");
    assert!(!serde_json::to_string(&all).unwrap().contains("hunter2"));
    let refused = refused[1];
    assert_eq!(refused["actor"], ROOT_USER);
    assert_eq!(refused["role"], "");
    assert_eq!(find(&all, "setup")["role"], "System administrator");
    assert_eq!(
        change(find(&all, "trust_removed"), "Prefix"),
        ("https://example.com/api".into(), "".into(), false)
    );
    let disabled = all
        .iter()
        .find(|e| e["action"] == "tenant_disabled")
        .unwrap();
    assert_eq!(disabled["tenant"], "Beta");
    assert_eq!(
        change(disabled, "Status"),
        ("Enabled".into(), "Disabled".into(), false)
    );
    find(&all, "tenant_enabled");

    // no secret in any entry, as the pages get them or as stored
    let text = serde_json::to_string(&all).unwrap();
    let stored: Vec<String> = audit_entry::Entity::find()
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|m| format!("{} {}", m.object_name, m.changes))
        .collect();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in an entry");
        assert!(
            !stored.iter().any(|s| s.contains(secret)),
            "{secret} stored"
        );
    }

    // Beta's administrator sees Beta's entries only
    let beta_log = entries(&app, &b, false, json!({})).await;
    assert!(!beta_log.is_empty());
    assert!(
        beta_log.iter().all(|e| e["tenant"] == "Beta"),
        "{beta_log:?}"
    );
    assert!(
        !serde_json::to_string(&beta_log)
            .unwrap()
            .contains("wa_audit")
    );
    // and an object filter of Alpha's channel finds nothing for Beta
    let cross = entries(
        &app,
        &b,
        false,
        json!({"object": "channel", "object_id": id.to_string()}),
    )
    .await;
    assert!(cross.is_empty());
    // the channel's history (the Edit page's link)
    let history = entries(
        &app,
        &a,
        false,
        json!({"object": "channel", "object_id": id.to_string()}),
    )
    .await;
    assert_eq!(
        actions(&history),
        [
            "channel_deleted",
            "test_message_sent",
            "connection_tested",
            "scenario_key_generated",
            "channel_edited",
            "channel_created"
        ]
    );
}

#[tokio::test]
async fn filters_pages_csv_and_roles() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password")
        .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let b = app.session("beta-admin", "beta-password").await;
    // 60 OUs: more than one page of 50
    for i in 0..60 {
        let r = app
            .call(
                "create_ou",
                &[
                    ("name", &format!("=cmd|' -C calc'!A{i}")),
                    ("parent_id", ""),
                ],
                Some(&a),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    app.call(
        "create_ou",
        &[("name", "Beta OU"), ("parent_id", "")],
        Some(&b),
    )
    .await;
    let first = app
        .call_json(
            "list_tenant_audit",
            json!({"filter": {"action": "ou_created"}}),
            Some(&a),
        )
        .await
        .json();
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    let before = first["next_before"].as_i64().expect("a second page");
    let second = app
        .call_json(
            "list_tenant_audit",
            json!({"filter": {"action": "ou_created", "before": before.to_string()}}),
            Some(&a),
        )
        .await
        .json();
    assert_eq!(second["entries"].as_array().unwrap().len(), 10);
    assert!(second["next_before"].is_null());
    assert!(
        second["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["id"].as_i64().unwrap() < before)
    );
    // actor (any case), date range
    let today = time::OffsetDateTime::now_utc().date();
    let day = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    assert_eq!(
        entries(
            &app,
            &a,
            false,
            json!({"actor": "ALPHA-ADMIN", "action": "ou_created", "from": day, "to": day})
        )
        .await
        .len(),
        60
    );
    assert!(
        entries(
            &app,
            &a,
            false,
            json!({"from": "2020-01-01", "to": "2020-01-31"})
        )
        .await
        .is_empty()
    );
    // a tenant's log cannot be searched for the system administrator's name
    assert!(
        entries(&app, &a, false, json!({"actor": "root"}))
            .await
            .is_empty()
    );
    let roots = entries(&app, &root, true, json!({"actor": "root"})).await;
    assert!(!roots.is_empty() && roots.iter().all(|e| e["actor"] == "root"));
    // an id is searched with its kind
    let r = app
        .call_json(
            "list_tenant_audit",
            json!({"filter": {"object_id": "3"}}),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Choose the object type of this id."),
        "{}",
        r.body
    );
    // bad filters: each error next to its field
    let r = app
        .call_json(
            "list_tenant_audit",
            json!({"filter": {"action": "drop", "from": "2026-13-01", "object_id": "x"}}),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    for field in ["action", "from", "object_id"] {
        assert!(
            r.body.contains(&format!("\"{field}\"")),
            "{field}: {}",
            r.body
        );
    }
    // roles: a tenant administrator cannot read the system log, nor anyone signed out
    let r = app
        .call_json("list_system_audit", json!({"filter": {}}), Some(&a))
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .call_json("list_tenant_audit", json!({"filter": {}}), Some(&root))
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .call_json("list_tenant_audit", json!({"filter": {}}), None)
        .await;
    assert_eq!(r.status, 401);

    // .csv: the filtered entries, a header, formulas made harmless, Alpha's only
    let csv = |path: String, cookie: Option<String>| {
        let app = &app;
        async move {
            let mut req = app.http.get(format!("{}{path}", app.base));
            if let Some(c) = cookie {
                req = req.header("Cookie", c);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let ct = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, ct, res.text().await.unwrap())
        }
    };
    let (status, ct, body) = csv(
        "/config/audit.csv?action=ou_created".into(),
        Some(a.clone()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 61, "{body}");
    assert!(lines[0].starts_with("\u{FEFF}Time,Actor,Role,Tenant space"));
    assert!(lines[1].contains(",'=cmd|' -C calc'!A59,"), "{}", lines[1]);
    assert!(!body.contains("Beta OU"));
    let (_, _, all) = csv("/system/audit.csv".into(), Some(root.clone())).await;
    assert!(all.contains("Beta OU") && all.contains("calc"));
    // the other role's log, or signed out: nothing
    assert_eq!(
        csv("/system/audit.csv".into(), Some(a.clone())).await.0,
        403
    );
    let (status, _, body) = csv("/config/audit.csv".into(), None).await;
    assert!(
        status == 302 || status == 200 && body.contains("Sign in"),
        "{status}"
    );
    assert_eq!(
        csv("/config/audit.csv?from=yesterday".into(), Some(a.clone()))
            .await
            .0,
        400
    );
}

fn old_entry(at_ms: i64, tenant: Option<i64>) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        at_ms: Set(at_ms),
        tenant_id: Set(tenant),
        user_id: Set(None),
        actor: Set("seed".into()),
        actor_key: Set("seed".into()),
        role: Set(String::new()),
        client: Set(String::new()),
        action: Set("ou_created".into()),
        object_kind: Set("ou".into()),
        object_id: Set(None),
        object_name: Set("x".into()),
        changes: Set("[]".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn entries_past_the_retention_period_are_purged_in_batches() {
    // a database without a server: a server's own purger (it runs at start) would race the
    // purges counted here
    let (_test_db, url) = fresh_database().await;
    let store = server::db::Db::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let db = &store.conn;
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let day = 86_400_000;
    // 12,000 entries 400 days old (more than two purge batches), 10 from 364 days ago
    for _ in 0..12 {
        audit_entry::Entity::insert_many((0..1000).map(|_| old_entry(now_ms - 400 * day, Some(1))))
            .exec(db)
            .await
            .unwrap();
    }
    audit_entry::Entity::insert_many((0..10).map(|_| old_entry(now_ms - 364 * day, Some(1))))
        .exec(db)
        .await
        .unwrap();
    let purged = server::db::audit::purge(db, 365).await.unwrap();
    assert_eq!(purged, 12_000);
    assert_eq!(audit_entry::Entity::find().count(db).await.unwrap(), 10);
    // a shorter retention takes the rest
    assert_eq!(server::db::audit::purge(db, 30).await.unwrap(), 10);
    assert_eq!(audit_entry::Entity::find().count(db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_csv_export_stops_at_its_cap() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let db = &app.state.db.conn;
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let cap = app::domain::audit::CSV_MAX_ROWS;
    // 2,000 rows of 12 values: under SQLite's and PostgreSQL's bound parameter limits
    for _ in 0..(cap / 2_000 + 1) {
        audit_entry::Entity::insert_many((0..2_000).map(|_| old_entry(now_ms, None)))
            .exec(db)
            .await
            .unwrap();
    }
    let res = app
        .http
        .get(format!("{}/system/audit.csv", app.base))
        .header("Cookie", &root)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    // the header and exactly `cap` entries, though more are stored
    assert_eq!(body.matches("\r\n").count() as u64, cap + 1);
}

/// Splits a `.csv` line as a spreadsheet does with separator `sep`: quotes count only at the
/// start of a cell.
fn spreadsheet_cells(line: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let (mut quoted, mut start) = (false, true);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if start && c == '"' {
            (quoted, start) = (true, false);
            continue;
        }
        start = false;
        if quoted {
            match (c, chars.peek()) {
                ('"', Some('"')) => {
                    chars.next();
                    cell.push('"');
                }
                ('"', _) => quoted = false,
                _ => cell.push(c),
            }
        } else if c == sep {
            out.push(std::mem::take(&mut cell));
            start = true;
        } else {
            cell.push(c);
        }
    }
    out.push(cell);
    out
}

/// Names a user typed with `;`, `,` and tabs before formula starts: whether a spreadsheet
/// reads the `.csv` with `,` (as written) or with `;` (Excel in many European locales) or
/// tabs, no cell starts with `= + - @` (or a tab or carriage return).
#[tokio::test]
async fn the_audit_csv_has_no_formula_whichever_separator_it_is_read_with() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let pem = include_bytes!("../fixtures/infobip.pem").to_vec();
    for name in [
        "h2;=1+1",
        "x, @SUM(1)",
        "t;\t-2+3",
        "q;\"+cmd|' /C calc'!A0",
    ] {
        let r = app
            .upload_certificate(&a, name, "trust", pem.clone(), "")
            .await;
        assert_eq!(r.status, 200, "{name}: {}", r.body);
    }
    let r = app
        .call(
            "create_ou",
            &[("name", "North; =HYPERLINK(1)"), ("parent_id", "")],
            Some(&a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let res = app
        .http
        .get(format!("{}/config/audit.csv", app.base))
        .header("Cookie", &a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("h2;'=1+1"), "{body}");
    // line breaks inside quoted fields: the lines as a reader of each separator sees them
    let mut read = 0;
    for sep in [',', ';', '\t'] {
        for line in body.trim_start_matches('\u{FEFF}').split(['\n', '\r']) {
            for cell in spreadsheet_cells(line, sep) {
                read += 1;
                let shown = cell.trim_start_matches(' ');
                assert!(
                    !shown.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "read with {sep:?}: the cell {cell:?} of {line:?}"
                );
            }
        }
    }
    assert!(read > 30, "{read}");
}
