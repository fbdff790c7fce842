//! Migration `m20261128_000010_outbound`: Outbound test messages and their delivery statuses.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Certificates {
    Table,
    /// A stable public id: what a sealed private key is bound to.
    Uid,
    /// Every certificate of the file, PEM (the first is `der`).
    ChainPem,
    /// An identity's private key, sealed.
    KeyEnc,
}

#[derive(Iden)]
enum Channels {
    Table,
    Id,
    LastTestAt,
    LastTestOk,
    LastTestSummary,
}

#[derive(Iden)]
enum TrustPrefixes {
    Table,
    AllowPrivate,
}

#[derive(Iden)]
enum OutboundMessages {
    Table,
    Id,
    ChannelId,
    TenantId,
    ProviderMessageId,
    Recipient,
    Text,
    SentAt,
}

#[derive(Iden)]
enum OutboundStatuses {
    Table,
    Id,
    OutboundId,
    Status,
    StatusRank,
    Detail,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add =
            |table: DynIden, col: ColumnDef| Table::alter().table(table).add_column(col).to_owned();
        for stmt in [
            add(
                Certificates::Table.into_iden(),
                ColumnDef::new(Certificates::Uid)
                    .string_len(32)
                    .null()
                    .to_owned(),
            ),
            add(
                Certificates::Table.into_iden(),
                ColumnDef::new(Certificates::ChainPem)
                    .text()
                    .null()
                    .to_owned(),
            ),
            add(
                Certificates::Table.into_iden(),
                ColumnDef::new(Certificates::KeyEnc)
                    .binary()
                    .null()
                    .to_owned(),
            ),
            add(
                Channels::Table.into_iden(),
                ColumnDef::new(Channels::LastTestAt)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
            add(
                Channels::Table.into_iden(),
                ColumnDef::new(Channels::LastTestOk)
                    .boolean()
                    .null()
                    .to_owned(),
            ),
            add(
                Channels::Table.into_iden(),
                ColumnDef::new(Channels::LastTestSummary)
                    .text()
                    .null()
                    .to_owned(),
            ),
            add(
                TrustPrefixes::Table.into_iden(),
                ColumnDef::new(TrustPrefixes::AllowPrivate)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
        ] {
            manager.alter_table(stmt).await?;
        }
        let db = manager.get_connection();
        let backfill = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                "UPDATE certificates SET uid = md5(random()::text || id::text) WHERE uid IS NULL"
            }
            _ => "UPDATE certificates SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
        };
        db.execute_unprepared(backfill).await?;

        use OutboundMessages as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(
                        ColumnDef::new(M::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(M::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(M::TenantId).big_integer().not_null())
                    .col(
                        ColumnDef::new(M::ProviderMessageId)
                            .string_len(256)
                            .not_null(),
                    )
                    .col(ColumnDef::new(M::Recipient).string_len(64).not_null())
                    .col(ColumnDef::new(M::Text).text().not_null())
                    .col(
                        ColumnDef::new(M::SentAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbound_messages_channel")
                            .from(M::Table, M::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_outbound_messages_provider_id")
                    .table(M::Table)
                    .col(M::ChannelId)
                    .col(M::ProviderMessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        use OutboundStatuses as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(
                        ColumnDef::new(S::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(S::OutboundId).big_integer().not_null())
                    .col(ColumnDef::new(S::Status).string_len(64).not_null())
                    .col(ColumnDef::new(S::StatusRank).integer().not_null())
                    .col(ColumnDef::new(S::Detail).text().null())
                    .col(
                        ColumnDef::new(S::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbound_statuses_message")
                            .from(S::Table, S::OutboundId)
                            .to(M::Table, M::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbound_statuses_message")
                    .table(S::Table)
                    .col(S::OutboundId)
                    .col(S::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboundStatuses::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OutboundMessages::Table).to_owned())
            .await
    }
}
