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
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl: u64,
    /// How long a rotated-out refresh token stays usable, in seconds.
    #[arg(long, default_value_t = 600)]
    refresh_reuse_interval: u64,
    /// Search index lag in milliseconds.
    #[arg(long, default_value_t = 0)]
    search_lag_ms: u64,
    /// Burst limit in requests per second per endpoint and method (0: off).
    #[arg(long, default_value_t = 0)]
    burst_limit: u32,
    /// Fraction of API requests answered 429 at random.
    #[arg(long, default_value_t = 0.0)]
    random_429_rate: f64,
    /// Fraction of API requests answered with a 5xx.
    #[arg(long, default_value_t = 0.0)]
    fault_5xx_rate: f64,
    /// Fraction of API requests whose connection is dropped.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_rate: f64,
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
        search_lag_ms: args.search_lag_ms,
        burst_per_second: args.burst_limit,
        random_429_rate: args.random_429_rate,
        fault_5xx_rate: args.fault_5xx_rate,
        fault_drop_rate: args.fault_drop_rate,
        ..Settings::default()
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
