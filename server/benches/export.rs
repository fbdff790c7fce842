//! Export at scale: seeds channels into one tenant on a fresh SQLite database (100,000 unless
//! `BENCH_CHANNELS` says otherwise), then runs one export task of all of them the way the
//! worker does, and prints its wall time and the process's peak resident memory during it.
//! Then it exports 10,000 selected channels (the most one export may select, spread over the
//! tenant space), fills the tenant space up to 1,000,000 channels (`BENCH_EXPORT_TOTAL`; 0
//! skips it) and exports 10,000 selected again, beside: the cost of an export follows what it
//! exports, not the size of the tenant space. Beside each selected export, its floor: the same
//! rows read by primary key and nothing else (rows spread over a larger file cost more pages).
//!
//! `cargo bench -p server --bench export` (or `make bench`).

mod common;

use app::ports::Exports;
use sea_orm::EntityTrait;
use server::db::entities::export_task;
use server::startup;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let channels: usize = std::env::var("BENCH_CHANNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = common::config(dir.path(), None);
    let state = startup::build_state(&config).await.expect("state");
    let tenant = common::bench_tenant(&state).await;
    let t = Instant::now();
    server::demo::seed(&state, "Bench", channels)
        .await
        .expect("seed");
    println!(
        "seeded {channels} channels in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // measure the export alone: reset the peak-RSS mark (Linux: clear_refs 5)
    let reset = common::reset_peak();
    let before = common::status_kib("VmRSS:");
    let (wall, task) = export(&state, tenant, None).await;
    let peak = common::status_kib("VmHWM:");
    let first = wall;
    println!(
        "exported {} records in {} files ({:.1} MB {}) in {:.2} s",
        task.record_count,
        task.file_count,
        task.artifact.as_ref().map_or(0, Vec::len) as f64 / 1_048_576.0,
        task.file_name.unwrap_or_default(),
        wall.as_secs_f64()
    );
    println!(
        "resident memory: {:.0} MB before the export, peak {:.0} MB during it{}",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        if reset {
            ""
        } else {
            " (peak since process start: clear_refs unavailable)"
        }
    );

    // the most one export may select (10,000), spread over the tenant space: from this one,
    // and again once it holds BENCH_EXPORT_TOTAL channels
    let small = selected(&state, tenant).await;
    let read_small = bare_read(&state, &small).await;
    let (in_small, _) = export(&state, tenant, Some(small)).await;
    let total: usize = std::env::var("BENCH_EXPORT_TOTAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    if total <= channels {
        return;
    }
    let t = Instant::now();
    server::demo::seed(&state, "Bench", total - channels)
        .await
        .expect("seed");
    println!(
        "seeded up to {total} channels in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let large = selected(&state, tenant).await;
    let count = large.len();
    let read_large = bare_read(&state, &large).await;
    let (in_large, task) = export(&state, tenant, Some(large)).await;
    assert_eq!(task.record_count as usize, count);
    println!(
        "exported {count} selected channels in {:.2} s of {total} channels, beside {:.2} s of \
         {channels} (and all {channels} in {:.2} s)",
        in_large.as_secs_f64(),
        in_small.as_secs_f64(),
        first.as_secs_f64()
    );
    println!(
        "floor: reading those {count} rows by primary key alone took {:.2} s of {total}, {:.2} s \
         of {channels}; the export beyond that read: {:.2} s and {:.2} s",
        read_large.as_secs_f64(),
        read_small.as_secs_f64(),
        in_large.saturating_sub(read_large).as_secs_f64(),
        in_small.saturating_sub(read_small).as_secs_f64()
    );
}

/// The floor of a selected export: its rows read by primary key, 5,000 at a time, and nothing
/// else (no tenant check, no sheet).
async fn bare_read(state: &server::state::AppState, ids: &[i64]) -> std::time::Duration {
    use sea_orm::{ColumnTrait, QueryFilter};
    use server::db::entities::channel;
    let t = Instant::now();
    let mut n = 0;
    for chunk in ids.chunks(5_000) {
        n += channel::Entity::find()
            .filter(channel::Column::Id.is_in(chunk.to_vec()))
            .all(&state.db.conn)
            .await
            .expect("rows")
            .len();
    }
    assert_eq!(n, ids.len());
    t.elapsed()
}

/// 10,000 channels of the tenant space, spread evenly over it.
async fn selected(state: &server::state::AppState, tenant: i64) -> Vec<i64> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    use server::db::entities::channel;
    let all: Vec<i64> = channel::Entity::find()
        .select_only()
        .column(channel::Column::Id)
        .filter(channel::Column::TenantId.eq(tenant))
        .order_by_asc(channel::Column::Id)
        .into_tuple::<i64>()
        .all(&state.db.conn)
        .await
        .expect("ids");
    let step = (all.len() / 10_000).max(1);
    all.into_iter().step_by(step).take(10_000).collect()
}

/// One export task of `ids` (all channels: `None`) run the way the worker runs it; its wall
/// time and the finished task.
async fn export(
    state: &server::state::AppState,
    tenant: i64,
    ids: Option<Vec<i64>>,
) -> (std::time::Duration, export_task::Model) {
    let t = Instant::now();
    let id = state
        .exports
        .start(&app::ports::Actor::anonymous("bench", None), tenant, ids)
        .await
        .expect("start");
    let claimed = server::exports::worker::claim(
        &state.db.conn,
        "bench",
        server::config::DEFAULT_EXPORT_LEASE,
    )
    .await
    .expect("claim")
    .expect("a task");
    assert_eq!(claimed, id);
    server::exports::worker::run(
        &state.db.conn,
        id,
        "bench",
        server::config::DEFAULT_EXPORT_LEASE,
    )
    .await;
    let wall = t.elapsed();
    let task = export_task::Entity::find_by_id(id)
        .one(&state.db.conn)
        .await
        .expect("task")
        .expect("task row");
    assert_eq!(task.status, "success", "{:?}", task.error);
    (wall, task)
}
