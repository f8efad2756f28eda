//! Records of triggers: each flow's poll cursor and health, its webhook registration, and the
//! identifiers of webhook deliveries already received (so a replayed delivery is dropped).
//!
//! The inbox itself is the runs table: an event becomes a pending run whose dedupe key is unique
//! per flow, written in the same transaction that advances the cursor past it, so an event
//! starts exactly one run whatever crashes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::ids::{ConnectionId, RunId};

/// A flow's trigger state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerState {
    /// The flow.
    pub flow_name: String,
    /// Every event whose time field (epoch ms) is below this instant is in the inbox. `None`
    /// before the first poll (the trigger's `start` option decides where it begins).
    pub cursor_ms: Option<i64>,
    /// Last poll attempt.
    pub last_poll_at: Option<DateTime<Utc>>,
    /// Last successful poll.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last poll's error, cleared by a success.
    pub last_error: Option<String>,
    /// Failed polls since the last success.
    pub consecutive_failures: i64,
    /// When the newest event was enqueued.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Events enqueued as runs, in total.
    pub events_enqueued: i64,
    /// Events seen again (overlap window, webhook + poll) and dropped, in total.
    pub duplicates_dropped: i64,
    /// Why the trigger is paused (its connection needs a reconnect, ...), if it is.
    pub paused_reason: Option<String>,
    /// The dynamic webhook registered for it, in webhook and hybrid modes.
    pub webhook: Option<WebhookRegistration>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A dynamic webhook registered in Jira for a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookRegistration {
    /// Jira's webhook id.
    pub webhook_id: i64,
    /// The connection (OAuth app) it was registered through.
    pub connection_id: ConnectionId,
    /// The JQL filter registered (the subset of the flow's filter Jira accepts).
    pub jql: String,
    /// The events registered (`jira:issue_created`, ...).
    pub events: Vec<String>,
    /// When Jira expires it unless refreshed (30 days after registration or refresh).
    pub expires_at: DateTime<Utc>,
    /// When it was registered or last refreshed.
    pub refreshed_at: DateTime<Utc>,
}

/// One detected event, to become one run.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerEvent {
    /// Unique per flow: `issue:<id>:<updated ms>`, `comment:<id>`, ...
    pub dedupe_key: String,
    /// The run's trigger payload.
    pub payload: Value,
}

/// What `TriggerStore::enqueue_events` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnqueueOutcome {
    /// The runs created, in event order.
    pub enqueued: Vec<RunId>,
    /// Events whose dedupe key the flow had already seen.
    pub duplicates: u64,
}
