//! The site's built files under `/pkg` (JS, wasm, CSS): served from their precompressed `.br`
//! or `.gz` twin when the browser accepts it, cached for a year when the name carries the
//! hash of the very bytes served, else revalidated on every use. `switchboard precompress`
//! writes the twins at build time (`make run-release`, the end-to-end suite).
//!
//! cargo-leptos names files by their content's MD5 and then rewrites some of them in place
//! (the main JS and wasm get the final names of the split loader and chunks), so a name can
//! outlive its content: only a name that matches its file is trusted to be immutable.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use leptos::config::LeptosOptions;
use md5::{Digest, Md5};
use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

/// A name that changes whenever the content does may be cached for good.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Anything else: kept, but checked with the server before each use.
pub const REVALIDATE: &str = "no-cache";

/// Only these are worth compressing (wasm, JS, CSS and the split manifest); images and fonts
/// in `public/` are compressed already or tiny.
const COMPRESSIBLE: [&str; 4] = ["wasm", "js", "css", "json"];
/// A twin that saves less than this is not written (the browser would gain nothing).
const MIN_SAVING: f64 = 0.05;

/// The service for the site's `pkg` directory.
pub fn pkg_service(pkg_dir: &Path) -> ServeDir {
    ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip()
}

/// The hash part of a name as cargo-leptos writes them (`switchboard.3X6aKZQqBv4O2cBXaGjJ_w.wasm`):
/// the part before the extension, 22 base64url characters.
pub fn name_hash(file_name: &str) -> Option<&str> {
    let mut parts = file_name.rsplitn(3, '.');
    let (_ext, hash, _stem) = (parts.next()?, parts.next()?, parts.next()?);
    (hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(hash)
}

/// The MD5 of `bytes` in base64url without padding, as cargo-leptos names files.
pub fn content_hash(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Md5::digest(bytes))
}

/// The files under `/pkg` whose name carries the hash of their content: these, and only
/// these, are answered as immutable. Worked out once at start (a file that appears later is
/// revalidated, which is always safe).
#[derive(Debug, Clone, Default)]
pub struct Immutable(Arc<HashSet<String>>);

