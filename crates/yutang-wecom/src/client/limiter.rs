//! A client-side token bucket per API path.
//!
//! WeCom limits each API per corp (10,000 calls/min and 150,000/h by default, 90454) and
//! blocks a caller that exceeds the minute limit for 60 s. Staying under the limit on our side
//! is cheaper than being blocked, so every call takes a token from the bucket of its path
//! first, waiting when the bucket is empty.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many calls per path a client may make: `burst` calls at once, refilled continuously at
/// `burst` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Bucket size, and calls refilled per `per`.
    pub burst: u32,
    /// The refill window.
    pub per: Duration,
}

impl Default for RateLimit {
    /// WeCom's documented per-API default: 10,000 calls per minute (90454). The hourly limit
    /// (150,000/h) is lower than 60 × 10,000; a long sync that needs it can configure
    /// `RateLimit { burst: 2_500, per: 60 s }`.
    fn default() -> Self {
        Self {
            burst: 10_000,
            per: Duration::from_secs(60),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by API path.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `path`, waiting as long as needed.
    pub(crate) async fn acquire(&self, path: &str) {
        loop {
            match self.try_take(path) {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Takes a token if one is available (`None`), or says how long to wait for one.
    fn try_take(&self, path: &str) -> Option<Duration> {
        let burst = f64::from(self.limit.burst.max(1));
        let per_token = self.limit.per.as_secs_f64() / burst;
        if per_token <= 0.0 {
            return None;
        }
        let now = Instant::now();
        // A poisoned lock only means another task panicked mid-update of plain numbers: the
        // map is still usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(path.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed / per_token).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - bucket.tokens) * per_token))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_wait() {
        let limiter = Limiter::new(RateLimit {
            burst: 3,
            per: Duration::from_secs(3),
        });
        assert_eq!(limiter.try_take("/a"), None);
        assert_eq!(limiter.try_take("/a"), None);
        assert_eq!(limiter.try_take("/a"), None);
        let wait = limiter.try_take("/a").unwrap();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        // Another path has its own bucket.
        assert_eq!(limiter.try_take("/b"), None);
    }
}
