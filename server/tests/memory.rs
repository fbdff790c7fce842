//! What hostile input costs in memory, measured where nothing else runs beside it: this
//! binary is kept apart from `tests/api` because its tests read resident memory (of this
//! process, or of a server or reader it starts), and they take turns (`alone()`), so no other
//! test's allocations are counted.
//!
//! Hostile imports cost no more than their size, in memory after reading, not only in bytes
//! read: each file below is at most 144 KiB and is made to make a reader allocate far more (a
//! shared string named thousands of times, one enormous text node, tens of millions of tiny
//! shared strings, a row wider than any sheet). The reader itself (`switchboard read-import`,
//! run here directly) stays within 64 MiB of its start and says why it refused each; and the
//! real server, which runs that reader in a child process, grows by no more than 128 MB over
//! its idle peak for these and for a 20 MiB upload. A 200 MiB sign-in body, a keystore made to
//! exhaust its parser and a zip bomb cost the in-process server a few MiB.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use server::imports::reader::Frame;
use std::io::{Cursor, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One memory test at a time in this process.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: u64 = 1024 * 1024;

/// A workbook of the given parts (besides its workbook and relations), deflated at the best
/// ratio.
fn workbook(shared: Option<&[u8]>, sheet: &[u8]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let mut part = |name: &str, bytes: &[u8]| {
        z.start_file(name, options).unwrap();
        z.write_all(bytes).unwrap();
    };
    part(
        "xl/workbook.xml",
        br#"<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Channels" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    part(
        "xl/_rels/workbook.xml.rels",
        br#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#,
    );
    if let Some(shared) = shared {
        part("xl/sharedStrings.xml", shared);
    }
    part("xl/worksheets/sheet1.xml", sheet);
    z.finish().unwrap().into_inner()
}

/// The header row of an export, as inline strings.
fn header() -> String {
    let mut row = String::from(r#"<row r="1">"#);
    for (i, name) in server::exports::writer::COLUMNS.iter().enumerate() {
        row.push_str(&format!(
            r#"<c r="{}1" t="inlineStr"><is><t>{name}</t></is></c>"#,
            server::imports::sheet::column_letters(i)
        ));
    }
    row.push_str("</row>");
    row
}

fn sheet(rows: &str) -> Vec<u8> {
    format!(
        "<worksheet><sheetData>{}{rows}</sheetData></worksheet>",
        header()
    )
    .into_bytes()
}

/// Each hostile file, and how the refusal it gets begins.
fn hostile_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut files = Vec::new();
    // one row naming one 128 KiB shared string 3,000 times
    let shared = format!("<sst><si><t>{}</t></si></sst>", "x".repeat(128 * 1024));
    let refs: String = (0..3_000)
        .map(|i| {
            format!(
                r#"<c r="{}2" t="s"><v>0</v></c>"#,
                server::imports::sheet::column_letters(i)
            )
        })
        .collect();
    files.push((
        "a 128 KiB shared string named 3,000 times",
        workbook(
            Some(shared.as_bytes()),
            &sheet(&format!(r#"<row r="2">{refs}</row>"#)),
        ),
        "Cell in the shared strings has more than 32,767 characters.",
    ));
    // the longest a cell may be, named 3,000 times in one row
    let shared = format!("<sst><si><t>{}</t></si></sst>", "x".repeat(32_000));
    files.push((
        "a 32,000-character shared string named 3,000 times in one row",
        workbook(
            Some(shared.as_bytes()),
            &sheet(&format!(r#"<row r="2">{refs}</row>"#)),
        ),
        "Cell Y2 is right of the header row's last column (X)",
    ));
    // ...and in every column of 1,000 rows (768 MB of copies): its copies are bounded
    let row: String = (0..24)
        .map(|i| {
            format!(
                r#"<c r="{}" t="s"><v>0</v></c>"#,
                server::imports::sheet::column_letters(i)
            )
        })
        .collect();
    let rows: String = (2..1_002)
        .map(|n| format!(r#"<row r="{n}">{row}</row>"#))
        .collect();
    files.push((
        "a 32,000-character shared string in every cell of 1,000 rows",
        workbook(Some(shared.as_bytes()), &sheet(&rows)),
        "The file unpacks to more than 512 MiB",
    ));
    // one text node of 140 MB
    let mut text = sheet("");
    let at = text.len() - "</sheetData></worksheet>".len();
    text.splice(at..at, std::iter::repeat_n(b' ', 140 * 1024 * 1024));
    files.push((
        "one 140 MB text node",
        workbook(None, &text),
        "The spreadsheet holds a piece of XML over 1 MiB",
    ));
    // 20 million empty shared strings
    let mut shared = b"<sst>".to_vec();
    shared.extend(std::iter::repeat_n(&b"<si/>"[..], 20_000_000).flatten());
    shared.extend_from_slice(b"</sst>");
    files.push((
        "20 million empty shared strings",
        workbook(Some(&shared), &sheet("")),
        "The spreadsheet holds more than 2,500,000 different texts",
    ));
    // a row as wide as a sheet can be
    let wide: String = (0..16_384)
        .map(|i| {
            format!(
                r#"<c r="{}2" t="inlineStr"><is><t>v</t></is></c>"#,
                server::imports::sheet::column_letters(i)
            )
        })
        .collect();
    files.push((
        "a row of 16,384 cells",
        workbook(None, &sheet(&format!(r#"<row r="2">{wide}</row>"#))),
        "Cell Y2 is right of the header row's last column (X)",
    ));
    // cells without references, past the last column a sheet has
    let unnamed = r#"<c t="inlineStr"><is><t>v</t></is></c>"#.repeat(20_000);
    files.push((
        "a row of 20,000 cells without references",
        workbook(None, &sheet(&format!(r#"<row r="2">{unnamed}</row>"#))),
        "Cell Y2 is right of the header row's last column (X)",
    ));
    for (what, bytes, _) in &files {
        assert!(
            bytes.len() <= 144 * 1024,
            "{what}: {} bytes uploaded",
            bytes.len()
        );
    }
    files
}

/// Runs the reader on `bytes` as the server does; answers its last frame.
fn read_in_child(bytes: &[u8]) -> Frame {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("read-import")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    server::imports::reader::frames(&out)
        .expect("frames")
        .pop()
        .expect("the reader's last frame")
}

#[test]
fn the_reader_keeps_its_memory_proportional_to_what_it_keeps() {
    let _alone = ALONE.blocking_lock();
    for (what, bytes, refusal) in hostile_files() {
        let started = Instant::now();
        match read_in_child(&bytes) {
            Frame::Failed {
                error,
                start_kib,
                peak_kib,
            } => {
                let grown = peak_kib.saturating_sub(start_kib) * 1024;
                eprintln!(
                    "{what}: {} KiB uploaded, refused in {:?}, the reader's peak {} MiB over its start: {error}",
                    bytes.len() / 1024,
                    started.elapsed(),
                    grown / MIB
                );
                assert!(error.to_string().starts_with(refusal), "{what}: {error}");
                assert!(
                    grown <= 64 * MIB,
                    "{what}: the reader grew by {} MiB",
                    grown / MIB
                );
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// `VmHWM` (peak resident memory) of process `pid`, in bytes.
fn peak_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap()
        * 1024
}

/// Kills the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn upload(http: &reqwest::Client, base: &str, cookie: &str, file: Vec<u8>) -> i64 {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("x.xlsx"),
    );
    let r = http
        .post(format!("{base}/api/import_channels"))
        .header("Cookie", cookie)
        .header("Origin", base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body.parse().unwrap()
}

/// Waits for import `id` to end; answers its summary.
async fn ended(http: &reqwest::Client, base: &str, cookie: &str, id: i64) -> Value {
    for _ in 0..600 {
        let v: Value = http
            .post(format!("{base}/api/get_import"))
            .header("Cookie", cookie)
            .header("Origin", base)
            .json(&json!({"id": id, "outcome": "", "at": "First"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = v["summary"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if status != "Checking" && status != "Applying" {
            return v["summary"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not end");
}

#[tokio::test]
async fn hostile_imports_leave_the_servers_memory_where_it_was() {
    let _alone = ALONE.lock().await;
    // the data, made through an in-process server on the same database (whose workers do not
    // run: the imports are the real server's to read)
    let app = spawn_app_with(Options {
        no_workers: true,
        ..Options::default()
    })
    .await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    let cookie = app.session("alpha-admin", "alpha-password").await;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("DATABASE_URL", &app.config.database_url)
            .env("SWITCHBOARD_MASTER_KEY", TEST_MASTER_KEY)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("SWITCHBOARD_PUBLIC_URL", &base)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = server.0.id();
    let http = reqwest::Client::new();
    wait_ready(&base).await;

    // idle, after what every server does: a sign-in, and an import read to its end
    let signed_in = http
        .post(format!("{base}/api/login"))
        .header("Origin", &base)
        .form(&[("username", "alpha-admin"), ("password", "alpha-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let small = workbook(None, &sheet(""));
    let id = upload(&http, &base, &cookie, small).await;
    let summary = ended(&http, &base, &cookie, id).await;
    assert_eq!(
        summary["error"],
        "The file has a header row but no channel rows: there is nothing to import."
    );
    let idle = peak_rss(pid);

    let mut files = hostile_files();
    // and the largest upload there is: 20 MiB (that is not a spreadsheet inside)
    let mut big = b"PK\x03\x04".to_vec();
    big.extend((0..20 * MIB - 4).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    files.push(("a 20 MiB upload", big, "This file is not a spreadsheet"));
    for (what, bytes, refusal) in files {
        let started = Instant::now();
        let id = upload(&http, &base, &cookie, bytes).await;
        let summary = ended(&http, &base, &cookie, id).await;
        let error = summary["error"].as_str().unwrap_or_default();
        let grown = peak_rss(pid).saturating_sub(idle);
        eprintln!(
            "{what}: refused in {:?}; the server's peak is {} MiB over its idle peak: {error}",
            started.elapsed(),
            grown / MIB
        );
        assert_eq!(summary["status"], "Failed", "{what}: {summary}");
        assert!(error.starts_with(refusal), "{what}: {error}");
        assert!(
            grown <= 128 * 1000 * 1000,
            "{what}: the server grew by {} MiB",
            grown / MIB
        );
    }
    drop(server);
}

#[tokio::test]
async fn a_200_mib_sign_in_body_is_refused_before_it_is_read() {
    let _alone = ALONE.lock().await;
    let app = spawn_app().await;
    let before = rss_bytes();

    // declared: answered from the head alone
    let started = Instant::now();
    let a = raw_exchange(
        app.addr,
        &format!(
            "POST /api/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            app.addr,
            200 * MIB as usize
        ),
        b"",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(a.status, 413, "{}", a.text);
    assert!(
        a.text.contains(r#""TooLarge":{"limit_kib":256}"#),
        "{}",
        a.text
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // chunked, no length given: read up to the limit, then refused while the sender goes on
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    wr.write_all(
        format!(
            "POST /api/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
            app.addr
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let sender = tokio::spawn(async move {
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 200 * MIB as usize {
            let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if wr.write_all(&frame).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), rd.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let sent = sender.await.unwrap();
    assert!(
        sent < 200 * MIB as usize,
        "the server stopped reading: the sender could not finish"
    );
    let grown = rss_bytes().saturating_sub(before);
    assert!(grown < 64 * MIB, "RSS grew by {} MiB", grown / MIB);
}

async fn tenant(app: &TestApp) -> String {
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.session("alpha-admin", "alpha-password").await
}

/// A zip whose one member inflates to 600 MiB of zeros (1 MiB deflated): the reader stops at
/// what an export's file can be, and the in-process server that stored the upload grows by
/// little.
#[tokio::test]
async fn a_zip_bomb_costs_the_server_what_it_uploaded() {
    let _alone = ALONE.lock().await;
    let app = spawn_app().await;
    let cookie = tenant(&app).await;
    let zeros = vec![0u8; MIB as usize];
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
    drop(zeros);
    let bomb = z.finish().unwrap().into_inner();
    assert!(bomb.len() < 2 * MIB as usize, "{}", bomb.len());
    let before = rss_bytes();
    let id = upload(&app.http, &app.base, &cookie, bomb).await;
    let summary = ended(&app.http, &app.base, &cookie, id).await;
    assert_eq!(
        summary["error"],
        "channels-001.xlsx unpacks to more than 20 MiB, more than a file of an export can: it was not read."
    );
    let grown = rss_bytes().saturating_sub(before);
    eprintln!("a zip bomb: the server grew by {} MiB", grown / MIB);
    assert!(grown < 64 * MIB, "the server grew by {} MiB", grown / MIB);
}

#[tokio::test]
async fn a_keystore_made_to_exhaust_the_parser_costs_the_server_nothing() {
    let _alone = ALONE.lock().await;
    let app = spawn_app().await;
    let cookie = tenant(&app).await;
    let before = rss_bytes();
    // a JKS whose one entry says its certificate is 4 GiB long: the parser would allocate it
    let mut jks = vec![0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
    jks.extend_from_slice(&[0, 5]);
    jks.extend_from_slice(b"alias");
    jks.extend_from_slice(&[0; 8]);
    jks.extend_from_slice(&[0, 4]);
    jks.extend_from_slice(b"X509");
    jks.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    jks.extend_from_slice(&vec![0u8; 1024]);
    let started = Instant::now();
    let r = app
        .upload_certificate(&cookie, "bomb", "trust", jks, "password")
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("needs more time or memory than any real keystore")
            || r.body.contains("not a certificate or keystore"),
        "{}",
        r.body
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let grown = rss_bytes().saturating_sub(before);
    assert!(
        grown < 32 * 1024 * 1024,
        "the server grew by {} MiB",
        grown / (1024 * 1024)
    );
    // the server is fine afterwards
    let pki = fake_provider::Pki::new("After CA");
    let r = app
        .upload_certificate(&cookie, "after", "trust", pki.ca_pem().into_bytes(), "")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
