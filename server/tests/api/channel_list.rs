//! Lists at scale, through HTTP on both databases: the channel list's pages found by seeking,
//! forwards and backwards in every sort and filter, with rows inserted and deleted between
//! page loads; name search against a plain scan of random names; the name index and the kept
//! tallies in step with creates, renames and deletes; a search that matches more than the
//! count's limit; a channel's Activity paged the same way while events arrive.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use server::db::channels::SqlChannels;
use server::db::entities::channel;
use std::collections::{BTreeSet, HashSet};

struct Tenant {
    id: i64,
    cookie: String,
}

/// A tenant space of its own with channels of these names (every provider in turn).
async fn tenant_with(app: &TestApp, root: &str, label: &str, names: &[String]) -> Tenant {
    let admin = format!("{}-admin", label.to_lowercase());
    let id = app
        .create_tenant(root, label, &admin, "list-password-1")
        .await;
    server::demo::seed(&app.state, label, 0).await.unwrap();
    insert(app, id, names, 0).await;
    Tenant {
        id,
        cookie: app.session(&admin, "list-password-1").await,
    }
}

async fn insert(app: &TestApp, tenant: i64, names: &[String], from: usize) {
    let ports = &app.state.ports;
    let context = ports
        .channels
        .validation_context(tenant, None)
        .await
        .unwrap();
    let queue = ports.skill_queues.list(tenant).await.unwrap()[0].id;
    let valid: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut d = server::demo::demo_draft(from + i, queue, None);
            d.name = name.clone();
            d.validate(&context).unwrap()
        })
        .collect();
    let repo = SqlChannels::new(
        app.state.db.conn.clone(),
        app.state.secrets.clone(),
        String::new(),
    );
    repo.insert_batch(tenant, &valid).await.unwrap();
}

/// Makes every `nth` channel of the tenant Failing (a refused delivery), as the sweep computes it.
async fn failing_every(app: &TestApp, tenant: i64, nth: i64) {
    let conn = &app.state.db.conn;
    let now = time::OffsetDateTime::now_utc();
    conn.execute(Statement::from_sql_and_values(
        conn.get_database_backend(),
        match conn.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE channels SET last_refused_at = $1, last_refused_reason = 'account_key_mismatch', \
                 health_due_at = $2 WHERE tenant_id = $3 AND id % $4 = 0"
            }
            _ => {
                "UPDATE channels SET last_refused_at = ?, last_refused_reason = 'account_key_mismatch', \
                 health_due_at = ? WHERE tenant_id = ? AND id % ? = 0"
            }
        },
        [now.into(), now.into(), tenant.into(), nth.into()],
    ))
    .await
    .unwrap();
    server::db::health::sweep(conn).await.unwrap();
}

async fn list(app: &TestApp, cookie: &str, query: Value) -> Value {
    let r = app
        .call_json("list_channels", json!({ "query": query }), Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn query(sort: &str, descending: bool, filter: &(&str, &str, bool), per_page: u32) -> Value {
    json!({"search": filter.0, "provider": filter.1, "attention": filter.2, "sort": sort,
           "descending": descending, "at": "First", "per_page": per_page})
}

fn names(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page from the first by Next, or from the last by Previous; the names in list order.
async fn walk(app: &TestApp, cookie: &str, mut q: Value, backwards: bool) -> Vec<String> {
    q["at"] = json!(if backwards { "Last" } else { "First" });
    let mut pages: Vec<Vec<String>> = Vec::new();
    for _ in 0..1000 {
        let page = list(app, cookie, q.clone()).await;
        pages.push(names(&page));
        let (more, key, at) = if backwards {
            (
                page["has_previous"].as_bool().unwrap(),
                &page["first"],
                "Before",
            )
        } else {
            (page["has_next"].as_bool().unwrap(), &page["last"], "After")
        };
        if !more {
            if backwards {
                pages.reverse();
            }
            return pages.concat();
        }
        q["at"] = json!({ at: key });
    }
    panic!("more than 1000 pages");
}

/// The channels of a tenant in the order a sort names, computed here from the rows.
async fn expected(
    app: &TestApp,
    tenant: i64,
    sort: &str,
    descending: bool,
    keep: impl Fn(&channel::Model) -> bool,
) -> Vec<String> {
    use sea_orm::ColumnTrait;
    let mut rows: Vec<channel::Model> = channel::Entity::find()
        .filter(channel::Column::TenantId.eq(tenant))
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| keep(m))
        .collect();
    rows.sort_by(|a, b| {
        let by_name = a.name_key.cmp(&b.name_key);
        let flip = |o: std::cmp::Ordering| if descending { o.reverse() } else { o };
        match sort {
            "Name" => flip(by_name),
            "Provider" => flip(a.provider.cmp(&b.provider)).then(by_name),
            "Health" => flip(a.health.cmp(&b.health)).then(by_name),
            _ => flip(a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id))),
        }
    });
    rows.into_iter().map(|m| m.name).collect()
}

