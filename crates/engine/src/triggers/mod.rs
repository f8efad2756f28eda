//! Triggers: the five event sources of flows (new comment, new issue, new issue with filter,
//! new or updated issue, new or updated issue with filter), detected by polling Jira, by
//! webhooks, or both, and turned into runs through a durable inbox (the store's
//! `enqueue_events`: an event's dedupe key is stored in the same transaction that enqueues its
//! run and advances the cursor past it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiraflow_jira::JiraClient;
use jiraflow_jira::ids::{CommentId, IssueRef};
use jiraflow_jira::jql::Jql;
use jiraflow_jql::Query;
use jiraflow_store::{Store, TriggerEvent};

use crate::flow::{TriggerKind, TriggerSpec};

pub mod changes;
pub mod comments;
pub mod events;
mod group;
pub mod health;
pub mod poll;
mod recent;
mod replay;
pub mod scheduler;
pub mod webhook;
pub mod window;

pub use group::PollGroup;
pub use recent::RecentWrites;

use events::{CommentCandidate, IssueCandidate, Rules};
use window::Start;

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

/// What a trigger remembers between polls inside one process (never needed for correctness:
/// the cursor and the dedupe keys are in the store).
#[derive(Debug, Default)]
struct Memory {
    /// The connection's own account id, read once through `GET /myself`.
    own: tokio::sync::OnceCell<String>,
    /// The first cursor this process placed for `start: now`: the overlap of the polls right
    /// after it must not reach events from before the trigger started.
    floor: Mutex<Option<i64>>,
    /// Each issue's last reported update (epoch ms), so an update's changes start after it.
    last_seen: Mutex<HashMap<String, i64>>,
}

