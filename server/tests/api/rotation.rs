//! Webhook credentials that change without an outage (issue 26): the overlap accepts both
//! values and records which one came, the previous value is refused after it with when it was
//! retired, the overlap ends early on request or by the sweep; and Twilio's own
//! `X-Twilio-Signature`, signed here independently of the code under test.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::webhooks::{World, has, post, refused, world};
use base64::Engine;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use server::db::entities::channel;
use server::webhooks::auth::hub_signature_of;
use sha1::Sha1;

async fn alpha(w: &World) -> String {
    w.app.session("alpha-admin", "alpha-password").await
}

async fn change(w: &World, cookie: &str, id: i64, form: &[(&str, &str)]) -> Answer {
    let id = id.to_string();
    let mut all = vec![("id", id.as_str())];
    all.extend_from_slice(form);
    w.app
        .call("change_webhook_credential", &all, Some(cookie))
        .await
}

async fn integration(w: &World, cookie: &str, id: i64) -> Value {
    let r = w
        .app
        .call(
            "get_channel_integration",
            &[("id", &id.to_string())],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// The channel's Channel Integration once `ready` holds of its rotation (the sightings are
/// written off the request path).
async fn rotation_when(w: &World, cookie: &str, id: i64, ready: impl Fn(&Value) -> bool) -> Value {
    w.app.state.webhook_writer.flush().await;
    for _ in 0..100 {
        let r = integration(w, cookie, id).await["rotation"].clone();
        if ready(&r) {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the rotation never got there: {}",
        integration(w, cookie, id).await
    );
}

/// Saves the channel on Edit with `change` made to its draft, as the form does.
pub(crate) async fn edit(
    w: &World,
    cookie: &str,
    id: i64,
    change: impl FnOnce(&mut Value),
) -> Answer {
    let edit = w
        .app
        .call("get_channel", &[("id", &id.to_string())], Some(cookie))
        .await
        .json();
    let mut draft = edit["draft"].clone();
    change(&mut draft);
    w.app
        .call_json(
            "update_channel",
            json!({"id": id, "version": edit["version"], "draft": draft}),
            Some(cookie),
        )
        .await
}

async fn events(w: &World, cookie: &str, id: i64) -> Vec<Value> {
    w.app.state.webhook_writer.flush().await;
    let r = w
        .app
        .call_json(
            "get_channel_activity",
            json!({"id": id, "at": "First"}),
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["events"].as_array().unwrap().clone()
}

fn how(events: &[Value], id: &str) -> String {
    events
        .iter()
        .find(|e| e["provider_message_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {events:?}"))["authenticated"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn actions(w: &World) -> Vec<String> {
    let r = w
        .app
        .call_json("list_system_audit", json!({"filter": {}}), Some(&w.root))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

/// Moves the end of a channel's overlap into the past, as time would.
async fn run_out(w: &World, id: i64) {
    channel::Entity::update_many()
        .col_expr(
            channel::Column::RotationUntil,
            Expr::value(server::db::now() - time::Duration::SECOND),
        )
        .filter(channel::Column::Id.eq(id))
        .exec(&w.app.state.db.conn)
        .await
        .unwrap();
}

fn infobip_body(id: &str) -> Vec<u8> {
    json!({"results": [{"messageId": id, "from": "4915", "to": "4930", "message": {"type": "TEXT", "text": "hi"}}]})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn a_webhook_password_changes_with_an_overlap_and_the_old_one_is_retired() {
    let w = world().await;
    let a = alpha(&w).await;
    let id = w.ids["infobip"];
    let (msg, _) = w.urls["infobip"].clone();
    let key = |k: &'static str| [("AccountKey", k)];
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-1"), infobip_body("m0"), false)
            .await
            .0,
        200
    );
    assert_eq!(integration(&w, &a, id).await["rotation"], Value::Null);

    // every bad input is answered at its field, and nothing changes
    for (form, field) in [
        (
            vec![
                ("credential", "webhook_password"),
                ("value", "short"),
                ("overlap_hours", "24"),
            ],
            "value",
        ),
        (
            vec![
                ("credential", "webhook_password"),
                ("value", "a-good-password"),
                ("overlap_hours", "721"),
            ],
            "overlap_hours",
        ),
        (
            vec![
                ("credential", "webhook_password"),
                ("value", "a-good-password"),
                ("overlap_hours", "1.5"),
            ],
            "overlap_hours",
        ),
        (
            vec![
                ("credential", "app_secret"),
                ("value", "a-good-secret"),
                ("overlap_hours", "24"),
            ],
            "credential",
        ),
        (
            vec![
                ("credential", "password"),
                ("value", "a-good-password"),
                ("overlap_hours", "24"),
            ],
            "credential",
        ),
        (
            vec![
                ("credential", "webhook_password"),
                ("value", "infobip-hook-1"),
                ("overlap_hours", "24"),
            ],
            "value",
        ),
        (
            vec![
                ("credential", "webhook_password"),
                ("value", ""),
                ("overlap_hours", "24"),
            ],
            "value",
        ),
    ] {
        let r = change(&w, &a, id, &form).await;
        assert_eq!(r.status, 422, "{form:?}: {}", r.body);
        assert!(r.body.contains(field), "{form:?}: {}", r.body);
    }
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-1"), infobip_body("m1"), false)
            .await
            .0,
        200
    );

    // the change: both are accepted during the overlap, and which one came is recorded
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "webhook_password"),
            ("value", "infobip-hook-2"),
            ("overlap_hours", "24"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["generated"], Value::Null);
    assert!(
        !r.body.contains("infobip-hook"),
        "no value is sent back: {}",
        r.body
    );
    let status = integration(&w, &a, id).await["rotation"].clone();
    assert_eq!(status["active"], true);
    assert_eq!(status["new_first_seen"], Value::Null);
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-1"), infobip_body("m2"), false)
            .await
            .0,
        200
    );
    let status = rotation_when(&w, &a, id, |r| r["previous_last_seen"].is_string()).await;
    assert_eq!(
        status["new_first_seen"],
        Value::Null,
        "still on the previous one"
    );
    // "last seen" is written at most once a minute (PREVIOUS_SEEN_EVERY), not per delivery
    let seen_at = |w: &World| {
        let db = w.app.state.db.conn.clone();
        async move {
            channel::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .rotation_previous_seen_at
                .unwrap()
        }
    };
    let first = seen_at(&w).await;
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-1"), infobip_body("m2b"), false)
            .await
            .0,
        200
    );
    w.app.state.webhook_writer.flush().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(seen_at(&w).await, first, "written again within the minute");
    let long_ago = first - time::Duration::minutes(2);
    channel::Entity::update_many()
        .col_expr(
            channel::Column::RotationPreviousSeenAt,
            Expr::value(long_ago),
        )
        .filter(channel::Column::Id.eq(id))
        .exec(&w.app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-1"), infobip_body("m2c"), false)
            .await
            .0,
        200
    );
    w.app.state.webhook_writer.flush().await;
    let mut later = long_ago;
    for _ in 0..100 {
        later = seen_at(&w).await;
        if later > long_ago {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(later > long_ago, "a minute on, it is written again");
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-2"), infobip_body("m3"), false)
            .await
            .0,
        200
    );
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-3"), infobip_body("m4"), false)
            .await
            .0,
        401
    );
    let status = rotation_when(&w, &a, id, |r| r["new_first_seen"].is_string()).await;
    assert_eq!(status["active"], true);
    let e = events(&w, &a, id).await;
    assert_eq!(how(&e, "m2"), "with the previous Webhook Password");
    assert_eq!(how(&e, "m3"), "with the new Webhook Password");
    assert_eq!(how(&e, "m1"), "", "before the change nothing is recorded");
    assert!(
        !e.iter().any(|x| x["provider_message_id"] == "m4"),
        "a wrong password stores nothing"
    );
    let seen = actions(&w).await;
    assert!(
        seen.iter().any(|a| a == "webhook_change_started"),
        "{seen:?}"
    );
    assert!(seen.iter().any(|a| a == "webhook_switch_seen"), "{seen:?}");
    // the switch is recorded once however many deliveries come
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-2"), infobip_body("m5"), false)
            .await
            .0,
        200
    );
    w.app.state.webhook_writer.flush().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        actions(&w)
            .await
            .iter()
            .filter(|a| *a == "webhook_switch_seen")
            .count(),
        1
    );

    // ended early: the previous one is refused at once, with when it was retired
    let r = w
        .app
        .call("end_webhook_overlap", &[("id", &id.to_string())], Some(&a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-1"), infobip_body("m6"), false)
            .await
            .0,
        401
    );
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-2"), infobip_body("m7"), false)
            .await
            .0,
        200
    );
    let lines = refused(&w, "wa_infobip").await;
    assert!(
        has(&lines, 401, "The previous Webhook Password, retired on "),
        "{lines:?}"
    );
    let status = integration(&w, &a, id).await["rotation"].clone();
    assert_eq!(status["active"], false);
    let r = w
        .app
        .call("end_webhook_overlap", &[("id", &id.to_string())], Some(&a))
        .await;
    assert_eq!(r.status, 422, "nothing left to end: {}", r.body);
    assert!(
        actions(&w)
            .await
            .iter()
            .any(|a| a == "webhook_change_ended")
    );

    // Generate: Switchboard makes the value and shows it once; an overlap that runs out is
    // recorded by the sweep, once
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "webhook_password"),
            ("generate", "on"),
            ("overlap_hours", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let generated = r.json()["generated"].as_str().unwrap().to_owned();
    assert!(generated.chars().count() >= 20, "{generated}");
    assert_eq!(
        post(
            &w,
            &msg,
            &key(Box::leak(generated.clone().into_boxed_str())),
            infobip_body("m8"),
            false
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-2"), infobip_body("m9"), false)
            .await
            .0,
        200
    );
    run_out(&w, id).await;
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-2"), infobip_body("m10"), false)
            .await
            .0,
        401
    );
    let ended_before = actions(&w)
        .await
        .iter()
        .filter(|a| *a == "webhook_change_ended")
        .count();
    assert_eq!(
        server::db::channels::sweep_ended_overlaps(&w.app.state.db.conn)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        server::db::channels::sweep_ended_overlaps(&w.app.state.db.conn)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        actions(&w)
            .await
            .iter()
            .filter(|a| *a == "webhook_change_ended")
            .count(),
        ended_before + 1
    );

    // an overlap of 0 refuses the previous value at once
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "webhook_password"),
            ("value", "infobip-hook-4"),
            ("overlap_hours", "0"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let g: &'static str = Box::leak(generated.into_boxed_str());
    assert_eq!(
        post(&w, &msg, &key(g), infobip_body("m11"), false).await.0,
        401
    );
    assert_eq!(
        post(&w, &msg, &key("infobip-hook-4"), infobip_body("m12"), false)
            .await
            .0,
        200
    );

    // 7 days after the overlap the sweep drops the previous value: it is refused as any wrong
    // one from then on, and nothing of it is kept
    let lines = refused(&w, "wa_infobip").await;
    let retired_before = lines
        .iter()
        .filter(|l| {
            l["reason"]
                .as_str()
                .unwrap()
                .starts_with("The previous Webhook Password")
        })
        .count();
    channel::Entity::update_many()
        .col_expr(
            channel::Column::RotationUntil,
            Expr::value(server::db::now() - time::Duration::days(7) - time::Duration::MINUTE),
        )
        .filter(channel::Column::Id.eq(id))
        .exec(&w.app.state.db.conn)
        .await
        .unwrap();
    server::db::channels::sweep_ended_overlaps(&w.app.state.db.conn)
        .await
        .unwrap();
    let row = channel::Entity::find_by_id(id)
        .one(&w.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.previous_secret_enc, None);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        post(&w, &msg, &key(g), infobip_body("m13"), false).await.0,
        401
    );
    let lines = refused(&w, "wa_infobip").await;
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["reason"]
                .as_str()
                .unwrap()
                .starts_with("The previous Webhook Password"))
            .count(),
        retired_before,
        "{lines:?}"
    );
    assert!(
        lines[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("AccountKey does not match the Webhook Password"),
        "{lines:?}"
    );

    // the audit log never holds a value
    let text = w
        .app
        .call_json("list_system_audit", json!({"filter": {}}), Some(&w.root))
        .await
        .body;
    for secret in ["infobip-hook-2", "infobip-hook-4", g] {
        assert!(!text.contains(secret), "{secret} is in the audit log");
    }
    // another tenant space cannot change or end this channel's
    w.app
        .create_tenant(&w.root, "Beta", "beta-admin", "beta-password")
        .await;
    let b = w.app.session("beta-admin", "beta-password").await;
    let r = change(
        &w,
        &b,
        id,
        &[
            ("credential", "webhook_password"),
            ("value", "beta-took-it"),
            ("overlap_hours", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = w
        .app
        .call("end_webhook_overlap", &[("id", &id.to_string())], Some(&b))
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = w
        .app
        .call(
            "change_webhook_credential",
            &[
                ("id", &id.to_string()),
                ("credential", "webhook_password"),
                ("value", "anon-took-it"),
                ("overlap_hours", "1"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[tokio::test]
async fn edit_keeps_the_previous_webhook_password_for_a_day_only_when_asked() {
    let w = world().await;
    let a = alpha(&w).await;
    let id = w.ids["twilio"];
    let (msg, _) = w.urls["twilio"].clone();
    let basic = |p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("aicc_hook:{p}"))
        )
    };
    let form = |sid: &str| {
        format!("MessageSid={sid}&From=whatsapp%3A%2B4915&To=whatsapp%3A%2B1415&Body=Hi")
            .into_bytes()
    };
    let r = edit(&w, &a, id, |draft| {
        draft["webhook_password"] = json!("S3cret!pass-2");
        draft["keep_previous_webhook_secret"] = json!(true);
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let old = basic("S3cret!pass");
    let new = basic("S3cret!pass-2");
    assert_eq!(
        post(&w, &msg, &[("Authorization", &old)], form("SMa"), true)
            .await
            .0,
        200
    );
    assert_eq!(
        post(&w, &msg, &[("Authorization", &new)], form("SMb"), true)
            .await
            .0,
        200
    );
    let status = rotation_when(&w, &a, id, |r| r["new_first_seen"].is_string()).await;
    assert_eq!(status["credential"], "WebhookPassword");
    assert_eq!(status["active"], true);
    let e = events(&w, &a, id).await;
    assert_eq!(how(&e, "SMa"), "with the previous Webhook Password");
    // a save that keeps the password starts nothing new
    let r = edit(&w, &a, id, |_| {}).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        integration(&w, &a, id).await["rotation"]["new_first_seen"],
        status["new_first_seen"]
    );
    // a new one saved without the box (a password that leaked): the current one stops at
    // once, and so does the one before it
    let r = edit(&w, &a, id, |draft| {
        draft["webhook_password"] = json!("S3cret!pass-3");
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        post(&w, &msg, &[("Authorization", &new)], form("SMc"), true)
            .await
            .0,
        401
    );
    assert_eq!(
        post(&w, &msg, &[("Authorization", &old)], form("SMd"), true)
            .await
            .0,
        401
    );
    let newest = basic("S3cret!pass-3");
    assert_eq!(
        post(&w, &msg, &[("Authorization", &newest)], form("SMe"), true)
            .await
            .0,
        200
    );
    assert_eq!(integration(&w, &a, id).await["rotation"], Value::Null);
    // a change running when the provider changes is over too
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "webhook_password"),
            ("value", "S3cret!pass-4"),
            ("overlap_hours", "24"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let infobip = provider_drafts(&json!({}))
        .into_iter()
        .find(|(p, _)| *p == "infobip")
        .unwrap()
        .1;
    let r = edit(&w, &a, id, |draft| {
        for (k, v) in infobip.as_object().unwrap() {
            if k != "name" {
                draft[k] = v.clone();
            }
        }
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(integration(&w, &a, id).await["rotation"], Value::Null);
    let row = channel::Entity::find_by_id(id)
        .one(&w.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.previous_secret_enc, None,
        "the previous value is dropped"
    );
}

#[tokio::test]
async fn cloud_api_app_secret_and_verification_code_change_with_an_overlap() {
    let w = world().await;
    let a = alpha(&w).await;
    let id = w.ids["cloud-api"];
    let (url, code) = w.urls["cloud-api"].clone();
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"15550001111"},"messages":[{"from":"4915","id":"wamid.X","type":"text","text":{"body":"Hallo"}}]}}]}]}"#;
    let signed = |secret: &str, id: &str| {
        let b = String::from_utf8(body.to_vec())
            .unwrap()
            .replace("wamid.X", id);
        (hub_signature_of(secret, b.as_bytes()), b.into_bytes())
    };
    let send = |secret: &'static str, mid: &'static str| {
        let (sig, b) = signed(secret, mid);
        let w = &w;
        let url = url.clone();
        async move {
            post(w, &url, &[("X-Hub-Signature-256", &sig)], b, false)
                .await
                .0
        }
    };
    // Meta makes the APP Secret: it cannot be generated here
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "app_secret"),
            ("generate", "on"),
            ("overlap_hours", "24"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Meta"), "{}", r.body);
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "app_secret"),
            ("value", "app_secret_456"),
            ("overlap_hours", "24"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(send("app_secret_123", "wamid.old").await, 200);
    assert_eq!(send("app_secret_456", "wamid.new").await, 200);
    assert_eq!(send("app_secret_789", "wamid.bad").await, 401);
    let e = events(&w, &a, id).await;
    assert_eq!(how(&e, "wamid.old"), "with the previous APP Secret");
    assert_eq!(how(&e, "wamid.new"), "with the new APP Secret");
    run_out(&w, id).await;
    assert_eq!(send("app_secret_123", "wamid.late").await, 401);
    let lines = refused(&w, "wa_cloud").await;
    assert!(
        has(
            &lines,
            401,
            "Signed with the previous APP Secret, retired on "
        ),
        "{lines:?}"
    );

    // the Verification Code: a new one generated, the previous one still verifies meanwhile
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "verification_code"),
            ("generate", "on"),
            ("overlap_hours", "24"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new_code = r.json()["generated"].as_str().unwrap().to_owned();
    assert_ne!(new_code, code);
    assert_eq!(
        integration(&w, &a, id).await["verification_code"],
        new_code.as_str()
    );
    let verify = |token: String| {
        let url = format!("{url}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42");
        let http = w.app.http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(verify(code.clone()).await, 200);
    assert_eq!(verify(new_code.clone()).await, 200);
    assert_eq!(verify("wrong-code".into()).await, 403);
    let status = rotation_when(&w, &a, id, |r| r["new_first_seen"].is_string()).await;
    assert_eq!(status["credential"], "VerificationCode");
    let r = w
        .app
        .call("end_webhook_overlap", &[("id", &id.to_string())], Some(&a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(verify(code).await, 403);
    let lines = refused(&w, "wa_cloud").await;
    assert!(
        has(&lines, 403, "The previous Verification Code, retired on "),
        "{lines:?}"
    );
    // a typed code that cannot travel in a URL is refused at its field
    let r = change(
        &w,
        &a,
        id,
        &[
            ("credential", "verification_code"),
            ("value", "a b&c=d1234"),
            ("overlap_hours", "24"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
}

/// Twilio's signature of `url` and `params`, made here as Twilio documents it (not with the
/// code under test).
fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut text = url.to_owned();
    for (k, v) in sorted {
        text.push_str(k);
        text.push_str(v);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn form_of(params: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
        .into_bytes()
}

#[tokio::test]
async fn twilio_deliveries_carry_a_valid_signature_when_an_auth_token_is_set() {
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    let w = world().await;
    let a = alpha(&w).await;
    let id = w.ids["twilio"];
    let (msg, report) = w.urls["twilio"].clone();
    let basic = "Basic YWljY19ob29rOlMzY3JldCFwYXNz"; // aicc_hook:S3cret!pass
    // the Auth Token is optional, 32 hexadecimal characters, set on Edit
    let r = edit(&w, &a, id, |draft| {
        draft["auth_token"] = json!("not-a-token");
    })
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("auth_token"), "{}", r.body);
    // before it is set, an unsigned delivery is accepted
    let p = [
        ("MessageSid", "SM0"),
        ("From", "whatsapp:+4915"),
        ("To", "whatsapp:+1415"),
        ("Body", "Hi"),
    ];
    assert_eq!(
        post(&w, &msg, &[("Authorization", basic)], form_of(&p), true)
            .await
            .0,
        200
    );
    let r = edit(&w, &a, id, |draft| {
        draft["auth_token"] = json!(TOKEN);
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(integration(&w, &a, id).await["signatures_checked"], true);
    let stored = channel::Entity::find_by_id(id)
        .one(&w.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.auth_token_enc.unwrap();
    assert!(
        !sealed.windows(TOKEN.len()).any(|x| x == TOKEN.as_bytes()),
        "sealed at rest"
    );
    let shown = w
        .app
        .call("get_channel", &[("id", &id.to_string())], Some(&a))
        .await;
    assert!(!shown.body.contains(TOKEN), "never sent back");

    let send = |url: String, params: Vec<(&'static str, String)>, sig: Option<String>| {
        let w = &w;
        async move {
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut headers = vec![("Authorization", basic.to_owned())];
            if let Some(s) = sig {
                headers.push(("X-Twilio-Signature", s));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(w, &url, &headers, form_of(&pairs), true).await.0
        }
    };
    let params = |sid: &str| -> Vec<(&'static str, String)> {
        vec![
            ("MessageSid", sid.to_owned()),
            ("From", "whatsapp:+4915".into()),
            ("To", "whatsapp:+1415".into()),
            ("Body", "Hi & ünïcode +".into()),
            ("NumMedia", "0".into()),
        ]
    };
    let sign = |token: &str, url: &str, p: &[(&'static str, String)]| {
        let pairs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        twilio_signature(token, url, &pairs)
    };
    // signed as Twilio does: accepted, and the form that matched is recorded
    let p1 = params("SM1");
    assert_eq!(
        send(msg.clone(), p1.clone(), Some(sign(TOKEN, &msg, &p1))).await,
        200
    );
    // with the port Twilio sometimes signs (http's default here: the test server's URL has
    // its own port, so the "without port" form is the variant)
    let parsed = url::Url::parse(&msg).unwrap();
    let without_port = format!(
        "{}://{}{}",
        parsed.scheme(),
        parsed.host_str().unwrap(),
        parsed.path()
    );
    let p2 = params("SM2");
    assert_eq!(
        send(
            msg.clone(),
            p2.clone(),
            Some(sign(TOKEN, &without_port, &p2))
        )
        .await,
        200
    );
    // a query string is part of what is signed
    let with_query = format!("{msg}?tenant=a&x=1");
    let p3 = params("SM3");
    assert_eq!(
        send(
            with_query.clone(),
            p3.clone(),
            Some(sign(TOKEN, &with_query, &p3))
        )
        .await,
        200
    );
    assert_eq!(
        send(with_query.clone(), p3.clone(), Some(sign(TOKEN, &msg, &p3))).await,
        401
    );
    // refused: a tampered parameter, another token, no signature, no Basic credentials
    let p4 = params("SM4");
    let mut tampered = p4.clone();
    tampered[3].1 = "Hi & ünïcode -".into();
    assert_eq!(
        send(msg.clone(), tampered, Some(sign(TOKEN, &msg, &p4))).await,
        401
    );
    assert_eq!(
        send(
            msg.clone(),
            p4.clone(),
            Some(sign("fedcba9876543210fedcba9876543210", &msg, &p4))
        )
        .await,
        401
    );
    assert_eq!(send(msg.clone(), p4.clone(), None).await, 401);
    let pairs: Vec<(&str, &str)> = p4.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sig = sign(TOKEN, &msg, &p4);
    assert_eq!(
        post(
            &w,
            &msg,
            &[("X-Twilio-Signature", sig.as_str())],
            form_of(&pairs),
            true
        )
        .await
        .0,
        401,
        "Basic still applies"
    );
    let lines = refused(&w, "wa_twilio").await;
    assert!(
        has(
            &lines,
            401,
            "X-Twilio-Signature does not match: is the Auth Token of this Twilio account?"
        ),
        "{lines:?}"
    );
    assert!(
        has(&lines, 401, "X-Twilio-Signature header missing"),
        "{lines:?}"
    );
    // a JSON body: its hash in the URL's bodySHA256, the URL alone signed
    let json_body = br#"{"MessageSid":"SM5","MessageStatus":"delivered","To":"whatsapp:+4915"}"#;
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(json_body))
    };
    let json_url = format!("{report}?bodySHA256={hash}");
    let sig = twilio_signature(TOKEN, &json_url, &[]);
    let headers = [
        ("Authorization", basic),
        ("X-Twilio-Signature", sig.as_str()),
    ];
    assert_eq!(
        post(&w, &json_url, &headers, json_body.to_vec(), false)
            .await
            .0,
        200
    );
    let altered = br#"{"MessageSid":"SM5","MessageStatus":"read","To":"whatsapp:+4915"}"#;
    assert_eq!(
        post(&w, &json_url, &headers, altered.to_vec(), false)
            .await
            .0,
        401
    );
    // a JSON body without bodySHA256: a signature over the URL alone would not cover it
    let sig = twilio_signature(TOKEN, &report, &[]);
    let headers = [
        ("Authorization", basic),
        ("X-Twilio-Signature", sig.as_str()),
    ];
    assert_eq!(
        post(&w, &report, &headers, altered.to_vec(), false).await.0,
        401
    );
    let lines = refused(&w, "wa_twilio").await;
    assert!(
        has(
            &lines,
            401,
            "The URL's bodySHA256 is not the SHA-256 of the body"
        ),
        "{lines:?}"
    );
    assert!(
        has(&lines, 401, "A JSON body without bodySHA256 in the URL"),
        "{lines:?}"
    );

    // what matched is on Activity
    let e = events(&w, &a, id).await;
    assert_eq!(
        how(&e, "SM1"),
        "X-Twilio-Signature valid over the URL with its port"
    );
    assert_eq!(
        how(&e, "SM2"),
        "X-Twilio-Signature valid over the URL without a port"
    );
    assert_eq!(
        how(&e, "SM0"),
        "",
        "before the Auth Token nothing is recorded"
    );
    assert!(!e.iter().any(|x| x["provider_message_id"] == "SM4"));

    // hostile input: an absurd signature header, thousands of parameters, repeated names
    let long = "A".repeat(8 * 1024);
    assert_eq!(send(msg.clone(), params("SM6"), Some(long)).await, 401);
    let mut many = params("SM7");
    for i in 0..5_000 {
        many.push(("X", i.to_string()));
    }
    let sig = sign(TOKEN, &msg, &many);
    assert_eq!(
        send(msg.clone(), many, Some(sig)).await,
        400,
        "more than 1,000 parameters"
    );
    let mut repeated = params("SM8");
    for i in (0..900).rev() {
        repeated.push(("MediaUrl", format!("https://media.example/{i:03}.png")));
    }
    let sig = sign(TOKEN, &msg, &repeated);
    assert_eq!(
        send(msg.clone(), repeated, Some(sig)).await,
        200,
        "repeated names, sorted by value"
    );
    let lines = refused(&w, "wa_twilio").await;
    assert!(
        has(
            &lines,
            400,
            "The body is not in the provider's format: more than 1,000 form parameters"
        ),
        "{lines:?}"
    );

    // removing the Auth Token stops the check
    let r = edit(&w, &a, id, |draft| {
        draft["remove_auth_token"] = json!(true);
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(integration(&w, &a, id).await["signatures_checked"], false);
    assert_eq!(send(msg.clone(), params("SM9"), None).await, 200);
}
