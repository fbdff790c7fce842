//! APP Management, the token issuer and the send API, through HTTP on SQLite and PostgreSQL:
//! an app's lifecycle and its secret's overlap, `tokenByAkSk` and `/oauth/token` with every
//! error, tokens checked by another server process on the same database, wrong secrets
//! throttled like sign-ins, `sendWhatsappMessage` through a fake provider over real TLS with
//! its reports joining the message, and an oAuth channel that picks an app and whose Test
//! connection gets its token from this server over https (a TLS front with its own
//! certificate, made at test time).

#![allow(clippy::unwrap_used)]

use crate::common::fake_provider::{self, Callbacks, FakeConfig};
use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;

const AKSK: &str = "/apigovernance/api/oauth/tokenByAkSk";
const BASE: &str = "/apiaccess/rest/ccmessaging";

struct Space {
    id: i64,
    cookie: String,
    queue: String,
}

async fn space(app: &TestApp, root: &str, name: &str) -> Space {
    let admin = format!("{}-admin", name.to_lowercase());
    let password = format!("{admin}-password");
    let id = app.create_tenant(root, name, &admin, &password).await;
    let cookie = app.session(&admin, &password).await;
    let queue = app
        .call(
            "create_skill_queue",
            &[("name", "Care"), ("access_code", "1")],
            Some(&cookie),
        )
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    Space { id, cookie, queue }
}

