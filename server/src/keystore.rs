//! Certificate files as people bring them: DER, PEM (certificates, and an identity's private
//! key), and keystores — JKS (as Portecle and keytool write them) and PKCS#12 (`.p12`, `.pfx`)
//! — with their password. Read with maintained crates (x509-parser, rustls-pki-types, jks,
//! p12-keystore, rustls for the key check); nothing here parses ASN.1 by hand.
//!
//! A keystore is untrusted input whose parsers allocate what its headers declare and derive
//! keys as often as it asks: `inspect` runs in a child process (`switchboard inspect-keystore`)
//! with limits on its CPU time and memory, so a file made to exhaust the parser costs the
//! server a bounded moment of one core and nothing of its own memory (`isolated`).

use base64::Engine;
use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The largest certificate or keystore file.
pub const MAX_FILE: usize = app::domain::certificate::MAX_CERT_BYTES;
/// What one inspection may use in the child process.
const CHILD_CPU_SECS: u64 = 2;
const CHILD_MEMORY: u64 = 512 * 1024 * 1024;
/// How long an upload waits for a free inspector before it is told the server is busy.
const INSPECT_WAIT: Duration = Duration::from_secs(8);
/// How long one inspection may take (the CPU limit, and some slack for a blocked child).
const INSPECT_RUN: Duration = Duration::from_secs(CHILD_CPU_SECS + 3);
/// The most certificates one file may hold.
pub const MAX_CERTIFICATES: usize = 16;

/// A private key as a file held it (PKCS#8, or the older RSA / EC forms of PEM files).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDer {
    /// `pkcs8`, `pkcs1` or `sec1`
    pub form: String,
    pub der: Vec<u8>,
}

impl std::fmt::Debug for KeyDer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyDer({}, ****)", self.form)
    }
}

impl KeyDer {
    fn from_pki(key: PrivateKeyDer<'_>) -> Option<Self> {
        let (form, der) = match key {
            PrivateKeyDer::Pkcs8(k) => ("pkcs8", k.secret_pkcs8_der().to_vec()),
            PrivateKeyDer::Pkcs1(k) => ("pkcs1", k.secret_pkcs1_der().to_vec()),
            PrivateKeyDer::Sec1(k) => ("sec1", k.secret_sec1_der().to_vec()),
            _ => return None,
        };
        Some(Self {
            form: form.into(),
            der,
        })
    }

    pub fn to_pki(&self) -> Option<PrivateKeyDer<'static>> {
        Some(match self.form.as_str() {
            "pkcs8" => PrivateKeyDer::Pkcs8(self.der.clone().into()),
            "pkcs1" => PrivateKeyDer::Pkcs1(self.der.clone().into()),
            "sec1" => PrivateKeyDer::Sec1(self.der.clone().into()),
            _ => return None,
        })
    }

    /// The form a sealed column keeps: one tag byte, then the DER.
    pub fn to_bytes(&self) -> Vec<u8> {
        let tag = match self.form.as_str() {
            "pkcs1" => 2,
            "sec1" => 3,
            _ => 1,
        };
        [&[tag][..], &self.der].concat()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (tag, der) = bytes.split_first()?;
        let form = match tag {
            1 => "pkcs8",
            2 => "pkcs1",
            3 => "sec1",
            _ => return None,
        };
        Some(Self {
            form: form.into(),
            der: der.to_vec(),
        })
    }
}

/// What a file holds: its certificates (the one matching the key first) and, for an identity,
/// the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(with = "b64_list")]
    pub certificates: Vec<Vec<u8>>,
    pub key: Option<KeyDer>,
}

