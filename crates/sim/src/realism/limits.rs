//! Jira Cloud's three rate-limiting systems, kept on the simulated clock: per-second burst limits
//! per (site, endpoint, method), per-issue write limits (2 s and 30 s windows) and the hourly
//! points quota per app. Each check either admits the request (reporting what is left, for the
//! `X-RateLimit-*` headers) or yields the 429 Jira would send.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::json;

use crate::clock::{EpochMs, ms_to_utc};

const HOUR_MS: i64 = 3_600_000;

/// Why a request was limited: the value of Jira's `RateLimit-Reason` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Per-second burst limit of one endpoint and method.
    Burst,
    /// Too many writes to one issue.
    PerIssueWrite,
    /// The app's hourly points quota is spent.
    GlobalQuota,
}

impl Reason {
    /// The header value.
    pub fn header(self) -> &'static str {
        match self {
            Reason::Burst => "jira-burst-based",
            Reason::PerIssueWrite => "jira-per-issue-on-write",
            Reason::GlobalQuota => "jira-quota-global-based",
        }
    }
}

/// A 429 about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Which limiter fired.
    pub reason: Reason,
    /// Whole seconds the client must wait (`Retry-After`).
    pub retry_after_secs: u64,
    /// The budget of the limiter that fired (`X-RateLimit-Limit`).
    pub limit: u32,
    /// When the budget is back (`X-RateLimit-Reset`).
    pub reset_at: EpochMs,
}

impl Limited {
    /// Jira's 429: `Retry-After`, `RateLimit-Reason`, `X-RateLimit-*`, and an error collection.
    pub fn into_response(self) -> Response {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({
                "errorMessages": ["Rate limit exceeded."],
                "errors": {},
            })),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert("retry-after", HeaderValue::from(self.retry_after_secs));
        headers.insert(
            "ratelimit-reason",
            HeaderValue::from_static(self.reason.header()),
        );
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        if let Ok(value) = HeaderValue::from_str(&reset_header(self.reset_at)) {
            headers.insert("x-ratelimit-reset", value);
        }
        response
    }
}

/// Formats a reset instant as Jira documents it (`yyyy-MM-ddTHH:mmZ`). The format only has minutes,
/// so the instant is rounded up: a reset time in the past would tell clients to retry too early.
pub fn reset_header(at: EpochMs) -> String {
    let minute = 60_000;
    let rounded = at.div_euclid(minute) * minute + if at % minute == 0 { 0 } else { minute };
    ms_to_utc(rounded).format("%Y-%m-%dT%H:%MZ").to_string()
}

/// What an admitted request leaves of a budget (for `X-RateLimit-Limit`/`-Remaining`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The budget.
    pub limit: u32,
    /// What is left after this request.
    pub remaining: u32,
}

impl Budget {
    /// Less than 20% left: Jira adds `X-RateLimit-NearLimit: true`.
    pub fn near_limit(self) -> bool {
        u64::from(self.remaining) * 5 < u64::from(self.limit)
    }
}

/// A token bucket: `capacity` requests at once, refilled at `capacity` per second.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: EpochMs,
}

/// The limiters' state. Keys are hashes so that a request never allocates to find its entry.
#[derive(Debug, Default)]
pub struct Limiters {
    burst: Mutex<HashMap<u64, Bucket>>,
    issue_writes: Mutex<HashMap<u64, VecDeque<EpochMs>>>,
    quota: Mutex<HashMap<u64, (i64, u32)>>,
}

fn key_of(parts: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

/// Jira's burst limits are halved for PUT and DELETE (100 vs 50 requests per second by default).
pub fn burst_limit_for(method: &Method, per_second: u32) -> u32 {
    if *method == Method::PUT || *method == Method::DELETE || *method == Method::PATCH {
        (per_second / 2).max(1)
    } else {
        per_second
    }
}

impl Limiters {
    /// Forgets every window and bucket (admin reset).
    pub fn clear(&self) {
        self.burst.lock().clear();
        self.issue_writes.lock().clear();
        self.quota.lock().clear();
    }

    /// Burst limit of one (site, endpoint template, method): a token bucket of `limit` per second.
    pub fn burst(
        &self,
        cloud_id: &str,
        template: &str,
        method: &Method,
        limit: u32,
        now: EpochMs,
    ) -> Result<Budget, Limited> {
        let key = key_of((cloud_id, template, method.as_str()));
        let capacity = f64::from(limit);
        let mut buckets = self.burst.lock();
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            last_ms: now,
        });
        // A clock moved backwards (admin API) refills nothing rather than draining the bucket.
        let elapsed = (now - bucket.last_ms).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * capacity / 1000.0).min(capacity);
        bucket.last_ms = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(Budget {
                limit,
                remaining: bucket.tokens.floor() as u32,
            })
        } else {
            let wait_ms = ((1.0 - bucket.tokens) * 1000.0 / capacity).ceil() as i64;
            Err(Limited {
                reason: Reason::Burst,
                retry_after_secs: ceil_secs(wait_ms),
                limit,
                reset_at: now + wait_ms,
            })
        }
    }

    /// Per-issue write limits: at most `per_2s` writes in any 2 s and `per_30s` in any 30 s to one
    /// issue (0 disables a window). Admitted writes are recorded; rejected ones are not.
    pub fn issue_write(
        &self,
        cloud_id: &str,
        issue_id: u64,
        per_2s: u32,
        per_30s: u32,
        now: EpochMs,
    ) -> Result<(), Limited> {
        let key = key_of((cloud_id, issue_id));
        let mut logs = self.issue_writes.lock();
        let log = logs.entry(key).or_default();
        while log.front().is_some_and(|&t| t <= now - 30_000) {
            log.pop_front();
        }
        for (limit, window) in [(per_2s, 2_000), (per_30s, 30_000)] {
            if limit == 0 {
                continue;
            }
            let in_window: Vec<EpochMs> =
                log.iter().copied().filter(|&t| t > now - window).collect();
            if in_window.len() >= limit as usize {
                // The window frees a slot when its oldest counted write falls out of it.
                let oldest_needed = in_window[in_window.len() - limit as usize];
                let wait_ms = (oldest_needed + window - now).max(1);
                return Err(Limited {
                    reason: Reason::PerIssueWrite,
                    retry_after_secs: ceil_secs(wait_ms),
                    limit,
                    reset_at: now + wait_ms,
                });
            }
        }
        log.push_back(now);
        Ok(())
    }

    /// The hourly points quota of one app: one point per request, reset at the top of each hour
    /// of the simulated clock.
    pub fn quota(&self, client_id: &str, points: u32, now: EpochMs) -> Result<Budget, Limited> {
        let key = key_of(client_id);
        let hour = now.div_euclid(HOUR_MS);
        let mut quotas = self.quota.lock();
        let entry = quotas.entry(key).or_insert((hour, 0));
        if entry.0 != hour {
            *entry = (hour, 0);
        }
        if entry.1 >= points {
            let reset_at = (hour + 1) * HOUR_MS;
            return Err(Limited {
                reason: Reason::GlobalQuota,
                retry_after_secs: ceil_secs(reset_at - now),
                limit: points,
                reset_at,
            });
        }
        entry.1 += 1;
        Ok(Budget {
            limit: points,
            remaining: points - entry.1,
        })
    }
}

