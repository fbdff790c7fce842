//! Channel health, the dashboard and the routing preview through HTTP, on SQLite and
//! PostgreSQL: every reason appears from what really happened (deliveries refused and
//! accepted, a failed Test connection against a fake provider over TLS, a token or certificate
//! near its end, silence since creation) and clears when fixed.

#![allow(clippy::unwrap_used)]

use crate::common::fake_provider::{self, FakeConfig, Pki};
use crate::common::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use server::db::entities::channel;

fn day(offset: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(offset);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn list(app: &TestApp, cookie: &str, attention: bool, sort: &str) -> Value {
    let r = app
        .call_json(
            "list_channels",
            json!({"query": {"search": "", "provider": "", "sort": sort, "descending": true,
                             "attention": attention, "page": 1, "per_page": 20}}),
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// `(level, reasons)` of the channel named `name` on the list.
async fn health(app: &TestApp, cookie: &str, name: &str) -> (String, Vec<String>) {
    let page = list(app, cookie, false, "Name").await;
    let row = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {page}"))
        .clone();
    let h = &row["health"];
    (
        h["level"].as_str().unwrap().to_owned(),
        h["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["message"].as_str().unwrap().to_owned())
            .collect(),
    )
}

async fn dashboard(app: &TestApp, cookie: &str) -> Value {
    let r = app.call("get_dashboard", &[], Some(cookie)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// An infobip delivery with this AccountKey header (none when empty).
async fn queue(app: &TestApp, cookie: &str) -> String {
    app.call(
        "create_skill_queue",
        &[("name", "Care"), ("access_code", "1")],
        Some(cookie),
    )
    .await
    .json()
    .as_i64()
    .unwrap()
    .to_string()
}

async fn create(app: &TestApp, cookie: &str, draft: Value) -> i64 {
    let r = app
        .call_json("create_channel", json!({ "draft": draft }), Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_i64().unwrap()
}

/// Saves `changes` over the channel's stored draft.
async fn edit(app: &TestApp, cookie: &str, id: i64, changes: Value) {
    let c = app
        .call("get_channel", &[("id", &id.to_string())], Some(cookie))
        .await
        .json();
    let mut draft = c["draft"].clone();
    for (k, v) in changes.as_object().unwrap() {
        draft[k] = v.clone();
    }
    let r = app
        .call_json(
            "update_channel",
            json!({"id": id, "version": c["version"], "draft": draft}),
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn refused_and_accepted_deliveries_move_the_health_and_the_dashboard() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    let b = app
        .infobip_channel(&root, "Beta", "beta-admin", "hook-beta")
        .await;
    assert_eq!(health(&app, &a.cookie, "wa_infobip").await.0, "Ok");
    let d = dashboard(&app, &a.cookie).await;
    assert_eq!(
        (d["ok"].as_u64(), d["failing"].as_u64()),
        (Some(1), Some(0))
    );

    assert_eq!(deliver(&a.message_url, "wrong").await, 401);
    app.state.webhook_writer.flush().await;
    let (level, reasons) = health(&app, &a.cookie, "wa_infobip").await;
    assert_eq!(level, "Failing");
    assert_eq!(
        reasons,
        [
            "The last delivery was refused and none was ever accepted: AccountKey does not match the Webhook Password."
        ]
    );
    // sorted and filtered in SQL
    let page = list(&app, &a.cookie, true, "Health").await;
    assert_eq!(page["total"], 1, "{page}");
    for sort in ["Name", "Provider", "Updated"] {
        let page = list(&app, &a.cookie, true, sort).await;
        assert_eq!(page["rows"].as_array().unwrap().len(), 1, "{sort}: {page}");
    }
    let d = dashboard(&app, &a.cookie).await;
    assert_eq!(d["failing"], 1, "{d}");
    assert_eq!(d["refused_24h"], 1, "{d}");
    assert_eq!(d["needs_attention"][0]["name"], "wa_infobip", "{d}");
    assert_eq!(
        d["needs_attention"][0]["health"]["reasons"][0]["fix"],
        "Activity"
    );
    // the other tenant sees none of it
    let other = dashboard(&app, &b.cookie).await;
    assert_eq!(
        (other["failing"].as_u64(), other["refused_24h"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(list(&app, &b.cookie, true, "Health").await["total"], 0);

    assert_eq!(deliver(&a.message_url, "hook-alpha").await, 200);
    let (level, reasons) = health(&app, &a.cookie, "wa_infobip").await;
    assert_eq!((level.as_str(), reasons.len()), ("Ok", 0), "{reasons:?}");
    assert_eq!(list(&app, &a.cookie, true, "Health").await["total"], 0);
    let d = dashboard(&app, &a.cookie).await;
    assert_eq!(
        (d["ok"].as_u64(), d["failing"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(d["accepted_24h"], 1, "{d}");
    // a refusal after an accepted delivery fails it again
    assert_eq!(deliver(&a.message_url, "").await, 401);
    app.state.webhook_writer.flush().await;
    let (level, reasons) = health(&app, &a.cookie, "wa_infobip").await;
    assert_eq!(level, "Failing");
    assert!(
        reasons[0].contains("after the last accepted one"),
        "{reasons:?}"
    );
    assert!(
        reasons[0].contains("AccountKey header missing"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn silence_since_creation_needs_attention_until_something_arrives() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    // created three days ago, as far as the database knows; the sweep finds it due
    channel::Entity::update_many()
        .col_expr(
            channel::Column::CreatedAt,
            Expr::value(time::OffsetDateTime::now_utc() - time::Duration::days(3)),
        )
        .filter(channel::Column::Id.eq(a.id))
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    server::db::health::mark_due(&app.state.db.conn, &[a.id])
        .await
        .unwrap();
    assert_eq!(
        server::db::health::sweep(&app.state.db.conn).await.unwrap(),
        1
    );
    let (level, reasons) = health(&app, &a.cookie, "wa_infobip").await;
    assert_eq!(level, "Attention");
    assert!(
        reasons[0]
            .starts_with("No delivery has arrived in the 3 days since the channel was created"),
        "{reasons:?}"
    );
    assert_eq!(list(&app, &a.cookie, true, "Health").await["total"], 1);
    assert_eq!(deliver(&a.message_url, "hook-alpha").await, 200);
    assert_eq!(health(&app, &a.cookie, "wa_infobip").await.0, "Ok");
    assert_eq!(list(&app, &a.cookie, true, "Health").await["total"], 0);
    // nothing is due any more
    assert_eq!(
        server::db::health::sweep(&app.state.db.conn).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_token_near_its_end_needs_attention_and_a_renewed_one_clears_it() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.call(
        "add_trust_prefix",
        &[
            ("prefix", "https://graph.facebook.com"),
            ("scope", "global"),
        ],
        Some(&root),
    )
    .await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let q = queue(&app, &a).await;
    let draft = json!({"provider": "cloud-api", "name": "wa_cloud", "app_key": "123", "app_secret": "s",
        "phone_number": "15550001111", "base_url": "https://graph.facebook.com", "access_token": "t",
        "token_valid_until": day(3), "skill_queue_id": q,
        "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]});
    let id = create(&app, &a, draft).await;
    let (level, reasons) = health(&app, &a, "wa_cloud").await;
    assert_eq!(level, "Attention");
    assert_eq!(
        reasons,
        [format!(
            "The Access Token expires in 3 days (Token Validity Period {}). Renew it before then.",
            day(3)
        )]
    );
    // shown with its fix on Integration and Edit
    let i = app
        .call(
            "get_channel_integration",
            &[("id", &id.to_string())],
            Some(&a),
        )
        .await
        .json();
    assert_eq!(i["health"]["reasons"][0]["fix"], "Edit", "{i}");
    let e = app
        .call("get_channel", &[("id", &id.to_string())], Some(&a))
        .await
        .json();
    assert_eq!(e["health"]["level"], "Attention", "{e}");

    edit(
        &app,
        &a,
        id,
        json!({"token_valid_until": day(15), "access_token": "t2"}),
    )
    .await;
    assert_eq!(health(&app, &a, "wa_cloud").await.0, "Ok");
    // the warning starts by time alone: when it is due, the sweep finds it
    let stored = channel::Entity::find_by_id(id)
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    let due = stored.health_due_at.expect("due when the 14 days begin");
    let expected = time::OffsetDateTime::now_utc().date() + time::Duration::days(1);
    assert_eq!(due.date(), expected, "{due}");
    // an expired one (as stored; the form refuses a past date) fails
    channel::Entity::update_many()
        .col_expr(channel::Column::TokenValidUntil, Expr::value(day(-1)))
        .filter(channel::Column::Id.eq(id))
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    server::db::health::mark_due(&app.state.db.conn, &[id])
        .await
        .unwrap();
    server::db::health::sweep(&app.state.db.conn).await.unwrap();
    let (level, reasons) = health(&app, &a, "wa_cloud").await;
    assert_eq!(level, "Failing");
    assert!(
        reasons[0].starts_with("The Access Token expired"),
        "{reasons:?}"
    );
    assert_eq!(list(&app, &a, true, "Health").await["total"], 1);
}

#[tokio::test]
async fn a_failed_test_and_an_expiring_certificate_clear_when_fixed() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let tenant = app
        .create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    let r = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", fake.base.as_str()),
                ("scope", &tenant.to_string()),
                ("allow_private", "on"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = app.session("alpha-admin", "alpha-password").await;
    let q = queue(&app, &a).await;
    let upload = |name: &'static str, file: Vec<u8>| {
        let (app, a) = (&app, a.clone());
        async move {
            let r = app
                .upload_certificate(&a, name, "authentication", file, "")
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.json().as_i64().unwrap().to_string()
        }
    };
    let good = upload("fake ca", fake.pki.ca_der()).await;
    // another CA of the same name that expires in 10 days
    let soon = Pki::new_until(
        "soon",
        Some(time::OffsetDateTime::now_utc() + time::Duration::days(10)),
    );
    let expiring = upload("expiring ca", soon.ca_der()).await;
    let key = FakeConfig::default().infobip_account_key;
    let draft = json!({"provider": "infobip", "name": "wa_infobip", "phone_number": "+4915112345678",
        "username": "acme", "password": "p", "base_url": fake.base, "account_key": "wrong-key",
        "webhook_password": "hook-password", "auth_certificate_id": good, "skill_queue_id": q,
        "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]});
    let id = create(&app, &a, draft).await;
    let r = app
        .call(
            "test_channel_connection",
            &[("id", &id.to_string())],
            Some(&a),
        )
        .await;
    assert_eq!(r.json()["ok"], false, "{}", r.body);
    let (level, reasons) = health(&app, &a, "wa_infobip").await;
    assert_eq!(level, "Failing");
    assert!(
        reasons[0].starts_with("The last Test connection failed: "),
        "{reasons:?}"
    );
    edit(&app, &a, id, json!({"account_key": key})).await;
    let r = app
        .call(
            "test_channel_connection",
            &[("id", &id.to_string())],
            Some(&a),
        )
        .await;
    assert_eq!(r.json()["ok"], true, "{}", r.body);
    assert_eq!(health(&app, &a, "wa_infobip").await.0, "Ok");

    edit(&app, &a, id, json!({"auth_certificate_id": expiring})).await;
    let (level, reasons) = health(&app, &a, "wa_infobip").await;
    assert_eq!(level, "Attention");
    assert!(
        reasons[0].starts_with("The Authentication Certificate 'expiring ca' expires in 9 days")
            || reasons[0]
                .starts_with("The Authentication Certificate 'expiring ca' expires in 10 days"),
        "{reasons:?}"
    );
    let d = dashboard(&app, &a).await;
    assert_eq!(d["certificates"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d["certificates"][0]["name"], "expiring ca");
    assert_eq!(d["attention"], 1, "{d}");
    edit(&app, &a, id, json!({"auth_certificate_id": good})).await;
    assert_eq!(health(&app, &a, "wa_infobip").await.0, "Ok");
}

async fn preview(
    app: &TestApp,
    cookie: &str,
    id: i64,
    date: &str,
    time: &str,
    msg: &str,
) -> Answer {
    app.call(
        "preview_routing",
        &[
            ("id", &id.to_string()),
            ("date", date),
            ("time", time),
            ("message", msg),
        ],
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn routing_preview_in_the_tenants_time_zone() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    let b = app
        .infobip_channel(&root, "Beta", "beta-admin", "hook-beta")
        .await;
    edit(
        &app,
        &a.cookie,
        a.id,
        json!({"keywords": "agent, human please", "non_working_notification": "We are closed. We answer from 09:00.",
               "workday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "24:00"}],
               "non_workday": [{"start": "10:00", "end": "14:00"}]}),
    )
    .await;
    // the time zone: refused when it is not one, kept when it is
    let r = app
        .call(
            "save_time_zone",
            &[("time_zone", "Mars/Olympus")],
            Some(&a.cookie),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("is not a time zone"), "{}", r.body);
    let r = app
        .call(
            "save_time_zone",
            &[("time_zone", "Europe/Berlin")],
            Some(&a.cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = app
        .call("get_service_time", &[], Some(&a.cookie))
        .await
        .json();
    assert_eq!(st["time_zone"], "Europe/Berlin");
    let r = app
        .call(
            "add_non_working_date",
            &[("date", "2026-12-24"), ("name", "Christmas Eve")],
            Some(&a.cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // a Saturday evening: non-workday, outside 10:00-14:00
    let p = preview(&app, &a.cookie, a.id, "2026-11-28", "19:30", "hello").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let p = p.json();
    assert_eq!(p["day_kind"], "Non-workday");
    assert_eq!(p["work_time"], false);
    assert_eq!(p["notification"], "We are closed. We answer from 09:00.");
    assert_eq!(p["zone_note"], "Times are in Europe/Berlin.");
    // a Thursday that is a non-working date, at a workday's work time
    let p = preview(&app, &a.cookie, a.id, "2026-12-24", "09:30", "AGENT please")
        .await
        .json();
    assert_eq!(p["weekday"], "Thursday");
    assert_eq!(p["day_kind"], "Non-workday", "{p}");
    assert_eq!(p["work_time"], false);
    assert_eq!(p["keyword"], "agent");
    // a workday: the keyword transfers, the segment ending 24:00 covers 23:59
    let p = preview(
        &app,
        &a.cookie,
        a.id,
        "2026-12-23",
        "23:59",
        "a human please!",
    )
    .await
    .json();
    assert_eq!(p["work_time"], true, "{p}");
    assert_eq!(
        p["outcome"],
        "The message matches the keyword 'human please': it is transferred to an agent of skill queue 'Care'."
    );
    let p = preview(&app, &a.cookie, a.id, "2026-12-23", "12:30", "agents")
        .await
        .json();
    assert_eq!(
        (p["work_time"].as_bool(), p["keyword"].is_null()),
        (Some(false), true),
        "{p}"
    );
    // a time the clocks skip in Berlin
    let p = preview(&app, &a.cookie, a.id, "2026-03-29", "02:30", "")
        .await
        .json();
    assert_eq!(p["time"], "03:30", "{p}");
    assert!(
        p["zone_note"]
            .as_str()
            .unwrap()
            .contains("02:30 does not exist"),
        "{p}"
    );
    // empty date and time: now, in the zone
    let p = preview(&app, &a.cookie, a.id, "", "", "").await;
    assert_eq!(p.status, 200, "{}", p.body);
    // bad input, each next to its field
    let r = preview(
        &app,
        &a.cookie,
        a.id,
        "2026-02-30",
        "25:00",
        &"x".repeat(1001),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    for field in ["date", "time", "message"] {
        assert!(
            r.body.contains(&format!("\"{field}\"")),
            "{field}: {}",
            r.body
        );
    }
    let r = preview(&app, &a.cookie, a.id, "2026-11-28", "24:00", "").await;
    assert_eq!(r.status, 422, "{}", r.body);
    // another tenant's channel is not found; no session is refused
    assert_eq!(preview(&app, &b.cookie, a.id, "", "", "").await.status, 404);
    assert_eq!(
        app.call(
            "preview_routing",
            &[
                ("id", &a.id.to_string()),
                ("date", ""),
                ("time", ""),
                ("message", "")
            ],
            None
        )
        .await
        .status,
        401
    );
    assert_eq!(app.call("get_dashboard", &[], None).await.status, 401);
}

#[tokio::test]
async fn the_sweep_goes_past_its_batch_and_the_dashboard_lists_at_most_20() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    // 1,200 channels made as `switchboard demo` makes them: their health is due at once
    server::demo::seed(&app.state, "Alpha", 1_200)
        .await
        .unwrap();
    // (the background sweep may have taken some already; together they cover all)
    server::db::health::sweep(&app.state.db.conn).await.unwrap();
    let due = channel::Entity::find()
        .filter(channel::Column::HealthDueAt.lte(time::OffsetDateTime::now_utc()))
        .all(&app.state.db.conn)
        .await
        .unwrap();
    assert!(due.is_empty(), "{} channels still due", due.len());
    // 25 of them with a refused delivery, as the webhook writer records it
    let ids: Vec<i64> = channel::Entity::find()
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .take(25)
        .map(|c| c.id)
        .collect();
    channel::Entity::update_many()
        .col_expr(
            channel::Column::LastRefusedAt,
            Expr::value(time::OffsetDateTime::now_utc()),
        )
        .col_expr(
            channel::Column::LastRefusedReason,
            Expr::value("account_key_missing"),
        )
        .filter(channel::Column::Id.is_in(ids.clone()))
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    server::db::health::refresh(&app.state.db.conn, &ids)
        .await
        .unwrap();
    let d = dashboard(&app, &a).await;
    assert_eq!(d["failing"], 25, "{d}");
    assert_eq!(
        d["ok"].as_u64().unwrap() + d["attention"].as_u64().unwrap(),
        1_175,
        "{d}"
    );
    assert_eq!(d["needs_attention"].as_array().unwrap().len(), 20, "{d}");
    let page = list(&app, &a, true, "Name").await;
    assert_eq!(page["total"], 25, "{page}");
}

#[tokio::test]
async fn a_level_computed_from_facts_that_changed_meanwhile_is_not_written() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "hook-alpha")
        .await;
    // a refusal is recorded, and its level planned from it...
    assert_eq!(deliver(&a.message_url, "wrong").await, 401);
    app.state.webhook_writer.flush().await;
    let db = &app.state.db.conn;
    channel::Entity::update_many()
        .col_expr(channel::Column::Health, Expr::value(0i16))
        .filter(channel::Column::Id.eq(a.id))
        .exec(db)
        .await
        .unwrap();
    let plan = server::db::health::plan(db, &[a.id]).await.unwrap();
    assert_eq!(plan.len(), 1, "Failing differs from the stored OK");
    // ...then a delivery is accepted before the plan is written
    assert_eq!(deliver(&a.message_url, "hook-alpha").await, 200);
    server::db::health::apply(db, &plan).await.unwrap();
    let c = channel::Entity::find_by_id(a.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.health, 0, "the stale Failing was not written");
    assert!(
        c.health_due_at.unwrap() <= time::OffsetDateTime::now_utc(),
        "left to the sweep"
    );
    assert_eq!(server::db::health::sweep(db).await.unwrap(), 1);
    let c = channel::Entity::find_by_id(a.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.health, c.health_due_at), (0, None));
    assert_eq!(server::db::health::sweep(db).await.unwrap(), 0);
}
