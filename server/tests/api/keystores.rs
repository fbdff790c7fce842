//! Keystores as people upload them: JKS made by Java's keytool (what Portecle writes too) and
//! PKCS#12, with their password; and keystores made to exhaust the parser, which cost the
//! server nothing (they are read in a child process with limits).

#![allow(clippy::unwrap_used)]

use crate::common::fake_provider::Pki;
use crate::common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn keytool(dir: &Path, args: &[&str]) {
    let out = Command::new("keytool")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("keytool (Debian's default-jdk-headless; .ci/install-tools installs it)");
    assert!(
        out.status.success(),
        "keytool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn tenant(app: &TestApp) -> String {
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.session("alpha-admin", "alpha-password").await
}

/// What the reference tells the reader to make with Portecle: a JKS keystore of two
/// certificates protected by a password.
#[tokio::test]
async fn a_jks_of_two_certificates_is_one_entry_listing_both() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (
        Pki::new("Provider Root CA"),
        Pki::new("Provider Intermediate CA"),
    );
    std::fs::write(dir.path().join("one.pem"), one.ca_pem()).unwrap();
    std::fs::write(dir.path().join("two.pem"), two.ca_pem()).unwrap();
    for (alias, file) in [("root", "one.pem"), ("intermediate", "two.pem")] {
        keytool(
            dir.path(),
            &[
                "-importcert",
                "-noprompt",
                "-alias",
                alias,
                "-file",
                file,
                "-keystore",
                "trust.jks",
                "-storetype",
                "JKS",
                "-storepass",
                "portecle-1",
            ],
        );
    }
    let jks = std::fs::read(dir.path().join("trust.jks")).unwrap();
    let app = spawn_app().await;
    let cookie = tenant(&app).await;

    let r = app
        .upload_certificate(&cookie, "provider trust", "trust", jks.clone(), "")
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["Invalid"][0]["field"], "password");
    assert!(r.body.contains("protected by a password"), "{}", r.body);
    let r = app
        .upload_certificate(
            &cookie,
            "provider trust",
            "trust",
            jks.clone(),
            "wrong-password",
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("The keystore password is wrong."),
        "{}",
        r.body
    );

    let r = app
        .upload_certificate(&cookie, "provider trust", "trust", jks, "portecle-1")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = app
        .call("list_certificates", &[], Some(&cookie))
        .await
        .json();
    let entry = &list[0];
    let subjects: Vec<&str> = entry["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 2, "{entry}");
    assert!(
        subjects.iter().any(|s| s.contains("CN=Provider Root CA")),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("CN=Provider Intermediate CA")),
        "{subjects:?}"
    );
    for m in entry["members"].as_array().unwrap() {
        assert_eq!(m["fingerprint"].as_str().unwrap().len(), 95);
        assert!(m["not_after"].as_str().unwrap().len() == 10);
    }
    assert_eq!(entry["has_private_key"], false);
}

