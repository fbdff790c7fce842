//! Migration `m20261207_000021_apps`: APP Management. `apps` are bound to a tenant space and
//! keep their secret only as a SHA-256 hash (the secret is 256 random bits: a slow hash adds
//! nothing), with the previous hash and the end of its overlap after a reset. `app_tokens`
//! keeps the hash of each token issued and its expiry, so any instance checks a token and
//! deleting or disabling an app ends its tokens at once. Messages the send API sent name their
//! app and the caller's client reference (unique per app: a retried request sends once), and
//! an oAuth channel names the app it picked.

use super::columns::{at, fk, id, text};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum Apps {
    Table,
    Id,
    TenantId,
    Name,
    NameKey,
    AppKey,
    SecretHash,
    PreviousHash,
    PreviousUntil,
    Apis,
    Enabled,
    CreatedAt,
    SecretChangedAt,
    LastTokenAt,
    LastCallAt,
}

#[derive(Iden)]
enum AppTokens {
    Table,
    Id,
    AppId,
    TokenHash,
    Scope,
    CreatedAt,
    ExpiresAt,
}

#[derive(Iden)]
enum Tenants {
    Table,
    Id,
}

#[derive(Iden)]
enum OutboundMessages {
    Table,
    AppId,
    ClientReference,
}

#[derive(Iden)]
enum Channels {
    Table,
    AppId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Apps as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(id(A::Id))
                    .col(ColumnDef::new(A::TenantId).big_integer().not_null())
                    .col(text(A::Name, 64, false))
                    .col(text(A::NameKey, 64, false))
                    .col(text(A::AppKey, 40, false).unique_key().to_owned())
                    .col(text(A::SecretHash, 64, false))
                    .col(text(A::PreviousHash, 64, true))
                    .col(at(A::PreviousUntil, true))
                    .col(text(A::Apis, 200, false))
                    .col(
                        ColumnDef::new(A::Enabled)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(at(A::CreatedAt, false))
                    .col(at(A::SecretChangedAt, false))
                    .col(at(A::LastTokenAt, true))
                    .col(at(A::LastCallAt, true))
                    .foreign_key(&mut fk(
                        "fk_apps_tenant",
                        A::Table,
                        A::TenantId,
                        Tenants::Table,
                        Tenants::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_apps_tenant_name")
                    .table(A::Table)
                    .col(A::TenantId)
                    .col(A::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        use AppTokens as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(id(T::Id))
                    .col(ColumnDef::new(T::AppId).big_integer().not_null())
                    .col(text(T::TokenHash, 64, false).unique_key().to_owned())
                    .col(text(T::Scope, 200, false))
                    .col(at(T::CreatedAt, false))
                    .col(at(T::ExpiresAt, false))
                    .foreign_key(&mut fk(
                        "fk_app_tokens_app",
                        T::Table,
                        T::AppId,
                        A::Table,
                        A::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_tokens_app")
                    .table(T::Table)
                    .col(T::AppId)
                    .col(T::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_tokens_expiry")
                    .table(T::Table)
                    .col(T::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        use OutboundMessages as O;
        manager
            .alter_table(
                Table::alter()
                    .table(O::Table)
                    .add_column(ColumnDef::new(O::AppId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(O::Table)
                    .add_column(text(O::ClientReference, 64, true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_outbound_messages_reference")
                    .table(O::Table)
                    .col(O::AppId)
                    .col(O::ClientReference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Channels::Table)
                    .add_column(ColumnDef::new(Channels::AppId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_outbound_messages_reference")
                    .table(OutboundMessages::Table)
                    .to_owned(),
            )
            .await?;
        for (table, col) in [
            (
                OutboundMessages::Table.into_iden(),
                OutboundMessages::ClientReference.into_iden(),
            ),
            (
                OutboundMessages::Table.into_iden(),
                OutboundMessages::AppId.into_iden(),
            ),
            (Channels::Table.into_iden(), Channels::AppId.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(AppTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Apps::Table).to_owned())
            .await
    }
}
