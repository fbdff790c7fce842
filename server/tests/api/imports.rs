//! Importing an edited export through HTTP: the dry run's outcome per row (changed,
//! unchanged, error, unknown), Apply all or nothing (a failing row or a channel saved since
//! the dry run applies nothing), one audit entry per changed channel with its diff, versions
//! bumped, tenants apart, and hostile files refused with one clear message.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use server::db::entities::import_task;
use server::exports::writer;
use server::imports::sheet;
use std::io::{Cursor, Write};
use std::time::Duration;

const SECRET: &str = "import-canary-secret";

struct World {
    app: TestApp,
    a: String,
    b: String,
    tenant_a: i64,
    ids: Vec<i64>,
}

fn infobip(name: &str, queue: &str) -> Value {
    json!({
        "provider": "infobip", "name": name, "skill_queue_id": queue,
        "workday": [{"start": "09:00", "end": "18:00"}], "non_workday": [{"start": "10:00", "end": "16:00"}],
        "phone_number": "+4915112345678", "username": "acme", "base_url": "https://api.infobip.com/wa",
        "password": format!("{SECRET}-password"), "account_key": format!("{SECRET}-key"),
        "webhook_password": format!("{SECRET}-webhook"), "keywords": "agent",
    })
}

/// Alpha with channels wa_1..wa_n, queues Care and Sales and OU North; Beta with wa_beta.
async fn world(n: usize) -> World {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    let tenant_a = app
        .create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    app.call(
        "add_trust_prefix",
        &[("prefix", "https://api.infobip.com"), ("scope", "global")],
        Some(&root),
    )
    .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let b = app.session("beta-admin", "beta-password1").await;
    let mut queue = String::new();
    for (cookie, name, code) in [(&a, "Care", "1"), (&a, "Sales", "2"), (&b, "Care", "1")] {
        let id = app
            .call(
                "create_skill_queue",
                &[("name", name), ("access_code", code)],
                Some(cookie),
            )
            .await
            .json()
            .as_i64()
            .unwrap();
        if cookie == &a && name == "Care" {
            queue = id.to_string();
        }
    }
    let r = app
        .call(
            "create_ou",
            &[("name", "North"), ("parent_id", "")],
            Some(&a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ids = Vec::new();
    for i in 1..=n {
        let r = app
            .call_json(
                "create_channel",
                json!({"draft": infobip(&format!("wa_{i}"), &queue)}),
                Some(&a),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        ids.push(r.json().as_i64().unwrap());
    }
    let beta_queue = app.call("get_channel_options", &[], Some(&b)).await.json()["skill_queues"][0]
        ["id"]
        .as_i64()
        .unwrap();
    let r = app
        .call_json(
            "create_channel",
            json!({"draft": infobip("wa_beta", &beta_queue.to_string())}),
            Some(&b),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    World {
        app,
        a,
        b,
        tenant_a,
        ids,
    }
}

/// Exports every channel of the cookie's tenant and answers the file.
async fn export(app: &TestApp, cookie: &str) -> Vec<u8> {
    let id = app
        .call_json("start_export", json!({"ids": []}), Some(cookie))
        .await
        .json()
        .as_i64()
        .unwrap();
    for _ in 0..150 {
        let list = app.call("list_exports", &[], Some(cookie)).await.json();
        let t = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone();
        if t["status"] == "Success" {
            let res = app
                .http
                .get(format!("{}/config/exports/{id}/download", app.base))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            return res.bytes().await.unwrap().to_vec();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("export {id} did not finish");
}

/// The rows of an export, in `COLUMNS` order, as a person editing it sees them.
fn rows_of(xlsx: &[u8]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    sheet::read(xlsx, &writer::COLUMNS, &[], |_, r| {
        rows.push(r.cells);
        Ok::<(), ()>(())
    })
    .unwrap()
    .unwrap();
    rows
}

fn col(name: &str) -> usize {
    writer::COLUMNS.iter().position(|c| *c == name).unwrap()
}

async fn upload(app: &TestApp, cookie: &str, name: &str, file: Vec<u8>) -> Answer {
    use reqwest::multipart::{Form, Part};
    let form = Form::new().part("file", Part::bytes(file).file_name(name.to_owned()));
    let res = app
        .http
        .post(format!("{}/api/import_channels", app.base))
        .header("Cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    Answer {
        status,
        headers,
        body: res.text().await.unwrap(),
    }
}

/// Uploads and waits for the dry run (or Apply) to end; answers the import's view.
async fn import(app: &TestApp, cookie: &str, file: Vec<u8>) -> (i64, Value) {
    let r = upload(app, cookie, "channels.xlsx", file).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_i64().unwrap();
    (id, settled(app, cookie, id, "").await)
}

async fn view(app: &TestApp, cookie: &str, id: i64, outcome: &str) -> Answer {
    app.call_json(
        "get_import",
        json!({"id": id, "outcome": outcome, "at": "First"}),
        Some(cookie),
    )
    .await
}

async fn settled(app: &TestApp, cookie: &str, id: i64, outcome: &str) -> Value {
    for _ in 0..600 {
        let v = view(app, cookie, id, outcome).await;
        assert_eq!(v.status, 200, "{}", v.body);
        let v = v.json();
        if !matches!(
            v["summary"]["status"].as_str(),
            Some("Checking" | "Applying")
        ) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

fn counts(v: &Value) -> (i64, i64, i64, i64) {
    let c = &v["summary"]["counts"];
    (
        c["changed"].as_i64().unwrap(),
        c["unchanged"].as_i64().unwrap(),
        c["errors"].as_i64().unwrap(),
        c["unknown"].as_i64().unwrap(),
    )
}

async fn channel(app: &TestApp, cookie: &str, id: i64) -> Value {
    app.call("get_channel", &[("id", &id.to_string())], Some(cookie))
        .await
        .json()
}

async fn audit(app: &TestApp, cookie: &str, action: &str) -> Vec<Value> {
    let r = app
        .call_json(
            "list_tenant_audit",
            json!({"filter": {"actor": "", "action": action, "object": "", "object_id": "", "from": "", "to": "", "before": ""}}),
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn dry_run_sorts_rows_and_apply_saves_every_change_or_none() {
    let w = world(4).await;
    let (app, a) = (&w.app, &w.a);
    let file = export(app, a).await;
    let mut rows = rows_of(&file);
    assert_eq!(rows.len(), 4);
    // wa_1: a keyword; wa_2: as exported; wa_3: a queue that does not exist; wa_4: a
    // timeout of zero; and two names Alpha has no channel of (one is Beta's)
    rows[0][col("Keyword for Transfer to Agent")] = "human, person".into();
    rows[2][col("Skill Queue")] = "Nowhere".into();
    rows[3][col("Session End Due to No Customer Reply")] = "YES".into();
    rows[3][col("No Customer Reply Timeout (minutes)")] = "0".into();
    let mut ghost = rows[1].clone();
    ghost[0] = "wa_ghost".into();
    let mut beta = rows[1].clone();
    beta[0] = "wa_beta".into();
    rows.push(ghost);
    rows.push(beta);
    let (id, v) = import(app, a, writer::xlsx(&rows).unwrap()).await;
    assert_eq!(v["summary"]["status"], "Checked", "{v}");
    assert_eq!(counts(&v), (1, 1, 2, 2), "{v}");
    assert_eq!(v["summary"]["rows_read"], 6);
    let all = v["rows"].as_array().unwrap();
    let outcomes: Vec<&str> = all.iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        [
            "Changed",
            "Unchanged",
            "Error",
            "Error",
            "Unknown",
            "Unknown"
        ]
    );
    // rows as the sheet numbers them; the diff of the change; each error by cell and column
    assert_eq!(all[0]["row"], 2);
    assert_eq!(
        all[0]["changes"],
        json!([{"field": "Keyword for Transfer to Agent", "before": "agent", "after": "human, person", "secret": false}])
    );
    assert_eq!(
        all[2]["errors"],
        json!([{"column": "Skill Queue", "cell": "E4", "message": "There is no skill queue named 'Nowhere'."}])
    );
    assert_eq!(all[3]["errors"][0]["cell"], "M5", "{}", all[3]);
    assert_eq!(
        all[3]["errors"][0]["column"],
        "No Customer Reply Timeout (minutes)"
    );
    // one outcome at a time
    let errors = view(app, a, id, "error").await.json();
    assert_eq!(errors["total"], 2);
    assert_eq!(errors["rows"].as_array().unwrap().len(), 2);
    assert_eq!(view(app, a, id, "bogus").await.status, 422);

    // rows in error stop Apply: nothing changes
    let r = app
        .call_json("apply_import", json!({"id": id}), Some(a))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("4 rows cannot be imported (errors or unknown channels)"),
        "{}",
        r.body
    );
    assert_eq!(
        channel(app, a, w.ids[0]).await["draft"]["keywords"],
        "agent"
    );

    // Beta sees nothing of Alpha's import
    assert_eq!(view(app, &w.b, id, "").await.status, 404);
    assert_eq!(
        app.call_json("apply_import", json!({"id": id}), Some(&w.b))
            .await
            .status,
        404
    );
    assert_eq!(
        app.call("list_imports", &[], Some(&w.b)).await.json(),
        json!([])
    );

    // the corrected file: wa_1's keyword, wa_3 into OU North, wa_4 as exported
    let mut rows = rows_of(&file);
    rows[0][col("Keyword for Transfer to Agent")] = "human, person".into();
    rows[2][col("OU Configuration")] = "north".into();
    rows[2][col("Skill Queue")] = "Sales".into();
    let before = channel(app, a, w.ids[0]).await;
    let (id, v) = import(app, a, writer::xlsx(&rows).unwrap()).await;
    assert_eq!(counts(&v), (2, 2, 0, 0), "{v}");
    let r = app
        .call_json("apply_import", json!({"id": id}), Some(a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // asked twice: the second is refused, not applied twice
    let again = app
        .call_json("apply_import", json!({"id": id}), Some(a))
        .await;
    assert_eq!(again.status, 422, "{}", again.body);
    let v = settled(app, a, id, "").await;
    assert_eq!(v["summary"]["status"], "Applied", "{v}");

    let after = channel(app, a, w.ids[0]).await;
    assert_eq!(after["draft"]["keywords"], "human, person");
    assert_eq!(
        after["version"].as_i64().unwrap(),
        before["version"].as_i64().unwrap() + 1
    );
    let third = channel(app, a, w.ids[2]).await;
    let options = app.call("get_channel_options", &[], Some(a)).await.json();
    let sales = options["skill_queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "Sales")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(third["draft"]["skill_queue_id"], sales.to_string());
    assert_ne!(third["draft"]["ou_id"], "");
    // the credentials were not touched: the stored secrets are still configured
    assert_eq!(after["configured"], before["configured"]);
    assert_eq!(after["draft"]["password"], "");
    // an edit form opened before the import is refused as stale
    let r = app
        .call_json(
            "update_channel",
            json!({"id": w.ids[0], "version": before["version"], "draft": before["draft"]}),
            Some(a),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Someone else saved this channel"),
        "{}",
        r.body
    );

    // the name index and the kept tallies followed Apply's updates: each name found once
    let found = app
        .call_json(
            "list_channels",
            json!({"query": {"search": "WA_", "provider": "", "sort": "Name", "descending": false, "at": "First", "per_page": 20}}),
            Some(a),
        )
        .await
        .json();
    let names: Vec<&str> = found["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["wa_1", "wa_2", "wa_3", "wa_4"], "{found}");
    assert_eq!(found["total"], 4);
    let d = app.call("get_dashboard", &[], Some(a)).await.json();
    assert_eq!(
        ["ok", "attention", "failing"]
            .iter()
            .map(|k| d[k].as_u64().unwrap())
            .sum::<u64>(),
        4,
        "{d}"
    );

    // one entry per changed channel with its diff, and the import's own entries
    let imported = audit(app, a, "channel_imported").await;
    assert_eq!(imported.len(), 2);
    let names: Vec<&str> = imported
        .iter()
        .map(|e| e["object_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["wa_3", "wa_1"]);
    assert_eq!(
        imported[1]["changes"],
        json!([{"field": "Keyword for Transfer to Agent", "before": "agent", "after": "human, person", "secret": false}])
    );
    assert_eq!(imported[0]["actor"], "alpha-admin");
    assert_eq!(audit(app, a, "import_started").await.len(), 2);
    let applied = audit(app, a, "import_applied").await;
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["changes"][0]["after"], "2");
    // no secret anywhere in what an import shows or stored
    let shown = format!(
        "{}{}",
        view(app, a, id, "").await.body,
        app.call("list_imports", &[], Some(a)).await.body
    );
    assert!(!shown.contains(SECRET));
    let list = app.call("list_imports", &[], Some(a)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_channel_saved_after_the_dry_run_makes_apply_change_nothing() {
    let w = world(3).await;
    let (app, a) = (&w.app, &w.a);
    let mut rows = rows_of(&export(app, a).await);
    for r in rows.iter_mut() {
        r[col("Non-Working Time Notification")] = "Closed for the holidays.".into();
    }
    let (id, v) = import(app, a, writer::xlsx(&rows).unwrap()).await;
    assert_eq!(counts(&v), (3, 0, 0, 0), "{v}");
    // someone saves wa_2 in its form meanwhile
    let stored = channel(app, a, w.ids[1]).await;
    let mut draft = stored["draft"].clone();
    draft["keywords"] = json!("agent, help");
    let r = app
        .call_json(
            "update_channel",
            json!({"id": w.ids[1], "version": stored["version"], "draft": draft}),
            Some(a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .call_json("apply_import", json!({"id": id}), Some(a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = settled(app, a, id, "").await;
    assert_eq!(v["summary"]["status"], "Failed", "{v}");
    assert_eq!(
        v["summary"]["error"],
        "The channel 'wa_2' (row 3) was changed or deleted after the dry run: nothing was applied. Import the file again to check it against the channels as they are now."
    );
    // wa_1 came before wa_2 in the same transaction: it is unchanged too
    for id in &w.ids {
        assert_eq!(
            channel(app, a, *id).await["draft"]["non_working_notification"],
            "",
            "channel {id}"
        );
    }
    assert!(audit(app, a, "channel_imported").await.is_empty());
    assert!(audit(app, a, "import_applied").await.is_empty());

    // a skill queue the file names, deleted between the dry run and Apply
    let mut rows = rows_of(&export(app, a).await);
    rows[0][col("Skill Queue")] = "Sales".into();
    let (id, v) = import(app, a, writer::xlsx(&rows).unwrap()).await;
    assert_eq!(counts(&v), (1, 2, 0, 0), "{v}");
    let options = app.call("get_channel_options", &[], Some(a)).await.json();
    let sales = options["skill_queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "Sales")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .call("delete_skill_queue", &[("id", &sales.to_string())], Some(a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .call_json("apply_import", json!({"id": id}), Some(a))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = settled(app, a, id, "").await;
    assert_eq!(
        v["summary"]["error"],
        "The skill queue of the channel 'wa_1' (row 2) was deleted after the dry run: nothing was applied. Import the file again."
    );
    assert!(audit(app, a, "channel_imported").await.is_empty());
}

/// A zip holding `members`.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        z.start_file(
            *name,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// An xlsx written cell by cell: `header` then `rows`, with `formula` in (row, col) showing
/// `cached`.
fn book(header: &[&str], rows: &[Vec<String>], formula: Option<(u32, u16, &str, &str)>) -> Vec<u8> {
    let mut b = rust_xlsxwriter::Workbook::new();
    let s = b.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            s.write_string(r as u32 + 1, c as u16, v).unwrap();
        }
    }
    if let Some((r, c, f, cached)) = formula {
        s.write_formula(r, c, rust_xlsxwriter::Formula::new(f).set_result(cached))
            .unwrap();
    }
    b.save_to_buffer().unwrap()
}

async fn failed_with(app: &TestApp, cookie: &str, name: &str, file: Vec<u8>) -> String {
    let r = upload(app, cookie, name, file).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = settled(app, cookie, r.json().as_i64().unwrap(), "").await;
    assert_eq!(v["summary"]["status"], "Failed", "{v}");
    assert_eq!(v["rows"], json!([]), "a refused file leaves no rows");
    v["summary"]["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn hostile_files_are_refused_with_one_clear_message_and_change_nothing() {
    let w = world(2).await;
    let (app, a) = (&w.app, &w.a);
    let exported = export(app, a).await;
    let field_error = |r: &Answer| {
        r.json()["Invalid"][0]["message"]
            .as_str()
            .map(str::to_owned)
    };

    // not a spreadsheet: refused at once, next to the file field
    let r = upload(
        app,
        a,
        "notes.xlsx",
        b"Channel Name,Keyword\nwa_1,x\n".to_vec(),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        field_error(&r).unwrap(),
        "This file is not a spreadsheet: upload the .xlsx (or the .zip of .xlsx files) that Export produced."
    );
    // a zip without a workbook
    let msg = failed_with(app, a, "x.zip", zip_of(&[("readme.txt", b"hello")])).await;
    assert!(msg.starts_with("This file is not a spreadsheet"), "{msg}");
    // empty
    let r = upload(app, a, "empty.xlsx", Vec::new()).await;
    assert_eq!(
        field_error(&r).unwrap(),
        "Choose the .xlsx or .zip file to import."
    );

    // larger than 20 MiB: by one byte (the server function), by a lot (the body limit)
    let mut big = b"PK\x03\x04".to_vec();
    big.resize(20 * 1024 * 1024 + 1, 0);
    let r = upload(app, a, "big.xlsx", big).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        field_error(&r)
            .unwrap()
            .starts_with("The file is larger than 20 MiB")
    );
    let r = upload(app, a, "huge.xlsx", vec![0u8; 21 * 1024 * 1024]).await;
    assert_eq!(r.status, 413, "{}", r.body);

    // a zip bomb: a member that inflates past what an export's file can be stops there (its
    // memory: tests/memory.rs)
    let zeros = vec![0u8; 1024 * 1024];
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file(
        "channels-001.xlsx",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true),
    )
    .unwrap();
    for _ in 0..600 {
        z.write_all(&zeros).unwrap();
    }
    let bomb = z.finish().unwrap().into_inner();
    assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
    let msg = failed_with(app, a, "bomb.zip", bomb).await;
    assert_eq!(
        msg,
        "channels-001.xlsx unpacks to more than 20 MiB, more than a file of an export can: it was not read."
    );

    // a required column missing: one error naming it
    let header: Vec<&str> = writer::COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "Business Solution Provider")
        .collect();
    let msg = failed_with(app, a, "missing.xlsx", book(&header, &[], None)).await;
    assert_eq!(
        msg,
        "The column 'Business Solution Provider' is missing: keep the header row as Export wrote it (columns may be in any order)."
    );
    // more rows than the cap
    let many: Vec<Vec<String>> = (0..100_001)
        .map(|i| vec![format!("x{i}"), "WhatsApp".into(), "infobip".into()])
        .collect();
    let msg = failed_with(
        app,
        a,
        "many.xlsx",
        book(
            &["Channel Name", "Channel Type", "Business Solution Provider"],
            &many,
            None,
        ),
    )
    .await;
    assert_eq!(
        msg,
        "The file has more than 100,000 channel rows: import at most 100,000 at a time."
    );
    // a header and no rows
    let msg = failed_with(app, a, "empty.xlsx", book(&writer::COLUMNS, &[], None)).await;
    assert_eq!(
        msg,
        "The file has a header row but no channel rows: there is nothing to import."
    );

    // shuffled columns, only some of them, and a formula: matched by header, the formula's
    // cached text taken, never evaluated
    let rows = rows_of(&exported);
    let header = [
        "Keyword for Transfer to Agent",
        "Business Solution Provider",
        "Channel Name",
        "Channel Type",
    ];
    let picked: Vec<Vec<String>> = rows
        .iter()
        .map(|r| header.iter().map(|h| r[col(h)].clone()).collect())
        .collect();
    let file = book(
        &header,
        &picked,
        Some((1, 0, "=HYPERLINK(\"http://x\",\"y\")", "formula text")),
    );
    let (_, v) = import(app, a, file).await;
    assert_eq!(counts(&v), (1, 1, 0, 0), "{v}");
    assert_eq!(
        v["rows"][0]["changes"],
        json!([{"field": "Keyword for Transfer to Agent", "before": "agent", "after": "formula text", "secret": false}])
    );
    // the zip Export writes for many channels reads the same as its files one by one
    let zipped = zip_of(&[("channels-001.xlsx", &exported)]);
    let (_, v) = import(app, a, zipped).await;
    assert_eq!(counts(&v), (0, 2, 0, 0), "{v}");
    assert_eq!(v["rows"][0]["file"], "channels-001.xlsx");

    // nothing changed by any of it
    for id in &w.ids {
        assert_eq!(channel(app, a, *id).await["draft"]["keywords"], "agent");
    }
}

#[tokio::test]
async fn only_tenant_administrators_import() {
    let w = world(1).await;
    let app = &w.app;
    let file = export(app, &w.a).await;
    let root = app.session(ROOT_USER, ROOT_PASSWORD).await;
    assert_eq!(upload(app, &root, "x.xlsx", file.clone()).await.status, 403);
    let res = app
        .http
        .post(format!("{}/api/import_channels", app.base))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(file.clone()).file_name("x.xlsx"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(app.call("list_imports", &[], Some(&root)).await.status, 403);
    // a second import waits while one of the tenant is being checked or applied
    let running = import_task::ActiveModel {
        tenant_id: Set(w.tenant_a),
        status: Set("applying".into()),
        file_name: Set("elsewhere.xlsx".into()),
        attempts: Set(1),
        claimed_by: Set(Some("another-instance".into())),
        claimed_until: Set(Some(
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        )),
        created_at: Set(time::OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&app.state.db.conn)
    .await
    .unwrap();
    let rows = rows_of(&file);
    let r = upload(app, &w.a, "b.xlsx", writer::xlsx(&rows).unwrap()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("Another import of this tenant space is being checked or applied"),
        "{}",
        r.body
    );
    import_task::Entity::delete_by_id(running.id)
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    // the newest 20 imports are kept: the 21st drops the oldest
    let mut first = None;
    for _ in 0..21 {
        let (id, _) = import(app, &w.a, writer::xlsx(&rows).unwrap()).await;
        first.get_or_insert(id);
    }
    let list = app.call("list_imports", &[], Some(&w.a)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 20);
    assert_eq!(view(app, &w.a, first.unwrap(), "").await.status, 404);
}

/// A sender that declares a 20 MiB upload and sends a little of it, its connection kept open;
/// answers what the server said within `wait` (empty when nothing yet).
async fn slow_upload(
    app: &TestApp,
    cookie: Option<&str>,
    wait: Duration,
) -> (tokio::net::TcpStream, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    s.write_all(
        format!(
            "POST /api/import_channels HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\n{cookie}Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n--x\r\n",
            app.addr,
            app.base,
            20 * 1024 * 1024
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(wait, s.read(&mut answer))
        .await
        .map_or(0, |r| r.unwrap_or(0));
    (s, String::from_utf8_lossy(&answer[..n]).into_owned())
}

/// Upload places go to signed-in tenant spaces, one each, two at once in all: callers who never
/// signed in hold none (answered 401 before their body is read), a tenant space's second
/// upload waits for its first, and a sender that stalls loses its place within seconds.
#[tokio::test]
async fn upload_places_are_for_signed_in_tenants_one_each_and_stalled_senders_lose_theirs() {
    let w = world(1).await;
    let app = &w.app;
    let file = export(app, &w.a).await;
    let root = app.session(ROOT_USER, ROOT_PASSWORD).await;
    app.create_tenant(&root, "Gamma", "gamma-admin", "gamma-password")
        .await;
    let c = app.session("gamma-admin", "gamma-password").await;

    // two callers who never signed in: told at once, their connections left open
    let mut anonymous = Vec::new();
    for _ in 0..2 {
        let (stream, answer) = slow_upload(app, None, Duration::from_secs(2)).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        anonymous.push(stream);
    }
    let r = upload(app, &w.a, "a.xlsx", file.clone()).await;
    assert_eq!(
        r.status, 200,
        "a signed-in tenant's import is read: {}",
        r.body
    );
    settled(app, &w.a, r.json().as_i64().unwrap(), "").await;

    // Alpha's own slow upload: Alpha's next one waits for it, Beta's is read
    let (alpha_slow, answer) = slow_upload(app, Some(&w.a), Duration::from_millis(300)).await;
    assert_eq!(answer, "", "the slow upload is being read");
    let r = upload(app, &w.a, "a.xlsx", file.clone()).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body
            .contains("Another import of this tenant space is being uploaded"),
        "{}",
        r.body
    );
    let r = upload(app, &w.b, "b.xlsx", file.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    settled(app, &w.b, r.json().as_i64().unwrap(), "").await;

    // Beta slow too: both places are taken, Gamma is told to try again...
    let (beta_slow, _) = slow_upload(app, Some(&w.b), Duration::from_millis(300)).await;
    let r = upload(app, &c, "c.xlsx", file.clone()).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.headers.get("retry-after").unwrap(), "1");
    // ...and the stalled senders are cut off once their grace has passed, not after 120 s
    let started = std::time::Instant::now();
    let r = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let r = upload(app, &c, "c.xlsx", file.clone()).await;
        if r.status != 503 || started.elapsed() > Duration::from_secs(10) {
            break r;
        }
    };
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop((anonymous, alpha_slow, beta_slow));
}

/// An upload takes time: who sent it is asked again when it has arrived, and one who was
/// signed out meanwhile starts nothing.
#[tokio::test]
async fn an_upload_whose_sender_was_signed_out_meanwhile_starts_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world(1).await;
    let app = &w.app;
    let file = export(app, &w.a).await;
    let mut body = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    body.extend_from_slice(&file);
    body.extend_from_slice(b"\r\n--x--\r\n");
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        format!(
            "POST /api/import_channels HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            app.addr,
            app.base,
            w.a,
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let half = body.len() / 2;
    s.write_all(&body[..half]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // signed out in another tab while the file is on its way
    let r = app.call("logout", &[], Some(&w.a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    s.write_all(&body[half..]).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(
        answer.contains("You were signed out while the file was uploading"),
        "{answer}"
    );
    let kept = import_task::Entity::find()
        .count(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(kept, 0, "nothing was started, nothing is left");
}

/// Every row of a dry run, page by page by seeking (Next after Next, or Previous from the
/// last page); the seq of each.
async fn walk_rows(
    app: &TestApp,
    cookie: &str,
    id: i64,
    outcome: &str,
    backwards: bool,
) -> Vec<Vec<i64>> {
    let mut at = json!(if backwards { "Last" } else { "First" });
    let mut pages = Vec::new();
    for _ in 0..100 {
        let v = app
            .call_json(
                "get_import",
                json!({"id": id, "outcome": outcome, "at": at}),
                Some(cookie),
            )
            .await;
        assert_eq!(v.status, 200, "{}", v.body);
        let v = v.json();
        pages.push(
            v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["seq"].as_i64().unwrap())
                .collect::<Vec<_>>(),
        );
        let (more, key, dir) = if backwards {
            (
                v["has_previous"].as_bool().unwrap(),
                v["first"].clone(),
                "Before",
            )
        } else {
            (v["has_next"].as_bool().unwrap(), v["last"].clone(), "After")
        };
        if !more {
            if backwards {
                pages.reverse();
            }
            return pages;
        }
        at = json!({ dir: key });
    }
    panic!("more than 100 pages");
}

#[tokio::test]
async fn the_rows_of_a_large_import_page_by_seeking_in_file_order() {
    let w = world(120).await;
    let (app, a) = (&w.app, &w.a);
    let mut rows = rows_of(&export(app, a).await);
    assert_eq!(rows.len(), 120);
    for (i, r) in rows.iter_mut().enumerate() {
        if i % 7 == 0 {
            r[col("Keyword for Transfer to Agent")] = format!("agent {i}");
        }
    }
    let (id, v) = import(app, a, writer::xlsx(&rows).unwrap()).await;
    assert_eq!(counts(&v), (18, 102, 0, 0), "{v}");
    for backwards in [false, true] {
        let all = walk_rows(app, a, id, "", backwards).await;
        assert_eq!(
            all.iter().map(Vec::len).collect::<Vec<_>>(),
            if backwards {
                [20, 50, 50]
            } else {
                [50, 50, 20]
            }
        );
        let seqs: Vec<i64> = all.concat();
        assert_eq!(seqs.len(), 120);
        assert!(
            seqs.windows(2).all(|p| p[0] < p[1]),
            "in file order, none twice: {seqs:?}"
        );
        let changed = walk_rows(app, a, id, "changed", backwards).await.concat();
        assert_eq!(changed.len(), 18);
        let unchanged = walk_rows(app, a, id, "unchanged", backwards).await.concat();
        assert_eq!(unchanged.len(), 102);
        let mut both: Vec<i64> = changed.iter().chain(&unchanged).copied().collect();
        both.sort_unstable();
        assert_eq!(both, seqs);
    }
    // a place that is not a row's any more (or never was) starts over at the nearer end
    let v = app
        .call_json(
            "get_import",
            json!({"id": id, "outcome": "", "at": {"After": "r:999999"}}),
            Some(a),
        )
        .await
        .json();
    // the last page: the last 50 rows
    assert_eq!(
        (v["has_next"].as_bool(), v["rows"].as_array().unwrap().len()),
        (Some(false), 50)
    );
    assert_eq!(v["rows"][49]["seq"], v["summary"]["rows_read"]);
    let v = app
        .call_json(
            "get_import",
            json!({"id": id, "outcome": "", "at": {"Before": "bogus"}}),
            Some(a),
        )
        .await
        .json();
    assert_eq!(
        (
            v["has_previous"].as_bool(),
            v["rows"].as_array().unwrap().len()
        ),
        (Some(false), 50)
    );
}
