//! Channels through HTTP: every provider, validation, secrets at rest, the version check,
//! listing, and tenant isolation.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use server::db::entities::channel;
use server::secrets::{SecretBox, SecretScope};

const CANARY: &str = "CANARY-7f3a9c";

struct World {
    app: TestApp,
    root: String,
    a: String,
    b: String,
    queue: String,
    ou: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = app
        .create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    for prefix in [
        "https://api.infobip.com",
        "https://graph.facebook.com",
        "https://api.twilio.com",
        "https://bsp.itau.example",
    ] {
        let r = app
            .call(
                "add_trust_prefix",
                &[("prefix", prefix), ("scope", "global")],
                Some(&root),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", "https://aicc.example.com:8443"),
                ("scope", &alpha.to_string()),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200);
    let a = app.session("alpha-admin", "alpha-password").await;
    let b = app.session("beta-admin", "beta-password1").await;
    let queue = app
        .call(
            "create_skill_queue",
            &[("name", "Care"), ("access_code", "10086")],
            Some(&a),
        )
        .await;
    let ou = app
        .call(
            "create_ou",
            &[("name", "Sales"), ("parent_id", "")],
            Some(&a),
        )
        .await;
    World {
        queue: queue.json().as_i64().unwrap().to_string(),
        ou: ou.json().as_i64().unwrap().to_string(),
        app,
        root,
        a,
        b,
    }
}

fn basic(name: &str, queue: &str) -> Value {
    json!({
        "name": name,
        "skill_queue_id": queue,
        "workday": [{"start": "09:00", "end": "18:00"}],
        "non_workday": [{"start": "10:00", "end": "16:00"}],
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn infobip(name: &str, queue: &str) -> Value {
    with(
        basic(name, queue),
        json!({
            "provider": "infobip",
            "phone_number": "+4915112345678",
            "username": "acme",
            "password": format!("{CANARY}-password"),
            "base_url": "https://api.infobip.com/whatsapp",
            "account_key": format!("{CANARY}-account-key"),
            "webhook_password": format!("{CANARY}-webhook"),
        }),
    )
}

fn all_providers(queue: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("infobip", infobip("wa_infobip", queue)),
        (
            "other",
            with(
                basic("wa_other_basic", queue),
                json!({
                    "provider": "other", "verification_method": "basic",
                    "phone_number": "5511987654321", "username": "itau", "password": format!("{CANARY}-p"),
                    "base_url": "https://bsp.itau.example/api", "authentication_key": format!("{CANARY}-auth"),
                    "webhook_password": format!("{CANARY}-hook2"),
                }),
            ),
        ),
        (
            "other",
            with(
                basic("wa_other_oauth", queue),
                json!({
                    "provider": "other", "verification_method": "oAuth",
                    "username": "app-key-123", "password": format!("{CANARY}-appsecret"),
                    "base_url": "https://aicc.example.com:8443/apiaccess/rest/ccmessaging",
                    "webhook_password": format!("{CANARY}-hook3"),
                }),
            ),
        ),
        (
            "cloud-api",
            with(
                basic("wa_cloud", queue),
                json!({
                    "provider": "cloud-api", "app_key": "1234567890", "app_secret": format!("{CANARY}-meta"),
                    "phone_number": "15550001111", "base_url": "https://graph.facebook.com/v19.0",
                    "access_token": format!("{CANARY}-token"), "token_valid_until": "2030-01-31",
                }),
            ),
        ),
        (
            "twilio",
            with(
                basic("wa_twilio", queue),
                json!({
                    "provider": "twilio", "phone_number": "+14155238886",
                    "api_key_sid": format!("SK{}", "a1".repeat(16)), "api_key_secret": format!("{CANARY}-tw"),
                    "base_url": "https://api.twilio.com/2010-04-01", "account_sid": format!("AC{}", "0f".repeat(16)),
                    "webhook_user": "aicc_hook", "webhook_password": format!("{CANARY}-hook5"),
                }),
            ),
        ),
    ]
}

async fn create(app: &TestApp, cookie: &str, draft: Value) -> i64 {
    let r = app
        .call_json("create_channel", json!({ "draft": draft }), Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_i64().unwrap()
}

fn scope<'a>(row: &'a channel::Model, field: &'a str) -> SecretScope<'a> {
    SecretScope {
        tenant_id: row.tenant_id,
        channel: &row.uid,
        field,
    }
}

fn is_key(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn every_provider_is_created_with_its_integration_urls() {
    let w = world().await;
    for (provider, draft) in all_providers(&w.queue) {
        let id = create(&w.app, &w.a, draft).await.to_string();
        let i = w
            .app
            .call("get_channel_integration", &[("id", &id)], Some(&w.a))
            .await
            .json();
        assert_eq!(i["provider"], provider);
        if provider == "cloud-api" {
            let url = i["callback_url"].as_str().unwrap();
            let prefix = format!("{}/social/on/whatsapp/cloud-api/", w.app.base);
            assert!(
                url.starts_with(&prefix) && is_key(&url[prefix.len()..]),
                "{url}"
            );
            assert!(is_key(i["verification_code"].as_str().unwrap()));
            assert!(i["message_url"].is_null() && i["scenario_key"].is_null());
            let g = w
                .app
                .call("generate_scenario_key", &[("id", &id)], Some(&w.a))
                .await;
            assert_eq!(g.status, 422, "{}", g.body);
        } else {
            for (field, kind) in [("message_url", "message"), ("report_url", "report")] {
                let url = i[field].as_str().unwrap();
                let prefix = format!("{}/social/on/whatsapp/{provider}/{kind}/", w.app.base);
                assert!(
                    url.starts_with(&prefix) && is_key(&url[prefix.len()..]),
                    "{url}"
                );
            }
            assert!(i["scenario_key"].is_null());
            assert_eq!(
                w.app
                    .call("generate_scenario_key", &[("id", &id)], Some(&w.a))
                    .await
                    .status,
                200
            );
            let i = w
                .app
                .call("get_channel_integration", &[("id", &id)], Some(&w.a))
                .await
                .json();
            let key = i["scenario_key"].as_str().unwrap().to_owned();
            assert!(is_key(&key));
            // generating again keeps the key
            w.app
                .call("generate_scenario_key", &[("id", &id)], Some(&w.a))
                .await;
            let again = w
                .app
                .call("get_channel_integration", &[("id", &id)], Some(&w.a))
                .await
                .json();
            assert_eq!(again["scenario_key"], key.as_str());
        }
    }
    let page = w.app.call_json("list_channels", json!({"query": {"search": "", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}}), Some(&w.a)).await.json();
    assert_eq!(page["total"], 5);
    let names: Vec<_> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "wa_cloud",
            "wa_infobip",
            "wa_other_basic",
            "wa_other_oauth",
            "wa_twilio"
        ]
    );
    assert_eq!(page["rows"][1]["skill_queue"], "Care");
    assert_eq!(page["rows"][1]["scenario_key"], true);
    assert_eq!(page["rows"][0]["scenario_key"], false);
}

#[tokio::test]
async fn the_server_validates_every_field() {
    let w = world().await;
    let r = w
        .app
        .call_json(
            "create_channel",
            json!({"draft": {"provider": "twilio"}}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.status, 422);
    let fields: Vec<String> = r.json()["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for f in [
        "phone_number",
        "api_key_sid",
        "api_key_secret",
        "base_url",
        "account_sid",
        "webhook_user",
        "webhook_password",
        "name",
        "skill_queue_id",
        "workday",
        "non_workday",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    // a BaseUrl outside the trustlist, and a prefix that belongs to another tenant
    let mut d = infobip("wa_x", &w.queue);
    d["base_url"] = json!("https://evil.example/api");
    let r = w
        .app
        .call_json("create_channel", json!({"draft": d}), Some(&w.a))
        .await;
    assert!(
        r.json()["Invalid"][0]["message"]
            .as_str()
            .unwrap()
            .contains("trustlist")
    );
    let b_queue = w
        .app
        .call(
            "create_skill_queue",
            &[("name", "Q"), ("access_code", "1")],
            Some(&w.b),
        )
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    let mut oauth = all_providers(&b_queue)[2].1.clone();
    oauth["name"] = json!("b_oauth");
    let r = w
        .app
        .call_json("create_channel", json!({"draft": oauth}), Some(&w.b))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["Invalid"][0]["field"], "base_url");
    // names are unique per tenant, regardless of case
    create(&w.app, &w.a, infobip("wa_dup", &w.queue)).await;
    let r = w
        .app
        .call_json(
            "create_channel",
            json!({"draft": infobip("WA_DUP", &w.queue)}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.json()["Invalid"][0]["field"], "name");
    // the same name in another tenant is fine
    create(&w.app, &w.b, with(infobip("wa_dup", &b_queue), json!({}))).await;
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_never_sent_back() {
    let w = world().await;
    let mut ids = Vec::new();
    for (_, draft) in all_providers(&w.queue) {
        ids.push(create(&w.app, &w.a, draft).await);
    }
    // the raw rows hold no plaintext
    let rows = channel::Entity::find()
        .all(&w.app.state.db.conn)
        .await
        .unwrap();
    for row in &rows {
        let raw = format!("{row:?}");
        assert!(!raw.contains(CANARY), "plaintext in {}", row.name);
        for blob in [
            &row.password_enc,
            &row.account_key_enc,
            &row.webhook_password_enc,
        ]
        .into_iter()
        .flatten()
        {
            assert!(!String::from_utf8_lossy(blob).contains(CANARY));
        }
    }
    // the box opens with the right scope only
    let sb = SecretBox::new(&hex::decode(TEST_MASTER_KEY).unwrap().try_into().unwrap());
    let infobip = rows.iter().find(|r| r.name == "wa_infobip").unwrap();
    let twilio = rows.iter().find(|r| r.name == "wa_twilio").unwrap();
    let sealed = infobip.password_enc.clone().unwrap();
    assert_eq!(
        sb.open(&sealed, scope(infobip, "password")).unwrap(),
        format!("{CANARY}-password")
    );
    assert!(
        sb.open(&sealed, scope(twilio, "password")).is_err(),
        "copied to another row"
    );
    assert!(
        sb.open(&sealed, scope(infobip, "account_key")).is_err(),
        "copied to another field"
    );
    let mut flipped = sealed.clone();
    flipped[20] ^= 1;
    assert!(sb.open(&flipped, scope(infobip, "password")).is_err());

    // no answer of any page or function carries a secret
    let mut bodies = vec![
        w.app.call_json("list_channels", json!({"query": {"search": "", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 100}}), Some(&w.a)).await.body,
        w.app.get("/config/channels", Some(&w.a)).await.body,
    ];
    for id in &ids {
        let id = id.to_string();
        bodies.push(
            w.app
                .call("get_channel", &[("id", &id)], Some(&w.a))
                .await
                .body,
        );
        bodies.push(
            w.app
                .call("get_channel_integration", &[("id", &id)], Some(&w.a))
                .await
                .body,
        );
    }
    for body in &bodies {
        assert!(
            !body.contains(CANARY),
            "a response carried a secret: {body}"
        );
    }
}

#[tokio::test]
async fn edits_keep_empty_secrets_and_refuse_stale_versions() {
    let w = world().await;
    let id = create(&w.app, &w.a, infobip("wa_edit", &w.queue))
        .await
        .to_string();
    let e = w
        .app
        .call("get_channel", &[("id", &id)], Some(&w.a))
        .await
        .json();
    assert_eq!(e["version"], 1);
    assert_eq!(e["draft"]["password"], "");
    assert_eq!(
        e["configured"],
        json!(["Password", "AccountKey", "WebhookPassword"])
    );
    assert_eq!(
        e["draft"]["workday"],
        json!([{"start": "09:00", "end": "18:00"}])
    );

    // the form as loaded, with a new OU and the secrets left empty
    let mut draft = e["draft"].clone();
    draft["ou_id"] = json!(w.ou);
    let r = w
        .app
        .call_json(
            "update_channel",
            json!({"id": id.parse::<i64>().unwrap(), "version": 1, "draft": draft}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = channel::Entity::find()
        .all(&w.app.state.db.conn)
        .await
        .unwrap();
    let sb = SecretBox::new(&hex::decode(TEST_MASTER_KEY).unwrap().try_into().unwrap());
    let row = &rows[0];
    let opened = sb
        .open(
            row.password_enc.as_ref().unwrap(),
            SecretScope {
                tenant_id: row.tenant_id,
                channel: &row.uid,
                field: "password",
            },
        )
        .unwrap();
    assert_eq!(
        opened,
        format!("{CANARY}-password"),
        "an empty secret keeps the stored one"
    );
    assert_eq!(row.version, 2);
    assert_eq!(row.ou_id, Some(w.ou.parse().unwrap()));

    // a save from the old version is refused, and nothing changes
    draft["non_working_notification"] = json!("stale");
    let r = w
        .app
        .call_json(
            "update_channel",
            json!({"id": id.parse::<i64>().unwrap(), "version": 1, "draft": draft}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Someone else saved this channel"),
        "{}",
        r.body
    );

    // two saves of the same version at once: exactly one wins
    draft["non_working_notification"] = json!("first");
    let one = w.app.call_json(
        "update_channel",
        json!({"id": id.parse::<i64>().unwrap(), "version": 2, "draft": draft.clone()}),
        Some(&w.a),
    );
    draft["non_working_notification"] = json!("second");
    let two = w.app.call_json(
        "update_channel",
        json!({"id": id.parse::<i64>().unwrap(), "version": 2, "draft": draft.clone()}),
        Some(&w.a),
    );
    let (one, two) = tokio::join!(one, two);
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(statuses, [200, 422], "{} / {}", one.body, two.body);
    let e = w
        .app
        .call("get_channel", &[("id", &id)], Some(&w.a))
        .await
        .json();
    assert_eq!(e["version"], 3);

    assert_eq!(
        w.app
            .call("delete_channel", &[("id", &id)], Some(&w.a))
            .await
            .status,
        200
    );
    assert_eq!(
        w.app
            .call("get_channel", &[("id", &id)], Some(&w.a))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn another_tenants_channel_ids_answer_like_missing_ones() {
    let w = world().await;
    let id = create(&w.app, &w.a, infobip("wa_alpha", &w.queue)).await;
    let sid = id.to_string();
    let missing = "987654321";
    for (name, cross, none) in [
        (
            "get_channel",
            vec![("id", sid.as_str())],
            vec![("id", missing)],
        ),
        (
            "delete_channel",
            vec![("id", sid.as_str())],
            vec![("id", missing)],
        ),
        (
            "get_channel_integration",
            vec![("id", sid.as_str())],
            vec![("id", missing)],
        ),
        (
            "generate_scenario_key",
            vec![("id", sid.as_str())],
            vec![("id", missing)],
        ),
    ] {
        let c = w.app.call(name, &cross, Some(&w.b)).await;
        let n = w.app.call(name, &none, Some(&w.b)).await;
        assert_eq!((c.status, &c.body), (n.status, &n.body), "{name}");
        assert_eq!(c.status, 404, "{name}");
    }
    let draft = infobip("wa_beta_steal", &w.queue);
    let c = w
        .app
        .call_json(
            "update_channel",
            json!({"id": id, "version": 1, "draft": draft.clone()}),
            Some(&w.b),
        )
        .await;
    let n = w
        .app
        .call_json(
            "update_channel",
            json!({"id": 987654321, "version": 1, "draft": draft.clone()}),
            Some(&w.b),
        )
        .await;
    assert_eq!((c.status, &c.body), (n.status, &n.body));
    // A's skill queue id from B answers like a missing queue
    let c = w
        .app
        .call_json("create_channel", json!({"draft": draft}), Some(&w.b))
        .await;
    let n = w
        .app
        .call_json(
            "create_channel",
            json!({"draft": infobip("wa_beta_steal", missing)}),
            Some(&w.b),
        )
        .await;
    assert_eq!((c.status, &c.body), (n.status, &n.body));
    assert_eq!(c.json()["Invalid"][0]["field"], "skill_queue_id");

    let page = w.app.call_json("list_channels", json!({"query": {"search": "", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}}), Some(&w.b)).await.json();
    assert_eq!(page["total"], 0);
    let e = w
        .app
        .call("get_channel", &[("id", &sid)], Some(&w.a))
        .await
        .json();
    assert_eq!(
        (e["version"].as_i64(), e["draft"]["name"].as_str()),
        (Some(1), Some("wa_alpha"))
    );
    for name in ["get_channel", "delete_channel"] {
        assert_eq!(w.app.call(name, &[("id", &sid)], None).await.status, 401);
        assert_eq!(
            w.app
                .call(name, &[("id", &sid)], Some(&w.root))
                .await
                .status,
            403
        );
    }
}

#[tokio::test]
async fn the_list_searches_filters_sorts_and_pages_in_sql() {
    let w = world().await;
    for i in 0..23 {
        let mut d = infobip(&format!("sales_{i:02}"), &w.queue);
        if i % 2 == 0 {
            d = with(d, json!({"name": format!("care_{i:02}")}));
        }
        create(&w.app, &w.a, d).await;
    }
    create(&w.app, &w.a, all_providers(&w.queue).remove(4).1).await;
    let q = |query: Value| {
        w.app
            .call_json("list_channels", json!({"query": query}), Some(&w.a))
    };
    let page = q(json!({"search": "SALES_", "provider": "", "sort": "Name", "descending": true, "page": 1, "per_page": 10})).await.json();
    assert_eq!(page["total"], 11);
    assert_eq!(page["rows"][0]["name"], "sales_21");
    assert_eq!(page["rows"].as_array().unwrap().len(), 10);
    let page = q(json!({"search": "sales_", "provider": "", "sort": "Name", "descending": true, "at": {"After": page["last"]}, "per_page": 10})).await.json();
    assert_eq!(page["rows"].as_array().unwrap().len(), 1);
    assert_eq!(page["rows"][0]["name"], "sales_01");
    // '_' is matched literally, not as a wildcard
    let page = q(json!({"search": "s_0", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 50})).await.json();
    assert_eq!(page["total"], 5, "sales_01..09 odd: 01 03 05 07 09");
    let page = q(json!({"search": "", "provider": "twilio", "sort": "Name", "descending": false, "page": 1, "per_page": 20})).await.json();
    assert_eq!(page["total"], 1);
    assert_eq!(page["rows"][0]["name"], "wa_twilio");
    let page = q(json!({"search": "", "provider": "", "sort": "Updated", "descending": true, "page": 1, "per_page": 7})).await.json();
    assert_eq!(
        page["per_page"], 20,
        "an unsupported page size falls back to 20"
    );
    assert_eq!(page["rows"][0]["name"], "wa_twilio", "the newest first");
}

#[tokio::test]
async fn what_a_channel_uses_cannot_be_deleted() {
    let w = world().await;
    let pem = include_bytes!("../fixtures/infobip.pem");
    let form = reqwest::multipart::Form::new()
        .text("name", "auth")
        .text("kind", "authentication")
        .part(
            "file",
            reqwest::multipart::Part::bytes(pem.to_vec()).file_name("c.pem"),
        );
    let cert = w
        .app
        .http
        .post(format!("{}/api/upload_certificate", w.app.base))
        .header("Cookie", &w.a)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let d = with(
        infobip("wa_uses", &w.queue),
        json!({"ou_id": w.ou, "auth_certificate_id": cert}),
    );
    let id = create(&w.app, &w.a, d).await;
    for (name, target) in [
        ("delete_certificate", &cert),
        ("delete_skill_queue", &w.queue),
        ("delete_ou", &w.ou),
    ] {
        let r = w.app.call(name, &[("id", target)], Some(&w.a)).await;
        assert_eq!(r.status, 422, "{name}: {}", r.body);
        assert!(r.body.contains("wa_uses"), "{name}: {}", r.body);
    }
    w.app
        .call("delete_channel", &[("id", &id.to_string())], Some(&w.a))
        .await;
    assert_eq!(
        w.app
            .call("delete_certificate", &[("id", &cert)], Some(&w.a))
            .await
            .status,
        200
    );
}

/// The version a client sends is only compared, never computed with: `i64::MAX` is a stale
/// version like any other, not an overflow.
#[tokio::test]
async fn a_version_at_the_top_of_its_range_is_a_conflict_not_a_crash() {
    let w = world().await;
    let id = create(&w.app, &w.a, infobip("wa_version", &w.queue)).await;
    let draft = w
        .app
        .call("get_channel", &[("id", &id.to_string())], Some(&w.a))
        .await
        .json()["draft"]
        .clone();
    for version in [i64::MAX, i64::MIN, 0, -1] {
        let r = w
            .app
            .call_json(
                "update_channel",
                json!({"id": id, "version": version, "draft": draft}),
                Some(&w.a),
            )
            .await;
        assert_eq!(r.status, 422, "{version}: {}", r.body);
        assert!(
            r.body.contains("Someone else saved this channel"),
            "{}",
            r.body
        );
    }
    let r = w
        .app
        .call_json(
            "update_channel",
            json!({"id": id, "version": 1, "draft": draft}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let e = w
        .app
        .call("get_channel", &[("id", &id.to_string())], Some(&w.a))
        .await
        .json();
    assert_eq!(e["version"], 2, "counted by the database");
}

#[tokio::test]
async fn a_certificate_of_another_kind_cannot_be_chosen() {
    use reqwest::multipart::{Form, Part};
    let w = world().await;
    let pem = include_bytes!("../fixtures/infobip.pem");
    // an identity certificate comes with its key
    let leaf = crate::common::fake_provider::Pki::new("Client CA").leaf("client", &["client.test"]);
    let identity = format!("{}{}", leaf.pem, leaf.key_pem).into_bytes();
    let mut ids = std::collections::HashMap::new();
    for kind in ["trust", "identity", "authentication"] {
        let file = if kind == "identity" {
            identity.clone()
        } else {
            pem.to_vec()
        };
        let form = Form::new()
            .text("name", format!("{kind} cert"))
            .text("kind", kind)
            .part("file", Part::bytes(file).file_name("c.pem"));
        let r = w
            .app
            .http
            .post(format!("{}/api/upload_certificate", w.app.base))
            .header("Cookie", &w.a)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        ids.insert(kind, r.json::<i64>().await.unwrap().to_string());
    }
    let cloud = |trust: &str, identity: &str| {
        with(
            basic("wa_cloud_certs", &w.queue),
            json!({
                "provider": "cloud-api", "app_key": "1234567890", "app_secret": "s",
                "phone_number": "15550001111", "base_url": "https://graph.facebook.com/v19.0",
                "access_token": "t", "token_valid_until": "2030-01-31",
                "trust_certificate_id": trust, "identity_certificate_id": identity,
            }),
        )
    };
    // an identity certificate as the trust certificate, and the other way round
    let r = w
        .app
        .call_json(
            "create_channel",
            json!({"draft": cloud(&ids["identity"], &ids["trust"])}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("'identity cert' is not a trust certificate"),
        "{}",
        r.body
    );
    let r = w
        .app
        .call_json(
            "create_channel",
            json!({"draft": cloud(&ids["trust"], &ids["authentication"])}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("'authentication cert' is not an identity certificate"),
        "{}",
        r.body
    );
    create(&w.app, &w.a, cloud(&ids["trust"], &ids["identity"])).await;
    // infobip's Authentication Certificate: only an authentication certificate
    let mut d = infobip("wa_infobip_cert", &w.queue);
    d["auth_certificate_id"] = json!(ids["trust"]);
    let r = w
        .app
        .call_json("create_channel", json!({"draft": d.clone()}), Some(&w.a))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    d["auth_certificate_id"] = json!(ids["authentication"]);
    create(&w.app, &w.a, d).await;
}

/// NUL and other control characters in free text: a message next to the field, on SQLite and
/// PostgreSQL alike (which would otherwise refuse the text with a 500).
#[tokio::test]
async fn control_characters_in_text_fields_are_a_field_message() {
    let w = world().await;
    for (field, value) in [
        ("non_working_notification", "closed\u{0}now"),
        ("keywords", "agent,hu\u{0}man"),
        ("username", "acme\u{0}"),
        ("name", "wa\u{0}x"),
    ] {
        let mut d = infobip("wa_ctrl", &w.queue);
        d[field] = json!(value);
        let r = w
            .app
            .call_json("create_channel", json!({"draft": d}), Some(&w.a))
            .await;
        assert_eq!(r.status, 422, "{field}: {}", r.body);
        assert!(
            r.json()["Invalid"][0]["field"] == field,
            "{field}: {}",
            r.body
        );
    }
    // a search with NUL is cleaned, not sent to the database
    let r = w
        .app
        .call_json(
            "list_channels",
            json!({"query": {"search": "wa\u{0}", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}}),
            Some(&w.a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // a sign-in name with NUL is an unknown user, not a database error
    let a = w.app.login("alpha\u{0}admin", "alpha-password").await;
    assert_eq!(a.status, 401, "{}", a.body);
}

/// BaseUrl is stored in the form the trustlist check read it in; what parsers read differently
/// is refused.
#[tokio::test]
async fn base_urls_are_stored_normalized_and_ambiguous_ones_refused() {
    let w = world().await;
    let mut d = infobip("wa_normal", &w.queue);
    d["base_url"] = json!(" https://API.Infobip.com:443/whatsapp/ ");
    let id = create(&w.app, &w.a, d).await;
    let e = w
        .app
        .call("get_channel", &[("id", &id.to_string())], Some(&w.a))
        .await
        .json();
    assert_eq!(e["draft"]["base_url"], "https://api.infobip.com/whatsapp");
    for bad in [
        "https://api.infobip.com\\@evil.test",
        "https://api.infobip.com@evil.test/",
        "https://api.infobip.com/%2e%2e/admin",
        "https://api.infobip.com/v1/../../x",
        "https://api.infobip.com/ x",
    ] {
        let mut d = infobip("wa_bad_url", &w.queue);
        d["base_url"] = json!(bad);
        let r = w
            .app
            .call_json("create_channel", json!({"draft": d}), Some(&w.a))
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert_eq!(r.json()["Invalid"][0]["field"], "base_url", "{bad}");
    }
}
