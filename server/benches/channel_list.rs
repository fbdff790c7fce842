//! Channel-list latency at scale: seeds channels into one tenant on a fresh SQLite database
//! (100,000 unless `BENCH_CHANNELS` says otherwise), starts the real server on loopback and
//! calls the `list_channels` server function over HTTP, one request at a time, for the first
//! page, a middle page and a name search, the Health sort and "needs attention" filter (20% of
//! the channels Failing), 100 rows with their health, and the `/config` dashboard
//! (`get_dashboard`). Prints p50, p99 and max per case, and a floor: `/healthz` on the same
//! server.
//!
//! `cargo bench -p server --bench channel_list` (or `make bench`).

mod common;

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
    let config = common::config(dir.path(), Some(addr));
    let state = startup::build_state(&config).await.expect("state");
    common::bench_tenant(&state).await;
    let started = Instant::now();
    server::demo::seed(&state, "Bench", channels)
        .await
        .expect("seed");
    println!(
        "seeded {channels} channels in {:.1} s (SQLite, {})",
        started.elapsed().as_secs_f64(),
        config.database_url
    );

    // 20% of the channels have refused deliveries (Failing), as the webhook writer leaves
    // them, and are due for the sweep, which then computes their health as after a start
    let started = Instant::now();
    let refused = {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = &state.db.conn;
        let now = time::OffsetDateTime::now_utc();
        let refused = conn
            .execute(Statement::from_sql_and_values(
                conn.get_database_backend(),
                "UPDATE channels SET last_refused_at = ?, \
                 last_refused_reason = 'account_key_mismatch', health_due_at = ? \
                 WHERE id % 5 = 0",
                [now.into(), now.into()],
            ))
            .await
            .expect("refusals")
            .rows_affected();
        for h in 0..24 {
            conn.execute_unprepared(&format!(
                "INSERT INTO webhook_counts (tenant_id, hour, accepted, refused) \
                 SELECT id, {} , 1000, 250 FROM tenants",
                now.unix_timestamp() / 3600 - h
            ))
            .await
            .expect("counts");
        }
        refused
    };
    let swept = server::db::health::sweep(&state.db.conn)
        .await
        .expect("sweep");
    assert!(
        swept as u64 >= refused,
        "the sweep saw {swept} of the {refused} refused channels"
    );
    println!(
        "health of {swept} channels computed in {:.1} s ({refused} Failing)",
        started.elapsed().as_secs_f64()
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
    let all = Some(channels as u64);
    // each case with the total it must find (`None`: some, not all)
    let cases = [
        (
            "first page (20 rows, by name)",
            all,
            serde_json::json!({"search": "", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}),
        ),
        (
            "middle page (20 rows, by name)",
            all,
            serde_json::json!({"search": "", "provider": "", "sort": "Name", "descending": false, "page": middle, "per_page": 20}),
        ),
        (
            "name search 'demo_0424' (20 rows)",
            None,
            serde_json::json!({"search": "demo_0424", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 20}),
        ),
        (
            "provider filter + newest first",
            None,
            serde_json::json!({"search": "", "provider": "twilio", "sort": "Updated", "descending": true, "page": 1, "per_page": 20}),
        ),
        (
            "health, worst first (20 rows)",
            all,
            serde_json::json!({"search": "", "provider": "", "sort": "Health", "descending": true, "page": 1, "per_page": 20}),
        ),
        (
            "needs attention, middle page",
            Some(refused),
            serde_json::json!({"search": "", "provider": "", "sort": "Name", "descending": false, "attention": true, "page": middle / 5, "per_page": 20}),
        ),
        (
            "100 rows with health (by name)",
            all,
            serde_json::json!({"search": "", "provider": "", "sort": "Name", "descending": false, "page": 1, "per_page": 100}),
        ),
    ];
    println!(
        "list_channels over HTTP, {SAMPLES} sequential calls per case after {WARMUP} warm-up calls:"
    );
    // the floor: the cheapest request this server answers, on the same connection pool
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..WARMUP + SAMPLES {
        let t = Instant::now();
        let res = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("call");
        assert!(res.status().is_success(), "{}", res.status());
        res.bytes().await.expect("body");
        if i >= WARMUP {
            times.push(t.elapsed());
        }
    }
    times.sort();
    println!(
        "  {:<40} floor         p50={}  p99={}  max={}",
        "GET /healthz",
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().expect("samples"))
    );
    for (label, expected, query) in cases {
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
        match expected {
            Some(n) => assert_eq!(total, n, "{label}: the rows it names"),
            None => assert!(total > 0 && total < channels as u64, "{label}: {total}"),
        }
        times.sort();
        println!(
            "  {label:<40} total={total:<7} p50={}  p99={}  max={}",
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().expect("samples"))
        );
    }

    let mut times = Vec::with_capacity(SAMPLES);
    let mut failing = 0;
    for i in 0..WARMUP + SAMPLES {
        let t = Instant::now();
        let res = http
            .post(format!("{base}/api/get_dashboard"))
            .header("Cookie", &cookie)
            .send()
            .await
            .expect("call");
        assert!(res.status().is_success(), "{}", res.status());
        let d: serde_json::Value = res.json().await.expect("json");
        if i >= WARMUP {
            times.push(t.elapsed());
        }
        failing = d["failing"].as_u64().unwrap_or(0);
    }
    assert_eq!(
        failing, refused,
        "the dashboard counts the Failing channels"
    );
    times.sort();
    println!(
        "  {:<40} failing={failing:<5} p50={}  p99={}  max={}",
        "get_dashboard",
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().expect("samples"))
    );
}
