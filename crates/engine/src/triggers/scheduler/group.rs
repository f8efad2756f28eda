//! One poll group: the triggers that share a connection and the same Jira read, polled together
//! on one timer. The task owns the group's pacing (interval, connection budget, backoff after
//! failures) and the pause of its flows while their connection cannot be used.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jiraflow_store::Store;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::budget::Budget;
use super::{Plan, Shared};
use crate::connections::{ClientSource, ConnectionError};
use crate::triggers::{PollGroup, PollReport, TriggerError};

/// A group ready to run.
pub(crate) struct Group {
    /// The triggers' shared key.
    pub(crate) key: String,
    /// The connection every member reads through.
    pub(crate) connection: String,
    /// How often the group polls when all is well (the shortest of its members').
    pub(crate) interval: Duration,
    /// Cap of the backoff after failures, as a multiple of `interval`.
    pub(crate) max_backoff_factor: u32,
    /// The members, polled with one read of Jira.
    pub(crate) poll: PollGroup,
}

/// What the group task needs from its scheduler.
pub(crate) struct GroupContext {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clients: Arc<dyn ClientSource>,
    pub(crate) budget: Arc<Budget>,
    pub(crate) shared: Arc<Shared>,
}

/// Whether the flows of a group are known to be paused in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PauseKnown {
    /// Not read yet (a fresh task after a start or a reload).
    Unknown,
    Paused,
    Running,
}

