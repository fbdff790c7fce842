//! The integration-test harness: `spawn_app()` starts the real router on 127.0.0.1:0 with a
//! fresh database — a SQLite file in a temporary directory, or, when
//! `SWITCHBOARD_TEST_POSTGRES` names a PostgreSQL server, a new database there that is dropped
//! when the test ends.

#![allow(dead_code, clippy::unwrap_used)]

pub mod fake_provider;

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
                server::secrets::crypto::random_token()[..16].to_owned()
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
    /// The server's address and an HTTP client for it (`app.base`, `app.call(…)`).
    pub client: Client,
    pub config: Config,
    pub state: server::state::AppState,
    /// The first-run link the server would log.
    pub setup_link: Option<String>,
    pub db: TestDb,
}

/// A server (or a load balancer in front of several) at `base`, called as the browser calls it.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    /// A client of `base` that follows no redirects and gives up on an answer after 60 s.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }
}

impl std::ops::Deref for TestApp {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub public_url: Option<String>,
    /// `SWITCHBOARD_PUBLIC_CA`: the roots of the public address's certificate.
    pub public_ca: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub trust_forwarded_for: bool,
    /// Limits other than the defaults (short timeouts, a small in-flight cap).
    pub limits: Option<server::config::Limits>,
    /// The master key (default `TEST_MASTER_KEY`); with `key_dir`, none: the key file there.
    pub master_key: Option<String>,
    pub previous_master_keys: Option<String>,
    pub key_dir: Option<std::path::PathBuf>,
    /// The built site to serve (default: the checkout's `target/site`).
    pub site_root: Option<std::path::PathBuf>,
    /// No export or import worker in this process (another process runs them).
    pub no_workers: bool,
    /// Keep metrics (as `SWITCHBOARD_METRICS_ADDR` does; the test serves them itself).
    pub metrics: bool,
    /// `SWITCHBOARD_TRAFFIC_RETENTION_DAYS` (default 30).
    pub traffic_retention_days: Option<u64>,
    /// `SWITCHBOARD_SMTP_URL` and its companions.
    pub smtp: Option<server::config::SmtpConfig>,
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

/// The configuration a test server runs with.
pub fn config_for(database_url: String, addr: SocketAddr, base: &str, options: &Options) -> Config {
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("switchboard")
        .site_root(options.site_root.as_ref().map_or_else(
            || concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site").to_owned(),
            |p| p.display().to_string(),
        ))
        .site_addr(addr)
        .build();
    Config {
        database_url,
        public_url: server::config::parse_public_url(options.public_url.as_deref().unwrap_or(base))
            .expect("public url"),
        public_ca: options.public_ca.clone(),
        trust_forwarded_for: options.trust_forwarded_for,
        master_key: match (&options.master_key, &options.key_dir) {
            (Some(k), _) => Some(k.clone()),
            (None, Some(_)) => None,
            (None, None) => Some(TEST_MASTER_KEY.into()),
        },
        previous_master_keys: options.previous_master_keys.clone(),
        data_dir: options.key_dir.clone().unwrap_or_else(std::env::temp_dir),
        leptos,
        limits: options.limits.clone().unwrap_or_default(),
        inspector: env!("CARGO_BIN_EXE_switchboard").into(),
        audit_retention_days: 365,
        traffic_retention_days: options
            .traffic_retention_days
            .unwrap_or(server::db::retention::DEFAULT_DAYS),
        export_lease: server::config::DEFAULT_EXPORT_LEASE,
        import_lease: server::imports::DEFAULT_LEASE,
        metrics_addr: options
            .metrics
            .then(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        log_format: server::config::LogFormat::Text,
        smtp: options.smtp.clone(),
    }
}

pub async fn spawn_on_with(db: TestDb, database_url: String, options: Options) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let config = config_for(database_url, addr, &base, &options);
    let state = startup::build_state(&config).await.expect("state");
    let setup_link = startup::first_run_link(&state, &config)
        .await
        .expect("setup link");
    // the background work runs until the test's runtime ends
    if !options.no_workers {
        std::mem::forget(server::startup::start_background(&state, &config));
    }
    let router = startup::build_router(state.clone(), &config);
    let limits = config.limits.clone();
    tokio::spawn(async move {
        startup::serve(listener, router, &limits, std::future::pending()).await;
    });
    TestApp {
        addr,
        // a request the server never answers fails the test instead of hanging it
        client: Client::new(&base),
        config,
        state,
        setup_link,
        db,
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

/// The whole `Set-Cookie` line of the device cookie a sign-in sets.
pub fn device_cookie_line(headers: &HeaderMap) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{}=", app::api::DEVICE_COOKIE)))
        .expect("a sign-in sets the device cookie")
        .to_owned()
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

impl Client {
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
        answer(
            req.send()
                .await
                .unwrap_or_else(|e| panic!("GET {path}: {e}")),
        )
        .await
    }

    /// Uploads a certificate or keystore file with its password, as the Certificates page does.
    pub async fn upload_certificate(
        &self,
        cookie: &str,
        name: &str,
        kind: &str,
        file: Vec<u8>,
        password: &str,
    ) -> Answer {
        use reqwest::multipart::{Form, Part};
        let form = Form::new()
            .text("name", name.to_string())
            .text("kind", kind.to_string())
            .text("password", password.to_string())
            .part("file", Part::bytes(file).file_name("upload.bin"));
        let res = self
            .http
            .post(format!("{}/api/upload_certificate", self.base))
            .header("Cookie", cookie)
            .multipart(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("upload_certificate: {e}"));
        answer(res).await
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

impl TestApp {
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

/// What a raw HTTP/1.1 exchange answered: the status (0 when the server closed without one),
/// the head and the body read until the server closed or `wait` passed.
pub struct RawAnswer {
    pub status: u16,
    pub text: String,
}

/// Sends `head` (and `body`, if any) on a fresh connection and reads the answer. Used where a
/// well-behaved client cannot be: bodies that never end, heads that never finish.
pub async fn raw_exchange(
    addr: SocketAddr,
    head: &str,
    body: &[u8],
    wait: std::time::Duration,
) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    if !body.is_empty() {
        let _ = stream.write_all(body).await;
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    RawAnswer { status, text }
}

/// Resident memory of this process (the in-process server's), in bytes.
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// A channel made through the API, with its tenant administrator's session.
pub struct MadeChannel {
    pub cookie: String,
    pub id: i64,
    pub message_url: String,
    pub report_url: String,
}

impl Client {
    /// A new tenant space `tenant` (administrator `admin`) with one infobip channel whose
    /// Webhook Password is `hook_password`.
    pub async fn infobip_channel(
        &self,
        root: &str,
        tenant: &str,
        admin: &str,
        hook_password: &str,
    ) -> MadeChannel {
        let password = format!("{admin}-password");
        self.create_tenant(root, tenant, admin, &password).await;
        // global, and added once per app (a repeat is refused, which is fine here)
        self.call(
            "add_trust_prefix",
            &[("prefix", "https://api.infobip.com"), ("scope", "global")],
            Some(root),
        )
        .await;
        let cookie = self.session(admin, &password).await;
        let queue = self
            .call(
                "create_skill_queue",
                &[("name", "Care"), ("access_code", "1")],
                Some(&cookie),
            )
            .await
            .json()
            .as_i64()
            .expect("queue id")
            .to_string();
        let draft = serde_json::json!({
            "provider": "infobip", "name": "wa_infobip", "phone_number": "+4915112345678",
            "username": "u", "password": "p", "base_url": "https://api.infobip.com",
            "account_key": "k", "webhook_password": hook_password, "skill_queue_id": queue,
            "workday": [{"start": "09:00", "end": "18:00"}],
            "non_workday": [{"start": "09:00", "end": "18:00"}],
        });
        let r = self
            .call_json(
                "create_channel",
                serde_json::json!({ "draft": draft }),
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.json().as_i64().expect("channel id");
        let i = self
            .call(
                "get_channel_integration",
                &[("id", &id.to_string())],
                Some(&cookie),
            )
            .await
            .json();
        MadeChannel {
            cookie,
            id,
            message_url: i["message_url"].as_str().expect("url").to_owned(),
            report_url: i["report_url"].as_str().expect("url").to_owned(),
        }
    }
}

/// An infobip message delivery to `url` with `key` as its AccountKey (none when empty): its
/// status.
pub async fn deliver(url: &str, key: &str) -> u16 {
    let mut req = reqwest::Client::new().post(url);
    if !key.is_empty() {
        req = req.header("AccountKey", key);
    }
    req.header("Content-Type", "application/json")
        .body(r#"{"results":[{"messageId":"m-1","from":"4915100000001","to":"4915112345678","message":{"type":"TEXT","text":"hi"}}]}"#)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A port free at this moment on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 10 s) until the server at `base` answers `/readyz` 200.
pub async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server at {base} did not start");
}

/// This build's `switchboard serve` as its own process on `database_url` (a free port, the test
/// master key, `RUST_LOG=info`, `env` on top), once it is ready: the child (standard error
/// piped, to be read after it ends) and its base URL.
pub async fn serve_binary(
    database_url: &str,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_PUBLIC_URL", &base)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&base).await;
    (child, base)
}

/// What a `switchboard` command printed and how it ended.
pub struct CliRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `switchboard` with `args` on `database_url` and the test master key, as a script
/// would, writing `stdin` to it (a password prompt's answer).
pub fn run_cli(database_url: &str, args: &[&str], stdin: &str) -> CliRun {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run switchboard");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The trust prefixes of the `provider_drafts` channels' BaseUrls.
pub const DRAFT_PREFIXES: [&str; 4] = [
    "https://api.infobip.com",
    "https://bsp.itau.example",
    "https://api.twilio.com",
    "https://graph.facebook.com",
];

/// One channel of each provider, with the fields a webhook test needs: Webhook Passwords
/// `infobip-hook-1`, `other-hook-1`, twilio's `aicc_hook` / `S3cret!pass` and cloud-api's APP
/// Secret `app_secret_123`. `common` holds what every channel has (skill queue, times).
pub fn provider_drafts(common: &serde_json::Value) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    [
        (
            "infobip",
            json!({"provider": "infobip", "name": "wa_infobip", "phone_number": "+4915112345678", "username": "u", "password": "p", "base_url": "https://api.infobip.com", "account_key": "k", "webhook_password": "infobip-hook-1"}),
        ),
        (
            "other",
            json!({"provider": "other", "verification_method": "basic", "name": "wa_other", "phone_number": "+4915112345678", "username": "u", "password": "p", "base_url": "https://bsp.itau.example", "authentication_key": "k", "webhook_password": "other-hook-1"}),
        ),
        (
            "twilio",
            json!({"provider": "twilio", "name": "wa_twilio", "phone_number": "+14155238886", "api_key_sid": format!("SK{}", "a1".repeat(16)), "api_key_secret": "s", "base_url": "https://api.twilio.com", "account_sid": format!("AC{}", "0f".repeat(16)), "webhook_user": "aicc_hook", "webhook_password": "S3cret!pass"}),
        ),
        (
            "cloud-api",
            json!({"provider": "cloud-api", "name": "wa_cloud", "app_key": "123", "app_secret": "app_secret_123", "phone_number": "15550001111", "base_url": "https://graph.facebook.com", "access_token": "t", "token_valid_until": "2099-01-01"}),
        ),
    ]
    .into_iter()
    .map(|(provider, draft)| {
        let mut d = common.clone();
        for (k, v) in draft.as_object().expect("an object") {
            d[k] = v.clone();
        }
        (provider, d)
    })
    .collect()
}

impl Client {
    /// Creates the channel `draft` as `cookie`; answers its id and its Channel Integration.
    pub async fn create_channel(
        &self,
        cookie: &str,
        draft: serde_json::Value,
    ) -> (i64, serde_json::Value) {
        let r = self
            .call_json(
                "create_channel",
                serde_json::json!({ "draft": draft }),
                Some(cookie),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.json().as_i64().expect("channel id");
        let integration = self
            .call(
                "get_channel_integration",
                &[("id", &id.to_string())],
                Some(cookie),
            )
            .await
            .json();
        (id, integration)
    }
}
