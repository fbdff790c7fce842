//! Migration `m20261125_000004_service_time`: Service time: workdays and non-working dates.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Tenants {
    Table,
    Id,
}

#[derive(Iden)]
enum ServiceWeekdays {
    Table,
    TenantId,
    Workdays,
}

#[derive(Iden)]
enum NonWorkingDates {
    Table,
    Id,
    TenantId,
    Date,
    Name,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceWeekdays::Table)
                    .col(
                        ColumnDef::new(ServiceWeekdays::TenantId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ServiceWeekdays::Workdays)
                            .string_len(7)
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_service_weekdays_tenant")
                            .from(ServiceWeekdays::Table, ServiceWeekdays::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NonWorkingDates::Table)
                    .col(
                        ColumnDef::new(NonWorkingDates::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(NonWorkingDates::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NonWorkingDates::Date)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NonWorkingDates::Name)
                            .string_len(64)
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_non_working_dates_tenant")
                            .from(NonWorkingDates::Table, NonWorkingDates::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_non_working_dates_tenant_date")
                    .table(NonWorkingDates::Table)
                    .col(NonWorkingDates::TenantId)
                    .col(NonWorkingDates::Date)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NonWorkingDates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ServiceWeekdays::Table).to_owned())
            .await
    }
}
