//! Failed sign-ins per client address and per username in a sliding window. An attempt is
//! reserved before its password is checked — the check and the reservation are one step under
//! one lock — so any number of attempts sent at the same moment gets at most `limit`
//! evaluations. A failure stays counted until it ages out of the window; a success gives back
//! its own reservation only, so interleaving right passwords does not reset the count.
//! Kept in memory per instance; behind a load balancer each instance counts on its own.
//!
//! A browser that signed in as a user gets a device cookie (the day it was issued and an HMAC
//! of that day and the username) that exempts it from that username's limit for
//! `DEVICE_TOKEN_DAYS`, so guesses from elsewhere cannot lock the owner out; each sign-in
//! renews it. It is a lockout exemption, never a credential: the password is still checked.
//! Its key is derived from the master key ring (`SecretBox::device_keys`): every instance with
//! the same ring knows the cookie, and so does the same instance after a restart.

use app::ports::{Attempt, LoginThrottle};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const DEFAULT_LIMIT: usize = 10;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked before stale ones are swept.
const SWEEP_AT: usize = 10_000;
/// Usernames are counted by at most this many characters (no valid username is longer).
const USERNAME_KEY_MAX: usize = 64;

/// Attempts (reserved or failed) per key, oldest first.
struct Window<K> {
    attempts: HashMap<K, VecDeque<(Instant, u64)>>,
    /// Stale keys are swept when the map reaches this size (then twice what is left), so a
    /// sweep's cost is spread over as many insertions as it looked at.
    sweep_at: usize,
}

impl<K: std::hash::Hash + Eq + Clone> Window<K> {
    fn new() -> Self {
        Self {
            attempts: HashMap::new(),
            sweep_at: SWEEP_AT,
        }
    }

    /// Seconds to wait when `key` has `limit` attempts within `window` of `now`.
    fn wait(&mut self, key: &K, limit: usize, window: Duration, now: Instant) -> Option<u64> {
        let times = self.attempts.get_mut(key)?;
        while times
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() < limit {
            return None;
        }
        let oldest = times.front().map(|(t, _)| *t).unwrap_or(now);
        Some(
            window
                .saturating_sub(now.duration_since(oldest))
                .as_secs()
                .max(1),
        )
    }

    fn push(&mut self, key: K, id: u64, window: Duration, now: Instant) {
        if self.attempts.len() >= self.sweep_at {
            self.attempts.retain(|_, t| {
                t.back()
                    .is_some_and(|(last, _)| now.duration_since(*last) < window)
            });
            self.sweep_at = (self.attempts.len() * 2).max(SWEEP_AT);
        }
        self.attempts.entry(key).or_default().push_back((now, id));
    }

    fn remove(&mut self, key: &K, id: u64) {
        if let Some(times) = self.attempts.get_mut(key) {
            times.retain(|(_, i)| *i != id);
            if times.is_empty() {
                self.attempts.remove(key);
            }
        }
    }
}

struct Windows {
    by_client: Window<IpAddr>,
    by_username: Window<String>,
}

pub struct SlidingWindowThrottle {
    limit: usize,
    window: Duration,
    next_id: AtomicU64,
    windows: Mutex<Windows>,
    /// The keys of device tokens: the first signs, all check.
    device_keys: DeviceKeys,
}

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
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    u32::try_from(secs / 86_400).unwrap_or(u32::MAX)
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

impl SlidingWindowThrottle {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            next_id: AtomicU64::new(1),
            windows: Mutex::new(Windows {
                by_client: Window::new(),
                by_username: Window::new(),
            }),
            // a key of this process only, until `with_device_keys` names the ring's
            device_keys: {
                use rand::RngCore;
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                std::sync::Arc::new(move || vec![key])
            },
        }
    }

    /// Device tokens signed and checked with `keys` (the master key ring's).
    pub fn with_device_keys(mut self, keys: DeviceKeys) -> Self {
        self.device_keys = keys;
        self
    }

    /// A device token for `username_key` issued on `day`: the day, then the HMAC of both.
    fn token_for(&self, username_key: &str, day: u32) -> Vec<u8> {
        let keys = (self.device_keys)();
        let mut token = day.to_be_bytes().to_vec();
        if let Some(key) = keys.first() {
            token.extend(token_with(key, username_key, day));
        }
        token
    }

    /// Whether `token` was issued for `username_key` by a key of the ring within
    /// `DEVICE_TOKEN_DAYS` of `today` (a day ahead is allowed for clocks a little apart).
    fn known_device_on(&self, username_key: &str, token: Option<&str>, today: u32) -> bool {
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
        (self.device_keys)()
            .iter()
            .any(|key| crate::webhooks::auth::same(mac, &token_with(key, username_key, day)))
    }

    fn known_device(&self, username_key: &str, token: Option<&str>) -> bool {
        self.known_device_on(username_key, token, today())
    }

    fn reserve_at(
        &self,
        client: IpAddr,
        username: &str,
        device_token: Option<&str>,
        now: Instant,
    ) -> Result<Attempt, u64> {
        let client = super::client_addr::address_key(client);
        let username = username_key(username);
        let known = self.known_device(&username, device_token);
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let by_client = w.by_client.wait(&client, self.limit, self.window, now);
        let by_username = if known {
            None
        } else {
            w.by_username.wait(&username, self.limit, self.window, now)
        };
        if let Some(wait) = by_client.max(by_username) {
            return Err(wait);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        w.by_client.push(client, id, self.window, now);
        if !known {
            w.by_username.push(username.clone(), id, self.window, now);
        }
        Ok(Attempt {
            id,
            client,
            username,
        })
    }
}

