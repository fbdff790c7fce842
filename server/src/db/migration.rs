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
            Box::new(m20261125_000005_channels::Migration),
            Box::new(m20261125_000006_exports::Migration),
            Box::new(m20261125_000007_webhook_events::Migration),
            Box::new(m20261128_000008_master_keys::Migration),
            Box::new(m20261128_000009_webhook_deliveries::Migration),
            Box::new(m20261128_000010_outbound::Migration),
            Box::new(m20261128_000011_webhook_refusals::Migration),
            Box::new(m20261128_000012_health::Migration),
            Box::new(m20261128_000013_audit::Migration),
            Box::new(m20261128_000014_imports::Migration),
            Box::new(m20261204_000015_import_chunks::Migration),
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

mod m20261125_000005_channels {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000005_channels"
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
    }
    #[derive(Iden)]
    enum SkillQueues {
        Table,
        Id,
    }
    #[derive(Iden)]
    enum Certificates {
        Table,
        Id,
    }

    #[derive(Iden, Clone, Copy)]
    enum Channels {
        Table,
        Id,
        TenantId,
        Uid,
        WebhookKey,
        Name,
        NameKey,
        ChannelType,
        Provider,
        VerificationMethod,
        PhoneNumber,
        Username,
        BaseUrl,
        AppKey,
        TokenValidUntil,
        ApiKeySid,
        AccountSid,
        WebhookUser,
        AuthCertificateId,
        TrustCertificateId,
        IdentityCertificateId,
        PasswordEnc,
        AccountKeyEnc,
        AuthenticationKeyEnc,
        WebhookPasswordEnc,
        AppSecretEnc,
        AccessTokenEnc,
        ApiKeySecretEnc,
        OuId,
        SkillQueueId,
        Keywords,
        Workday,
        NonWorkday,
        NonWorkingNotification,
        LastAgentDays,
        NoReplyMinutes,
        NoReplyMessage,
        NoAgentSeconds,
        NoAgentQueueId,
        SessionTransfer,
        OfflinePrompt,
        OfflineLimitMinutes,
        RobotAccessCode,
        RobotAssistant,
        VerificationCode,
        ScenarioKey,
        Version,
        CreatedAt,
        UpdatedAt,
    }

    fn text(c: Channels, len: u32, null: bool) -> ColumnDef {
        let mut d = ColumnDef::new(c);
        d.string_len(len);
        if null {
            d.null();
        } else {
            d.not_null();
        }
        d
    }

    fn int(c: Channels) -> ColumnDef {
        ColumnDef::new(c).integer().null().to_owned()
    }

    fn blob(c: Channels) -> ColumnDef {
        ColumnDef::new(c).binary().null().to_owned()
    }

    fn fk(
        name: &str,
        from: Channels,
        to_table: impl IntoIden + 'static,
        to_col: impl IntoIden + 'static,
        action: ForeignKeyAction,
    ) -> ForeignKeyCreateStatement {
        ForeignKey::create()
            .name(name)
            .from(Channels::Table, from)
            .to(to_table, to_col)
            .on_delete(action)
            .to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use Channels as C;
            let mut t = Table::create();
            t.table(C::Table)
                .col(
                    ColumnDef::new(C::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(C::TenantId).big_integer().not_null())
                .col(text(C::Uid, 32, false))
                .col(text(C::WebhookKey, 32, false).unique_key().to_owned())
                .col(text(C::Name, 64, false))
                .col(text(C::NameKey, 64, false))
                .col(text(C::ChannelType, 16, false))
                .col(text(C::Provider, 16, false))
                .col(text(C::VerificationMethod, 8, true))
                .col(text(C::PhoneNumber, 32, true))
                .col(text(C::Username, 128, true))
                .col(ColumnDef::new(C::BaseUrl).text().not_null())
                .col(text(C::AppKey, 128, true))
                .col(text(C::TokenValidUntil, 10, true))
                .col(text(C::ApiKeySid, 34, true))
                .col(text(C::AccountSid, 34, true))
                .col(text(C::WebhookUser, 64, true))
                .col(ColumnDef::new(C::AuthCertificateId).big_integer().null())
                .col(ColumnDef::new(C::TrustCertificateId).big_integer().null())
                .col(
                    ColumnDef::new(C::IdentityCertificateId)
                        .big_integer()
                        .null(),
                )
                .col(blob(C::PasswordEnc))
                .col(blob(C::AccountKeyEnc))
                .col(blob(C::AuthenticationKeyEnc))
                .col(blob(C::WebhookPasswordEnc))
                .col(blob(C::AppSecretEnc))
                .col(blob(C::AccessTokenEnc))
                .col(blob(C::ApiKeySecretEnc))
                .col(ColumnDef::new(C::OuId).big_integer().null())
                .col(ColumnDef::new(C::SkillQueueId).big_integer().not_null())
                .col(ColumnDef::new(C::Keywords).text().not_null())
                .col(text(C::Workday, 64, false))
                .col(text(C::NonWorkday, 64, false))
                .col(ColumnDef::new(C::NonWorkingNotification).text().not_null())
                .col(int(C::LastAgentDays))
                .col(int(C::NoReplyMinutes))
                .col(ColumnDef::new(C::NoReplyMessage).text().null())
                .col(int(C::NoAgentSeconds))
                .col(ColumnDef::new(C::NoAgentQueueId).big_integer().null())
                .col(ColumnDef::new(C::SessionTransfer).boolean().not_null())
                .col(ColumnDef::new(C::OfflinePrompt).text().null())
                .col(int(C::OfflineLimitMinutes))
                .col(text(C::RobotAccessCode, 64, true))
                .col(ColumnDef::new(C::RobotAssistant).boolean().not_null())
                .col(text(C::VerificationCode, 64, true))
                .col(text(C::ScenarioKey, 64, true))
                .col(ColumnDef::new(C::Version).big_integer().not_null())
                .col(
                    ColumnDef::new(C::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(C::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(&mut fk(
                    "fk_channels_tenant",
                    C::TenantId,
                    Tenants::Table,
                    Tenants::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_channels_ou",
                    C::OuId,
                    Ous::Table,
                    Ous::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_channels_queue",
                    C::SkillQueueId,
                    SkillQueues::Table,
                    SkillQueues::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_channels_no_agent_queue",
                    C::NoAgentQueueId,
                    SkillQueues::Table,
                    SkillQueues::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_channels_auth_cert",
                    C::AuthCertificateId,
                    Certificates::Table,
                    Certificates::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_channels_trust_cert",
                    C::TrustCertificateId,
                    Certificates::Table,
                    Certificates::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_channels_identity_cert",
                    C::IdentityCertificateId,
                    Certificates::Table,
                    Certificates::Id,
                    ForeignKeyAction::Restrict,
                ));
            manager.create_table(t.to_owned()).await?;
            for (name, cols, unique) in [
                (
                    "uq_channels_tenant_name",
                    vec![C::TenantId, C::NameKey],
                    true,
                ),
                ("uq_channels_uid", vec![C::Uid], true),
                (
                    "idx_channels_tenant_updated",
                    vec![C::TenantId, C::UpdatedAt],
                    false,
                ),
                (
                    "idx_channels_tenant_provider_name",
                    vec![C::TenantId, C::Provider, C::NameKey],
                    false,
                ),
            ] {
                let mut i = Index::create();
                i.name(name).table(C::Table);
                for c in cols {
                    i.col(c);
                }
                if unique {
                    i.unique();
                }
                manager.create_index(i.to_owned()).await?;
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(Channels::Table).to_owned())
                .await
        }
    }
}

mod m20261125_000006_exports {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000006_exports"
        }
    }

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
}

