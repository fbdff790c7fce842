//! Certificates through HTTP: multipart upload, parsing, rules, roles and tenant isolation.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use reqwest::multipart::{Form, Part};

const PEM: &[u8] = include_bytes!("../fixtures/infobip.pem");
const DER: &[u8] = include_bytes!("../fixtures/infobip.der");
const FINGERPRINT: &str = "A2:5F:60:1F:40:7E:3D:CA:3A:41:62:8E:1B:9A:BB:A0:B7:46:5D:0C:28:48:70:67:44:10:BF:CB:59:74:02:FA";

async fn upload(
    app: &TestApp,
    cookie: Option<&str>,
    name: &str,
    kind: &str,
    file: &[u8],
) -> Answer {
    let form = Form::new()
        .text("name", name.to_string())
        .text("kind", kind.to_string())
        .part("file", Part::bytes(file.to_vec()).file_name("cert.bin"));
    let mut req = app
        .http
        .post(format!("{}/api/upload_certificate", app.base))
        .header("Origin", &app.base)
        .header("Accept", "application/json")
        .multipart(form);
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let res = req.send().await.unwrap();
    Answer {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
}

async fn tenants(app: &TestApp) -> (String, String) {
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    (
        app.session("alpha-admin", "alpha-password").await,
        app.session("beta-admin", "beta-password1").await,
    )
}

#[tokio::test]
async fn pem_and_der_uploads_are_parsed() {
    let app = spawn_app().await;
    let (a, _) = tenants(&app).await;
    let r = upload(&app, Some(&a), "infobip api", "authentication", PEM).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = upload(&app, Some(&a), "infobip der", "trust", DER).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let list = app.call("list_certificates", &[], Some(&a)).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for c in list {
        let m = &c["members"][0];
        assert_eq!(c["members"].as_array().unwrap().len(), 1);
        assert_eq!(m["fingerprint"], FINGERPRINT);
        assert!(
            m["subject"]
                .as_str()
                .unwrap()
                .contains("CN=api.infobip.example")
        );
        assert!(
            m["issuer"]
                .as_str()
                .unwrap()
                .contains("O=Switchboard Test CA")
        );
        assert_eq!(m["not_after"], "2036-11-22");
        assert_eq!(c["not_after"], "2036-11-22");
        assert_eq!(c["expired"], false);
        assert_eq!(c["has_private_key"], false);
    }
    assert_eq!(list[0]["kind"], "Authentication");
    assert_eq!(list[1]["kind"], "Trust");
    // the certificate bytes are not sent back in the list
    assert!(list.iter().all(|c| c.get("der").is_none()));
}

#[tokio::test]
async fn bad_uploads_are_refused_field_by_field() {
    let app = spawn_app().await;
    let (a, _) = tenants(&app).await;
    let r = upload(
        &app,
        Some(&a),
        "junk",
        "trust",
        b"this is not a certificate",
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["Invalid"][0]["field"], "file");
    assert!(
        r.body.contains("not a certificate or keystore"),
        "{}",
        r.body
    );

    let big = vec![b'A'; 128 * 1024 + 1];
    let r = upload(&app, Some(&a), "big", "trust", &big).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("larger than 128 KiB"), "{}", r.body);

    let r = upload(&app, Some(&a), "", "root", b"").await;
    let fields: Vec<_> = r.json()["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "kind", "file"]);

    assert_eq!(
        upload(&app, Some(&a), "dup", "trust", PEM).await.status,
        200
    );
    let r = upload(&app, Some(&a), "DUP", "authentication", DER).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["Invalid"][0]["field"], "name");
    assert_eq!(
        app.call("list_certificates", &[], Some(&a))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn certificates_are_tenant_scoped_and_for_tenant_admins_only() {
    let app = spawn_app().await;
    let (a, b) = tenants(&app).await;
    let id = upload(&app, Some(&a), "alpha cert", "trust", PEM)
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();

    assert_eq!(
        app.call("list_certificates", &[], Some(&b))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let cross = app
        .call("delete_certificate", &[("id", &id)], Some(&b))
        .await;
    let missing = app
        .call("delete_certificate", &[("id", "987654321")], Some(&b))
        .await;
    assert_eq!((cross.status, &cross.body), (missing.status, &missing.body));
    assert_eq!(cross.status, 404);
    assert_eq!(
        app.call("list_certificates", &[], Some(&a))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let root = app.session(ROOT_USER, ROOT_PASSWORD).await;
    assert_eq!(upload(&app, None, "x", "trust", PEM).await.status, 401);
    assert_eq!(
        upload(&app, Some(&root), "x", "trust", PEM).await.status,
        403
    );
    for (name, form) in [
        ("list_certificates", vec![]),
        ("delete_certificate", vec![("id", id.as_str())]),
    ] {
        assert_eq!(app.call(name, &form, None).await.status, 401, "{name}");
        assert_eq!(
            app.call(name, &form, Some(&root)).await.status,
            403,
            "{name}"
        );
    }

    assert_eq!(
        app.call("delete_certificate", &[("id", &id)], Some(&a))
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("list_certificates", &[], Some(&a))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// A certificate deleted while a channel is saved with it: one of the two wins, the other is
/// told why in words (never a 500), and no channel ever names a certificate that is gone.
#[tokio::test]
async fn a_delete_racing_a_channel_save_leaves_no_channel_naming_a_deleted_certificate() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use server::db::entities::{certificate, channel};
    let _ = tracing_subscriber::fmt()
        .with_env_filter("error")
        .try_init();
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let made = app
        .infobip_channel(&root, "Racing", "racing-admin", "racing-hook-1")
        .await;
    let cookie = made.cookie;
    let queue = app
        .call(
            "create_skill_queue",
            &[("name", "Race"), ("access_code", "2")],
            Some(&cookie),
        )
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    const PAIRS: usize = 24;
    let mut certs = Vec::new();
    for i in 0..PAIRS {
        let r = upload(
            &app,
            Some(&cookie),
            &format!("race {i}"),
            "authentication",
            DER,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        certs.push(r.json().as_i64().unwrap().to_string());
    }
    let app = &app;
    let outcomes = futures::future::join_all(certs.iter().enumerate().map(|(i, cert)| {
        let (cookie, queue, cert) = (cookie.clone(), queue.clone(), cert.clone());
        async move {
            let draft = serde_json::json!({
                "provider": "infobip", "name": format!("wa_race_{i}"), "phone_number": "+4915112345678",
                "username": "u", "password": "p", "base_url": "https://api.infobip.com",
                "account_key": "k", "webhook_password": "race-hook-1", "skill_queue_id": queue,
                "auth_certificate_id": cert,
                "workday": [{"start": "09:00", "end": "18:00"}],
                "non_workday": [{"start": "09:00", "end": "18:00"}],
            });
            let save = app.call_json(
                "create_channel",
                serde_json::json!({ "draft": draft }),
                Some(&cookie),
            );
            let form = [("id", cert.as_str())];
            let delete = app.call("delete_certificate", &form, Some(&cookie));
            let (save, delete) = tokio::join!(save, delete);
            (save, delete)
        }
    }))
    .await;
    let (mut saved, mut deleted) = (0, 0);
    for (save, delete) in outcomes {
        assert_ne!(save.status, 500, "{}", save.body);
        assert_ne!(delete.status, 500, "{}", delete.body);
        match (save.status, delete.status) {
            (200, 200) => panic!("both the save and the delete succeeded"),
            (200, _) => {
                saved += 1;
                assert!(
                    delete.body.contains("uses this certificate"),
                    "{}",
                    delete.body
                );
            }
            (_, 200) => {
                deleted += 1;
                assert!(save.body.contains("Choose a certificate"), "{}", save.body);
            }
            other => panic!("neither succeeded: {other:?} {} {}", save.body, delete.body),
        }
    }
    assert_eq!(saved + deleted, PAIRS);
    eprintln!("{saved} saved first, {deleted} deleted first");
    // whatever the order, every certificate a channel names is there
    let db = &app.state.db.conn;
    for c in channel::Entity::find().all(db).await.unwrap() {
        if let Some(cert) = c.auth_certificate_id {
            assert_eq!(
                certificate::Entity::find()
                    .filter(certificate::Column::Id.eq(cert))
                    .count(db)
                    .await
                    .unwrap(),
                1,
                "{} names certificate {cert}, which is gone",
                c.name
            );
        }
    }
}
