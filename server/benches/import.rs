//! Import at scale: seeds channels into one tenant on a fresh SQLite database (100,000 unless
//! `BENCH_CHANNELS` says otherwise), exports them, changes one cell of every row (so every
//! channel changes), and runs the import's dry run and then its Apply the way the worker does.
//! Prints the wall time and peak resident memory of each, beside a floor measured in the same
//! run: reading the same file with the import's reader and nothing else.
//!
//! `cargo bench -p server --bench import` (or `make bench`).

mod common;

use app::domain::import::COLUMNS;
use app::ports::{Actor, Exports, Imports};
use sea_orm::EntityTrait;
use server::db::entities::{export_task, import_task};
use server::exports::writer::{self, ZipBuilder};
use server::imports::sheet;
use server::startup;
use std::time::Instant;

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn run_import(state: &server::state::AppState, id: i64) -> (f64, u64) {
    common::reset_peak();
    let t = Instant::now();
    let claimed =
        server::imports::worker::claim(&state.db.conn, "bench", server::imports::DEFAULT_LEASE)
            .await
            .expect("claim")
            .expect("an import");
    assert_eq!(claimed, id);
    server::imports::worker::run(&state.imports, id, "bench").await;
    (t.elapsed().as_secs_f64(), common::status_kib("VmHWM:"))
}

#[tokio::main]
async fn main() {
    // the worker's own figures (the apply's time inside its transaction)
    tracing_subscriber::fmt()
        .with_env_filter("server::imports=info")
        .init();
    let channels: usize = std::env::var("BENCH_CHANNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = common::config(dir.path(), None);
    let state = startup::build_state(&config).await.expect("state");
    let actor = Actor::operator("bench");
    let tenant = common::bench_tenant(&state).await;
    let t = Instant::now();
    server::demo::seed(&state, "Bench", channels)
        .await
        .expect("seed");
    println!(
        "seeded {channels} channels in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // the export, as a person downloads it
    let id = state
        .exports
        .start(&actor, tenant, None)
        .await
        .expect("export");
    server::exports::worker::claim(
        &state.db.conn,
        "bench",
        server::config::DEFAULT_EXPORT_LEASE,
    )
    .await
    .expect("claim")
    .expect("a task");
    server::exports::worker::run(
        &state.db.conn,
        id,
        "bench",
        server::config::DEFAULT_EXPORT_LEASE,
    )
    .await;
    let exported = export_task::Entity::find_by_id(id)
        .one(&state.db.conn)
        .await
        .expect("task")
        .and_then(|t| t.artifact)
        .expect("the export's file");

    // one cell of every row changed, written back as the same zip of 2,000-row files
    let keyword = COLUMNS
        .iter()
        .position(|c| *c == "Keyword for Transfer to Agent")
        .expect("column");
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(channels);
    sheet::read(&exported, &COLUMNS, &[], |_, r| {
        rows.push(r.cells);
        Ok::<(), ()>(())
    })
    .expect("readable")
    .expect("read");
    for r in &mut rows {
        r[keyword] = "human, agent, person".into();
    }
    let edited = if rows.len() <= 2_000 {
        writer::xlsx(&rows).expect("xlsx")
    } else {
        let mut zip = ZipBuilder::new();
        for chunk in rows.chunks(2_000) {
            zip.add(&writer::xlsx(chunk).expect("xlsx")).expect("zip");
        }
        zip.finish().expect("zip")
    };
    drop(rows);
    println!(
        "edited file: {} rows, {:.1} MB",
        channels,
        edited.len() as f64 / 1_048_576.0
    );

    // floor: the same file read by the import's reader, rows counted and dropped
    common::reset_peak();
    let before = common::status_kib("VmRSS:");
    let t = Instant::now();
    let mut counted = 0usize;
    sheet::read(&edited, &COLUMNS, &[], |_, _| {
        counted += 1;
        Ok::<(), ()>(())
    })
    .expect("readable")
    .expect("read");
    let floor = t.elapsed().as_secs_f64();
    let floor_peak = common::status_kib("VmHWM:");
    assert_eq!(counted, channels);

    let id = state
        .imports
        .start(
            &actor,
            tenant,
            "channels-edited.zip",
            Box::pin(futures::stream::iter(
                edited
                    .chunks(64 * 1024)
                    .map(|c| Ok(c.to_vec()))
                    .collect::<Vec<_>>(),
            )),
            Box::pin(async { Ok(()) }),
        )
        .await
        .expect("start import");
    let (check, check_peak) = run_import(&state, id).await;
    let task = import_task::Entity::find_by_id(id)
        .one(&state.db.conn)
        .await
        .expect("task")
        .expect("task row");
    assert_eq!(task.status, "checked", "{:?}", task.error);
    assert_eq!(task.changed, channels as i64, "every row changes a channel");
    state
        .imports
        .apply(&actor, tenant, id)
        .await
        .expect("apply");
    let (apply, apply_peak) = run_import(&state, id).await;
    let task = import_task::Entity::find_by_id(id)
        .one(&state.db.conn)
        .await
        .expect("task")
        .expect("task row");
    assert_eq!(task.status, "applied", "{:?}", task.error);

    println!("resident memory before the import: {:.0} MB", mb(before));
    println!(
        "floor  (read the file, nothing else): {floor:>6.2} s, peak {:.0} MB",
        mb(floor_peak)
    );
    println!(
        "dry run ({channels} rows, all changed):   {check:>6.2} s, peak {:.0} MB",
        mb(check_peak)
    );
    println!(
        "apply   ({channels} channels, one txn):   {apply:>6.2} s, peak {:.0} MB",
        mb(apply_peak)
    );
    println!(
        "dry run + apply:                      {:>6.2} s",
        check + apply
    );
}
