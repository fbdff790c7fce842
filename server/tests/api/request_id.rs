//! The request id through HTTP: returned on every answer, a proxy's taken only when the
//! instance trusts its proxy and only when plain, and quoted to a person on an internal error.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn every_answer_carries_an_id_and_an_internal_error_quotes_it() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    let cookie = app.session("alpha-admin", "alpha-password").await;
    let mut seen = std::collections::HashSet::new();
    for path in ["/healthz", "/login", "/no-such-page", "/pkg/none.js"] {
        let r = app.get(path, None).await;
        let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 24, "{path}: {id}");
        assert!(seen.insert(id), "ids differ");
    }
    // not behind a trusted proxy: a caller's own id is not taken
    let r = reqwest::Client::new()
        .get(format!("http://{}/healthz", app.addr))
        .header("X-Request-Id", "mine-1")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "mine-1");

    // a fault of the database: the person is given the request's id to quote
    app.state
        .db
        .conn
        .execute_unprepared("ALTER TABLE ous RENAME TO ous_gone")
        .await
        .unwrap();
    let r = app.call("list_ous", &[], Some(&cookie)).await;
    assert_eq!(r.status, 500, "{}", r.body);
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(r.json(), serde_json::json!({ "InternalReference": id }));
    assert!(!r.body.contains("ous"), "no internal text: {}", r.body);
}

#[tokio::test]
async fn behind_a_trusted_proxy_its_plain_id_is_kept() {
    let app = spawn_app_with(Options {
        trust_forwarded_for: true,
        ..Default::default()
    })
    .await;
    let http = reqwest::Client::new();
    let get = |id: &str| {
        http.get(format!("http://{}/healthz", app.addr))
            .header("X-Request-Id", id.to_owned())
            .send()
    };
    let kept = get("haproxy-7f3a.1").await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "haproxy-7f3a.1");
    for odd in ["two words", "x\"y", "é", ""] {
        let r = get(odd).await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, odd);
        assert_eq!(id.len(), 24);
    }
    let r = get(&"a".repeat(65)).await.unwrap();
    assert_eq!(r.headers()["x-request-id"].to_str().unwrap().len(), 24);
}
