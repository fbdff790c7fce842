//! Provider secrets at rest: AES-256-GCM with a random 96-bit nonce per write and associated
//! data that binds each value to its tenant, channel and field, so a value copied to another
//! row or field does not decrypt.
//!
//! Stored form: `v1` version byte, 12-byte nonce, ciphertext with its 16-byte tag.
//! The master key comes from `SWITCHBOARD_MASTER_KEY` (32 bytes, base64 or hex) or from a key
//! file created with mode 0600 on first run.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use rand::rngs::OsRng;
use std::path::Path;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
pub const KEY_FILE: &str = "master.key";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("SWITCHBOARD_MASTER_KEY must be 32 bytes, base64 or hex encoded")]
    BadKey,
    #[error("cannot read or create the key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("the key file {0} is readable by others; make it mode 0600")]
    KeyFileMode(String),
    #[error("a stored secret could not be decrypted (wrong key, or the value was altered)")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
}

/// Where a secret belongs; part of what is authenticated.
#[derive(Debug, Clone, Copy)]
pub struct SecretScope<'a> {
    pub tenant_id: i64,
    /// The channel's stable public id (not its row number, which a restore may change).
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
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(****)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// The key from `SWITCHBOARD_MASTER_KEY` when given, else from `dir/master.key`, created
    /// (32 random bytes, mode 0600) when missing.
    pub fn load(env_key: Option<&str>, dir: &Path) -> Result<Self, SecretError> {
        if let Some(value) = env_key.map(str::trim).filter(|v| !v.is_empty()) {
            return Ok(Self::new(&decode_key(value)?));
        }
        let path = dir.join(KEY_FILE);
        let fail = |e: std::io::Error| SecretError::KeyFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                check_mode(&path)?;
                let text = String::from_utf8(bytes).map_err(|_| SecretError::BadKey)?;
                Ok(Self::new(&decode_key(text.trim())?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(fail)?;
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                write_private(&path, base64::engine::general_purpose::STANDARD.encode(key))
                    .map_err(fail)?;
                tracing::info!(path = %path.display(), "created a new master key file");
                Ok(Self::new(&key))
            }
            Err(e) => Err(fail(e)),
        }
    }

    pub fn seal(&self, plaintext: &str, scope: SecretScope<'_>) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = scope.aad();
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Encrypt)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], scope: SecretScope<'_>) -> Result<String, SecretError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(SecretError::Decrypt);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let aad = scope.aad();
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretError::Decrypt)
    }
}

fn decode_key(value: &str) -> Result<[u8; 32], SecretError> {
    let bytes = if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(value).map_err(|_| SecretError::BadKey)?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| SecretError::BadKey)?
    };
    bytes.try_into().map_err(|_| SecretError::BadKey)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: String) -> std::io::Result<()> {
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
fn write_private(path: &Path, contents: String) -> std::io::Result<()> {
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
        assert_eq!(one.len(), 1 + 12 + "hunter2-canary".len() + 16);
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
    }

    #[test]
    fn keys_from_the_environment_or_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let hex_key = "11".repeat(32);
        let from_hex = SecretBox::load(Some(&hex_key), dir.path()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode([0x11u8; 32]);
        let from_b64 = SecretBox::load(Some(&b64), dir.path()).unwrap();
        let sealed = from_hex.seal("x", A).unwrap();
        assert_eq!(from_b64.open(&sealed, A).unwrap(), "x");
        assert!(matches!(
            SecretBox::load(Some("short"), dir.path()),
            Err(SecretError::BadKey)
        ));
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "an env key writes no file"
        );

        let first = SecretBox::load(None, dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SecretBox::load(None, dir.path()).unwrap();
        let sealed = first.seal("kept across restarts", A).unwrap();
        assert_eq!(again.open(&sealed, A).unwrap(), "kept across restarts");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                SecretBox::load(None, dir.path()),
                Err(SecretError::KeyFileMode(_))
            ));
        }
    }
}
