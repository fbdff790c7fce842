//! Migration `m20261128_000009_webhook_deliveries`: Webhook deliveries: an event's raw body kept as its delivery.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Channels {
    Table,
    Id,
}

/// One request a provider made: its raw body, stored once however many events it held.
#[derive(Iden)]
enum WebhookDeliveries {
    Table,
    Id,
    ChannelId,
    TenantId,
    Endpoint,
    ContentType,
    Body,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookDeliveries as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(
                        ColumnDef::new(D::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(D::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(D::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(D::Endpoint).string_len(16).not_null())
                    .col(ColumnDef::new(D::ContentType).string_len(128).not_null())
                    .col(ColumnDef::new(D::Body).binary().not_null())
                    .col(
                        ColumnDef::new(D::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_channel")
                            .from(D::Table, D::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_channel")
                    .table(D::Table)
                    .col(D::ChannelId)
                    .col(D::Id)
                    .to_owned(),
            )
            .await?;
        // every event names its delivery; the raw copy per event goes (each existing
        // event becomes a delivery of its own, with the same id)
        let db = manager.get_connection();
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        let statements: &[&str] = if postgres {
            &[
                "ALTER TABLE webhook_events ADD COLUMN delivery_id BIGINT NULL \
                 REFERENCES webhook_deliveries (id) ON DELETE CASCADE",
                "INSERT INTO webhook_deliveries \
                 (id, channel_id, tenant_id, endpoint, content_type, body, received_at) \
                 SELECT id, channel_id, tenant_id, kind, 'application/octet-stream', \
                 convert_to(raw, 'UTF8'), received_at FROM webhook_events",
                "UPDATE webhook_events SET delivery_id = id",
                "SELECT setval(pg_get_serial_sequence('webhook_deliveries', 'id'), \
                 COALESCE((SELECT MAX(id) FROM webhook_deliveries), 0) + 1, false)",
                "ALTER TABLE webhook_events DROP COLUMN raw",
            ]
        } else {
            &[
                "ALTER TABLE webhook_events ADD COLUMN delivery_id INTEGER NULL \
                 REFERENCES webhook_deliveries (id) ON DELETE CASCADE",
                "INSERT INTO webhook_deliveries \
                 (id, channel_id, tenant_id, endpoint, content_type, body, received_at) \
                 SELECT id, channel_id, tenant_id, kind, 'application/octet-stream', \
                 CAST(raw AS BLOB), received_at FROM webhook_events",
                "UPDATE webhook_events SET delivery_id = id",
                "ALTER TABLE webhook_events DROP COLUMN raw",
            ]
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_events_delivery")
                    .table(Alias::new("webhook_events"))
                    .col(Alias::new("delivery_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE webhook_events ADD COLUMN raw TEXT NOT NULL DEFAULT ''")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_webhook_events_delivery")
            .await?;
        db.execute_unprepared("ALTER TABLE webhook_events DROP COLUMN delivery_id")
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await
    }
}
