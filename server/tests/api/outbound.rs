//! Test connection and Send test message against fake providers over real TLS on 127.0.0.1
//! (certificates made at test time), through the server functions, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::common::fake_provider::{self, Behaviour, Callbacks, FakeConfig, FakeProvider, Pki};
use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;

/// A tenant whose channels may call `fake` (a trustlist entry for it, private addresses
/// allowed unless `allow_private` is false), with a skill queue.
struct Tenant {
    cookie: String,
    queue: String,
}

async fn tenant(
    app: &TestApp,
    root: &str,
    name: &str,
    fake: &FakeProvider,
    allow_private: bool,
) -> Tenant {
    let admin = format!("{}-admin", name.to_lowercase());
    let password = format!("{admin}-password");
    let id = app.create_tenant(root, name, &admin, &password).await;
    let scope = id.to_string();
    let mut form = vec![("prefix", fake.base.as_str()), ("scope", scope.as_str())];
    if allow_private {
        form.push(("allow_private", "on"));
    }
    let r = app.call("add_trust_prefix", &form, Some(root)).await;
    assert_eq!(r.status, 200, "{}", r.body);
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
    Tenant { cookie, queue }
}

async fn cert_id(
    app: &TestApp,
    cookie: &str,
    name: &str,
    kind: &str,
    file: Vec<u8>,
    password: &str,
) -> String {
    let r = app
        .upload_certificate(cookie, name, kind, file, password)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_i64().unwrap().to_string()
}

