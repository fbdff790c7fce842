//! Failed sign-ins per client address in a sliding window: after `limit` failures within
//! `window`, further attempts from that address are refused until the oldest failure ages out.
//! Kept in memory per instance; behind a load balancer each instance counts on its own.

use app::ports::LoginThrottle;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const DEFAULT_LIMIT: usize = 10;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked before stale ones are swept.
const SWEEP_AT: usize = 10_000;

pub struct SlidingWindowThrottle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl SlidingWindowThrottle {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = map.get_mut(&client) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() < self.limit {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }

    fn fail_at(&self, client: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            let window = self.window;
            map.retain(|_, t| {
                t.back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
        let times = map.entry(client).or_default();
        times.push_back(now);
        while times.len() > self.limit {
            times.pop_front();
        }
    }
}

impl Default for SlidingWindowThrottle {
    fn default() -> Self {
        Self::new(DEFAULT_LIMIT, DEFAULT_WINDOW)
    }
}

impl LoginThrottle for SlidingWindowThrottle {
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.check_at(client, Instant::now())
    }

    fn record_failure(&self, client: IpAddr) {
        self.fail_at(client, Instant::now());
    }

    fn record_success(&self, client: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleventh_attempt_within_the_window_is_refused() {
        let t = SlidingWindowThrottle::new(10, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for i in 0..10 {
            assert!(
                t.check_at(a, start + Duration::from_secs(i)).is_ok(),
                "attempt {i}"
            );
            t.fail_at(a, start + Duration::from_secs(i));
        }
        let wait = t.check_at(a, start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, 50);
        // another address is not affected
        assert!(t.check_at(b, start + Duration::from_secs(10)).is_ok());
        // once the first failure is a minute old, one more attempt is allowed
        assert!(t.check_at(a, start + Duration::from_secs(60)).is_ok());
        t.record_success(a);
        assert!(t.check_at(a, start + Duration::from_secs(11)).is_ok());
    }
}
