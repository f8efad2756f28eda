//! Simulator configuration: what is fixed at start ([`SimConfig`]) and the realism knobs that the
//! admin API can change while it runs ([`Settings`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which data the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedKind {
    /// Two sites, several users and groups, three projects, issues with comments, attachments,
    /// watchers and links.
    #[default]
    Demo,
    /// The OAuth app, the users and the two sites with their configuration (issue types,
    /// workflow, priorities, fields, link types), but no projects and no issues.
    Empty,
}

/// Start-up configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address of the main listener (auth, API gateway and site roles).
    pub listen: SocketAddr,
    /// Address of the media listener (attachment downloads are redirected here: another origin).
    /// Port 0 picks a free port.
    pub media_listen: SocketAddr,
    /// Approve consent at once, as the first seeded user on the first site.
    pub auto_consent: bool,
    /// Initial data.
    pub seed: SeedKind,
    /// Extra redirect URIs registered for the seeded OAuth app.
    pub redirect_uris: Vec<String>,
    /// Fixed client id for the seeded app (random when `None`).
    pub client_id: Option<String>,
    /// Fixed client secret for the seeded app (random when `None`).
    pub client_secret: Option<String>,
    /// Persist the world to this file on shutdown and load it on start.
    pub state_file: Option<PathBuf>,
    /// With a state file: also save every this many seconds when the world changed (0: only on
    /// shutdown).
    pub state_save_interval_secs: u64,
    /// Initial realism knobs.
    pub settings: Settings,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            media_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            auto_consent: false,
            seed: SeedKind::Demo,
            redirect_uris: Vec::new(),
            client_id: None,
            client_secret: None,
            state_file: None,
            state_save_interval_secs: 30,
            settings: Settings::default(),
        }
    }
}

/// Knobs that change how faithful-but-hostile the simulator is. All can be changed at run time
/// through `PUT /_sim/settings`; unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Access token lifetime in seconds (`expires_in`).
    pub access_token_ttl_secs: u64,
    /// How long a rotated-out refresh token stays usable, in seconds.
    pub refresh_reuse_interval_secs: u64,
    /// Refresh token inactivity expiry in seconds (90 days).
    pub refresh_inactivity_secs: u64,
    /// Refresh token absolute expiry in seconds from first consent (365 days).
    pub refresh_absolute_secs: u64,
    /// Authorization code lifetime in seconds.
    pub authorization_code_ttl_secs: u64,
    /// Status the gateway answers for an expired access token (Atlassian: 401 documented, 403/404
    /// observed on some paths).
    pub expired_token_status: u16,
    /// Search index lag in milliseconds: writes become visible to JQL search this much later.
    pub search_lag_ms: u64,
    /// Extra search lag drawn for each change, uniformly in 0..=this many milliseconds: changes
    /// to different issues then become visible out of order, as Jira's index lets them (a change
    /// never overtakes an earlier change of the same issue). 0 keeps every change in order.
    pub search_lag_jitter_ms: u64,
    /// Burst limit: requests per second per (site, endpoint, method); 0 disables.
    pub burst_per_second: u32,
    /// Per-issue write limit: writes per 2 s window on one issue; 0 disables.
    pub issue_writes_per_2s: u32,
    /// Per-issue write limit: writes per 30 s window on one issue; 0 disables.
    pub issue_writes_per_30s: u32,
    /// Hourly points quota per app; 0 disables.
    pub hourly_quota_points: u32,
    /// Fraction of API requests answered 429 at random (with `Retry-After`), 0.0-1.0.
    pub random_429_rate: f64,
    /// Fraction of API requests answered with a 5xx, 0.0-1.0.
    pub fault_5xx_rate: f64,
    /// Fraction of API requests whose connection is dropped without a response.
    pub fault_drop_rate: f64,
    /// Fraction of API requests whose connection is dropped after the write was applied (the
    /// response is lost, the effect is not).
    pub fault_drop_after_commit_rate: f64,
    /// Fraction of requests delayed by `fault_delay_ms`.
    pub fault_delay_rate: f64,
    /// Delay in milliseconds for delayed requests.
    pub fault_delay_ms: u64,
    /// `Retry-After` seconds sent with simulated 429s.
    pub retry_after_secs: u64,
    /// Only inject faults (random 429s, 5xx, delays, drops) into requests with one of these
    /// methods (case-insensitive); empty means every method.
    pub fault_methods: Vec<String>,
    /// Only inject faults into requests whose Jira path (after `/ex/jira/{cloudId}`) starts with
    /// this prefix, e.g. `/rest/api/3/issue`; `None` means every path.
    pub fault_path_prefix: Option<String>,
    /// Seed of the fault dice, for reproducible runs; `None` seeds from the OS.
    pub fault_seed: Option<u64>,
    /// Webhook delivery attempts before giving up.
    pub webhook_max_attempts: u32,
    /// Dynamic webhook lifetime in seconds (30 days).
    pub webhook_ttl_secs: u64,
    /// Delay before the first webhook retry in milliseconds (host time); each further retry
    /// waits twice as long.
    pub webhook_retry_base_ms: u64,
    /// How long the webhook sender waits for a receiver's answer, in milliseconds.
    pub webhook_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 3600,
            refresh_reuse_interval_secs: 600,
            refresh_inactivity_secs: 90 * 24 * 3600,
            refresh_absolute_secs: 365 * 24 * 3600,
            authorization_code_ttl_secs: 300,
            expired_token_status: 401,
            search_lag_ms: 0,
            search_lag_jitter_ms: 0,
            burst_per_second: 0,
            issue_writes_per_2s: 0,
            issue_writes_per_30s: 0,
            hourly_quota_points: 0,
            random_429_rate: 0.0,
            fault_5xx_rate: 0.0,
            fault_drop_rate: 0.0,
            fault_drop_after_commit_rate: 0.0,
            fault_delay_rate: 0.0,
            fault_delay_ms: 0,
            retry_after_secs: 1,
            fault_methods: Vec::new(),
            fault_path_prefix: None,
            fault_seed: None,
            webhook_max_attempts: 5,
            webhook_ttl_secs: 30 * 24 * 3600,
            webhook_retry_base_ms: 1000,
            webhook_timeout_ms: 10_000,
        }
    }
}
