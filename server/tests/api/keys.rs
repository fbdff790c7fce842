//! The master key cannot change silently (SPEC §5): a wrong or missing key refuses to start
//! with a clear message, and `switchboard rotate-key` moves every secret to a new key while a
//! server keeps answering webhooks.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use base64::Engine;
use server::db::entities::master_key;
use server::db::keys;
use server::secrets::{KeyRing, sealed_key_id};
use server::startup::{StartError, build_state};
use std::process::Command;
use std::time::Duration;

const KEY_A: &str = TEST_MASTER_KEY;
const KEY_B: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

fn key_id(hex_key: &str) -> String {
    let bytes: [u8; 32] = hex::decode(hex_key).unwrap().try_into().unwrap();
    KeyRing::new(&bytes, &[]).current_id().to_string()
}

fn config(app: &TestApp, options: Options) -> server::config::Config {
    config_for(
        app.config.database_url.clone(),
        app.addr,
        &app.base,
        &options,
    )
}

async fn start_error(app: &TestApp, options: Options) -> String {
    match build_state(&config(app, options)).await {
        Ok(_) => panic!("the start was not refused"),
        Err(e) => e.to_string(),
    }
}

/// An app on key A with a channel (sealed secrets), and the channel's webhook.
async fn app_with_secrets(options: Options) -> (TestApp, MadeChannel) {
    let app = spawn_app_with(options).await;
    let root = app.setup_admin().await;
    let c = app
        .infobip_channel(&root, "Alpha", "alpha-admin", "alpha-hook-1")
        .await;
    (app, c)
}

