//! Certificate files as people bring them: DER, PEM (certificates, and an identity's private
//! key), and keystores — JKS (as Portecle and keytool write them) and PKCS#12 (`.p12`, `.pfx`)
//! — with their password. Read with maintained crates (x509-parser, rustls-pki-types, jks,
//! p12-keystore, rustls for the key check); nothing here parses ASN.1 by hand.
//!
//! A keystore is untrusted input whose parsers allocate what its headers declare and derive
//! keys as often as it asks: `inspect` runs in a child process (`switchboard inspect-keystore`)
//! with limits on its CPU time and memory, so a file made to exhaust the parser costs the
//! server a bounded moment of one core and nothing of its own memory (`Inspectors::inspect`).
//! A PKCS#12 file that declares more key derivation than any real keystore needs is refused
//! before any is done (`pbe_work`). The inspections are shared fairly: one at a time per
//! tenant space, two at once in all, the tenant spaces taking turns; a tenant space whose files
//! keep ending "too costly" waits before its next one, and only it.

use base64::Engine;
use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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
/// Key derivation rounds a PKCS#12 file may declare in all (its MAC's and every encrypted
/// part's): keytool writes 10,000 per part, OpenSSL 2,048; a file asking for more is refused
/// before one round is run.
pub const MAX_PBE_ITERATIONS: u64 = 2_000_000;
/// Inspections running at once, all tenant spaces together (each a child process).
const INSPECTORS: usize = 2;
/// "Too costly" results in a row after which a tenant space waits before its next inspection.
const STRIKES_BEFORE_PAUSE: u32 = 3;
/// "Too costly" results older than this are forgotten.
const STRIKES_FORGOTTEN: Duration = Duration::from_secs(10 * 60);
/// The first pause, doubled for every further "too costly" result, up to `LONGEST_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_secs(15);
const LONGEST_PAUSE: Duration = Duration::from_secs(10 * 60);

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
    #[error(
        "The last files uploaded in this tenant space were too costly to read: certificate uploads here are paused for {seconds} more seconds."
    )]
    Paused { seconds: u64 },
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
        crate::certificates::x509::parse_certificate(der)
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
    if pbe_work(bytes) > MAX_PBE_ITERATIONS {
        return Err(InspectError::TooCostly);
    }
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

