//! The Switchboard server: configuration, database, HTTP middleware and the router. The binary
//! in `main.rs` is a thin CLI over this library, and the integration tests use it directly.

pub mod alerts;
pub mod apiaccess;
pub mod certificates;
pub mod child;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod exports;
pub mod http;
pub mod imports;
pub mod jobs;
pub mod metrics;
pub mod providers;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod webhooks;
