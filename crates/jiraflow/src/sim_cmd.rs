//! `jiraflow sim`: starts the simulator, prints the ready line, serves until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use jiraflow_sim::{SeedKind, Settings, SimConfig};

/// Options of `jiraflow sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address of the main listener (auth, API gateway, sites, admin API).
    #[arg(long, default_value = "127.0.0.1:8090", env = "JIRAFLOW_SIM_LISTEN")]
    listen: SocketAddr,
    /// Address of the media listener (a second origin for attachment downloads).
    #[arg(long, default_value = "127.0.0.1:0")]
    media_listen: SocketAddr,
    /// Approve the consent page at once, as the first seeded user on the first site.
    #[arg(long)]
    auto_consent: bool,
    /// Initial data: `demo` or `empty`.
    #[arg(long, value_enum, default_value = "demo")]
    seed: SeedArg,
    /// Extra redirect URI registered for the seeded OAuth app (repeatable).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Fixed client id for the seeded OAuth app.
    #[arg(long)]
    client_id: Option<String>,
    /// Fixed client secret for the seeded OAuth app.
    #[arg(long, env = "JIRAFLOW_SIM_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Persist the simulated world to this JSON file (loaded on start, saved on shutdown).
    #[arg(long)]
    state: Option<PathBuf>,
    /// With --state: also save every this many seconds when the world changed (0: only on
    /// shutdown).
    #[arg(long, default_value_t = 30)]
    state_save_interval: u64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl: u64,
    /// How long a rotated-out refresh token stays usable, in seconds.
    #[arg(long, default_value_t = 600)]
    refresh_reuse_interval: u64,
    /// Refresh token inactivity expiry in seconds (90 days).
    #[arg(long, default_value_t = 90 * 24 * 3600)]
    refresh_inactivity: u64,
    /// Refresh token absolute expiry in seconds from first consent (365 days).
    #[arg(long, default_value_t = 365 * 24 * 3600)]
    refresh_absolute: u64,
    /// Authorization code lifetime in seconds.
    #[arg(long, default_value_t = 300)]
    authorization_code_ttl: u64,
    /// Status the gateway answers for an expired access token (401, or 403/404 as observed).
    #[arg(long, default_value_t = 401)]
    expired_token_status: u16,
    /// Search index lag in milliseconds.
    #[arg(long, default_value_t = 0)]
    search_lag_ms: u64,
    /// Extra search lag drawn per change in 0..=MS, so changes to different issues become
    /// searchable out of order.
    #[arg(long, default_value_t = 0)]
    search_lag_jitter_ms: u64,
    /// Burst limit in requests per second per site, endpoint and method (PUT/DELETE get half;
    /// 0: off).
    #[arg(long, default_value_t = 0)]
    burst_limit: u32,
    /// Writes allowed to one issue per 2 seconds (0: off).
    #[arg(long, default_value_t = 0)]
    issue_writes_per_2s: u32,
    /// Writes allowed to one issue per 30 seconds (0: off).
    #[arg(long, default_value_t = 0)]
    issue_writes_per_30s: u32,
    /// Hourly points quota per app, one point per request (0: off).
    #[arg(long, default_value_t = 0)]
    hourly_quota: u32,
    /// Fraction of API requests answered 429 at random.
    #[arg(long, default_value_t = 0.0)]
    random_429_rate: f64,
    /// Fraction of API requests answered with a 5xx.
    #[arg(long, default_value_t = 0.0)]
    fault_5xx_rate: f64,
    /// Fraction of API requests whose connection is dropped without a response.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_rate: f64,
    /// Fraction of API requests whose connection is dropped after the request was applied.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_after_commit_rate: f64,
    /// Fraction of API requests delayed by --fault-delay-ms.
    #[arg(long, default_value_t = 0.0)]
    fault_delay_rate: f64,
    /// Delay of delayed requests, in milliseconds.
    #[arg(long, default_value_t = 0)]
    fault_delay_ms: u64,
    /// Only inject faults into requests with this method (repeatable; default: every method).
    #[arg(long = "fault-method")]
    fault_methods: Vec<String>,
    /// Only inject faults into Jira paths starting with this prefix (e.g. /rest/api/3/issue).
    #[arg(long)]
    fault_path_prefix: Option<String>,
    /// Seed of the fault dice, for reproducible runs.
    #[arg(long)]
    fault_seed: Option<u64>,
    /// `Retry-After` seconds sent with random 429s and some 503s.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Webhook delivery attempts before giving up.
    #[arg(long, default_value_t = 5)]
    webhook_max_attempts: u32,
    /// Dynamic webhook lifetime in seconds (30 days).
    #[arg(long, default_value_t = 30 * 24 * 3600)]
    webhook_ttl: u64,
    /// Delay before the first webhook retry, in milliseconds; each further retry waits twice as
    /// long.
    #[arg(long, default_value_t = 1000)]
    webhook_retry_base_ms: u64,
    /// How long the webhook sender waits for a receiver's answer, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    webhook_timeout_ms: u64,
    /// Offset of the simulated clock from the host clock, in seconds.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset: i64,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SeedArg {
    Demo,
    Empty,
}

/// Runs the simulator until Ctrl-C or SIGTERM.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let settings = Settings {
        access_token_ttl_secs: args.token_ttl,
        refresh_reuse_interval_secs: args.refresh_reuse_interval,
        refresh_inactivity_secs: args.refresh_inactivity,
        refresh_absolute_secs: args.refresh_absolute,
        authorization_code_ttl_secs: args.authorization_code_ttl,
        expired_token_status: args.expired_token_status,
        search_lag_ms: args.search_lag_ms,
        search_lag_jitter_ms: args.search_lag_jitter_ms,
        burst_per_second: args.burst_limit,
        issue_writes_per_2s: args.issue_writes_per_2s,
        issue_writes_per_30s: args.issue_writes_per_30s,
        hourly_quota_points: args.hourly_quota,
        random_429_rate: args.random_429_rate,
        fault_5xx_rate: args.fault_5xx_rate,
        fault_drop_rate: args.fault_drop_rate,
        fault_drop_after_commit_rate: args.fault_drop_after_commit_rate,
        fault_delay_rate: args.fault_delay_rate,
        fault_delay_ms: args.fault_delay_ms,
        retry_after_secs: args.retry_after,
        fault_methods: args.fault_methods,
        fault_path_prefix: args.fault_path_prefix,
        fault_seed: args.fault_seed,
        webhook_max_attempts: args.webhook_max_attempts,
        webhook_ttl_secs: args.webhook_ttl,
        webhook_retry_base_ms: args.webhook_retry_base_ms,
        webhook_timeout_ms: args.webhook_timeout_ms,
    };
    let config = SimConfig {
        listen: args.listen,
        media_listen: args.media_listen,
        auto_consent: args.auto_consent,
        seed: match args.seed {
            SeedArg::Demo => SeedKind::Demo,
            SeedArg::Empty => SeedKind::Empty,
        },
        redirect_uris: args.redirect_uris,
        client_id: args.client_id,
        client_secret: args.client_secret,
        state_file: args.state,
        state_save_interval_secs: args.state_save_interval,
        settings,
    };
    let sim = jiraflow_sim::start(config)
        .await
        .context("starting the simulator")?;
    sim.state.clock.set_offset_ms(args.clock_offset * 1000);
    // The ready contract: exactly one JSON line on stdout, then serve.
    println!("{}", serde_json::to_string(&sim.info)?);
    shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
