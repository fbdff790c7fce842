//! First-run setup, tenant spaces, their administrators and the address trustlist, through HTTP.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::json;

fn token(app: &TestApp) -> String {
    app.setup_link
        .as_ref()
        .expect("setup link")
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn first_run_setup_is_one_time_and_validated() {
    let app = spawn_app().await;
    assert_eq!(
        app.call("setup_state", &[], None).await.json(),
        json!("Open")
    );

    // a wrong token creates nothing
    let a = app
        .call(
            "complete_setup",
            &[
                ("token", "0000"),
                ("username", ROOT_USER),
                ("password", ROOT_PASSWORD),
                ("confirm_password", ROOT_PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body.contains("This setup link is not valid"),
        "{}",
        a.body
    );

    // bad input: a message per field
    let t = token(&app);
    let a = app
        .call(
            "complete_setup",
            &[
                ("token", &t),
                ("username", "x"),
                ("password", "short"),
                ("confirm_password", "short"),
            ],
            None,
        )
        .await;
    assert_eq!(a.status, 422);
    let errors = a.json()["Invalid"].clone();
    assert_eq!(errors[0]["field"], "username");
    assert_eq!(errors[1]["field"], "password");
    assert_eq!(
        errors[1]["message"],
        "The password must be at least 8 characters."
    );
    let a = app
        .call(
            "complete_setup",
            &[
                ("token", &t),
                ("username", ROOT_USER),
                ("password", ROOT_PASSWORD),
                ("confirm_password", "something-else"),
            ],
            None,
        )
        .await;
    assert_eq!(a.json()["Invalid"][0]["field"], "confirm_password");

    let root = app.setup_admin().await;
    assert_eq!(app.whoami(&root).await["role"], "SystemAdmin");
    assert_eq!(
        app.call("setup_state", &[], None).await.json(),
        json!("Done")
    );

    // the link is spent
    let a = app
        .call(
            "complete_setup",
            &[
                ("token", &t),
                ("username", "second-root"),
                ("password", ROOT_PASSWORD),
                ("confirm_password", ROOT_PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Setup is already complete"), "{}", a.body);
    // and no new link is issued once an administrator exists
    assert!(
        server::startup::first_run_link(&app.state, &app.config)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn system_admin_creates_a_tenant_whose_admin_signs_in() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let id = app
        .create_tenant(&root, "  Acme   Support ", "Acme-Admin", "acme-password-1")
        .await;
    let list = app.call("list_tenants", &[], Some(&root)).await.json();
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["name"], "Acme Support");
    assert_eq!(list[0]["disabled"], false);
    assert_eq!(list[0]["admins"][0]["username"], "acme-admin");

    let a = app.login("ACME-admin", "acme-password-1").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["location"], "/config/channels");
    let me = app.whoami(&a.cookie().unwrap()).await;
    assert_eq!(me["role"], "TenantAdmin");
    assert_eq!(me["tenant_name"], "Acme Support");
}

#[tokio::test]
async fn tenant_creation_rejects_bad_input_field_by_field() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let a = app
        .call(
            "create_tenant",
            &[
                ("name", "/"),
                ("admin_username", "a b"),
                ("admin_password", "1234567"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 422);
    let fields: Vec<_> = a.json()["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["name", "admin_username", "admin_password"]);

    app.create_tenant(&root, "Acme", "acme-admin", "acme-password-1")
        .await;
    // names are unique regardless of case, usernames too
    let a = app
        .call(
            "create_tenant",
            &[
                ("name", "ACME"),
                ("admin_username", "x-admin"),
                ("admin_password", "password-123"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.json()["Invalid"][0]["field"], "name");
    let a = app
        .call(
            "create_tenant",
            &[
                ("name", "Beta"),
                ("admin_username", "ACME-ADMIN"),
                ("admin_password", "password-123"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.json()["Invalid"][0]["field"], "admin_username");
    // the failed second half left no tenant behind
    let list = app.call("list_tenants", &[], Some(&root)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn disabling_a_tenant_ends_its_sessions_and_sign_ins() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let id = app
        .create_tenant(&root, "Acme", "acme-admin", "acme-password-1")
        .await;
    let session = app.session("acme-admin", "acme-password-1").await;
    let a = app
        .call(
            "set_tenant_disabled",
            &[("tenant_id", &id.to_string()), ("disabled", "true")],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(app.whoami(&session).await.is_null());
    let refused = app.login("acme-admin", "acme-password-1").await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.body,
        app.login("acme-admin", "wrong-password").await.body
    );

    app.call(
        "set_tenant_disabled",
        &[("tenant_id", &id.to_string()), ("disabled", "false")],
        Some(&root),
    )
    .await;
    app.session("acme-admin", "acme-password-1").await;

    let a = app
        .call(
            "set_tenant_disabled",
            &[("tenant_id", "999999"), ("disabled", "true")],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn resetting_a_password_signs_the_admin_out_everywhere() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Acme", "acme-admin", "acme-password-1")
        .await;
    let session = app.session("acme-admin", "acme-password-1").await;
    let user_id = app.whoami(&session).await["user_id"]
        .as_i64()
        .unwrap()
        .to_string();

    let a = app
        .call(
            "reset_admin_password",
            &[("user_id", &user_id), ("new_password", "short")],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.json()["Invalid"][0]["field"], "new_password");

    let a = app
        .call(
            "reset_admin_password",
            &[
                ("user_id", &user_id),
                ("new_password", "brand-new-password"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(app.whoami(&session).await.is_null());
    assert_eq!(app.login("acme-admin", "acme-password-1").await.status, 401);
    app.session("acme-admin", "brand-new-password").await;

    // only tenant administrators can be reset here, not the system administrator
    let root_id = app.whoami(&root).await["user_id"]
        .as_i64()
        .unwrap()
        .to_string();
    let a = app
        .call(
            "reset_admin_password",
            &[
                ("user_id", &root_id),
                ("new_password", "brand-new-password"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn trustlist_entries_are_added_listed_and_removed() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let tenant = app
        .create_tenant(&root, "Acme", "acme-admin", "acme-password-1")
        .await;

    let a = app
        .call(
            "add_trust_prefix",
            &[("prefix", "http://api.infobip.com"), ("scope", "global")],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.json()["Invalid"][0]["field"], "prefix");
    let a = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", "https://api.infobip.com"),
                ("scope", "not-a-tenant"),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(a.json()["Invalid"][0]["field"], "scope");
    let a = app
        .call(
            "add_trust_prefix",
            &[("prefix", "https://api.infobip.com"), ("scope", "424242")],
            Some(&root),
        )
        .await;
    assert_eq!(a.json()["Invalid"][0]["field"], "scope");

    let global = app
        .call(
            "add_trust_prefix",
            &[("prefix", "https://API.infobip.com/"), ("scope", "global")],
            Some(&root),
        )
        .await;
    assert_eq!(global.status, 200, "{}", global.body);
    let duplicate = app
        .call(
            "add_trust_prefix",
            &[("prefix", "https://api.infobip.com"), ("scope", "global")],
            Some(&root),
        )
        .await;
    assert_eq!(duplicate.status, 422);
    assert!(duplicate.body.contains("already on the trustlist"));
    let scoped = app
        .call(
            "add_trust_prefix",
            &[
                ("prefix", "https://api.infobip.com"),
                ("scope", &tenant.to_string()),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(scoped.status, 200, "{}", scoped.body);

    let list = app.call("list_trustlist", &[], Some(&root)).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|e| e["prefix"] == "https://api.infobip.com")
    );
    assert!(list.iter().any(|e| e["tenant_id"].is_null()));
    assert!(list.iter().any(|e| e["tenant_name"] == "Acme"));

    let id = global.json().as_i64().unwrap().to_string();
    assert_eq!(
        app.call("remove_trust_prefix", &[("id", &id)], Some(&root))
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("remove_trust_prefix", &[("id", &id)], Some(&root))
            .await
            .status,
        404
    );
    let list = app.call("list_trustlist", &[], Some(&root)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pages_redirect_or_refuse_by_session_and_role() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Acme", "acme-admin", "acme-password-1")
        .await;
    let tenant_admin = app.session("acme-admin", "acme-password-1").await;

    let a = app.get("/config/channels", None).await;
    assert_eq!(a.status, 302);
    assert_eq!(a.headers["location"], "/login?next=/config/channels");

    let a = app.get("/system/tenants", Some(&tenant_admin)).await;
    assert_eq!(a.status, 403);
    assert!(a.body.contains("Access denied"));
    assert!(
        !a.body.contains("Acme</th>"),
        "no tenant list for a tenant administrator"
    );

    let a = app.get("/config/channels", Some(&tenant_admin)).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Channel Configuration"));
    assert!(a.body.contains("Acme"), "the header names the tenant space");

    let a = app.get("/config/channels", Some(&root)).await;
    assert_eq!(a.status, 403);

    let a = app.get("/system/tenants", Some(&root)).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("acme-admin"));

    let a = app.get("/", Some(&tenant_admin)).await;
    assert_eq!(a.status, 302);
    assert_eq!(a.headers["location"], "/config/channels");
    let a = app.get("/", None).await;
    assert_eq!(a.headers["location"], "/login");
}