mod b64_list {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            v.iter()
                .map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

/// Why a file was not taken; each is a sentence for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum InspectError {
    #[error(
        "This file is not a certificate or keystore. Upload a DER (.der, .cer) or PEM (.pem, .crt) certificate, or a JKS (.jks) or PKCS#12 (.p12, .pfx) keystore."
    )]
    NotACertificate,
    #[error("This keystore is protected by a password: enter its Keystore Password.")]
    PasswordNeeded,
    #[error("The keystore password is wrong.")]
    WrongPassword,
    #[error("This file holds no certificate.")]
    NoCertificate,
    #[error("This file holds more than {MAX_CERTIFICATES} certificates.")]
    TooManyCertificates,
    #[error("This file holds {0} private keys; upload a keystore with one identity.")]
    SeveralKeys(usize),
    #[error("The private key does not belong to any certificate in the file.")]
    KeyMismatch,
    #[error(
        "The private key in this PEM file is encrypted; upload it as a PKCS#12 (.p12) keystore with its password instead."
    )]
    EncryptedPemKey,
    #[error("This file's {0} is not a valid X.509 certificate.")]
    BadCertificate(String),
    #[error(
        "This keystore could not be opened: it needs more time or memory than any real keystore does."
    )]
    TooCostly,
    #[error("Too many certificates are being read right now. Try again in a moment.")]
    Busy,
}

const JKS_MAGIC: [u8; 4] = [0xFE, 0xED, 0xFE, 0xED];

/// What `bytes` holds, opened with `password` where it is a keystore. Runs in this process:
/// only for the child process and tests; the server calls `isolated`.
pub fn inspect(bytes: &[u8], password: &str) -> Result<Bundle, InspectError> {
    let mut bundle = if bytes.starts_with(&JKS_MAGIC) {
        jks_bundle(bytes, password)?
    } else if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        pem_bundle(bytes)?
    } else if is_single_der_certificate(bytes) {
        Bundle {
            certificates: vec![bytes.to_vec()],
            key: None,
        }
    } else {
        p12_bundle(bytes, password)?
    };
    if bundle.certificates.is_empty() {
        return Err(InspectError::NoCertificate);
    }
    if bundle.certificates.len() > MAX_CERTIFICATES {
        return Err(InspectError::TooManyCertificates);
    }
    for (i, der) in bundle.certificates.iter().enumerate() {
        crate::certs::parse_certificate(der)
            .map_err(|_| InspectError::BadCertificate(ordinal(i)))?;
    }
    if let Some(key) = bundle.key.take() {
        let key = with_public_key(key);
        put_key_owner_first(&mut bundle.certificates, &key)?;
        bundle.key = Some(key);
    }
    Ok(bundle)
}

/// An EC private key as TLS can load it. PKCS#8 and SEC1 let the public key out (Java's
/// keytool and Portecle do), but rustls' ring provider needs it: such a key is written again
/// with its public key, computed from the private one. Anything else is returned as it is.
fn with_public_key(key: KeyDer) -> KeyDer {
    use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    let provider = rustls::crypto::ring::default_provider();
    let loads = |k: &KeyDer| {
        k.to_pki()
            .is_some_and(|pki| provider.key_provider.load_private_key(pki).is_ok())
    };
    if loads(&key) {
        return key;
    }
    let pkcs8 = match key.form.as_str() {
        "pkcs8" => p256::SecretKey::from_pkcs8_der(&key.der)
            .ok()
            .and_then(|k| k.to_pkcs8_der().ok())
            .or_else(|| {
                p384::SecretKey::from_pkcs8_der(&key.der)
                    .ok()
                    .and_then(|k| k.to_pkcs8_der().ok())
            }),
        "sec1" => p256::SecretKey::from_sec1_der(&key.der)
            .ok()
            .and_then(|k| k.to_pkcs8_der().ok())
            .or_else(|| {
                p384::SecretKey::from_sec1_der(&key.der)
                    .ok()
                    .and_then(|k| k.to_pkcs8_der().ok())
            }),
        _ => None,
    };
    match pkcs8 {
        Some(doc) => KeyDer {
            form: "pkcs8".into(),
            der: doc.as_bytes().to_vec(),
        },
        None => key,
    }
}

fn ordinal(i: usize) -> String {
    match i {
        0 => "first certificate".into(),
        1 => "second certificate".into(),
        2 => "third certificate".into(),
        n => format!("certificate number {}", n + 1),
    }
}

fn is_single_der_certificate(bytes: &[u8]) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    matches!(X509Certificate::from_der(bytes), Ok((rest, _)) if rest.is_empty())
}