mod m20261125_000007_webhook_events {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000007_webhook_events"
        }
    }

    #[derive(Iden)]
    enum Channels {
        Table,
        Id,
    }

    #[derive(Iden)]
    enum WebhookEvents {
        Table,
        Id,
        ChannelId,
        TenantId,
        Kind,
        ProviderMessageId,
        Sender,
        Recipient,
        Text,
        Status,
        StatusRank,
        Raw,
        ReceivedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use WebhookEvents as W;
            manager
                .create_table(
                    Table::create()
                        .table(W::Table)
                        .col(
                            ColumnDef::new(W::Id)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(W::ChannelId).big_integer().not_null())
                        .col(ColumnDef::new(W::TenantId).big_integer().not_null())
                        .col(ColumnDef::new(W::Kind).string_len(8).not_null())
                        .col(
                            ColumnDef::new(W::ProviderMessageId)
                                .string_len(256)
                                .not_null(),
                        )
                        .col(ColumnDef::new(W::Sender).string_len(256).not_null())
                        .col(ColumnDef::new(W::Recipient).string_len(256).not_null())
                        .col(ColumnDef::new(W::Text).text().null())
                        .col(ColumnDef::new(W::Status).string_len(64).null())
                        .col(ColumnDef::new(W::StatusRank).integer().not_null())
                        .col(ColumnDef::new(W::Raw).text().not_null())
                        .col(
                            ColumnDef::new(W::ReceivedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_webhook_events_channel")
                                .from(W::Table, W::ChannelId)
                                .to(Channels::Table, Channels::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("uq_webhook_events_message")
                        .table(W::Table)
                        .col(W::ChannelId)
                        .col(W::Kind)
                        .col(W::ProviderMessageId)
                        .unique()
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("idx_webhook_events_channel_received")
                        .table(W::Table)
                        .col(W::ChannelId)
                        .col(W::Kind)
                        .col(W::ReceivedAt)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(WebhookEvents::Table).to_owned())
                .await
        }
    }
}

mod m20261128_000008_master_keys {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000008_master_keys"
        }
    }

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
}