fn ceil_secs(ms: i64) -> u64 {
    (ms.max(1) as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: EpochMs = 1_768_653_240_000;

    #[test]
    fn a_burst_bucket_admits_its_capacity_then_refills_over_a_second() {
        let limiters = Limiters::default();
        for expected_remaining in [2, 1, 0] {
            let budget = limiters
                .burst("c", "/myself", &Method::GET, 3, T0)
                .expect("within the burst");
            assert_eq!(budget.remaining, expected_remaining);
        }
        let limited = limiters
            .burst("c", "/myself", &Method::GET, 3, T0)
            .expect_err("burst spent");
        assert_eq!(limited.reason, Reason::Burst);
        assert_eq!(limited.retry_after_secs, 1);
        assert!(
            limiters.burst("c", "/myself", &Method::POST, 3, T0).is_ok(),
            "another method has its own bucket"
        );
        assert!(
            limiters
                .burst("c", "/myself", &Method::GET, 3, T0 + 400)
                .is_ok()
        );
    }

    #[test]
    fn put_and_delete_get_half_the_burst() {
        assert_eq!(burst_limit_for(&Method::GET, 100), 100);
        assert_eq!(burst_limit_for(&Method::PUT, 100), 50);
        assert_eq!(burst_limit_for(&Method::DELETE, 1), 1);
    }

    #[test]
    fn issue_writes_are_limited_per_window_and_recover_when_it_slides() {
        let limiters = Limiters::default();
        assert!(limiters.issue_write("c", 7, 2, 3, T0).is_ok());
        assert!(limiters.issue_write("c", 7, 2, 3, T0 + 100).is_ok());
        let limited = limiters
            .issue_write("c", 7, 2, 3, T0 + 200)
            .expect_err("2 s window full");
        assert_eq!(limited.retry_after_secs, 2);
        assert!(limiters.issue_write("c", 8, 2, 3, T0 + 200).is_ok());
        assert!(limiters.issue_write("c", 7, 2, 3, T0 + 2_001).is_ok());
        let limited = limiters
            .issue_write("c", 7, 2, 3, T0 + 4_500)
            .expect_err("30 s window full");
        assert_eq!(limited.limit, 3);
        assert_eq!(limited.retry_after_secs, 26);
        assert!(limiters.issue_write("c", 7, 2, 3, T0 + 30_001).is_ok());
    }

    #[test]
    fn the_hourly_quota_resets_at_the_top_of_the_hour() {
        let limiters = Limiters::default();
        let start = (T0 / HOUR_MS) * HOUR_MS + HOUR_MS - 90_000;
        assert_eq!(limiters.quota("app", 2, start).map(|b| b.remaining), Ok(1));
        assert_eq!(limiters.quota("app", 2, start).map(|b| b.remaining), Ok(0));
        let limited = limiters.quota("app", 2, start).expect_err("spent");
        assert_eq!(limited.retry_after_secs, 90);
        assert_eq!(limited.reason.header(), "jira-quota-global-based");
        assert!(limiters.quota("app", 2, start + 90_000).is_ok());
    }

    #[test]
    fn reset_headers_round_up_to_the_minute() {
        assert_eq!(reset_header(T0), "2026-01-17T12:34Z");
        assert_eq!(reset_header(T0 + 1), "2026-01-17T12:35Z");
    }

    #[test]
    fn near_limit_means_under_a_fifth_left() {
        assert!(
            Budget {
                limit: 100,
                remaining: 19
            }
            .near_limit()
        );
        assert!(
            !Budget {
                limit: 100,
                remaining: 20
            }
            .near_limit()
        );
    }
}
