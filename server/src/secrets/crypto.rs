//! Password hashing (argon2id, off the async runtime) and random tokens.
//!
//! Each hash takes 19 MiB and a core for ~20 ms, so at most one per core runs at a time; a
//! request waits up to `HASH_WAIT` for its turn, then is answered "busy" instead of queueing
//! without bound.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a password check waits for a free hasher.
pub const HASH_WAIT: Duration = Duration::from_secs(5);

/// One permit per core.
pub fn hashers() -> &'static Arc<Semaphore> {
    static HASHERS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    HASHERS.get_or_init(|| {
        Arc::new(Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        ))
    })
}

/// OWASP's argon2id floor: 19 MiB, 2 passes, 1 lane.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Join(String),
    #[error("every password hasher is busy")]
    Busy,
}

/// Runs `work` on the blocking pool once a hasher is free.
async fn with_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CryptoError> {
    with_hasher_on(hashers(), HASH_WAIT, work).await
}

async fn with_hasher_on<T: Send + 'static>(
    hashers: &Arc<Semaphore>,
    wait: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CryptoError> {
    let permit = tokio::time::timeout(wait, hashers.clone().acquire_owned())
        .await
        .map_err(|_| CryptoError::Busy)?
        .map_err(|_| CryptoError::Busy)?;
    // the permit goes with the work: a request dropped meanwhile (client gone, timeout) does
    // not free the hasher while its hash still runs
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(permit);
        result
    })
    .await
    .map_err(|e| CryptoError::Join(e.to_string()))
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, CryptoError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CryptoError::Hash(e.to_string()))
}

/// Hashes a password on the blocking pool.
pub async fn hash_password(password: &str) -> Result<String, CryptoError> {
    let password = password.to_owned();
    with_hasher(move || hash_blocking(&password)).await?
}

/// A hash of a random password, verified against when the user does not exist so that an
/// unknown user costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        hash_blocking(&hex::encode(bytes)).unwrap_or_default()
    })
}

/// Verifies `password` against `hash` on the blocking pool; with no hash, does the same work
/// against a dummy and answers false.
pub async fn verify_password(password: &str, hash: Option<String>) -> Result<bool, CryptoError> {
    let password = password.to_owned();
    with_hasher(move || {
        let known = hash.is_some();
        let stored = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = PasswordHash::new(&stored)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && ok
    })
    .await
}

/// A random token of 256 bits, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a high-entropy token, hex-encoded: what the database keeps instead of the token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_the_required_parameters() {
        let hash = hash_password("correct horse").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify_password("correct horse", Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse", Some(hash)).await.unwrap());
        assert!(!verify_password("anything", None).await.unwrap());
        assert!(
            !verify_password("x", Some("not a hash".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_dropped_request_keeps_its_hasher_until_the_hash_ends() {
        let cores = 2;
        let hashers = Arc::new(Semaphore::new(cores));
        let (started, release) = (
            Arc::new(std::sync::Barrier::new(cores + 1)),
            Arc::new(std::sync::Barrier::new(cores + 1)),
        );
        let mut requests = Vec::new();
        for _ in 0..cores {
            let (started, release) = (started.clone(), release.clone());
            let hashers = hashers.clone();
            requests.push(tokio::spawn(async move {
                with_hasher_on(&hashers, HASH_WAIT, move || {
                    started.wait();
                    release.wait();
                })
                .await
            }));
        }
        let waiter = {
            let started = started.clone();
            tokio::task::spawn_blocking(move || started.wait())
        };
        waiter.await.unwrap();
        // every request is dropped (the clients went away); the hashes still run
        for r in &requests {
            r.abort();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            hashers.available_permits(),
            0,
            "still held by the running work"
        );
        let r = with_hasher_on(&hashers, Duration::from_millis(50), || ()).await;
        assert!(matches!(r, Err(CryptoError::Busy)));
        tokio::task::spawn_blocking(move || release.wait())
            .await
            .unwrap();
        assert!(
            with_hasher_on(&hashers, Duration::from_secs(5), || ())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_hash_that_finds_no_free_hasher_in_time_is_busy() {
        let hashers = Arc::new(Semaphore::new(2));
        let all = hashers.clone().acquire_many_owned(2).await.unwrap();
        let r = with_hasher_on(&hashers, Duration::from_millis(50), || ()).await;
        assert!(matches!(r, Err(CryptoError::Busy)));
        drop(all);
        assert!(
            with_hasher_on(&hashers, Duration::from_millis(50), || ())
                .await
                .is_ok()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_at_once_than_cores() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..cores * 3)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                tokio::spawn(async move {
                    with_hasher(move || {
                        use std::sync::atomic::Ordering::SeqCst;
                        let now = running.fetch_add(1, SeqCst) + 1;
                        peak.fetch_max(now, SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= cores);
    }

    #[test]
    fn tokens_are_random_and_long() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(token_digest("abc").len(), 64);
        assert_ne!(token_digest("abc"), token_digest("abd"));
    }
}
