//! SPEC §5 / the foundation's security baseline, through HTTP against a real database.

#![allow(clippy::unwrap_used)]

use crate::common::*;

#[tokio::test]
async fn session_id_is_cycled_at_sign_in() {
    let app = spawn_app().await;
    let first = app.setup_admin().await;
    assert_eq!(app.whoami(&first).await["username"], ROOT_USER);

    // signing in again while holding a session must not keep that session's id
    let a = app
        .call(
            "login",
            &[("username", ROOT_USER), ("password", ROOT_PASSWORD)],
            Some(&first),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let second = a.cookie().expect("a new session cookie");
    assert_ne!(first, second, "the session id must change at sign-in");
    assert_eq!(app.whoami(&second).await["username"], ROOT_USER);
    assert!(
        app.whoami(&first).await.is_null(),
        "the old session id must no longer be signed in"
    );
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    let cookie = app.setup_admin().await;
    let a = app.call("logout", &[], Some(&cookie)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let line = set_cookie_line(&a.headers).expect("logout clears the cookie");
    assert!(line.contains("Max-Age=0"), "{line}");
    // the old cookie is worth nothing now
    assert!(app.whoami(&cookie).await.is_null());
    let a = app.call("list_tenants", &[], Some(&cookie)).await;
    assert_eq!(a.status, 401, "{}", a.body);
}

#[tokio::test]
async fn session_cookie_is_httponly_and_samesite() {
    let app = spawn_app().await;
    let a = app
        .call(
            "complete_setup",
            &[
                (
                    "token",
                    app.setup_link
                        .as_ref()
                        .unwrap()
                        .split("token=")
                        .nth(1)
                        .unwrap(),
                ),
                ("username", ROOT_USER),
                ("password", ROOT_PASSWORD),
                ("confirm_password", ROOT_PASSWORD),
            ],
            None,
        )
        .await;
    let line = set_cookie_line(&a.headers).expect("cookie");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    assert!(
        !line.contains("Secure"),
        "plain http must not mark the cookie Secure: {line}"
    );
}

#[tokio::test]
async fn session_cookie_is_secure_when_the_public_url_is_https() {
    let app = spawn_app_with(Options {
        public_url: Some("https://cc.example.com".into()),
        ..Options::default()
    })
    .await;
    let token = app
        .setup_link
        .as_ref()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        app.setup_link
            .as_ref()
            .unwrap()
            .starts_with("https://cc.example.com/setup?token=")
    );
    let a = app
        .http
        .post(format!("{}/api/complete_setup", app.base))
        .header("Origin", "https://cc.example.com")
        .form(&[
            ("token", token.as_str()),
            ("username", ROOT_USER),
            ("password", ROOT_PASSWORD),
            ("confirm_password", ROOT_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    let line = set_cookie_line(a.headers()).expect("cookie");
    assert!(line.contains("Secure"), "{line}");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(a.headers().get("strict-transport-security").is_some());
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let wrong_password = app.login(ROOT_USER, "not-the-password").await;
    let unknown_user = app.login("nobody-here", "not-the-password").await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown_user.status, wrong_password.status);
    assert_eq!(unknown_user.body, wrong_password.body);
    assert_eq!(wrong_password.json(), serde_json::json!("BadCredentials"));
    assert!(
        wrong_password.cookie().is_none(),
        "a failed sign-in sets no session"
    );
}

#[tokio::test]
async fn sign_in_is_throttled_per_client_address() {
    let app = spawn_app().await;
    app.setup_admin().await;
    for i in 1..=10 {
        let a = app.login(ROOT_USER, "wrong-password").await;
        assert_eq!(a.status, 401, "attempt {i}: {}", a.body);
    }
    let a = app.login(ROOT_USER, "wrong-password").await;
    assert_eq!(a.status, 429, "{}", a.body);
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        a.json()["Throttled"]["retry_after_secs"].as_u64().is_some(),
        "{}",
        a.body
    );
    // even the right password waits: the address is throttled, not the guess
    let a = app.login(ROOT_USER, ROOT_PASSWORD).await;
    assert_eq!(a.status, 429);
    assert!(a.cookie().is_none());
}

#[tokio::test]
async fn throttle_counts_each_forwarded_client_separately_behind_a_proxy() {
    let app = spawn_app_with(Options {
        trust_forwarded_for: true,
        ..Options::default()
    })
    .await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Acme", "acme-admin", "acme-password-1")
        .await;
    let login_from = |ip: &'static str, user: &'static str, password: &'static str| {
        app.http
            .post(format!("{}/api/login", app.base))
            .header("X-Forwarded-For", ip)
            .form(&[("username", user), ("password", password)])
            .send()
    };
    for i in 0..10 {
        // ten different usernames: the address is what fills up
        let user: &'static str = Box::leak(format!("nobody-{i}").into_boxed_str());
        assert_eq!(
            login_from("198.51.100.7", user, "wrong-password")
                .await
                .unwrap()
                .status(),
            401
        );
    }
    assert_eq!(
        login_from("198.51.100.7", "acme-admin", "acme-password-1")
            .await
            .unwrap()
            .status(),
        429
    );
    // another client behind the same proxy is not affected
    assert_eq!(
        login_from("198.51.100.8", "acme-admin", "acme-password-1")
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn unsafe_requests_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let send = |headers: Vec<(&'static str, &'static str)>| {
        let mut req = app
            .http
            .post(format!("{}/api/create_tenant", app.base))
            .header("Cookie", &root)
            .form(&[
                ("name", "Evil Corp"),
                ("admin_username", "evil"),
                ("admin_password", "evil-password-1"),
            ]);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let a = send(vec![("Origin", "https://evil.example")])
        .await
        .unwrap();
    assert_eq!(a.status(), 403);
    assert_eq!(a.text().await.unwrap(), "Cross-origin request refused.");
    let a = send(vec![("Sec-Fetch-Site", "cross-site")]).await.unwrap();
    assert_eq!(a.status(), 403);
    let a = send(vec![
        ("Sec-Fetch-Site", "same-site"),
        ("Origin", "https://sub.example"),
    ])
    .await
    .unwrap();
    assert_eq!(a.status(), 403);
    // nothing was created by the refused requests
    let list = app.call("list_tenants", &[], Some(&root)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 0);
    // the same request from this site goes through
    let a = send(vec![
        ("Sec-Fetch-Site", "same-origin"),
        ("Origin", Box::leak(app.base.clone().into_boxed_str())),
    ])
    .await
    .unwrap();
    assert_eq!(a.status(), 200);
    // reading a page is not an unsafe request
    let a = app
        .http
        .get(format!("{}/login", app.base))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
}

/// Every system function with valid arguments: signed out -> 401, tenant administrator -> 403,
/// and nothing changes.
#[tokio::test]
async fn every_server_function_checks_session_and_role() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let tenant = app
        .create_tenant(&root, "Acme", "acme-admin", "acme-password-1")
        .await;
    let tenant_s = tenant.to_string();
    let admin_id =
        app.call("list_tenants", &[], Some(&root)).await.json()[0]["admins"][0]["user_id"]
            .as_i64()
            .unwrap()
            .to_string();
    let prefix_id = app
        .call(
            "add_trust_prefix",
            &[("prefix", "https://api.infobip.com"), ("scope", "global")],
            Some(&root),
        )
        .await
        .json()
        .as_i64()
        .unwrap()
        .to_string();
    let tenant_admin = app.session("acme-admin", "acme-password-1").await;

    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("list_tenants", vec![]),
        (
            "create_tenant",
            vec![
                ("name", "Other"),
                ("admin_username", "other-admin"),
                ("admin_password", "other-password-1"),
            ],
        ),
        (
            "reset_admin_password",
            vec![
                ("user_id", &admin_id),
                ("new_password", "hijacked-password"),
            ],
        ),
        (
            "set_tenant_disabled",
            vec![("tenant_id", &tenant_s), ("disabled", "true")],
        ),
        ("list_trustlist", vec![]),
        (
            "add_trust_prefix",
            vec![("prefix", "https://evil.example"), ("scope", "global")],
        ),
        ("remove_trust_prefix", vec![("id", &prefix_id)]),
    ];
    for (name, form) in &calls {
        let signed_out = app.call(name, form, None).await;
        assert_eq!(
            signed_out.status, 401,
            "{name} signed out: {}",
            signed_out.body
        );
        assert_eq!(signed_out.json(), serde_json::json!("Unauthenticated"));
        let wrong_role = app.call(name, form, Some(&tenant_admin)).await;
        assert_eq!(
            wrong_role.status, 403,
            "{name} as tenant admin: {}",
            wrong_role.body
        );
        assert_eq!(wrong_role.json(), serde_json::json!("Forbidden"));
    }
    // nothing changed
    let tenants = app.call("list_tenants", &[], Some(&root)).await.json();
    assert_eq!(tenants.as_array().unwrap().len(), 1);
    assert_eq!(tenants[0]["disabled"], false);
    let trust = app.call("list_trustlist", &[], Some(&root)).await.json();
    assert_eq!(trust.as_array().unwrap().len(), 1);
    app.session("acme-admin", "acme-password-1").await;
}

#[tokio::test]
async fn pages_carry_security_headers_with_a_working_csp() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    for (path, cookie) in [
        ("/login", None),
        ("/setup", None),
        ("/system/tenants", Some(root.as_str())),
        ("/system/trustlist", Some(root.as_str())),
        ("/no-such-page", None),
    ] {
        let a = app.get(path, cookie).await;
        let h = |n: &str| {
            a.headers
                .get(n)
                .unwrap_or_else(|| panic!("{path} lacks {n}"))
                .to_str()
                .unwrap()
                .to_string()
        };
        let csp = h("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("cache-control"), "no-store");
        // the policy's nonce is the one on the page's scripts, and it differs per response
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"));
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(
            a.body.contains(&format!("nonce=\"{nonce}\"")),
            "{path}: scripts must carry the CSP nonce"
        );
        let again = app.get(path, cookie).await;
        assert_ne!(
            again.headers["content-security-policy"].to_str().unwrap(),
            csp,
            "{path}: the nonce must change per response"
        );
    }
    // non-page answers get a policy that allows nothing
    let a = app.call("current_user", &[], None).await;
    assert!(
        a.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let a = app.get("/healthz", None).await;
    assert_eq!((a.status, a.body.as_str()), (200, "ok"));
    let a = app.get("/readyz", None).await;
    assert_eq!((a.status, a.body.as_str()), (200, "ready"));
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn internal_details_never_reach_the_caller() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    // malformed arguments: a plain 400 without the decoder's text
    let a = app
        .call(
            "reset_admin_password",
            &[("user_id", "not-a-number")],
            Some(&root),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.json(), serde_json::json!("BadRequest"));
    assert!(!a.body.contains("invalid digit"), "{}", a.body);
}

/// Only the newest first-run link works.
#[tokio::test]
async fn an_older_setup_link_stops_working_when_a_newer_one_is_issued() {
    let app = spawn_app().await;
    let older = app.setup_link.clone().unwrap();
    let newer = server::startup::first_run_link(&app.state, &app.config)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(older, newer);
    let token = |link: &str| link.split("token=").nth(1).unwrap().to_owned();
    let app = &app;
    let complete = |t: String| async move {
        app.call(
            "complete_setup",
            &[
                ("token", t.as_str()),
                ("username", ROOT_USER),
                ("password", ROOT_PASSWORD),
                ("confirm_password", ROOT_PASSWORD),
            ],
            None,
        )
        .await
    };
    let a = complete(token(&older)).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("not valid"), "{}", a.body);
    let a = complete(token(&newer)).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

/// A page's status is decided before it streams: the same answer every time, not a race.
#[tokio::test]
async fn page_statuses_are_decided_before_the_page_renders() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    let other = app
        .infobip_channel(&root, "Beta", "beta-admin", "beta-hook-1")
        .await;
    for _ in 0..10 {
        // the other role's area
        let a = app.get("/system/tenants", Some(&c.cookie)).await;
        assert_eq!(a.status, 403);
        assert!(a.body.contains("Access denied"));
        let a = app.get("/config/channels", Some(&root)).await;
        assert_eq!(a.status, 403);
        // signed out: to sign-in, coming back afterwards
        let a = app.get("/config/ous?tab=2", None).await;
        assert_eq!(a.status, 302);
        assert_eq!(
            a.headers.get("location").unwrap(),
            "/login?next=/config/ous%3Ftab%3D2"
        );
        // a channel that is not the tenant's, or no channel at all
        for path in [
            format!("/config/channels/{}/edit", other.id),
            "/config/channels/999999/integration".to_string(),
            "/config/channels/x/activity".to_string(),
        ] {
            let a = app.get(&path, Some(&c.cookie)).await;
            assert_eq!(a.status, 404, "{path}");
        }
        let a = app
            .get(&format!("/config/channels/{}/edit", c.id), Some(&c.cookie))
            .await;
        assert_eq!(a.status, 200);
        // signed in already: sign-in sends home
        let a = app.get("/login", Some(&c.cookie)).await;
        assert_eq!(a.status, 302);
        assert_eq!(a.headers.get("location").unwrap(), "/config/channels");
        let a = app.get("/login?next=/config/ous", Some(&c.cookie)).await;
        assert_eq!(a.headers.get("location").unwrap(), "/config/ous");
        let a = app.get("/login?next=//evil.test", Some(&c.cookie)).await;
        assert_eq!(a.headers.get("location").unwrap(), "/config/channels");
    }
}

/// A page's path with a trailing `/` or an empty segment is sent to its one canonical address,
/// one with dot segments is a plain 404: the page never renders its content under an error
/// status, and another tenant's channel stays a plain 404 however its path is spelled.
#[tokio::test]
async fn trailing_slashes_redirect_and_dot_segments_are_not_found() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let mine = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    let theirs = app
        .infobip_channel(&root, "Beta", "beta-admin", "beta-hook-12")
        .await;
    let get = |path: String| {
        let cookie = mine.cookie.clone();
        let addr = app.addr;
        async move {
            raw_exchange(
                addr,
                &format!(
                    "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
                ),
                b"",
                std::time::Duration::from_secs(5),
            )
            .await
        }
    };
    let canonical = format!("/config/channels/{}/integration", mine.id);
    // dot segments: no page is there (no browser sends them)
    for path in [
        format!("/config/channels/{}/./integration", mine.id),
        format!("/config/x/../channels/{}/integration", mine.id),
        format!("/config/x/%2e%2e/channels/{}/integration", mine.id),
    ] {
        let a = get(path.clone()).await;
        assert_eq!(a.status, 404, "{path}: {}", a.text);
        assert!(!a.text.contains("url used to send message"), "{path}");
    }
    for path in [
        format!("/config/channels/{}/integration/", mine.id),
        format!("/config//channels/{}/integration", mine.id),
    ] {
        let a = get(path.clone()).await;
        assert_eq!(a.status, 308, "{path}: {}", a.text);
        assert!(
            a.text
                .to_ascii_lowercase()
                .contains(&format!("location: {canonical}\r\n")),
            "{path}: {}",
            a.text
        );
        assert!(!a.text.contains("url used to send message"), "{path}");
    }
    // the query is kept
    let a = get("/config/audit/?action=ou_created".into()).await;
    assert!(
        a.text
            .to_ascii_lowercase()
            .contains("location: /config/audit?action=ou_created\r\n"),
        "{}",
        a.text
    );
    let a = get(canonical.clone()).await;
    assert_eq!(a.status, 200);
    assert!(a.text.contains("url used to send message"), "{}", a.text);
    // another tenant's channel: redirected like any path, then the plain 404
    let a = get(format!("/config/channels/{}/integration/", theirs.id)).await;
    assert_eq!(a.status, 308);
    let a = get(format!("/config/channels/{}/integration", theirs.id)).await;
    assert_eq!(a.status, 404);
    assert!(!a.text.contains("url used to send message"));
    // server functions and webhooks are matched exactly, never redirected
    let a = raw_exchange(
        app.addr,
        &format!(
            "POST {}/ HTTP/1.1\r\nHost: x\r\nAccountKey: alpha-hook-1\r\nContent-Length: 14\r\nConnection: close\r\n\r\n",
            mine.message_url.trim_start_matches(&app.base)
        ),
        br#"{"results":[]}"#,
        std::time::Duration::from_secs(5),
    )
    .await;
    assert_eq!(a.status, 404, "{}", a.text);
}
