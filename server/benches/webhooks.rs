//! Webhook load: starts the real server on loopback with a fresh SQLite database, then drives
//! it with `wrk` (a real HTTP load generator, bounded in time) — infobip message deliveries
//! with the AccountKey header and a new message id per request — and, in the same run,
//! `/healthz` as the floor. Prints accepted webhooks per second, latencies and the ratio.
//!
//! Needs `wrk` on PATH (`apt-get install wrk`). `cargo bench -p server --bench webhooks`.

mod common;

use app::domain::channel::{ChannelDraft, ValidationContext};
use app::domain::worktime::SegmentInput;
use app::domain::{AccessCode, NewPassword, SkillQueueName, TenantName, TrustPrefix, Username};
use app::ports::Tenants;
use sea_orm::{EntityTrait, PaginatorTrait};
use server::db::entities::webhook_event;
use server::startup;
use std::process::Command;

const DURATION: &str = "10s";
const CONNECTIONS: &str = "16";

struct Run {
    rps: f64,
    p50: String,
    p99: String,
    non_2xx: u64,
    requests: u64,
}

fn wrk(url: &str, script: Option<&str>) -> Run {
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

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let config = common::config(dir.path(), Some(addr));
    let state = startup::build_state(&config).await.expect("state");
    let tenant = state
        .accounts
        .create(
            &app::ports::Actor::operator("bench"),
            &TenantName::parse("Bench").expect("name"),
            &Username::parse("bench-admin").expect("user"),
            &NewPassword::parse("bench-password").expect("password"),
        )
        .await
        .expect("tenant");
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
    let url = state
        .ports
        .channels
        .integration(tenant, id)
        .await
        .expect("integration")
        .message_url
        .expect("message url");

    let conn = state.db.conn.clone();
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

    let script = dir.path().join("infobip.lua");
    std::fs::write(
        &script,
        r#"
local counter = 0
local thread_id = 0
setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
request = function()
  counter = counter + 1
  local body = '{"results":[{"messageId":"bench-' .. tid .. '-' .. counter .. '","from":"4915112345678","to":"4930901820","message":{"type":"TEXT","text":"load test"}}]}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["AccountKey"] = "bench-hook-1"}, body)
end
"#,
    )
    .expect("lua script");

    let bench_url = url.clone();
    let script_path = script.display().to_string();
    let hooks = tokio::task::spawn_blocking(move || wrk(&bench_url, Some(&script_path)))
        .await
        .expect("wrk");
    let health_url = format!("{base}/healthz");
    let health = tokio::task::spawn_blocking(move || wrk(&health_url, None))
        .await
        .expect("wrk");
    let stored = webhook_event::Entity::find()
        .count(&conn)
        .await
        .expect("count");
    println!(
        "wrk -t2 -c{CONNECTIONS} -d{DURATION} on loopback, server on SQLite (synchronous=FULL), same 2 cores:"
    );
    println!(
        "  infobip webhooks: {:>9.0} req/s  p50 {}  p99 {}  ({} requests, {} not 2xx, {} stored)",
        hooks.rps, hooks.p50, hooks.p99, hooks.requests, hooks.non_2xx, stored
    );
    println!(
        "  /healthz:         {:>9.0} req/s  p50 {}  p99 {}",
        health.rps, health.p50, health.p99
    );
    if health.rps > 0.0 {
        println!(
            "  webhooks / healthz throughput: {:.1} %",
            100.0 * hooks.rps / health.rps
        );
    }
}