/// The certificate the key belongs to goes first (the chain a TLS client presents starts
/// with it); a key that belongs to none is refused.
fn put_key_owner_first(certificates: &mut [Vec<u8>], key: &KeyDer) -> Result<(), InspectError> {
    let provider = rustls::crypto::ring::default_provider();
    let pki = key.to_pki().ok_or(InspectError::KeyMismatch)?;
    let owner = certificates.iter().position(|der| {
        rustls::sign::CertifiedKey::from_der(
            vec![CertificateDer::from(der.clone())],
            pki.clone_key(),
            &provider,
        )
        .is_ok_and(|k| k.keys_match().is_ok())
    });
    match owner {
        Some(i) => {
            certificates[..=i].rotate_right(1);
            Ok(())
        }
        None => Err(InspectError::KeyMismatch),
    }
}

fn pem_bundle(bytes: &[u8]) -> Result<Bundle, InspectError> {
    if bytes
        .windows(b"ENCRYPTED PRIVATE KEY".len())
        .any(|w| w == b"ENCRYPTED PRIVATE KEY")
    {
        return Err(InspectError::EncryptedPemKey);
    }
    let mut certificates = Vec::new();
    let mut keys = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        let (kind, der) = section.map_err(|_| InspectError::NotACertificate)?;
        match kind {
            SectionKind::Certificate => certificates.push(der),
            SectionKind::PrivateKey => keys.push(PrivateKeyDer::Pkcs8(der.into())),
            SectionKind::RsaPrivateKey => keys.push(PrivateKeyDer::Pkcs1(der.into())),
            SectionKind::EcPrivateKey => keys.push(PrivateKeyDer::Sec1(der.into())),
            _ => {}
        }
        if certificates.len() > MAX_CERTIFICATES {
            return Err(InspectError::TooManyCertificates);
        }
    }
    if certificates.is_empty() && keys.is_empty() {
        return Err(InspectError::NotACertificate);
    }
    if keys.len() > 1 {
        return Err(InspectError::SeveralKeys(keys.len()));
    }
    dedup(&mut certificates);
    Ok(Bundle {
        certificates,
        key: keys.pop().and_then(KeyDer::from_pki),
    })
}

fn jks_bundle(bytes: &[u8], password: &str) -> Result<Bundle, InspectError> {
    use jks::{KeyStore, KeyStoreError};
    let mut store = KeyStore::new();
    match store.load(bytes, password.as_bytes()) {
        Ok(()) => {}
        Err(KeyStoreError::InvalidDigest) if password.is_empty() => {
            return Err(InspectError::PasswordNeeded);
        }
        Err(KeyStoreError::InvalidDigest) => return Err(InspectError::WrongPassword),
        Err(_) => return Err(InspectError::NotACertificate),
    }
    let mut aliases = store.aliases();
    aliases.sort();
    let mut certificates = Vec::new();
    let mut key = None;
    let mut keys = 0;
    for alias in aliases {
        if store.is_private_key_entry(&alias) {
            keys += 1;
            let entry = store
                .get_private_key_entry(&alias, password.as_bytes())
                .map_err(|_| InspectError::WrongPassword)?;
            certificates.extend(entry.certificate_chain.into_iter().map(|c| c.content));
            key = Some(KeyDer {
                form: "pkcs8".into(),
                der: entry.private_key,
            });
        } else if let Ok(entry) = store.get_trusted_certificate_entry(&alias) {
            certificates.push(entry.certificate.content);
        }
    }
    if keys > 1 {
        return Err(InspectError::SeveralKeys(keys));
    }
    dedup(&mut certificates);
    Ok(Bundle { certificates, key })
}

