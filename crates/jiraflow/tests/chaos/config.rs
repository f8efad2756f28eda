//! The knobs of one chaos run, read from the environment (short CI form by default, long form
//! through `JIRAFLOW_CHAOS_*`), and the seeded generator every random choice of the harness
//! draws from, so a printed seed names the run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One run's shape.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seeds the writers, the kill points, the clock offset's sign and the simulator's fault dice.
    pub seed: u64,
    /// Concurrent writers (alternating Bob and Kiri).
    pub writers: usize,
    /// Operations per writer (creates, updates, comments).
    pub ops: usize,
    /// How long the writes are spread over.
    pub write_for: Duration,
    /// SIGKILLs of the worker during the run.
    pub kills: usize,
    /// Each change becomes searchable after a lag drawn in 0..=this (per change).
    pub search_lag_max_ms: u64,
    /// The simulated Jira's clock offset from the host clock (+-5 minutes).
    pub clock_offset_secs: i64,
    /// Fault rates on the Jira API while the writers run.
    pub rate_429: f64,
    pub rate_5xx: f64,
    pub rate_drop: f64,
    pub rate_drop_after_commit: f64,
    /// Poll interval of the four flows.
    pub poll_interval: &'static str,
    /// How long the last worker may take to drain once the writes and faults stop.
    pub drain_timeout: Duration,
}

impl Config {
    /// The short form, or the long form when `JIRAFLOW_CHAOS_SECS` is set.
    pub fn from_env() -> Self {
        let seed = env_u64("JIRAFLOW_CHAOS_SEED").unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        });
        let long_secs = env_u64("JIRAFLOW_CHAOS_SECS");
        let writers = env_u64("JIRAFLOW_CHAOS_WRITERS").map_or(2, |n| n.max(1) as usize);
        let (write_for, default_ops, default_kills, lag) = match long_secs {
            // Long form: ~5 operations per writer per second, a kill about every 20 s, and the
            // full 0-30 s search lag.
            Some(secs) => (
                Duration::from_secs(secs.max(10)),
                (secs.max(10) * 5) as usize,
                (secs / 20).max(3) as usize,
                30_000,
            ),
            // Short form (CI): 2 x 150 operations over ~25 s, 3 kills, 0-8 s lag so that the
            // drain stays short.
            None => (Duration::from_secs(25), 150, 3, 8_000),
        };
        let mut rng = Rng::new(seed ^ 0x5eed_c10c);
        let sign = if rng.below(2) == 0 { -1 } else { 1 };
        let ops = env_u64("JIRAFLOW_CHAOS_OPS").map_or(default_ops, |n| n.max(1) as usize);
        let search_lag_max_ms = env_u64("JIRAFLOW_CHAOS_LAG_MS").unwrap_or(lag);
        // The lease of a run cut by the last kill (60 s), the lag, and the backlog the executor
        // still has to work off once the faults stop.
        let drain_secs = 90 + search_lag_max_ms / 1000 + (writers * ops) as u64 / 50;
        Self {
            seed,
            writers,
            ops,
            write_for,
            kills: env_u64("JIRAFLOW_CHAOS_KILLS").map_or(default_kills, |n| n as usize),
            search_lag_max_ms,
            clock_offset_secs: sign * 300,
            rate_429: 0.20,
            rate_5xx: 0.10,
            rate_drop: 0.03,
            rate_drop_after_commit: 0.02,
            poll_interval: "1s",
            drain_timeout: Duration::from_secs(
                env_u64("JIRAFLOW_CHAOS_DRAIN_SECS").unwrap_or(drain_secs),
            ),
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    match raw.trim().parse() {
        Ok(n) => Some(n),
        Err(e) => panic!("{name}={raw:?} is not a whole number: {e}"),
    }
}

/// SplitMix64: tiny, seedable, good enough to pick kill points and operations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A duration uniform in `from..=to`.
    pub fn between(&mut self, from: Duration, to: Duration) -> Duration {
        let span = to.saturating_sub(from).as_millis() as u64;
        from + Duration::from_millis(self.below(span + 1))
    }
}
