//! Channel-list latency at scale: seeds channels into one tenant on a fresh SQLite database
//! (100,000 unless `BENCH_CHANNELS` says otherwise), starts the real server on loopback and
//! calls the `list_channels` server function over HTTP, one request at a time, for the first
//! page, a middle page and a name search. Prints p50, p99 and max per case.
//!
//! `cargo bench -p server --bench channel_list` (or `make bench`).

use app::domain::{NewPassword, TenantName, Username};
use app::ports::Tenants;
use server::config::{Config, parse_public_url};
use server::startup;
use std::time::{Duration, Instant};

const SAMPLES: usize = 300;
const WARMUP: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let channels: usize = std::env::var("BENCH_CHANNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let config = Config {
        database_url: format!("sqlite://{}/bench.db", dir.path().display()),
        public_url: parse_public_url(&base).expect("url"),
        trust_forwarded_for: false,
        previous_master_keys: None,
        limits: server::config::Limits::default(),
        inspector: server::keystore::inspector_exe(),
        master_key: Some("42".repeat(32)),
        data_dir: dir.path().to_path_buf(),
        leptos: leptos::config::LeptosOptions::builder()
            .output_name("switchboard")
            .site_addr(addr)
            .build(),
    };
    let state = startup::build_state(&config).await.expect("state");
    state
        .accounts
        .create(
            &TenantName::parse("Bench").expect("name"),
            &Username::parse("bench-admin").expect("user"),
            &NewPassword::parse("bench-password").expect("password"),
        )
        .await
        .expect("tenant");
    let started = Instant::now();
    server::demo::seed(&state, "Bench", channels)
        .await
        .expect("seed");
    println!(
        "seeded {channels} channels in {:.1} s (SQLite, {})",
        started.elapsed().as_secs_f64(),
        config.database_url
    );

    let router = startup::build_router(state, &config);
    tokio::spawn(async move {
        startup::serve(
            listener,
            router,
            &server::config::Limits::default(),
            std::future::pending(),
        )
        .await;
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = http
        .post(format!("{base}/api/login"))
        .form(&[("username", "bench-admin"), ("password", "bench-password")])
        .send()
        .await
        .expect("login");
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("switchboard_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned();

    let middle = (channels / 20 / 2).max(1);
    let cases = [
        (
            "first page (20 rows, by name)",
            serde_json::json!({"search": "", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}),
        ),
        (
            "middle page (20 rows, by name)",
            serde_json::json!({"search": "", "provider": "", "sort": "Name", "descending": false, "page": middle, "per_page": 20}),
        ),
        (
            "name search 'demo_0424' (20 rows)",
            serde_json::json!({"search": "demo_0424", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}),
        ),
        (
            "provider filter + newest first",
            serde_json::json!({"search": "", "provider": "twilio", "sort": "Updated", "descending": true, "page": 1, "per_page": 20}),
        ),
    ];
    println!(
        "list_channels over HTTP, {SAMPLES} sequential calls per case after {WARMUP} warm-up calls:"
    );
    for (label, query) in cases {
        let body = serde_json::json!({ "query": query });
        let mut times = Vec::with_capacity(SAMPLES);
        let mut total = 0;
        for i in 0..WARMUP + SAMPLES {
            let t = Instant::now();
            let res = http
                .post(format!("{base}/api/list_channels"))
                .header("Cookie", &cookie)
                .json(&body)
                .send()
                .await
                .expect("call");
            assert!(res.status().is_success(), "{}", res.status());
            let page: serde_json::Value = res.json().await.expect("json");
            if i >= WARMUP {
                times.push(t.elapsed());
            }
            total = page["total"].as_u64().unwrap_or(0);
        }
        times.sort();
        println!(
            "  {label:<40} total={total:<7} p50={}  p99={}  max={}",
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().expect("samples"))
        );
    }
}