fn p12_bundle(bytes: &[u8], password: &str) -> Result<Bundle, InspectError> {
    use p12_keystore::error::Error;
    let archive = match p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password) {
        Ok(a) => a,
        Err(Error::MacError(_) | Error::UnpadError | Error::Pkcs5Error(_))
            if password.is_empty() =>
        {
            return Err(InspectError::PasswordNeeded);
        }
        Err(Error::MacError(_) | Error::UnpadError | Error::Pkcs5Error(_)) => {
            return Err(InspectError::WrongPassword);
        }
        Err(_) => return Err(InspectError::NotACertificate),
    };
    if archive.keys.len() > 1 {
        return Err(InspectError::SeveralKeys(archive.keys.len()));
    }
    let mut certificates: Vec<Vec<u8>> = archive
        .certs
        .iter()
        .map(|c| c.cert.as_der().to_vec())
        .collect();
    dedup(&mut certificates);
    let key = archive.keys.first().map(|k| KeyDer {
        form: "pkcs8".into(),
        der: k.key.as_der().to_vec(),
    });
    Ok(Bundle { certificates, key })
}

fn dedup(certificates: &mut Vec<Vec<u8>>) {
    let mut seen = std::collections::HashSet::new();
    certificates.retain(|c| seen.insert(c.clone()));
}

// ---------- the child process ----------

/// What the parent sends the child on standard input: the password's length (4 bytes, big
/// endian), the password, then the file.
fn frame(bytes: &[u8], password: &str) -> Vec<u8> {
    let p = password.as_bytes();
    let mut out = Vec::with_capacity(4 + p.len() + bytes.len());
    out.extend_from_slice(&(p.len() as u32).to_be_bytes());
    out.extend_from_slice(p);
    out.extend_from_slice(bytes);
    out
}

/// `switchboard inspect-keystore [--cpu-secs N]`: limits itself (CPU seconds, memory), reads
/// one frame from standard input, and writes the outcome as JSON to standard output.
pub fn child_main() -> std::process::ExitCode {
    use std::io::{Read, Write};
    let args: Vec<String> = std::env::args().collect();
    let cpu = args
        .iter()
        .position(|a| a == "--cpu-secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(CHILD_CPU_SECS)
        .clamp(1, CHILD_CPU_SECS);
    let limited = rlimit::setrlimit(rlimit::Resource::CPU, cpu, cpu + 1)
        .and_then(|()| rlimit::setrlimit(rlimit::Resource::AS, CHILD_MEMORY, CHILD_MEMORY));
    if limited.is_err() {
        return std::process::ExitCode::FAILURE;
    }
    let mut input = Vec::new();
    if std::io::stdin()
        .take((MAX_FILE + 4 + 4096) as u64)
        .read_to_end(&mut input)
        .is_err()
        || input.len() < 4
    {
        return std::process::ExitCode::FAILURE;
    }
    let (len, rest) = input.split_at(4);
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if len > rest.len() {
        return std::process::ExitCode::FAILURE;
    }
    let (password, file) = rest.split_at(len);
    let password = String::from_utf8_lossy(password);
    let outcome = inspect(file, &password);
    let json = serde_json::to_vec(&outcome).unwrap_or_default();
    if std::io::stdout().write_all(&json).is_err() {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// Inspections running at once (each a child process).
fn inspectors() -> &'static Arc<Semaphore> {
    static INSPECTORS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    INSPECTORS.get_or_init(|| Arc::new(Semaphore::new(2)))
}

/// `inspect` in a child process of `exe` (this program): a file that makes the parser run
/// out of time or memory is refused, the server unharmed.
pub async fn isolated(exe: &Path, bytes: &[u8], password: &str) -> Result<Bundle, InspectError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let permit = tokio::time::timeout(INSPECT_WAIT, inspectors().clone().acquire_owned())
        .await
        .map_err(|_| InspectError::Busy)?
        .map_err(|_| InspectError::Busy)?;
    let run = async {
        let _permit = permit;
        let mut child = tokio::process::Command::new(exe)
            .arg("inspect-keystore")
            .env_clear()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                tracing::error!(error = %e, exe = %exe.display(), "starting the keystore inspector");
                InspectError::TooCostly
            })?;
        let input = frame(bytes, password);
        if let Some(mut stdin) = child.stdin.take() {
            // a child that died early closes its end: what it answers below says why
            let _ = stdin.write_all(&input).await;
        }
        let mut out = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = stdout.take(4 * 1024 * 1024).read_to_end(&mut out).await;
        }
        let status = child.wait().await.map_err(|_| InspectError::TooCostly)?;
        if !status.success() {
            tracing::warn!(?status, "keystore inspector stopped without an answer");
            return Err(InspectError::TooCostly);
        }
        serde_json::from_slice::<Result<Bundle, InspectError>>(&out)
            .map_err(|_| InspectError::TooCostly)?
    };
    match tokio::time::timeout(INSPECT_RUN, run).await {
        Ok(outcome) => outcome,
        // the child is killed as its handle drops
        Err(_) => Err(InspectError::TooCostly),
    }
}

