//! The integration tests through HTTP, one binary with a module per area: each test starts the
//! real router on 127.0.0.1:0 with its own fresh database (SQLite, or PostgreSQL when
//! `SWITCHBOARD_TEST_POSTGRES` names a server) and its own tenants. One binary links the server
//! once instead of once per area. Kept apart, because each needs a process of its own:
//! `tests/memory.rs` (resident memory), `tests/cli.rs` (the command line) and
//! `tests/shutdown.rs` (SIGTERM).

#[path = "../common/mod.rs"]
mod common;

mod alerts;
mod apps;
mod audit;
mod certificates;
mod channel_list;
mod channels;
mod exports;
mod first_load;
mod health;
mod hostile;
mod imports;
mod keys;
mod keystores;
mod metrics;
mod migrations;
mod org;
mod outbound;
mod request_id;
mod retention;
mod rotation;
mod security;
mod service_time;
mod system;
mod test_delivery;
mod webhooks;
