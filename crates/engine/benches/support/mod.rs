//! What the executor benchmarks share: the one-step `create_issue` flow they run, a typical
//! trigger payload (a reported issue, as an issue trigger delivers it), its step input rendered
//! the way the executor renders it, and a SQLite store in a fresh temporary directory.

// Each benchmark binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use jiraflow_engine::connections::FixedClients;
use jiraflow_engine::executor::{Executor, ExecutorConfig};
use jiraflow_engine::flow::{AnyConnection, load_flow};
use jiraflow_engine::mapping::{Context, Mapper, render_input};
use jiraflow_jira::JiraClient;
use jiraflow_jira::adf::RichText;
use jiraflow_jira::ids::ProjectRef;
use jiraflow_store::{FlowStore, MasterKey, SaveFlow, SqliteStore, Store};
use serde_json::{Value, json};

/// The applied flow's name.
pub const FLOW_NAME: &str = "bench-create-issue";
/// The connection name the flow's step uses.
pub const CONNECTION: &str = "bench";
/// The step id of the flow's only step.
pub const STEP_ID: &str = "create";

/// The flow: one `create_issue` step mirroring the trigger issue into `__PROJECT__`. The input
/// mixes what real flows map: a literal, a typed single expression (the labels list), and text
/// with several expressions (summary, Markdown description).
const FLOW_TEMPLATE: &str = r#"name: bench-create-issue
description: Mirror every reported issue into __PROJECT__ with a link back.
trigger:
  type: new_issue
  connection: bench
steps:
  - id: create
    action: create_issue
    connection: bench
    input:
      project: __PROJECT__
      issue_type: Task
      summary: "[{{ trigger.issue.key }}] {{ trigger.issue.fields.summary }}"
      description: |
        Reported by **{{ trigger.issue.fields.reporter.displayName }}** on {{ trigger.issue.fields.created }}
        (priority {{ trigger.issue.fields.priority.name }}).

        Original: [{{ trigger.issue.key }}]({{ trigger.issue.self }})
      labels: "{{ trigger.issue.fields.labels }}"
"#;

/// The flow's YAML for target project `project`.
pub fn flow_source(project: &str) -> String {
    FLOW_TEMPLATE.replace("__PROJECT__", project)
}

/// A trigger payload shaped like an issue event: `n` makes summaries and keys distinct.
pub fn trigger(n: u64) -> Value {
    json!({
        "issue": {
            "id": (10_000 + n).to_string(),
            "key": format!("SUP-{n}"),
            "self": format!("https://acme.atlassian.net/rest/api/3/issue/{}", 10_000 + n),
            "fields": {
                "summary": format!("Login page times out under load #{n}"),
                "created": "2026-01-17T12:34:00.000+0000",
                "priority": {"id": "2", "name": "High"},
                "reporter": {
                    "accountId": "5f1a00000000000000000b02",
                    "displayName": "Bob Builder",
                    "emailAddress": "bob@acme.example"
                },
                "labels": ["customer-reported", "web"],
                "status": {"id": "10000", "name": "To Do"}
            }
        }
    })
}

/// The flow's step input, as written (templates not yet rendered).
///
/// # Errors
/// When the flow does not load or has no such step (a broken benchmark, not a measurement).
pub fn step_input(project: &str) -> Result<Value> {
    let source = flow_source(project);
    let flow = load_flow((FLOW_NAME, source.as_str()), &AnyConnection)
        .map_err(|e| anyhow!("the benchmark flow does not load: {e}"))?;
    let step = flow
        .spec
        .steps
        .into_iter()
        .find(|s| s.id == STEP_ID)
        .ok_or_else(|| anyhow!("the benchmark flow has no step {STEP_ID:?}"))?;
    Ok(Value::Object(step.input))
}

/// The template context of a run started with `trigger`.
pub fn context(trigger: Value) -> Context {
    Context {
        trigger,
        ..Context::default()
    }
}

/// The step input rendered against `trigger(n)`, as the executor hands it to the action.
///
/// # Errors
/// When rendering fails.
pub fn rendered_input(mapper: &Mapper, input: &Value, n: u64) -> Result<Value> {
    render_input(mapper, input, &context(trigger(n))).map_err(|e| anyhow!("render: {e}"))
}

/// The request the flow's step makes for `rendered`, built directly on the client: the baseline
/// the engine's paths are compared with.
///
/// # Errors
/// The client's error.
pub async fn raw_create(jira: &JiraClient, rendered: &Value) -> Result<()> {
    let text = |key: &str| rendered[key].as_str().unwrap_or_default().to_owned();
    let labels: Vec<String> = rendered["labels"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let created = jira
        .issues()
        .create(
            ProjectRef::new(text("project")),
            text("issue_type"),
            text("summary"),
        )
        .description(RichText::from(rendered["description"].clone()))
        .labels(labels)
        .send()
        .await?;
    std::hint::black_box(created);
    Ok(())
}

/// A SQLite store in a temporary directory that is removed on drop.
pub struct TempStore {
    /// The store.
    pub store: Arc<SqliteStore>,
    dir: PathBuf,
}

impl TempStore {
    /// Opens a fresh store under the system's temporary directory.
    ///
    /// # Errors
    /// When the directory or the database cannot be created.
    pub async fn open() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("jiraflow-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let store = SqliteStore::open(&dir.join("jiraflow.db"), MasterKey::generate())
            .await
            .with_context(|| format!("open a store in {}", dir.display()))?;
        Ok(Self {
            store: Arc::new(store),
            dir,
        })
    }

    /// The directory holding the database.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Applies the benchmark flow targeting `project`.
    ///
    /// # Errors
    /// When the store refuses it.
    pub async fn apply_flow(&self, project: &str) -> Result<()> {
        self.store
            .save_flow(SaveFlow {
                name: FLOW_NAME.to_owned(),
                source: flow_source(project),
                file_name: format!("{FLOW_NAME}.yaml"),
                enabled: true,
                applied_by: None,
                connections: Vec::new(),
            })
            .await
            .context("apply the benchmark flow")?;
        Ok(())
    }

    /// An executor over this store whose `bench` connection is `jira`.
    pub fn executor(&self, jira: JiraClient, concurrency: usize) -> Executor {
        let store: Arc<dyn Store> = self.store.clone();
        let clients = FixedClients::new().with(CONNECTION, Arc::new(jira));
        let config = ExecutorConfig {
            worker_id: "bench-worker".to_owned(),
            lease: Duration::from_secs(300),
            per_connection_concurrency: concurrency.max(1),
            ..ExecutorConfig::default()
        };
        Executor::new(store, Arc::new(clients), config)
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        // Best effort: a leftover directory under /tmp is harmless.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Percentile `p` (0..=1) of sorted microsecond samples, in milliseconds.
pub fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let idx = ((sorted_us.len() - 1) as f64 * p).round() as usize;
    sorted_us[idx.min(sorted_us.len() - 1)] as f64 / 1000.0
}

/// Fails unless a run ended `succeeded`, with the run's own error otherwise.
///
/// # Errors
/// The run's status and error.
pub fn require_succeeded(detail: &jiraflow_store::RunDetail) -> Result<()> {
    let run = &detail.run;
    if run.status != jiraflow_store::RunStatus::Succeeded {
        bail!(
            "run {} ended {:?}: {}; steps: {}",
            run.id,
            run.status,
            run.error.as_deref().unwrap_or("no error recorded"),
            serde_json::to_string(&detail.steps).unwrap_or_default()
        );
    }
    Ok(())
}
