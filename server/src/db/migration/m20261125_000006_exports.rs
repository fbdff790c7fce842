//! Migration `m20261125_000006_exports`: Export tasks and their files.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Tenants {
    Table,
    Id,
}

#[derive(Iden)]
enum ExportTasks {
    Table,
    Id,
    TenantId,
    Status,
    ChannelIds,
    RecordCount,
    FileCount,
    FileName,
    ContentType,
    Artifact,
    Error,
    Attempts,
    ClaimedBy,
    ClaimedUntil,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ExportTasks as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(
                        ColumnDef::new(E::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(E::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(E::Status).string_len(16).not_null())
                    .col(ColumnDef::new(E::ChannelIds).text().null())
                    .col(ColumnDef::new(E::RecordCount).big_integer().not_null())
                    .col(ColumnDef::new(E::FileCount).big_integer().not_null())
                    .col(ColumnDef::new(E::FileName).string_len(64).null())
                    .col(ColumnDef::new(E::ContentType).string_len(96).null())
                    .col(ColumnDef::new(E::Artifact).binary().null())
                    .col(ColumnDef::new(E::Error).text().null())
                    .col(ColumnDef::new(E::Attempts).integer().not_null())
                    .col(ColumnDef::new(E::ClaimedBy).string_len(64).null())
                    .col(
                        ColumnDef::new(E::ClaimedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(E::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(E::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_export_tasks_tenant")
                            .from(E::Table, E::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_export_tasks_tenant", vec![E::TenantId, E::Id]),
            ("idx_export_tasks_status", vec![E::Status, E::Id]),
        ] {
            let mut i = Index::create();
            i.name(name).table(E::Table);
            for c in cols {
                i.col(c);
            }
            manager.create_index(i.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ExportTasks::Table).to_owned())
            .await
    }
}
