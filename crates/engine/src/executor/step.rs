//! One step of a run: its condition, its rendered input, its client, the per-connection limit,
//! and the attempts with backoff, each saved to the run history before and after the call.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jiraflow_store::{RunId, StepRecord, StepStatus, WriteLedger};
use serde_json::{Value, json};
use tracing::Instrument;

use super::{ExecError, Executor};
use crate::actions::{self, ActionContext, ActionError};
use crate::flow::StepSpec;
use crate::mapping::{Context, eval_condition, render_input};

/// One step to run, with what an earlier claim recorded of it.
pub(super) struct StepCall<'a> {
    pub(super) run_id: RunId,
    pub(super) index: u32,
    pub(super) spec: &'a StepSpec,
    /// The record an earlier claim left (Started or Retrying: it may have written).
    pub(super) prior: Option<StepRecord>,
    pub(super) ctx: &'a Context,
}

/// How a step ended.
#[derive(Debug)]
pub(super) enum StepEnd {
    /// With this output.
    Succeeded(Value),
    /// Its condition was false.
    Skipped,
    /// For good, with this (redacted) message.
    Failed(String),
}

/// Where a failure came from, as recorded in the step's error `kind`.
fn action_error_kind(err: &ActionError) -> &'static str {
    match err {
        ActionError::Input { .. } => "input",
        ActionError::Jira { .. } => "jira",
        ActionError::Resolve { .. } => "resolve",
        ActionError::Denied { .. } => "denied",
        ActionError::Unavailable { .. } => "unavailable",
        ActionError::Ledger { .. } => "ledger",
        ActionError::Files { .. } => "files",
    }
}

