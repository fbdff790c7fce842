//! Secrets at rest: AES-256-GCM with a random 96-bit nonce per write and associated data that
//! binds each value to its tenant, owner and field, so a value copied to another row or field
//! does not decrypt.
//!
//! Stored form (v2): version byte `2`, the 8-byte id of the key that sealed it, the 12-byte
//! nonce, the ciphertext with its 16-byte tag. Values sealed before key ids existed (v1:
//! version byte `1`, nonce, ciphertext) are opened by trying each key.
//!
//! Keys form a ring: the current key seals, every key of the ring opens (by key id). A ring
//! comes from `SWITCHBOARD_MASTER_KEY` (current) and `SWITCHBOARD_PREVIOUS_MASTER_KEYS`
//! (comma-separated), or from the key file (`master.key`, mode 0600: the current key on the
//! first line, previous keys on the lines after it). A server looks at its key file every
//! second (and at once when it meets a key id it does not know), so `switchboard rotate-key`
//! can change the keys of a running server; a changed file is taken only if it still holds the
//! key the server seals with (a rotation step), never a stranger's file.

pub mod crypto;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

const V1: u8 = 1;
const V2: u8 = 2;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
pub const KEY_ID_LEN: usize = 8;
pub const KEY_FILE: &str = "master.key";
/// A key file is looked at again this often.
const RELOAD_EVERY: Duration = Duration::from_secs(1);
/// ... and at most this often when a value names a key this process does not know.
const RELOAD_ON_UNKNOWN: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{0} must be 32 bytes, base64 or hex encoded")]
    BadKey(&'static str),
    #[error("cannot read or write the key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("the key file {0} is readable by others; make it mode 0600")]
    KeyFileMode(String),
    #[error("a stored secret could not be decrypted (wrong key, or the value was altered)")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
}

/// The public name of a key: the first 8 bytes of a SHA-256 over it. Safe to store and print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl KeyId {
    fn of(key: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"switchboard/master-key-id/v1\0")
            .chain_update(key)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self(id)
    }

    pub fn parse(hex_id: &str) -> Option<Self> {
        let bytes = hex::decode(hex_id).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Where a secret belongs; part of what is authenticated.
#[derive(Debug, Clone, Copy)]
pub struct SecretScope<'a> {
    pub tenant_id: i64,
    /// The owner's stable public id (a channel's uid, not its row number, which a restore may
    /// change).
    pub channel: &'a str,
    pub field: &'a str,
}

impl SecretScope<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "switchboard/secret/v1\0tenant={}\0channel={}\0field={}",
            self.tenant_id, self.channel, self.field
        )
        .into_bytes()
    }
}

#[derive(Clone)]
struct Key {
    id: KeyId,
    cipher: Aes256Gcm,
    /// The key that signs device cookies (`http::throttle`), derived from this one:
    /// HMAC-SHA256 under the master key of a label of its own, so it reveals nothing of the
    /// master key and is the same on every instance that holds it, across restarts.
    device: [u8; 32],
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes).expect("HMAC takes any key");
        mac.update(b"switchboard/device-cookie-key/v1");
        Self {
            id: KeyId::of(bytes),
            cipher: Aes256Gcm::new(bytes.into()),
            device: mac.finalize().into_bytes().into(),
        }
    }
}

/// The current key and the previous ones still accepted.
#[derive(Clone)]
pub struct KeyRing {
    current: Key,
    previous: Vec<Key>,
}

impl KeyRing {
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        let current = Key::new(current);
        let mut seen = vec![current.id];
        let previous = previous
            .iter()
            .map(Key::new)
            .filter(|k| {
                let new = !seen.contains(&k.id);
                seen.push(k.id);
                new
            })
            .collect();
        Self { current, previous }
    }

    pub fn current_id(&self) -> KeyId {
        self.current.id
    }

    /// Every key id of the ring, the current one first.
    pub fn ids(&self) -> Vec<KeyId> {
        std::iter::once(self.current.id)
            .chain(self.previous.iter().map(|k| k.id))
            .collect()
    }

    fn find(&self, id: KeyId) -> Option<&Key> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyRing({:?})",
            self.ids().iter().map(KeyId::to_string).collect::<Vec<_>>()
        )
    }
}

