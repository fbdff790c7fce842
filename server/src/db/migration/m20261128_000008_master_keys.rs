//! Migration `m20261128_000008_master_keys`: The master keys' check values (a wrong key refuses to start).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per master key that seals something in this database: its id and a constant
/// sealed with it. A start with keys that cannot open every row is refused.
#[derive(Iden)]
enum MasterKeys {
    Table,
    KeyId,
    CheckValue,
    /// `1` on the first key ever registered, NULL on the others: unique, so two instances
    /// starting at once on an empty database cannot each register a key of their own.
    Genesis,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use MasterKeys as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(
                        ColumnDef::new(K::KeyId)
                            .string_len(16)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(K::CheckValue).binary().not_null())
                    .col(ColumnDef::new(K::Genesis).integer().null().unique_key())
                    .col(
                        ColumnDef::new(K::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MasterKeys::Table).to_owned())
            .await
    }
}
