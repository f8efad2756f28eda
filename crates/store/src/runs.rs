//! Records of the flow engine: applied flows (their YAML source and version), runs with their
//! step history, and the write ledger that makes upserts and retried creates idempotent.
//!
//! The store keeps these as data (JSON values and strings); it does not know the flow format.
//! The engine parses a flow's `source` and interprets steps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{ConnectionId, RunId, UserId};

/// An applied flow: the YAML it was applied from and whether its trigger runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRecord {
    /// Unique name (case-insensitive), from the flow file.
    pub name: String,
    /// Starts at 1, bumped by every apply that changes the source.
    pub version: i64,
    /// The flow file's YAML text, exactly as applied.
    pub source: String,
    /// The file name it was applied from (for error messages).
    pub file_name: String,
    /// Whether the trigger runs. Manual runs are allowed either way.
    pub enabled: bool,
    /// Who applied it last.
    pub applied_by: Option<UserId>,
    /// First apply.
    pub created_at: DateTime<Utc>,
    /// Last apply or enable/disable.
    pub updated_at: DateTime<Utc>,
}

/// What `FlowStore::save_flow` writes.
#[derive(Debug, Clone)]
pub struct SaveFlow {
    /// The flow's name.
    pub name: String,
    /// The YAML text.
    pub source: String,
    /// The file name it came from.
    pub file_name: String,
    /// Whether the trigger runs.
    pub enabled: bool,
    /// Who applies it.
    pub applied_by: Option<UserId>,
    /// The connections the flow uses: the flow's references are replaced by these in the same
    /// transaction (so a connection in use cannot be deleted).
    pub connections: Vec<ConnectionId>,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker.
    Pending,
    /// A worker holds its lease and is executing steps.
    Running,
    /// Every step succeeded, was skipped or failed with `on_error: continue`.
    Succeeded,
    /// A step failed and stopped the run.
    Failed,
}

impl RunStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

impl std::str::FromStr for RunStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "running" => Ok(Self::Running),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            other => Err(format!(
                "unknown run status {other:?} (pending, running, succeeded, failed)"
            )),
        }
    }
}

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOrigin {
    /// By the flow's trigger.
    Trigger,
    /// By hand (`jiraflow flow run --payload`, the API).
    Manual,
}

impl RunOrigin {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Manual => "manual",
        }
    }
}

/// A run of a flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Run id.
    pub id: RunId,
    /// The flow's name.
    pub flow_name: String,
    /// The flow version the run executes (steps are taken from that version's source).
    pub flow_version: i64,
    /// Trigger or manual.
    pub origin: RunOrigin,
    /// The trigger payload (the issue or comment that started it, or the manual payload).
    pub trigger: Value,
    /// The event's dedupe key, if it came from a trigger: an event starts exactly one run.
    pub dedupe_key: Option<String>,
    /// Pending, running, succeeded or failed.
    pub status: RunStatus,
    /// Why the run failed.
    pub error: Option<String>,
    /// How many times a worker has claimed it (more than 1 after a crash and resume).
    pub claims: i64,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When a worker first claimed it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final status.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What `RunStore::create_run` writes.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// The flow's name (must exist).
    pub flow_name: String,
    /// The flow version to execute.
    pub flow_version: i64,
    /// Trigger or manual.
    pub origin: RunOrigin,
    /// The payload.
    pub trigger: Value,
    /// For trigger events: unique per flow. A second run with the same key is refused with
    /// `StoreError::Duplicate` and nothing is written.
    pub dedupe_key: Option<String>,
}

/// Filters of `RunStore::list_runs`.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// Only this flow's runs.
    pub flow_name: Option<String>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// At most this many (newest first); the store caps it at 1,000.
    pub limit: Option<u32>,
}

/// Where a step is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// The action was called and its outcome is not recorded yet: after a crash the step may
    /// have written, so it is reconciled before it is repeated.
    Started,
    /// Waiting for a retry after a retryable failure.
    Retrying,
    /// The action succeeded.
    Succeeded,
    /// The `if` condition was false.
    Skipped,
    /// The action failed for good.
    Failed,
}

impl StepStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Retrying => "retrying",
            Self::Succeeded => "succeeded",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

impl std::str::FromStr for StepStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "started" => Ok(Self::Started),
            "retrying" => Ok(Self::Retrying),
            "succeeded" => Ok(Self::Succeeded),
            "skipped" => Ok(Self::Skipped),
            "failed" => Ok(Self::Failed),
            other => Err(format!("unknown step status {other:?}")),
        }
    }
}

/// One step of a run, as recorded (saved again after every change).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// The run.
    pub run_id: RunId,
    /// Position in the flow (0-based).
    pub index: u32,
    /// The step id from the flow.
    pub step_id: String,
    /// The action name.
    pub action: String,
    /// Started, retrying, succeeded, skipped or failed.
    pub status: StepStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// The rendered input, secrets redacted.
    pub input: Option<Value>,
    /// The action's output (`{"outcome": ..., "output": ...}`).
    pub output: Option<Value>,
    /// The last error: `{"message": ..., "retryable": ...}`.
    pub error: Option<Value>,
    /// First attempt.
    pub started_at: Option<DateTime<Utc>>,
    /// Final outcome.
    pub finished_at: Option<DateTime<Utc>>,
    /// Time spent in the action over all attempts, in milliseconds.
    pub duration_ms: Option<i64>,
}

/// A run with its steps, in flow order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: RunRecord,
    /// Its steps so far.
    pub steps: Vec<StepRecord>,
}

/// A run a worker holds, until `lease_expires_at` unless renewed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRun {
    /// The run (status `running`).
    pub run: RunRecord,
    /// Steps recorded by earlier claims (empty on the first).
    pub steps: Vec<StepRecord>,
    /// The worker that holds it.
    pub owner: String,
    /// When the claim lapses.
    pub lease_expires_at: DateTime<Utc>,
}

/// Identifies one write whose effect must happen once: a Jira site (the client's API base), a
/// kind (`issue`, `comment`, `step`), a scope inside the site (a project key, an issue id) and the
/// caller's key (an external id, or `run-id/step-id` for a step's create).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LedgerKey {
    /// The Jira site (API base URL).
    pub site: String,
    /// What is written.
    pub kind: String,
    /// Where (project key, issue id, ...).
    pub scope: String,
    /// The caller's key.
    pub key: String,
}

/// What the ledger knows about a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LedgerEntry {
    /// A create was sent at `attempt_started_at` and its outcome is unknown: before creating
    /// again, look for what it may have written (created at or after that instant).
    Pending {
        /// When the create was sent.
        attempt_started_at: DateTime<Utc>,
    },
    /// The write happened: `jira_id` is what it created (issue id, comment id).
    Committed {
        /// The Jira id.
        jira_id: String,
        /// When it was recorded.
        recorded_at: DateTime<Utc>,
    },
}
