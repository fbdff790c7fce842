//! Failed sign-ins per client address and per username in a sliding window, counted in the
//! database (`db::sign_ins`), so every instance behind a load balancer counts the same attempts
//! and a restart forgets none. An attempt is reserved before its password is checked — the
//! count and the reservation are one locked step — so any number of attempts sent at the same
//! moment, to any instances, gets at most `limit` evaluations. A failure stays counted until it
//! ages out of the window; a success gives back its own reservation only, so interleaving right
//! passwords does not reset the count.
//!
//! A browser that signed in as a user gets a device cookie (the day it was issued and an HMAC
//! of that day and the username) that exempts it from that username's limit for
//! `DEVICE_TOKEN_DAYS`, so guesses from elsewhere cannot lock the owner out; each sign-in
//! renews it. It is a lockout exemption, never a credential: the password is still checked.
//! Its key is derived from the master key ring (`SecretBox::device_keys`): every instance with
//! the same ring knows the cookie, and so does the same instance after a restart.

use crate::db::sign_ins::{Reserved, SignInAttempts};
use app::ports::{Attempt, LoginThrottle, RepoError};
use async_trait::async_trait;
use std::net::IpAddr;
use std::time::Duration;

pub const DEFAULT_LIMIT: u64 = 10;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
/// Usernames are counted by at most this many characters (no valid username is longer).
const USERNAME_KEY_MAX: usize = 64;

/// Where the device-token keys come from: the master key ring (`SecretBox::device_keys`), read
/// at each use so that a key file reloaded after a rotation is followed.
pub type DeviceKeys = std::sync::Arc<dyn Fn() -> Vec<[u8; 32]> + Send + Sync>;

