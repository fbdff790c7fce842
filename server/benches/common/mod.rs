//! What the benchmarks share: a server configuration on a temporary SQLite database, the
//! process's resident memory, a channel to deliver webhooks to and `wrk` to deliver them.
// each benchmark uses a part of this
#![allow(dead_code)]

use app::domain::channel::{ChannelDraft, ValidationContext};
use app::domain::worktime::SegmentInput;
use app::domain::{AccessCode, NewPassword, SkillQueueName, TenantName, TrustPrefix, Username};
use app::ports::Tenants;
use server::config::{Config, parse_public_url};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

/// A configuration on `dir/bench.db`, serving on `addr` (127.0.0.1:3000 when the benchmark
/// serves no HTTP).
pub fn config(dir: &Path, addr: Option<SocketAddr>) -> Config {
    let addr = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
    Config {
        database_url: format!("sqlite://{}/bench.db", dir.display()),
        public_url: parse_public_url(&format!("http://{addr}")).expect("url"),
        public_ca: Vec::new(),
        trust_forwarded_for: false,
        previous_master_keys: None,
        limits: server::config::Limits::default(),
        inspector: env!("CARGO_BIN_EXE_switchboard").into(),
        audit_retention_days: 365,
        traffic_retention_days: 30,
        export_lease: server::config::DEFAULT_EXPORT_LEASE,
        import_lease: server::imports::DEFAULT_LEASE,
        metrics_addr: None,
        log_format: server::config::LogFormat::Text,
        smtp: None,
        master_key: Some("42".repeat(32)),
        data_dir: dir.to_path_buf(),
        leptos: leptos::config::LeptosOptions::builder()
            .output_name("switchboard")
            .site_addr(addr)
            .build(),
    }
}

/// A `/proc/self/status` figure in KiB (`VmRSS:`, `VmHWM:`).
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak-RSS mark (Linux: clear_refs 5); answers whether it could.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub const DURATION: &str = "10s";
pub const CONNECTIONS: &str = "16";

pub struct Run {
    pub rps: f64,
    pub p50: String,
    pub p99: String,
    pub non_2xx: u64,
    pub requests: u64,
}

/// `wrk` for `DURATION` with `CONNECTIONS` connections on `url`, with a Lua `script`.
pub fn wrk(url: &str, script: Option<&str>) -> Run {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c", CONNECTIONS, "-d", DURATION, "--latency"]);
    if let Some(s) = script {
        cmd.args(["-s", s]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("run wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let find = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let non_2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Run {
        rps: find("Requests/sec:").parse().unwrap_or(0.0),
        p50: find("50%"),
        p99: find("99%"),
        non_2xx,
        requests,
    }
}

/// The tenant "Bench", administrator `bench-admin` / `bench-password`; answers its id.
pub async fn bench_tenant(state: &server::state::AppState) -> i64 {
    state
        .accounts
        .create(
            &app::ports::Actor::operator("bench"),
            &TenantName::parse("Bench").expect("name"),
            &Username::parse("bench-admin").expect("user"),
            &NewPassword::parse("bench-password").expect("password"),
        )
        .await
        .expect("tenant")
}

/// A tenant "Bench" with one infobip channel (Webhook Password `bench-hook-1`), made through
/// the ports of `state`; answers the channel's message URL.
pub async fn infobip_channel(state: &server::state::AppState) -> String {
    let tenant = bench_tenant(state).await;
    state
        .ports
        .trustlist
        .add(
            &app::ports::Actor::operator("bench"),
            &TrustPrefix::parse("https://api.infobip.com").expect("prefix"),
            None,
            false,
        )
        .await
        .expect("trust");
    let queue = state
        .ports
        .skill_queues
        .create(
            &app::ports::Actor::operator("bench"),
            tenant,
            &SkillQueueName::parse("Care").expect("queue"),
            &AccessCode::parse("1").expect("code"),
        )
        .await
        .expect("queue");
    let draft = ChannelDraft {
        provider: "infobip".into(),
        name: "wa_bench".into(),
        skill_queue_id: queue.to_string(),
        workday: vec![SegmentInput::new("09:00", "18:00")],
        non_workday: vec![SegmentInput::new("09:00", "18:00")],
        phone_number: "+4915112345678".into(),
        username: "u".into(),
        password: "p".into(),
        base_url: "https://api.infobip.com".into(),
        account_key: "k".into(),
        webhook_password: "bench-hook-1".into(),
        ..ChannelDraft::default()
    };
    let context: ValidationContext = state
        .ports
        .channels
        .validation_context(tenant, None)
        .await
        .expect("context");
    let valid = draft.validate(&context).expect("valid channel");
    let id = state
        .ports
        .channels
        .create(&app::ports::Actor::operator("bench"), tenant, &valid)
        .await
        .expect("channel");
    state
        .ports
        .channels
        .integration(tenant, id)
        .await
        .expect("integration")
        .message_url
        .expect("message url")
}

/// A `wrk` script in `dir` that delivers infobip messages to the bench channel, each with a new
/// message id starting `prefix`.
pub fn infobip_script(dir: &Path, prefix: &str) -> String {
    let script = dir.join(format!("infobip-{prefix}.lua"));
    std::fs::write(
        &script,
        r#"
local prefix = "PREFIX"
local counter = 0
local thread_id = 0
setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
request = function()
  counter = counter + 1
  local body = '{"results":[{"messageId":"' .. prefix .. '-' .. tid .. '-' .. counter .. '","from":"4915112345678","to":"4930901820","message":{"type":"TEXT","text":"load test"}}]}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["AccountKey"] = "bench-hook-1"}, body)
end
"#
        .replace("PREFIX", prefix),
    )
    .expect("lua script");
    script.display().to_string()
}
