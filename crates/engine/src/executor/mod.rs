//! The executor: runs flows step by step, records every run's history in the store, retries
//! retryable failures with backoff, bounds concurrency per connection, and resumes runs a
//! crashed worker left behind (a step that may have written is reconciled, not repeated).

mod dry_run;
mod redact;
mod run;
mod step;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiraflow_files::Files;
use jiraflow_store::{NewRun, RunDetail, RunId, RunOrigin, RunRecord, Store};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::connections::ClientSource;
use crate::flow::Flow;
use crate::mapping::Mapper;
use redact::Redactor;

/// Samples a dry run renders at most; further ones are ignored.
pub const DRY_RUN_MAX_SAMPLES: usize = 5;

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
    /// The worker was asked to stop between two steps of the run; the run stays claimed until
    /// its lease lapses, then another claim resumes it.
    #[error("run {0} was interrupted by shutdown after a step; it resumes once its lease lapses")]
    Interrupted(RunId),
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
    mapper: Mapper,
    redactor: Redactor,
    /// One semaphore per connection (by lowercased name), created on first use.
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Claim renewals of the runs in progress.
    tasks: TaskTracker,
    /// File objects for the file actions; without it they fail with a clear error.
    files: Option<Arc<Files>>,
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
        let redactor = Redactor::new(&config.env);
        Self {
            store,
            clients,
            config,
            mapper: Mapper::new(),
            redactor,
            limits: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
            files: None,
        }
    }

    /// With jiraflow's file objects, which `get_file`, `attach_file` and `delete_file` need.
    /// Every step's context gets the service and its run's id, so the files a run makes are
    /// owned by that run. Whoever purges runs from the store (`RunStore::purge_runs`) removes
    /// their files too, with [`Files::purge_run`] for each purged run; files expire anyway.
    #[must_use]
    pub fn with_files(mut self, files: Arc<Files>) -> Self {
        self.files = Some(files);
        self
    }

    /// The file objects service, if any.
    pub fn files(&self) -> Option<&Arc<Files>> {
        self.files.as_ref()
    }

    /// The settings this executor runs with.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
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
        let flow = self
            .store
            .get_flow(flow_name)
            .await?
            .ok_or_else(|| ExecError::UnknownFlow(flow_name.to_owned()))?;
        let run = self
            .store
            .create_run(NewRun {
                flow_name: flow.name,
                flow_version: flow.version,
                origin,
                trigger: payload,
                dedupe_key,
            })
            .await?;
        tracing::debug!(run_id = %run.id, flow = %run.flow_name, version = run.flow_version, "run enqueued");
        Ok(run)
    }

    /// Claims run `id` and executes it to its end; returns its history.
    ///
    /// # Errors
    /// Not claimable, store failure.
    pub async fn execute(&self, id: RunId) -> Result<RunDetail, ExecError> {
        let claimed = self
            .store
            .claim_run(&self.config.worker_id, self.config.lease, Some(id))
            .await?
            .ok_or(ExecError::NotClaimable(id))?;
        self.execute_claimed(claimed).await
    }

    /// Claims and executes claimable runs (pending ones, and running ones whose worker died)
    /// until none is left or `limit` ran; returns how many ran.
    ///
    /// # Errors
    /// Store failure.
    pub async fn drain(&self, limit: usize) -> Result<usize, ExecError> {
        let mut ran = 0;
        while ran < limit {
            let Some(claimed) = self
                .store
                .claim_run(&self.config.worker_id, self.config.lease, None)
                .await?
            else {
                break;
            };
            self.execute_claimed(claimed).await?;
            ran += 1;
        }
        Ok(ran)
    }

    /// The worker loop of a long-running server: claims and executes runs one after another,
    /// sleeping `idle` when there is nothing to do. Returns once `cancel` fires, after the step
    /// in progress has finished (the rest of that run is left to the next claim, which resumes
    /// it once the lease lapses). Store failures are logged and retried after `idle`.
    pub async fn work(&self, cancel: CancellationToken, idle: Duration) {
        let span = tracing::info_span!("worker", worker = %self.config.worker_id);
        async {
            while !cancel.is_cancelled() {
                let claimed = tokio::select! {
                    () = cancel.cancelled() => break,
                    claimed = self.store.claim_run(&self.config.worker_id, self.config.lease, None) => claimed,
                };
                match claimed {
                    Ok(Some(claimed)) => {
                        let id = claimed.run.id;
                        if let Err(err) = self.execute_until(claimed, Some(&cancel)).await {
                            tracing::warn!(run_id = %id, error = %err, "run did not finish");
                        }
                    }
                    Ok(None) => {
                        tokio::select! {
                            () = cancel.cancelled() => break,
                            () = tokio::time::sleep(idle) => {}
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "claiming a run failed");
                        tokio::select! {
                            () = cancel.cancelled() => break,
                            () = tokio::time::sleep(idle) => {}
                        }
                    }
                }
            }
        }
        .instrument(span)
        .await;
    }

    /// Renders every step of `flow` for each sample trigger record without calling any action
    /// (at most [`DRY_RUN_MAX_SAMPLES`] samples; the rest are ignored). Earlier steps' outputs
    /// render as `<steps.<id>.output...>` and a condition that reads them is unknown (`None`).
    pub fn dry_run(&self, flow: &Flow, samples: &[Value]) -> Vec<DryRunSample> {
        dry_run::dry_run(
            &self.mapper,
            &self.redactor,
            &self.config.env,
            flow,
            samples,
        )
    }

    /// Executes a claimed run to its end.
    async fn execute_claimed(
        &self,
        claimed: jiraflow_store::ClaimedRun,
    ) -> Result<RunDetail, ExecError> {
        self.execute_until(claimed, None).await
    }

    /// The semaphore bounding calls on connection `name`.
    fn limit_for(&self, name: &str) -> Arc<Semaphore> {
        let permits = self.config.per_connection_concurrency.max(1);
        // A poisoned map only means another task panicked while inserting; its content is
        // still a valid map of semaphores.
        let mut map = self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(name.to_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(permits)))
            .clone()
    }
}
