//! The provider webhooks through HTTP: every answer of SPEC §4 for every provider, redelivery,
//! concurrency, status ordering and a disabled tenant.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use server::db::entities::webhook_event;
use server::webhooks::auth::hub_signature_of;

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) root: String,
    pub(crate) tenant: i64,
    /// provider -> (message url, report url) or (callback url, verification code)
    pub(crate) urls: std::collections::HashMap<&'static str, (String, String)>,
    /// provider -> channel id
    pub(crate) ids: std::collections::HashMap<&'static str, i64>,
}

/// A tenant space "Alpha" (administrator alpha-admin / alpha-password) with one channel of
/// each provider (`provider_drafts`).
pub(crate) async fn world() -> World {
    world_on(spawn_app().await).await
}

/// `world()` on a server started with its own options.
pub(crate) async fn world_on(app: TestApp) -> World {
    let root = app.setup_admin().await;
    let tenant = app
        .create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    for p in DRAFT_PREFIXES {
        app.call(
            "add_trust_prefix",
            &[("prefix", p), ("scope", "global")],
            Some(&root),
        )
        .await;
    }
    let a = app.session("alpha-admin", "alpha-password").await;
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
    let base = json!({"skill_queue_id": queue, "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]});
    let mut urls = std::collections::HashMap::new();
    let mut ids = std::collections::HashMap::new();
    for (provider, draft) in provider_drafts(&base) {
        let (id, i) = app.create_channel(&a, draft).await;
        ids.insert(provider, id);
        let pair = if provider == "cloud-api" {
            (
                i["callback_url"].as_str().unwrap().to_owned(),
                i["verification_code"].as_str().unwrap().to_owned(),
            )
        } else {
            (
                i["message_url"].as_str().unwrap().to_owned(),
                i["report_url"].as_str().unwrap().to_owned(),
            )
        };
        urls.insert(provider, pair);
    }
    World {
        app,
        root,
        tenant,
        urls,
        ids,
    }
}

async fn stored(w: &World, kind: &str) -> u64 {
    webhook_event::Entity::find()
        .filter(webhook_event::Column::Kind.eq(kind))
        .count(&w.app.state.db.conn)
        .await
        .unwrap()
}

async fn status_of(w: &World, id: &str) -> String {
    webhook_event::Entity::find()
        .filter(webhook_event::Column::ProviderMessageId.eq(id))
        .filter(webhook_event::Column::Kind.eq("report"))
        .one(&w.app.state.db.conn)
        .await
        .unwrap()
        .unwrap()
        .status
        .unwrap()
}

pub(crate) async fn post(
    w: &World,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    form: bool,
) -> (u16, String) {
    let mut req = w.app.http.post(url).body(body).header(
        "Content-Type",
        if form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        },
    );
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn unknown(url: &str) -> String {
    let (head, _) = url.rsplit_once('/').unwrap();
    format!("{head}/{}", "0".repeat(32))
}

#[tokio::test]
async fn infobip_and_other_answer_every_row_of_the_table() {
    let w = world().await;
    for (provider, password) in [("infobip", "infobip-hook-1"), ("other", "other-hook-1")] {
        let (message_url, report_url) = w.urls[provider].clone();
        let msg = |id: &str| {
            serde_json::to_vec(&json!({"results": [{"messageId": id, "from": "4915112345678", "to": "4930901820", "message": {"type": "TEXT", "text": "Hello"}}]})).unwrap()
        };
        let before = stored(&w, "message").await;
        assert_eq!(
            post(&w, &message_url, &[], msg("m1"), false).await.0,
            401,
            "{provider}: missing"
        );
        assert_eq!(
            post(
                &w,
                &message_url,
                &[("AccountKey", "wrong")],
                msg("m1"),
                false
            )
            .await
            .0,
            401,
            "{provider}: wrong"
        );
        assert_eq!(stored(&w, "message").await, before, "nothing stored on 401");
        assert_eq!(
            post(
                &w,
                &unknown(&message_url),
                &[("AccountKey", password)],
                msg("m1"),
                false
            )
            .await
            .0,
            404
        );
        let (status, body) = post(
            &w,
            &message_url,
            &[("AccountKey", password)],
            b"{\"results\": [{}]}".to_vec(),
            false,
        )
        .await;
        assert_eq!(status, 400);
        assert!(body.contains("messageId"), "{body}");
        let big = vec![b' '; 1024 * 1024 + 1];
        assert_eq!(
            post(&w, &message_url, &[("AccountKey", password)], big, false)
                .await
                .0,
            413
        );
        assert_eq!(
            post(
                &w,
                &message_url,
                &[("AccountKey", password)],
                msg(&format!("{provider}-1")),
                false
            )
            .await
            .0,
            200
        );
        assert_eq!(stored(&w, "message").await, before + 1);

        // five concurrent identical deliveries: accepted, stored once
        let id = format!("{provider}-dup");
        let key = [("AccountKey", password)];
        let sends: Vec<_> = (0..5)
            .map(|_| post(&w, &message_url, &key, msg(&id), false))
            .collect();
        for (status, _) in futures::future::join_all(sends).await {
            assert_eq!(status, 200);
        }
        assert_eq!(stored(&w, "message").await, before + 2);

        // reports never move backwards
        let report = |status: &str| {
            serde_json::to_vec(&json!({"results": [{"messageId": id, "to": "4915", "status": {"groupName": status}}]})).unwrap()
        };
        for s in ["SENT", "READ", "DELIVERED"] {
            assert_eq!(
                post(
                    &w,
                    &report_url,
                    &[("AccountKey", password)],
                    report(s),
                    false
                )
                .await
                .0,
                200
            );
        }
        assert_eq!(status_of(&w, &id).await, "read");
    }
}

#[tokio::test]
async fn twilio_uses_basic_credentials() {
    let w = world().await;
    let (message_url, report_url) = w.urls["twilio"].clone();
    let good = "Basic YWljY19ob29rOlMzY3JldCFwYXNz"; // aicc_hook:S3cret!pass
    let form = |sid: &str| {
        format!("MessageSid={sid}&From=whatsapp%3A%2B4915&To=whatsapp%3A%2B1415&Body=Hi&NumMedia=0&ProfileName=Ann").into_bytes()
    };
    assert_eq!(post(&w, &message_url, &[], form("SM1"), true).await.0, 401);
    assert_eq!(
        post(
            &w,
            &message_url,
            &[("Authorization", "Basic YWljY19ob29rOndyb25n")],
            form("SM1"),
            true
        )
        .await
        .0,
        401
    );
    assert_eq!(stored(&w, "message").await, 0);
    assert_eq!(
        post(
            &w,
            &unknown(&message_url),
            &[("Authorization", good)],
            form("SM1"),
            true
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post(
            &w,
            &message_url,
            &[("Authorization", good)],
            b"Body=no+sid".to_vec(),
            true
        )
        .await
        .0,
        400
    );
    assert_eq!(
        post(
            &w,
            &message_url,
            &[("Authorization", good)],
            vec![b'a'; 1024 * 1024 + 1],
            true
        )
        .await
        .0,
        413
    );
    assert_eq!(
        post(
            &w,
            &message_url,
            &[("Authorization", good)],
            form("SM1"),
            true
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            &w,
            &message_url,
            &[("Authorization", good)],
            form("SM1"),
            true
        )
        .await
        .0,
        200
    );
    assert_eq!(
        stored(&w, "message").await,
        1,
        "a redelivery is stored once"
    );
    for s in ["queued", "delivered", "read", "sent"] {
        let body = format!("MessageSid=SM1&MessageStatus={s}").into_bytes();
        assert_eq!(
            post(&w, &report_url, &[("Authorization", good)], body, true)
                .await
                .0,
            200
        );
    }
    assert_eq!(status_of(&w, "SM1").await, "read");
}

#[tokio::test]
async fn cloud_api_verifies_and_checks_signatures() {
    let w = world().await;
    let (url, code) = w.urls["cloud-api"].clone();
    let get = |q: String| {
        let url = format!("{url}?{q}");
        let http = w.app.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(
        get(format!(
            "hub.mode=subscribe&hub.verify_token={code}&hub.challenge=1158201444"
        ))
        .await,
        (200, "1158201444".to_string())
    );
    assert_eq!(
        get("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1".into())
            .await
            .0,
        403
    );
    assert_eq!(
        get(format!(
            "hub.mode=unsubscribe&hub.verify_token={code}&hub.challenge=1"
        ))
        .await
        .0,
        403
    );
    let r = w
        .app
        .http
        .get(format!(
            "{}?hub.mode=subscribe&hub.verify_token={code}&hub.challenge=1",
            unknown(&url)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let payload = |status: &str| {
        serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1"},
        "messages": [{"from": "4915", "id": "wamid.1", "timestamp": "1", "type": "text", "text": {"body": "Hallo"}}],
        "statuses": [{"id": "wamid.0", "status": status, "timestamp": "1", "recipient_id": "4915"}]}}]}]})).unwrap()
    };
    let body = payload("read");
    let sig = hub_signature_of("app_secret_123", &body);
    assert_eq!(post(&w, &url, &[], body.clone(), false).await.0, 401);
    assert_eq!(
        post(
            &w,
            &url,
            &[("X-Hub-Signature-256", &hub_signature_of("other", &body))],
            body.clone(),
            false
        )
        .await
        .0,
        401
    );
    assert_eq!(stored(&w, "message").await, 0);
    assert_eq!(
        post(
            &w,
            &unknown(&url),
            &[("X-Hub-Signature-256", &sig)],
            body.clone(),
            false
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post(
            &w,
            &url,
            &[("X-Hub-Signature-256", &sig)],
            body.clone(),
            false
        )
        .await
        .0,
        200
    );
    assert_eq!(
        (stored(&w, "message").await, stored(&w, "report").await),
        (1, 1)
    );
    let late = payload("delivered");
    assert_eq!(
        post(
            &w,
            &url,
            &[(
                "X-Hub-Signature-256",
                &hub_signature_of("app_secret_123", &late)
            )],
            late,
            false
        )
        .await
        .0,
        200
    );
    assert_eq!(status_of(&w, "wamid.0").await, "read");
    let bad = br#"{"object":"page","entry":[]}"#.to_vec();
    let (status, text) = post(
        &w,
        &url,
        &[(
            "X-Hub-Signature-256",
            &hub_signature_of("app_secret_123", &bad),
        )],
        bad,
        false,
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("whatsapp_business_account"));
    assert_eq!(
        post(
            &w,
            &url,
            &[("X-Hub-Signature-256", &sig)],
            vec![b' '; 1024 * 1024 + 1],
            false
        )
        .await
        .0,
        413
    );
}