impl Immutable {
    /// Reads every file of `dir` (a few MB, once). Removes `.br`/`.gz` twins that are older
    /// than their original or whose original is gone: a rebuild without `precompress` (a
    /// debug build over a release one) must not leave the old bytes in front of the new.
    pub fn scan(dir: &Path) -> Self {
        let mut names = HashSet::new();
        // an unreadable directory leaves its files out: they are then served to be revalidated
        for path in regular_files(dir).unwrap_or_default() {
            if is_twin(&path) {
                if stale_twin(&path) {
                    match std::fs::remove_file(&path) {
                        Ok(()) => {
                            tracing::warn!(file = %path.display(), "removed a precompressed file older than its original")
                        }
                        Err(e) => {
                            tracing::error!(file = %path.display(), error = %e, "a precompressed file is older than its original and could not be removed; it is served in its place")
                        }
                    }
                }
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(hash) = name_hash(name) else {
                continue;
            };
            if std::fs::read(&path).is_ok_and(|bytes| content_hash(&bytes) == hash) {
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                names.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Self(Arc::new(names))
    }

    pub fn contains(&self, rel_path: &str) -> bool {
        self.0.contains(rel_path)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Every regular file under `dir`, at any depth; symbolic links are not followed.
fn regular_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    Ok(files)
}

fn is_twin(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("br" | "gz"))
}

/// A twin whose original is gone or newer.
fn stale_twin(twin: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(&twin.with_extension("")), modified(twin)) {
        (Some(original), Some(twin)) => original > twin,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// Middleware for `/pkg` (its prefix already stripped): the cache policy, and
/// `Vary: Accept-Encoding` (the same URL answers br, gzip or identity).
pub async fn cache_policy(
    State(immutable): State<Immutable>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().trim_start_matches('/').to_owned();
    let mut res = next.run(req).await;
    if res.status() == StatusCode::OK || res.status() == StatusCode::NOT_MODIFIED {
        let h = res.headers_mut();
        let policy = if immutable.contains(&path) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// `hash.txt`, which cargo-leptos writes beside the binary of a build with hashed names.
pub fn hash_file_path(options: &LeptosOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(&*options.hash_file))
}

/// One entry of `hash.txt` (`wasm: …`), non-empty.
fn hash_entry<'a>(hashes: &'a str, key: &str) -> Option<&'a str> {
    hashes.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        let v = v.trim();
        (k.trim() == key && !v.is_empty()).then_some(v)
    })
}

/// The files every page loads, as a `Link` header on pages: the browser starts fetching them as
/// soon as the headers arrive, instead of once it has parsed the `<head>` (under a throttled
/// CPU, well over 100 ms later). Made from `hash.txt`, so only for a build with hashed names.
#[derive(Debug, Clone, Default)]
pub struct PagePreloads(Option<HeaderValue>);

impl PagePreloads {
    /// From the contents of `hash.txt` (`js: …`, `wasm: …`, `css: …`, `split: …`), for files
    /// named `{output_name}.{hash}.{ext}` (the split loader `__wasm_split.{hash}.js`) under
    /// `pkg_url`. Attributes match the `<link>`s Leptos writes, so each file is fetched once.
    pub fn from_hashes(hashes: &str, pkg_url: &str, output_name: &str) -> Self {
        let files = [
            ("css", output_name, "css", "rel=preload; as=style"),
            ("js", output_name, "js", "rel=modulepreload"),
            (
                "wasm",
                output_name,
                "wasm",
                "rel=preload; as=fetch; type=\"application/wasm\"; crossorigin",
            ),
            ("split", "__wasm_split", "js", "rel=modulepreload"),
        ];
        let links: Vec<String> = files
            .into_iter()
            .filter_map(|(key, stem, ext, attrs)| {
                let h = hash_entry(hashes, key).filter(|h| {
                    h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })?;
                Some(format!("<{pkg_url}/{stem}.{h}.{ext}>; {attrs}"))
            })
            .collect();
        Self(
            HeaderValue::from_str(&links.join(", "))
                .ok()
                .filter(|_| !links.is_empty()),
        )
    }

    /// From the `hash.txt` of this binary's build; none for a build without hashed names.
    pub fn load(options: &LeptosOptions) -> Self {
        let hashes = options
            .hash_files
            .then(|| hash_file_path(options))
            .flatten()
            .and_then(|path| std::fs::read_to_string(path).ok());
        hashes.map_or_else(Self::default, |h| {
            Self::from_hashes(
                &h,
                &format!("/{}", options.site_pkg_dir),
                &options.output_name,
            )
        })
    }

