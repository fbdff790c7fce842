//! Migration `m20261205_000017_channel_search`: what keeps the channel list as fast at a
//! million channels as at a thousand.
//!
//! - An index of channel names for substring search: on SQLite an FTS5 table with the trigram
//!   tokenizer (`channel_names`, contentless, kept in step by triggers), on PostgreSQL
//!   `pg_trgm` with a GIN index on `name_key`.
//! - Kept counts of channels by tenant space, provider and health level (`channel_tallies`):
//!   the triggers on `channels` append a `+1`/`-1` row, never update one (no row every writer
//!   waits for, no lock order to get wrong), and `db::tallies::compact` folds them back into
//!   one row per group.
//! - An index for the provider sort's descending order (names ascending within a provider).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Iden)]
enum ChannelTallies {
    Table,
    Id,
    TenantId,
    Provider,
    Health,
    /// +1 or -1 as written by the triggers; the sum of a group once compacted.
    N,
}

const SQLITE: &[&str] = &[
    // `tenant` is `#<tenant id>#`, matched as a phrase, so that a search stays inside one tenant
    // space in the index; `case_sensitive 1`: `name_key` is lower case already and a search is
    // lowered the same way, so a match is exactly a substring (no folding of its own)
    "CREATE VIRTUAL TABLE channel_names USING fts5(tenant, name, content='', contentless_delete=1, tokenize='trigram case_sensitive 1')",
    "INSERT INTO channel_names (rowid, tenant, name) SELECT id, '#' || tenant_id || '#', name_key FROM channels",
    "CREATE TRIGGER channel_names_insert AFTER INSERT ON channels BEGIN \
     INSERT INTO channel_names (rowid, tenant, name) VALUES (new.id, '#' || new.tenant_id || '#', new.name_key); END",
    "CREATE TRIGGER channel_names_delete AFTER DELETE ON channels BEGIN \
     DELETE FROM channel_names WHERE rowid = old.id; END",
    "CREATE TRIGGER channel_names_update AFTER UPDATE OF name_key, tenant_id ON channels \
     WHEN old.name_key IS NOT new.name_key OR old.tenant_id IS NOT new.tenant_id BEGIN \
     DELETE FROM channel_names WHERE rowid = old.id; \
     INSERT INTO channel_names (rowid, tenant, name) VALUES (new.id, '#' || new.tenant_id || '#', new.name_key); END",
    "CREATE TRIGGER channel_tallies_insert AFTER INSERT ON channels BEGIN \
     INSERT INTO channel_tallies (tenant_id, provider, health, n) VALUES (new.tenant_id, new.provider, new.health, 1); END",
    "CREATE TRIGGER channel_tallies_delete AFTER DELETE ON channels BEGIN \
     INSERT INTO channel_tallies (tenant_id, provider, health, n) VALUES (old.tenant_id, old.provider, old.health, -1); END",
    "CREATE TRIGGER channel_tallies_update AFTER UPDATE OF tenant_id, provider, health ON channels \
     WHEN old.tenant_id IS NOT new.tenant_id OR old.provider IS NOT new.provider OR old.health IS NOT new.health BEGIN \
     INSERT INTO channel_tallies (tenant_id, provider, health, n) VALUES (old.tenant_id, old.provider, old.health, -1); \
     INSERT INTO channel_tallies (tenant_id, provider, health, n) VALUES (new.tenant_id, new.provider, new.health, 1); END",
];

const POSTGRES: &[&str] = &[
    // trusted since PostgreSQL 13: the database's owner may create it
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX idx_channels_name_trgm ON channels USING gin (name_key gin_trgm_ops)",
    // inserts and deletes tallied once per statement (a batch of 500 is one row per group)
    "CREATE FUNCTION channel_tallies_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     INSERT INTO channel_tallies (tenant_id, provider, health, n) \
     SELECT tenant_id, provider, health, COUNT(*) FROM inserted GROUP BY tenant_id, provider, health; \
     RETURN NULL; END $$",
    "CREATE TRIGGER channel_tallies_insert AFTER INSERT ON channels REFERENCING NEW TABLE AS inserted \
     FOR EACH STATEMENT EXECUTE FUNCTION channel_tallies_inserted()",
    "CREATE FUNCTION channel_tallies_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     INSERT INTO channel_tallies (tenant_id, provider, health, n) \
     SELECT tenant_id, provider, health, -COUNT(*) FROM deleted GROUP BY tenant_id, provider, health; \
     RETURN NULL; END $$",
    "CREATE TRIGGER channel_tallies_delete AFTER DELETE ON channels REFERENCING OLD TABLE AS deleted \
     FOR EACH STATEMENT EXECUTE FUNCTION channel_tallies_deleted()",
    // an update fires only when a tallied column changes (the webhook writer's updates do not)
    "CREATE FUNCTION channel_tallies_updated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     INSERT INTO channel_tallies (tenant_id, provider, health, n) VALUES \
     (OLD.tenant_id, OLD.provider, OLD.health, -1), (NEW.tenant_id, NEW.provider, NEW.health, 1); \
     RETURN NULL; END $$",
    "CREATE TRIGGER channel_tallies_update AFTER UPDATE OF tenant_id, provider, health ON channels \
     FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.provider IS DISTINCT FROM NEW.provider \
     OR OLD.health IS DISTINCT FROM NEW.health) EXECUTE FUNCTION channel_tallies_updated()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ChannelTallies as T;
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
                    .col(ColumnDef::new(T::Provider).string_len(16).not_null())
                    .col(ColumnDef::new(T::Health).small_integer().not_null())
                    .col(ColumnDef::new(T::N).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_channel_tallies_tenant")
                    .table(T::Table)
                    .col(T::TenantId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO channel_tallies (tenant_id, provider, health, n) \
             SELECT tenant_id, provider, health, COUNT(*) FROM channels GROUP BY tenant_id, provider, health",
        )
        .await?;
        let script = match db.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES,
            _ => SQLITE,
        };
        for sql in script {
            db.execute_unprepared(sql).await?;
        }
        db.execute_unprepared(
            "CREATE INDEX idx_channels_provider_desc ON channels (tenant_id, provider DESC, name_key)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let script: &[&str] = match db.get_database_backend() {
            DatabaseBackend::Postgres => &[
                "DROP TRIGGER channel_tallies_insert ON channels",
                "DROP TRIGGER channel_tallies_delete ON channels",
                "DROP TRIGGER channel_tallies_update ON channels",
                "DROP FUNCTION channel_tallies_inserted()",
                "DROP FUNCTION channel_tallies_deleted()",
                "DROP FUNCTION channel_tallies_updated()",
                "DROP INDEX idx_channels_name_trgm",
            ],
            _ => &[
                "DROP TRIGGER channel_names_insert",
                "DROP TRIGGER channel_names_delete",
                "DROP TRIGGER channel_names_update",
                "DROP TRIGGER channel_tallies_insert",
                "DROP TRIGGER channel_tallies_delete",
                "DROP TRIGGER channel_tallies_update",
                "DROP TABLE channel_names",
            ],
        };
        for sql in script {
            db.execute_unprepared(sql).await?;
        }
        db.execute_unprepared("DROP INDEX idx_channels_provider_desc")
            .await?;
        manager
            .drop_table(Table::drop().table(ChannelTallies::Table).to_owned())
            .await
    }
}
