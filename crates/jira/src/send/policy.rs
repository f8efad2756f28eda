//! The retry and rate-limit policy: how long to wait after a failure, which failures are retried
//! for which requests, and the pause gates that make one 429 slow down exactly the traffic its
//! `RateLimit-Reason` names (the whole client, one endpoint, or writes to one issue).
//!
//! Decisions (see docs/client.md):
//! - 429 is retried for every method: Jira's limiter rejects the request before it is processed.
//! - 502/503/504, timeouts and broken connections are retried only for idempotent requests
//!   (GET/HEAD/PUT/DELETE) or when the caller vouched for the request (`Idempotency`).
//! - 500 is not retried: Jira's 500s are usually deterministic (bad attachment names, bugs).
//! - Connect failures are retried for every method: nothing reached the server.
//! - `Retry-After` is a minimum; positive jitter is added so clients don't return in lockstep.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use rand::Rng;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::error::RateLimitInfo;

/// Retry and backoff settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (a 401-triggered token refresh is extra).
    pub max_attempts: u32,
    /// First backoff step when the server gives no `Retry-After`.
    pub base_delay: Duration,
    /// Largest backoff step.
    pub max_delay: Duration,
    /// Longest `Retry-After` (or pause) the client sleeps through; a longer one (an exhausted
    /// hourly quota) fails fast so the caller's scheduler can park the work instead of a task.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all (every failure surfaces at once).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Backoff before attempt `failed + 1` with "full jitter": uniform in
    /// `[base/2, min(cap, base * 2^(failed-1))]`, never zero so a retry storm cannot spin.
    pub fn backoff(&self, failed: u32) -> Duration {
        let exp = failed.saturating_sub(1).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let floor = (self.base_delay / 2).min(ceiling);
        jitter_between(floor, ceiling)
    }

    /// The wait for a server-given `Retry-After`: at least `retry_after`, plus positive jitter of
    /// up to 10 % (at least 100 ms, at most 1 s).
    pub fn after_retry_after(&self, retry_after: Duration) -> Duration {
        let spread = (retry_after / 10).clamp(Duration::from_millis(100), Duration::from_secs(1));
        retry_after + jitter_between(Duration::ZERO, spread)
    }
}

fn jitter_between(low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    let low_ms = u64::try_from(low.as_millis()).unwrap_or(u64::MAX);
    let high_ms = u64::try_from(high.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(low_ms..=high_ms))
}

/// What a `RateLimit-Reason` pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseScope {
    /// Every request of the client (hourly quota exhausted).
    Client,
    /// One endpoint (method + path template): per-second burst limit.
    Endpoint,
    /// Writes to one issue.
    IssueWrites,
    /// Nothing beyond the request that got the 429.
    Request,
}

impl PauseScope {
    /// Classifies a `RateLimit-Reason` value (current and older names).
    pub fn of_reason(reason: Option<&str>) -> Self {
        match reason.map(str::trim) {
            Some(
                "jira-quota-global-based"
                | "jira-quota-tenant-based"
                | "jira-quota-based"
                | "jira-cost-based",
            ) => Self::Client,
            Some("jira-burst-based") => Self::Endpoint,
            Some("jira-per-issue-on-write") => Self::IssueWrites,
            _ => Self::Request,
        }
    }
}

/// The key of one pause gate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum GateKey {
    Client,
    Endpoint(String, &'static str),
    IssueWrites(String),
}

/// "Not before" instants per gate (tokio time, so tests can pause and advance the clock), with
/// the `RateLimit-Reason` that closed each gate.
#[derive(Debug, Default)]
pub(crate) struct Gates {
    until: Mutex<HashMap<GateKey, (Instant, Option<String>)>>,
}

impl Gates {
    /// Closes `key` until `until` (keeps a later existing deadline).
    pub(crate) fn close(&self, key: GateKey, until: Instant, reason: Option<&str>) {
        let mut map = self.until.lock();
        let entry = map
            .entry(key)
            .or_insert_with(|| (until, reason.map(str::to_owned)));
        if entry.0 < until {
            *entry = (until, reason.map(str::to_owned));
        }
    }

