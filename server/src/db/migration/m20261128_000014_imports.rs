//! Migration `m20261128_000014_imports`: Import tasks and their checked rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Tenants {
    Table,
    Id,
}

/// An uploaded edited export: checked (dry run) and, on request, applied by the worker.
#[derive(Iden)]
enum ImportTasks {
    Table,
    Id,
    TenantId,
    /// `checking`, `checked`, `applying`, `applied`, `failed`
    Status,
    FileName,
    /// The upload, kept until the dry run has read it.
    File,
    RowsRead,
    Unchanged,
    Changed,
    Errors,
    Unknown,
    /// Why the whole file was refused or the task failed.
    Error,
    /// JSON `Actor` of who asked for Apply (the worker records the entries as them).
    AppliedBy,
    Attempts,
    ClaimedBy,
    ClaimedUntil,
    CreatedAt,
    FinishedAt,
}

/// One row of an import's dry run, in sheet order.
#[derive(Iden)]
enum ImportRows {
    Table,
    Id,
    TaskId,
    Seq,
    /// The zip member, for a zip of exports.
    File,
    RowNumber,
    ChannelName,
    ChannelId,
    /// The channel's version the dry run saw: Apply refuses when it moved.
    Version,
    /// `unchanged`, `changed`, `error`, `unknown`
    Outcome,
    /// JSON: the field diff (changed) or the cell errors (error).
    Details,
    /// JSON `ChannelDraft` to save (changed rows; no secret is in it).
    Draft,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ImportRows as R;
        use ImportTasks as T;
        let count = |c: T| {
            ColumnDef::new(c)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(
                        ColumnDef::new(T::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(T::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(T::Status).string_len(16).not_null())
                    .col(ColumnDef::new(T::FileName).string_len(256).not_null())
                    .col(ColumnDef::new(T::File).binary().null())
                    .col(count(T::RowsRead))
                    .col(count(T::Unchanged))
                    .col(count(T::Changed))
                    .col(count(T::Errors))
                    .col(count(T::Unknown))
                    .col(ColumnDef::new(T::Error).text().null())
                    .col(ColumnDef::new(T::AppliedBy).text().null())
                    .col(ColumnDef::new(T::Attempts).integer().not_null())
                    .col(ColumnDef::new(T::ClaimedBy).string_len(64).null())
                    .col(
                        ColumnDef::new(T::ClaimedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(T::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(T::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_import_tasks_tenant")
                            .from(T::Table, T::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
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
                    .col(ColumnDef::new(R::TaskId).big_integer().not_null())
                    .col(ColumnDef::new(R::Seq).big_integer().not_null())
                    .col(ColumnDef::new(R::File).string_len(256).null())
                    .col(ColumnDef::new(R::RowNumber).big_integer().not_null())
                    .col(ColumnDef::new(R::ChannelName).text().not_null())
                    .col(ColumnDef::new(R::ChannelId).big_integer().null())
                    .col(ColumnDef::new(R::Version).big_integer().null())
                    .col(ColumnDef::new(R::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(R::Details).text().not_null())
                    .col(ColumnDef::new(R::Draft).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_import_rows_task")
                            .from(R::Table, R::TaskId)
                            .to(T::Table, T::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, table, cols, unique) in [
            (
                "idx_import_tasks_tenant",
                T::Table.to_string(),
                vec!["tenant_id", "id"],
                false,
            ),
            (
                "idx_import_tasks_status",
                T::Table.to_string(),
                vec!["status", "id"],
                false,
            ),
            // a row is written once: a second writer of the same task fails
            (
                "idx_import_rows_task",
                R::Table.to_string(),
                vec!["task_id", "seq"],
                true,
            ),
            (
                "idx_import_rows_outcome",
                R::Table.to_string(),
                vec!["task_id", "outcome", "seq"],
                false,
            ),
        ] {
            let mut i = Index::create();
            i.name(name).table(Alias::new(table));
            if unique {
                i.unique();
            }
            for c in cols {
                i.col(Alias::new(c));
            }
            manager.create_index(i.to_owned()).await?;
        }
        // one import per tenant space checked or applied at a time, even when two uploads
        // arrive together (the same statement on SQLite and PostgreSQL)
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_import_tasks_running ON import_tasks (tenant_id) \
                 WHERE status IN ('checking', 'applying')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportRows::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ImportTasks::Table).to_owned())
            .await
    }
}
