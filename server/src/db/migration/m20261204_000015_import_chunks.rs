//! Migration `m20261204_000015_import_chunks`: An import's upload, kept in pieces of at most 1 MiB.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum ImportTasks {
    Table,
    Id,
}

/// An upload as it arrived, in pieces of at most 1 MiB, so that neither the upload nor its
/// reading ever holds the whole file in memory; dropped with its task.
#[derive(Iden)]
enum ImportChunks {
    Table,
    Id,
    TaskId,
    Seq,
    Data,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ImportChunks as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(
                        ColumnDef::new(C::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(C::TaskId).big_integer().not_null())
                    .col(ColumnDef::new(C::Seq).integer().not_null())
                    .col(ColumnDef::new(C::Data).binary().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_import_chunks_task")
                            .from(C::Table, C::TaskId)
                            .to(ImportTasks::Table, ImportTasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_import_chunks_task")
                    .table(C::Table)
                    .col(C::TaskId)
                    .col(C::Seq)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportChunks::Table).to_owned())
            .await
    }
}
