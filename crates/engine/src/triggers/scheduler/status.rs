//! What the scheduler shows about each flow's trigger: its in-memory [`Plan`] (interval, the
//! flows a poll is shared with, the next poll, backoff) and [`TriggerStatus`], the store's
//! [`TriggerHealth`] with the connection, the effective interval and the plan added.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jiraflow_store::{FlowRecord, Store, StoreError};
use serde::Serialize;

use super::SchedulerSettings;
use crate::flow::{AnyConnection, Flow, TriggerMode, load_flow};
use crate::triggers::PollReport;
use crate::triggers::health::{TriggerHealth, trigger_health};

/// What the scheduler plans for one flow (in memory; the store holds the rest of its health).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The flow.
    pub flow_name: String,
    /// The connection its trigger reads through.
    pub connection: String,
    /// How events are detected.
    pub mode: TriggerMode,
    /// The interval it is polled at (`None` in webhook mode).
    pub poll_interval_ms: Option<u64>,
    /// The other flows its polls are shared with.
    pub shared_with: Vec<String>,
    /// When the next poll is due (the budget may hold it a little longer).
    pub next_poll_at: Option<DateTime<Utc>>,
    /// Failed polls in a row behind the current backoff.
    pub consecutive_backoffs: u32,
    /// What the last successful poll did.
    pub last_report: Option<PollReport>,
}

/// A flow's trigger health with what scheduling adds to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerStatus {
    /// Mode, last poll, lag, cursor, counts, webhook, pause and last error, from the store.
    #[serde(flatten)]
    pub health: TriggerHealth,
    /// The connection its trigger reads through.
    pub connection: Option<String>,
    /// The interval it is polled at (after the minimum and the hybrid stretch).
    pub poll_interval_ms: Option<u64>,
    /// Why the flow's trigger cannot run at all (the stored flow does not load).
    pub problem: Option<String>,
    /// The running scheduler's plan (only from a running scheduler's handle).
    pub plan: Option<Plan>,
}

/// Builds the trigger status of every flow (or of `only`, case-insensitively) from the store.
///
/// # Errors
/// Store failures.
pub async fn trigger_status(
    store: &dyn Store,
    settings: &SchedulerSettings,
    only: Option<&str>,
) -> Result<Vec<TriggerStatus>, StoreError> {
    let flows = store.list_flows().await?;
    let mut out = Vec::new();
    for health in trigger_health(store, Utc::now()).await? {
        if only.is_some_and(|name| !name.eq_ignore_ascii_case(&health.flow)) {
            continue;
        }
        let mut status = TriggerStatus {
            health,
            connection: None,
            poll_interval_ms: None,
            problem: None,
            plan: None,
        };
        let Some(record) = flows.iter().find(|f| f.name == status.health.flow) else {
            continue;
        };
        match load(record) {
            Ok(flow) => {
                let trigger = &flow.spec.trigger;
                status.connection = Some(trigger.connection.clone());
                let asked = Duration::from_millis(trigger.options.poll_interval_ms());
                status.poll_interval_ms = settings
                    .effective_interval(trigger.options.mode(), asked)
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            }
            Err(problem) => status.problem = Some(problem),
        }
        out.push(status);
    }
    Ok(out)
}

/// Loads a stored flow; the error reads as a trigger problem.
pub(crate) fn load(record: &FlowRecord) -> Result<Flow, String> {
    load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    )
    .map_err(|e| format!("the stored flow does not load: {e}"))
}