/// The MAC of a device token of `username_key` issued on `day` under `key`.
fn token_with(key: &[u8; 32], username_key: &str, day: u32) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(b"switchboard/device/v2\0");
    mac.update(&day.to_be_bytes());
    mac.update(username_key.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// How long a device token is honoured after it was issued; every sign-in issues a new one
/// (the cookie lives as long: `app::ports::DEVICE_TOKEN_DAYS`).
const DEVICE_TOKEN_DAYS: u32 = app::ports::DEVICE_TOKEN_DAYS as u32;

/// Days since the Unix epoch.
fn today() -> u32 {
    u32::try_from(crate::db::sign_ins::system_now_ms() / 86_400_000).unwrap_or(u32::MAX)
}

/// How the throttle counts a username: case does not matter, nor what is past 64 characters.
pub fn username_key(username: &str) -> String {
    username
        .trim()
        .chars()
        .take(USERNAME_KEY_MAX)
        .collect::<String>()
        .to_lowercase()
}

/// Device tokens: signed with the ring's first key, checked with all of them.
#[derive(Clone)]
pub struct DeviceTokens {
    keys: DeviceKeys,
}

impl DeviceTokens {
    pub fn new(keys: DeviceKeys) -> Self {
        Self { keys }
    }

    /// A device token for `username_key` issued on `day`: the day, then the HMAC of both.
    fn token_for(&self, username_key: &str, day: u32) -> Vec<u8> {
        let keys = (self.keys)();
        let mut token = day.to_be_bytes().to_vec();
        if let Some(key) = keys.first() {
            token.extend(token_with(key, username_key, day));
        }
        token
    }

    /// The token a browser gets after signing in as `username`, today.
    pub fn issue(&self, username: &str) -> String {
        hex::encode(self.token_for(&username_key(username), today()))
    }

    /// Whether `token` was issued for `username_key` by a key of the ring within
    /// `DEVICE_TOKEN_DAYS` of `today` (a day ahead is allowed for clocks a little apart).
    fn known_on(&self, username_key: &str, token: Option<&str>, today: u32) -> bool {
        let Some(token) = token.and_then(|t| hex::decode(t).ok()) else {
            return false;
        };
        let Some((day, mac)) = token.split_first_chunk::<4>() else {
            return false;
        };
        let day = u32::from_be_bytes(*day);
        if day > today.saturating_add(1) || today.saturating_sub(day) > DEVICE_TOKEN_DAYS {
            return false;
        }
        (self.keys)()
            .iter()
            .any(|key| crate::webhooks::auth::same(mac, &token_with(key, username_key, day)))
    }

    pub fn known(&self, username_key: &str, token: Option<&str>) -> bool {
        self.known_on(username_key, token, today())
    }

    /// What the throttle stores for `username_key`: an HMAC under the ring's first key, never
    /// the name itself (what was typed as a username may be a password typed into the wrong
    /// field). After a key rotation the same name counts afresh, for one window at most.
    fn username_tag(&self, username_key: &str) -> String {
        use hmac::{Hmac, Mac};
        let key = (self.keys)().first().copied().unwrap_or([0; 32]);
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key");
        mac.update(b"switchboard/sign-in-username/v1\0");
        mac.update(username_key.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Reservations one instance makes at once: each holds a database connection while it waits
/// for its keys' lock, so a flood of sign-ins waits here, not for the pool that every other
/// request (and `/readyz`) needs. An attempt whose address or username is full already is
/// refused before it asks for one of these places: a flood of refused guesses holds none.
const RESERVING_AT_ONCE: usize = 4;

/// The sign-in throttle every instance on one database shares.
pub struct Throttle {
    attempts: SignInAttempts,
    limit: u64,
    window: Duration,
    devices: DeviceTokens,
    reserving: tokio::sync::Semaphore,
}

impl Throttle {
    pub fn new(attempts: SignInAttempts, devices: DeviceTokens) -> Self {
        Self::with_limit(attempts, devices, DEFAULT_LIMIT, DEFAULT_WINDOW)
    }

    pub fn with_limit(
        attempts: SignInAttempts,
        devices: DeviceTokens,
        limit: u64,
        window: Duration,
    ) -> Self {
        Self {
            attempts,
            limit,
            window,
            devices,
            reserving: tokio::sync::Semaphore::new(RESERVING_AT_ONCE),
        }
    }

    async fn reserve_at(
        &self,
        client: IpAddr,
        username: &str,
        device_token: Option<&str>,
        now_ms: Option<i64>,
    ) -> Result<Result<Attempt, u64>, RepoError> {
        let client = super::client_addr::address_key(client);
        let username = username_key(username);
        let mut keys = vec![format!("a:{client}")];
        // a known browser is held back by its address only
        if !self.devices.known(&username, device_token) {
            keys.push(format!("u:{}", self.devices.username_tag(&username)));
        }
        let window_ms = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let reserved = async {
            let now_ms = match now_ms {
                Some(t) => t,
                None => self.attempts.now_ms().await?,
            };
            if let Some(secs) = self
                .attempts
                .full(&keys, self.limit, window_ms, now_ms)
                .await?
            {
                return Ok(Reserved::Wait(secs));
            }
            let _place = self.reserving.acquire().await;
            self.attempts
                .reserve(&keys, self.limit, window_ms, now_ms)
                .await
        }
        .await
        .map_err(crate::db::internal("reserving a sign-in attempt"))?;
        Ok(match reserved {
            Reserved::Wait(secs) => Err(secs),
            Reserved::Granted(id) => Ok(Attempt {
                id: id.unsigned_abs(),
                client,
                username,
            }),
        })
    }
}

#[async_trait]
impl LoginThrottle for Throttle {
    async fn reserve(
        &self,
        client: IpAddr,
        username: &str,
        device_token: Option<&str>,
    ) -> Result<Result<Attempt, u64>, RepoError> {
        self.reserve_at(client, username, device_token, None).await
    }

    fn device_token(&self, username: &str) -> String {
        self.devices.issue(username)
    }

    async fn settle(&self, attempt: Attempt, success: bool) {
        if !success {
            return;
        }
        let id = i64::try_from(attempt.id).unwrap_or(i64::MAX);
        if let Err(e) = self.attempts.forget(id).await {
            // it stays counted as a failure until it ages out: safe, if unkind
            tracing::warn!(error = %e, "giving back a sign-in attempt");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: Vec<[u8; 32]>) -> DeviceKeys {
        std::sync::Arc::new(move || keys.clone())
    }

    /// A throttle on a fresh SQLite database (the directory lives as long as the throttle).
    async fn throttle() -> (Throttle, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let t = Throttle::with_limit(
            SignInAttempts::new(db.conn),
            DeviceTokens::new(ring(vec![[7; 32]])),
            10,
            Duration::from_secs(60),
        );
        (t, dir)
    }

    const START: i64 = 1_800_000_000_000;

    fn at(secs: i64) -> Option<i64> {
        Some(START + secs * 1000)
    }

    #[tokio::test]
    async fn eleventh_attempt_within_the_window_is_refused() {
        let (t, _dir) = throttle().await;
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for i in 0..10 {
            let attempt = t
                .reserve_at(a, &format!("user{i}"), None, at(i))
                .await
                .unwrap()
                .expect("attempt");
            t.settle(attempt, false).await;
        }
        assert_eq!(
            t.reserve_at(a, "user99", None, at(10)).await.unwrap(),
            Err(50)
        );
        // another address is not affected
        assert!(
            t.reserve_at(b, "other", None, at(10))
                .await
                .unwrap()
                .is_ok()
        );
        // once the first failure is a minute old, one more attempt is allowed
        assert!(
            t.reserve_at(a, "user99", None, at(60))
                .await
                .unwrap()
                .is_ok()
        );
    }

    #[tokio::test]
    async fn reservations_count_before_any_outcome() {
        // what 40 parallel requests do: every reservation happens before any password check
        let (t, _dir) = throttle().await;
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let t = std::sync::Arc::new(t);
        let tries: Vec<_> = (0..40)
            .map(|_| {
                let t = t.clone();
                tokio::spawn(async move { t.reserve_at(a, "root", None, at(0)).await })
            })
            .collect();
        let mut granted = 0;
        for t in tries {
            if t.await.unwrap().unwrap().is_ok() {
                granted += 1;
            }
        }
        assert_eq!(granted, 10);
    }

    #[tokio::test]
    async fn refusals_take_no_reservation_place_and_the_places_are_bounded() {
        let (t, _dir) = throttle().await;
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..10 {
            let attempt = t.reserve_at(a, &format!("u{i}"), None, at(0)).await;
            t.settle(attempt.unwrap().unwrap(), false).await;
        }
        // every place taken, as by RESERVING_AT_ONCE reservations waiting for their locks
        let held = t
            .reserving
            .acquire_many(RESERVING_AT_ONCE as u32)
            .await
            .unwrap();
        let quick = Duration::from_millis(300);
        // a full address is refused at once: it needs no place
        let refused = tokio::time::timeout(quick, t.reserve_at(a, "x", None, at(1))).await;
        assert_eq!(refused.expect("no place needed").unwrap(), Err(59));
        // one more attempt that would count waits for a place
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let waiting = t.reserve_at(b, "y", None, at(1));
        tokio::pin!(waiting);
        assert!(
            tokio::time::timeout(quick, &mut waiting).await.is_err(),
            "past the places it waits"
        );
        drop(held);
        assert!(
            waiting.await.unwrap().is_ok(),
            "and goes on once one is free"
        );
    }

    #[tokio::test]
    async fn a_success_does_not_clear_earlier_failures() {
        let (t, _dir) = throttle().await;
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let mut evaluated = 0;
        // 9 wrong, 1 right, repeated: the rights give back only themselves
        for round in 0..3i64 {
            for i in 0..10i64 {
                let Ok(attempt) = t
                    .reserve_at(a, "root", None, at(round * 10 + i))
                    .await
                    .unwrap()
                else {
                    continue;
                };
                evaluated += 1;
                t.settle(attempt, i == 9).await;
            }
        }
        assert_eq!(
            evaluated, 11,
            "9 failures, the success, then one more failure fills the window"
        );
    }

    #[tokio::test]
    async fn a_username_is_counted_across_addresses() {
        let (t, _dir) = throttle().await;
        for i in 0..10u8 {
            let client = IpAddr::from([198, 51, 100, i]);
            let attempt = t.reserve_at(client, "Root", None, at(0)).await.unwrap();
            t.settle(attempt.unwrap(), false).await;
        }
        let elsewhere = IpAddr::from([203, 0, 113, 1]);
        let try_as = |client, name: &'static str, token: Option<String>| {
            let t = &t;
            async move {
                t.reserve_at(client, name, token.as_deref(), at(1))
                    .await
                    .unwrap()
                    .is_ok()
            }
        };
        assert!(!try_as(elsewhere, " ROOT ", None).await);
        assert!(try_as(elsewhere, "someone-else", None).await);
        // the owner's browser, which signed in before, is not locked out by the guesses
        let owner = IpAddr::from([203, 0, 113, 2]);
        assert!(try_as(owner, "root", Some(t.device_token("root"))).await);
        assert!(!try_as(owner, "root", Some("00ff".into())).await);
        assert!(!try_as(owner, "root", Some(t.device_token("someone-else"))).await);
        assert_eq!(username_key(&"x".repeat(500)).len(), 64);
        // an IPv6 client is one address for its whole /64
        for i in 0..10u16 {
            let client = IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, i]);
            let attempt = t.reserve_at(client, &format!("v6-{i}"), None, at(2)).await;
            t.settle(attempt.unwrap().unwrap(), false).await;
        }
        let same_64 = IpAddr::from([0x2001, 0xdb8, 0, 1, 9, 9, 9, 9]);
        assert!(!try_as(same_64, "fresh", None).await);
    }

    #[tokio::test]
    async fn attempts_older_than_the_window_are_deleted() {
        let (t, _dir) = throttle().await;
        for i in 0..50u8 {
            let client = IpAddr::from([198, 51, 100, i]);
            let attempt = t
                .reserve_at(client, &format!("someone-{i}"), None, at(i64::from(i)))
                .await;
            t.settle(attempt.unwrap().unwrap(), false).await;
        }
        // an attempt a while later, and the sweep, leave only what the window counts
        let later = IpAddr::from([203, 0, 113, 9]);
        let _ = t.reserve_at(later, "other", None, at(200)).await.unwrap();
        let swept = t
            .attempts
            .sweep_as_of(at(200).unwrap(), 60_000)
            .await
            .unwrap();
        assert_eq!(swept, 2 * 50, "every earlier attempt's two rows");
        let rows = t.attempts.count_rows().await.unwrap();
        assert_eq!(rows, 2, "only the last attempt's two rows are left");
    }

    #[test]
    fn a_device_token_is_known_wherever_the_master_key_is() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let here = DeviceTokens::new(ring(vec![old]));
        let token = here.issue("root");
        // another instance with the same ring, or this one restarted
        let there = DeviceTokens::new(ring(vec![old]));
        assert!(there.known("root", Some(&token)));
        assert!(!there.known("someone-else", Some(&token)));
        // after a rotation the old key still checks, the new one signs
        let rotated = DeviceTokens::new(ring(vec![new, old]));
        assert!(rotated.known("root", Some(&token)));
        assert_ne!(rotated.issue("root"), token);
        // a token is honoured for DEVICE_TOKEN_DAYS after it was issued, and its day is signed
        let today = today();
        let issued = |days_ago: u32| hex::encode(here.token_for("root", today - days_ago));
        assert!(here.known_on("root", Some(&issued(DEVICE_TOKEN_DAYS)), today));
        assert!(!here.known_on("root", Some(&issued(DEVICE_TOKEN_DAYS + 1)), today));
        assert!(!here.known_on(
            "root",
            Some(&hex::encode(here.token_for("root", today + 2))),
            today
        ));
        let mut moved = hex::decode(issued(DEVICE_TOKEN_DAYS + 1)).unwrap();
        moved[..4].copy_from_slice(&today.to_be_bytes());
        assert!(
            !here.known_on("root", Some(&hex::encode(moved)), today),
            "a day put forward"
        );
        assert!(!here.known_on("root", Some("00"), today));
        // once the old key has left the ring, its tokens are strangers
        let later = DeviceTokens::new(ring(vec![new]));
        assert!(!later.known("root", Some(&token)));
    }
}
