//! Migration `m20261205_000018_token_expiry`: an index of access tokens' expiry dates, so that
//! counting the tokens that expire within 30 days (for an operator's metrics) reads only those,
//! whatever the number of channels. Partial: most channels hold no token.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_channels_token_valid_until ON channels (token_valid_until) \
                 WHERE token_valid_until IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_channels_token_valid_until")
            .await?;
        Ok(())
    }
}
