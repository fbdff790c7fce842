//! Migration `m20261206_000020_alerts`: where each tenant space's alerts go
//! (`alert_settings`), the alerts raised (`alerts`: one per transition or threshold, kept once
//! by `(tenant_id, dedupe)`), each one's deliveries to an address or the webhook with their
//! retries (`alert_sends`), and the attempts shown on the Alerts page (`alert_attempts`, the
//! last 100 of a tenant space kept).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum AlertSettings {
    Table,
    TenantId,
    Emails,
    WebhookUrl,
    WebhookSecretEnc,
    TrustCertificateId,
    Digest,
    UpdatedAt,
}

#[derive(Iden)]
enum Alerts {
    Table,
    Id,
    TenantId,
    Kind,
    Dedupe,
    ChannelId,
    Subject,
    Payload,
    CreatedAt,
}

#[derive(Iden)]
enum AlertSends {
    Table,
    Id,
    AlertId,
    TenantId,
    Via,
    Target,
    State,
    Attempts,
    NextAt,
    ClaimedUntil,
}

#[derive(Iden)]
enum AlertAttempts {
    Table,
    Id,
    TenantId,
    AlertId,
    Kind,
    Subject,
    Via,
    Target,
    Ok,
    Outcome,
    At,
}

fn id<T: Iden + 'static>(col: T) -> ColumnDef {
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
        use AlertSettings as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(
                        ColumnDef::new(S::TenantId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(S::Emails).text().not_null())
                    .col(ColumnDef::new(S::WebhookUrl).text().null())
                    .col(ColumnDef::new(S::WebhookSecretEnc).binary().null())
                    .col(ColumnDef::new(S::TrustCertificateId).big_integer().null())
                    .col(
                        ColumnDef::new(S::Digest)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(S::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        use Alerts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(id(A::Id))
                    .col(ColumnDef::new(A::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(A::Kind).string_len(24).not_null())
                    .col(ColumnDef::new(A::Dedupe).string_len(200).not_null())
                    .col(ColumnDef::new(A::ChannelId).big_integer().null())
                    .col(ColumnDef::new(A::Subject).text().not_null())
                    .col(ColumnDef::new(A::Payload).text().not_null())
                    .col(
                        ColumnDef::new(A::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_alerts_dedupe")
                    .table(A::Table)
                    .col(A::TenantId)
                    .col(A::Dedupe)
                    .unique()
                    .to_owned(),
            )
            .await?;
        use AlertSends as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(id(D::Id))
                    .col(ColumnDef::new(D::AlertId).big_integer().not_null())
                    .col(ColumnDef::new(D::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(D::Via).string_len(8).not_null())
                    .col(ColumnDef::new(D::Target).text().not_null())
                    .col(ColumnDef::new(D::State).string_len(8).not_null())
                    .col(ColumnDef::new(D::Attempts).integer().not_null())
                    .col(
                        ColumnDef::new(D::NextAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(D::ClaimedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_sends_alert")
                            .from(D::Table, D::AlertId)
                            .to(A::Table, A::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_sends_due")
                    .table(D::Table)
                    .col(D::State)
                    .col(D::NextAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_sends_tenant")
                    .table(D::Table)
                    .col(D::TenantId)
                    .col(D::State)
                    .col(D::NextAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_sends_alert")
                    .table(D::Table)
                    .col(D::AlertId)
                    .to_owned(),
            )
            .await?;
        use AlertAttempts as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(id(T::Id))
                    .col(ColumnDef::new(T::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(T::AlertId).big_integer().not_null())
                    .col(ColumnDef::new(T::Kind).string_len(24).not_null())
                    .col(ColumnDef::new(T::Subject).text().not_null())
                    .col(ColumnDef::new(T::Via).string_len(8).not_null())
                    .col(ColumnDef::new(T::Target).text().not_null())
                    .col(ColumnDef::new(T::Ok).boolean().not_null())
                    .col(ColumnDef::new(T::Outcome).text().not_null())
                    .col(ColumnDef::new(T::At).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_attempts_tenant")
                    .table(T::Table)
                    .col(T::TenantId)
                    .col(T::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AlertAttempts::Table.into_iden(),
            AlertSends::Table.into_iden(),
            Alerts::Table.into_iden(),
            AlertSettings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