/// Where the ring came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `SWITCHBOARD_MASTER_KEY` (+ `SWITCHBOARD_PREVIOUS_MASTER_KEYS`): fixed for the process.
    Env,
    /// A key file, read again when it changes.
    File(PathBuf),
}

/// What reading the configured keys found.
pub enum Loaded {
    Ring(Box<KeyRing>, KeySource),
    /// No key in the environment and no key file at this path (nothing is created here: the
    /// caller first checks that the database holds no secrets).
    NoKeyFile(PathBuf),
}

/// Reads the ring from the environment's values, else from `dir/master.key`.
pub fn load(
    env_current: Option<&str>,
    env_previous: Option<&str>,
    dir: &Path,
) -> Result<Loaded, SecretError> {
    if let Some(value) = env_current.map(str::trim).filter(|v| !v.is_empty()) {
        let current = decode_key(value, "SWITCHBOARD_MASTER_KEY")?;
        let previous = env_previous
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| decode_key(v, "each of SWITCHBOARD_PREVIOUS_MASTER_KEYS"))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Loaded::Ring(
            Box::new(KeyRing::new(&current, &previous)),
            KeySource::Env,
        ));
    }
    let path = dir.join(KEY_FILE);
    match read_key_file(&path)? {
        Some(ring) => Ok(Loaded::Ring(Box::new(ring), KeySource::File(path))),
        None => Ok(Loaded::NoKeyFile(path)),
    }
}

/// The ring in a key file, `None` when there is no file.
pub fn read_key_file(path: &Path) -> Result<Option<KeyRing>, SecretError> {
    let fail = |e: std::io::Error| SecretError::KeyFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    check_mode(path)?;
    let text = String::from_utf8(bytes).map_err(|_| SecretError::BadKey("the key file"))?;
    let keys = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| decode_key(l, "each line of the key file"))
        .collect::<Result<Vec<_>, _>>()?;
    let Some((current, previous)) = keys.split_first() else {
        return Err(SecretError::BadKey("the key file"));
    };
    Ok(Some(KeyRing::new(current, previous)))
}

/// Writes a key file (mode 0600) with `keys`, the current key first, replacing any file there
/// atomically (a reader sees the old file or the new one, never half of one).
pub fn write_key_file(path: &Path, keys: &[[u8; 32]]) -> Result<(), SecretError> {
    let fail = |e: std::io::Error| SecretError::KeyFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut text = String::from(
        "# Switchboard master keys: the current key first, previous keys (still accepted) after.\n",
    );
    for key in keys {
        text.push_str(&base64::engine::general_purpose::STANDARD.encode(key));
        text.push('\n');
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, &text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// 32 random bytes.
pub fn generate_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    key
}

/// The raw keys of a key file, current first (for `rotate-key`, which rewrites it).
pub fn key_file_keys(path: &Path) -> Result<Vec<[u8; 32]>, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|e| SecretError::KeyFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| decode_key(l, "each line of the key file"))
        .collect()
}

struct FileWatch {
    path: PathBuf,
    /// When the file was last looked at (never: `None`), and its modification time then.
    seen: Mutex<(Option<Instant>, Option<SystemTime>)>,
}

struct Inner {
    ring: RwLock<KeyRing>,
    file: Option<FileWatch>,
}

