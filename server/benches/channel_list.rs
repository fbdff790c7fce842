//! Channel-list latency as the number of channels grows. For each size in `BENCH_CHANNELS`
//! (default `1000,100000,1000000`), on a fresh SQLite database and — when `PG_TEST_URL` names
//! a PostgreSQL server — on a fresh PostgreSQL database: seeds one tenant space with that many
//! demo channels, makes 20% of them Failing (a refused delivery, computed by the health
//! sweep), starts the real server on loopback and calls `list_channels` over HTTP, one request
//! at a time, for the first page, a page 40,000 rows deep (reached by seeking, Next after Next),
//! the last page, a rare and a common name search, the provider filter, "needs attention", the
//! Health sort and the Overview (`get_dashboard`). Then the same in one tenant space of 1,000
//! channels among 1,000 such spaces (`BENCH_TENANTS`, default 1000; 0 skips it). Each case
//! asserts the total it names. Prints p50 and p99 per case, the sizes side by side, with
//! `/healthz` on the same server as the floor, the seed and sweep times and the idle RSS of a
//! `switchboard serve` on the database. On PostgreSQL the tables are vacuumed and analyzed
//! before measuring (as autovacuum would after so many changes). `BENCH_DATABASES=sqlite` or
//! `postgres` runs one of them.
//!
//! `cargo bench -p server --bench channel_list` (or `make bench`).

mod common;

use server::startup;
use std::time::{Duration, Instant};

const SAMPLES: usize = 200;
const WARMUP: usize = 20;
const DEEP: usize = 40_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One column of the table: a database at one size.
struct Column {
    title: String,
    notes: Vec<String>,
    /// (case, p50 ms, p99 ms)
    cells: Vec<(String, f64, f64)>,
}

/// A case: its label, the total (and whether more) it must find, the query, and the name its
/// page starts with when that is known.
type Case = (String, (u64, bool), serde_json::Value, Option<String>);

/// The names `demo_000000`… the seed gives, and how many contain `s`.
fn containing(n: usize, s: &str) -> u64 {
    (0..n)
        .filter(|i| format!("demo_{i:06}").contains(s))
        .count() as u64
}

fn capped(n: u64) -> (u64, bool) {
    (n.min(10_000), n > 10_000)
}

enum Db {
    /// The directory of the database, kept until the column is measured.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin: String,
        name: String,
    },
}

impl Db {
    async fn fresh(postgres: Option<&str>, tag: &str) -> (Self, String, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        match postgres {
            None => {
                let db = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/bench.db", db.path().display());
                (Self::Sqlite { _dir: db }, url, dir)
            }
            Some(admin) => {
                let name = format!("bench_list_{}_{tag}", std::process::id());
                let pool = sqlx::PgPool::connect(admin).await.expect("PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&pool)
                    .await
                    .expect("create database");
                let url = match admin.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("PG_TEST_URL names a database"),
                };
                (
                    Self::Postgres {
                        admin: admin.to_owned(),
                        name,
                    },
                    url,
                    dir,
                )
            }
        }
    }

    async fn drop_it(self) {
        if let Self::Postgres { admin, name } = self {
            let pool = sqlx::PgPool::connect(&admin).await.expect("PostgreSQL");
            sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .execute(&pool)
                .await
                .expect("drop database");
        }
    }
}