impl Group {
    /// Polls until `cancel` fires. Cancellation is only observed between polls: a poll in flight
    /// finishes, so its store transaction (events and cursor together) is never cut short.
    pub(crate) async fn run(self, ctx: GroupContext, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        let mut pause = PauseKnown::Unknown;
        let mut due = Instant::now();
        loop {
            self.plan(&ctx, due, failures);
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep_until(due) => {}
            }
            let jira = match ctx.clients.client(&self.connection).await {
                Ok(jira) => {
                    if pause != PauseKnown::Running {
                        self.resume(&ctx).await;
                        pause = PauseKnown::Running;
                    }
                    jira
                }
                Err(ConnectionError::Unusable { reason, .. }) => {
                    if pause != PauseKnown::Paused {
                        self.pause(&ctx, &reason).await;
                        pause = PauseKnown::Paused;
                    }
                    // Checked again every interval: a reconnect resumes the flows on their own.
                    due = Instant::now() + self.interval;
                    continue;
                }
                Err(other) => {
                    failures = failures.saturating_add(1);
                    self.record_failure(&ctx, &other.to_string()).await;
                    due = Instant::now() + self.backoff(failures);
                    continue;
                }
            };
            // Wait for the connection's budget (and any rate-limit pause Jira imposed on it).
            let mut slot = ctx.budget.reserve();
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep_until(slot) => {}
                }
                // A 429 seen by another group while this one waited moves the slot on.
                match ctx.budget.paused_until() {
                    Some(until) if until > slot => slot = until,
                    _ => break,
                }
            }
            match self.poll(&ctx, &jira).await {
                Ok(()) => {
                    failures = 0;
                    due = Instant::now() + self.interval;
                }
                Err(wait) => {
                    failures = failures.saturating_add(1);
                    if let Some(wait) = wait {
                        ctx.budget.pause_for(wait);
                    }
                    due = Instant::now() + self.backoff(failures);
                }
            }
        }
    }

    /// Polls every member once (one shared read of Jira). `Err` when any failed, carrying the
    /// rate-limit wait Jira asked for, if it did. Failures are recorded on the flows here: the
    /// poll leaves that to its caller.
    async fn poll(
        &self,
        ctx: &GroupContext,
        jira: &jiraflow_jira::JiraClient,
    ) -> Result<(), Option<Duration>> {
        let results = match self.poll.poll_once(jira, &*ctx.store, Utc::now()).await {
            Ok(results) => results,
            Err(error) => {
                // The shared read failed: no member's cursor moved, every member failed.
                self.record_failure(ctx, &error.to_string()).await;
                return Err(self.rate_limit_wait(&error));
            }
        };
        let mut failed = false;
        let mut wait: Option<Duration> = None;
        for (flow, result) in results {
            match result {
                Ok(report) => self.note_success(ctx, &flow, &report),
                Err(error) => {
                    failed = true;
                    wait = wait.max(self.rate_limit_wait(&error));
                    tracing::warn!(flow, group = %self.key, %error, "trigger poll failed");
                    self.record_one(ctx, &flow, &error.to_string()).await;
                }
            }
        }
        if failed { Err(wait) } else { Ok(()) }
    }

    /// How long Jira asked the connection to wait, when `error` is a rate limit.
    fn rate_limit_wait(&self, error: &TriggerError) -> Option<Duration> {
        match error {
            TriggerError::Jira { source, .. } if source.is_rate_limited() => {
                Some(source.retry_after().unwrap_or(self.interval))
            }
            _ => None,
        }
    }

    fn note_success(&self, ctx: &GroupContext, flow: &str, report: &PollReport) {
        ctx.shared.note_poll(flow, report);
        if report.enqueued > 0 {
            tracing::info!(
                flow,
                enqueued = report.enqueued,
                duplicates = report.duplicates,
                "trigger enqueued runs"
            );
        }
    }

    /// After `failures` failed attempts in a row: the interval doubled per failure, at most
    /// `max_backoff_factor` times the interval.
    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.min(16));
        let cap = self.interval * self.max_backoff_factor.max(1);
        (self.interval * factor).min(cap)
    }

    fn plan(&self, ctx: &GroupContext, due: Instant, failures: u32) {
        let wait = due.saturating_duration_since(Instant::now());
        let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        for trigger in self.poll.members() {
            ctx.shared
                .update_plan(trigger.flow_name(), |plan: &mut Plan| {
                    plan.next_poll_at = Some(next);
                    plan.consecutive_backoffs = failures;
                });
        }
    }

    async fn pause(&self, ctx: &GroupContext, reason: &str) {
        for trigger in self.poll.members() {
            let flow = trigger.flow_name();
            tracing::warn!(
                flow,
                reason,
                "trigger paused: its connection cannot be used"
            );
            if let Err(error) = ctx
                .store
                .set_trigger_paused(flow, Some(reason.to_owned()))
                .await
            {
                tracing::warn!(flow, %error, "could not record the trigger's pause");
            }
        }
    }

    /// Clears the pause of members that were paused (read from the store the first time, so a
    /// restarted scheduler resumes flows a previous process paused).
    async fn resume(&self, ctx: &GroupContext) {
        for trigger in self.poll.members() {
            let flow = trigger.flow_name();
            let paused = match ctx.store.trigger_state(flow).await {
                Ok(state) => state.is_some_and(|s| s.paused_reason.is_some()),
                Err(error) => {
                    tracing::warn!(flow, %error, "could not read the trigger's state");
                    continue;
                }
            };
            if paused {
                tracing::info!(flow, "trigger resumed: its connection is usable again");
                if let Err(error) = ctx.store.set_trigger_paused(flow, None).await {
                    tracing::warn!(flow, %error, "could not clear the trigger's pause");
                }
            }
        }
    }

    async fn record_failure(&self, ctx: &GroupContext, message: &str) {
        for trigger in self.poll.members() {
            tracing::warn!(
                flow = trigger.flow_name(),
                error = message,
                "trigger poll failed"
            );
            self.record_one(ctx, trigger.flow_name(), message).await;
        }
    }

    async fn record_one(&self, ctx: &GroupContext, flow: &str, message: &str) {
        if let Err(error) = ctx
            .store
            .record_poll_failure(flow, message.to_owned())
            .await
        {
            tracing::warn!(flow, %error, "could not record the poll failure");
        }
    }
}