    pub fn header(&self) -> Option<&HeaderValue> {
        self.0.as_ref()
    }
}

/// Middleware: the `Link` header of [`PagePreloads`] on every HTML answer.
pub async fn preload_on_pages(
    State(preloads): State<PagePreloads>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if let (true, Some(link)) = (html, preloads.header()) {
        res.headers_mut().append(header::LINK, link.clone());
    }
    res
}

/// What `precompress` did, for its report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Precompressed {
    pub files: Vec<CompressedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressedFile {
    pub path: PathBuf,
    pub raw: u64,
    /// `None`: not written, it would not be smaller.
    pub br: Option<u64>,
    pub gz: Option<u64>,
}

/// Writes `NAME.br` (brotli, quality 11) and `NAME.gz` (gzip, level 9) beside every wasm, JS,
/// CSS and JSON file under `dir` (always anew: the originals may have been rewritten in place
/// with the same name and time), and removes twins whose original is gone. Symbolic links
/// are not followed.
pub fn precompress(dir: &Path) -> io::Result<Precompressed> {
    let mut report = Precompressed::default();
    for path in regular_files(dir)? {
        if is_twin(&path) {
            if !path.with_extension("").exists() {
                std::fs::remove_file(&path)?;
            }
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if COMPRESSIBLE.contains(&ext) {
            report.files.push(compress_file(&path)?);
        }
    }
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

fn compress_file(path: &Path) -> io::Result<CompressedFile> {
    let raw = std::fs::read(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let write_twin = |ext: &str, compress: &dyn Fn(&[u8]) -> io::Result<Vec<u8>>| {
        let mut twin = path.as_os_str().to_owned();
        twin.push(".");
        twin.push(ext);
        let twin = PathBuf::from(twin);
        let bytes = compress(&raw)?;
        if (bytes.len() as f64) > raw.len() as f64 * (1.0 - MIN_SAVING) {
            match std::fs::remove_file(&twin) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => return Ok(None),
            }
        }
        // written whole under a name of its own, then renamed: a server reading meanwhile
        // sees the old twin or the new one, never half of one
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&twin).map_err(|e| e.error)?;
        Ok::<_, io::Error>(Some(bytes.len() as u64))
    };
    let br = write_twin("br", &brotli_max)?;
    let gz = write_twin("gz", &gzip_max)?;
    Ok(CompressedFile {
        path: path.to_path_buf(),
        raw: raw.len() as u64,
        br,
        gz,
    })
}

/// cargo-leptos names the main wasm by its bytes, then writes the split loader's final name
/// into it: the name no longer matches, so it could not be cached for good. Renames it to the
/// hash of what it holds and updates `hash.txt` (the pages name it from there). Answers the
/// new name when it changed. (The main JS and the split loader name each other, so they cannot
/// both carry their own hash; they stay revalidated.)
pub fn settle_main_wasm(
    pkg: &Path,
    hash_file: &Path,
    output_name: &str,
) -> io::Result<Option<String>> {
    // every error names the file it is about
    let at = |path: &Path| {
        let path = path.display().to_string();
        move |e: io::Error| io::Error::new(e.kind(), format!("{path}: {e}"))
    };
    let hashes = std::fs::read_to_string(hash_file).map_err(at(hash_file))?;
    let Some(old) = hash_entry(&hashes, "wasm") else {
        return Ok(None);
    };
    let old_path = pkg.join(format!("{output_name}.{old}.wasm"));
    let new = content_hash(&std::fs::read(&old_path).map_err(at(&old_path))?);
    if new == old {
        return Ok(None);
    }
    let new_name = format!("{output_name}.{new}.wasm");
    std::fs::rename(&old_path, pkg.join(&new_name)).map_err(at(&old_path))?;
    let updated: String = hashes
        .lines()
        .map(|l| {
            if l.trim().starts_with("wasm:") {
                format!("wasm: {new}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let mut tmp = tempfile::NamedTempFile::new_in(hash_file.parent().unwrap_or(Path::new(".")))
        .map_err(at(hash_file))?;
    tmp.write_all(updated.as_bytes()).map_err(at(hash_file))?;
    tmp.persist(hash_file).map_err(|e| at(hash_file)(e.error))?;
    Ok(Some(new_name))
}

/// Brotli at its best ratio (quality 11, 4 MiB window): slow, so only at build time.
pub fn brotli_max(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut io::Cursor::new(data), &mut out, &params)?;
    Ok(out)
}

pub fn gzip_max(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::best(),
    );
    enc.write_all(data)?;
    enc.finish()
}

/// Reads a brotli stream back (the tests and the size report use it).
pub fn brotli_decode(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    brotli::Decompressor::new(data, 64 * 1024).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trusted_only_when_it_carries_the_hash_of_its_content() {
        assert_eq!(
            name_hash("switchboard.3X6aKZQqBv4O2cBXaGjJ_w.wasm"),
            Some("3X6aKZQqBv4O2cBXaGjJ_w")
        );
        assert_eq!(
            name_hash("__wasm_split.-0qictL3xsLoKLR9u15fYg.js"),
            Some("-0qictL3xsLoKLR9u15fYg")
        );
        assert_eq!(name_hash("switchboard.wasm"), None);
        assert_eq!(name_hash("switchboard.3X6aKZQqBv4O2cBXaGjJ_.wasm"), None);
        assert_eq!(name_hash("3X6aKZQqBv4O2cBXaGjJ_w.wasm"), None);
        assert_eq!(name_hash("switch.bo!rd6aKZQqBv4O2cBXaGjJ.js"), None);
        // cargo-leptos' name for these bytes (MD5, base64url, no padding)
        assert_eq!(content_hash(b""), "1B2M2Y8AsgTpgAmY7PhCfg");

        let dir = tempfile::tempdir().expect("tempdir");
        let body = b"export const a = 1;";
        let good = format!("switchboard.{}.js", content_hash(body));
        std::fs::write(dir.path().join(&good), body).expect("write");
        // named for other bytes, then rewritten in place
        let stale = format!("switchboard.{}.wasm", content_hash(b"before"));
        std::fs::write(dir.path().join(&stale), b"after").expect("write");
        std::fs::write(dir.path().join("switchboard.css"), b"body{}").expect("write");
        std::fs::create_dir(dir.path().join("snippets")).expect("mkdir");
        let nested = format!("snippets/x.{}.js", content_hash(b"x"));
        std::fs::write(dir.path().join(&nested), b"x").expect("write");
        let immutable = Immutable::scan(dir.path());
        assert!(immutable.contains(&good));
        assert!(immutable.contains(&nested));
        assert!(!immutable.contains(&stale));
        assert!(!immutable.contains("switchboard.css"));
        assert_eq!(immutable.len(), 2);
    }

    #[test]
    fn the_rewritten_main_wasm_is_renamed_to_the_hash_of_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let named_for = content_hash(b"before");
        let wasm = dir.path().join(format!("app.{named_for}.wasm"));
        std::fs::write(&wasm, b"after").expect("write");
        let hash_file = dir.path().join("hash.txt");
        std::fs::write(
            &hash_file,
            format!("js: abc\nwasm: {named_for}\ncss: def\n"),
        )
        .expect("write");
        let renamed = settle_main_wasm(dir.path(), &hash_file, "app").expect("settle");
        let expected = format!("app.{}.wasm", content_hash(b"after"));
        assert_eq!(renamed.as_deref(), Some(expected.as_str()));
        assert!(!wasm.exists());
        assert!(Immutable::scan(dir.path()).contains(&expected));
        let hashes = std::fs::read_to_string(&hash_file).expect("read");
        assert_eq!(
            hashes,
            format!("js: abc\nwasm: {}\ncss: def\n", content_hash(b"after"))
        );
        // a second run has nothing to do
        assert_eq!(
            settle_main_wasm(dir.path(), &hash_file, "app").expect("again"),
            None
        );
    }

    #[test]
    fn pages_preload_the_files_hash_txt_names_and_nothing_else() {
        let links = PagePreloads::from_hashes(
            "js: JsHash_1\nwasm: Wasm-Hash\ncss: CssHash\nmanifest: M\nsplit: SplitHash\n",
            "/pkg",
            "app",
        );
        assert_eq!(
            links.header().and_then(|v| v.to_str().ok()),
            Some(
                "</pkg/app.CssHash.css>; rel=preload; as=style, \
                 </pkg/app.JsHash_1.js>; rel=modulepreload, \
                 </pkg/app.Wasm-Hash.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin, \
                 </pkg/__wasm_split.SplitHash.js>; rel=modulepreload"
            )
        );
        // a hash that is not one (a hand-edited file) is left out rather than put in a header
        let odd = PagePreloads::from_hashes("js: a>; rel=x\nwasm: ok\n", "/pkg", "app");
        assert_eq!(
            odd.header().and_then(|v| v.to_str().ok()),
            Some(
                "</pkg/app.ok.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin"
            )
        );
        assert!(
            PagePreloads::from_hashes("", "/pkg", "app")
                .header()
                .is_none()
        );
    }

    #[tokio::test]
    async fn only_html_answers_carry_the_preloads() {
        use axum::{Router, middleware::from_fn_with_state, routing::get};
        use tower::ServiceExt;
        let preloads = PagePreloads::from_hashes("wasm: W\n", "/pkg", "app");
        let app = Router::new()
            .route("/page", get(|| async { axum::response::Html("<p>hi</p>") }))
            .route("/json", get(|| async { axum::Json(1) }))
            .layer(from_fn_with_state(preloads, preload_on_pages));
        let get = |uri: &'static str| {
            let app = app.clone();
            async move {
                app.oneshot(
                    axum::http::Request::get(uri)
                        .body(axum::body::Body::empty())
                        .expect("request"),
                )
                .await
                .expect("response")
            }
        };
        let page = get("/page").await;
        assert_eq!(
            page.headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok()),
            Some(
                "</pkg/app.W.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin"
            )
        );
        assert!(get("/json").await.headers().get(header::LINK).is_none());
    }

    #[test]
    fn settling_names_the_file_that_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hash_file = dir.path().join("hash.txt");
        let no_hashes = settle_main_wasm(dir.path(), &hash_file, "app").expect_err("no hash.txt");
        assert!(no_hashes.to_string().contains("hash.txt"), "{no_hashes}");
        // hash.txt is there, the wasm it names is not (a pkg directory from another build, or
        // none): the error is about the wasm
        std::fs::write(&hash_file, "wasm: abc\n").expect("write");
        let no_wasm = settle_main_wasm(dir.path(), &hash_file, "app").expect_err("no wasm");
        assert!(no_wasm.to_string().contains("app.abc.wasm"), "{no_wasm}");
        assert!(!no_wasm.to_string().contains("hash.txt"), "{no_wasm}");
    }

