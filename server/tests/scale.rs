//! Several instances behind a real load balancer: three `switchboard serve` processes on one
//! PostgreSQL with one master key, Debian's HAProxy in front running `deploy/haproxy.cfg` as an
//! operator would, and everything below checked through it:
//!
//! - instances started together take turns migrating the empty database;
//! - failed sign-ins are counted once for all instances: 40 wrong passwords at once, spread over
//!   the three, get exactly 10 evaluations and 30 × 429;
//! - a browser's device cookie is known to every instance, and still after all were restarted;
//! - a rolling restart (SIGTERM, drain, start again, one instance at a time) under continuous
//!   load — webhook deliveries from three providers, signed-in page loads, server function
//!   calls — fails no request;
//! - `kill -9` of the instance that holds an export, then of the one that holds an import's
//!   Apply, under the same load: every delivery answered 200 is stored exactly once
//!   (redeliveries after a failure included), the signed-in session keeps working on the
//!   others, the export and the Apply are taken over and finish, and the Apply is whole;
//! - a task started through an instance that is busy is claimed by another within 2 s (the
//!   PostgreSQL notification, not the 2 s poll).
//!
//! It runs in the PostgreSQL pass of `make test` (`SWITCHBOARD_TEST_POSTGRES`); `make scale`
//! runs it with `SWITCHBOARD_SCALE=full`: more load, longer phases and three rounds of rolling
//! restarts.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use server::exports::writer;
use server::imports::sheet;
use sqlx::Row;
use std::collections::HashMap;
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const INSTANCES: usize = 3;
const ADMIN: &str = "scale-admin";
const ADMIN_PASSWORD: &str = "scale-admin-password";
const ROOT: &str = "scale-root";
const ROOT_PASSWORD: &str = "scale-root-password";
/// The seeded channels the export and the import work through: enough that both are still
/// running when the instance holding them is killed.
const SEEDED: u64 = 10_000;

fn full() -> bool {
    std::env::var("SWITCHBOARD_SCALE").as_deref() == Ok("full")
}

fn haproxy() -> String {
    for path in [
        "/usr/sbin/haproxy",
        "/usr/bin/haproxy",
        "/usr/local/sbin/haproxy",
    ] {
        if std::path::Path::new(path).is_file() {
            return path.to_owned();
        }
    }
    panic!("HAProxy is not installed: `.ci/install-tools --test` installs Debian's haproxy");
}