async fn deliver(app: &TestApp, c: &MadeChannel, id: &str) -> u16 {
    app.http
        .post(&c.message_url)
        .header("AccountKey", "alpha-hook-1")
        .body(format!(
            r#"{{"results":[{{"messageId":"{id}","from":"4915"}}]}}"#
        ))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_wrong_key_refuses_to_start_and_names_both_keys() {
    let (app, _) = app_with_secrets(Options::default()).await;
    let message = start_error(
        &app,
        Options {
            master_key: Some(KEY_B.into()),
            ..Options::default()
        },
    )
    .await;
    assert!(
        message.contains("does not match this database"),
        "{message}"
    );
    assert!(message.contains(&key_id(KEY_A)), "{message}");
    assert!(message.contains(&key_id(KEY_B)), "{message}");
    // the right key still starts
    build_state(&config(&app, Options::default()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_missing_key_file_is_not_recreated_over_existing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (app, c) = app_with_secrets(Options {
        key_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    })
    .await;
    let file = dir.path().join("master.key");
    assert!(file.exists(), "the first start made the key file");
    assert_eq!(deliver(&app, &c, "before").await, 200);
    // the same file starts again
    build_state(&config(
        &app,
        Options {
            key_dir: Some(dir.path().to_path_buf()),
            ..Options::default()
        },
    ))
    .await
    .unwrap();

    std::fs::remove_file(&file).unwrap();
    let message = start_error(
        &app,
        Options {
            key_dir: Some(dir.path().to_path_buf()),
            ..Options::default()
        },
    )
    .await;
    assert!(message.contains("master key file"), "{message}");
    assert!(message.contains("is missing"), "{message}");
    assert!(!file.exists(), "no new key was made up");

    // a second instance on the same database with a key file of its own: refused too
    let other = tempfile::tempdir().unwrap();
    let message = start_error(
        &app,
        Options {
            key_dir: Some(other.path().to_path_buf()),
            ..Options::default()
        },
    )
    .await;
    assert!(message.contains("SWITCHBOARD_MASTER_KEY"), "{message}");
    assert!(!other.path().join("master.key").exists());
}

#[tokio::test]
async fn a_fresh_database_registers_its_first_key_once() {
    let app = spawn_app().await;
    let rows = keys::registered(&app.state.db.conn).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key_id, key_id(KEY_A));
    assert_eq!(rows[0].genesis, Some(1));
    // another key on an empty-of-secrets but registered database is still refused
    let message = start_error(
        &app,
        Options {
            master_key: Some(KEY_B.into()),
            ..Options::default()
        },
    )
    .await;
    assert!(message.contains("does not match"), "{message}");
}

#[tokio::test]
async fn a_database_from_before_key_checks_is_checked_against_its_secrets() {
    use sea_orm::EntityTrait;
    let (app, _) = app_with_secrets(Options::default()).await;
    // as the first release left it: secrets, but no key check
    master_key::Entity::delete_many()
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    let message = start_error(
        &app,
        Options {
            master_key: Some(KEY_B.into()),
            ..Options::default()
        },
    )
    .await;
    assert!(message.contains("does not match"), "{message}");
    build_state(&config(&app, Options::default()))
        .await
        .unwrap();
    assert_eq!(keys::registered(&app.state.db.conn).await.unwrap().len(), 1);
}

fn run_rotate(database_url: &str, env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.args(["rotate-key", "--batch", "1", "--settle-secs", "2"])
        .env("DATABASE_URL", database_url)
        .env_remove("SWITCHBOARD_MASTER_KEY")
        .env_remove("SWITCHBOARD_PREVIOUS_MASTER_KEYS")
        .env("RUST_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `run_rotate` off the test's runtime, so the server in it keeps answering meanwhile.
async fn rotate(database_url: &str, env: &[(&str, &str)]) -> (i32, String) {
    let url = database_url.to_owned();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_rotate(&url, &env)
    })
    .await
    .unwrap()
}

/// Webhooks sent all along a rotation (each opens the channel's sealed Webhook Password).
async fn deliver_during(
    app: &TestApp,
    c: &MadeChannel,
    rotation: impl Future<Output = (i32, String)>,
) -> (i32, String) {
    let load = async {
        let mut statuses = Vec::new();
        for i in 0..40 {
            statuses.push(deliver(app, c, &format!("during-{i}")).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        statuses
    };
    let (statuses, out) = tokio::join!(load, rotation);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    out
}

#[tokio::test]
async fn rotation_with_environment_keys_moves_every_secret_while_webhooks_go_on() {
    let (seed_app, c) = app_with_secrets(Options::default()).await;
    // several channels, so the rotation takes several batches
    let root = seed_app.session(ROOT_USER, ROOT_PASSWORD).await;
    for i in 0..4 {
        seed_app
            .infobip_channel(
                &root,
                &format!("Tenant {i}"),
                &format!("admin-{i}"),
                "some-hook-1",
            )
            .await;
    }
    // the server restarted with the new key and the old one, as the operator set them
    let seed_base = seed_app.base.clone();
    let TestApp {
        db,
        config: seed_config,
        ..
    } = seed_app;
    let app = spawn_on_with(
        db,
        seed_config.database_url.clone(),
        Options {
            master_key: Some(KEY_B.into()),
            previous_master_keys: Some(KEY_A.into()),
            ..Options::default()
        },
    )
    .await;
    let c = MadeChannel {
        message_url: c.message_url.replace(&seed_base, &app.base),
        ..c
    };
    assert_eq!(deliver(&app, &c, "before").await, 200);
    let rows = keys::registered(&app.state.db.conn).await.unwrap();
    assert_eq!(rows.len(), 2, "the new key is registered beside the old");

    // resumable: a pass cut short leaves the rest for the next run
    let partial = keys::reseal_pass(&app.state.db.conn, &app.state.secrets, 1, Some(1))
        .await
        .unwrap();
    assert_eq!(partial.resealed, 3, "one channel's three secrets");
    assert!(
        keys::not_current(&app.state.db.conn, &app.state.secrets)
            .await
            .unwrap()
            > 0
    );

    let url = app.config.database_url.clone();
    let (code, out) = deliver_during(
        &app,
        &c,
        rotate(
            &url,
            &[
                ("SWITCHBOARD_MASTER_KEY", KEY_B),
                ("SWITCHBOARD_PREVIOUS_MASTER_KEYS", KEY_A),
            ],
        ),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("remove SWITCHBOARD_PREVIOUS_MASTER_KEYS"),
        "{out}"
    );
    assert_eq!(
        keys::not_current(&app.state.db.conn, &app.state.secrets)
            .await
            .unwrap(),
        0
    );
    let rows = keys::registered(&app.state.db.conn).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.key_id.clone()).collect::<Vec<_>>(),
        vec![key_id(KEY_B)]
    );
    // the new key alone starts; the old one alone is refused
    build_state(&config(
        &app,
        Options {
            master_key: Some(KEY_B.into()),
            ..Options::default()
        },
    ))
    .await
    .unwrap();
    let message = start_error(
        &app,
        Options {
            master_key: Some(KEY_A.into()),
            ..Options::default()
        },
    )
    .await;
    assert!(message.contains("does not match"), "{message}");
    assert_eq!(deliver(&app, &c, "after").await, 200);
}

#[tokio::test]
async fn rotation_of_a_key_file_reaches_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options {
        key_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let (app, c) = app_with_secrets(options()).await;
    let file = dir.path().join("master.key");
    let old = server::secrets::key_file_keys(&file).unwrap();
    assert_eq!(old.len(), 1);
    let data_dir = dir.path().display().to_string();
    let url = app.config.database_url.clone();
    let (code, out) = deliver_during(
        &app,
        &c,
        rotate(&url, &[("SWITCHBOARD_DATA_DIR", &data_dir)]),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the old key is removed"), "{out}");
    let new = server::secrets::key_file_keys(&file).unwrap();
    assert_eq!(new.len(), 1);
    assert_ne!(new[0], old[0], "a new key");
    let retired = dir.path().join(format!(
        "master.key.retired-{}",
        KeyRing::new(&old[0], &[]).current_id()
    ));
    assert_eq!(
        server::secrets::key_file_keys(&retired).unwrap(),
        old,
        "the old key is kept aside"
    );
    assert!(
        !dir.path().join("master.key.rotating").exists(),
        "the lock is gone"
    );
    // the running server took the new key: it opens the moved secrets and seals with it
    assert_eq!(deliver(&app, &c, "after").await, 200);
    let sealed = app
        .state
        .secrets
        .seal(
            "x",
            server::secrets::SecretScope {
                tenant_id: 1,
                channel: "c",
                field: "f",
            },
        )
        .unwrap();
    assert_eq!(
        sealed_key_id(&sealed),
        Some(KeyRing::new(&new[0], &[]).current_id())
    );
    assert_eq!(
        keys::not_current(&app.state.db.conn, &app.state.secrets)
            .await
            .unwrap(),
        0
    );
    // the old key alone no longer opens anything, the new file starts
    let old_b64 = base64::engine::general_purpose::STANDARD.encode(old[0]);
    let message = start_error(
        &app,
        Options {
            master_key: Some(old_b64),
            ..Options::default()
        },
    )
    .await;
    assert!(message.contains("does not match"), "{message}");
    build_state(&config(&app, options())).await.unwrap();
}

#[tokio::test]
async fn rotate_key_explains_what_it_needs() {
    let (app, _) = app_with_secrets(Options::default()).await;
    let url = app.config.database_url.clone();
    let (code, out) = rotate(&url, &[("SWITCHBOARD_MASTER_KEY", KEY_A)]).await;
    assert_eq!(code, 1);
    assert!(
        out.contains("SWITCHBOARD_PREVIOUS_MASTER_KEYS to the current one"),
        "{out}"
    );
    let wrong = "b1".repeat(32);
    let (code, out) = rotate(
        &url,
        &[
            ("SWITCHBOARD_MASTER_KEY", KEY_B),
            ("SWITCHBOARD_PREVIOUS_MASTER_KEYS", wrong.as_str()),
        ],
    )
    .await;
    assert_eq!(code, 1, "neither key is this database's");
    assert!(out.contains("does not match"), "{out}");
}

#[tokio::test]
async fn a_start_error_is_a_key_error() {
    let (app, _) = app_with_secrets(Options::default()).await;
    let err = build_state(&config(
        &app,
        Options {
            master_key: Some(KEY_B.into()),
            ..Options::default()
        },
    ))
    .await
    .err()
    .unwrap();
    assert!(matches!(err, StartError::Keys(_)));
}

#[tokio::test]
async fn two_rotations_of_one_key_file_at_once_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app_with_secrets(Options {
        key_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    })
    .await;
    // a running rotation (this test's own process stands in for it)
    let lock = dir.path().join("master.key.rotating");
    std::fs::write(&lock, std::process::id().to_string()).unwrap();
    let data_dir = dir.path().display().to_string();
    let url = app.config.database_url.clone();
    let (code, out) = rotate(&url, &[("SWITCHBOARD_DATA_DIR", &data_dir)]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("another rotate-key is running"), "{out}");
    assert_eq!(
        server::secrets::key_file_keys(&dir.path().join("master.key"))
            .unwrap()
            .len(),
        1,
        "nothing written"
    );
    // a lock left by a run that died is taken over
    std::fs::write(&lock, "999999999").unwrap();
    let (code, out) = rotate(&url, &[("SWITCHBOARD_DATA_DIR", &data_dir)]).await;
    assert_eq!(code, 0, "{out}");
}