#[tokio::test]
async fn a_disabled_tenants_channels_are_refused() {
    let w = world().await;
    let msg =
        serde_json::to_vec(&json!({"results": [{"messageId": "x1", "from": "1", "to": "2"}]}))
            .unwrap();
    let twilio_form = b"MessageSid=SMd&From=1&To=2&Body=x".to_vec();
    let cloud = br#"{"object":"whatsapp_business_account","entry":[]}"#.to_vec();
    let cloud_sig = hub_signature_of("app_secret_123", &cloud);
    let deliveries = |w: &World| {
        vec![
            (
                w.urls["infobip"].0.clone(),
                vec![("AccountKey", "infobip-hook-1".to_string())],
                msg.clone(),
                false,
            ),
            (
                w.urls["other"].0.clone(),
                vec![("AccountKey", "other-hook-1".to_string())],
                msg.clone(),
                false,
            ),
            (
                w.urls["twilio"].0.clone(),
                vec![(
                    "Authorization",
                    "Basic YWljY19ob29rOlMzY3JldCFwYXNz".to_string(),
                )],
                twilio_form.clone(),
                true,
            ),
            (
                w.urls["cloud-api"].0.clone(),
                vec![("X-Hub-Signature-256", cloud_sig.clone())],
                cloud.clone(),
                false,
            ),
        ]
    };
    let r = w
        .app
        .call(
            "set_tenant_disabled",
            &[("tenant_id", &w.tenant.to_string()), ("disabled", "true")],
            Some(&w.root),
        )
        .await;
    assert_eq!(r.status, 200);
    for (url, headers, body, form) in deliveries(&w) {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(post(&w, &url, &h, body, form).await.0, 404, "{url}");
    }
    let (url, code) = w.urls["cloud-api"].clone();
    let verify = w
        .app
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token={code}&hub.challenge=1"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 404);
    assert_eq!(stored(&w, "message").await, 0);
    w.app
        .call(
            "set_tenant_disabled",
            &[("tenant_id", &w.tenant.to_string()), ("disabled", "false")],
            Some(&w.root),
        )
        .await;
    for (url, headers, body, form) in deliveries(&w) {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(post(&w, &url, &h, body, form).await.0, 200, "{url}");
    }
}

