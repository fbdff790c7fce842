//! Migration `m20261208_000022_webhook_rotation`: a webhook credential that changes without an
//! outage, and Twilio's own signature. A channel keeps, while one of its webhook credentials
//! (Webhook Password, APP Secret or Verification Code) is being changed, the previous value
//! sealed, which one it is, when the change started and until when the previous one is still
//! accepted, and when the provider was first seen with the new one and last seen with the
//! previous one, and when the end of the overlap was recorded (early, or by the sweep after
//! it ran out). A twilio channel may keep the Auth Token of its account (sealed) to check
//! `X-Twilio-Signature`. Each accepted delivery records which credential it came with and
//! which form of the signed URL matched. `webhook_self_tests` keeps the test deliveries
//! "Send a test delivery" posted through the public address (the newest 20 of a channel): the
//! nonce the receiving endpoint finds them by, whether it saw the delivery or why it refused
//! it, and the outcome the sender saw.

use super::columns::{at, blob, fk, id, text};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Channels {
    Table,
    Id,
    RotationCredential,
    PreviousSecretEnc,
    RotationStartedAt,
    RotationUntil,
    RotationNewSeenAt,
    RotationPreviousSeenAt,
    RotationEndedAt,
    AuthTokenEnc,
}

#[derive(Iden)]
enum WebhookSelfTests {
    Table,
    Id,
    ChannelId,
    TenantId,
    Nonce,
    Endpoint,
    StartedAt,
    ReceivedAt,
    Refusal,
    RefusalDetail,
    Ok,
    Summary,
    RttMs,
}

#[derive(Iden)]
enum WebhookDeliveries {
    Table,
    Credential,
    SignedAs,
}

fn columns() -> Vec<(DynIden, ColumnDef)> {
    use Channels as C;
    use WebhookDeliveries as D;
    vec![
        (C::Table.into_iden(), text(C::RotationCredential, 32, true)),
        (C::Table.into_iden(), blob(C::PreviousSecretEnc)),
        (C::Table.into_iden(), at(C::RotationStartedAt, true)),
        (C::Table.into_iden(), at(C::RotationUntil, true)),
        (C::Table.into_iden(), at(C::RotationNewSeenAt, true)),
        (C::Table.into_iden(), at(C::RotationPreviousSeenAt, true)),
        (C::Table.into_iden(), at(C::RotationEndedAt, true)),
        (C::Table.into_iden(), blob(C::AuthTokenEnc)),
        (D::Table.into_iden(), text(D::Credential, 16, true)),
        (D::Table.into_iden(), text(D::SignedAs, 32, true)),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // one column an ALTER: SQLite adds no more at once
        for (table, mut column) in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // the sweep finds overlaps that ran out, and previous values to drop, by their end
        manager
            .create_index(
                Index::create()
                    .name("idx_channels_rotation_until")
                    .table(Channels::Table)
                    .col(Channels::RotationUntil)
                    .to_owned(),
            )
            .await?;
        use WebhookSelfTests as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(id(T::Id))
                    .col(ColumnDef::new(T::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(T::TenantId).big_integer().not_null())
                    .col(text(T::Nonce, 32, false).unique_key().to_owned())
                    .col(text(T::Endpoint, 16, false))
                    .col(at(T::StartedAt, false))
                    .col(at(T::ReceivedAt, true))
                    .col(text(T::Refusal, 32, true))
                    .col(text(T::RefusalDetail, 128, true))
                    .col(ColumnDef::new(T::Ok).boolean().null())
                    .col(text(T::Summary, 512, true))
                    .col(ColumnDef::new(T::RttMs).big_integer().null())
                    .foreign_key(&mut fk(
                        "fk_webhook_self_tests_channel",
                        T::Table,
                        T::ChannelId,
                        Channels::Table,
                        Channels::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_self_tests_channel")
                    .table(T::Table)
                    .col(T::ChannelId)
                    .col(T::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_channels_rotation_until")
                    .table(Channels::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookSelfTests::Table).to_owned())
            .await?;
        for (table, column) in columns().into_iter().rev() {
            let name = column.get_column_name();
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new(name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