/// A polling trigger of one flow, built from its trigger block.
#[derive(Debug, Clone)]
pub struct PollTrigger {
    flow_name: String,
    spec: TriggerSpec,
    settings: TriggerSettings,
    filter: Query,
    start: Start,
    fields: Option<Vec<String>>,
    recent: Arc<RecentWrites>,
    memory: Arc<Memory>,
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
        let invalid = |message: String| TriggerError::Invalid {
            flow: flow_name.to_owned(),
            message,
        };
        let options = &spec.options;
        let filter = match (&options.jql, &options.project) {
            (Some(_), _) if !spec.kind.is_filtered() => {
                return Err(invalid(
                    "options.jql is only for the *_with_filter trigger types".to_owned(),
                ));
            }
            (Some(text), _) => {
                let mut query = jiraflow_jira::jql::validate(text).map_err(|e| {
                    invalid(format!(
                        "options.jql:\n{}",
                        jiraflow_jira::jql::render_error(text, &e)
                    ))
                })?;
                // The window supplies the order (time field, then id); the user's is dropped
                // from the syntax tree, never cut out of the text.
                query.order_by.clear();
                query
            }
            (None, _) if spec.kind.is_filtered() => {
                return Err(invalid(
                    "options.jql is required for the *_with_filter trigger types".to_owned(),
                ));
            }
            (None, Some(project)) if !project.trim().is_empty() => Query {
                clause: Some(Jql::field("project").eq(project.trim())),
                order_by: Vec::new(),
            },
            (None, _) => Query::default(),
        };
        let start = Start::parse(options.start.as_deref()).map_err(invalid)?;
        let fields = match &options.fields {
            Some(_) if !spec.kind.fires_on_update() => {
                return Err(invalid(
                    "options.fields only applies to the new_or_updated_issue* types".to_owned(),
                ));
            }
            Some(list) if list.iter().any(|f| f.trim().is_empty()) => {
                return Err(invalid(
                    "options.fields holds an empty field name".to_owned(),
                ));
            }
            Some(list) => Some(list.iter().map(|f| f.trim().to_owned()).collect()),
            None => None,
        };
        if settings.page_size == 0 {
            return Err(invalid(
                "the search page size must be at least 1".to_owned(),
            ));
        }
        Ok(Self {
            flow_name: flow_name.to_owned(),
            spec: spec.clone(),
            settings,
            filter,
            start,
            fields,
            recent: RecentWrites::shared(),
            memory: Arc::default(),
        })
    }

    /// Shares a registry of recent writes (fed by the executor through
    /// [`RecentWrites::note_write`]) so polls reconcile them.
    #[must_use]
    pub fn with_recent_writes(mut self, recent: Arc<RecentWrites>) -> Self {
        self.recent = recent;
        self
    }

    /// The registry of recent writes this trigger reconciles.
    pub fn recent_writes(&self) -> &Arc<RecentWrites> {
        &self.recent
    }

    /// The flow.
    pub fn flow_name(&self) -> &str {
        &self.flow_name
    }

    /// The connection the trigger reads through.
    pub fn connection(&self) -> &str {
        &self.spec.connection
    }

    /// The trigger type.
    pub fn kind(&self) -> TriggerKind {
        self.spec.kind
    }

    /// The settings.
    pub fn settings(&self) -> &TriggerSettings {
        &self.settings
    }

    /// The poll interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.spec.options.poll_interval_ms())
    }

    /// The filter every window is restricted by, normalised (no ORDER BY; empty for the
    /// unbounded types without a project).
    pub fn filter_jql(&self) -> String {
        self.filter.to_string()
    }

    /// Triggers with equal keys read the same Jira data and may share one poll: the
    /// connection, the trigger type and the normalised filter.
    pub fn share_key(&self) -> String {
        let kind = serde_json::to_value(self.spec.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        format!("{}|{kind}|{}", self.spec.connection, self.filter)
    }

    /// Polls once: reads the window from the cursor (minus the overlap) to Jira's now minus the
    /// settle time, builds the events and enqueues them. `now` is the local time, used only if
    /// Jira does not tell its own. A failure leaves the cursor where it was; recording it
    /// (`record_poll_failure`) is the caller's, which also decides on backoff.
    ///
    /// # Errors
    /// Jira or store failures (the cursor does not move).
    pub async fn poll_once(
        &self,
        jira: &JiraClient,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<PollReport, TriggerError> {
        let group = PollGroup::single(self.clone());
        let mut results = group.poll_once(jira, store, now).await?;
        match results.pop() {
            Some((_, result)) => result,
            None => Ok(PollReport::default()),
        }
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
        let own = self.own_account(jira).await?;
        let bean = jira
            .issues()
            .get(IssueRef::new(issue_id))
            .fields(["*all"])
            .send()
            .await
            .map_err(|e| self.jira_error(e))?;
        let Some(issue) = IssueCandidate::from_bean(&bean) else {
            return Ok(None);
        };
        let histories = if self.spec.kind.fires_on_update() {
            jira.changelogs()
                .bulk_fetch([issue.id.clone()])
                .collect()
                .await
                .map_err(|e| self.jira_error(e))?
                .remove(&issue.id)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let updated = issue.updated_ms.unwrap_or_default();
        let overlap = i64::try_from(self.settings.overlap.as_millis()).unwrap_or(i64::MAX);
        let after = self
            .last_seen(&issue.id)
            .unwrap_or_else(|| updated.saturating_sub(overlap));
        let built = events::build_issue(&issue, &histories, after, self.rules(own.as_deref()));
        let event = built.and_then(|b| b.event);
        if event.is_some() && self.spec.kind.fires_on_update() {
            // The next update's changes start after this one, as they do between polls.
            self.note_seen(
                [(issue.id.clone(), updated)],
                updated.saturating_sub(overlap),
            );
        }
        Ok(event)
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
        let own = self.own_account(jira).await?;
        let bean = jira
            .issues()
            .get(IssueRef::new(issue_id))
            .fields(["*all"])
            .send()
            .await
            .map_err(|e| self.jira_error(e))?;
        let comment = jira
            .comments()
            .get(IssueRef::new(issue_id), CommentId::new(comment_id))
            .send()
            .await
            .map_err(|e| self.jira_error(e))?;
        let Some(issue) = IssueCandidate::from_bean(&bean) else {
            return Ok(None);
        };
        let Some(candidate) = CommentCandidate::new(issue, &comment) else {
            return Ok(None);
        };
        Ok(events::build_comment(&candidate, self.rules(own.as_deref())).event)
    }

    /// The connection's account id when own changes are skipped (read once, then cached).
    pub(crate) async fn own_account(
        &self,
        jira: &JiraClient,
    ) -> Result<Option<String>, TriggerError> {
        if !self.spec.options.ignores_own_changes() {
            return Ok(None);
        }
        let id = self
            .memory
            .own
            .get_or_try_init(|| async {
                let me = jira.myself().send().await?;
                Ok::<_, jiraflow_jira::Error>(me.account_id.as_str().to_owned())
            })
            .await
            .map_err(|e| self.jira_error(e))?;
        Ok(Some(id.clone()))
    }

    pub(crate) fn rules<'a>(&'a self, own: Option<&'a str>) -> Rules<'a> {
        Rules {
            kind: self.spec.kind,
            own,
            fields: self.fields.as_deref(),
        }
    }

    pub(crate) fn filter(&self) -> &Query {
        &self.filter
    }

    pub(crate) fn start(&self) -> Start {
        self.start
    }

    pub(crate) fn floor(&self) -> Option<i64> {
        *self
            .memory
            .floor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_floor(&self, at: i64) {
        let mut floor = self
            .memory
            .floor
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        floor.get_or_insert(at);
    }

    fn last_seen(&self, issue_id: &str) -> Option<i64> {
        self.memory
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(issue_id)
            .copied()
    }

    pub(crate) fn last_seen_map(&self) -> HashMap<String, i64> {
        self.memory
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Remembers the updates just handed to the inbox and forgets those older than `keep_from`.
    pub(crate) fn note_seen(&self, seen: impl IntoIterator<Item = (String, i64)>, keep_from: i64) {
        let mut map = self
            .memory
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (id, at) in seen {
            let entry = map.entry(id).or_insert(at);
            *entry = (*entry).max(at);
        }
        map.retain(|_, at| *at >= keep_from);
    }

    pub(crate) fn jira_error(&self, source: jiraflow_jira::Error) -> TriggerError {
        TriggerError::Jira {
            flow: self.flow_name.clone(),
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: &str, options: serde_json::Value) -> TriggerSpec {
        serde_json::from_value(serde_json::json!({
            "type": kind, "connection": "acme", "options": options,
        }))
        .unwrap_or_else(|e| panic!("spec: {e}"))
    }

    fn refusal(kind: &str, options: serde_json::Value) -> String {
        match PollTrigger::build("f", &spec(kind, options), TriggerSettings::default()) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unusable_options_are_refused_naming_the_option_and_the_flow() {
        let bad_jql = refusal(
            "new_issue_with_filter",
            serde_json::json!({"jql": "project = "}),
        );
        assert!(
            bad_jql.contains("\"f\"") && bad_jql.contains("options.jql"),
            "{bad_jql}"
        );
        assert!(refusal("new_issue_with_filter", serde_json::json!({})).contains("required"));
        let start = refusal("new_issue", serde_json::json!({"start": "yesterday"}));
        assert!(start.contains("options.start"), "{start}");
        let fields = refusal("new_issue", serde_json::json!({"fields": ["status"]}));
        assert!(fields.contains("options.fields"), "{fields}");
    }

    #[test]
    fn the_share_key_holds_the_connection_type_and_the_filter_without_its_order() {
        let filtered = spec(
            "new_or_updated_issue_with_filter",
            serde_json::json!({"jql": "project = DEMO OR labels = x ORDER BY priority DESC"}),
        );
        let key = PollTrigger::build("f", &filtered, TriggerSettings::default())
            .map(|t| t.share_key())
            .unwrap_or_default();
        assert_eq!(
            key,
            "acme|new_or_updated_issue_with_filter|project = DEMO OR labels = x"
        );
        let by_project = spec("new_comment", serde_json::json!({"project": "DEMO"}));
        let key = PollTrigger::build("f", &by_project, TriggerSettings::default())
            .map(|t| t.share_key())
            .unwrap_or_default();
        assert_eq!(key, "acme|new_comment|project = DEMO");
    }
}
