//! Schema migrations, run at every start (and by `switchboard migrate`): one file per
//! migration, named as databases recorded it (`DeriveMigrationName` takes the file's name, so
//! a file is never renamed), and the column helpers new migrations share (`columns`).

use sea_orm_migration::prelude::*;

mod columns;
mod m20261125_000001_accounts;
mod m20261125_000002_org;
mod m20261125_000003_certificates;
mod m20261125_000004_service_time;
mod m20261125_000005_channels;
mod m20261125_000006_exports;
mod m20261125_000007_webhook_events;
mod m20261128_000008_master_keys;
mod m20261128_000009_webhook_deliveries;
mod m20261128_000010_outbound;
mod m20261128_000011_webhook_refusals;
mod m20261128_000012_health;
mod m20261128_000013_audit;
mod m20261128_000014_imports;
mod m20261204_000015_import_chunks;
mod m20261205_000016_sign_in_attempts;
mod m20261205_000017_channel_search;
mod m20261205_000018_token_expiry;
mod m20261206_000019_traffic_retention;
mod m20261206_000020_alerts;
mod m20261207_000021_apps;
mod m20261208_000022_webhook_rotation;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_org::Migration),
            Box::new(m20261125_000003_certificates::Migration),
            Box::new(m20261125_000004_service_time::Migration),
            Box::new(m20261125_000005_channels::Migration),
            Box::new(m20261125_000006_exports::Migration),
            Box::new(m20261125_000007_webhook_events::Migration),
            Box::new(m20261128_000008_master_keys::Migration),
            Box::new(m20261128_000009_webhook_deliveries::Migration),
            Box::new(m20261128_000010_outbound::Migration),
            Box::new(m20261128_000011_webhook_refusals::Migration),
            Box::new(m20261128_000012_health::Migration),
            Box::new(m20261128_000013_audit::Migration),
            Box::new(m20261128_000014_imports::Migration),
            Box::new(m20261204_000015_import_chunks::Migration),
            Box::new(m20261205_000016_sign_in_attempts::Migration),
            Box::new(m20261205_000017_channel_search::Migration),
            Box::new(m20261205_000018_token_expiry::Migration),
            Box::new(m20261206_000019_traffic_retention::Migration),
            Box::new(m20261206_000020_alerts::Migration),
            Box::new(m20261207_000021_apps::Migration),
            Box::new(m20261208_000022_webhook_rotation::Migration),
        ]
    }
}
