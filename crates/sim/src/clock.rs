//! The simulator's clock: wall time plus an adjustable offset.
//!
//! Every timestamp the simulator hands out (issue `created`/`updated`, token expiry, webhook expiry,
//! rate-limit windows) comes from here, so tests can skew the simulated Jira against the client
//! (`--clock-offset`, `POST /_sim/clock`) or jump a month ahead to expire webhooks.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};

/// Milliseconds since the Unix epoch, the unit of every instant inside the simulator.
pub type EpochMs = i64;

/// Wall clock plus an offset in milliseconds.
#[derive(Debug, Default)]
pub struct SimClock {
    offset_ms: AtomicI64,
}

impl SimClock {
    /// A clock that runs `offset_ms` ahead of (or, when negative, behind) the host.
    pub fn with_offset(offset_ms: i64) -> Self {
        Self {
            offset_ms: AtomicI64::new(offset_ms),
        }
    }

    /// The simulated now, in epoch milliseconds.
    pub fn now_ms(&self) -> EpochMs {
        Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// The simulated now as a UTC date-time.
    pub fn now(&self) -> DateTime<Utc> {
        ms_to_utc(self.now_ms())
    }

    /// The current offset from the host clock.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Replaces the offset (used by the admin API and tests).
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    /// Moves the simulated clock forward by `delta_ms` (negative moves it back).
    pub fn advance_ms(&self, delta_ms: i64) {
        self.offset_ms.fetch_add(delta_ms, Ordering::Relaxed);
    }
}

/// Converts epoch milliseconds to a UTC date-time, clamping values chrono cannot represent.
pub fn ms_to_utc(ms: EpochMs) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Formats an instant the way Jira Cloud does in REST v3 bodies: `2026-01-17T12:34:00.000+0000`.
pub fn jira_timestamp(ms: EpochMs) -> String {
    ms_to_utc(ms).format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_milliseconds_and_an_offset_without_colon() {
        assert_eq!(
            jira_timestamp(1_768_653_240_000),
            "2026-01-17T12:34:00.000+0000"
        );
    }

    #[test]
    fn advancing_the_clock_moves_now_forward() {
        let clock = SimClock::default();
        let before = clock.now_ms();
        clock.advance_ms(31 * 24 * 3600 * 1000);
        assert!(clock.now_ms() - before >= 31 * 24 * 3600 * 1000);
    }
}