impl Default for SlidingWindowThrottle {
    fn default() -> Self {
        Self::new(DEFAULT_LIMIT, DEFAULT_WINDOW)
    }
}

impl LoginThrottle for SlidingWindowThrottle {
    fn reserve(
        &self,
        client: IpAddr,
        username: &str,
        device_token: Option<&str>,
    ) -> Result<Attempt, u64> {
        self.reserve_at(client, username, device_token, Instant::now())
    }

    fn device_token(&self, username: &str) -> String {
        hex::encode(self.token_for(&username_key(username), today()))
    }

    fn settle(&self, attempt: Attempt, success: bool) {
        if !success {
            return;
        }
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        w.by_client.remove(&attempt.client, attempt.id);
        w.by_username.remove(&attempt.username, attempt.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn eleventh_attempt_within_the_window_is_refused() {
        let t = SlidingWindowThrottle::new(10, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for i in 0..10 {
            let attempt = t
                .reserve_at(a, &format!("user{i}"), None, at(start, i))
                .expect("attempt");
            t.settle(attempt, false);
        }
        assert_eq!(
            t.reserve_at(a, "user99", None, at(start, 10)).unwrap_err(),
            50
        );
        // another address is not affected
        assert!(t.reserve_at(b, "other", None, at(start, 10)).is_ok());
        // once the first failure is a minute old, one more attempt is allowed
        assert!(t.reserve_at(a, "user99", None, at(start, 60)).is_ok());
    }

    #[test]
    fn reservations_count_before_any_outcome() {
        // what 40 parallel requests do: every reservation happens before any password check
        let t = SlidingWindowThrottle::new(10, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let now = Instant::now();
        let granted: Vec<Attempt> = (0..40)
            .filter_map(|_| t.reserve_at(a, "root", None, now).ok())
            .collect();
        assert_eq!(granted.len(), 10);
    }

    #[test]
    fn a_success_does_not_clear_earlier_failures() {
        let t = SlidingWindowThrottle::new(10, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        let mut evaluated = 0;
        // 9 wrong, 1 right, repeated: the rights give back only themselves
        for round in 0..3u64 {
            for i in 0..10u64 {
                let Ok(attempt) = t.reserve_at(a, "root", None, at(start, round * 10 + i)) else {
                    continue;
                };
                evaluated += 1;
                t.settle(attempt, i == 9);
            }
        }
        assert_eq!(
            evaluated, 11,
            "9 failures, the success, then one more failure fills the window"
        );
    }

    #[test]
    fn a_username_is_counted_across_addresses() {
        let t = SlidingWindowThrottle::new(10, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..10u8 {
            let client = IpAddr::from([198, 51, 100, i]);
            let attempt = t.reserve_at(client, "Root", None, now).unwrap();
            t.settle(attempt, false);
        }
        let elsewhere = IpAddr::from([203, 0, 113, 1]);
        assert!(t.reserve_at(elsewhere, " ROOT ", None, now).is_err());
        assert!(t.reserve_at(elsewhere, "someone-else", None, now).is_ok());
        // the owner's browser, which signed in before, is not locked out by the guesses
        let owner = IpAddr::from([203, 0, 113, 2]);
        let token = t.device_token("root");
        assert!(t.reserve_at(owner, "root", Some(&token), now).is_ok());
        assert!(t.reserve_at(owner, "root", Some("00ff"), now).is_err());
        let other = t.device_token("someone-else");
        assert!(t.reserve_at(owner, "root", Some(&other), now).is_err());
        assert_eq!(username_key(&"x".repeat(500)).len(), 64);
    }

    #[test]
    fn a_device_token_is_known_wherever_the_master_key_is() {
        let ring =
            |keys: Vec<[u8; 32]>| -> DeviceKeys { std::sync::Arc::new(move || keys.clone()) };
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let here = SlidingWindowThrottle::default().with_device_keys(ring(vec![old]));
        let token = here.device_token("root");
        // another instance with the same ring, or this one restarted
        let there = SlidingWindowThrottle::default().with_device_keys(ring(vec![old]));
        assert!(there.known_device("root", Some(&token)));
        assert!(!there.known_device("someone-else", Some(&token)));
        // after a rotation the old key still checks, the new one signs
        let rotated = SlidingWindowThrottle::default().with_device_keys(ring(vec![new, old]));
        assert!(rotated.known_device("root", Some(&token)));
        assert_ne!(rotated.device_token("root"), token);
        // a token is honoured for DEVICE_TOKEN_DAYS after it was issued, and its day is signed
        let today = today();
        let issued = |days_ago: u32| hex::encode(here.token_for("root", today - days_ago));
        assert!(here.known_device_on("root", Some(&issued(DEVICE_TOKEN_DAYS)), today));
        assert!(!here.known_device_on("root", Some(&issued(DEVICE_TOKEN_DAYS + 1)), today));
        assert!(!here.known_device_on(
            "root",
            Some(&hex::encode(here.token_for("root", today + 2))),
            today
        ));
        let mut moved = hex::decode(issued(DEVICE_TOKEN_DAYS + 1)).unwrap();
        moved[..4].copy_from_slice(&today.to_be_bytes());
        assert!(
            !here.known_device_on("root", Some(&hex::encode(moved)), today),
            "a day put forward"
        );
        assert!(!here.known_device_on("root", Some("00"), today));
        // once the old key has left the ring, its tokens are strangers
        let later = SlidingWindowThrottle::default().with_device_keys(ring(vec![new]));
        assert!(!later.known_device("root", Some(&token)));
        // and a process without the ring knows none of them
        assert!(!SlidingWindowThrottle::default().known_device("root", Some(&token)));
    }
}
