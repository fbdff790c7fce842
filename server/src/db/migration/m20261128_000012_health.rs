//! Migration `m20261128_000012_health`: Channel health, webhook counts and the service time zone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The facts health needs that were not on the channel row, and the level kept for
/// sorting and filtering in SQL.
#[derive(Iden)]
enum Channels {
    Table,
    TenantId,
    NameKey,
    /// The newest accepted and refused delivery (written by the webhook writer).
    LastAcceptedAt,
    LastRefusedAt,
    /// The newest refusal's reason code.
    LastRefusedReason,
    /// 0 OK, 1 Attention, 2 Failing.
    Health,
    /// When time alone changes the health next (a token or certificate warning or expiry).
    HealthDueAt,
}

#[derive(Iden)]
enum ServiceWeekdays {
    Table,
    /// The tenant's IANA time zone, `UTC` unless set.
    TimeZone,
}

/// Deliveries accepted and refused per tenant and hour (the dashboard's 24 hours).
#[derive(Iden)]
enum WebhookCounts {
    Table,
    TenantId,
    /// Unix time / 3600.
    Hour,
    Accepted,
    Refused,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Channels::LastAcceptedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Channels::LastRefusedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Channels::LastRefusedReason)
                .string_len(32)
                .null()
                .to_owned(),
            ColumnDef::new(Channels::Health)
                .small_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Channels::HealthDueAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ];
        // one column per statement: SQLite alters one at a time
        for mut c in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Channels::Table)
                        .add_column(&mut c)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceWeekdays::Table)
                    .add_column(
                        ColumnDef::new(ServiceWeekdays::TimeZone)
                            .string_len(64)
                            .not_null()
                            .default("UTC"),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // what existing channels have received; then every health is due now (the
        // sweep at start computes it)
        db.execute_unprepared(
            "UPDATE channels SET \
             last_accepted_at = (SELECT MAX(d.received_at) FROM webhook_deliveries d WHERE d.channel_id = channels.id), \
             last_refused_at = (SELECT MAX(r.last_at) FROM webhook_refusals r WHERE r.channel_id = channels.id), \
             last_refused_reason = (SELECT r.reason FROM webhook_refusals r WHERE r.channel_id = channels.id ORDER BY r.id DESC LIMIT 1), \
             health_due_at = created_at",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_channels_health")
                    .table(Channels::Table)
                    .col(Channels::TenantId)
                    .col(Channels::Health)
                    .col(Channels::NameKey)
                    .to_owned(),
            )
            .await?;
        // worst first, then by name: the Health sort's default and the dashboard's list
        manager
            .create_index(
                Index::create()
                    .name("idx_channels_health_worst")
                    .table(Channels::Table)
                    .col(Channels::TenantId)
                    .col((Channels::Health, IndexOrder::Desc))
                    .col(Channels::NameKey)
                    .to_owned(),
            )
            .await?;
        // "needs attention" in name order: walked by name, the health read from the index
        manager
            .create_index(
                Index::create()
                    .name("idx_channels_name_health")
                    .table(Channels::Table)
                    .col(Channels::TenantId)
                    .col(Channels::NameKey)
                    .col(Channels::Health)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_channels_health_due")
                    .table(Channels::Table)
                    .col(Channels::HealthDueAt)
                    .to_owned(),
            )
            .await?;
        use WebhookCounts as W;
        manager
            .create_table(
                Table::create()
                    .table(W::Table)
                    .col(ColumnDef::new(W::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(W::Hour).big_integer().not_null())
                    .col(ColumnDef::new(W::Accepted).big_integer().not_null())
                    .col(ColumnDef::new(W::Refused).big_integer().not_null())
                    .primary_key(Index::create().col(W::TenantId).col(W::Hour))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookCounts::Table).to_owned())
            .await
    }
}
