//! The first load over the wire: the site's files precompressed and cached by name, pages and
//! server function answers compressed on the fly, answers holding webhook secrets never.

use crate::common::{Options, raw_exchange, spawn_app, spawn_app_with};
use server::http::assets::{IMMUTABLE, REVALIDATE, brotli_decode, content_hash, precompress};
use std::io::Read;

/// A server function's arguments: JSON for those declared `input = Json`, else a form.
enum Sent {
    Json(serde_json::Value),
    Form(Vec<(&'static str, String)>),
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as sent, decoded by its Content-Encoding.
    fn decoded(&self) -> Vec<u8> {
        match self.header("content-encoding") {
            "br" => brotli_decode(&self.body).expect("brotli"),
            "gzip" => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .expect("gzip");
                out
            }
            "" => self.body.clone(),
            other => panic!("unexpected encoding {other}"),
        }
    }
}

async fn fetch(
    app: &crate::common::TestApp,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Sent>,
) -> Got {
    let mut req = app.http.request(method, format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    match body {
        Some(Sent::Json(b)) => req = req.header("Origin", &app.base).json(&b),
        Some(Sent::Form(f)) => req = req.header("Origin", &app.base).form(&f),
        None => {}
    }
    let res = req.send().await.expect("request");
    Got {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.bytes().await.expect("body").to_vec(),
    }
}

/// A site as `cargo leptos build --release` leaves it, then `switchboard precompress`: files
/// named by the MD5 of their bytes, one of them rewritten in place after it was named (as
/// cargo-leptos does to the main JS), and one without a hash.
struct Site {
    dir: tempfile::TempDir,
    wasm: Vec<u8>,
    wasm_name: String,
    js_name: String,
    rewritten_name: String,
}

fn built_site() -> Site {
    let dir = tempfile::tempdir().expect("site");
    let pkg = dir.path().join("site/pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    // compressible like real wasm: repeated structure with variation
    let wasm: Vec<u8> = (0..300_000u32)
        .flat_map(|i| [0x20, (i % 7) as u8, 0x41, (i % 113) as u8])
        .collect();
    let wasm_name = format!("switchboard.{}.wasm", content_hash(&wasm));
    std::fs::write(pkg.join(&wasm_name), &wasm).expect("wasm");
    let js = "export function f() { return 1; }\n".repeat(300);
    let js_name = format!("chunk_1.{}.js", content_hash(js.as_bytes()));
    std::fs::write(pkg.join(&js_name), &js).expect("js");
    let before = "import './__wasm_split.______________________.js';\n".repeat(100);
    let rewritten_name = format!("switchboard.{}.js", content_hash(before.as_bytes()));
    let after = before.replace("______________________", "3X6aKZQqBv4O2cBXaGjJ_w");
    std::fs::write(pkg.join(&rewritten_name), after).expect("js");
    std::fs::write(
        pkg.join("switchboard.css"),
        "body { margin: 0; }\n".repeat(300),
    )
    .expect("css");
    let report = precompress(&pkg).expect("precompress");
    assert_eq!(report.files.len(), 4);
    Site {
        dir,
        wasm,
        wasm_name,
        js_name,
        rewritten_name,
    }
}

#[tokio::test]
async fn built_files_come_precompressed_and_are_cached_by_their_name() {
    let site = built_site();
    let app = spawn_app_with(Options {
        site_root: Some(site.dir.path().join("site")),
        ..Options::default()
    })
    .await;
    let wasm = &site.wasm;
    let path = format!("/pkg/{}", site.wasm_name);
    let get = reqwest::Method::GET;

    let br = fetch(&app, get.clone(), &path, &[("Accept-Encoding", "br")], None).await;
    assert_eq!(br.status, 200);
    assert_eq!(br.header("content-encoding"), "br");
    assert_eq!(br.header("content-type"), "application/wasm");
    assert_eq!(br.header("cache-control"), IMMUTABLE);
    assert!(
        br.header("vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert_eq!(&br.decoded(), wasm);
    assert!(
        br.body.len() * 5 < wasm.len(),
        "br {} of {}",
        br.body.len(),
        wasm.len()
    );
    assert_eq!(
        br.header("content-length"),
        br.body.len().to_string(),
        "the twin is sent as a file, with its length"
    );

    let gz = fetch(
        &app,
        get.clone(),
        &path,
        &[("Accept-Encoding", "gzip")],
        None,
    )
    .await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert_eq!(gz.header("cache-control"), IMMUTABLE);
    assert_eq!(&gz.decoded(), wasm);

    // a browser offering both gets brotli, the smaller
    let both = fetch(
        &app,
        get.clone(),
        &path,
        &[("Accept-Encoding", "gzip, deflate, br, zstd")],
        None,
    )
    .await;
    assert_eq!(both.header("content-encoding"), "br");

    let plain = fetch(&app, get.clone(), &path, &[], None).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), "");
    assert_eq!(&plain.body, wasm);

    let js = fetch(
        &app,
        get.clone(),
        &format!("/pkg/{}", site.js_name),
        &[("Accept-Encoding", "br")],
        None,
    )
    .await;
    assert_eq!(js.header("content-encoding"), "br");
    assert_eq!(js.header("cache-control"), IMMUTABLE);
    assert!(
        js.header("content-type").starts_with("text/javascript"),
        "{}",
        js.header("content-type")
    );

    // a name that no longer matches its bytes, or has no hash, may change: checked each time
    let rewritten = fetch(
        &app,
        get.clone(),
        &format!("/pkg/{}", site.rewritten_name),
        &[("Accept-Encoding", "br")],
        None,
    )
    .await;
    assert_eq!(rewritten.status, 200);
    assert_eq!(rewritten.header("cache-control"), REVALIDATE);
    assert!(String::from_utf8_lossy(&rewritten.decoded()).contains("3X6aKZQqBv4O2cBXaGjJ_w"));
    let css = fetch(
        &app,
        get.clone(),
        "/pkg/switchboard.css",
        &[("Accept-Encoding", "gzip")],
        None,
    )
    .await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("cache-control"), REVALIDATE);
    assert_eq!(css.header("content-encoding"), "gzip");

    let missing = fetch(
        &app,
        get.clone(),
        "/pkg/switchboard.AAAAAAAAAAAAAAAAAAAAAA.wasm",
        &[],
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_ne!(missing.header("cache-control"), IMMUTABLE);

    // nothing outside the site, however the path is spelled (sent as written: an HTTP client
    // would resolve the dots first)
    std::fs::write(site.dir.path().join("secret.txt"), "not public").expect("write");
    for path in [
        "/pkg/../../secret.txt",
        "/pkg/%2e%2e/%2e%2e/secret.txt",
        "/pkg/..%2f..%2fsecret.txt",
        "/pkg/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/pkg//../../secret.txt",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
    ] {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            app.addr
        );
        let out = raw_exchange(app.addr, &head, b"", std::time::Duration::from_secs(5)).await;
        assert!(
            out.status >= 400 && out.status < 500,
            "{path}: {}",
            out.status
        );
        assert!(
            !out.text.contains("not public"),
            "{path} served a file outside pkg"
        );
    }
}

#[tokio::test]
async fn pages_and_answers_are_compressed_except_those_holding_webhook_secrets() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Compressed", "comp-admin", "comp-admin-password")
        .await;
    server::demo::seed(&app.state, "Compressed", 100)
        .await
        .expect("seed");
    let cookie = app.session("comp-admin", "comp-admin-password").await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let page_headers = |enc: &'static str| {
        [
            ("Accept", "text/html"),
            ("Accept-Encoding", enc),
            ("Cookie", cookie.as_str()),
        ]
    };