fn base(queue: &str, name: &str) -> Value {
    json!({"skill_queue_id": queue, "name": name, "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]})
}

fn with(mut a: Value, b: Value) -> Value {
    for (k, v) in b.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

async fn channel(app: &TestApp, cookie: &str, draft: Value) -> i64 {
    let r = app
        .call_json("create_channel", json!({ "draft": draft }), Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_i64().unwrap()
}

async fn test_connection(app: &TestApp, cookie: &str, id: i64) -> Value {
    let r = app
        .call(
            "test_channel_connection",
            &[("id", &id.to_string())],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn infobip(t: &Tenant, fake: &FakeProvider, name: &str, key: &str, cert: Option<&str>) -> Value {
    with(
        base(&t.queue, name),
        json!({"provider": "infobip", "phone_number": "+4915112345678", "username": "acme", "password": "p",
               "base_url": fake.base, "account_key": key, "webhook_password": "infobip-hook-1",
               "auth_certificate_id": cert.unwrap_or("")}),
    )
}

fn twilio(t: &Tenant, fake: &FakeProvider, name: &str, secret: &str, cert: Option<&str>) -> Value {
    let (sid, key, _) = FakeConfig::default().twilio;
    with(
        base(&t.queue, name),
        json!({"provider": "twilio", "phone_number": "+14155238886", "api_key_sid": key, "api_key_secret": secret,
               "base_url": format!("{}/2010-04-01", fake.base), "account_sid": sid, "webhook_user": "hook",
               "webhook_password": "twilio-hook-1", "auth_certificate_id": cert.unwrap_or("")}),
    )
}

fn cloud(
    t: &Tenant,
    fake: &FakeProvider,
    name: &str,
    token: &str,
    trust: Option<&str>,
    identity: Option<&str>,
) -> Value {
    let (phone_id, _) = FakeConfig::default().cloud;
    with(
        base(&t.queue, name),
        json!({"provider": "cloud-api", "app_key": "123", "app_secret": "app-secret-1", "phone_number": "15550001111",
               "base_url": format!("{}/v21.0/{phone_id}", fake.base), "access_token": token, "token_valid_until": "2099-01-01",
               "trust_certificate_id": trust.unwrap_or(""), "identity_certificate_id": identity.unwrap_or("")}),
    )
}

fn other(
    t: &Tenant,
    fake: &FakeProvider,
    name: &str,
    trust: Option<&str>,
    identity: Option<&str>,
) -> Value {
    let (user, password) = FakeConfig::default().other;
    with(
        base(&t.queue, name),
        json!({"provider": "other", "verification_method": "basic", "phone_number": "5511987654321", "username": user,
               "password": password, "base_url": format!("{}/apiaccess/rest/ccmessaging", fake.base), "authentication_key": "k",
               "webhook_password": "other-hook-1", "trust_certificate_id": trust.unwrap_or(""), "identity_certificate_id": identity.unwrap_or("")}),
    )
}

#[tokio::test]
async fn every_provider_connects_through_the_channels_own_trust() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let auth = cert_id(
        &app,
        &t.cookie,
        "fake ca auth",
        "authentication",
        fake.pki.ca_der(),
        "",
    )
    .await;
    let key = FakeConfig::default().infobip_account_key;
    let (_, _, secret) = FakeConfig::default().twilio;
    let (_, token) = FakeConfig::default().cloud;
    let ids = [
        channel(
            &app,
            &t.cookie,
            infobip(&t, &fake, "wa_infobip", &key, Some(&auth)),
        )
        .await,
        channel(
            &app,
            &t.cookie,
            twilio(&t, &fake, "wa_twilio", &secret, Some(&auth)),
        )
        .await,
        channel(
            &app,
            &t.cookie,
            cloud(&t, &fake, "wa_cloud", &token, Some(&ca), None),
        )
        .await,
        channel(
            &app,
            &t.cookie,
            other(&t, &fake, "wa_other", Some(&ca), None),
        )
        .await,
    ];
    let expected = [
        "Connected: account balance 42.5 EUR.",
        "Connected: account \u{201c}Fake Twilio\u{201d} (active).",
        "Connected: verified name \u{201c}Acme Support\u{201d}, number +1 555-000-1111.",
        "Connected: the BSP answered HTTP 405.",
    ];
    for (id, expected) in ids.iter().zip(expected) {
        let r = test_connection(&app, &t.cookie, *id).await;
        assert_eq!(r["ok"], true, "{r}");
        assert!(r["summary"].as_str().unwrap().starts_with(expected), "{r}");
        assert!(r["summary"].as_str().unwrap().ends_with(" ms)"), "{r}");
    }
    let seen = fake.seen();
    for call in [
        "GET /account/1/balance",
        "GET /2010-04-01/Accounts/AC0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f.json",
        "GET /v21.0/106540352242922",
        "GET /apiaccess/rest/ccmessaging",
    ] {
        assert!(seen.contains(&call.to_string()), "{call} in {seen:?}");
    }
    // the last result is kept on the channel and shown in the list
    let list = app
        .call_json("list_channels", json!({"query": {"search": "", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}}), Some(&t.cookie))
        .await
        .json();
    for row in list["rows"].as_array().unwrap() {
        assert_eq!(row["last_test"]["ok"], true, "{row}");
        assert!(
            row["last_test"]["summary"]
                .as_str()
                .unwrap()
                .starts_with("Connected"),
            "{row}"
        );
    }
}

#[tokio::test]
async fn wrong_credentials_and_a_foreign_certificate_are_told_apart() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let stranger = Pki::new("Some Other CA");
    let wrong_ca = cert_id(
        &app,
        &t.cookie,
        "other ca",
        "trust",
        stranger.ca_pem().into_bytes(),
        "",
    )
    .await;

    let id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_bad_token", "not-the-token", Some(&ca), None),
    )
    .await;
    let r = test_connection(&app, &t.cookie, id).await;
    assert_eq!(r["ok"], false);
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("The provider rejected the credentials (HTTP 401)"),
        "{summary}"
    );
    assert!(summary.contains("Invalid OAuth access token."), "{summary}");
    assert!(
        !summary.contains("not-the-token"),
        "no secret in the diagnosis"
    );

    let (_, token) = FakeConfig::default().cloud;
    let id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_wrong_ca", &token, Some(&wrong_ca), None),
    )
    .await;
    let r = test_connection(&app, &t.cookie, id).await;
    assert_eq!(r["ok"], false);
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("The server's certificate is not trusted"),
        "{summary}"
    );
    assert!(
        summary.contains("CN=fake-provider.test (issued by CN=Fake Provider CA"),
        "{summary}"
    );
    assert!(summary.contains("CN=Some Other CA"), "{summary}");

    // without a channel certificate the public web roots apply: the fake's CA is not one
    let id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_public_roots", &token, None, None),
    )
    .await;
    let summary = test_connection(&app, &t.cookie, id).await["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        summary.contains("not signed by the public web roots"),
        "{summary}"
    );

    // a BaseUrl without a phone number id says so instead of calling
    let mut d = cloud(&t, &fake, "wa_no_number", &token, Some(&ca), None);
    d["base_url"] = json!(format!("{}/v21.0", fake.base));
    let id = channel(&app, &t.cookie, d).await;
    let summary = test_connection(&app, &t.cookie, id).await["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(summary.contains("no phone number id"), "{summary}");
    // a wrong path: 404, check the BaseUrl
    let mut d = other(&t, &fake, "wa_wrong_path", Some(&ca), None);
    d["base_url"] = json!(format!("{}/apiaccess/rest/elsewhere", fake.base));
    let id = channel(&app, &t.cookie, d).await;
    let summary = test_connection(&app, &t.cookie, id).await["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(summary.contains("HTTP 404"), "{summary}");
}

#[tokio::test]
async fn mutual_tls_with_the_identity_keystore() {
    let clients = Pki::new("Client CA");
    let fake = fake_provider::start(FakeConfig {
        client_ca: Some(clients.ca_der()),
        ..FakeConfig::default()
    })
    .await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let me = clients.leaf("switchboard-client", &["switchboard.test"]);
    // the identity as a PEM file with its key
    let pem = format!("{}{}", me.pem, me.key_pem);
    let identity = cert_id(
        &app,
        &t.cookie,
        "client identity",
        "identity",
        pem.into_bytes(),
        "",
    )
    .await;
    let (_, token) = FakeConfig::default().cloud;

    let without = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_no_identity", &token, Some(&ca), None),
    )
    .await;
    let r = test_connection(&app, &t.cookie, without).await;
    assert_eq!(r["ok"], false, "{r}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("client certificate"),
        "{r}"
    );

    let with_identity = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_identity", &token, Some(&ca), Some(&identity)),
    )
    .await;
    let r = test_connection(&app, &t.cookie, with_identity).await;
    assert_eq!(r["ok"], true, "{r}");

    // the same identity as a PKCS#12 keystore with a password
    let p12 = {
        use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKeyChain};
        let mut ks = KeyStore::new();
        let chain = PrivateKeyChain::new(
            b"1".to_vec(),
            p12_keystore::PrivateKey::from_der(&me.key_der).unwrap(),
            [p12_keystore::Certificate::from_der(&me.der).unwrap()],
        );
        ks.add_entry("client", KeyStoreEntry::PrivateKeyChain(chain));
        ks.writer("p12-password").write().unwrap()
    };
    let r = app
        .upload_certificate(&t.cookie, "client p12", "identity", p12.clone(), "wrong")
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["Invalid"][0]["field"], "password", "{}", r.body);
    assert!(
        r.body.contains("The keystore password is wrong."),
        "{}",
        r.body
    );
    let p12_id = cert_id(
        &app,
        &t.cookie,
        "client p12",
        "identity",
        p12,
        "p12-password",
    )
    .await;
    let d = other(&t, &fake, "wa_other_mtls", Some(&ca), Some(&p12_id));
    let id = channel(&app, &t.cookie, d).await;
    let r = test_connection(&app, &t.cookie, id).await;
    assert_eq!(r["ok"], true, "{r}");
    // the private key is never in any answer
    let list = app.call("list_certificates", &[], Some(&t.cookie)).await;
    assert!(
        list.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["has_private_key"] == true)
    );
    assert!(!list.body.contains("PRIVATE"), "{}", list.body);
}