mod m20261128_000009_webhook_deliveries {
    use sea_orm::{ConnectionTrait, DatabaseBackend};
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000009_webhook_deliveries"
        }
    }

    #[derive(Iden)]
    enum Channels {
        Table,
        Id,
    }

    /// One request a provider made: its raw body, stored once however many events it held.
    #[derive(Iden)]
    enum WebhookDeliveries {
        Table,
        Id,
        ChannelId,
        TenantId,
        Endpoint,
        ContentType,
        Body,
        ReceivedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use WebhookDeliveries as D;
            manager
                .create_table(
                    Table::create()
                        .table(D::Table)
                        .col(
                            ColumnDef::new(D::Id)
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(D::ChannelId).big_integer().not_null())
                        .col(ColumnDef::new(D::TenantId).big_integer().not_null())
                        .col(ColumnDef::new(D::Endpoint).string_len(16).not_null())
                        .col(ColumnDef::new(D::ContentType).string_len(128).not_null())
                        .col(ColumnDef::new(D::Body).binary().not_null())
                        .col(
                            ColumnDef::new(D::ReceivedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_webhook_deliveries_channel")
                                .from(D::Table, D::ChannelId)
                                .to(Channels::Table, Channels::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("idx_webhook_deliveries_channel")
                        .table(D::Table)
                        .col(D::ChannelId)
                        .col(D::Id)
                        .to_owned(),
                )
                .await?;
            // every event names its delivery; the raw copy per event goes (each existing
            // event becomes a delivery of its own, with the same id)
            let db = manager.get_connection();
            let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
            let statements: &[&str] = if postgres {
                &[
                    "ALTER TABLE webhook_events ADD COLUMN delivery_id BIGINT NULL \
                     REFERENCES webhook_deliveries (id) ON DELETE CASCADE",
                    "INSERT INTO webhook_deliveries \
                     (id, channel_id, tenant_id, endpoint, content_type, body, received_at) \
                     SELECT id, channel_id, tenant_id, kind, 'application/octet-stream', \
                     convert_to(raw, 'UTF8'), received_at FROM webhook_events",
                    "UPDATE webhook_events SET delivery_id = id",
                    "SELECT setval(pg_get_serial_sequence('webhook_deliveries', 'id'), \
                     COALESCE((SELECT MAX(id) FROM webhook_deliveries), 0) + 1, false)",
                    "ALTER TABLE webhook_events DROP COLUMN raw",
                ]
            } else {
                &[
                    "ALTER TABLE webhook_events ADD COLUMN delivery_id INTEGER NULL \
                     REFERENCES webhook_deliveries (id) ON DELETE CASCADE",
                    "INSERT INTO webhook_deliveries \
                     (id, channel_id, tenant_id, endpoint, content_type, body, received_at) \
                     SELECT id, channel_id, tenant_id, kind, 'application/octet-stream', \
                     CAST(raw AS BLOB), received_at FROM webhook_events",
                    "UPDATE webhook_events SET delivery_id = id",
                    "ALTER TABLE webhook_events DROP COLUMN raw",
                ]
            };
            for sql in statements {
                db.execute_unprepared(sql).await?;
            }
            manager
                .create_index(
                    Index::create()
                        .name("idx_webhook_events_delivery")
                        .table(Alias::new("webhook_events"))
                        .col(Alias::new("delivery_id"))
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let db = manager.get_connection();
            db.execute_unprepared(
                "ALTER TABLE webhook_events ADD COLUMN raw TEXT NOT NULL DEFAULT ''",
            )
            .await?;
            db.execute_unprepared("DROP INDEX IF EXISTS idx_webhook_events_delivery")
                .await?;
            db.execute_unprepared("ALTER TABLE webhook_events DROP COLUMN delivery_id")
                .await?;
            manager
                .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
                .await
        }
    }
}

mod m20261128_000010_outbound {
    use sea_orm::{ConnectionTrait, DatabaseBackend};
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000010_outbound"
        }
    }

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
            let add = |table: DynIden, col: ColumnDef| {
                Table::alter().table(table).add_column(col).to_owned()
            };
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
}