/// A trustlist entry of `s` for the fake provider (on 127.0.0.1: private addresses allowed).
async fn trust_fake(app: &TestApp, root: &str, s: &Space, fake: &fake_provider::FakeProvider) {
    let scope = s.id.to_string();
    let r = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", fake.base.as_str()),
                ("scope", &scope),
                ("allow_private", "on"),
            ],
            Some(root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// An infobip channel of `s` whose BaseUrl is the fake provider.
fn infobip_draft(fake: &fake_provider::FakeProvider, s: &Space, name: &str) -> Value {
    json!({"provider": "infobip", "name": name, "phone_number": "+4915112345678", "username": "acme",
           "password": "p", "base_url": fake.base, "account_key": FakeConfig::default().infobip_account_key,
           "webhook_password": "infobip-hook-1", "skill_queue_id": s.queue,
           "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]})
}

/// Creates an app as the system administrator; answers what the page shows once.
async fn create_app(app: &TestApp, root: &str, tenant: i64, name: &str, send: bool) -> Value {
    let tenant = tenant.to_string();
    let mut form = vec![("name", name), ("tenant_id", tenant.as_str())];
    if send {
        form.push(("apis[0]", "sendWhatsappMessage"));
    }
    let r = app.call("create_app", &form, Some(root)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// `tokenByAkSk` with `key` and `secret` (and `X-Token-Expire` when given).
async fn aksk(
    base: &str,
    key: &str,
    secret: &str,
    expire: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{AKSK}"))
        .json(&json!({"app_key": key, "app_secret": secret}));
    if let Some(e) = expire {
        req = req.header("X-Token-Expire", e);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn token(base: &str, key: &str, secret: &str) -> String {
    let (status, body, _) = aksk(base, key, secret, None).await;
    assert_eq!(status, 200, "{body}");
    body["AccessToken"].as_str().unwrap().to_owned()
}

async fn whoami(base: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{BASE}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn send(base: &str, token: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{BASE}/sendWhatsappMessage"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn audit_of(app: &TestApp, cookie: &str) -> Vec<Value> {
    let r = app
        .call_json("list_system_audit", json!({"filter": {}}), Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_apps_lifecycle_its_secret_overlap_and_its_audit_trail() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let beta = space(&app, &root, "Beta").await;

    // bad input: each field says what is wrong, nothing is made
    let r = app
        .call(
            "create_app",
            &[("name", " "), ("tenant_id", ""), ("apis[0]", "dropTables")],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    for field in ["name", "tenant_id", "apis"] {
        assert!(r.body.contains(field), "{field}: {}", r.body);
    }
    let r = app
        .call(
            "create_app",
            &[
                ("name", "CRM"),
                ("tenant_id", "999999"),
                ("apis[0]", "sendWhatsappMessage"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("does not exist"), "{}", r.body);
    // a tenant administrator cannot make one
    let r = app
        .call(
            "create_app",
            &[("name", "CRM"), ("tenant_id", &alpha.id.to_string())],
            Some(&alpha.cookie),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    let shown = create_app(&app, &root, alpha.id, "CRM", true).await;
    let key = shown["app_key"].as_str().unwrap().to_owned();
    let first = shown["app_secret"].as_str().unwrap().to_owned();
    let id = shown["app_id"].as_i64().unwrap();
    assert!(
        key.starts_with("sbak_") && first.starts_with("sbas_"),
        "{shown}"
    );
    assert!(first.len() >= 5 + 32, "at least 128 bits: {first}");
    // the same name in the same space is refused; in another it is fine
    let r = app
        .call(
            "create_app",
            &[("name", "crm"), ("tenant_id", &alpha.id.to_string())],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("already has an app"), "{}", r.body);
    create_app(&app, &root, beta.id, "BetaCRM", false).await;

    // lists: never the secret; the tenant administrator sees only their space's
    let all = app.call("list_apps", &[], Some(&root)).await;
    assert_eq!(all.status, 200);
    assert!(!all.body.contains(&first));
    assert_eq!(all.json().as_array().unwrap().len(), 2);
    let mine = app
        .call("list_tenant_apps", &[], Some(&alpha.cookie))
        .await
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["app_key"], key.as_str());
    assert_eq!(mine[0]["apis"], json!(["sendWhatsappMessage"]));
    assert_eq!(mine[0]["last_token"], Value::Null);
    assert!(!serde_json::to_string(&mine).unwrap().contains(&first));
    assert_eq!(
        app.call("list_apps", &[], Some(&alpha.cookie)).await.status,
        403
    );

    // the secret works; the token is the documented shape
    let (status, body, headers) = aksk(&app.base, &key, &first, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ApplyType"], "Bearer");
    assert_eq!(body["Expires"], "600");
    assert_eq!(body["Scope"], "sendWhatsappMessage");
    assert_eq!(body["AppKey"], key.as_str());
    assert_eq!(body["UserID"], alpha.id.to_string());
    assert!(body["CreateTime"].as_str().unwrap().parse::<i64>().is_ok());
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let t1 = body["AccessToken"].as_str().unwrap().to_owned();
    let (status, me) = whoami(&app.base, &t1).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me,
        json!({"app": "CRM", "appKey": key, "tenantSpace": "Alpha", "subscriptions": ["sendWhatsappMessage"]})
    );
    let mine = app
        .call("list_tenant_apps", &[], Some(&alpha.cookie))
        .await
        .json();
    assert_ne!(mine[0]["last_token"], Value::Null);
    assert_ne!(mine[0]["last_call"], Value::Null);

    // reset with the default overlap: the previous secret keeps working beside the new one
    let r = app
        .call(
            "reset_app_secret",
            &[("app_id", &id.to_string()), ("overlap_hours", "")],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.json()["app_secret"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert!(r.json()["previous_secret_until"].is_string());
    token(&app.base, &key, &first).await;
    token(&app.base, &key, &second).await;
    // tokens issued before the reset keep working through the overlap
    assert_eq!(whoami(&app.base, &t1).await.0, 200);
    // an overlap out of range is refused at its field
    let r = app
        .call(
            "reset_app_secret",
            &[("app_id", &id.to_string()), ("overlap_hours", "721")],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("overlap_hours"), "{}", r.body);
    // a reset with no overlap ends the previous secret at once (and the one before it)
    let r = app
        .call(
            "reset_app_secret",
            &[("app_id", &id.to_string()), ("overlap_hours", "0")],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let third = r.json()["app_secret"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["previous_secret_until"], Value::Null);
    assert_eq!(aksk(&app.base, &key, &second, None).await.0, 401);
    assert_eq!(aksk(&app.base, &key, &first, None).await.0, 401);
    // and so do the tokens issued before it
    assert_eq!(whoami(&app.base, &t1).await.0, 401);
    let t3 = token(&app.base, &key, &third).await;

    // disabled: its tokens end at once, and it gets no new one even with the right secret
    let r = app
        .call(
            "set_app_enabled",
            &[("app_id", &id.to_string()), ("enabled", "false")],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(whoami(&app.base, &t3).await.0, 401);
    let (status, body, _) = aksk(&app.base, &key, &third, None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "app_disabled");
    app.call(
        "set_app_enabled",
        &[("app_id", &id.to_string()), ("enabled", "true")],
        Some(&root),
    )
    .await;
    let t4 = token(&app.base, &key, &third).await;
    // a disabled tenant space: no token, and its tokens are refused
    app.call(
        "set_tenant_disabled",
        &[("tenant_id", &alpha.id.to_string()), ("disabled", "true")],
        Some(&root),
    )
    .await;
    assert_eq!(whoami(&app.base, &t4).await.0, 403);
    assert_eq!(aksk(&app.base, &key, &third, None).await.0, 403);
    app.call(
        "set_tenant_disabled",
        &[("tenant_id", &alpha.id.to_string()), ("disabled", "false")],
        Some(&root),
    )
    .await;
    assert_eq!(whoami(&app.base, &t4).await.0, 200);

    // deleted: its tokens and its key are gone
    let r = app
        .call("delete_app", &[("id", &id.to_string())], Some(&root))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(whoami(&app.base, &t4).await.0, 401);
    assert_eq!(aksk(&app.base, &key, &third, None).await.0, 401);
    assert_eq!(
        app.call("delete_app", &[("id", &id.to_string())], Some(&root))
            .await
            .status,
        404
    );

    // every change in the audit log, the secret only as "changed"
    let entries = audit_of(&app, &root).await;
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "app_created",
        "app_secret_reset",
        "app_disabled",
        "app_enabled",
        "app_deleted",
        "app_token_refused",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    let text = serde_json::to_string(&entries).unwrap();
    for secret in [&first, &second, &third] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is in the audit log"
        );
    }
    assert!(
        text.contains("\"changed\""),
        "the reset shows the secret as changed"
    );
    // the tenant administrator sees their space's app entries
    let r = app
        .call_json(
            "list_tenant_audit",
            json!({"filter": {}}),
            Some(&alpha.cookie),
        )
        .await;
    assert!(
        r.body.contains("app_created") && r.body.contains("app_deleted"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("BetaCRM"),
        "Beta's app is not in Alpha's log"
    );
}

#[tokio::test]
async fn token_requests_are_checked_and_answered_as_documented() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let shown = create_app(&app, &root, alpha.id, "CRM", true).await;
    let key = shown["app_key"].as_str().unwrap().to_owned();
    let secret = shown["app_secret"].as_str().unwrap().to_owned();

    // X-Token-Expire: 1 to 3600
    for bad in ["0", "3601", "abc", "-5"] {
        let (status, body, _) = aksk(&app.base, &key, &secret, Some(bad)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_token_expire");
    }
    let (status, body, _) = aksk(&app.base, &key, &secret, Some("3600")).await;
    assert_eq!((status, body["Expires"].as_str()), (200, Some("3600")));
    // wrong secret and unknown key: one answer
    let (s1, wrong, _) = aksk(&app.base, &key, "sbas_nope", None).await;
    let (s2, unknown, _) = aksk(
        &app.base,
        "sbak_00000000000000000000000000000000",
        &secret,
        None,
    )
    .await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(wrong, unknown);
    // not JSON
    let r = reqwest::Client::new()
        .post(format!("{}{AKSK}", app.base))
        .body("app_key=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let r = reqwest::Client::new()
        .post(format!("{}{AKSK}", app.base))
        .header("Content-Type", "application/json")
        .body("{\"app_key\": 5}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // OAuth 2.0 client credentials, by HTTP Basic and by the body
    let http = reqwest::Client::new();
    let url = format!("{}/oauth/token", app.base);
    let r = http
        .post(&url)
        .basic_auth(&key, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["pragma"], "no-cache");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "sendWhatsappMessage");
    assert!(body.get("refresh_token").is_none());
    assert_eq!(
        whoami(&app.base, body["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
    let r = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &key),
            ("client_secret", &secret),
            ("scope", "sendWhatsappMessage"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // §5.2 errors
    let oauth = |form: Vec<(&'static str, String)>, basic: Option<(String, String)>| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let mut req = http.post(&url).form(&form);
            if let Some((u, p)) = basic {
                req = req.basic_auth(u, Some(p));
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let challenge = r.headers().get("www-authenticate").is_some();
            (status, r.json::<Value>().await.unwrap(), challenge)
        }
    };
    let grant = || ("grant_type", "client_credentials".to_string());
    let (s, b, _) = oauth(
        vec![
            ("client_id", key.clone()),
            ("client_secret", secret.clone()),
        ],
        None,
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let (s, b, _) = oauth(
        vec![
            ("grant_type", "password".into()),
            ("client_id", key.clone()),
            ("client_secret", secret.clone()),
        ],
        None,
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, b, challenge) = oauth(vec![grant()], Some((key.clone(), "wrong".into()))).await;
    assert_eq!(
        (s, b["error"].as_str(), challenge),
        (401, Some("invalid_client"), true)
    );
    let (s, b, _) = oauth(
        vec![
            grant(),
            ("client_id", key.clone()),
            ("client_secret", "wrong".into()),
        ],
        None,
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    let (s, b, _) = oauth(
        vec![grant(), ("client_id", key.clone())],
        Some((key.clone(), secret.clone())),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let (s, b, _) = oauth(
        vec![
            grant(),
            ("client_id", key.clone()),
            ("client_secret", secret.clone()),
            ("scope", "deleteEverything".into()),
        ],
        None,
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_scope")));
    let (s, b, _) = oauth(
        vec![
            grant(),
            grant(),
            ("client_id", key.clone()),
            ("client_secret", secret.clone()),
        ],
        None,
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let r = http
        .post(&url)
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // a disabled app: unauthorized_client
    let id = shown["app_id"].as_i64().unwrap().to_string();
    app.call(
        "set_app_enabled",
        &[("app_id", &id), ("enabled", "false")],
        Some(&root),
    )
    .await;
    let (s, b, _) = oauth(
        vec![
            grant(),
            ("client_id", key.clone()),
            ("client_secret", secret.clone()),
        ],
        None,
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unauthorized_client")));

    // the API's description is served at a fixed path, without a token
    let r = reqwest::get(format!("{}{BASE}/openapi.json", app.base))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let spec: Value = r.json().await.unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    for path in [
        AKSK,
        "/oauth/token",
        "/apiaccess/rest/ccmessaging/sendWhatsappMessage",
        "/apiaccess/rest/ccmessaging/messages/{id}",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path}");
    }
}

#[tokio::test]
async fn a_token_is_checked_by_any_instance_and_expires() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let shown = create_app(&app, &root, alpha.id, "CRM", true).await;
    let key = shown["app_key"].as_str().unwrap().to_owned();
    let secret = shown["app_secret"].as_str().unwrap().to_owned();

    // a second server process on the same database (its own state, router and listener)
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let other_base = format!("http://{addr}");
    let config = config_for(
        app.config.database_url.clone(),
        addr,
        &other_base,
        &Options::default(),
    );
    let state = server::startup::build_state(&config).await.unwrap();
    let router = server::startup::build_router(state, &config);
    let limits = config.limits.clone();
    tokio::spawn(async move {
        server::startup::serve(listener, router, &limits, std::future::pending()).await;
    });

    let t = token(&app.base, &key, &secret).await;
    let (status, me) = whoami(&other_base, &t).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["app"], "CRM");
    // and the other way round
    let t2 = token(&other_base, &key, &secret).await;
    assert_eq!(whoami(&app.base, &t2).await.0, 200);

    // a token of one second: expired after it, told apart from an unknown one
    let (_, body, _) = aksk(&app.base, &key, &secret, Some("1")).await;
    let short = body["AccessToken"].as_str().unwrap().to_owned();
    assert_eq!(whoami(&app.base, &short).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let (status, body) = whoami(&other_base, &short).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "token_expired");
    let (status, body) = whoami(&app.base, "sbat_not-a-token").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let r = reqwest::get(format!("{}{BASE}", app.base)).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn wrong_secrets_are_throttled_like_sign_ins_and_recorded() {
    // the client address as a load balancer names it
    let app = spawn_app_with(Options {
        trust_forwarded_for: true,
        ..Options::default()
    })
    .await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let shown = create_app(&app, &root, alpha.id, "CRM", true).await;
    let key = shown["app_key"].as_str().unwrap().to_owned();
    let secret = shown["app_secret"].as_str().unwrap().to_owned();
    let from = |ip: &'static str, secret: String| {
        let url = format!("{}{AKSK}", app.base);
        let key = key.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("X-Forwarded-For", ip)
                .json(&json!({"app_key": key, "app_secret": secret}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            (status, r.json::<Value>().await.unwrap(), headers)
        }
    };
    let limit = server::http::throttle::DEFAULT_LIMIT;
    for i in 0..limit {
        let (status, body, _) = from("203.0.113.7", format!("sbas_guess{i}")).await;
        assert_eq!(status, 401, "attempt {i}: {body}");
    }
    // past the limit: that address is refused before the secret is checked, the right one too
    let (status, body, headers) = from("203.0.113.7", secret.clone()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "throttled");
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", app.base))
        .header("X-Forwarded-For", "203.0.113.7")
        .basic_auth(&key, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    // the app itself, elsewhere, is not locked out by guesses at its (public) key
    let (status, body, _) = from("198.51.100.20", secret.clone()).await;
    assert_eq!(status, 200, "{body}");
    // each wrong attempt is in the tenant space's audit log, without what was typed
    let r = app
        .call_json(
            "list_tenant_audit",
            json!({"filter": {"action": "app_token_refused"}}),
            Some(&alpha.cookie),
        )
        .await;
    let entries = r.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len() as u64, limit, "{}", r.body);
    assert!(!r.body.contains("sbas_guess"));
}

#[tokio::test]
async fn an_app_sends_through_its_spaces_channel_and_follows_the_reports() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let beta = space(&app, &root, "Beta").await;
    for s in [&alpha, &beta] {
        trust_fake(&app, &root, s, &fake).await;
    }
    let channel = |s: &Space, name: &str| infobip_draft(&fake, s, name);
    // the fake's certificate: the channel trusts the fake's CA
    let ca = app
        .upload_certificate(
            &alpha.cookie,
            "fake ca",
            "authentication",
            fake.pki.ca_pem().into_bytes(),
            "",
        )
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    let mut draft = channel(&alpha, "wa_alpha");
    draft["auth_certificate_id"] = json!(ca);
    let (alpha_channel, integration) = app.create_channel(&alpha.cookie, draft).await;
    let (beta_channel, _) = app
        .create_channel(&beta.cookie, channel(&beta, "wa_beta"))
        .await;
    fake.set_callbacks(Callbacks {
        infobip: Some((
            integration["report_url"].as_str().unwrap().into(),
            "infobip-hook-1".into(),
        )),
        ..Default::default()
    });

    let shown = create_app(&app, &root, alpha.id, "CRM", true).await;
    let t = token(
        &app.base,
        shown["app_key"].as_str().unwrap(),
        shown["app_secret"].as_str().unwrap(),
    )
    .await;

    let (status, sent) = send(&app.base, &t, json!({"channelId": alpha_channel, "to": "+49 170 1234567", "text": "Your order shipped", "clientReference": "order-17"})).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["replayed"], false);
    let message_id = sent["messageId"].as_i64().unwrap();
    let provider_id = sent["providerMessageId"].as_str().unwrap().to_owned();
    assert!(provider_id.starts_with("ib-"), "{sent}");
    // the same client reference again: nothing is sent, the first message is answered
    let sends_before = fake
        .seen()
        .iter()
        .filter(|s| s.contains("/whatsapp/1/message/text"))
        .count();
    let (status, again) = send(&app.base, &t, json!({"channelId": alpha_channel, "to": "+49 170 1234567", "text": "Your order shipped", "clientReference": "order-17"})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["messageId"].as_i64(), again["replayed"].as_bool()),
        (Some(message_id), Some(true))
    );
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.contains("/whatsapp/1/message/text"))
            .count(),
        sends_before
    );
    // the same reference for another text: refused, nothing sent
    let (status, body) = send(
        &app.base,
        &t,
        json!({"channelId": alpha_channel, "to": "+49 170 1234567", "text": "Another text", "clientReference": "order-17"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("reference_in_use")),
        "{body}"
    );

    // the fake reports delivered and seen to the channel's webhook: they join the message
    let mut status_now = Value::Null;
    // (within the app's rate: 10 calls a second)
    for _ in 0..50 {
        let r = reqwest::Client::new()
            .get(format!("{}{BASE}/messages/{message_id}", app.base))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        status_now = r.json().await.unwrap();
        // infobip says "seen" for read
        if status_now["status"] == "seen" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(status_now["status"], "seen", "{status_now}");
    let steps: Vec<&str> = status_now["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(steps.first(), Some(&"sent"));
    assert!(steps.contains(&"delivered"), "{steps:?}");
    assert_eq!(status_now["to"], "+491701234567");
    assert_eq!(status_now["clientReference"], "order-17");
    assert_eq!(status_now["providerMessageId"], provider_id.as_str());
    // the channel's Activity shows it, sent by the app
    let activity = app
        .call_json(
            "get_channel_activity",
            json!({"id": alpha_channel, "at": "First"}),
            Some(&alpha.cookie),
        )
        .await
        .json();
    assert_eq!(
        activity["sent"][0]["provider_message_id"],
        provider_id.as_str()
    );
    assert_eq!(activity["sent"][0]["app"], "CRM");

    // errors, in JSON
    let (status, body) = send(
        &app.base,
        &t,
        json!({"channelId": beta_channel, "to": "+4917012345678", "text": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_channel")),
        "another space's channel is unknown"
    );
    let (status, body) = send(
        &app.base,
        &t,
        json!({"channelId": 99999999, "to": "+4917012345678", "text": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_channel"))
    );
    let (status, body) = send(
        &app.base,
        &t,
        json!({"channelId": alpha_channel, "to": "12", "text": "", "clientReference": "a b"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    for f in ["to", "text", "clientReference"] {
        assert!(body["error"]["fields"][f].is_string(), "{f}: {body}");
    }
    let (status, body) = send(
        &app.base,
        &t,
        json!({"channelId": alpha_channel, "to": "+4917012345678", "text": "x".repeat(4097)}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["fields"]["text"].is_string()),
        (400, true)
    );
    let r = reqwest::Client::new()
        .post(format!("{}{BASE}/sendWhatsappMessage", app.base))
        .bearer_auth(&t)
        .body("channelId=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    // a body past 64 KiB is refused before it is read
    let r = reqwest::Client::new()
        .post(format!("{}{BASE}/sendWhatsappMessage", app.base))
        .bearer_auth(&t)
        .header("Content-Type", "application/json")
        .body(vec![b' '; 64 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    // another app's message is not found
    let other = create_app(&app, &root, alpha.id, "Billing", true).await;
    let t_other = token(
        &app.base,
        other["app_key"].as_str().unwrap(),
        other["app_secret"].as_str().unwrap(),
    )
    .await;
    let r = reqwest::Client::new()
        .get(format!("{}{BASE}/messages/{message_id}", app.base))
        .bearer_auth(&t_other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // an app of another space cannot send through this space's channel
    let beta_app = create_app(&app, &root, beta.id, "BetaCRM", true).await;
    let t_beta = token(
        &app.base,
        beta_app["app_key"].as_str().unwrap(),
        beta_app["app_secret"].as_str().unwrap(),
    )
    .await;
    let (status, _) = send(
        &app.base,
        &t_beta,
        json!({"channelId": alpha_channel, "to": "+4917012345678", "text": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    // an app without the subscription
    let bare = create_app(&app, &root, alpha.id, "Reporting", false).await;
    let t_bare = token(
        &app.base,
        bare["app_key"].as_str().unwrap(),
        bare["app_secret"].as_str().unwrap(),
    )
    .await;
    let (status, body) = send(
        &app.base,
        &t_bare,
        json!({"channelId": alpha_channel, "to": "+4917012345678", "text": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_subscribed"))
    );

    // each app at most 10 calls a second after a burst of 20: the 21st at once is refused
    let mut refused = 0;
    for _ in 0..30 {
        let r = reqwest::Client::new()
            .get(format!("{}{BASE}", app.base))
            .bearer_auth(&t_other)
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 429 {
            assert!(r.headers().get("retry-after").is_some());
            refused += 1;
        }
    }
    assert!(refused >= 5, "only {refused} of 30 refused");
    // another app is not held by it
    assert_eq!(whoami(&app.base, &t).await.0, 200);
}

#[tokio::test]
async fn an_oauth_channel_picks_an_app_and_test_connection_gets_its_token_over_https() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let front = fake_provider::tls_front(app.addr).await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let beta = space(&app, &root, "Beta").await;
    let scope = alpha.id.to_string();
    for prefix in [front.base.as_str(), fake.base.as_str()] {
        let r = app
            .call(
                "add_trust_prefix",
                &[
                    ("prefix", prefix),
                    ("scope", &scope),
                    ("allow_private", "on"),
                ],
                Some(&root),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let upload = |name: &'static str, pem: String| {
        let app = &app;
        let cookie = alpha.cookie.clone();
        async move {
            app.upload_certificate(&cookie, name, "trust", pem.into_bytes(), "")
                .await
                .json()
                .as_i64()
                .unwrap()
                .to_string()
        }
    };
    let front_ca = upload("front ca", front.pki.ca_pem()).await;
    let fake_ca = upload("fake ca", fake.pki.ca_pem()).await;
    let crm = create_app(&app, &root, alpha.id, "CRM", true).await;
    let elsewhere = create_app(&app, &root, beta.id, "Elsewhere", true).await;
    let options = app
        .call("get_channel_options", &[], Some(&alpha.cookie))
        .await
        .json();
    assert_eq!(
        options["apps"].as_array().unwrap().len(),
        1,
        "only Alpha's subscribed apps: {options}"
    );
    assert_eq!(options["apps"][0]["name"], "CRM");

    let draft = |name: &str, extra: Value| {
        let mut d = json!({"provider": "other", "verification_method": "oAuth", "name": name,
            "base_url": format!("{}{BASE}", front.base), "webhook_password": "other-hook-1",
            "trust_certificate_id": front_ca, "skill_queue_id": alpha.queue,
            "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]});
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    let test = |id: i64| {
        let app = &app;
        let cookie = alpha.cookie.clone();
        async move {
            let r = app
                .call(
                    "test_channel_connection",
                    &[("id", &id.to_string())],
                    Some(&cookie),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.json()
        }
    };

    // another space's app cannot be picked
    let r = app
        .call_json("create_channel", json!({"draft": draft("wa_bad", json!({"oauth_app_id": elsewhere["app_id"].to_string()}))}), Some(&alpha.cookie))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("oauth_app_id"), "{}", r.body);

    // picked: no key or secret typed; Test connection mints the app's token and BaseUrl
    // (this Switchboard, through the TLS front) accepts it
    let (picked, _) = app
        .create_channel(
            &alpha.cookie,
            draft(
                "wa_picked",
                json!({"oauth_app_id": crm["app_id"].to_string()}),
            ),
        )
        .await;
    let edit = app
        .call(
            "get_channel",
            &[("id", &picked.to_string())],
            Some(&alpha.cookie),
        )
        .await
        .json();
    assert_eq!(edit["draft"]["username"], crm["app_key"]);
    assert_eq!(edit["draft"]["password"], "");
    let result = test(picked).await;
    assert_eq!(result["ok"], true, "{result}");
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary.contains("Connected (oAuth)")
            && summary.contains("\u{201c}CRM\u{201d}")
            && summary.contains("Alpha"),
        "{summary}"
    );
    // the token was minted for this app (it shows as issued) and revoked after its one call
    let apps = app
        .call("list_tenant_apps", &[], Some(&alpha.cookie))
        .await
        .json();
    assert_ne!(apps[0]["last_token"], Value::Null);
    assert_eq!(tokens_of(&app, &crm["app_id"]).await, 0);

    // typed: the key and secret of an app on another platform, its token from BaseUrl's
    // origin (here another Switchboard space's app: the loop over real HTTP)
    let typed = draft(
        "wa_typed",
        json!({"username": elsewhere["app_key"], "password": elsewhere["app_secret"]}),
    );
    let (typed_id, _) = app.create_channel(&alpha.cookie, typed).await;
    let result = test(typed_id).await;
    assert_eq!(result["ok"], true, "{result}");
    assert!(
        result["summary"].as_str().unwrap().contains("Elsewhere"),
        "{result}"
    );
    // a wrong secret: rejected by the token endpoint
    let (wrong_id, _) = app
        .create_channel(
            &alpha.cookie,
            draft(
                "wa_wrong",
                json!({"username": elsewhere["app_key"], "password": "sbas_wrong"}),
            ),
        )
        .await;
    let result = test(wrong_id).await;
    assert_eq!(result["ok"], false);
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .starts_with("The app key or secret was rejected"),
        "{result}"
    );
    // a platform with no token endpoint at BaseUrl's origin
    let (user, password) = FakeConfig::default().other;
    let mut fake_draft = draft(
        "wa_fake",
        json!({"username": user, "password": password, "trust_certificate_id": fake_ca}),
    );
    fake_draft["base_url"] = json!(format!("{}{BASE}", fake.base));
    let (fake_id, _) = app.create_channel(&alpha.cookie, fake_draft).await;
    let result = test(fake_id).await;
    assert_eq!(
        result["ok"], true,
        "the fake platform's own tokenByAkSk: {result}"
    );
    // the picked app disabled: Test connection says so
    app.call(
        "set_app_enabled",
        &[("app_id", &crm["app_id"].to_string()), ("enabled", "false")],
        Some(&root),
    )
    .await;
    let result = test(picked).await;
    assert_eq!(result["ok"], false);
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .contains("picked no longer exists, is disabled"),
        "{result}"
    );
}

#[tokio::test]
async fn past_fifty_apps_a_space_gets_no_more_and_past_a_hundred_live_tokens_the_oldest_goes() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let beta = space(&app, &root, "Beta").await;
    let limit = app::domain::apps::MAX_APPS_PER_TENANT;
    let mut first = Value::Null;
    for i in 0..limit {
        let shown = create_app(&app, &root, alpha.id, &format!("app-{i}"), true).await;
        if i == 0 {
            first = shown;
        }
    }
    let r = app
        .call(
            "create_app",
            &[("name", "one-more"), ("tenant_id", &alpha.id.to_string())],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("50 apps, the most it may have"),
        "{}",
        r.body
    );
    // another space is not held by it
    create_app(&app, &root, beta.id, "one-more", true).await;

    let key = first["app_key"].as_str().unwrap();
    let secret = first["app_secret"].as_str().unwrap();
    let tokens_limit = usize::try_from(app::domain::apps::MAX_LIVE_TOKENS).unwrap();
    let oldest = token(&app.base, key, secret).await;
    assert_eq!(whoami(&app.base, &oldest).await.0, 200);
    let mut newest = String::new();
    for _ in 0..tokens_limit {
        newest = token(&app.base, key, secret).await;
    }
    // the 101st live token retired the first; the newest work
    assert_eq!(whoami(&app.base, &oldest).await.0, 401);
    assert_eq!(whoami(&app.base, &newest).await.0, 200);
    let live: i64 = {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = &app.state.db.conn;
        let row = conn
            .query_one(Statement::from_string(
                conn.get_database_backend(),
                format!(
                    "SELECT COUNT(*) AS n FROM app_tokens WHERE app_id = {}",
                    first["app_id"]
                ),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    };
    assert_eq!(live, i64::try_from(tokens_limit).unwrap());
}

/// The token rows an app has (live or expired).
async fn tokens_of(app: &TestApp, app_id: &Value) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = &app.state.db.conn;
    conn.query_one(Statement::from_string(
        conn.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM app_tokens WHERE app_id = {app_id}"),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

#[tokio::test]
async fn a_scope_the_app_lacks_leaves_no_token_behind() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    let bare = create_app(&app, &root, alpha.id, "Reporting", false).await;
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", app.base))
        .basic_auth(
            bare["app_key"].as_str().unwrap(),
            bare["app_secret"].as_str(),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "sendWhatsappMessage"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_scope");
    assert_eq!(tokens_of(&app, &bare["app_id"]).await, 0);
}

#[tokio::test]
async fn a_send_with_no_answer_is_never_sent_again_with_its_reference() {
    // the provider takes longer than a call may (15 s): the request went out, no answer came
    let fake = fake_provider::start(FakeConfig {
        behaviour: fake_provider::Behaviour::Slow(Duration::from_secs(30)),
        ..FakeConfig::default()
    })
    .await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let alpha = space(&app, &root, "Alpha").await;
    trust_fake(&app, &root, &alpha, &fake).await;
    let ca = app
        .upload_certificate(
            &alpha.cookie,
            "fake ca",
            "authentication",
            fake.pki.ca_pem().into_bytes(),
            "",
        )
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    let mut draft = infobip_draft(&fake, &alpha, "wa_slow");
    draft["auth_certificate_id"] = json!(ca);
    let (channel, _) = app.create_channel(&alpha.cookie, draft).await;
    let shown = create_app(&app, &root, alpha.id, "CRM", true).await;
    let t = token(
        &app.base,
        shown["app_key"].as_str().unwrap(),
        shown["app_secret"].as_str().unwrap(),
    )
    .await;
    let body = json!({"channelId": channel, "to": "+4917012345678", "text": "Hello", "clientReference": "slow-1"});
    let (status, answer) = send(&app.base, &t, body.clone()).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (504, Some("outcome_unknown")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may have sent"),
        "{answer}"
    );
    // it may have been sent: the same reference never sends again, and says why
    let (status, again) = send(&app.base, &t, body).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("outcome_unknown")),
        "{again}"
    );
    let sends = fake
        .seen()
        .iter()
        .filter(|s| s.contains("/whatsapp/1/message/text"))
        .count();
    assert_eq!(sends, 1);
}
