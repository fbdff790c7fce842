//! Migration `m20261125_000003_certificates`: Certificates and keystores.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Tenants {
    Table,
    Id,
}

#[derive(Iden)]
enum Certificates {
    Table,
    Id,
    TenantId,
    Name,
    NameKey,
    Kind,
    Subject,
    Issuer,
    NotBefore,
    NotAfter,
    Fingerprint,
    Der,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .col(
                        ColumnDef::new(Certificates::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Certificates::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Certificates::Name).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Certificates::NameKey)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Certificates::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Certificates::Subject).text().not_null())
                    .col(ColumnDef::new(Certificates::Issuer).text().not_null())
                    .col(
                        ColumnDef::new(Certificates::NotBefore)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Certificates::NotAfter)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Certificates::Fingerprint)
                            .string_len(95)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Certificates::Der).binary().not_null())
                    .col(
                        ColumnDef::new(Certificates::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certificates_tenant")
                            .from(Certificates::Table, Certificates::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_certificates_tenant_name")
                    .table(Certificates::Table)
                    .col(Certificates::TenantId)
                    .col(Certificates::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Certificates::Table).to_owned())
            .await
    }
}