/// The key derivation rounds `bytes` (a PKCS#12 file) declares: the iteration count of every
/// password-based algorithm it names (PBKDF2 and the PKCS#5 v1 and PKCS#12 schemes; the
/// PKCS#12 one derives a key and an IV, so twice) and of its MAC, wherever they are — also
/// inside the octet strings that carry its parts. What is encrypted cannot be seen before it
/// is decrypted: the child's CPU limit bounds that. A structure too deep or too large to walk
/// counts as too costly (`u64::MAX`).
pub fn pbe_work(bytes: &[u8]) -> u64 {
    use x509_parser::asn1_rs::{Any, Class, FromBer, Tag};
    /// OID prefixes (DER content): pkcs-5 (PBES1, PBES2, PBKDF2) and pkcs-12 PBE ids.
    const PKCS5: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05];
    const PKCS12_PBE: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01];
    const MAX_NODES: usize = 100_000;
    const MAX_DEPTH: usize = 48;

    struct Walk {
        work: u64,
        nodes: usize,
    }

    fn children(data: &[u8]) -> Vec<Any<'_>> {
        let mut out = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            match Any::from_ber(rest) {
                Ok((r, any)) => {
                    out.push(any);
                    rest = r;
                }
                Err(_) => break,
            }
        }
        out
    }

    fn integer(any: &Any<'_>) -> u64 {
        any.data.iter().fold(0u64, |n, b| {
            n.saturating_mul(256).saturating_add(u64::from(*b))
        })
    }

    fn is(any: &Any<'_>, tag: Tag) -> bool {
        any.header.class() == Class::Universal && any.header.tag() == tag
    }

    fn walk(any: &Any<'_>, depth: usize, w: &mut Walk) -> Result<(), ()> {
        w.nodes += 1;
        if w.nodes > MAX_NODES || depth > MAX_DEPTH {
            return Err(());
        }
        if is(any, Tag::OctetString) && !any.header.is_constructed() {
            // a part carried as DER inside an octet string
            if let Ok((rest, inner)) = Any::from_ber(any.data)
                && rest.is_empty()
                && is(&inner, Tag::Sequence)
            {
                walk(&inner, depth + 1, w)?;
            }
            return Ok(());
        }
        if !any.header.is_constructed() {
            return Ok(());
        }
        let kids = children(any.data);
        if is(any, Tag::Sequence) {
            match kids.as_slice() {
                // AlgorithmIdentifier { pbe OID, { salt, iterations, … } }
                [oid, params, ..]
                    if is(oid, Tag::Oid)
                        && (oid.data.starts_with(PKCS5) || oid.data.starts_with(PKCS12_PBE)) =>
                {
                    let inner = children(params.data);
                    if let [salt, count, ..] = inner.as_slice()
                        && is(salt, Tag::OctetString)
                        && is(count, Tag::Integer)
                    {
                        let rounds = integer(count);
                        let times = if oid.data.starts_with(PKCS12_PBE) {
                            2
                        } else {
                            1
                        };
                        w.work = w.work.saturating_add(rounds.saturating_mul(times));
                    }
                }
                // MacData { DigestInfo, salt, iterations }
                [digest, salt, count]
                    if is(digest, Tag::Sequence)
                        && is(salt, Tag::OctetString)
                        && is(count, Tag::Integer) =>
                {
                    w.work = w.work.saturating_add(integer(count));
                }
                _ => {}
            }
        }
        for kid in &kids {
            walk(kid, depth + 1, w)?;
        }
        Ok(())
    }

    let mut w = Walk { work: 0, nodes: 0 };
    match Any::from_ber(bytes) {
        Ok((_, top)) => match walk(&top, 0, &mut w) {
            Ok(()) => w.work,
            Err(()) => u64::MAX,
        },
        Err(_) => 0,
    }
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
    if crate::child::limit_self(cpu, CHILD_MEMORY).is_err() {
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

/// A tenant space's place in the inspections: its turn (one inspection at a time) and its
/// recent "too costly" results.
struct Lane {
    turn: Arc<Semaphore>,
    strikes: u32,
    last_strike: Option<Instant>,
    paused_until: Option<Instant>,
}

impl Lane {
    /// Whole seconds of the tenant space's pause still to wait, if it is paused.
    fn pause_left(&self) -> Option<u64> {
        let left = self.paused_until?.checked_duration_since(Instant::now())?;
        Some(left.as_secs().max(1))
    }
}

/// The keystore inspections of one server: at most `INSPECTORS` child processes at once, one
/// per tenant space. A tenant space waits for its own turn first, so at most one of its uploads
/// is ever queued for a child process: the queue for those (first come, first served) holds
/// each tenant space at most once, and the tenant spaces take turns.
pub struct Inspectors {
    exe: PathBuf,
    all: Arc<Semaphore>,
    lanes: Mutex<HashMap<i64, Lane>>,
}

impl Inspectors {
    /// Inspections with `exe` (this program, see `inspector_exe`).
    pub fn new(exe: PathBuf) -> Self {
        Self {
            exe,
            all: Arc::new(Semaphore::new(INSPECTORS)),
            lanes: Mutex::new(HashMap::new()),
        }
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Lane>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn paused(&self, tenant: i64) -> Result<(), InspectError> {
        match self.lanes().get(&tenant).and_then(Lane::pause_left) {
            Some(seconds) => Err(InspectError::Paused { seconds }),
            None => Ok(()),
        }
    }

    /// What `bytes` holds, read in a child process in `tenant`'s turn.
    pub async fn inspect(
        &self,
        tenant: i64,
        bytes: &[u8],
        password: &str,
    ) -> Result<Bundle, InspectError> {
        let turn = {
            let mut lanes = self.lanes();
            let lane = lanes.entry(tenant).or_insert_with(|| Lane {
                turn: Arc::new(Semaphore::new(1)),
                strikes: 0,
                last_strike: None,
                paused_until: None,
            });
            if let Some(seconds) = lane.pause_left() {
                return Err(InspectError::Paused { seconds });
            }
            lane.turn.clone()
        };
        // the lane is not kept once unused and clean, however this ends (also when dropped)
        let _tidy = Tidy {
            owner: self,
            tenant,
        };
        let started = Instant::now();
        let outcome = async {
            let _mine = tokio::time::timeout(INSPECT_WAIT, turn.acquire_owned())
                .await
                .map_err(|_| InspectError::Busy)?
                .map_err(|_| InspectError::Busy)?;
            // the files before this one in the tenant space's line may have paused it
            self.paused(tenant)?;
            let left = INSPECT_WAIT.saturating_sub(started.elapsed());
            let _child = tokio::time::timeout(left, self.all.clone().acquire_owned())
                .await
                .map_err(|_| InspectError::Busy)?
                .map_err(|_| InspectError::Busy)?;
            isolated(&self.exe, bytes, password).await
        }
        .await;
        self.record(tenant, &outcome);
        outcome
    }

    /// Counts a "too costly" result against the tenant space (a pause after a few within
    /// `STRIKES_FORGOTTEN`); a file that was read clears its record. Other refusals (not a
    /// keystore, a wrong password, the server busy) change nothing: they cost little, and
    /// they cannot wash out costly ones.
    fn record(&self, tenant: i64, outcome: &Result<Bundle, InspectError>) {
        let mut lanes = self.lanes();
        let Some(lane) = lanes.get_mut(&tenant) else {
            return;
        };
        match outcome {
            Err(InspectError::TooCostly) => {
                let now = Instant::now();
                if lane
                    .last_strike
                    .is_some_and(|at| now.duration_since(at) > STRIKES_FORGOTTEN)
                {
                    lane.strikes = 0;
                }
                lane.last_strike = Some(now);
                lane.strikes += 1;
                if lane.strikes >= STRIKES_BEFORE_PAUSE {
                    let doublings = (lane.strikes - STRIKES_BEFORE_PAUSE).min(16);
                    let pause = FIRST_PAUSE
                        .saturating_mul(1 << doublings)
                        .min(LONGEST_PAUSE);
                    lane.paused_until = Some(Instant::now() + pause);
                    tracing::warn!(
                        tenant_id = tenant,
                        strikes = lane.strikes,
                        pause_secs = pause.as_secs(),
                        "certificate files too costly to read: this tenant space waits"
                    );
                }
            }
            Ok(_) => {
                lane.strikes = 0;
                lane.last_strike = None;
                lane.paused_until = None;
            }
            Err(_) => {}
        }
    }

    /// Forgets `tenant`'s lane when nobody uses it and nothing is held against it.
    fn tidy(&self, tenant: i64) {
        let mut lanes = self.lanes();
        let idle = lanes.get(&tenant).is_some_and(|lane| {
            let forgiven = lane.strikes == 0
                || lane
                    .last_strike
                    .is_some_and(|at| at.elapsed() > STRIKES_FORGOTTEN);
            forgiven && Arc::strong_count(&lane.turn) == 1
        });
        if idle {
            lanes.remove(&tenant);
        }
    }

    /// Tenant spaces with a lane (in use, or with "too costly" results against them).
    pub fn lanes_kept(&self) -> usize {
        self.lanes().len()
    }
}

/// Tidies a tenant space's lane when an inspection ends, also one dropped half-way (its
/// turn's permit, dropped before this, no longer holds the lane).
struct Tidy<'a> {
    owner: &'a Inspectors,
    tenant: i64,
}

impl Drop for Tidy<'_> {
    fn drop(&mut self) {
        self.owner.tidy(self.tenant);
    }
}

