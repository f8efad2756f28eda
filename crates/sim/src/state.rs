//! The shared handle every handler gets: the world behind its lock, the clock, the knobs, the
//! counters, the search index and the background-task tracker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::SimClock;
use crate::config::Settings;
use crate::events::IssueEvent;
use crate::search::SearchIndex;
use crate::world::World;

/// The public URLs of a running simulator.
#[derive(Debug, Clone, Serialize)]
pub struct SimUrls {
    /// Base of the auth role (`https://auth.atlassian.com` in production).
    pub auth_url: String,
    /// Base of the API gateway role (`https://api.atlassian.com`).
    pub api_url: String,
    /// Base of the media origin attachment downloads redirect to.
    pub media_url: String,
    /// Base under which sites live: `{base}/site/{name}`.
    pub sites_base: String,
}

/// Counters the admin API reports (`GET /_sim/stats`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Successful authorization-code exchanges.
    pub code_exchanges: AtomicU64,
    /// Successful refresh-token grants.
    pub refreshes: AtomicU64,
    /// Refreshes that presented a rotated-out token inside the reuse interval.
    pub refresh_reuse_hits: AtomicU64,
    /// Token families revoked because a rotated-out token was used after the reuse interval.
    pub family_revocations: AtomicU64,
    /// `invalid_grant` answers from the token endpoint.
    pub invalid_grants: AtomicU64,
    /// API requests served through the gateway.
    pub api_requests: AtomicU64,
    /// 429 answers.
    pub rate_limited: AtomicU64,
    /// Injected faults (5xx, drops, delays).
    pub faults_injected: AtomicU64,
    /// Webhook deliveries attempted.
    pub webhook_attempts: AtomicU64,
    /// Webhook deliveries acknowledged with 2xx.
    pub webhook_delivered: AtomicU64,
    /// Webhook deliveries abandoned after the last attempt.
    pub webhook_abandoned: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A JSON snapshot of every counter.
    pub fn snapshot(&self) -> serde_json::Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "codeExchanges": get(&self.code_exchanges),
            "refreshes": get(&self.refreshes),
            "refreshReuseHits": get(&self.refresh_reuse_hits),
            "familyRevocations": get(&self.family_revocations),
            "invalidGrants": get(&self.invalid_grants),
            "apiRequests": get(&self.api_requests),
            "rateLimited": get(&self.rate_limited),
            "faultsInjected": get(&self.faults_injected),
            "webhookAttempts": get(&self.webhook_attempts),
            "webhookDelivered": get(&self.webhook_delivered),
            "webhookAbandoned": get(&self.webhook_abandoned),
        })
    }
}

/// Cheap-to-clone handle to the simulator's shared state.
#[derive(Clone)]
pub struct SimState(Arc<SimInner>);

/// What [`SimState`] points to.
pub struct SimInner {
    /// The world. Take the lock briefly; never hold it across an await.
    pub world: RwLock<World>,
    /// The simulated clock.
    pub clock: SimClock,
    /// Run-time knobs.
    pub settings: RwLock<Settings>,
    /// Counters for the admin API.
    pub counters: Counters,
    /// The search index (lagging view of issues for JQL search).
    pub search: SearchIndex,
    /// Public URLs.
    pub urls: SimUrls,
    /// Approve consent without showing the page.
    pub auto_consent: bool,
    /// Background tasks (webhook sender, sweeper); drained on shutdown.
    pub tasks: TaskTracker,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
    /// Wakes the webhook sender when deliveries are queued.
    pub webhook_wakeup: tokio::sync::Notify,
    /// The Jira REST router the gateway forwards to (built once at start).
    pub jira_router: std::sync::OnceLock<axum::Router>,
    /// Rate-limiter windows and fault dice of the realism layers.
    pub realism: crate::realism::Realism,
}

impl std::ops::Deref for SimState {
    type Target = SimInner;
    fn deref(&self) -> &SimInner {
        &self.0
    }
}

impl SimState {
    /// Wraps the parts into a handle.
    pub fn new(inner: SimInner) -> Self {
        Self(Arc::new(inner))
    }

    /// A copy of the current knobs.
    pub fn settings(&self) -> Settings {
        self.settings.read().clone()
    }

    /// Reports a change to an issue: the search index sees it after the configured lag, and
    /// matching dynamic webhooks queue a delivery. Call it while still holding the world's write
    /// lock, right after the change, so events keep the order of the changes.
    pub fn publish(&self, world: &mut World, event: IssueEvent) {
        let (lag, jitter) = {
            let s = self.settings.read();
            (s.search_lag_ms, s.search_lag_jitter_ms)
        };
        let extra = if jitter > 0 {
            rand::Rng::random_range(&mut rand::rng(), 0..=jitter)
        } else {
            0
        };
        self.search
            .on_event(&event, event.at + (lag + extra) as i64, jitter > 0);
        crate::webhooks::on_event(self, world, &event);
    }
}
