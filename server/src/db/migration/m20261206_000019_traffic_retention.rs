//! Migration `m20261206_000019_traffic_retention`: an index of the hourly delivery counts by
//! hour, so that the traffic purge reads the oldest hours first (a batch at a time) instead
//! of every tenant space's counts. Deliveries, refusals and test messages need none: their
//! ids grow with time, and the purge walks them by primary key.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_webhook_counts_hour ON webhook_counts (hour, tenant_id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_webhook_counts_hour")
            .await?;
        Ok(())
    }
}