/// Seeds, serves and measures one column: `channels` in the tenant space measured, and
/// `others` more tenant spaces of as many channels each.
async fn column(postgres: Option<&str>, channels: usize, others: usize) -> Column {
    let tag = format!("{channels}_{others}");
    let (db, url, dir) = Db::fresh(postgres, &tag).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let mut config = common::config(dir.path(), Some(addr));
    config.database_url = url.clone();
    let state = startup::build_state(&config).await.expect("state");
    let mut notes = Vec::new();
    common::bench_tenant(&state).await;
    let started = Instant::now();
    server::demo::seed(&state, "Bench", channels)
        .await
        .expect("seed");
    if others > 0 {
        server::demo::seed_tenants(&state, "Bench", others, channels)
            .await
            .expect("seed tenants");
    }
    notes.push(format!("seed {:.0} s", started.elapsed().as_secs_f64()));

    // 20% of the channels have refused deliveries (Failing), as the webhook writer leaves
    // them, and are due for the sweep, which then computes their health as after a start
    let started = Instant::now();
    let refused = {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = &state.db.conn;
        let now = time::OffsetDateTime::now_utc();
        let backend = conn.get_database_backend();
        let sql = "UPDATE channels SET last_refused_at = ?, \
                   last_refused_reason = 'account_key_mismatch', health_due_at = ? \
                   WHERE id % 5 = 0";
        let sql = if postgres.is_some() {
            sql.replacen('?', "$1", 1).replacen('?', "$2", 1)
        } else {
            sql.to_owned()
        };
        conn.execute(Statement::from_sql_and_values(
            backend,
            sql,
            [now.into(), now.into()],
        ))
        .await
        .expect("refusals");
        for h in 0..24 {
            conn.execute_unprepared(&format!(
                "INSERT INTO webhook_counts (tenant_id, hour, accepted, refused) \
                 SELECT id, {} , 1000, 250 FROM tenants",
                now.unix_timestamp() / 3600 - h
            ))
            .await
            .expect("counts");
        }
        // the measured tenant's share
        let row = conn
            .query_one(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM channels c JOIN tenants t ON t.id = c.tenant_id \
                 WHERE t.name = 'Bench' AND c.id % 5 = 0",
            ))
            .await
            .expect("count")
            .expect("row");
        row.try_get::<i64>("", "n").expect("n") as u64
    };
    let swept = server::db::health::sweep(&state.db.conn)
        .await
        .expect("sweep");
    server::db::tallies::compact(&state.db.conn)
        .await
        .expect("compact");
    if postgres.is_some() {
        // what autovacuum does after so many changed rows, done before measuring instead of
        // during it: the planner's statistics of the Failing channels, no dead tallies
        use sea_orm::ConnectionTrait;
        for table in ["channels", "channel_tallies"] {
            state
                .db
                .conn
                .execute_unprepared(&format!("VACUUM ANALYZE {table}"))
                .await
                .expect("vacuum");
        }
    }
    notes.push(format!(
        "sweep of {swept} {:.0} s",
        started.elapsed().as_secs_f64()
    ));

    let router = startup::build_router(state, &config);
    let server = tokio::spawn(async move {
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
    let list = |query: serde_json::Value| {
        let http = http.clone();
        let cookie = cookie.clone();
        let base = base.clone();
        async move {
            let res = http
                .post(format!("{base}/api/list_channels"))
                .header("Cookie", &cookie)
                .json(&serde_json::json!({ "query": query }))
                .send()
                .await
                .expect("call");
            assert!(res.status().is_success(), "{}", res.status());
            res.json::<serde_json::Value>().await.expect("json")
        }
    };
    let q = |search: &str, provider: &str, attention: bool, sort: &str, desc: bool| {
        serde_json::json!({"search": search, "provider": provider, "attention": attention,
                           "sort": sort, "descending": desc, "at": "First", "per_page": 20})
    };

    // the key of row DEEP (or the middle of a smaller list), reached page by page
    let depth = DEEP.min(channels / 2) / 100 * 100;
    let mut walk = q("", "", false, "Name", false);
    walk["per_page"] = 100.into();
    let mut deep = q("", "", false, "Name", false);
    for _ in 0..depth / 100 {
        let page = list(walk.clone()).await;
        walk["at"] = serde_json::json!({ "After": page["last"] });
        deep["at"] = walk["at"].clone();
    }
    let mut last = q("", "", false, "Name", false);
    last["at"] = "Last".into();
    let all = (channels as u64, false);
    let cases: Vec<Case> = vec![
        (
            "first page (by name)".into(),
            all,
            q("", "", false, "Name", false),
            None,
        ),
        (
            format!("page {depth} rows deep (seek)"),
            all,
            deep,
            Some(format!("demo_{depth:06}")),
        ),
        (
            "last page".into(),
            all,
            last,
            Some(format!("demo_{:06}", channels - 20)),
        ),
        (
            "search 'demo_0424' (rare)".into(),
            capped(containing(channels, "demo_0424")),
            q("demo_0424", "", false, "Name", false),
            None,
        ),
        (
            "search 'mo_0' (common)".into(),
            capped(containing(channels, "mo_0")),
            q("mo_0", "", false, "Name", false),
            None,
        ),
        (
            "provider twilio, newest first".into(),
            ((0..channels).filter(|i| i % 5 == 4).count() as u64, false),
            q("", "twilio", false, "Updated", true),
            None,
        ),
        (
            "needs attention (by name)".into(),
            (refused, false),
            q("", "", true, "Name", false),
            None,
        ),
        (
            "health, worst first".into(),
            all,
            q("", "", false, "Health", true),
            None,
        ),
    ];

    let mut cells = Vec::new();
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
    cells.push((
        "GET /healthz (floor)".to_owned(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
    ));
    for (label, (total, more), query, first_row) in cases {
        let mut times = Vec::with_capacity(SAMPLES);
        let mut page = serde_json::Value::Null;
        for i in 0..WARMUP + SAMPLES {
            let t = Instant::now();
            page = list(query.clone()).await;
            if i >= WARMUP {
                times.push(t.elapsed());
            }
        }
        assert_eq!(
            (page["total"].as_u64(), page["more"].as_bool()),
            (Some(total), Some(more)),
            "{label}: the rows it names"
        );
        let rows = page["rows"].as_array().expect("rows");
        assert_eq!(rows.len() as u64, total.min(20), "{label}: a full page");
        if let Some(name) = first_row {
            assert_eq!(rows[0]["name"], name.as_str(), "{label}: where it starts");
        }
        times.sort();
        cells.push((
            label,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
        ));
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
    cells.push((
        "get_dashboard".to_owned(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
    ));
    server.abort();

    // a server of its own on the database, idle after one page: its resident memory
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("SWITCHBOARD_MASTER_KEY", "42".repeat(32))
        .env("SWITCHBOARD_DATA_DIR", dir.path())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let other = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{other}/readyz")).send().await
            && r.status().is_success()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if ready {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        notes.push(format!("idle RSS {} MB", rss / 1024));
    } else {
        notes.push("idle RSS: the server did not start".into());
    }
    let _ = child.kill();
    let _ = child.wait();
    db.drop_it().await;
    Column {
        title: if others > 0 {
            format!("{channels} × {} tenants", others + 1)
        } else {
            format!("{channels}")
        },
        notes,
        cells,
    }
}

fn print(backend: &str, columns: &[Column]) {
    println!(
        "\n{backend}: list_channels over HTTP, p50 / p99 in ms ({SAMPLES} sequential calls per case after {WARMUP} warm-up calls)"
    );
    let width = 34;
    print!("  {:<width$}", "channels");
    for c in columns {
        print!(" | {:>22}", c.title);
    }
    println!();
    for (i, (label, _, _)) in columns[0].cells.iter().enumerate() {
        // 40,000 deep, or the middle of a smaller list
        let label = if i == 2 {
            "page 40,000 deep (seek)"
        } else {
            label.as_str()
        };
        print!("  {label:<width$}");
        for c in columns {
            let (_, p50, p99) = &c.cells[i];
            print!(" | {:>22}", format!("{p50:.2} / {p99:.2}"));
        }
        println!();
    }
    for c in columns {
        println!("  {}: {}", c.title, c.notes.join(", "));
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_CHANNELS")
        .unwrap_or_else(|_| "1000,100000,1000000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let tenants: usize = std::env::var("BENCH_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let postgres = std::env::var("PG_TEST_URL").ok();
    let only = std::env::var("BENCH_DATABASES").unwrap_or_else(|_| "sqlite,postgres".into());
    let mut backends: Vec<(&str, Option<&str>)> = Vec::new();
    if only.contains("sqlite") {
        backends.push(("SQLite", None));
    }
    if let Some(url) = postgres.as_deref().filter(|_| only.contains("postgres")) {
        backends.push(("PostgreSQL", Some(url)));
    }
    for (name, pg) in backends {
        let mut columns = Vec::new();
        for &n in &sizes {
            println!("{name}: {n} channels…");
            columns.push(column(pg, n, 0).await);
        }
        if tenants > 1 {
            println!("{name}: 1000 channels in each of {tenants} tenant spaces…");
            columns.push(column(pg, 1000, tenants - 1).await);
        }
        print(name, &columns);
    }
}