const SORTS: [&str; 4] = ["Name", "Provider", "Updated", "Health"];

#[tokio::test]
async fn seek_pages_run_forwards_and_backwards_in_every_sort_and_filter() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let all: Vec<String> = (0..97)
        .map(|i| format!("ch_{:03}_{}", (i * 37) % 97, i % 3))
        .collect();
    let t = tenant_with(&app, &root, "Seek", &all).await;
    failing_every(&app, t.id, 4).await;
    // another tenant's channels never show
    tenant_with(&app, &root, "Noise", &all[..10]).await;
    let filters = [
        ("", "", false),
        ("", "twilio", false),
        ("", "", true),
        ("_1", "", false),
        ("ch", "", false),
        ("_0", "infobip", true),
        ("x", "", false),
    ];
    for sort in SORTS {
        for descending in [false, true] {
            for f in &filters {
                let keep = |m: &channel::Model| {
                    (f.0.is_empty()
                        || if f.0.len() < 3 {
                            m.name_key.starts_with(f.0)
                        } else {
                            m.name_key.contains(f.0)
                        })
                        && (f.1.is_empty() || m.provider == f.1)
                        && (!f.2 || m.health > 0)
                };
                let want = expected(&app, t.id, sort, descending, keep).await;
                let q = query(sort, descending, f, 10);
                let first = list(&app, &t.cookie, q.clone()).await;
                assert_eq!(first["total"], want.len(), "{sort} {descending} {f:?}");
                assert_eq!(first["more"], false);
                let label = format!("{sort} desc={descending} {f:?}");
                assert_eq!(
                    walk(&app, &t.cookie, q.clone(), false).await,
                    want,
                    "forwards, {label}"
                );
                assert_eq!(
                    walk(&app, &t.cookie, q, true).await,
                    want,
                    "backwards, {label}"
                );
            }
        }
    }
    // "Needs attention" found what the sweep made Failing
    let attention = list(&app, &t.cookie, query("Health", true, &("", "", true), 100)).await;
    assert!(attention["total"].as_u64().unwrap() >= 20, "{attention}");
}

#[tokio::test]
async fn a_page_key_of_another_sort_or_absurd_size_starts_over_at_the_nearer_end() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let all: Vec<String> = (0..30).map(|i| format!("key_{i:02}")).collect();
    let t = tenant_with(&app, &root, "Keys", &all).await;
    let huge = "a".repeat(200_000);
    let bad = [
        "p:twilio:key_03".to_owned(),
        "u:1:2".to_owned(),
        "n:".to_owned(),
        "n:key 03".to_owned(),
        "n:key_03%".to_owned(),
        format!("n:{huge}"),
        format!("p:{huge}:key_03"),
        format!("u:{huge}:1"),
        "u:99999999999999999999999999999999:1".to_owned(),
        "h:-1:key_03".to_owned(),
        "🙂".repeat(1000),
        String::new(),
    ];
    for key in &bad {
        for (at, want_first) in [("After", "key_20"), ("Before", "key_00")] {
            let mut q = query("Name", false, &("", "", false), 10);
            q["at"] = json!({ at: key });
            let t0 = std::time::Instant::now();
            let page = list(&app, &t.cookie, q).await;
            // a key of no use reads no further than a first or last page
            assert!(t0.elapsed() < std::time::Duration::from_secs(2));
            let shown: String = key.chars().take(40).collect();
            assert_eq!(names(&page)[0], want_first, "{at} {shown}");
            assert_eq!(names(&page).len(), 10);
        }
    }
    // past the body limit of a server function: refused before it is read
    let mut q = query("Name", false, &("", "", false), 10);
    q["at"] = json!({ "After": "n:".to_owned() + &"a".repeat(300 * 1024) });
    let r = app
        .call_json("list_channels", json!({ "query": q }), Some(&t.cookie))
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
}

