//! Migration `m20261125_000002_org`: OUs and skill queues.

use super::columns::id;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Tenants {
    Table,
    Id,
}

#[derive(Iden)]
enum Ous {
    Table,
    Id,
    TenantId,
    ParentId,
    Name,
    NameKey,
    CreatedAt,
}

#[derive(Iden)]
enum SkillQueues {
    Table,
    Id,
    TenantId,
    Name,
    NameKey,
    AccessCode,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Ous::Table)
                    .col(id(Ous::Id))
                    .col(ColumnDef::new(Ous::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(Ous::ParentId).big_integer().null())
                    .col(ColumnDef::new(Ous::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Ous::NameKey).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Ous::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ous_tenant")
                            .from(Ous::Table, Ous::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ous_parent")
                            .from(Ous::Table, Ous::ParentId)
                            .to(Ous::Table, Ous::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_ous_tenant_name")
                    .table(Ous::Table)
                    .col(Ous::TenantId)
                    .col(Ous::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ous_parent")
                    .table(Ous::Table)
                    .col(Ous::ParentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SkillQueues::Table)
                    .col(id(SkillQueues::Id))
                    .col(
                        ColumnDef::new(SkillQueues::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SkillQueues::Name).string_len(64).not_null())
                    .col(
                        ColumnDef::new(SkillQueues::NameKey)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SkillQueues::AccessCode)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SkillQueues::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_skill_queues_tenant")
                            .from(SkillQueues::Table, SkillQueues::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("uq_skill_queues_tenant_name", SkillQueues::NameKey),
            ("uq_skill_queues_tenant_code", SkillQueues::AccessCode),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SkillQueues::Table)
                        .col(SkillQueues::TenantId)
                        .col(col)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SkillQueues::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Ous::Table).to_owned())
            .await
    }
}