#[tokio::test]
async fn private_addresses_need_the_trustlist_permission_and_redirects_are_not_followed() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let redirecting = fake_provider::start(FakeConfig {
        behaviour: Behaviour::Redirect,
        ..FakeConfig::default()
    })
    .await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let closed = tenant(&app, &root, "Closed", &fake, false).await;
    let ca = cert_id(
        &app,
        &closed.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let (_, token) = FakeConfig::default().cloud;
    let id = channel(
        &app,
        &closed.cookie,
        cloud(&closed, &fake, "wa_private", &token, Some(&ca), None),
    )
    .await;
    let r = test_connection(&app, &closed.cookie, id).await;
    assert_eq!(r["ok"], false);
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("private address 127.0.0.1"),
        "{r}"
    );
    assert!(fake.seen().is_empty(), "nothing reached the provider");

    let open = tenant(&app, &root, "Open", &redirecting, true).await;
    let ca = cert_id(
        &app,
        &open.cookie,
        "fake ca",
        "trust",
        redirecting.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let id = channel(
        &app,
        &open.cookie,
        cloud(&open, &redirecting, "wa_redirect", &token, Some(&ca), None),
    )
    .await;
    let r = test_connection(&app, &open.cookie, id).await;
    assert_eq!(r["ok"], false);
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.contains(
            "redirect (HTTP 302 to https://elsewhere.example/login), which is not followed"
        ),
        "{summary}"
    );

    // the trustlist is checked at call time: a prefix removed since the channel was saved
    let entries = app.call("list_trustlist", &[], Some(&root)).await.json();
    for e in entries.as_array().unwrap() {
        if e["prefix"] == redirecting.base.as_str() {
            app.call(
                "remove_trust_prefix",
                &[("id", &e["id"].to_string())],
                Some(&root),
            )
            .await;
        }
    }
    let r = test_connection(&app, &open.cookie, id).await;
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("not on the address trustlist"),
        "{r}"
    );
}

