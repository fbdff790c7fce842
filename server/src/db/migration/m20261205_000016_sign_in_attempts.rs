//! Migration `m20261205_000016_sign_in_attempts`: failed sign-ins, counted in the database so
//! that every instance behind a load balancer counts the same ones.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per key an attempt counts against (its address, and its username unless the
/// browser is known): reserved before the password is checked, deleted again on success, and
/// forgotten once older than the window.
#[derive(Iden)]
enum SignInAttempts {
    Table,
    Id,
    /// `a:` and the address (an IPv6 client by its /64), or `u:` and the SHA-256 (hex) of the
    /// username as counted.
    Key,
    /// The attempt the row belongs to (both of its rows carry the same).
    Attempt,
    /// When it was reserved, in milliseconds since the Unix epoch.
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SignInAttempts as S;
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
                    .col(ColumnDef::new(S::Key).string_len(80).not_null())
                    .col(ColumnDef::new(S::Attempt).big_integer().not_null())
                    .col(ColumnDef::new(S::At).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_sign_in_attempts_key", vec![S::Key, S::At]),
            ("idx_sign_in_attempts_at", vec![S::At]),
            ("idx_sign_in_attempts_attempt", vec![S::Attempt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(S::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignInAttempts::Table).to_owned())
            .await
    }
}
