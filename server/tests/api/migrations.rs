//! Schema changes keep what was stored: the raw body each event carried becomes a delivery of
//! its own, and new deliveries continue after them (SQLite and PostgreSQL).

#![allow(clippy::unwrap_used)]

use crate::common::*;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use sea_orm_migration::MigratorTrait;
use server::db::entities::{webhook_delivery, webhook_event};
use server::db::migration::Migrator;

#[tokio::test]
async fn events_of_the_first_schema_keep_their_raw_bodies_as_deliveries() {
    let (_db, url) = fresh_database().await;
    let db = server::db::Db::connect(&url).await.unwrap();
    Migrator::up(&db.conn, Some(7)).await.unwrap();
    let backend = db.conn.get_database_backend();
    let run = |sql: &str| {
        let conn = db.conn.clone();
        let sql = sql.to_owned();
        async move {
            conn.execute(Statement::from_string(backend, sql))
                .await
                .unwrap();
        }
    };
    run("INSERT INTO tenants (id, name, name_key, disabled, created_at) VALUES (1, 'T', 't', false, CURRENT_TIMESTAMP)").await;
    run("INSERT INTO skill_queues (id, tenant_id, name, name_key, access_code, created_at) VALUES (1, 1, 'Q', 'q', '1', CURRENT_TIMESTAMP)").await;
    run("INSERT INTO channels (id, tenant_id, uid, webhook_key, name, name_key, channel_type, provider, base_url, skill_queue_id, keywords, workday, non_workday, non_working_notification, session_transfer, robot_assistant, version, created_at, updated_at) \
         VALUES (1, 1, 'u', 'k', 'wa', 'wa', 'whatsapp', 'infobip', 'https://api.infobip.com', 1, '[]', '09:00-18:00', '09:00-18:00', '', false, false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)").await;
    for (id, raw) in [
        (1, r#"{"results":[{"messageId":"a"}]}"#),
        (2, "MessageSid=SM1&Body=h%C3%A9"),
    ] {
        run(&format!(
            "INSERT INTO webhook_events (channel_id, tenant_id, kind, provider_message_id, sender, recipient, text, status, status_rank, raw, received_at) \
             VALUES (1, 1, 'message', 'm{id}', 's', 'r', NULL, NULL, 0, '{raw}', CURRENT_TIMESTAMP)"
        ))
        .await;
    }
    Migrator::up(&db.conn, None).await.unwrap();

    let deliveries = webhook_delivery::Entity::find()
        .all(&db.conn)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(
        deliveries[0].body,
        br#"{"results":[{"messageId":"a"}]}"#.to_vec()
    );
    assert_eq!(deliveries[1].body, b"MessageSid=SM1&Body=h%C3%A9".to_vec());
    let events = webhook_event::Entity::find().all(&db.conn).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.delivery_id).collect::<Vec<_>>(),
        events.iter().map(|e| Some(e.id)).collect::<Vec<_>>(),
        "each event points at the delivery made of its raw body"
    );
    assert_eq!(
        deliveries.iter().map(|d| d.id).collect::<Vec<_>>(),
        events.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    // a new delivery takes the next id
    let pending = server::webhooks::writer::Pending {
        channel_id: 1,
        tenant_id: 1,
        delivery: server::webhooks::Delivery {
            endpoint: "message",
            content_type: "application/json".into(),
            body: axum::body::Bytes::from_static(b"{}"),
            events: vec![server::webhooks::parse::Event {
                kind: server::webhooks::parse::Kind::Message,
                provider_message_id: "new".into(),
                sender: String::new(),
                recipient: String::new(),
                text: None,
                status: None,
            }],
            credential: None,
            signed_as: None,
        },
    };
    assert_eq!(
        server::webhooks::writer::write_all(&db.conn, &[&pending]).await,
        vec![true]
    );
    let ids: Vec<i64> = webhook_delivery::Entity::find()
        .all(&db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

/// What every existing database recorded in `seaql_migrations`, in order. A migration's name
/// is its file's name (`DeriveMigrationName`); one renamed would run again on each of them.
const RECORDED: [&str; 22] = [
    "m20261125_000001_accounts",
    "m20261125_000002_org",
    "m20261125_000003_certificates",
    "m20261125_000004_service_time",
    "m20261125_000005_channels",
    "m20261125_000006_exports",
    "m20261125_000007_webhook_events",
    "m20261128_000008_master_keys",
    "m20261128_000009_webhook_deliveries",
    "m20261128_000010_outbound",
    "m20261128_000011_webhook_refusals",
    "m20261128_000012_health",
    "m20261128_000013_audit",
    "m20261128_000014_imports",
    "m20261204_000015_import_chunks",
    "m20261205_000016_sign_in_attempts",
    "m20261205_000017_channel_search",
    "m20261205_000018_token_expiry",
    "m20261206_000019_traffic_retention",
    "m20261206_000020_alerts",
    "m20261207_000021_apps",
    "m20261208_000022_webhook_rotation",
];

async fn recorded(conn: &sea_orm::DatabaseConnection) -> Vec<String> {
    let backend = conn.get_database_backend();
    conn.query_all(Statement::from_string(
        backend,
        "SELECT version FROM seaql_migrations ORDER BY version",
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<String>("", "version").unwrap())
    .collect()
}

/// A database whose record holds the names the migrations had when they were one file starts
/// on today's binary, which runs none of them again and adds no row to the record.
#[tokio::test]
async fn a_database_migrated_by_an_earlier_layout_starts_and_nothing_runs_twice() {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(names, RECORDED, "a migration's name changed");

    let (db, url) = fresh_database().await;
    let conn = server::db::Db::connect(&url).await.unwrap();
    Migrator::up(&conn.conn, None).await.unwrap();
    assert_eq!(recorded(&conn.conn).await, RECORDED);
    run_sql(&conn.conn, "INSERT INTO tenants (id, name, name_key, disabled, created_at) VALUES (7, 'Kept', 'kept', false, CURRENT_TIMESTAMP)").await;

    // the server starts on it (it migrates at every start): nothing recorded twice, nothing lost
    let app = spawn_on(db, url).await;
    assert_eq!(recorded(&app.state.db.conn).await, RECORDED);
    assert!(
        Migrator::get_pending_migrations(&app.state.db.conn)
            .await
            .unwrap()
            .is_empty()
    );
    let root = app.setup_admin().await;
    let tenants = app.call("list_tenants", &[], Some(&root)).await;
    assert_eq!(tenants.status, 200, "{}", tenants.body);
    assert!(tenants.body.contains("Kept"), "{}", tenants.body);
}

async fn run_sql(conn: &sea_orm::DatabaseConnection, sql: &str) {
    conn.execute(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap();
}