fn elapsed_ms(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl Executor {
    /// Runs one step to its end and returns its final record.
    pub(super) async fn run_step(
        &self,
        call: StepCall<'_>,
    ) -> Result<(StepRecord, StepEnd), ExecError> {
        let span = tracing::info_span!(
            "step",
            step_id = %call.spec.id,
            action = %call.spec.action,
            index = call.index,
        );
        self.run_step_inner(call).instrument(span).await
    }

    async fn run_step_inner(&self, call: StepCall<'_>) -> Result<(StepRecord, StepEnd), ExecError> {
        let StepCall {
            run_id,
            index,
            spec,
            prior,
            ctx,
        } = call;
        // A step an earlier claim left Started or Retrying may have written before the worker
        // died: the action reconciles by write key instead of writing twice.
        let mut maybe_written = prior
            .as_ref()
            .filter(|p| matches!(p.status, StepStatus::Started | StepStatus::Retrying))
            .and_then(|p| p.started_at);
        if maybe_written.is_some() {
            tracing::info!("resuming a step that may have written");
        }
        let mut record = prior.unwrap_or_else(|| StepRecord {
            run_id,
            index,
            step_id: spec.id.clone(),
            action: spec.action.name().to_owned(),
            status: StepStatus::Started,
            attempts: 0,
            input: None,
            output: None,
            error: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
        });

        if let Some(condition) = &spec.condition {
            match eval_condition(&self.mapper, condition, ctx) {
                Ok(true) => {}
                Ok(false) => {
                    let now = now_ms();
                    record.status = StepStatus::Skipped;
                    record.started_at.get_or_insert(now);
                    record.finished_at = Some(now);
                    self.save(&record).await?;
                    tracing::info!("condition is false; step skipped");
                    return Ok((record, StepEnd::Skipped));
                }
                Err(err) => return self.fail_early(record, &err.to_string(), "mapping").await,
            }
        }
        let input = match render_input(&self.mapper, &Value::Object(spec.input.clone()), ctx) {
            Ok(input) => input,
            Err(err) => return self.fail_early(record, &err.to_string(), "mapping").await,
        };
        record.input = Some(self.redactor.value(&input));
        if !spec.action.needs_connection() && spec.connection.is_none() {
            return self.run_local_step(record, spec, input).await;
        }
        let Some(connection) = spec.connection.as_deref() else {
            let message = format!("step {:?} names no connection", spec.id);
            return self.fail_early(record, &message, "connection").await;
        };
        let jira = match self.clients.client(connection).await {
            Ok(jira) => jira,
            Err(err) => {
                return self
                    .fail_early(record, &err.to_string(), "connection")
                    .await;
            }
        };

        let write_key = format!("{run_id}/{}", spec.id);
        let max_attempts = spec.retry.max_attempts.max(1);
        let backoff_ms = spec.retry.backoff_ms();
        let limit = self.limit_for(connection);
        let mut retries: u32 = 0;
        let mut duration_ms = record.duration_ms.unwrap_or(0);
        loop {
            record.attempts += 1;
            record.status = StepStatus::Started;
            let started_at: DateTime<Utc> = *record.started_at.get_or_insert_with(Utc::now);
            // Saved before the call: if the worker dies during it, the next claim knows the
            // step may have written.
            self.save(&record).await?;

            let ledger: &dyn WriteLedger = self.store.as_ref();
            let mut action_ctx = ActionContext::new(&jira, &spec.id)
                .with_ledger(ledger)
                .with_write_key(&write_key, maybe_written);
            if let Some(files) = &self.files {
                action_ctx = action_ctx.with_files(files, Some(run_id));
            }
            let attempt = tracing::info_span!("attempt", attempt = record.attempts);
            let result = async {
                // The semaphore is never closed, so acquiring only waits for a free permit.
                let _permit = limit.acquire().await.ok();
                let began = Instant::now();
                let result = actions::run(spec.action, action_ctx, input.clone()).await;
                (result, elapsed_ms(began))
            }
            .instrument(attempt)
            .await;
            let (result, spent) = result;
            duration_ms = duration_ms.saturating_add(spent);
            record.duration_ms = Some(duration_ms);

            match result {
                Ok(out) => {
                    record.status = StepStatus::Succeeded;
                    record.output = Some(json!({ "outcome": out.outcome, "output": out.output }));
                    record.error = None;
                    record.finished_at = Some(now_ms());
                    self.save(&record).await?;
                    tracing::info!(attempts = record.attempts, "step succeeded");
                    return Ok((record, StepEnd::Succeeded(out.output)));
                }
                Err(err) => {
                    let message = self.redactor.text(&err.to_string());
                    let retryable = err.is_retryable();
                    record.error = Some(json!({
                        "message": message,
                        "retryable": retryable,
                        "kind": action_error_kind(&err),
                    }));
                    if retryable && record.attempts < max_attempts {
                        record.status = StepStatus::Retrying;
                        self.save(&record).await?;
                        let delay = backoff_ms.saturating_mul(1u64 << retries.min(20));
                        tracing::warn!(
                            attempts = record.attempts,
                            delay_ms = delay,
                            error = %message,
                            "step failed; retrying",
                        );
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        retries += 1;
                        // The failed attempt may have written before its answer was lost.
                        maybe_written = Some(started_at);
                        continue;
                    }
                    record.status = StepStatus::Failed;
                    record.finished_at = Some(now_ms());
                    self.save(&record).await?;
                    tracing::warn!(attempts = record.attempts, error = %message, "step failed");
                    return Ok((record, StepEnd::Failed(message)));
                }
            }
        }
    }

    /// Runs a step whose action needs no connection (`delete_file`, on jiraflow's own file
    /// store): one attempt, since it is idempotent and local.
    async fn run_local_step(
        &self,
        mut record: StepRecord,
        spec: &StepSpec,
        input: Value,
    ) -> Result<(StepRecord, StepEnd), ExecError> {
        record.attempts += 1;
        record.status = StepStatus::Started;
        record.started_at.get_or_insert_with(Utc::now);
        self.save(&record).await?;
        let began = Instant::now();
        let result = actions::files::delete_file_in(self.files.as_deref(), &spec.id, input).await;
        record.duration_ms = Some(
            record
                .duration_ms
                .unwrap_or(0)
                .saturating_add(elapsed_ms(began)),
        );
        record.finished_at = Some(now_ms());
        match result {
            Ok(out) => {
                record.status = StepStatus::Succeeded;
                record.output = Some(json!({ "outcome": out.outcome, "output": out.output }));
                record.error = None;
                self.save(&record).await?;
                Ok((record, StepEnd::Succeeded(out.output)))
            }
            Err(err) => {
                let message = self.redactor.text(&err.to_string());
                record.status = StepStatus::Failed;
                record.error = Some(json!({
                    "message": message,
                    "retryable": err.is_retryable(),
                    "kind": action_error_kind(&err),
                }));
                self.save(&record).await?;
                tracing::warn!(error = %message, "step failed");
                Ok((record, StepEnd::Failed(message)))
            }
        }
    }

    /// Records a failure found before any call (mapping, connection): never retried.
    async fn fail_early(
        &self,
        mut record: StepRecord,
        message: &str,
        kind: &str,
    ) -> Result<(StepRecord, StepEnd), ExecError> {
        let message = self.redactor.text(message);
        let now = now_ms();
        record.status = StepStatus::Failed;
        record.started_at.get_or_insert(now);
        record.finished_at = Some(now);
        record.error = Some(json!({ "message": message, "retryable": false, "kind": kind }));
        self.save(&record).await?;
        tracing::warn!(error = %message, kind, "step failed before its call");
        Ok((record, StepEnd::Failed(message)))
    }

    async fn save(&self, record: &StepRecord) -> Result<(), ExecError> {
        self.store
            .save_step(&self.config.worker_id, record.clone())
            .await?;
        Ok(())
    }
}

/// Now, at the store's precision (milliseconds), so a run printed right after it ran matches the
/// same run read back from the store.
fn now_ms() -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(Utc::now(), 3)
}
