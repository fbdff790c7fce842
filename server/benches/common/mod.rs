//! What the benchmarks share: a server configuration on a temporary SQLite database, and the
//! process's resident memory.
// each benchmark uses a part of this
#![allow(dead_code)]

use server::config::{Config, parse_public_url};
use std::net::SocketAddr;
use std::path::Path;

/// A configuration on `dir/bench.db`, serving on `addr` (127.0.0.1:3000 when the benchmark
/// serves no HTTP).
pub fn config(dir: &Path, addr: Option<SocketAddr>) -> Config {
    let addr = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
    Config {
        database_url: format!("sqlite://{}/bench.db", dir.display()),
        public_url: parse_public_url(&format!("http://{addr}")).expect("url"),
        trust_forwarded_for: false,
        previous_master_keys: None,
        limits: server::config::Limits::default(),
        inspector: env!("CARGO_BIN_EXE_switchboard").into(),
        audit_retention_days: 365,
        export_lease: server::config::DEFAULT_EXPORT_LEASE,
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
