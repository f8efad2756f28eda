//! Trigger health for the CLI (`jiraflow trigger health`) and the API: per flow, its mode, the
//! last poll, the lag behind Jira (now minus the cursor), the webhook and its expiry, why it is
//! paused and its last error, built from the store's trigger states and flows.

use chrono::{DateTime, Utc};
use jiraflow_store::{FlowRecord, Store, StoreError, TriggerState};
use serde::Serialize;

use crate::flow::{AnyConnection, TriggerMode, load_flow};

/// The health of one flow's trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerHealth {
    /// The flow.
    pub flow: String,
    /// Whether the trigger runs.
    pub enabled: bool,
    /// How it detects events; `None` when the stored flow no longer loads.
    pub mode: Option<TriggerMode>,
    /// Last poll attempt.
    pub last_poll_at: Option<DateTime<Utc>>,
    /// Last successful poll.
    pub last_success_at: Option<DateTime<Utc>>,
    /// How far the cursor is behind `now`, in milliseconds (`None` before the first poll).
    pub lag_ms: Option<i64>,
    /// The cursor (epoch ms).
    pub cursor_ms: Option<i64>,
    /// The registered webhook's id (webhook and hybrid modes).
    pub webhook_id: Option<i64>,
    /// When Jira expires the webhook unless it is refreshed.
    pub webhook_expires_at: Option<DateTime<Utc>>,
    /// Whether the webhook has expired (deliveries stopped; the registrar re-creates it).
    pub webhook_expired: bool,
    /// Why the trigger is paused, if it is.
    pub paused_reason: Option<String>,
    /// The last poll error, cleared by a success.
    pub last_error: Option<String>,
    /// Failed polls since the last success.
    pub consecutive_failures: i64,
    /// When the newest event was enqueued.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Events enqueued as runs, in total.
    pub events_enqueued: i64,
    /// Events dropped as already seen, in total.
    pub duplicates_dropped: i64,
}

impl TriggerHealth {
    /// The health of `flow` from its trigger state (`None` before its first poll).
    pub fn build(flow: &FlowRecord, state: Option<&TriggerState>, now: DateTime<Utc>) -> Self {
        let mode = load_flow(
            (flow.file_name.as_str(), flow.source.as_str()),
            &AnyConnection,
        )
        .ok()
        .map(|f| f.spec.trigger.options.mode());
        let webhook = state.and_then(|s| s.webhook.as_ref());
        let cursor_ms = state.and_then(|s| s.cursor_ms);
        Self {
            flow: flow.name.clone(),
            enabled: flow.enabled,
            mode,
            last_poll_at: state.and_then(|s| s.last_poll_at),
            last_success_at: state.and_then(|s| s.last_success_at),
            lag_ms: cursor_ms.map(|c| (now.timestamp_millis() - c).max(0)),
            cursor_ms,
            webhook_id: webhook.map(|w| w.webhook_id),
            webhook_expires_at: webhook.map(|w| w.expires_at),
            webhook_expired: webhook.is_some_and(|w| w.expires_at <= now),
            paused_reason: state.and_then(|s| s.paused_reason.clone()),
            last_error: state.and_then(|s| s.last_error.clone()),
            consecutive_failures: state.map_or(0, |s| s.consecutive_failures),
            last_event_at: state.and_then(|s| s.last_event_at),
            events_enqueued: state.map_or(0, |s| s.events_enqueued),
            duplicates_dropped: state.map_or(0, |s| s.duplicates_dropped),
        }
    }
}

/// The health of every flow's trigger, by flow name.
///
/// # Errors
/// Store failures.
pub async fn trigger_health(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<Vec<TriggerHealth>, StoreError> {
    let flows = store.list_flows().await?;
    let states = store.list_trigger_states().await?;
    Ok(flows
        .iter()
        .map(|flow| {
            let state = states
                .iter()
                .find(|s| s.flow_name.eq_ignore_ascii_case(&flow.name));
            TriggerHealth::build(flow, state, now)
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use jiraflow_store::{ConnectionId, WebhookRegistration};

    use super::*;

    fn flow(mode: &str) -> FlowRecord {
        let at = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
        FlowRecord {
            name: "triage".to_owned(),
            version: 1,
            source: format!(
                "name: triage\ntrigger:\n  type: new_issue\n  connection: acme\n  options:\n    \
                 project: DEMO\n    mode: {mode}\nsteps: []\n"
            ),
            file_name: "triage.yaml".to_owned(),
            enabled: true,
            applied_by: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn health_reports_lag_from_the_cursor_and_the_webhook_expiry() {
        let now = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
        let state = TriggerState {
            flow_name: "triage".to_owned(),
            cursor_ms: Some(now.timestamp_millis() - 90_000),
            last_poll_at: Some(now),
            last_success_at: Some(now),
            last_error: None,
            consecutive_failures: 0,
            last_event_at: None,
            events_enqueued: 3,
            duplicates_dropped: 1,
            paused_reason: None,
            webhook: Some(WebhookRegistration {
                webhook_id: 7,
                connection_id: ConnectionId::new(),
                jql: "project = DEMO".to_owned(),
                events: vec!["jira:issue_created".to_owned()],
                expires_at: now - chrono::Duration::days(1),
                refreshed_at: now - chrono::Duration::days(31),
            }),
            updated_at: now,
        };
        let health = TriggerHealth::build(&flow("hybrid"), Some(&state), now);
        assert_eq!(health.mode, Some(TriggerMode::Hybrid));
        assert_eq!(health.lag_ms, Some(90_000));
        assert_eq!(health.webhook_id, Some(7));
        assert!(health.webhook_expired);
        assert_eq!(health.events_enqueued, 3);
    }

    #[test]
    fn a_flow_never_polled_has_no_lag_and_no_webhook() {
        let now = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
        let health = TriggerHealth::build(&flow("poll"), None, now);
        assert_eq!(health.mode, Some(TriggerMode::Poll));
        assert_eq!((health.lag_ms, health.webhook_id), (None, None));
        assert!(!health.webhook_expired);
    }
}