#[tokio::test]
async fn no_row_is_skipped_or_repeated_while_rows_come_and_go_between_pages() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let all: Vec<String> = (0..60).map(|i| format!("m_{i:03}")).collect();
    let t = tenant_with(&app, &root, "Moving", &all).await;
    failing_every(&app, t.id, 3).await;
    let mut extra = 0;
    for sort in SORTS {
        for descending in [false, true] {
            for backwards in [false, true] {
                let before: BTreeSet<String> = expected(&app, t.id, sort, descending, |_| true)
                    .await
                    .into_iter()
                    .collect();
                let mut q = query(sort, descending, &("", "", false), 10);
                q["at"] = json!(if backwards { "Last" } else { "First" });
                let mut seen: Vec<String> = Vec::new();
                let mut deleted: HashSet<String> = HashSet::new();
                for step in 0..100 {
                    let page = list(&app, &t.cookie, q.clone()).await;
                    let mut rows = names(&page);
                    if backwards {
                        rows.reverse();
                    }
                    seen.extend(rows);
                    let (more, key, at) = if backwards {
                        (
                            page["has_previous"].as_bool().unwrap(),
                            &page["first"],
                            "Before",
                        )
                    } else {
                        (page["has_next"].as_bool().unwrap(), &page["last"], "After")
                    };
                    if !more {
                        break;
                    }
                    q["at"] = json!({ at: key });
                    // between page loads: two new channels, one seen and one unseen deleted
                    insert(
                        &app,
                        t.id,
                        &[format!("m_new_{extra}"), format!("a_new_{extra}")],
                        1000 + extra * 2,
                    )
                    .await;
                    extra += 1;
                    let unseen: Vec<&String> = before
                        .iter()
                        .filter(|n| !seen.contains(n) && !deleted.contains(*n))
                        .collect();
                    let victims = [
                        seen.first().cloned(),
                        unseen.get(step % 3).map(|n| (*n).clone()),
                    ];
                    for name in victims.into_iter().flatten() {
                        if deleted.insert(name.clone()) {
                            delete(&app, t.id, &name).await;
                        }
                    }
                }
                let label = format!("{sort} desc={descending} backwards={backwards}");
                let unique: HashSet<&String> = seen.iter().collect();
                assert_eq!(
                    unique.len(),
                    seen.len(),
                    "a row repeated: {label}: {seen:?}"
                );
                for name in &before {
                    assert!(
                        seen.contains(name) || deleted.contains(name),
                        "{name} skipped: {label}"
                    );
                }
                // put the tenant back as it was for the next walk
                let now: Vec<String> = expected(&app, t.id, sort, descending, |_| true).await;
                let gone: Vec<String> = before
                    .iter()
                    .filter(|n| !now.contains(n))
                    .cloned()
                    .collect();
                for name in now.iter().filter(|n| !before.contains(*n)) {
                    delete(&app, t.id, name).await;
                }
                insert(&app, t.id, &gone, 5000 + extra * 100).await;
                extra += 1;
            }
        }
    }
}

