//! Starting and stopping a simulator: binds the main and media listeners, seeds (or loads) the
//! world, builds the routers and serves until shut down.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::any;
use parking_lot::RwLock;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::SimClock;
use crate::config::SimConfig;
use crate::error::ApiError;
use crate::search::SearchIndex;
use crate::state::{Counters, SimInner, SimState, SimUrls};

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The state file could not be loaded.
    #[error("cannot load state file {path}: {reason}")]
    State {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// The ready line's content: everything a client needs to talk to this simulator.
#[derive(Debug, Clone, Serialize)]
pub struct ReadyInfo {
    /// Base of the auth role (`/authorize`, `/oauth/token`).
    pub auth_url: String,
    /// Base of the API gateway role (`/oauth/token/accessible-resources`, `/ex/jira/{cloudId}`).
    pub api_url: String,
    /// The first site's URL (`{site_url}/_edge/tenant_info`).
    pub site_url: String,
    /// The first site's cloud id.
    pub cloud_id: String,
    /// Jira REST base for the first site: `{api_url}/ex/jira/{cloud_id}`.
    pub jira_base_url: String,
    /// Media origin (attachment downloads redirect here).
    pub media_url: String,
    /// Seeded OAuth app's client id.
    pub client_id: String,
    /// Seeded OAuth app's client secret.
    pub client_secret: String,
    /// Redirect URIs registered for the app.
    pub redirect_uris: Vec<String>,
    /// Access token of the site admin with every classic scope.
    pub admin_token: String,
    /// Account id of the site admin.
    pub admin_account_id: String,
    /// Base of the admin API.
    pub sim_admin_url: String,
}

/// A running simulator. Dropping it does not stop it; call [`RunningSim::shutdown`].
pub struct RunningSim {
    /// Shared state (for in-process tests and benchmarks).
    pub state: SimState,
    /// The ready information.
    pub info: ReadyInfo,
    /// Bound address of the main listener.
    pub addr: SocketAddr,
    /// Bound address of the media listener.
    pub media_addr: SocketAddr,
}

impl RunningSim {
    /// Stops accepting, drains background tasks, saves `--state` if configured.
    pub async fn shutdown(self) {
        self.state.shutdown.cancel();
        self.state.tasks.close();
        self.state.tasks.wait().await;
    }

    /// Resolves when the simulator has been shut down.
    pub async fn stopped(&self) {
        self.state.shutdown.cancelled().await;
        self.state.tasks.wait().await;
    }
}

/// Binds, seeds and starts serving. Returns once both listeners accept connections.
pub async fn start(config: SimConfig) -> Result<RunningSim, StartError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let media_listener = TcpListener::bind(config.media_listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.media_listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let media_addr = media_listener
        .local_addr()
        .map_err(|source| StartError::Bind {
            addr: config.media_listen,
            source,
        })?;
    let base = format!("http://{addr}");
    let urls = SimUrls {
        auth_url: base.clone(),
        api_url: base.clone(),
        media_url: format!("http://{media_addr}"),
        sites_base: format!("{base}/site"),
    };
    let clock = SimClock::default();
    let mut world = crate::seed::build(&config, &urls, clock.now_ms());
    if let Some(path) = &config.state_file
        && let Some(loaded) = crate::persist::load(path).map_err(|reason| StartError::State {
            path: path.display().to_string(),
            reason,
        })?
    {
        world = loaded;
    }
    let info = crate::seed::ready_info(&mut world, &urls, clock.now_ms());
    let state = SimState::new(SimInner {
        world: RwLock::new(world),
        clock,
        settings: RwLock::new(config.settings.clone()),
        counters: Counters::default(),
        search: SearchIndex::default(),
        urls,
        auto_consent: config.auto_consent,
        tasks: TaskTracker::new(),
        shutdown: CancellationToken::new(),
        webhook_wakeup: tokio::sync::Notify::new(),
        jira_router: std::sync::OnceLock::new(),
        realism: crate::realism::Realism::default(),
    });
    state
        .search
        .rebuild(&state.world.read(), state.clock.now_ms());
    let _ = state
        .jira_router
        .set(crate::rest::jira_router(state.clone()));

    let app = main_router(state.clone());
    let media = crate::media::routes().with_state(state.clone());
    spawn_server(&state, listener, app);
    spawn_server(&state, media_listener, media);
    crate::webhooks::spawn_sender(&state);
    if let Some(path) = config.state_file.clone() {
        let interval = std::time::Duration::from_secs(config.state_save_interval_secs);
        crate::persist::spawn_saver(&state, path, interval);
    }
    Ok(RunningSim {
        state,
        info,
        addr,
        media_addr,
    })
}

/// The main listener's router: auth role, gateway role, sites and admin API.
pub fn main_router(state: SimState) -> Router {
    Router::new()
        .merge(crate::oauth::routes())
        .route("/ex/jira/{cloud_id}/{*rest}", any(crate::gateway::forward))
        .nest("/_sim", crate::admin::routes())
        .fallback(|| async { ApiError::not_found("No such resource in the simulator.") })
        .with_state(state)
}

fn spawn_server(state: &SimState, listener: TcpListener, router: Router) {
    let shutdown = state.shutdown.clone();
    state.tasks.spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(err) = served {
            tracing::error!(%err, "simulator listener stopped");
        }
    });
}
