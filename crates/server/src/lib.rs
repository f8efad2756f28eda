//! jiraflow's HTTP server: one axum router over the services a running instance shares.
//!
//! - `GET /healthz`, `GET /metrics` ([`metrics`]): liveness with the store's reachability, and
//!   the Prometheus series.
//! - `GET /oauth/callback` ([`callback`]): the OAuth redirect target of connections begun here.
//! - `POST /webhooks/jira` ([`webhook`]): Jira's webhook deliveries, handed to the receiver.
//! - `/api/v1/...` ([`api`]): flows, runs, connections, triggers and files for API-key holders.

pub mod api;
pub mod auth;
pub mod callback;
pub mod clients;
pub mod error;
pub mod metrics;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use jiraflow_engine::executor::Executor;
use jiraflow_engine::triggers::scheduler::SchedulerHandle;
use jiraflow_files::Files;
use jiraflow_oauth::{OAuthClient, TokenManager};
use jiraflow_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use callback::PendingConsents;
pub use clients::MeteredClients;
pub use error::{ApiError, ApiResult};
pub use metrics::Metrics;
pub use webhook::{ServerWebhooks, WebhookSink, WebhookVerdict};

/// The services a server is built over.
pub struct Services {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The executor (manual runs are enqueued through it; workers run it elsewhere).
    pub executor: Arc<Executor>,
    /// File objects.
    pub files: Arc<Files>,
    /// Jira clients per connection (shared with the executor, so their counters are the same).
    pub clients: Arc<MeteredClients>,
    /// Token manager (connection tests).
    pub tokens: Arc<TokenManager>,
    /// OAuth protocol client (connect flows, tests).
    pub oauth: OAuthClient,
    /// The redirect URI authorizations begun here use: this server's `/oauth/callback`.
    pub redirect_uri: String,
    /// The trigger scheduler, told when flows change through the API (it also rereads them
    /// on its own every little while).
    pub scheduler: Option<SchedulerHandle>,
}

/// The state every handler gets (a cheap clone).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    services: Services,
    webhooks: Option<Arc<dyn WebhookSink>>,
    metrics: Arc<Metrics>,
    consents: PendingConsents,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("redirect_uri", &self.inner.services.redirect_uri)
            .field("webhooks", &self.inner.webhooks.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `services`, without a webhook receiver.
    pub fn new(services: Services) -> Self {
        Self::build(services, None)
    }

    /// State over `services`, with `webhooks` receiving `POST /webhooks/jira`.
    pub fn with_webhooks(services: Services, webhooks: Arc<dyn WebhookSink>) -> Self {
        Self::build(services, Some(webhooks))
    }

    fn build(services: Services, webhooks: Option<Arc<dyn WebhookSink>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                services,
                webhooks,
                metrics: Arc::new(Metrics::default()),
                consents: PendingConsents::default(),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.services.store
    }

    /// The executor.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.inner.services.executor
    }

    /// File objects.
    pub fn files(&self) -> &Arc<Files> {
        &self.inner.services.files
    }

    /// Jira clients.
    pub fn clients(&self) -> &Arc<MeteredClients> {
        &self.inner.services.clients
    }

    /// Token manager.
    pub fn tokens(&self) -> &Arc<TokenManager> {
        &self.inner.services.tokens
    }

    /// OAuth protocol client.
    pub fn oauth_client(&self) -> &OAuthClient {
        &self.inner.services.oauth
    }

    /// This server's OAuth redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.inner.services.redirect_uri
    }

    /// The webhook receiver, if any.
    pub fn webhooks(&self) -> Option<&Arc<dyn WebhookSink>> {
        self.inner.webhooks.as_ref()
    }

    /// Whether webhooks are received.
    pub fn webhooks_enabled(&self) -> bool {
        self.inner.webhooks.is_some()
    }

    /// This process's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Tells the scheduler (if any) that flows were applied, enabled, disabled or deleted.
    pub fn notify_flows_changed(&self) {
        if let Some(scheduler) = &self.inner.services.scheduler {
            scheduler.notify_flows_changed();
        }
    }

    /// Authorizations begun by this server.
    pub fn consents(&self) -> &PendingConsents {
        &self.inner.consents
    }
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/oauth/callback", get(callback::oauth_callback))
        .route(
            "/webhooks/jira",
            post(webhook::receive).layer(DefaultBodyLimit::max(webhook::MAX_DELIVERY_BYTES)),
        )
        .nest("/api/v1", api::router())
        .with_state(state)
}

/// Serves `router` on `listener` until `cancel` fires, then stops accepting and lets requests in
/// flight finish.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
}