#[derive(Clone)]
pub struct SecretBox {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(****)")
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl SecretBox {
    /// A box with one fixed key (tests, tools).
    pub fn new(key: &[u8; 32]) -> Self {
        Self::with_ring(KeyRing::new(key, &[]), KeySource::Env)
    }

    pub fn with_ring(ring: KeyRing, source: KeySource) -> Self {
        let file = match source {
            KeySource::Env => None,
            KeySource::File(path) => Some(FileWatch {
                seen: Mutex::new((None, modified(&path))),
                path,
            }),
        };
        Self {
            inner: Arc::new(Inner {
                ring: RwLock::new(ring),
                file,
            }),
        }
    }

    /// Creates the key file with a new key (first start on an empty database).
    pub fn create_key_file(path: PathBuf) -> Result<Self, SecretError> {
        let key = generate_key();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| SecretError::KeyFile {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let text = format!(
            "# Switchboard master keys: the current key first, previous keys (still accepted) after.\n{}\n",
            base64::engine::general_purpose::STANDARD.encode(key)
        );
        write_private(&path, &text).map_err(|e| SecretError::KeyFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        tracing::info!(path = %path.display(), key_id = %KeyId::of(&key), "created a new master key file");
        Ok(Self::with_ring(
            KeyRing::new(&key, &[]),
            KeySource::File(path),
        ))
    }

    pub fn source(&self) -> KeySource {
        match &self.inner.file {
            Some(f) => KeySource::File(f.path.clone()),
            None => KeySource::Env,
        }
    }

    /// The keys that sign and check device cookies, one per key of the ring, the current
    /// key's first (it signs; the others still check, so a rotation signs no browser out of
    /// its standing).
    pub fn device_keys(&self) -> Vec<[u8; 32]> {
        let ring = self.inner.ring.read().unwrap_or_else(|e| e.into_inner());
        std::iter::once(&ring.current)
            .chain(&ring.previous)
            .map(|k| k.device)
            .collect()
    }

    pub fn ring(&self) -> KeyRing {
        self.inner
            .ring
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// With a key file: looks at it every second in the background, for as long as the box
    /// lives (file I/O stays off the request path).
    pub fn spawn_reloader(&self) {
        if self.inner.file.is_none() {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RELOAD_EVERY).await;
                let Some(inner) = weak.upgrade() else { break };
                let this = SecretBox { inner };
                let _ =
                    tokio::task::spawn_blocking(move || this.refresh(RELOAD_EVERY, false)).await;
            }
        });
    }

    /// With a key file: reads it again if it changed (or when `force`), unless it was looked at
    /// within `min_interval`. A file that cannot be read, or that no longer holds the key this
    /// process seals with (not a rotation step but another key altogether), leaves the ring as
    /// it is.
    fn refresh(&self, min_interval: Duration, force: bool) {
        let Some(watch) = &self.inner.file else {
            return;
        };
        let mut seen = watch.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.0.is_some_and(|at| at.elapsed() < min_interval) {
            return;
        }
        let now_modified = modified(&watch.path);
        seen.0 = Some(Instant::now());
        if now_modified == seen.1 && !force {
            return;
        }
        seen.1 = now_modified;
        match read_key_file(&watch.path) {
            Ok(Some(ring)) => {
                let mut current = self.inner.ring.write().unwrap_or_else(|e| e.into_inner());
                if current.ids() == ring.ids() {
                    return;
                }
                if !ring.ids().contains(&current.current_id()) {
                    tracing::error!(
                        path = %watch.path.display(),
                        sealing_key = %current.current_id(),
                        file_keys = ?ring,
                        "master key file changed to keys without the one in use; keeping the keys in memory"
                    );
                    return;
                }
                tracing::info!(keys = ?ring, "master key file changed: keys reloaded");
                *current = ring;
            }
            Ok(None) => {
                tracing::error!(path = %watch.path.display(), "master key file is gone; keeping the keys in memory")
            }
            Err(e) => {
                tracing::error!(error = %e, "master key file unreadable; keeping the keys in memory")
            }
        }
    }

    pub fn seal(&self, plaintext: &str, scope: SecretScope<'_>) -> Result<Vec<u8>, SecretError> {
        self.seal_bytes(plaintext.as_bytes(), scope)
    }

    pub fn seal_bytes(
        &self,
        plaintext: &[u8],
        scope: SecretScope<'_>,
    ) -> Result<Vec<u8>, SecretError> {
        let ring = self.inner.ring.read().unwrap_or_else(|e| e.into_inner());
        let key = &ring.current;
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = scope.aad();
        let ciphertext = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Encrypt)?;
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        out.push(V2);
        out.extend_from_slice(&key.id.0);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], scope: SecretScope<'_>) -> Result<String, SecretError> {
        String::from_utf8(self.open_bytes(sealed, scope)?).map_err(|_| SecretError::Decrypt)
    }

    pub fn open_bytes(
        &self,
        sealed: &[u8],
        scope: SecretScope<'_>,
    ) -> Result<Vec<u8>, SecretError> {
        match self.try_open(sealed, scope) {
            Err(SecretError::Decrypt) if self.inner.file.is_some() => {
                // a key this process has not seen yet: `rotate-key` may just have added it
                if let Some(id) = sealed_key_id(sealed)
                    && !self.ring_has(id)
                {
                    self.refresh(RELOAD_ON_UNKNOWN, true);
                    return self.try_open(sealed, scope);
                }
                Err(SecretError::Decrypt)
            }
            other => other,
        }
    }

    /// Whether a key of this id is in the ring (without reloading the key file for it).
    pub fn ring_has(&self, id: KeyId) -> bool {
        self.inner
            .ring
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .find(id)
            .is_some()
    }

    fn try_open(&self, sealed: &[u8], scope: SecretScope<'_>) -> Result<Vec<u8>, SecretError> {
        let ring = self.inner.ring.read().unwrap_or_else(|e| e.into_inner());
        let aad = scope.aad();
        let decrypt = |key: &Key, nonce: &[u8], ciphertext: &[u8]| {
            key.cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| SecretError::Decrypt)
        };
        match sealed.first() {
            Some(&V2) if sealed.len() >= 1 + KEY_ID_LEN + NONCE_LEN + TAG_LEN => {
                let id = sealed_key_id(sealed).ok_or(SecretError::Decrypt)?;
                let key = ring.find(id).ok_or(SecretError::Decrypt)?;
                let rest = &sealed[1 + KEY_ID_LEN..];
                let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
                decrypt(key, nonce, ciphertext)
            }
            Some(&V1) if sealed.len() >= 1 + NONCE_LEN + TAG_LEN => {
                let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
                std::iter::once(&ring.current)
                    .chain(&ring.previous)
                    .find_map(|k| decrypt(k, nonce, ciphertext).ok())
                    .ok_or(SecretError::Decrypt)
            }
            _ => Err(SecretError::Decrypt),
        }
    }

    /// The value sealed again under the current key, or `None` when it already is.
    pub fn reseal(
        &self,
        sealed: &[u8],
        scope: SecretScope<'_>,
    ) -> Result<Option<Vec<u8>>, SecretError> {
        if sealed_key_id(sealed) == Some(self.ring().current_id()) {
            return Ok(None);
        }
        let plain = self.open_bytes(sealed, scope)?;
        self.seal_bytes(&plain, scope).map(Some)
    }
}