    // the channel list page
    let list = fetch(
        &app,
        get.clone(),
        "/config/channels",
        &page_headers("br"),
        None,
    )
    .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.header("content-encoding"), "br");
    assert!(
        list.header("vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    let html = String::from_utf8(list.decoded()).expect("utf-8");
    assert!(html.contains("Channel Configuration"), "{html}");
    let plain = fetch(
        &app,
        get.clone(),
        "/config/channels",
        &page_headers("identity"),
        None,
    )
    .await;
    assert_eq!(plain.header("content-encoding"), "");
    assert!(
        list.body.len() * 2 < plain.body.len(),
        "{} vs {}",
        list.body.len(),
        plain.body.len()
    );

    // its server function with 100 rows, as the browser asks for it
    let query = serde_json::json!({ "query": { "search": "", "provider": "", "sort": "Name",
        "descending": false, "attention": false, "page": 1, "per_page": 100 } });
    let api = |enc: &'static str| {
        [
            ("Accept", "application/json"),
            ("Accept-Encoding", enc),
            ("Cookie", cookie.as_str()),
        ]
    };
    let rows = fetch(
        &app,
        post.clone(),
        "/api/list_channels",
        &api("gzip, deflate, br"),
        Some(Sent::Json(query.clone())),
    )
    .await;
    assert_eq!(rows.status, 200, "{}", String::from_utf8_lossy(&rows.body));
    assert_eq!(rows.header("content-encoding"), "br");
    let page: serde_json::Value = serde_json::from_slice(&rows.decoded()).expect("json");
    assert_eq!(page["rows"].as_array().map(Vec::len), Some(100));
    assert_eq!(page["total"], 100);
    let gz = fetch(
        &app,
        post.clone(),
        "/api/list_channels",
        &api("gzip"),
        Some(Sent::Json(query)),
    )
    .await;
    assert_eq!(gz.header("content-encoding"), "gzip");

    // a small answer is not worth it
    let me = fetch(
        &app,
        post.clone(),
        "/api/current_user",
        &api("br"),
        Some(Sent::Form(vec![])),
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.header("content-encoding"), "");

    // BREACH: the webhook keys and Verification Code are never sent compressed
    let id = page["rows"][0]["id"].as_i64().expect("id");
    let integration = fetch(
        &app,
        get.clone(),
        &format!("/config/channels/{id}/integration"),
        &page_headers("br, gzip"),
        None,
    )
    .await;
    assert_eq!(integration.status, 200);
    assert_eq!(integration.header("content-encoding"), "");
    assert!(integration.header("cache-control").contains("no-transform"));
    assert!(String::from_utf8_lossy(&integration.body).contains("/social/on/whatsapp/"));
    let answer = fetch(
        &app,
        post,
        "/api/get_channel_integration",
        &api("br, gzip"),
        Some(Sent::Form(vec![("id", id.to_string())])),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("content-encoding"), "");
    assert!(answer.header("cache-control").contains("no-transform"));
    assert!(String::from_utf8_lossy(&answer.body).contains("/social/on/whatsapp/"));
}