#[tokio::test]
async fn a_slow_provider_is_a_timeout() {
    let fake = fake_provider::start(FakeConfig {
        behaviour: Behaviour::Slow(Duration::from_secs(30)),
        ..FakeConfig::default()
    })
    .await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let (_, token) = FakeConfig::default().cloud;
    let id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_slow", &token, Some(&ca), None),
    )
    .await;
    let started = std::time::Instant::now();
    // two calls of a tenant at once; a third is refused at once while they wait
    let first = test_connection(&app, &t.cookie, id);
    let second = test_connection(&app, &t.cookie, id);
    let third = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let r = app
            .call(
                "test_channel_connection",
                &[("id", &id.to_string())],
                Some(&t.cookie),
            )
            .await;
        (r.status, started.elapsed())
    };
    let (r, r2, (third_status, third_at)) = tokio::join!(first, second, third);
    assert_eq!(third_status, 429);
    assert!(third_at < Duration::from_secs(5), "{third_at:?}");
    for r in [r, r2] {
        assert_eq!(r["ok"], false);
        assert_eq!(r["summary"], "No answer within 15 seconds (timeout).");
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Sends a test message for each provider; the fake posts delivered and read back to the
/// channel's webhooks, and the activity shows the timeline.
#[tokio::test]
async fn test_messages_and_their_reports_form_a_timeline() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "authentication",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let trust = cert_id(
        &app,
        &t.cookie,
        "fake trust",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let key = FakeConfig::default().infobip_account_key;
    let (_, _, secret) = FakeConfig::default().twilio;
    let (_, token) = FakeConfig::default().cloud;
    let infobip_id = channel(
        &app,
        &t.cookie,
        infobip(&t, &fake, "wa_infobip", &key, Some(&ca)),
    )
    .await;
    let twilio_id = channel(
        &app,
        &t.cookie,
        twilio(&t, &fake, "wa_twilio", &secret, Some(&ca)),
    )
    .await;
    let cloud_id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_cloud", &token, Some(&trust), None),
    )
    .await;
    let other_id = channel(
        &app,
        &t.cookie,
        other(&t, &fake, "wa_other", Some(&trust), None),
    )
    .await;
    let urls = |id: i64| {
        let app = &app;
        let cookie = t.cookie.clone();
        async move {
            app.call(
                "get_channel_integration",
                &[("id", &id.to_string())],
                Some(&cookie),
            )
            .await
            .json()
        }
    };
    fake.set_callbacks(Callbacks {
        infobip: Some((
            urls(infobip_id).await["report_url"]
                .as_str()
                .unwrap()
                .into(),
            "infobip-hook-1".into(),
        )),
        twilio: Some((
            urls(twilio_id).await["report_url"].as_str().unwrap().into(),
            "hook".into(),
            "twilio-hook-1".into(),
        )),
        cloud: Some((
            urls(cloud_id).await["callback_url"]
                .as_str()
                .unwrap()
                .into(),
            "app-secret-1".into(),
        )),
    });
    for id in [infobip_id, twilio_id, cloud_id] {
        let r = app
            .call(
                "send_test_message",
                &[
                    ("id", &id.to_string()),
                    ("recipient", "+49 170 1234567"),
                    ("text", "Hello from Switchboard"),
                ],
                Some(&t.cookie),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let sent_id = r.json()["provider_message_id"].as_str().unwrap().to_owned();
        let mut statuses = Vec::new();
        for _ in 0..100 {
            let a = app
                .call_json(
                    "get_channel_activity",
                    serde_json::json!({"id": id, "at": "First"}),
                    Some(&t.cookie),
                )
                .await
                .json();
            let sent = &a["sent"][0];
            assert_eq!(sent["provider_message_id"], sent_id.as_str());
            assert_eq!(sent["recipient"], "+491701234567");
            statuses = sent["statuses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s[0].as_str().unwrap().to_owned())
                .collect();
            if statuses.len() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let last = if id == infobip_id { "seen" } else { "read" };
        assert_eq!(statuses, vec!["sent", "delivered", last], "channel {id}");
    }
    // the provider's send API of an 'other' BSP is the customer's own
    let r = app
        .call(
            "send_test_message",
            &[
                ("id", &other_id.to_string()),
                ("recipient", "+491701234567"),
                ("text", "hi"),
            ],
            Some(&t.cookie),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("send API is your own"), "{}", r.body);
    // bad input is a field message; another tenant's channel is not found
    let r = app
        .call(
            "send_test_message",
            &[
                ("id", &cloud_id.to_string()),
                ("recipient", "12ab"),
                ("text", ""),
            ],
            Some(&t.cookie),
        )
        .await;
    assert_eq!(r.status, 422);
    let fields: Vec<String> = r.json()["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["recipient", "text"]);
    let stranger = tenant(&app, &root, "Beta", &fake, true).await;
    let r = app
        .call(
            "test_channel_connection",
            &[("id", &cloud_id.to_string())],
            Some(&stranger.cookie),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .call(
            "test_channel_connection",
            &[("id", &cloud_id.to_string())],
            None,
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_stored_credential_is_not_sent_to_another_server() {
    let fake = fake_provider::start(FakeConfig::default()).await;
    let elsewhere = fake_provider::start(FakeConfig::default()).await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let r = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", elsewhere.base.as_str()),
                ("scope", "global"),
                ("allow_private", "on"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let (_, token) = FakeConfig::default().cloud;
    let id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_moved", &token, Some(&ca), None),
    )
    .await;

    // an edit that points the channel at another trustlisted server, secrets left empty
    let (phone_id, _) = FakeConfig::default().cloud;
    let mut moved = cloud(&t, &fake, "wa_moved", "", Some(&ca), None);
    moved["base_url"] = json!(format!("{}/v21.0/{phone_id}", elsewhere.base));
    moved["app_secret"] = json!("");
    let r = app
        .call_json(
            "update_channel",
            json!({"id": id, "version": 1, "draft": moved}),
            Some(&t.cookie),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Enter the Access Token again"),
        "{}",
        r.body
    );
    // the APP Secret authenticates the provider to us: it is kept
    assert!(!r.body.contains("app_secret"), "{}", r.body);
    // nothing was saved, nothing reached the other server
    let r = test_connection(&app, &t.cookie, id).await;
    assert_eq!(r["ok"], true, "{r}");
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());

    // another path on the same server keeps the stored token
    let mut same = cloud(&t, &fake, "wa_moved", "", Some(&ca), None);
    same["base_url"] = json!(format!("{}/v21.0/{phone_id}/messages", fake.base));
    same["app_secret"] = json!("");
    let r = app
        .call_json(
            "update_channel",
            json!({"id": id, "version": 1, "draft": same}),
            Some(&t.cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_certificate_that_cannot_be_used_stops_the_call() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    use server::db::entities::certificate;
    let clients = Pki::new("Client CA");
    let fake = fake_provider::start(FakeConfig {
        client_ca: Some(clients.ca_der()),
        ..FakeConfig::default()
    })
    .await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let me = clients.leaf("switchboard-client", &["switchboard.test"]);
    let identity = cert_id(
        &app,
        &t.cookie,
        "client identity",
        "identity",
        format!("{}{}", me.pem, me.key_pem).into_bytes(),
        "",
    )
    .await;
    let (_, token) = FakeConfig::default().cloud;
    let id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_identity", &token, Some(&ca), Some(&identity)),
    )
    .await;
    assert_eq!(test_connection(&app, &t.cookie, id).await["ok"], true);
    let calls = fake.seen().len();

    // the sealed key no longer opens (say, a master key mix-up): no call without it
    let cert = certificate::Entity::find_by_id(identity.parse::<i64>().unwrap())
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    let mut am: certificate::ActiveModel = cert.into();
    am.key_enc = Set(Some(vec![0u8; 60]));
    am.update(&app.state.db.conn).await.unwrap();
    let r = test_connection(&app, &t.cookie, id).await;
    assert_eq!(r["ok"], false, "{r}");
    assert!(
        r["summary"].as_str().unwrap().starts_with(
            "The call was not made: the private key of the channel's Identity Certificate \u{201c}client identity\u{201d} cannot be opened"
        ),
        "{r}"
    );
    assert_eq!(fake.seen().len(), calls, "{:?}", fake.seen());
}

#[tokio::test]
async fn an_answer_is_read_up_to_one_mib_and_no_further() {
    let fake = fake_provider::start(FakeConfig {
        behaviour: Behaviour::Huge,
        ..FakeConfig::default()
    })
    .await;
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant(&app, &root, "Alpha", &fake, true).await;
    let ca = cert_id(
        &app,
        &t.cookie,
        "fake ca",
        "trust",
        fake.pki.ca_pem().into_bytes(),
        "",
    )
    .await;
    let (_, token) = FakeConfig::default().cloud;
    let id = channel(
        &app,
        &t.cookie,
        cloud(&t, &fake, "wa_huge", &token, Some(&ca), None),
    )
    .await;
    let r = test_connection(&app, &t.cookie, id).await;
    assert_eq!(r["ok"], true, "{r}");
    // the name after 3 MiB of padding is never read: the answer was cut at 1 MiB
    let summary = r["summary"].as_str().unwrap();
    assert!(summary.starts_with("Connected. ("), "{summary}");
    assert!(!summary.contains("Beyond the cut"), "{summary}");
}

/// An IPv6 address that carries a link-local (cloud metadata) IPv4 address inside — NAT64,
/// 6to4, IPv4-compatible, Teredo — is never called, even where private addresses are allowed.
#[tokio::test]
async fn embedded_metadata_addresses_are_never_called() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let id = app
        .create_tenant(&root, "Embedded", "embedded-admin", "embedded-password")
        .await;
    let cookie = app.session("embedded-admin", "embedded-password").await;
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
    for (i, host) in [
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b:1::a9fe:a9fe]",
        "[2002:a9fe:a9fe::1]",
        "[::a9fe:a9fe]",
        "[2001:0:a9fe:a9fe::1]",
    ]
    .iter()
    .enumerate()
    {
        let prefix = format!("https://{host}:8443");
        let scope = id.to_string();
        let r = app
            .call(
                "add_trust_prefix",
                &[
                    ("prefix", prefix.as_str()),
                    ("scope", scope.as_str()),
                    ("allow_private", "on"),
                ],
                Some(&root),
            )
            .await;
        assert_eq!(r.status, 200, "{host}: {}", r.body);
        let draft = with(
            base(&queue, &format!("wa_embedded_{i}")),
            json!({"provider": "infobip", "phone_number": "+4915112345678", "username": "acme", "password": "p",
                   "base_url": prefix, "account_key": "k", "webhook_password": "infobip-hook-1"}),
        );
        let channel = channel(&app, &cookie, draft).await;
        let r = test_connection(&app, &cookie, channel).await;
        assert_eq!(r["ok"], false, "{host}: {r}");
        assert!(
            r["summary"].as_str().unwrap().contains("never called"),
            "{host}: {r}"
        );
    }
}