/// The id of the key that sealed a stored value (`None` for a v1 value, which has none).
pub fn sealed_key_id(sealed: &[u8]) -> Option<KeyId> {
    if sealed.first() != Some(&V2) || sealed.len() < 1 + KEY_ID_LEN {
        return None;
    }
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&sealed[1..1 + KEY_ID_LEN]);
    Some(KeyId(id))
}

fn decode_key(value: &str, what: &'static str) -> Result<[u8; 32], SecretError> {
    let bytes = if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(value).map_err(|_| SecretError::BadKey(what))?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| SecretError::BadKey(what))?
    };
    bytes.try_into().map_err(|_| SecretError::BadKey(what))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| SecretError::KeyFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(SecretError::KeyFileMode(path.display().to_string()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path) -> Result<(), SecretError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: SecretScope<'static> = SecretScope {
        tenant_id: 1,
        channel: "ch-a",
        field: "password",
    };

    fn sb() -> SecretBox {
        SecretBox::new(&[7u8; 32])
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let s = sb();
        let one = s.seal("hunter2-canary", A).unwrap();
        let two = s.seal("hunter2-canary", A).unwrap();
        assert_ne!(one, two, "a random nonce per write");
        assert_eq!(s.open(&one, A).unwrap(), "hunter2-canary");
        assert!(!String::from_utf8_lossy(&one).contains("hunter2"));
        assert_eq!(one.len(), 1 + 8 + 12 + "hunter2-canary".len() + 16);
        assert_eq!(sealed_key_id(&one), Some(KeyId::of(&[7u8; 32])));
    }

    #[test]
    fn a_flipped_byte_or_another_place_fails() {
        let s = sb();
        let sealed = s.seal("secret", A).unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(s.open(&bad, A).is_err(), "byte {i}");
        }
        for other in [
            SecretScope { tenant_id: 2, ..A },
            SecretScope {
                channel: "ch-b",
                ..A
            },
            SecretScope {
                field: "account_key",
                ..A
            },
        ] {
            assert!(s.open(&sealed, other).is_err(), "{other:?}");
        }
        assert!(
            SecretBox::new(&[8u8; 32]).open(&sealed, A).is_err(),
            "another key"
        );
        assert!(s.open(&[], A).is_err());
        assert!(s.open(&[2, 1, 2], A).is_err());
    }

    /// What the first release wrote: version 1, nonce, ciphertext, no key id.
    fn seal_v1(key: &[u8; 32], plain: &str, scope: SecretScope<'_>) -> Vec<u8> {
        let cipher = Aes256Gcm::new(key.into());
        let nonce = [9u8; 12];
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &scope.aad(),
                },
            )
            .unwrap();
        [&[V1][..], &nonce, &ct].concat()
    }

    #[test]
    fn a_ring_opens_with_every_key_by_id_and_seals_with_the_current_one() {
        let old = SecretBox::new(&[1u8; 32]);
        let sealed_old = old.seal("old-value", A).unwrap();
        let legacy = seal_v1(&[1u8; 32], "legacy-value", A);
        let ring = SecretBox::with_ring(KeyRing::new(&[2u8; 32], &[[1u8; 32]]), KeySource::Env);
        assert_eq!(ring.open(&sealed_old, A).unwrap(), "old-value");
        assert_eq!(ring.open(&legacy, A).unwrap(), "legacy-value");
        let sealed_new = ring.seal("new-value", A).unwrap();
        assert_eq!(sealed_key_id(&sealed_new), Some(KeyId::of(&[2u8; 32])));
        assert!(
            old.open(&sealed_new, A).is_err(),
            "the old key cannot open the new value"
        );
        // resealing moves old and legacy values to the current key, and leaves current ones
        let moved = ring.reseal(&sealed_old, A).unwrap().unwrap();
        assert_eq!(sealed_key_id(&moved), Some(ring.ring().current_id()));
        assert_eq!(
            SecretBox::new(&[2u8; 32]).open(&moved, A).unwrap(),
            "old-value"
        );
        let moved = ring.reseal(&legacy, A).unwrap().unwrap();
        assert_eq!(
            SecretBox::new(&[2u8; 32]).open(&moved, A).unwrap(),
            "legacy-value"
        );
        assert!(ring.reseal(&sealed_new, A).unwrap().is_none());
        // a ring without the old key refuses its values
        assert!(SecretBox::new(&[2u8; 32]).open(&sealed_old, A).is_err());
    }

    #[test]
    fn keys_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let hex_key = "11".repeat(32);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0x11u8; 32]);
        let prev = base64::engine::general_purpose::STANDARD.encode([0x22u8; 32]);
        let Loaded::Ring(ring, source) =
            load(Some(&hex_key), Some(&format!(" {prev} ,")), dir.path()).unwrap()
        else {
            panic!("an env key is a ring");
        };
        assert_eq!(source, KeySource::Env);
        assert_eq!(
            ring.ids(),
            vec![KeyId::of(&[0x11; 32]), KeyId::of(&[0x22; 32])]
        );
        let Loaded::Ring(same, _) = load(Some(&b64), None, dir.path()).unwrap() else {
            panic!()
        };
        assert_eq!(same.current_id(), ring.current_id());
        assert!(matches!(
            load(Some("short"), None, dir.path()),
            Err(SecretError::BadKey("SWITCHBOARD_MASTER_KEY"))
        ));
        assert!(matches!(
            load(Some(&b64), Some("short"), dir.path()),
            Err(SecretError::BadKey(_))
        ));
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "an env key writes no file"
        );
    }

    #[test]
    fn a_key_file_is_private_and_is_never_created_by_loading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        assert!(matches!(load(None, None, dir.path()).unwrap(), Loaded::NoKeyFile(p) if p == path));
        assert!(!path.exists(), "loading never creates a key file");
        let first = SecretBox::create_key_file(path.clone()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let Loaded::Ring(ring, KeySource::File(_)) = load(None, None, dir.path()).unwrap() else {
            panic!("the file is read back");
        };
        let again = SecretBox::with_ring(*ring, KeySource::Env);
        let sealed = first.seal("kept across restarts", A).unwrap();
        assert_eq!(again.open(&sealed, A).unwrap(), "kept across restarts");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                load(None, None, dir.path()),
                Err(SecretError::KeyFileMode(_))
            ));
        }
    }

    #[test]
    fn a_key_file_of_other_keys_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        write_key_file(&path, &[[1u8; 32]]).unwrap();
        let Loaded::Ring(ring, source) = load(None, None, dir.path()).unwrap() else {
            panic!()
        };
        let server = SecretBox::with_ring(*ring, source);
        // someone copies another host's key file over this one
        write_key_file(&path, &[[9u8; 32]]).unwrap();
        let foreign = SecretBox::new(&[9u8; 32]).seal("x", A).unwrap();
        assert!(server.open(&foreign, A).is_err());
        assert_eq!(
            server.ring().current_id(),
            KeyId::of(&[1u8; 32]),
            "kept its key"
        );
        let sealed = server.seal("y", A).unwrap();
        assert_eq!(sealed_key_id(&sealed), Some(KeyId::of(&[1u8; 32])));
    }

    #[test]
    fn a_changed_key_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        write_key_file(&path, &[[1u8; 32]]).unwrap();
        let Loaded::Ring(ring, source) = load(None, None, dir.path()).unwrap() else {
            panic!()
        };
        let server = SecretBox::with_ring(*ring, source);
        // another process rotates: a new current key, the old one kept
        write_key_file(&path, &[[2u8; 32], [1u8; 32]]).unwrap();
        let by_rotation = SecretBox::new(&[2u8; 32]).seal("rotated", A).unwrap();
        // an unknown key id makes the server look at the file at once
        assert_eq!(server.open(&by_rotation, A).unwrap(), "rotated");
        assert_eq!(server.ring().current_id(), KeyId::of(&[2u8; 32]));
        let sealed = server.seal("after", A).unwrap();
        assert_eq!(sealed_key_id(&sealed), Some(KeyId::of(&[2u8; 32])));
        assert_eq!(key_file_keys(&path).unwrap(), vec![[2u8; 32], [1u8; 32]]);
    }

    #[test]
    fn device_keys_follow_the_master_key_and_reveal_nothing_of_it() {
        let one = SecretBox::new(&[7u8; 32]);
        let again = SecretBox::new(&[7u8; 32]);
        assert_eq!(
            one.device_keys(),
            again.device_keys(),
            "another instance, a restart"
        );
        assert_eq!(one.device_keys().len(), 1);
        assert_ne!(one.device_keys()[0], [7u8; 32]);
        let rotated = SecretBox::with_ring(KeyRing::new(&[8u8; 32], &[[7u8; 32]]), KeySource::Env);
        let keys = rotated.device_keys();
        assert_eq!(keys.len(), 2);
        assert_ne!(keys[0], one.device_keys()[0], "the new key signs");
        assert_eq!(keys[1], one.device_keys()[0], "the old one still checks");
    }
}