/// `inspect` in a child process of `exe` (this program): a file that makes the parser run
/// out of time or memory is refused ("too costly"), the server unharmed; a child that cannot
/// be started, or does not end within its time because the host is overloaded, is the
/// server's trouble, not the file's ("busy"). Takes no turn: see `Inspectors`.
pub async fn isolated(exe: &Path, bytes: &[u8], password: &str) -> Result<Bundle, InspectError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let run = async {
        let mut child = crate::child::spawn(exe, "inspect-keystore").map_err(|e| {
            tracing::error!(error = %e, exe = %exe.display(), "starting the keystore inspector");
            InspectError::Busy
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
        // the child is killed as its handle drops; its CPU limit would have stopped it long
        // before: the host is overloaded
        Err(_) => {
            tracing::warn!("keystore inspector not done in its time: the host is overloaded");
            Err(InspectError::Busy)
        }
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

    const PEM: &[u8] = include_bytes!("../../tests/fixtures/infobip.pem");
    const DER: &[u8] = include_bytes!("../../tests/fixtures/infobip.der");

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

    /// A PKCS#12 file of `keys` keys, each encrypted with `rounds` rounds, its MAC with `mac`.
    fn p12(keys: u8, rounds: u32, mac: u32) -> Vec<u8> {
        use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKeyChain};
        let mut ks = KeyStore::new();
        for i in 0..keys {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec![format!("k{i}.test")])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            let chain = PrivateKeyChain::new(
                vec![i],
                p12_keystore::PrivateKey::from_der(&key.serialize_der()).unwrap(),
                [p12_keystore::Certificate::from_der(cert.der()).unwrap()],
            );
            ks.add_entry(&format!("k{i}"), KeyStoreEntry::PrivateKeyChain(chain));
        }
        ks.writer("pw")
            .encryption_iterations(rounds)
            .mac_iterations(mac)
            .write()
            .unwrap()
    }

    #[test]
    fn the_key_derivation_a_pkcs12_file_declares_is_counted_before_any_is_done() {
        // as keytool writes them: 10,000 rounds for the key, the certificates and the MAC
        let usual = p12(1, 10_000, 10_000);
        let work = pbe_work(&usual);
        assert!((30_000..=60_000).contains(&work), "{work}");
        assert_eq!(inspect(&usual, "pw").unwrap().certificates.len(), 1);
        // many keys at a million rounds each: refused at once, before a round is run
        let costly = p12(3, 700_000, 1);
        assert!(
            pbe_work(&costly) > MAX_PBE_ITERATIONS,
            "{}",
            pbe_work(&costly)
        );
        let started = std::time::Instant::now();
        assert_eq!(inspect(&costly, "pw").unwrap_err(), InspectError::TooCostly);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        // a MAC alone can ask for too much
        assert!(pbe_work(&p12(1, 1, 3_000_000)) > MAX_PBE_ITERATIONS);
        // what is not DER declares nothing
        assert_eq!(pbe_work(b"junk"), 0);
        assert_eq!(pbe_work(&[]), 0);
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
