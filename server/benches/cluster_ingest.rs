//! Webhook ingest scaled out: `switchboard serve` (this build) on PostgreSQL behind HAProxy
//! running `deploy/haproxy.cfg`, with one instance and then with three, driven by `wrk` through
//! HAProxy (infobip deliveries, a new message id per request), and in the same run HAProxy →
//! `/healthz` as the floor. Prints requests per second, p50/p99 latency, and what was stored
//! against what was answered 200 (lost must be 0).
//!
//! Needs `wrk`, `haproxy` and a PostgreSQL server (`PG_TEST_URL`, default
//! postgres://postgres@127.0.0.1:5432/postgres; a database is made and dropped).
//! `cargo bench -p server --bench cluster_ingest` (part of `make bench`).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

const KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_ready(base: &str) {
    for _ in 0..400 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not get ready");
}

/// Instances and HAProxy; all stopped when dropped.
struct Running(Vec<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `n` instances on `url` behind HAProxy; answers them and HAProxy's base URL.
async fn cluster(url: &str, n: usize) -> (Running, String) {
    let lb_port = free_port();
    let lb = format!("http://127.0.0.1:{lb_port}");
    let mut children = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..n {
        let port = free_port();
        children.push(
            Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .arg("serve")
                .env("DATABASE_URL", url)
                .env("SWITCHBOARD_MASTER_KEY", KEY)
                .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
                .env("SWITCHBOARD_PUBLIC_URL", &lb)
                .env("SWITCHBOARD_TRUST_FORWARDED_FOR", "1")
                .env("SWITCHBOARD_DRAIN_SECS", "0")
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .spawn()
                .expect("switchboard serve"),
        );
        addrs.push(format!("127.0.0.1:{port}"));
    }
    for a in &addrs {
        wait_ready(&format!("http://{a}")).await;
    }
    // three server lines in the file: with one instance, all three name it
    let haproxy = Command::new("haproxy")
        .args([
            "-db",
            "-f",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/haproxy.cfg"),
        ])
        .env("SWITCHBOARD_LB_BIND", format!("127.0.0.1:{lb_port}"))
        .env("SWITCHBOARD_1", &addrs[0])
        .env("SWITCHBOARD_2", &addrs[1 % n])
        .env("SWITCHBOARD_3", &addrs[2 % n])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy (apt-get install haproxy)");
    children.push(haproxy);
    wait_ready(&lb).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    (Running(children), lb)
}

async fn stored(pool: &sqlx::PgPool, prefix: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE provider_message_id LIKE $1")
        .bind(format!("{prefix}-%"))
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::main]
async fn main() {
    use sqlx::Connection;
    let admin_url = std::env::var("PG_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("sb_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL (PG_TEST_URL)");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin_url).expect("url");
    url.set_path(&format!("/{name}"));
    let url = url.to_string();

    // the tenant and its channel, made in-process; the public URL is filled in per run
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = common::config(dir.path(), None);
    config.database_url = url.clone();
    config.master_key = Some(KEY.into());
    let state = server::startup::build_state(&config).await.expect("state");
    let path = common::infobip_channel(&state).await;
    let path = url::Url::parse(&path)
        .expect("message url")
        .path()
        .to_owned();
    drop(state);
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");

    println!(
        "wrk -t2 -c{} -d{} through HAProxy (deploy/haproxy.cfg) on loopback, PostgreSQL on the same 2 cores:",
        common::CONNECTIONS,
        common::DURATION
    );
    for n in [1usize, 3] {
        let (running, lb) = cluster(&url, n).await;
        let prefix = format!("i{n}");
        let script = common::infobip_script(dir.path(), &prefix);
        let target = format!("{lb}{path}");
        let hooks = tokio::task::spawn_blocking(move || common::wrk(&target, Some(&script)))
            .await
            .expect("wrk");
        let health_url = format!("{lb}/healthz");
        let health = tokio::task::spawn_blocking(move || common::wrk(&health_url, None))
            .await
            .expect("wrk");
        drop(running);
        let kept = stored(&pool, &prefix).await;
        let answered = hooks.requests.saturating_sub(hooks.non_2xx);
        println!(
            "  {n} instance{}: webhooks {:>7.0} req/s  p50 {}  p99 {}  ({} answered 200, {} not 2xx, {} stored, {} lost)",
            if n == 1 { " " } else { "s" },
            hooks.rps,
            hooks.p50,
            hooks.p99,
            answered,
            hooks.non_2xx,
            kept,
            answered.saturating_sub(u64::try_from(kept).unwrap_or(0)),
        );
        println!(
            "               HAProxy -> /healthz {:>7.0} req/s  p50 {}  p99 {}  (webhooks at {:.1} % of it)",
            health.rps,
            health.p50,
            health.p99,
            if health.rps > 0.0 {
                100.0 * hooks.rps / health.rps
            } else {
                0.0
            }
        );
    }
    pool.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await;
}
