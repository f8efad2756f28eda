//! Triggers: the five event sources of flows (new comment, new issue, new issue with filter,
//! new or updated issue, new or updated issue with filter), detected by polling Jira, by
//! webhooks, or both, and turned into runs through a durable inbox (the store's
//! `enqueue_events`: an event's dedupe key is stored in the same transaction that enqueues its
//! run and advances the cursor past it).

#![allow(clippy::todo)] // placeholder bodies while the pollers are written

use std::time::Duration;

use chrono::{DateTime, Utc};
use jiraflow_jira::JiraClient;
use jiraflow_store::{Store, TriggerEvent};

use crate::flow::TriggerSpec;

/// Tuning shared by every trigger.
#[derive(Debug, Clone)]
pub struct TriggerSettings {
    /// How far back each poll re-reads before its cursor, so that what search had not indexed
    /// yet at the last poll is still seen (dedupe drops the repeats).
    pub overlap: Duration,
    /// The newest stretch of time a poll leaves for the next one (search lags behind writes).
    pub settle: Duration,
    /// Issues per search page.
    pub page_size: u32,
    /// Most events one poll enqueues (the cursor stops after the last one taken).
    pub max_events_per_poll: usize,
}

impl Default for TriggerSettings {
    fn default() -> Self {
        Self {
            overlap: Duration::from_secs(120),
            settle: Duration::from_secs(5),
            page_size: 100,
            max_events_per_poll: 1_000,
        }
    }
}

/// Why a trigger could not be built or polled.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The trigger's options are unusable (bad JQL, bad start, ...).
    #[error("trigger of flow {flow:?}: {message}")]
    Invalid {
        /// The flow.
        flow: String,
        /// What is wrong.
        message: String,
    },
    /// Jira refused or failed.
    #[error("trigger of flow {flow:?}: {source}")]
    Jira {
        /// The flow.
        flow: String,
        /// The client's error.
        #[source]
        source: Box<jiraflow_jira::Error>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] jiraflow_store::StoreError),
}

impl TriggerError {
    /// Whether the next poll may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Jira { source, .. } => source.is_retryable(),
            Self::Store(e) => e.is_retryable(),
            Self::Invalid { .. } => false,
        }
    }
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PollReport {
    /// Issues or comments read inside the window.
    pub candidates: usize,
    /// Runs enqueued.
    pub enqueued: usize,
    /// Events dropped as already seen.
    pub duplicates: usize,
    /// Events skipped by the trigger's filters (own changes, fields, new-only).
    pub filtered: usize,
    /// The cursor after the poll (epoch ms).
    pub cursor_ms: Option<i64>,
}

/// A polling trigger of one flow, built from its trigger block.
#[derive(Debug, Clone)]
pub struct PollTrigger {
    flow_name: String,
    spec: TriggerSpec,
    settings: TriggerSettings,
}

impl PollTrigger {
    /// Builds the trigger of `flow_name` from its spec (the JQL is parsed and wrapped here).
    ///
    /// # Errors
    /// [`TriggerError::Invalid`] for unusable options.
    pub fn build(
        flow_name: &str,
        spec: &TriggerSpec,
        settings: TriggerSettings,
    ) -> Result<Self, TriggerError> {
        Ok(Self {
            flow_name: flow_name.to_owned(),
            spec: spec.clone(),
            settings,
        })
    }

    /// The flow.
    pub fn flow_name(&self) -> &str {
        &self.flow_name
    }

    /// The connection the trigger reads through.
    pub fn connection(&self) -> &str {
        &self.spec.connection
    }

    /// The poll interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.spec.options.poll_interval_ms())
    }

    /// Triggers with equal keys read the same Jira data and may share one poll.
    pub fn share_key(&self) -> String {
        todo!()
    }

    /// Polls once: reads the window from the cursor (minus the overlap) to `now` minus the settle
    /// time, builds the events and enqueues them.
    ///
    /// # Errors
    /// Jira or store failures (the cursor does not move).
    pub async fn poll_once(
        &self,
        jira: &JiraClient,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<PollReport, TriggerError> {
        let _ = (jira, store, now, &self.settings);
        todo!()
    }

    /// Builds the event of issue `issue_id` (as of its current state) the way a poll would,
    /// re-reading it through REST v3; `None` when the trigger's filters skip it. Webhook
    /// deliveries go through this so a run's payload is the same in every mode.
    ///
    /// # Errors
    /// Jira failures.
    pub async fn issue_event(
        &self,
        jira: &JiraClient,
        issue_id: &str,
    ) -> Result<Option<TriggerEvent>, TriggerError> {
        let _ = (jira, issue_id);
        todo!()
    }

    /// Builds the event of comment `comment_id` on issue `issue_id`, as a poll would.
    ///
    /// # Errors
    /// Jira failures.
    pub async fn comment_event(
        &self,
        jira: &JiraClient,
        issue_id: &str,
        comment_id: &str,
    ) -> Result<Option<TriggerEvent>, TriggerError> {
        let _ = (jira, issue_id, comment_id);
        todo!()
    }
}