fn deploy_file(name: &str) -> String {
    format!("{}/../deploy/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The three instances, HAProxy, and where their logs go.
struct Cluster {
    _db: TestDb,
    url: String,
    pool: sqlx::PgPool,
    ports: [u16; INSTANCES],
    children: Mutex<Vec<Option<Child>>>,
    haproxy: Option<Child>,
    lb: Client,
    logs: tempfile::TempDir,
    starts: AtomicU64,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.children.lock().unwrap().iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(mut h) = self.haproxy.take() {
            let _ = h.kill();
            let _ = h.wait();
        }
        if std::thread::panicking() {
            // what the instances said, for whoever reads the failure
            let mut names: Vec<_> = std::fs::read_dir(self.logs.path())
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            names.sort();
            for path in names {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                eprintln!("--- {} (last lines)", path.display());
                for line in tail.into_iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

fn distinct_ports<const N: usize>() -> [u16; N] {
    let mut ports = Vec::new();
    while ports.len() < N {
        let p = free_port();
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    ports.try_into().unwrap()
}

impl Cluster {
    async fn start() -> Self {
        let (db, url) = fresh_database().await;
        assert!(
            url.starts_with("postgres"),
            "several instances need PostgreSQL"
        );
        let [lb_port, p1, p2, p3] = distinct_ports::<4>();
        let lb = Client::new(&format!("http://127.0.0.1:{lb_port}"));
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let mut cluster = Self {
            _db: db,
            url,
            pool,
            ports: [p1, p2, p3],
            children: Mutex::new(vec![None, None, None]),
            haproxy: None,
            lb,
            logs: tempfile::tempdir().unwrap(),
            starts: AtomicU64::new(0),
        };
        // all three at once on the empty database: they take turns migrating
        for i in 0..INSTANCES {
            let child = cluster.spawn(i);
            cluster.children.lock().unwrap()[i] = Some(child);
        }
        for i in 0..INSTANCES {
            wait_ready(&cluster.direct(i)).await;
        }
        let env = cluster.haproxy_env();
        let check = Command::new(haproxy())
            .args(["-c", "-f", &deploy_file("haproxy.cfg")])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "haproxy -c: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let log = std::fs::File::create(cluster.logs.path().join("haproxy.log")).unwrap();
        cluster.haproxy = Some(
            Command::new(haproxy())
                .args(["-db", "-f", &deploy_file("haproxy.cfg")])
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        wait_ready(&cluster.lb.base).await;
        cluster
    }

    fn haproxy_env(&self) -> Vec<(String, String)> {
        let mut env = vec![(
            "SWITCHBOARD_LB_BIND".to_owned(),
            self.lb.base.trim_start_matches("http://").to_owned(),
        )];
        for (i, port) in self.ports.iter().enumerate() {
            env.push((
                format!("SWITCHBOARD_{}", i + 1),
                format!("127.0.0.1:{port}"),
            ));
        }
        env
    }

    fn direct(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    /// Starts instance `i` (on its port, with the shared key) without waiting for it.
    fn spawn(&self, i: usize) -> Child {
        let n = self.starts.fetch_add(1, Ordering::Relaxed);
        let log = std::fs::File::create(
            self.logs
                .path()
                .join(format!("instance-{}-start-{n:02}.log", i + 1)),
        )
        .unwrap();
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("DATABASE_URL", &self.url)
            .env("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", self.ports[i]))
            .env("SWITCHBOARD_PUBLIC_URL", &self.lb.base)
            .env("SWITCHBOARD_TRUST_FORWARDED_FOR", "1")
            .env("SWITCHBOARD_DRAIN_SECS", "3")
            .env("SWITCHBOARD_SHUTDOWN_GRACE_SECS", "20")
            .env("SWITCHBOARD_EXPORT_LEASE_SECS", "3")
            .env("SWITCHBOARD_IMPORT_LEASE_SECS", "3")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    /// The instance whose process is `pid`.
    fn instance_of(&self, pid: u32) -> Option<usize> {
        (0..INSTANCES).find(|i| {
            self.children.lock().unwrap()[*i]
                .as_ref()
                .is_some_and(|c| c.id() == pid)
        })
    }

    /// Starts instance `i` again and waits until HAProxy sends it requests (two good checks).
    async fn restart(&self, i: usize) {
        let child = self.spawn(i);
        self.children.lock().unwrap()[i] = Some(child);
        wait_ready(&self.direct(i)).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }

    /// SIGTERM to instance `i`, and its exit (drain, then the graceful stop).
    async fn stop(&self, i: usize) -> std::process::ExitStatus {
        let mut child = self.children.lock().unwrap()[i].take().unwrap();
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap()
    }

    /// `kill -9` of instance `i`, the holder of task `id` of `table`; then waits until another
    /// instance ends the task, which must be in `done` (`failed` ends the wait too, and fails
    /// the test). Answers how long after the kill it ended.
    async fn kill_and_await(
        &self,
        i: usize,
        table: &str,
        id: i64,
        [done, failed]: [&str; 2],
    ) -> Duration {
        let mut child = self.children.lock().unwrap()[i].take().unwrap();
        let killed_at = Instant::now();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(self.finished(table, id, &[done, failed]).await, done);
        killed_at.elapsed()
    }

    /// Runs `switchboard` with `args` on the cluster's database (`stdin` answers a prompt).
    fn cli(&self, args: &[&str], stdin: &str) {
        let r = run_cli(&self.url, args, stdin);
        assert_eq!(r.code, 0, "switchboard {args:?}: {}", r.stderr);
    }

    /// A task's status and the process that holds it (`claimed_by` is "pid-random").
    async fn task(&self, table: &str, id: i64) -> (String, Option<u32>) {
        let row = sqlx::query(&format!(
            "SELECT status, claimed_by FROM {table} WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .unwrap();
        let claimed: Option<String> = row.get("claimed_by");
        (
            row.get("status"),
            claimed.and_then(|c| c.split('-').next()?.parse().ok()),
        )
    }

    /// Waits until task `id` of `table` is in `status` and held by a process: answers the
    /// process and how long it took.
    async fn claimed(&self, table: &str, id: i64, status: &str) -> (u32, Duration) {
        let start = Instant::now();
        loop {
            if let (s, Some(pid)) = self.task(table, id).await
                && s == status
            {
                return (pid, start.elapsed());
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{table} {id} was not claimed in {status}: {:?}",
                self.task(table, id).await
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until task `id` of `table` leaves `running` states; answers its status.
    async fn finished(&self, table: &str, id: i64, done: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let (s, _) = self.task(table, id).await;
            if done.contains(&s.as_str()) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "{table} {id} did not finish: {s}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A client whose connections come from `ip` (another loopback address): HAProxy, and behind
/// it Switchboard, see a different client.
fn client_from(base: &str, ip: [u8; 4]) -> Client {
    let mut c = Client::new(base);
    c.http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::from(ip))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    c
}

/// One webhook provider's channel, as the load delivers to it.
#[derive(Clone)]
struct Hook {
    provider: &'static str,
    url: String,
}

impl Hook {
    fn request(&self, http: &reqwest::Client, id: &str) -> reqwest::RequestBuilder {
        match self.provider {
            "twilio" => http
                .post(&self.url)
                .header("Authorization", "Basic YWljY19ob29rOlMzY3JldCFwYXNz")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(format!(
                    "MessageSid={id}&From=whatsapp%3A%2B4915&To=whatsapp%3A%2B1415&Body=load&NumMedia=0"
                )),
            provider => http
                .post(&self.url)
                .header("AccountKey", format!("{provider}-hook-1"))
                .header("Content-Type", "application/json")
                .body(format!(
                    r#"{{"results":[{{"messageId":"{id}","from":"4915112345678","to":"4930901820","message":{{"type":"TEXT","text":"load"}}}}]}}"#
                )),
        }
    }
}

/// Continuous load through HAProxy, and what it saw.
#[derive(Default)]
struct Load {
    stop: AtomicBool,
    sent: AtomicU64,
    /// Every request that did not get its expected answer: what, and what came back.
    failed: Mutex<Vec<String>>,
    /// Deliveries answered 200: (provider, message id).
    accepted: Mutex<Vec<(&'static str, String)>>,
    /// Deliveries sent again after a failure.
    redelivered: AtomicU64,
}

impl Load {
    fn fail(&self, what: String) {
        self.failed.lock().unwrap().push(what);
    }
}

/// Starts the load: per provider `per_hook` delivering workers (a failed delivery is sent
/// again, as a provider does, until it is answered 200) and `sessions` signed-in workers
/// loading the channel list and calling a server function.
fn start_load(
    lb: &Client,
    hooks: &[Hook],
    per_hook: usize,
    cookie: &str,
    sessions: usize,
    round: &str,
) -> (Arc<Load>, Vec<tokio::task::JoinHandle<()>>) {
    let load = Arc::new(Load::default());
    let mut workers = Vec::new();
    for hook in hooks {
        for w in 0..per_hook {
            let (load, hook, http) = (load.clone(), hook.clone(), lb.http.clone());
            let prefix = format!("{round}-{}-{w}", hook.provider);
            workers.push(tokio::spawn(async move {
                let mut i = 0u64;
                while !load.stop.load(Ordering::Relaxed) {
                    i += 1;
                    let id = format!("{prefix}-{i}");
                    // delivered until answered 200, even once the load is asked to stop
                    for attempt in 0..200 {
                        if attempt > 0 {
                            load.redelivered.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        load.sent.fetch_add(1, Ordering::Relaxed);
                        match hook.request(&http, &id).send().await {
                            Ok(r) if r.status() == 200 => {
                                load.accepted
                                    .lock()
                                    .unwrap()
                                    .push((hook.provider, id.clone()));
                                break;
                            }
                            Ok(r) => load.fail(format!("{} {id}: {}", hook.provider, r.status())),
                            Err(e) => load.fail(format!("{} {id}: {e}", hook.provider)),
                        }
                    }
                }
            }));
        }
    }
    for _ in 0..sessions {
        let (load, lb, cookie) = (load.clone(), lb.clone(), cookie.to_owned());
        workers.push(tokio::spawn(async move {
            while !load.stop.load(Ordering::Relaxed) {
                load.sent.fetch_add(2, Ordering::Relaxed);
                let page = lb
                    .http
                    .get(format!("{}/config/channels", lb.base))
                    .header("Accept", "text/html")
                    .header("Cookie", &cookie)
                    .send()
                    .await;
                match page {
                    Ok(r) if r.status() == 200 => {
                        if r.text().await.is_err() {
                            load.fail("GET /config/channels: the page broke off".into());
                        }
                    }
                    Ok(r) => load.fail(format!("GET /config/channels: {}", r.status())),
                    Err(e) => load.fail(format!("GET /config/channels: {e}")),
                }
                let call = lb
                    .http
                    .post(format!("{}/api/list_skill_queues", lb.base))
                    .header("Origin", &lb.base)
                    .header("Accept", "application/json")
                    .header("Cookie", &cookie)
                    .send()
                    .await;
                match call {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => load.fail(format!("list_skill_queues: {}", r.status())),
                    Err(e) => load.fail(format!("list_skill_queues: {e}")),
                }
            }
        }));
    }
    (load, workers)
}

async fn stop_load(load: &Load, workers: Vec<tokio::task::JoinHandle<()>>) {
    load.stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
}

/// Every delivery the load saw answered 200 is stored exactly once, and nothing else of it is.
async fn assert_stored_once(cluster: &Cluster, load: &Load, round: &str) -> usize {
    let accepted = load.accepted.lock().unwrap().clone();
    let rows = sqlx::query(
        "SELECT provider_message_id, COUNT(*) AS n FROM webhook_events \
         WHERE kind = 'message' AND provider_message_id LIKE $1 GROUP BY provider_message_id",
    )
    .bind(format!("{round}-%"))
    .fetch_all(&cluster.pool)
    .await
    .unwrap();
    let stored: HashMap<String, i64> = rows
        .iter()
        .map(|r| (r.get::<String, _>("provider_message_id"), r.get("n")))
        .collect();
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let missing: Vec<_> = accepted
        .iter()
        .filter(|(_, id)| !stored.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "answered 200 but not stored: {missing:?}"
    );
    assert_eq!(
        stored.len(),
        accepted.len(),
        "every stored delivery was answered 200 once"
    );
    accepted.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_behind_haproxy_share_state_restart_and_die_without_losing_anything() {
    if std::env::var("SWITCHBOARD_TEST_POSTGRES").map_or(true, |v| v.is_empty()) {
        eprintln!("skipped: several instances need PostgreSQL (SWITCHBOARD_TEST_POSTGRES)");
        return;
    }
    let cluster = Cluster::start().await;
    let lb = cluster.lb.clone();

    // the data: a system administrator, a tenant with seeded channels and one channel per
    // provider that the load delivers to
    cluster.cli(
        &["create-admin", "--username", ROOT],
        &format!("{ROOT_PASSWORD}\n"),
    );
    cluster.cli(
        &[
            "create-tenant",
            "--name",
            "Scale",
            "--admin-username",
            ADMIN,
        ],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let seeded = SEEDED.to_string();
    cluster.cli(
        &["seed-demo", "--tenant", "Scale", "--channels", &seeded],
        "",
    );
    let root = lb.session(ROOT, ROOT_PASSWORD).await;
    for prefix in DRAFT_PREFIXES {
        lb.call(
            "add_trust_prefix",
            &[("prefix", prefix), ("scope", "global")],
            Some(&root),
        )
        .await;
    }
    let admin = lb.session(ADMIN, ADMIN_PASSWORD).await;
    let queue = lb
        .call(
            "create_skill_queue",
            &[("name", "Load"), ("access_code", "7")],
            Some(&admin),
        )
        .await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    let queue = queue.json().as_i64().unwrap().to_string();
    let times = json!({"skill_queue_id": queue, "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]});
    let mut hooks = Vec::new();
    for (provider, draft) in provider_drafts(&times)
        .into_iter()
        .filter(|(p, _)| *p != "cloud-api")
    {
        let (_, i) = lb.create_channel(&admin, draft).await;
        let url = i["message_url"].as_str().unwrap().to_owned();
        assert!(
            url.starts_with(&lb.base),
            "the public URL is the proxy's: {url}"
        );
        hooks.push(Hook { provider, url });
    }

    // 1. failed sign-ins are counted for all instances at once
    let owner = client_from(&lb.base, [127, 0, 0, 3]);
    let signed_in = owner.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let device = device_cookie_line(&signed_in.headers)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let guesser = client_from(&lb.base, [127, 0, 0, 4]);
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let guesser = guesser.clone();
            tokio::spawn(async move {
                guesser
                    .login(ADMIN, &format!("wrong-password-{i}"))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = HashMap::<u16, usize>::new();
    for g in guesses {
        *statuses.entry(g.await.unwrap()).or_default() += 1;
    }
    assert_eq!(
        statuses,
        HashMap::from([(401, 10), (429, 30)]),
        "40 wrong passwords at once over three instances: 10 evaluated"
    );
    // the username is held back everywhere, from any address, except for its owner's browser
    for i in 0..INSTANCES {
        let elsewhere = Client::new(&cluster.direct(i));
        let r = elsewhere
            .http
            .post(format!("{}/api/login", elsewhere.base))
            .header("Origin", &lb.base)
            .header("X-Forwarded-For", format!("198.51.100.{}", i + 1))
            .form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            429,
            "instance {} without the device cookie",
            i + 1
        );
    }
    let owner_signs_in_everywhere = |label: &'static str| {
        let (cluster, device) = (&cluster, device.clone());
        async move {
            for i in 0..INSTANCES {
                let r = reqwest::Client::new()
                    .post(format!("{}/api/login", cluster.direct(i)))
                    .header("Origin", &cluster.lb.base)
                    .header("X-Forwarded-For", "203.0.113.7")
                    .header("Cookie", &device)
                    .form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    r.status().as_u16(),
                    200,
                    "{label}: instance {} knows the owner's browser",
                    i + 1
                );
            }
        }
    };
    owner_signs_in_everywhere("before any restart").await;
    eprintln!("sign-in throttle: 40 wrong passwords at once -> {statuses:?}");

    // 2. rolling restarts under load: no request fails
    let rounds = if full() { 3 } else { 1 };
    let (per_hook, sessions) = if full() { (4, 4) } else { (2, 2) };
    let (load, workers) = start_load(&lb, &hooks, per_hook, &admin, sessions, "rolling");
    tokio::time::sleep(Duration::from_secs(if full() { 10 } else { 2 })).await;
    let rolling_started = Instant::now();
    for round in 0..rounds {
        for i in 0..INSTANCES {
            let status = cluster.stop(i).await;
            assert!(status.success(), "instance {} stopped with {status}", i + 1);
            cluster.restart(i).await;
        }
        if round == 0 {
            // the counts and the device key outlived every process
            for i in 0..INSTANCES {
                let r = reqwest::Client::new()
                    .post(format!("{}/api/login", cluster.direct(i)))
                    .header("Origin", &lb.base)
                    .header("X-Forwarded-For", "198.51.100.99")
                    .form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    r.status(),
                    429,
                    "restarted instance {} forgot the failures",
                    i + 1
                );
            }
            owner_signs_in_everywhere("after every instance restarted").await;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_load(&load, workers).await;
    let failed = load.failed.lock().unwrap().clone();
    let sent = load.sent.load(Ordering::Relaxed);
    let stored = assert_stored_once(&cluster, &load, "rolling").await;
    eprintln!(
        "rolling restart ({} restarts in {:.1} s): {sent} requests sent, {} failed, {stored} deliveries stored once, 0 lost, 0 duplicated",
        rounds * INSTANCES,
        rolling_started.elapsed().as_secs_f64(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "failed during the rolling restart: {failed:?}"
    );
    assert!(stored > 0 && sent > 0);

    // 3. kill -9 under load: the export's holder, then the Apply's
    let (load, workers) = start_load(&lb, &hooks, per_hook, &admin, sessions, "kill");
    tokio::time::sleep(Duration::from_secs(1)).await;

    // the export: claimed at once, its holder killed, another instance finishes it
    let export = lb
        .call_json("start_export", json!({"ids": []}), Some(&admin))
        .await;
    assert_eq!(export.status, 200, "{}", export.body);
    let export = export.json().as_i64().unwrap();
    let (holder, took) = cluster.claimed("export_tasks", export, "running").await;
    assert!(took < Duration::from_secs(2), "claimed in {took:?}");
    let victim = cluster.instance_of(holder).expect("held by an instance");
    // a second export started through the busy holder itself is claimed by another instance
    // within 2 s: its notification reached them
    let second = Client::new(&cluster.direct(victim))
        .call_json("start_export", json!({"ids": []}), Some(&admin))
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let second = second.json().as_i64().unwrap();
    let (other, took_elsewhere) = cluster.claimed("export_tasks", second, "running").await;
    assert_ne!(other, holder, "the busy instance cannot have claimed it");
    assert!(
        took_elsewhere < Duration::from_secs(2),
        "claimed by another instance in {took_elsewhere:?}"
    );
    let (status, _) = cluster.task("export_tasks", export).await;
    assert_eq!(
        status, "running",
        "the export is still running when its holder dies"
    );
    let export_took_over = cluster
        .kill_and_await(victim, "export_tasks", export, ["success", "failed"])
        .await;
    let (_, finisher) = cluster.task("export_tasks", export).await;
    assert!(
        finisher.is_some_and(|pid| pid != holder),
        "another instance finished it: {finisher:?}"
    );
    let file = lb
        .http
        .get(format!("{}/config/exports/{export}/download", lb.base))
        .header("Cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    let file = file.bytes().await.unwrap().to_vec();
    cluster.finished("export_tasks", second, &["success"]).await;
    // the session goes on on the other instances
    tokio::time::sleep(Duration::from_secs(1)).await;
    for _ in 0..6 {
        let r = lb.call("list_skill_queues", &[], Some(&admin)).await;
        assert_eq!(r.status, 200, "the session after the kill: {}", r.body);
    }
    cluster.restart(victim).await;

    // the Apply of an import that changes every channel
    let mut rows = Vec::new();
    sheet::read(&file, &writer::COLUMNS, &[], |_, r| {
        rows.push(r.cells);
        Ok::<(), ()>(())
    })
    .unwrap()
    .unwrap();
    let keyword = writer::COLUMNS
        .iter()
        .position(|c| *c == "Keyword for Transfer to Agent")
        .unwrap();
    for row in &mut rows {
        row[keyword] = "scale-takeover".into();
    }
    let changed = rows.len();
    let upload = lb
        .http
        .post(format!("{}/api/import_channels", lb.base))
        .header("Cookie", &admin)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(writer::xlsx(&rows).unwrap()).file_name("all.xlsx"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 200);
    let import: i64 = upload.text().await.unwrap().parse().unwrap();
    assert_eq!(
        cluster
            .finished("import_tasks", import, &["checked", "failed"])
            .await,
        "checked"
    );
    let counted: (i64, i64, i64) =
        sqlx::query_as("SELECT changed, errors, unknown FROM import_tasks WHERE id = $1")
            .bind(import)
            .fetch_one(&cluster.pool)
            .await
            .unwrap();
    assert_eq!(
        counted,
        (changed as i64, 0, 0),
        "the dry run: changed, errors, unknown"
    );
    let apply = lb
        .call_json("apply_import", json!({"id": import}), Some(&admin))
        .await;
    assert_eq!(apply.status, 200, "{}", apply.body);
    let (holder, took) = cluster.claimed("import_tasks", import, "applying").await;
    assert!(took < Duration::from_secs(2), "Apply claimed in {took:?}");
    let victim = cluster.instance_of(holder).expect("held by an instance");
    let apply_took_over = cluster
        .kill_and_await(victim, "import_tasks", import, ["applied", "failed"])
        .await;
    // whole, and once: every channel changed, one audit entry each
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM channels WHERE keywords = '[\"scale-takeover\"]'")
            .fetch_one(&cluster.pool)
            .await
            .unwrap();
    assert_eq!(n as usize, changed, "every channel of the Apply changed");
    let entries: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'channel_imported'")
            .fetch_one(&cluster.pool)
            .await
            .unwrap();
    assert_eq!(
        entries as usize, changed,
        "one audit entry per channel: applied once"
    );
    cluster.restart(victim).await;

    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_load(&load, workers).await;
    let sent = load.sent.load(Ordering::Relaxed);
    let failed = load.failed.lock().unwrap().len();
    let stored = assert_stored_once(&cluster, &load, "kill").await;
    eprintln!(
        "kill -9 twice: {sent} requests sent, {failed} failed (each failed delivery sent again: {} redeliveries), {stored} deliveries stored once, 0 lost, 0 duplicated; export finished {:.1} s and Apply of {changed} channels {:.1} s after their holder was killed; tasks claimed in {took:?} (busy instance's export by another in {took_elsewhere:?})",
        load.redelivered.load(Ordering::Relaxed),
        export_took_over.as_secs_f64(),
        apply_took_over.as_secs_f64(),
    );
}
