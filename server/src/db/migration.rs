//! Schema migrations, run at every start (and by `switchboard migrate`).

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_org::Migration),
            Box::new(m20261125_000003_certificates::Migration),
            Box::new(m20261125_000004_service_time::Migration),
        ]
    }
}

mod m20261125_000001_accounts {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000001_accounts"
        }
    }

    #[derive(Iden)]
    enum Tenants {
        Table,
        Id,
        Name,
        NameKey,
        Disabled,
        CreatedAt,
    }

    #[derive(Iden)]
    enum Users {
        Table,
        Id,
        Username,
        PasswordHash,
        Role,
        TenantId,
        SessionEpoch,
        CreatedAt,
    }

    #[derive(Iden)]
    enum SetupTokens {
        Table,
        TokenDigest,
        CreatedAt,
    }

    #[derive(Iden)]
    enum TrustPrefixes {
        Table,
        Id,
        Prefix,
        TenantId,
        ScopeKey,
        CreatedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Tenants::Table)
                        .col(
                            ColumnDef::new(Tenants::Id)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(Tenants::Name).string_len(64).not_null())
                        .col(
                            ColumnDef::new(Tenants::NameKey)
                                .string_len(64)
                                .not_null()
                                .unique_key(),
                        )
                        .col(
                            ColumnDef::new(Tenants::Disabled)
                                .boolean()
                                .not_null()
                                .default(false),
                        )
                        .col(
                            ColumnDef::new(Tenants::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Users::Table)
                        .col(
                            ColumnDef::new(Users::Id)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(Users::Username)
                                .string_len(64)
                                .not_null()
                                .unique_key(),
                        )
                        .col(ColumnDef::new(Users::PasswordHash).string().not_null())
                        .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                        .col(ColumnDef::new(Users::TenantId).big_integer().null())
                        .col(
                            ColumnDef::new(Users::SessionEpoch)
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .col(
                            ColumnDef::new(Users::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_users_tenant")
                                .from(Users::Table, Users::TenantId)
                                .to(Tenants::Table, Tenants::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("idx_users_tenant")
                        .table(Users::Table)
                        .col(Users::TenantId)
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(SetupTokens::Table)
                        .col(
                            ColumnDef::new(SetupTokens::TokenDigest)
                                .string_len(64)
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(SetupTokens::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(TrustPrefixes::Table)
                        .col(
                            ColumnDef::new(TrustPrefixes::Id)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(TrustPrefixes::Prefix)
                                .string_len(512)
                                .not_null(),
                        )
                        .col(ColumnDef::new(TrustPrefixes::TenantId).big_integer().null())
                        .col(
                            ColumnDef::new(TrustPrefixes::ScopeKey)
                                .string_len(32)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(TrustPrefixes::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_trust_prefixes_tenant")
                                .from(TrustPrefixes::Table, TrustPrefixes::TenantId)
                                .to(Tenants::Table, Tenants::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("uq_trust_prefixes_scope_prefix")
                        .table(TrustPrefixes::Table)
                        .col(TrustPrefixes::ScopeKey)
                        .col(TrustPrefixes::Prefix)
                        .unique()
                        .to_owned(),
                )
                .await?;
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for table in [
                TrustPrefixes::Table.into_iden(),
                SetupTokens::Table.into_iden(),
                Users::Table.into_iden(),
                Tenants::Table.into_iden(),
            ] {
                manager
                    .drop_table(Table::drop().table(table).to_owned())
                    .await?;
            }
            Ok(())
        }
    }
}

mod m20261125_000002_org {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000002_org"
        }
    }

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

    fn id<T: IntoIden>(col: T) -> ColumnDef {
        ColumnDef::new(col)
            .big_integer()
            .not_null()
            .auto_increment()
            .primary_key()
            .to_owned()
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
}

mod m20261125_000003_certificates {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000003_certificates"
        }
    }

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
}

mod m20261125_000004_service_time {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000004_service_time"
        }
    }

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
}