mod m20261128_000011_webhook_refusals {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000011_webhook_refusals"
        }
    }

    #[derive(Iden)]
    enum Channels {
        Table,
        Id,
        /// When Meta last completed the verification handshake (cloud-api).
        VerifiedAt,
    }

    /// Deliveries a webhook URL refused: one row per channel, reason and second, counting
    /// them; the newest 200 of a channel kept.
    #[derive(Iden)]
    enum WebhookRefusals {
        Table,
        Id,
        ChannelId,
        TenantId,
        Endpoint,
        Status,
        Reason,
        Detail,
        Source,
        ContentType,
        Size,
        Second,
        Count,
        LastAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .alter_table(
                    Table::alter()
                        .table(Channels::Table)
                        .add_column(
                            ColumnDef::new(Channels::VerifiedAt)
                                .timestamp_with_time_zone()
                                .null(),
                        )
                        .to_owned(),
                )
                .await?;
            use WebhookRefusals as R;
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
                        .col(ColumnDef::new(R::ChannelId).big_integer().not_null())
                        .col(ColumnDef::new(R::TenantId).big_integer().not_null())
                        .col(ColumnDef::new(R::Endpoint).string_len(16).not_null())
                        .col(ColumnDef::new(R::Status).integer().not_null())
                        .col(ColumnDef::new(R::Reason).string_len(32).not_null())
                        .col(ColumnDef::new(R::Detail).string_len(256).null())
                        .col(ColumnDef::new(R::Source).string_len(64).not_null())
                        .col(ColumnDef::new(R::ContentType).string_len(128).not_null())
                        .col(ColumnDef::new(R::Size).big_integer().not_null())
                        .col(ColumnDef::new(R::Second).big_integer().not_null())
                        .col(ColumnDef::new(R::Count).big_integer().not_null())
                        .col(
                            ColumnDef::new(R::LastAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_webhook_refusals_channel")
                                .from(R::Table, R::ChannelId)
                                .to(Channels::Table, Channels::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("uq_webhook_refusals_second")
                        .table(R::Table)
                        .col(R::ChannelId)
                        .col(R::Reason)
                        .col(R::Second)
                        .unique()
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("idx_webhook_refusals_channel")
                        .table(R::Table)
                        .col(R::ChannelId)
                        .col(R::Id)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(WebhookRefusals::Table).to_owned())
                .await
        }
    }
}

