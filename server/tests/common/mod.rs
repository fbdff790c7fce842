//! The integration-test harness: `spawn_app()` starts the real router on 127.0.0.1:0 with a
//! fresh database — a SQLite file in a temporary directory, or, when
//! `SWITCHBOARD_TEST_POSTGRES` names a PostgreSQL server, a new database there that is dropped
//! when the test ends.

#![allow(dead_code, clippy::unwrap_used)]

use reqwest::header::{HeaderMap, SET_COOKIE};
use server::config::Config;
use server::startup;
use std::net::SocketAddr;

pub const ROOT_USER: &str = "root";
pub const ROOT_PASSWORD: &str = "root-password-1";
/// 32 bytes, hex: the tests' master key for secrets at rest.
pub const TEST_MASTER_KEY: &str =
    "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e";

pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let admin_url = admin_url.clone();
            let name = name.clone();
            // Drop runs inside the test's runtime; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A fresh, empty database for one test, and its URL.
pub async fn fresh_database() -> (TestDb, String) {
    match std::env::var("SWITCHBOARD_TEST_POSTGRES") {
        Ok(admin_url) if !admin_url.is_empty() => {
            use sqlx::Connection;
            let name = format!(
                "sb_test_{}",
                server::crypto::random_token()[..16].to_owned()
            );
            let mut c = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to SWITCHBOARD_TEST_POSTGRES");
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut c)
                .await
                .expect("create test database");
            let mut url = url::Url::parse(&admin_url).expect("postgres URL");
            url.set_path(&format!("/{name}"));
            (TestDb::Postgres { admin_url, name }, url.to_string())
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/switchboard.db", dir.path().display());
            (TestDb::Sqlite(dir), url)
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub config: Config,
    pub state: startup::AppState,
    /// The first-run link the server would log.
    pub setup_link: Option<String>,
    pub http: reqwest::Client,
    _db: TestDb,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub public_url: Option<String>,
    pub trust_forwarded_for: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let (db, database_url) = fresh_database().await;
    spawn_on_with(db, database_url, options).await
}

/// A server on a database that already exists (made by `fresh_database`).
pub async fn spawn_on(db: TestDb, database_url: String) -> TestApp {
    spawn_on_with(db, database_url, Options::default()).await
}

async fn spawn_on_with(db: TestDb, database_url: String, options: Options) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("switchboard")
        .site_root(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
        .site_addr(addr)
        .build();
    let config = Config {
        database_url,
        public_url: server::config::parse_public_url(
            options.public_url.as_deref().unwrap_or(&base),
        )
        .expect("public url"),
        trust_forwarded_for: options.trust_forwarded_for,
        master_key: Some(TEST_MASTER_KEY.into()),
        data_dir: std::env::temp_dir(),
        leptos,
    };
    let state = startup::build_state(&config).await.expect("state");
    let setup_link = startup::first_run_link(&state, &config)
        .await
        .expect("setup link");
    startup::spawn_export_worker(&state);
    let router = startup::build_router(state.clone(), &config);
    tokio::spawn(async move {
        let _ = startup::serve(listener, router).await;
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        addr,
        base,
        config,
        state,
        setup_link,
        http,
        _db: db,
    }
}

/// The `name=value` of the session cookie a response sets, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    set_cookie_line(headers).map(|line| line.split(';').next().unwrap_or_default().to_string())
}

/// The whole `Set-Cookie` line of the session cookie.
pub fn set_cookie_line(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{}=", startup::SESSION_COOKIE)))
        .map(str::to_owned)
}

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn cookie(&self) -> Option<String> {
        session_cookie(&self.headers)
    }
}

impl TestApp {
    /// Calls a server function the way the browser does (form-encoded POST, same origin).
    pub async fn call(&self, name: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header("Origin", &self.base)
            .header("Accept", "application/json")
            .form(form);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        answer(req.send().await.expect("request")).await
    }

    /// Calls a JSON-encoded server function (the channel form's).
    pub async fn call_json(
        &self,
        name: &str,
        body: serde_json::Value,
        cookie: Option<&str>,
    ) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header("Origin", &self.base)
            .header("Accept", "application/json")
            .json(&body);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        answer(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        // as a browser asks for a page
        let mut req = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Accept", "text/html,application/xhtml+xml");
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        answer(req.send().await.expect("request")).await
    }

    /// Completes first-run setup; answers the system administrator's session cookie.
    pub async fn setup_admin(&self) -> String {
        let link = self
            .setup_link
            .clone()
            .expect("a fresh database has a setup link");
        let token = link.split("token=").nth(1).expect("token").to_string();
        let a = self
            .call(
                "complete_setup",
                &[
                    ("token", &token),
                    ("username", ROOT_USER),
                    ("password", ROOT_PASSWORD),
                    ("confirm_password", ROOT_PASSWORD),
                ],
                None,
            )
            .await;
        assert_eq!(a.status, 200, "setup: {}", a.body);
        a.cookie().expect("setup signs in")
    }

    pub async fn login(&self, username: &str, password: &str) -> Answer {
        self.call(
            "login",
            &[("username", username), ("password", password)],
            None,
        )
        .await
    }

    /// Signs in and answers the session cookie, failing the test otherwise.
    pub async fn session(&self, username: &str, password: &str) -> String {
        let a = self.login(username, password).await;
        assert_eq!(a.status, 200, "login {username}: {}", a.body);
        a.cookie().expect("login sets the session cookie")
    }

    /// Creates a tenant space with its administrator; answers the tenant id.
    pub async fn create_tenant(&self, root: &str, name: &str, admin: &str, password: &str) -> i64 {
        let a = self
            .call(
                "create_tenant",
                &[
                    ("name", name),
                    ("admin_username", admin),
                    ("admin_password", password),
                ],
                Some(root),
            )
            .await;
        assert_eq!(a.status, 200, "create tenant: {}", a.body);
        a.json().as_i64().expect("tenant id")
    }

    pub async fn whoami(&self, cookie: &str) -> serde_json::Value {
        let a = self.call("current_user", &[], Some(cookie)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}
