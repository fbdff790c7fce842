//! Migration `m20261125_000005_channels`: Channels, one row per channel with every provider's fields.

use super::columns::{blob, fk, int, text};
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
                C::Table,
                C::TenantId,
                Tenants::Table,
                Tenants::Id,
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "fk_channels_ou",
                C::Table,
                C::OuId,
                Ous::Table,
                Ous::Id,
                ForeignKeyAction::Restrict,
            ))
            .foreign_key(&mut fk(
                "fk_channels_queue",
                C::Table,
                C::SkillQueueId,
                SkillQueues::Table,
                SkillQueues::Id,
                ForeignKeyAction::Restrict,
            ))
            .foreign_key(&mut fk(
                "fk_channels_no_agent_queue",
                C::Table,
                C::NoAgentQueueId,
                SkillQueues::Table,
                SkillQueues::Id,
                ForeignKeyAction::Restrict,
            ))
            .foreign_key(&mut fk(
                "fk_channels_auth_cert",
                C::Table,
                C::AuthCertificateId,
                Certificates::Table,
                Certificates::Id,
                ForeignKeyAction::Restrict,
            ))
            .foreign_key(&mut fk(
                "fk_channels_trust_cert",
                C::Table,
                C::TrustCertificateId,
                Certificates::Table,
                Certificates::Id,
                ForeignKeyAction::Restrict,
            ))
            .foreign_key(&mut fk(
                "fk_channels_identity_cert",
                C::Table,
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