mod m20261128_000012_health {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000012_health"
        }
    }

    /// The facts health needs that were not on the channel row, and the level kept for
    /// sorting and filtering in SQL.
    #[derive(Iden)]
    enum Channels {
        Table,
        TenantId,
        NameKey,
        /// The newest accepted and refused delivery (written by the webhook writer).
        LastAcceptedAt,
        LastRefusedAt,
        /// The newest refusal's reason code.
        LastRefusedReason,
        /// 0 OK, 1 Attention, 2 Failing.
        Health,
        /// When time alone changes the health next (a token or certificate warning or expiry).
        HealthDueAt,
    }

    #[derive(Iden)]
    enum ServiceWeekdays {
        Table,
        /// The tenant's IANA time zone, `UTC` unless set.
        TimeZone,
    }

    /// Deliveries accepted and refused per tenant and hour (the dashboard's 24 hours).
    #[derive(Iden)]
    enum WebhookCounts {
        Table,
        TenantId,
        /// Unix time / 3600.
        Hour,
        Accepted,
        Refused,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let columns = [
                ColumnDef::new(Channels::LastAcceptedAt)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
                ColumnDef::new(Channels::LastRefusedAt)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
                ColumnDef::new(Channels::LastRefusedReason)
                    .string_len(32)
                    .null()
                    .to_owned(),
                ColumnDef::new(Channels::Health)
                    .small_integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
                ColumnDef::new(Channels::HealthDueAt)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ];
            // one column per statement: SQLite alters one at a time
            for mut c in columns {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Channels::Table)
                            .add_column(&mut c)
                            .to_owned(),
                    )
                    .await?;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(ServiceWeekdays::Table)
                        .add_column(
                            ColumnDef::new(ServiceWeekdays::TimeZone)
                                .string_len(64)
                                .not_null()
                                .default("UTC"),
                        )
                        .to_owned(),
                )
                .await?;
            let db = manager.get_connection();
            // what existing channels have received; then every health is due now (the
            // sweep at start computes it)
            db.execute_unprepared(
                "UPDATE channels SET \
                 last_accepted_at = (SELECT MAX(d.received_at) FROM webhook_deliveries d WHERE d.channel_id = channels.id), \
                 last_refused_at = (SELECT MAX(r.last_at) FROM webhook_refusals r WHERE r.channel_id = channels.id), \
                 last_refused_reason = (SELECT r.reason FROM webhook_refusals r WHERE r.channel_id = channels.id ORDER BY r.id DESC LIMIT 1), \
                 health_due_at = created_at",
            )
            .await?;
            manager
                .create_index(
                    Index::create()
                        .name("idx_channels_health")
                        .table(Channels::Table)
                        .col(Channels::TenantId)
                        .col(Channels::Health)
                        .col(Channels::NameKey)
                        .to_owned(),
                )
                .await?;
            // worst first, then by name: the Health sort's default and the dashboard's list
            manager
                .create_index(
                    Index::create()
                        .name("idx_channels_health_worst")
                        .table(Channels::Table)
                        .col(Channels::TenantId)
                        .col((Channels::Health, IndexOrder::Desc))
                        .col(Channels::NameKey)
                        .to_owned(),
                )
                .await?;
            // "needs attention" in name order: walked by name, the health read from the index
            manager
                .create_index(
                    Index::create()
                        .name("idx_channels_name_health")
                        .table(Channels::Table)
                        .col(Channels::TenantId)
                        .col(Channels::NameKey)
                        .col(Channels::Health)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("idx_channels_health_due")
                        .table(Channels::Table)
                        .col(Channels::HealthDueAt)
                        .to_owned(),
                )
                .await?;
            use WebhookCounts as W;
            manager
                .create_table(
                    Table::create()
                        .table(W::Table)
                        .col(ColumnDef::new(W::TenantId).big_integer().not_null())
                        .col(ColumnDef::new(W::Hour).big_integer().not_null())
                        .col(ColumnDef::new(W::Accepted).big_integer().not_null())
                        .col(ColumnDef::new(W::Refused).big_integer().not_null())
                        .primary_key(Index::create().col(W::TenantId).col(W::Hour))
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(WebhookCounts::Table).to_owned())
                .await
        }
    }
}

mod m20261128_000013_audit {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000013_audit"
        }
    }

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
}

mod m20261128_000014_imports {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000014_imports"
        }
    }

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
}

mod m20261204_000015_import_chunks {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261204_000015_import_chunks"
        }
    }

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
}
