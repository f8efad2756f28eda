//! Executing one claimed run: loading the flow version it was created with, renewing the claim
//! while it works, resuming after the steps an earlier claim finished, running the rest in
//! order, and finishing the run with its final status.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiraflow_store::{
    ClaimedRun, RunDetail, RunId, RunRecord, RunStatus, StepRecord, StepStatus, Store,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::step::{StepCall, StepEnd};
use super::{ExecError, Executor};
use crate::flow::{self, AnyConnection, Flow, OnError, StepSpec};
use crate::mapping::{Context, StepResult};

/// Renewals are never closer together than this, however short the lease.
const MIN_RENEW_EVERY: Duration = Duration::from_millis(10);

impl Executor {
    /// Executes a claimed run to its end (or, with `cancel`, until it fires between steps).
    pub(super) async fn execute_until(
        &self,
        claimed: ClaimedRun,
        cancel: Option<&CancellationToken>,
    ) -> Result<RunDetail, ExecError> {
        let run = &claimed.run;
        let span = tracing::info_span!(
            "run",
            run_id = %run.id,
            flow = %run.flow_name,
            version = run.flow_version,
            claim = run.claims,
        );
        let stop = CancellationToken::new();
        let lost = CancellationToken::new();
        let renewal = self.tasks.spawn(
            renew(
                Arc::clone(&self.store),
                run.id,
                self.config.worker_id.clone(),
                self.config.lease,
                stop.clone(),
                lost.clone(),
            )
            .instrument(span.clone()),
        );
        let result = self
            .run_steps(&claimed, cancel, &lost)
            .instrument(span)
            .await;
        stop.cancel();
        // The renewal task only extends the lease; how it ended changes nothing here.
        let _ = renewal.await;
        result
    }

    async fn run_steps(
        &self,
        claimed: &ClaimedRun,
        cancel: Option<&CancellationToken>,
        lost: &CancellationToken,
    ) -> Result<RunDetail, ExecError> {
        let run = &claimed.run;
        let flow = match self.load(run).await? {
            Ok(flow) => flow,
            Err(message) => {
                tracing::warn!(%message, "the run's flow does not load");
                return self
                    .finish(run, RunStatus::Failed, Some(message), Vec::new())
                    .await;
            }
        };
        if !claimed.steps.is_empty() {
            tracing::info!(recorded = claimed.steps.len(), "resuming a run");
        }
        let mut ctx = Context {
            trigger: run.trigger.clone(),
            steps: BTreeMap::new(),
            env: self.config.env.clone(),
        };
        let mut records = Vec::with_capacity(flow.spec.steps.len());
        let mut failure = None;
        for (index, spec) in flow.spec.steps.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let prior = claimed
                .steps
                .iter()
                .find(|s| s.index == index && s.step_id == spec.id)
                .cloned();
            if let Some(done) = prior.as_ref().filter(|s| is_final(s.status)) {
                let end = recorded_end(done);
                records.push(done.clone());
                if let Some(error) = apply(&mut ctx, spec, end) {
                    failure = Some(error);
                    break;
                }
                continue;
            }
            if lost.is_cancelled() {
                return Err(ExecError::NotClaimable(run.id));
            }
            if cancel.is_some_and(CancellationToken::is_cancelled) {
                return Err(ExecError::Interrupted(run.id));
            }
            let (record, end) = self
                .run_step(StepCall {
                    run_id: run.id,
                    index,
                    spec,
                    prior,
                    ctx: &ctx,
                })
                .await?;
            records.push(record);
            if let Some(error) = apply(&mut ctx, spec, end) {
                failure = Some(error);
                break;
            }
        }
        let status = if failure.is_some() {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        };
        self.finish(run, status, failure, records).await
    }

    /// The flow version the run was created with, or why it cannot run.
    async fn load(&self, run: &RunRecord) -> Result<Result<Flow, String>, ExecError> {
        let Some(source) = self
            .store
            .flow_source(&run.flow_name, run.flow_version)
            .await?
        else {
            return Ok(Err(format!(
                "flow {:?} version {} is no longer stored",
                run.flow_name, run.flow_version
            )));
        };
        let name = format!("{} (version {})", run.flow_name, run.flow_version);
        Ok(
            flow::load_flow((name.as_str(), source.as_str()), &AnyConnection)
                .map_err(|errors| format!("flow {:?} does not load: {errors}", run.flow_name)),
        )
    }

    async fn finish(
        &self,
        run: &RunRecord,
        status: RunStatus,
        error: Option<String>,
        steps: Vec<StepRecord>,
    ) -> Result<RunDetail, ExecError> {
        let run = self
            .store
            .finish_run(run.id, &self.config.worker_id, status, error)
            .await?;
        tracing::info!(status = status.as_str(), "run finished");
        Ok(RunDetail { run, steps })
    }
}

fn is_final(status: StepStatus) -> bool {
    matches!(
        status,
        StepStatus::Succeeded | StepStatus::Skipped | StepStatus::Failed
    )
}

/// How a step recorded by an earlier claim ended.
fn recorded_end(record: &StepRecord) -> StepEnd {
    match record.status {
        StepStatus::Succeeded => StepEnd::Succeeded(
            record
                .output
                .as_ref()
                .and_then(|o| o.get("output"))
                .cloned()
                .unwrap_or(Value::Null),
        ),
        StepStatus::Failed => StepEnd::Failed(
            record
                .error
                .as_ref()
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_owned(),
        ),
        StepStatus::Skipped | StepStatus::Started | StepStatus::Retrying => StepEnd::Skipped,
    }
}

/// Makes a finished step's result visible to later templates; returns the run's error when the
/// step failed and its `on_error` stops the run.
fn apply(ctx: &mut Context, spec: &StepSpec, end: StepEnd) -> Option<String> {
    match end {
        StepEnd::Succeeded(output) => {
            ctx.steps.insert(spec.id.clone(), StepResult { output });
            None
        }
        StepEnd::Skipped => None,
        StepEnd::Failed(message) => match spec.on_error {
            OnError::Continue => {
                let output = json!({ "error": message });
                ctx.steps.insert(spec.id.clone(), StepResult { output });
                None
            }
            OnError::Fail => Some(format!(
                "step {:?} ({}) failed: {message}",
                spec.id, spec.action
            )),
        },
    }
}

/// Renews the claim on `id` every third of the lease until `stop` fires; fires `lost` (and
/// stops) when another worker has taken the run over.
async fn renew(
    store: Arc<dyn Store>,
    id: RunId,
    owner: String,
    lease: Duration,
    stop: CancellationToken,
    lost: CancellationToken,
) {
    let every = (lease / 3).max(MIN_RENEW_EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        match store.renew_claim(id, &owner, lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("the run's claim was lost to another worker");
                lost.cancel();
                return;
            }
            // A transient store failure: the lease has two more chances before it lapses.
            Err(err) => tracing::warn!(error = %err, "renewing the run's claim failed"),
        }
    }
}