/// keytool's own identities: a key pair in JKS and in PKCS#12.
#[tokio::test]
async fn identity_keystores_keep_their_key_sealed() {
    let dir = tempfile::tempdir().unwrap();
    // an EC key (Java writes it without its public key) in JKS, an RSA key in PKCS#12
    for (file, kind, alg) in [
        (
            "id.jks",
            "JKS",
            ["-keyalg", "EC", "-groupname", "secp256r1"],
        ),
        ("id.p12", "PKCS12", ["-keyalg", "RSA", "-keysize", "2048"]),
    ] {
        let mut args = vec!["-genkeypair", "-alias", "me"];
        args.extend(alg);
        args.extend([
            "-dname",
            "CN=Switchboard Client",
            "-validity",
            "365",
            "-storetype",
            kind,
            "-keystore",
            file,
            "-storepass",
            "keystore-1",
            "-keypass",
            "keystore-1",
        ]);
        keytool(dir.path(), &args);
    }
    let app = spawn_app().await;
    let cookie = tenant(&app).await;
    for file in ["id.jks", "id.p12"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap();
        let r = app
            .upload_certificate(
                &cookie,
                &format!("as trust {file}"),
                "trust",
                bytes.clone(),
                "keystore-1",
            )
            .await;
        assert_eq!(r.status, 422, "{file}");
        assert!(
            r.body.contains("only an identity certificate needs"),
            "{}",
            r.body
        );
        let r = app
            .upload_certificate(
                &cookie,
                &format!("client {file}"),
                "identity",
                bytes,
                "keystore-1",
            )
            .await;
        assert_eq!(r.status, 200, "{file}: {}", r.body);
    }
    let list = app.call("list_certificates", &[], Some(&cookie)).await;
    for c in list.json().as_array().unwrap() {
        assert_eq!(c["has_private_key"], true, "{c}");
        assert!(
            c["members"][0]["subject"]
                .as_str()
                .unwrap()
                .contains("CN=Switchboard Client")
        );
    }
    // sealed at rest: the key bytes are nowhere in the database's certificate rows in the clear
    use sea_orm::EntityTrait;
    let rows = server::db::entities::certificate::Entity::find()
        .all(&app.state.db.conn)
        .await
        .unwrap();
    for row in rows {
        let sealed = row.key_enc.unwrap();
        assert_eq!(sealed[0], 2, "a v2 sealed value");
        assert!(!String::from_utf8_lossy(&sealed).contains("PRIVATE"));
    }
    // an identity without its key, and a PEM key that belongs to no certificate in the file
    let pki = Pki::new("Test CA");
    let leaf = pki.leaf("client", &["client.test"]);
    let r = app
        .upload_certificate(
            &cookie,
            "bare identity",
            "identity",
            leaf.pem.clone().into_bytes(),
            "",
        )
        .await;
    assert!(r.body.contains("needs its private key"), "{}", r.body);
    let other = pki.leaf("someone else", &["other.test"]);
    let mismatched = format!("{}{}", leaf.pem, other.key_pem);
    let r = app
        .upload_certificate(
            &cookie,
            "mismatched",
            "identity",
            mismatched.into_bytes(),
            "",
        )
        .await;
    assert!(
        r.body.contains("does not belong to any certificate"),
        "{}",
        r.body
    );
}

/// A PKCS#12 whose keys each take a million key-derivation rounds: the inspector stops at its
/// CPU limit (one second here, four in the server) instead of working for as long as the file
/// asks.
#[test]
fn the_inspector_stops_at_its_cpu_limit() {
    use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKeyChain};
    use std::io::Write;
    let pki = Pki::new("Costly CA");
    // as many keys as take this machine about three seconds to derive (the inspector gets one)
    let write = |keys: u8| {
        let mut ks = KeyStore::new();
        for i in 0..keys {
            let leaf = pki.leaf(&format!("costly {i}"), &["costly.test"]);
            let chain = PrivateKeyChain::new(
                vec![i],
                p12_keystore::PrivateKey::from_der(&leaf.key_der).unwrap(),
                [p12_keystore::Certificate::from_der(&leaf.der).unwrap()],
            );
            ks.add_entry(&format!("k{i}"), KeyStoreEntry::PrivateKeyChain(chain));
        }
        let started = Instant::now();
        let bytes = ks
            .writer("pw")
            .encryption_iterations(1_000_000)
            .mac_iterations(1)
            .write()
            .unwrap();
        (bytes, started.elapsed())
    };
    let (mut p12, one) = write(1);
    if one < Duration::from_secs(3) {
        let keys = (3.0 / one.as_secs_f64()).ceil().min(64.0) as u8;
        p12 = write(keys).0;
    }
    let made_in = one;
    let password = b"pw";
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["inspect-keystore", "--cpu-secs", "1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = (password.len() as u32).to_be_bytes().to_vec();
    input.extend_from_slice(password);
    input.extend_from_slice(&p12);
    let _ = child.stdin.take().unwrap().write_all(&input);
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "stopped by its limit (the file took {made_in:?} to make)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(out.stdout.is_empty());
}