#[tokio::test]
async fn an_unavailable_database_answers_503_so_the_provider_retries() {
    let w = world().await;
    let (url, _) = w.urls["infobip"].clone();
    let msg =
        serde_json::to_vec(&json!({"results": [{"messageId": "x1", "from": "1", "to": "2"}]}))
            .unwrap();
    // the pool is shared by every handle: closing it takes the database away from the server
    w.app.state.db.conn.clone().close().await.unwrap();
    let (status, body) = post(&w, &url, &[("AccountKey", "infobip-hook-1")], msg, false).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        !body.to_lowercase().contains("pool"),
        "no internal text: {body}"
    );
}

#[tokio::test]
async fn the_activity_shows_what_arrived_to_its_tenant_only() {
    let w = world().await;
    let (message_url, report_url) = w.urls["infobip"].clone();
    let key = [("AccountKey", "infobip-hook-1")];
    let msg = serde_json::to_vec(&json!({"results": [{"messageId": "act-1", "from": "4915112345678", "to": "4930901820", "message": {"text": "Ich brauche Hilfe"}}]})).unwrap();
    assert_eq!(post(&w, &message_url, &key, msg, false).await.0, 200);
    let report = serde_json::to_vec(&json!({"results": [{"messageId": "act-1", "to": "4915112345678", "status": {"groupName": "DELIVERED"}}]})).unwrap();
    assert_eq!(post(&w, &report_url, &key, report, false).await.0, 200);

    let a = w.app.session("alpha-admin", "alpha-password").await;
    let page = w.app.call_json("list_channels", json!({"query": {"search": "wa_infobip", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}}), Some(&a)).await.json();
    assert!(
        page["rows"][0]["last_received"]
            .as_str()
            .unwrap()
            .ends_with("UTC")
    );
    let id = page["rows"][0]["id"].as_i64().unwrap().to_string();
    let act = w
        .app
        .call_json(
            "get_channel_activity",
            serde_json::json!({"id": id.parse::<i64>().unwrap(), "at": "First"}),
            Some(&a),
        )
        .await
        .json();
    assert_eq!(act["total"], 2);
    assert!(act["last_message"].is_string() && act["last_report"].is_string());
    let texts: Vec<String> = act["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["text"].as_str().or(e["status"].as_str()).unwrap()
            )
        })
        .collect();
    assert!(
        texts.contains(&"message:Ich brauche Hilfe".to_string()),
        "{texts:?}"
    );
    assert!(texts.contains(&"report:delivered".to_string()), "{texts:?}");

    let beta = w
        .app
        .create_tenant(&w.root, "Beta", "beta-admin", "beta-password1")
        .await;
    assert!(beta > 0);
    let b = w.app.session("beta-admin", "beta-password1").await;
    let cross = w
        .app
        .call_json(
            "get_channel_activity",
            serde_json::json!({"id": id.parse::<i64>().unwrap(), "at": "First"}),
            Some(&b),
        )
        .await;
    let missing = w
        .app
        .call_json(
            "get_channel_activity",
            serde_json::json!({"id": 987654321, "at": "First"}),
            Some(&b),
        )
        .await;
    assert_eq!((cross.status, &cross.body), (missing.status, &missing.body));
    assert_eq!(cross.status, 404);
}

