//! Migration `m20261125_000007_webhook_events`: Webhook events as they arrived.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Channels {
    Table,
    Id,
}

#[derive(Iden)]
enum WebhookEvents {
    Table,
    Id,
    ChannelId,
    TenantId,
    Kind,
    ProviderMessageId,
    Sender,
    Recipient,
    Text,
    Status,
    StatusRank,
    Raw,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookEvents as W;
        manager
            .create_table(
                Table::create()
                    .table(W::Table)
                    .col(
                        ColumnDef::new(W::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(W::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(W::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(W::Kind).string_len(8).not_null())
                    .col(
                        ColumnDef::new(W::ProviderMessageId)
                            .string_len(256)
                            .not_null(),
                    )
                    .col(ColumnDef::new(W::Sender).string_len(256).not_null())
                    .col(ColumnDef::new(W::Recipient).string_len(256).not_null())
                    .col(ColumnDef::new(W::Text).text().null())
                    .col(ColumnDef::new(W::Status).string_len(64).null())
                    .col(ColumnDef::new(W::StatusRank).integer().not_null())
                    .col(ColumnDef::new(W::Raw).text().not_null())
                    .col(
                        ColumnDef::new(W::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_events_channel")
                            .from(W::Table, W::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_webhook_events_message")
                    .table(W::Table)
                    .col(W::ChannelId)
                    .col(W::Kind)
                    .col(W::ProviderMessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_events_channel_received")
                    .table(W::Table)
                    .col(W::ChannelId)
                    .col(W::Kind)
                    .col(W::ReceivedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookEvents::Table).to_owned())
            .await
    }
}