/// A PKCS#12 keystore of one key whose parts each take `rounds` key derivation rounds.
fn costly_p12(pki: &Pki, rounds: u32) -> Vec<u8> {
    use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKeyChain};
    let leaf = pki.leaf("costly", &["costly.test"]);
    let chain = PrivateKeyChain::new(
        vec![1],
        p12_keystore::PrivateKey::from_der(&leaf.key_der).unwrap(),
        [p12_keystore::Certificate::from_der(&leaf.der).unwrap()],
    );
    let mut ks = KeyStore::new();
    ks.add_entry("costly", KeyStoreEntry::PrivateKeyChain(chain));
    ks.writer("pw")
        .encryption_iterations(rounds)
        .mac_iterations(1)
        .write()
        .unwrap()
}

/// One tenant space uploading many keystores that take the inspector seconds each does not
/// keep another's certificate waiting: inspections are one at a time per tenant space, and
/// the tenant spaces take turns for the two child processes.
#[tokio::test]
async fn a_flood_of_costly_keystores_does_not_keep_another_tenant_waiting() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    let alpha = app.session("alpha-admin", "alpha-password").await;
    let beta = app.session("beta-admin", "beta-password1").await;
    let pki = Pki::new("Flood CA");
    // within what a file may declare (100,000 rounds for the key and again for its
    // certificate), so each is really read: about a second in the inspector
    let costly = costly_p12(&pki, 100_000);
    assert!(
        server::certificates::keystore::pbe_work(&costly)
            <= server::certificates::keystore::MAX_PBE_ITERATIONS
    );
    let app = &app;
    let flood = futures::future::join_all((0..10).map(|i| {
        let (alpha, costly) = (alpha.clone(), costly.clone());
        async move {
            app.upload_certificate(&alpha, &format!("flood {i}"), "identity", costly, "pw")
                .await
        }
    }));
    let other = async {
        // the flood is under way
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let r = app
            .upload_certificate(&beta, "beta ca", "trust", pki.ca_pem().into_bytes(), "")
            .await;
        (r, started.elapsed())
    };
    let (flood, (r, took)) = tokio::join!(flood, other);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(took < Duration::from_secs(3), "Beta waited {took:?}");
    // the flood itself was served one at a time: what did not fit in its 8 s wait was told to
    // try again
    for a in &flood {
        assert!(
            matches!(a.status, 200 | 422 | 429),
            "{}: {}",
            a.status,
            a.body
        );
    }
    eprintln!(
        "Beta's certificate took {took:?}; Alpha's flood: {} read, {} told to wait",
        flood.iter().filter(|a| a.status == 200).count(),
        flood.iter().filter(|a| a.status == 429).count()
    );
}

/// A tenant space whose files keep ending "too costly" waits before its next one (told so
/// next to the file), and only it; files that declare more key derivation than any keystore
/// needs are refused before any is done.
#[tokio::test]
async fn a_tenant_whose_files_keep_being_too_costly_waits_and_only_it() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    let alpha = app.session("alpha-admin", "alpha-password").await;
    let beta = app.session("beta-admin", "beta-password1").await;
    let pki = Pki::new("Pause CA");
    let declared = costly_p12(&pki, 1_100_000);
    assert!(
        server::certificates::keystore::pbe_work(&declared)
            > server::certificates::keystore::MAX_PBE_ITERATIONS
    );
    for i in 0..3 {
        let started = Instant::now();
        let r = app
            .upload_certificate(
                &alpha,
                &format!("costly {i}"),
                "identity",
                declared.clone(),
                "pw",
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body
                .contains("needs more time or memory than any real keystore"),
            "{}",
            r.body
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused before any work"
        );
    }
    let r = app
        .upload_certificate(&alpha, "after", "trust", pki.ca_pem().into_bytes(), "")
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["Invalid"][0]["field"], "file");
    assert!(
        r.body.contains("certificate uploads here are paused for"),
        "{}",
        r.body
    );
    let r = app
        .upload_certificate(&beta, "beta ca", "trust", pki.ca_pem().into_bytes(), "")
        .await;
    assert_eq!(
        r.status, 200,
        "another tenant space is not paused: {}",
        r.body
    );
}
