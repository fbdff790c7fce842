//! Migration `m20261128_000013_audit`: The audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The audit log. Rows are only ever inserted (and purged after the retention period):
/// nothing in the product updates or deletes one. No foreign keys: an entry outlives the
/// account, tenant or object it names.
#[derive(Iden)]
enum AuditLog {
    Table,
    Id,
    /// Unix milliseconds.
    AtMs,
    /// The tenant space whose administrators see the entry (`NULL`: system only).
    TenantId,
    UserId,
    Actor,
    /// `Actor` in lower case, for the filter.
    ActorKey,
    Role,
    Client,
    Action,
    ObjectKind,
    ObjectId,
    ObjectName,
    /// JSON list of `FieldChange`; secrets only as "set"/"changed".
    Changes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditLog::AtMs).big_integer().not_null())
                    .col(ColumnDef::new(AuditLog::TenantId).big_integer().null())
                    .col(ColumnDef::new(AuditLog::UserId).big_integer().null())
                    .col(ColumnDef::new(AuditLog::Actor).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::ActorKey).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::Role).string_len(16).not_null())
                    .col(ColumnDef::new(AuditLog::Client).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(32).not_null())
                    .col(
                        ColumnDef::new(AuditLog::ObjectKind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::ObjectId).big_integer().null())
                    .col(
                        ColumnDef::new(AuditLog::ObjectName)
                            .string_len(256)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::Changes).text().not_null())
                    .to_owned(),
            )
            .await?;
        // newest first per tenant, per filter, and for the system administrator; the
        // retention purge walks `at_ms`
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_tenant")
                    .table(AuditLog::Table)
                    .col(AuditLog::TenantId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_tenant_action")
                    .table(AuditLog::Table)
                    .col(AuditLog::TenantId)
                    .col(AuditLog::Action)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_tenant_actor")
                    .table(AuditLog::Table)
                    .col(AuditLog::TenantId)
                    .col(AuditLog::ActorKey)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_tenant_object")
                    .table(AuditLog::Table)
                    .col(AuditLog::TenantId)
                    .col(AuditLog::ObjectKind)
                    .col(AuditLog::ObjectId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_action")
                    .table(AuditLog::Table)
                    .col(AuditLog::Action)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_actor")
                    .table(AuditLog::Table)
                    .col(AuditLog::ActorKey)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_object")
                    .table(AuditLog::Table)
                    .col(AuditLog::ObjectKind)
                    .col(AuditLog::ObjectId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::AtMs)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