    /// The latest deadline among `keys` that is still in the future, with its reason; forgets
    /// expired gates.
    pub(crate) fn deadline(&self, keys: &[GateKey]) -> Option<(Instant, Option<String>)> {
        let now = Instant::now();
        let mut map = self.until.lock();
        map.retain(|_, (until, _)| *until > now);
        keys.iter()
            .filter_map(|k| map.get(k).cloned())
            .max_by_key(|(until, _)| *until)
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Parses `Retry-After`: delta seconds (`0` means now) or an HTTP-date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// Parses `X-RateLimit-Reset` (ISO 8601, `2026-03-02T11:00Z` or RFC 3339) into the time left
/// until the reset, for 429s that carry no `Retry-After`.
pub fn parse_reset(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    let at = chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%MZ").map(|t| t.and_utc())
        })
        .ok()?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Reads the rate-limit headers of a response (enforced names, then the `Beta`/`X-Beta` names
/// Atlassian sends while a limit is only observed).
pub fn rate_limit_info(headers: &HeaderMap) -> RateLimitInfo {
    let first = |names: &[&str]| names.iter().find_map(|n| header_str(headers, n));
    let number = |names: &[&str]| first(names).and_then(|v| v.parse::<u64>().ok());
    RateLimitInfo {
        retry_after: header_str(headers, "retry-after")
            .and_then(|v| parse_retry_after(v, chrono::Utc::now())),
        reason: first(&["ratelimit-reason", "x-ratelimit-reason"]).map(str::to_owned),
        limit: number(&["x-ratelimit-limit"]),
        remaining: number(&["x-ratelimit-remaining"]),
        reset: first(&["x-ratelimit-reset"]).map(str::to_owned),
        near_limit: first(&["x-ratelimit-nearlimit", "x-beta-ratelimit-nearlimit"])
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
    }
}

/// Whether the response carries any of Atlassian's `Beta-RateLimit*` observation headers.
pub fn has_beta_rate_limit(headers: &HeaderMap) -> bool {
    headers.keys().any(|name| {
        let name = name.as_str();
        name.starts_with("beta-ratelimit")
            || name.starts_with("x-beta-ratelimit")
            || name == "beta-retry-after"
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_stays_positive_and_is_capped() {
        let policy = RetryPolicy::default();
        for failed in 1..30 {
            let d = policy.backoff(failed);
            assert!(d >= Duration::from_millis(250), "{d:?}");
            assert!(d <= policy.max_delay);
        }
        assert!(policy.backoff(1) <= Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_a_minimum_with_bounded_positive_jitter() {
        let policy = RetryPolicy::default();
        for secs in [0, 1, 2, 30] {
            let d = policy.after_retry_after(Duration::from_secs(secs));
            assert!(d >= Duration::from_secs(secs));
            assert!(d <= Duration::from_secs(secs) + Duration::from_secs(1));
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Mon, 02 Mar 2026 10:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn reset_times_in_both_iso_forms_become_a_wait() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:59:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_reset("2026-03-02T11:00Z", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_reset("2026-03-02T11:00:00Z", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_reset("2026-03-02T10:00Z", now), Some(Duration::ZERO));
        assert_eq!(parse_reset("later", now), None);
    }

    #[test]
    fn reasons_map_to_the_scope_they_pause() {
        assert_eq!(
            PauseScope::of_reason(Some("jira-quota-global-based")),
            PauseScope::Client
        );
        assert_eq!(
            PauseScope::of_reason(Some("jira-quota-tenant-based")),
            PauseScope::Client
        );
        assert_eq!(
            PauseScope::of_reason(Some("jira-cost-based")),
            PauseScope::Client
        );
        assert_eq!(
            PauseScope::of_reason(Some("jira-burst-based")),
            PauseScope::Endpoint
        );
        assert_eq!(
            PauseScope::of_reason(Some("jira-per-issue-on-write")),
            PauseScope::IssueWrites
        );
        assert_eq!(PauseScope::of_reason(None), PauseScope::Request);
    }
}
