//! Migration `m20261128_000011_webhook_refusals`: refused webhook deliveries (one row per channel
//! and second) and when a channel was last verified.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Channels {
    Table,
    Id,
    /// When Meta last completed the verification handshake (cloud-api).
    VerifiedAt,
}

/// Deliveries a webhook URL refused: one row per channel, reason and second, counting
/// them; the newest 200 of a channel kept.
#[derive(Iden)]
enum WebhookRefusals {
    Table,
    Id,
    ChannelId,
    TenantId,
    Endpoint,
    Status,
    Reason,
    Detail,
    Source,
    ContentType,
    Size,
    Second,
    Count,
    LastAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Channels::Table)
                    .add_column(
                        ColumnDef::new(Channels::VerifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        use WebhookRefusals as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(
                        ColumnDef::new(R::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(R::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(R::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(R::Endpoint).string_len(16).not_null())
                    .col(ColumnDef::new(R::Status).integer().not_null())
                    .col(ColumnDef::new(R::Reason).string_len(32).not_null())
                    .col(ColumnDef::new(R::Detail).string_len(256).null())
                    .col(ColumnDef::new(R::Source).string_len(64).not_null())
                    .col(ColumnDef::new(R::ContentType).string_len(128).not_null())
                    .col(ColumnDef::new(R::Size).big_integer().not_null())
                    .col(ColumnDef::new(R::Second).big_integer().not_null())
                    .col(ColumnDef::new(R::Count).big_integer().not_null())
                    .col(
                        ColumnDef::new(R::LastAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_refusals_channel")
                            .from(R::Table, R::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_webhook_refusals_second")
                    .table(R::Table)
                    .col(R::ChannelId)
                    .col(R::Reason)
                    .col(R::Second)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_refusals_channel")
                    .table(R::Table)
                    .col(R::ChannelId)
                    .col(R::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookRefusals::Table).to_owned())
            .await
    }
}