/// A Webhook Password with non-ASCII characters: the provider sends its UTF-8 bytes in the
/// header, and they are compared as bytes.
#[tokio::test]
async fn a_non_ascii_webhook_password_authenticates_by_its_bytes() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "Küche-ß-Geheimnis")
        .await;
    let send = |key: Vec<u8>| {
        app.http
            .post(&c.message_url)
            .header(
                "AccountKey",
                reqwest::header::HeaderValue::from_bytes(&key).unwrap(),
            )
            .body(r#"{"results":[{"messageId":"u-1","from":"4915"}]}"#)
            .send()
    };
    assert_eq!(
        send("Küche-ß-Geheimnis".as_bytes().to_vec())
            .await
            .unwrap()
            .status(),
        200
    );
    // the same text in Latin-1 bytes is another password
    let latin1: Vec<u8> = "Küche-ß-Geheimnis"
        .chars()
        .map(|c| c as u32 as u8)
        .collect();
    assert_eq!(send(latin1).await.unwrap().status(), 401);
}

/// The refused-delivery lines of a channel's activity page.
pub(crate) async fn refused(w: &World, name: &str) -> Vec<serde_json::Value> {
    use server::db::entities::channel;
    w.app.state.webhook_writer.flush().await;
    let id = channel::Entity::find()
        .filter(channel::Column::Name.eq(name))
        .one(&w.app.state.db.conn)
        .await
        .unwrap()
        .unwrap()
        .id;
    let a = w.app.session("alpha-admin", "alpha-password").await;
    let r = w
        .app
        .call_json(
            "get_channel_activity",
            serde_json::json!({"id": id, "at": "First"}),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["refused"].as_array().unwrap().clone()
}

pub(crate) fn has(lines: &[serde_json::Value], status: u16, reason: &str) -> bool {
    lines
        .iter()
        .any(|l| l["status"] == status && l["reason"].as_str().unwrap().starts_with(reason))
}

#[tokio::test]
async fn every_refusal_is_recorded_with_its_reason_and_never_the_secret() {
    let w = world().await;
    let (msg, report) = w.urls["infobip"].clone();
    let body = br#"{"results":[]}"#.to_vec();
    assert_eq!(post(&w, &msg, &[], body.clone(), false).await.0, 401);
    assert_eq!(
        post(
            &w,
            &report,
            &[("AccountKey", "guess-1")],
            body.clone(),
            false
        )
        .await
        .0,
        401
    );
    assert_eq!(
        post(
            &w,
            &msg,
            &[("AccountKey", "infobip-hook-1")],
            b"{\"results\": [".to_vec(),
            false
        )
        .await
        .0,
        400
    );
    let lines = refused(&w, "wa_infobip").await;
    assert!(has(&lines, 401, "AccountKey header missing"), "{lines:?}");
    assert!(
        has(
            &lines,
            401,
            "AccountKey does not match the Webhook Password"
        ),
        "{lines:?}"
    );
    assert!(
        has(&lines, 400, "The body is not in the provider's format: "),
        "{lines:?}"
    );
    let line = lines.iter().find(|l| l["status"] == 401).unwrap();
    assert_eq!(line["source"], "127.0.0.1");
    assert_eq!(line["content_type"], "application/json");
    assert!(line["fix"].as_str().unwrap().contains("Webhook Password"));
    let text = serde_json::to_string(&lines).unwrap();
    assert!(
        !text.contains("guess-1") && !text.contains("infobip-hook-1"),
        "{text}"
    );
    assert!(!text.contains("results"), "no body is kept: {text}");

    let (msg, _) = w.urls["twilio"].clone();
    let basic = |s: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    let form = b"MessageSid=SM1&From=whatsapp%3A%2B1&To=whatsapp%3A%2B2&Body=hi".to_vec();
    assert_eq!(post(&w, &msg, &[], form.clone(), true).await.0, 401);
    let wrong_user = basic("someone:S3cret!pass");
    assert_eq!(
        post(
            &w,
            &msg,
            &[("Authorization", &wrong_user)],
            form.clone(),
            true
        )
        .await
        .0,
        401
    );
    let wrong_password = basic("aicc_hook:nope");
    assert_eq!(
        post(&w, &msg, &[("Authorization", &wrong_password)], form, true)
            .await
            .0,
        401
    );
    let lines = refused(&w, "wa_twilio").await;
    assert!(has(&lines, 401, "No HTTP Basic credentials"), "{lines:?}");
    assert!(
        has(&lines, 401, "Basic user is not the Webhook User"),
        "{lines:?}"
    );
    assert!(
        has(
            &lines,
            401,
            "Basic password does not match the Webhook Password"
        ),
        "{lines:?}"
    );

    let (callback, code) = w.urls["cloud-api"].clone();
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#.to_vec();
    let other_app = hub_signature_of("another_apps_secret", &body);
    assert_eq!(post(&w, &callback, &[], body.clone(), false).await.0, 401);
    assert_eq!(
        post(
            &w,
            &callback,
            &[("X-Hub-Signature-256", &other_app)],
            body.clone(),
            false
        )
        .await
        .0,
        401
    );
    let verify = |token: &str| {
        format!("{callback}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42")
    };
    assert_eq!(
        w.app
            .http
            .get(verify("wrong"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        w.app.http.get(verify(&code)).send().await.unwrap().status(),
        200
    );
    let lines = refused(&w, "wa_cloud").await;
    assert!(
        has(&lines, 401, "X-Hub-Signature-256 header missing"),
        "{lines:?}"
    );
    assert!(
        has(
            &lines,
            401,
            "X-Hub-Signature-256 does not match the body signed with the APP Secret — is the APP Secret of the same Meta app?"
        ),
        "{lines:?}"
    );
    assert!(
        has(
            &lines,
            403,
            "verify_token does not match the Verification Code"
        ),
        "{lines:?}"
    );
    assert!(!serde_json::to_string(&lines).unwrap().contains(&code));

    // per URL: last accepted and last refused
    use server::db::entities::channel;
    let id = channel::Entity::find()
        .filter(channel::Column::Name.eq("wa_cloud"))
        .one(&w.app.state.db.conn)
        .await
        .unwrap()
        .unwrap()
        .id;
    let a = w.app.session("alpha-admin", "alpha-password").await;
    let activity = w
        .app
        .call_json(
            "get_channel_activity",
            serde_json::json!({"id": id, "at": "First"}),
            Some(&a),
        )
        .await
        .json();
    let endpoints = activity["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 2, "{endpoints:?}");
    assert!(endpoints[0]["last_refused"].is_string(), "{endpoints:?}");
    assert!(endpoints[0]["last_accepted"].is_null(), "{endpoints:?}");
    assert!(
        endpoints[1]["last_accepted"].is_string(),
        "verified: {endpoints:?}"
    );
    assert!(endpoints[1]["last_refused"].is_string(), "{endpoints:?}");

    // another tenant does not see them
    let other = w
        .app
        .create_tenant(&w.root, "Beta", "beta-admin", "beta-password")
        .await;
    assert!(other > 0);
    let b = w.app.session("beta-admin", "beta-password").await;
    let r = w
        .app
        .call_json(
            "get_channel_activity",
            serde_json::json!({"id": id, "at": "First"}),
            Some(&b),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test]
async fn a_burst_of_refused_deliveries_stores_a_bounded_number_of_rows() {
    use server::db::entities::webhook_refusal;
    let w = world().await;
    let (msg, _) = w.urls["infobip"].clone();
    let started = std::time::Instant::now();
    let mut answered = std::collections::HashMap::<u16, u64>::new();
    let mut tasks = tokio::task::JoinSet::new();
    let total = 10_000u64;
    let workers = 8u64;
    for _ in 0..workers {
        let (http, url) = (w.app.http.clone(), msg.clone());
        tasks.spawn(async move {
            let mut seen = std::collections::HashMap::<u16, u64>::new();
            for _ in 0..total / workers {
                let status = http
                    .post(&url)
                    .header("AccountKey", "wrong")
                    .body("{}")
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                *seen.entry(status).or_default() += 1;
            }
            seen
        });
    }
    while let Some(seen) = tasks.join_next().await {
        for (k, v) in seen.unwrap() {
            *answered.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed();
    w.app.state.webhook_writer.flush().await;
    let rows = webhook_refusal::Entity::find()
        .all(&w.app.state.db.conn)
        .await
        .unwrap();
    let counted: i64 = rows.iter().map(|r| r.count).sum();
    let dropped = w.app.state.webhook_writer.refusals_dropped();
    println!(
        "{total} wrong deliveries in {elapsed:?}: answers {answered:?}, {} rows counting {counted}, {dropped} not recorded",
        rows.len()
    );
    assert_eq!(
        answered.get(&401).copied().unwrap_or(0),
        total,
        "{answered:?}"
    );
    // one row per reason and second: bounded by the seconds the burst took, and by 200
    let seconds = elapsed.as_secs() + 2;
    assert!(
        rows.len() as u64 <= seconds.min(200),
        "{} rows in {seconds} s",
        rows.len()
    );
    assert_eq!(u64::try_from(counted).unwrap() + dropped, total);
    // the channel still accepts its provider's deliveries at once
    let body = br#"{"results":[{"messageId":"after-burst","from":"491","to":"492","message":{"type":"TEXT","text":"hi"}}]}"#.to_vec();
    assert_eq!(
        post(&w, &msg, &[("AccountKey", "infobip-hook-1")], body, false)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn only_the_newest_refusals_of_a_channel_are_kept() {
    use sea_orm::{ActiveModelTrait, Set};
    use server::db::entities::{channel, webhook_refusal};
    let w = world().await;
    let c = channel::Entity::find()
        .filter(channel::Column::Name.eq("wa_infobip"))
        .one(&w.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    // 250 older seconds of refusals, as a long attack would leave them
    for second in 0..250i64 {
        webhook_refusal::ActiveModel {
            channel_id: Set(c.id),
            tenant_id: Set(c.tenant_id),
            endpoint: Set("message".into()),
            status: Set(401),
            reason: Set("account_key_mismatch".into()),
            detail: Set(None),
            source: Set("192.0.2.1".into()),
            content_type: Set("application/json".into()),
            size: Set(2),
            second: Set(second),
            count: Set(1),
            last_at: Set(server::db::now()),
            ..Default::default()
        }
        .insert(&w.app.state.db.conn)
        .await
        .unwrap();
    }
    let (msg, _) = w.urls["infobip"].clone();
    assert_eq!(post(&w, &msg, &[], b"{}".to_vec(), false).await.0, 401);
    w.app.state.webhook_writer.flush().await;
    let rows = webhook_refusal::Entity::find()
        .filter(webhook_refusal::Column::ChannelId.eq(c.id))
        .all(&w.app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 200);
    assert!(
        rows.iter().any(|r| r.reason == "account_key_missing"),
        "the newest is kept"
    );
    assert!(
        rows.iter()
            .all(|r| r.second >= 51 || r.reason == "account_key_missing")
    );
}

#[tokio::test]
async fn a_body_over_one_mib_is_recorded_for_its_channel() {
    let w = world().await;
    let (msg, _) = w.urls["infobip"].clone();
    let big = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(
        post(&w, &msg, &[("AccountKey", "infobip-hook-1")], big, false)
            .await
            .0,
        413
    );
    // the lookup runs beside the answer: wait for it
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = refused(&w, "wa_infobip").await;
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(has(&lines, 413, "Body over 1 MiB"), "{lines:?}");
    assert_eq!(lines[0]["size"], 1024 * 1024 + 1);
    // an unknown key leaves nothing anywhere
    let unknown_key = unknown(&msg);
    assert_eq!(
        post(&w, &unknown_key, &[], vec![b' '; 1024 * 1024 + 1], false)
            .await
            .0,
        413
    );
}

#[tokio::test]
async fn deliveries_to_unknown_keys_are_counted_never_stored() {
    use server::db::entities::{webhook_delivery, webhook_refusal};
    let w = world().await;
    let (message_url, _) = w.urls["infobip"].clone();
    let (callback, _) = w.urls["cloud-api"].clone();
    let before = w.app.state.webhook_writer.unknown_keys();
    for i in 0..300 {
        let url = if i % 2 == 0 {
            unknown(&message_url)
        } else {
            unknown(&callback)
        };
        let (status, _) = post(&w, &url, &[("AccountKey", "x")], b"{}".to_vec(), false).await;
        assert_eq!(status, 404);
    }
    w.app.state.webhook_writer.flush().await;
    assert_eq!(w.app.state.webhook_writer.unknown_keys() - before, 300);
    let db = &w.app.state.db.conn;
    assert_eq!(webhook_refusal::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(webhook_delivery::Entity::find().count(db).await.unwrap(), 0);
}