    #[test]
    fn twins_older_than_their_original_are_removed_at_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let js = dir.path().join("app.js");
        std::fs::write(&js, "let a = 1;\n".repeat(500)).expect("write");
        precompress(dir.path()).expect("precompress");
        std::fs::write(dir.path().join("gone.js.gz"), b"orphan").expect("write");
        Immutable::scan(dir.path());
        assert!(dir.path().join("app.js.br").exists(), "fresh twins stay");
        assert!(!dir.path().join("gone.js.gz").exists());
        // a rebuild rewrites the original after its twins were made
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&js, "let b = 2;\n".repeat(500)).expect("write");
        Immutable::scan(dir.path());
        assert!(!dir.path().join("app.js.br").exists());
        assert!(!dir.path().join("app.js.gz").exists());
    }

    #[test]
    fn precompress_writes_twins_that_decode_to_the_original_and_skips_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wasm: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        std::fs::write(dir.path().join("app.wasm"), &wasm).expect("write");
        std::fs::create_dir(dir.path().join("snippets")).expect("mkdir");
        std::fs::write(
            dir.path().join("snippets/x.js"),
            "export const a = 1;\n".repeat(200),
        )
        .expect("write");
        // already compressed: not worth a twin
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let noise: Vec<u8> = (0..50_000)
            .map(|_| {
                // splitmix64: bytes with no pattern to compress
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) as u8
            })
            .collect();
        std::fs::write(dir.path().join("noise.js"), &noise).expect("write");
        std::fs::write(dir.path().join("logo.png"), &wasm).expect("write");
        // a twin whose original is gone
        std::fs::write(dir.path().join("old.wasm.br"), b"stale").expect("write");

        let report = precompress(dir.path()).expect("precompress");
        let names: Vec<String> = report
            .files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(dir.path())
                    .unwrap_or(&f.path)
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["app.wasm", "noise.js", "snippets/x.js"]);

        let br = std::fs::read(dir.path().join("app.wasm.br")).expect("br twin");
        assert_eq!(brotli_decode(&br).expect("decode"), wasm);
        let gz = std::fs::read(dir.path().join("app.wasm.gz")).expect("gz twin");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, wasm);
        assert!(
            br.len() < gz.len(),
            "brotli {} vs gzip {}",
            br.len(),
            gz.len()
        );
        assert!(dir.path().join("snippets/x.js.br").exists());

        assert_eq!(report.files[1].br, None);
        assert!(!dir.path().join("noise.js.br").exists());
        assert!(!dir.path().join("logo.png.br").exists());
        assert!(!dir.path().join("old.wasm.br").exists());

        // an original rewritten in place (same name, any time) gets new twins on the next run
        let changed: Vec<u8> = wasm.iter().rev().copied().collect();
        std::fs::write(dir.path().join("app.wasm"), &changed).expect("write");
        let again = precompress(dir.path()).expect("again");
        assert_eq!(again.files.len(), report.files.len());
        let br = std::fs::read(dir.path().join("app.wasm.br")).expect("br twin");
        assert_eq!(brotli_decode(&br).expect("decode"), changed);
        // no temporary file is left behind
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