/// The program to run inspections with: this executable (the `switchboard` binary).
pub fn inspector_exe() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("switchboard"))
}

/// The certificates as PEM text (how a chain is kept).
pub fn to_pem(certificates: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for der in certificates {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// The certificates of a PEM text made by `to_pem`.
pub fn from_pem(text: &str) -> Vec<Vec<u8>> {
    CertificateDer::pem_slice_iter(text.as_bytes())
        .filter_map(Result::ok)
        .map(|c| c.as_ref().to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &[u8] = include_bytes!("../tests/fixtures/infobip.pem");
    const DER: &[u8] = include_bytes!("../tests/fixtures/infobip.der");

    #[test]
    fn a_file_may_hold_at_most_sixteen_certificates() {
        // distinct certificates (a repeated one counts once)
        let pems: Vec<String> = (0..=MAX_CERTIFICATES)
            .map(|i| {
                rcgen::generate_simple_self_signed(vec![format!("c{i}.test")])
                    .unwrap()
                    .cert
                    .pem()
            })
            .collect();
        let sixteen = pems[..MAX_CERTIFICATES].join("\n").into_bytes();
        let listed = inspect(&sixteen, "").unwrap().certificates.len();
        assert_eq!(listed, MAX_CERTIFICATES);
        let seventeen = pems.join("\n").into_bytes();
        assert_eq!(
            inspect(&seventeen, "").unwrap_err(),
            InspectError::TooManyCertificates
        );
    }

    #[test]
    fn der_and_pem_files() {
        assert_eq!(inspect(DER, "").unwrap().certificates, vec![DER.to_vec()]);
        assert_eq!(inspect(PEM, "").unwrap().certificates, vec![DER.to_vec()]);
        let two = [PEM, PEM].concat();
        assert_eq!(
            inspect(&two, "").unwrap().certificates.len(),
            1,
            "a repeat is one"
        );
        assert_eq!(inspect(b"junk", ""), Err(InspectError::NotACertificate));
        assert_eq!(inspect(&DER[..100], ""), Err(InspectError::NotACertificate));
        let encrypted =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(inspect(encrypted, ""), Err(InspectError::EncryptedPemKey));
        let many: Vec<u8> = (0..17)
            .flat_map(|i| {
                let mut der = DER.to_vec();
                // 17 different certificates: change a byte of the signature
                let n = der.len();
                der[n - 1] = i;
                to_pem(&[der]).into_bytes()
            })
            .collect();
        assert_eq!(inspect(&many, ""), Err(InspectError::TooManyCertificates));
    }

    #[test]
    fn chains_and_keys_keep_their_form() {
        let pem = to_pem(&[DER.to_vec(), DER.to_vec()]);
        assert_eq!(from_pem(&pem), vec![DER.to_vec(), DER.to_vec()]);
        let key = KeyDer {
            form: "sec1".into(),
            der: vec![1, 2, 3],
        };
        assert_eq!(KeyDer::from_bytes(&key.to_bytes()), Some(key.clone()));
        assert_eq!(
            format!("{key:?}"),
            "KeyDer(sec1, ****)",
            "no key bytes in Debug"
        );
        assert_eq!(KeyDer::from_bytes(&[9, 1]), None);
        let framed = frame(b"file", "pw");
        assert_eq!(&framed[..4], &2u32.to_be_bytes());
        assert_eq!(&framed[4..], b"pwfile");
    }
}