async fn delete(app: &TestApp, tenant: i64, name: &str) {
    use sea_orm::ColumnTrait;
    channel::Entity::delete_many()
        .filter(channel::Column::TenantId.eq(tenant))
        .filter(channel::Column::NameKey.eq(name.to_lowercase()))
        .exec(&app.state.db.conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_name_search_answers_as_a_scan_of_random_names() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let mut rng = StdRng::seed_from_u64(23);
    // a small alphabet, so that substrings repeat across names
    let alphabet = ['a', 'b', 'A', '_', '1'];
    let mut names = BTreeSet::new();
    while names.len() < 300 {
        let len = rng.gen_range(1..9);
        let name: String = (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        if !name.starts_with('1')
            && names
                .iter()
                .all(|n: &String| !n.eq_ignore_ascii_case(&name))
        {
            names.insert(name);
        }
    }
    let names: Vec<String> = names.into_iter().collect();
    let t = tenant_with(&app, &root, "Random", &names).await;
    let mut searches: Vec<String> = vec![
        "_".into(),
        "__".into(),
        "A_".into(),
        "a_1".into(),
        "%".into(),
        "a%".into(),
        "ab\\".into(),
        "\"a".into(),
        "b b".into(),
        "aaaaaaaaaa".into(),
    ];
    for _ in 0..40 {
        let len = rng.gen_range(1..5);
        searches.push(
            (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect(),
        );
    }
    for search in searches {
        let key = search.to_lowercase();
        let mut want: Vec<String> = names
            .iter()
            .filter(|n| {
                let n = n.to_lowercase();
                if key.chars().count() < 3 {
                    n.starts_with(&key)
                } else {
                    n.contains(&key)
                }
            })
            .cloned()
            .collect();
        want.sort_by_key(|n| n.to_lowercase());
        let q = json!({"search": search, "provider": "", "sort": "Name", "descending": false,
                       "at": "First", "per_page": 100});
        let first = list(&app, &t.cookie, q.clone()).await;
        assert_eq!(first["total"], want.len(), "total for {search:?}");
        assert_eq!(
            walk(&app, &t.cookie, q, false).await,
            want,
            "search {search:?}"
        );
    }
}

#[tokio::test]
async fn the_name_index_and_tallies_follow_create_rename_and_delete() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant_with(&app, &root, "Follow", &["wa_keep".to_owned()]).await;
    let find = |s: &str| {
        let q = json!({"search": s, "provider": "", "sort": "Name", "descending": false,
                       "at": "First", "per_page": 20});
        let app = &app;
        let cookie = t.cookie.clone();
        async move { names(&list(app, &cookie, q).await) }
    };
    let common = app
        .call("get_channel_options", &[], Some(&t.cookie))
        .await
        .json();
    let queue = common["skill_queues"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let mut draft = provider_drafts(&json!({"skill_queue_id": queue,
        "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "09:00", "end": "18:00"}]})).remove(0).1;
    draft["name"] = json!("wa_findme_1");
    let (id, _) = app.create_channel(&t.cookie, draft.clone()).await;
    assert_eq!(find("findme").await, ["wa_findme_1"]);
    assert_eq!(find("FINDME_1").await, ["wa_findme_1"]);
    let dashboard = |cookie: String| {
        let app = &app;
        async move { app.call("get_dashboard", &[], Some(&cookie)).await.json() }
    };
    let d = dashboard(t.cookie.clone()).await;
    assert_eq!(
        d["ok"].as_u64().unwrap()
            + d["attention"].as_u64().unwrap()
            + d["failing"].as_u64().unwrap(),
        2
    );

    // renamed: found by its new name only
    let edit = app
        .call("get_channel", &[("id", &id.to_string())], Some(&t.cookie))
        .await
        .json();
    let mut renamed = edit["draft"].clone();
    renamed["name"] = json!("wa_other_1");
    let r = app
        .call_json(
            "update_channel",
            json!({"id": id, "version": edit["version"], "draft": renamed}),
            Some(&t.cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(find("findme").await.is_empty());
    assert_eq!(find("other").await, ["wa_other_1"]);
    assert_eq!(find("wa").await, ["wa_keep", "wa_other_1"]);

    // failing, then deleted: the tallies follow, compacted or not
    failing_every(&app, t.id, 1).await;
    let d = dashboard(t.cookie.clone()).await;
    assert_eq!(
        (d["ok"].as_u64(), d["failing"].as_u64()),
        (Some(0), Some(2)),
        "{d}"
    );
    let r = app
        .call(
            "delete_channel",
            &[("id", &id.to_string())],
            Some(&t.cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(find("other").await.is_empty());
    let d = dashboard(t.cookie.clone()).await;
    assert_eq!(d["failing"].as_u64(), Some(1), "{d}");
    let before = server::db::tallies::of(&app.state.db.conn, t.id)
        .await
        .unwrap();
    server::db::tallies::compact_tenant(&app.state.db.conn, t.id)
        .await
        .unwrap();
    assert_eq!(
        server::db::tallies::of(&app.state.db.conn, t.id)
            .await
            .unwrap(),
        before
    );
    let rows: i64 = app
        .state
        .db
        .conn
        .query_one(Statement::from_string(
            app.state.db.conn.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM channel_tallies WHERE tenant_id = {}",
                t.id
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(rows, 1, "one row per group once compacted");
    let list = list(&app, &t.cookie, query("Name", false, &("", "", true), 20)).await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn a_search_that_matches_more_than_it_counts_still_pages() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Many", "many-admin", "list-password-1")
        .await;
    server::demo::seed(&app.state, "Many", 10_050)
        .await
        .unwrap();
    let cookie = app.session("many-admin", "list-password-1").await;
    // every name holds "demo": the sort's index is walked, and the count stops at 10,000
    let q = json!({"search": "DEMO", "provider": "", "sort": "Name", "descending": true,
                   "at": "First", "per_page": 100});
    let page = list(&app, &cookie, q.clone()).await;
    assert_eq!(
        (page["total"].as_u64(), page["more"].as_bool()),
        (Some(10_000), Some(true))
    );
    assert_eq!(names(&page)[0], "demo_010049");
    let mut last = q.clone();
    last["at"] = json!("Last");
    let end = list(&app, &cookie, last).await;
    assert_eq!(names(&end).last().unwrap(), "demo_000000");
    assert_eq!(end["has_next"], false);
    // a rare one: the trigram index's few matches, sorted
    let q = json!({"search": "mo_0100", "provider": "", "sort": "Name", "descending": false,
                   "at": "First", "per_page": 20});
    let page = list(&app, &cookie, q).await;
    assert_eq!(page["total"], 50);
    assert_eq!(names(&page)[0], "demo_010000");
    // with a filter: counted exactly over the few
    let q = json!({"search": "mo_0100", "provider": "twilio", "sort": "Updated", "descending": true,
                   "at": "First", "per_page": 20});
    let page = list(&app, &cookie, q).await;
    assert_eq!(page["total"], 10);
    // paged both ways: a few matches (PostgreSQL pages them from their ids), a thousand (as
    // many as it lists), and more (read on the trigram index again for every page)
    for (search, from, n) in [("o_0005", 500, 100), ("mo_001", 1_000, 1_000)] {
        let want: Vec<String> = (from..from + n).map(|i| format!("demo_{i:06}")).collect();
        for descending in [false, true] {
            let q = json!({"search": search, "provider": "", "sort": "Name",
                           "descending": descending, "at": "First", "per_page": 70});
            let mut want = want.clone();
            if descending {
                want.reverse();
            }
            assert_eq!(list(&app, &cookie, q.clone()).await["total"], n);
            assert_eq!(
                walk(&app, &cookie, q.clone(), false).await,
                want,
                "{search}"
            );
            assert_eq!(walk(&app, &cookie, q, true).await, want, "{search}");
        }
    }
    let q = json!({"search": "mo_00", "provider": "", "sort": "Updated", "descending": false,
                   "at": "First", "per_page": 20});
    let page = list(&app, &cookie, q).await;
    assert_eq!(
        (page["total"].as_u64(), page["more"].as_bool()),
        (Some(10_000), Some(false))
    );
    // the whole list: the tallies, exact beyond 10,000
    let q = json!({"search": "", "provider": "", "sort": "Name", "descending": false,
                   "at": "First", "per_page": 20});
    let page = list(&app, &cookie, q).await;
    assert_eq!(
        (page["total"].as_u64(), page["more"].as_bool()),
        (Some(10_050), Some(false))
    );
    let q = json!({"search": "", "provider": "other", "sort": "Health", "descending": true,
                   "at": "First", "per_page": 20});
    assert_eq!(list(&app, &cookie, q).await["total"], 4_020);
}

/// Events of a channel, as the webhook writer stores them: `n` of them, three to an instant.
async fn events(app: &TestApp, tenant: i64, channel: i64, from: usize, n: usize) {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    use server::db::entities::webhook_event;
    let base = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    for chunk in (from..from + n).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&i| webhook_event::ActiveModel {
            channel_id: Set(channel),
            tenant_id: Set(tenant),
            kind: Set("message".into()),
            provider_message_id: Set(format!("m{i:05}")),
            sender: Set("+4915112345678".into()),
            recipient: Set("+4915187654321".into()),
            text: Set(Some(format!("hello {i}"))),
            status: Set(None),
            status_rank: Set(0),
            delivery_id: Set(None),
            received_at: Set(base + time::Duration::seconds((i / 3) as i64)),
            ..Default::default()
        });
        webhook_event::Entity::insert_many(rows)
            .exec(&app.state.db.conn)
            .await
            .unwrap();
    }
}

async fn activity(app: &TestApp, cookie: &str, id: i64, at: Value) -> Value {
    let r = app
        .call_json(
            "get_channel_activity",
            json!({"id": id, "at": at}),
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn activity_pages_by_seeking_newest_first_while_events_arrive() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let t = tenant_with(&app, &root, "Busy", &["wa_busy".to_owned()]).await;
    let id =
        list(&app, &t.cookie, query("Name", false, &("", "", false), 20)).await["rows"][0]["id"]
            .as_i64()
            .unwrap();
    events(&app, t.id, id, 0, 47).await;
    // newest first: the later instant, then the larger id within one
    let want: Vec<String> = (0..47).rev().map(|i| format!("m{i:05}")).collect();
    let ids = |a: &Value| -> Vec<String> {
        a["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["provider_message_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut arrived = 47;
    for backwards in [false, true] {
        let mut at = json!(if backwards { "Last" } else { "First" });
        let mut pages: Vec<Vec<String>> = Vec::new();
        loop {
            let a = activity(&app, &t.cookie, id, at.clone()).await;
            assert_eq!(
                (a["total"].as_u64(), a["more"].as_bool()),
                (Some(arrived as u64), Some(false))
            );
            pages.push(ids(&a));
            let (more, key, dir) = if backwards {
                (
                    a["has_previous"].as_bool().unwrap(),
                    a["first"].clone(),
                    "Before",
                )
            } else {
                (a["has_next"].as_bool().unwrap(), a["last"].clone(), "After")
            };
            if !more {
                break;
            }
            at = json!({ dir: key });
            // a new event arrives between page loads: newer than every page, shown on none
            // of the older ones and never twice
            if !backwards {
                events(&app, t.id, id, arrived, 1).await;
                arrived += 1;
            }
        }
        if backwards {
            pages.reverse();
        }
        let seen: Vec<String> = pages.concat();
        let label = format!("backwards={backwards}");
        if backwards {
            // with the ones that arrived during the forward walk, the newest
            assert_eq!(arrived, 49);
            let all: Vec<String> = (0..arrived).rev().map(|i| format!("m{i:05}")).collect();
            assert_eq!(seen, all, "{label}");
        } else {
            assert_eq!(seen, want, "{label}");
            assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [20, 20, 7]);
        }
    }
    // a busy channel is counted up to the limit
    events(&app, t.id, id, 100, 10_000).await;
    let a = activity(&app, &t.cookie, id, json!("First")).await;
    assert_eq!(
        (a["total"].as_u64(), a["more"].as_bool()),
        (Some(10_000), Some(true))
    );
    assert_eq!(ids(&a)[0], "m10099");
    let oldest = activity(&app, &t.cookie, id, json!("Last")).await;
    assert_eq!(ids(&oldest).last().unwrap(), "m00000");
    assert_eq!(oldest["has_next"], false);
    assert_eq!(oldest["has_previous"], true);
}
