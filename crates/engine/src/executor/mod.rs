//! The executor: runs flows step by step, records every run's history in the store, retries
//! retryable failures with backoff, bounds concurrency per connection, and resumes runs a
//! crashed worker left behind (a step that may have written is reconciled, not repeated).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiraflow_store::{RunDetail, RunId, RunOrigin, RunRecord, Store};
use serde_json::Value;

use crate::connections::ClientSource;
use crate::flow::Flow;

/// Executor settings.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// This worker's id in run claims.
    pub worker_id: String,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// Actions in flight at once per connection.
    pub per_connection_concurrency: usize,
    /// Values templates see as `env`.
    pub env: BTreeMap<String, String>,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            worker_id: format!("worker-{}", uuid::Uuid::new_v4()),
            lease: Duration::from_secs(60),
            per_connection_concurrency: 8,
            env: BTreeMap::new(),
        }
    }
}

/// Why the executor could not do what was asked (a failing step is not an error: it is
/// recorded in the run).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] jiraflow_store::StoreError),
    /// No applied flow has this name.
    #[error("unknown flow {0:?} (see `jiraflow flow list`)")]
    UnknownFlow(String),
    /// The stored flow no longer loads (it was applied by an older version).
    #[error("flow {name:?} does not load: {message}")]
    InvalidFlow {
        /// Flow name.
        name: String,
        /// The load errors.
        message: String,
    },
    /// The run is not claimable (finished, or held by a live worker).
    #[error("run {0} is not claimable (finished, or another worker holds it)")]
    NotClaimable(RunId),
}

impl ExecError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_retryable())
    }
}

/// A step as a dry run renders it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DryRunStep {
    /// Step id.
    pub step_id: String,
    /// Action name.
    pub action: String,
    /// Whether its `if` holds (`None` when the condition depends on an earlier step's output).
    pub condition: Option<bool>,
    /// The rendered input (secrets redacted), when it rendered.
    pub input: Option<Value>,
    /// Why it did not render.
    pub error: Option<String>,
}

/// A dry run of a flow over one sample trigger record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DryRunSample {
    /// The sample record.
    pub trigger: Value,
    /// Every step, rendered.
    pub steps: Vec<DryRunStep>,
}

/// Runs flows.
pub struct Executor {
    store: Arc<dyn Store>,
    clients: Arc<dyn ClientSource>,
    config: ExecutorConfig,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// An executor over `store`, calling Jira with clients from `clients`.
    pub fn new(
        store: Arc<dyn Store>,
        clients: Arc<dyn ClientSource>,
        config: ExecutorConfig,
    ) -> Self {
        Self {
            store,
            clients,
            config,
        }
    }

    /// Enqueues a run of the applied flow `flow_name` with `payload` as `trigger`.
    ///
    /// # Errors
    /// Unknown flow, store failure, `Duplicate` for a reused dedupe key.
    pub async fn enqueue(
        &self,
        flow_name: &str,
        payload: Value,
        origin: RunOrigin,
        dedupe_key: Option<String>,
    ) -> Result<RunRecord, ExecError> {
        let _ = (&self.store, &self.clients, flow_name, payload, origin, dedupe_key);
        todo!()
    }

    /// Claims run `id` and executes it to its end; returns its history.
    ///
    /// # Errors
    /// Not claimable, store failure.
    pub async fn execute(&self, id: RunId) -> Result<RunDetail, ExecError> {
        let _ = id;
        todo!()
    }

    /// Claims and executes claimable runs (pending ones, and running ones whose worker died)
    /// until none is left or `limit` ran; returns how many ran.
    ///
    /// # Errors
    /// Store failure.
    pub async fn drain(&self, limit: usize) -> Result<usize, ExecError> {
        let _ = limit;
        todo!()
    }

    /// Renders every step of `flow` for each sample trigger record without calling any action.
    pub fn dry_run(&self, flow: &Flow, samples: &[Value]) -> Vec<DryRunSample> {
        let _ = (flow, samples);
        todo!()
    }
}
