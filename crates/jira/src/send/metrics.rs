//! Counters of what the rate-limit and retry machinery did, so operators can see pressure before
//! it turns into failures: 429s by reason, retries, time spent waiting, and Atlassian's
//! near-limit and beta rate-limit headers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

/// Live counters (shared by every clone of a client).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    rate_limited: Mutex<BTreeMap<String, u64>>,
    wait_ms: AtomicU64,
    near_limit: AtomicU64,
    beta_observations: AtomicU64,
    last_remaining: Mutex<Option<u64>>,
    token_refreshes: AtomicU64,
}

impl Metrics {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn attempt(&self) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rate_limited(&self, reason: Option<&str>) {
        *self
            .rate_limited
            .lock()
            .entry(reason.unwrap_or("unspecified").to_owned())
            .or_default() += 1;
    }

    pub(crate) fn waited(&self, wait: Duration) {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.wait_ms.fetch_add(ms, Ordering::Relaxed);
    }

    pub(crate) fn near_limit(&self) {
        self.near_limit.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn beta_observation(&self) {
        self.beta_observations.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn remaining(&self, remaining: u64) {
        *self.last_remaining.lock() = Some(remaining);
    }

    pub(crate) fn token_refresh(&self) {
        self.token_refreshes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        let by_reason = self.rate_limited.lock().clone();
        MetricsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            attempts: self.attempts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: by_reason.values().sum(),
            rate_limited_by_reason: by_reason,
            wait_ms: self.wait_ms.load(Ordering::Relaxed),
            near_limit_observations: self.near_limit.load(Ordering::Relaxed),
            beta_rate_limit_observations: self.beta_observations.load(Ordering::Relaxed),
            last_remaining: *self.last_remaining.lock(),
            token_refreshes: self.token_refreshes.load(Ordering::Relaxed),
        }
    }
}

/// A point-in-time copy of a client's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    /// Requests given to `send` (each may take several attempts).
    pub requests: u64,
    /// HTTP attempts made.
    pub attempts: u64,
    /// Attempts that were retries after a failure.
    pub retries: u64,
    /// 429 responses received.
    pub rate_limited: u64,
    /// 429 responses by `RateLimit-Reason` (`unspecified` when absent).
    pub rate_limited_by_reason: BTreeMap<String, u64>,
    /// Milliseconds spent waiting for backoff, `Retry-After` and pause gates.
    pub wait_ms: u64,
    /// Responses with `X-RateLimit-NearLimit: true` (less than 20 % of a budget left).
    pub near_limit_observations: u64,
    /// Responses carrying `Beta-RateLimit*` headers (limits observed but not yet enforced).
    pub beta_rate_limit_observations: u64,
    /// The last `X-RateLimit-Remaining` seen.
    pub last_remaining: Option<u64>,
    /// Tokens invalidated after a 401 (each followed by one retry).
    pub token_refreshes: u64,
}
