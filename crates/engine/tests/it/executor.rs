//! The executor against the in-process simulator and a SQLite store: a chain of actions with
//! mapped values, conditions, error handling, retries, redaction, the per-connection limit and
//! dry runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use jiraflow_engine::actions::{self, ActionContext};
use jiraflow_engine::connections::FixedClients;
use jiraflow_engine::executor::{Executor, ExecutorConfig};
use jiraflow_engine::flow::{Action, AnyConnection, load_flow};
use jiraflow_jira::{JiraClient, RetryPolicy, StaticToken};
use jiraflow_sim::{RunningSim, SimConfig};
use jiraflow_store::{
    FlowStore, RunDetail, RunOrigin, RunStatus, RunStore, SaveFlow, SqliteStore, StepRecord,
    StepStatus, Store,
};
use serde_json::{Value, json};

pub(crate) const BOB: &str = "5f1a00000000000000000b02";

/// A simulator, a store in a temporary directory and the admin's client, cleaned up on drop.
pub(crate) struct Harness {
    pub(crate) sim: RunningSim,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) jira: Arc<JiraClient>,
    dir: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Harness {
    pub(crate) async fn new() -> Result<Self> {
        let sim = jiraflow_sim::start(SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            media_listen: ([127, 0, 0, 1], 0).into(),
            ..Default::default()
        })
        .await?;
        // The executor retries; the client's own retries would hide what these tests observe.
        let jira = JiraClient::builder(&sim.info.jira_base_url)
            .token_provider(StaticToken::shared(&sim.info.admin_token))
            .retry_policy(RetryPolicy::none())
            .build()?;
        let dir = std::env::temp_dir().join(format!("jiraflow-exec-{}", uuid::Uuid::new_v4()));
        let (store, _) = SqliteStore::open_data_dir(&dir).await?;
        Ok(Self {
            sim,
            store: Arc::new(store),
            jira: Arc::new(jira),
            dir,
        })
    }

    /// An executor whose connection `acme` is the admin.
    pub(crate) fn executor(&self, tweak: impl FnOnce(&mut ExecutorConfig)) -> Executor {
        let mut config = ExecutorConfig {
            worker_id: "worker-a".to_owned(),
            lease: Duration::from_secs(30),
            ..ExecutorConfig::default()
        };
        tweak(&mut config);
        let clients = FixedClients::new().with("acme", Arc::clone(&self.jira));
        Executor::new(self.store(), Arc::new(clients), config)
    }

    pub(crate) fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store) as Arc<dyn Store>
    }

    /// Applies a flow from its YAML text (the name is read from the text).
    pub(crate) async fn apply(&self, yaml: &str) -> Result<String> {
        let flow = load_flow(("test.yaml", yaml), &AnyConnection)
            .map_err(|e| anyhow!("flow does not load: {e}"))?;
        let name = flow.spec.name.clone();
        self.store
            .save_flow(SaveFlow {
                name: name.clone(),
                source: yaml.to_owned(),
                file_name: "test.yaml".to_owned(),
                enabled: true,
                applied_by: None,
                connections: Vec::new(),
            })
            .await?;
        Ok(name)
    }

    /// Runs a Jira action directly as the admin.
    pub(crate) async fn act(&self, action: Action, input: Value) -> Result<Value> {
        let out = actions::run(action, ActionContext::new(&self.jira, "check"), input).await?;
        Ok(out.output)
    }

    /// The comments of an issue as plain text, oldest first.
    pub(crate) async fn comments(&self, issue: &str) -> Result<Vec<String>> {
        let out = self
            .act(Action::GetComments, json!({"issue": issue}))
            .await?;
        Ok(out["comments"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| c["body_text"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// A flow file with one `new_issue` trigger on `acme` and the given steps (YAML, indented by
/// two spaces).
pub(crate) fn flow(name: &str, steps: &str) -> String {
    format!("name: {name}\ntrigger:\n  type: new_issue\n  connection: acme\nsteps:\n{steps}")
}

pub(crate) fn step<'a>(detail: &'a RunDetail, id: &str) -> Result<&'a StepRecord> {
    detail
        .steps
        .iter()
        .find(|s| s.step_id == id)
        .with_context(|| format!("no record of step {id}: {:#?}", detail.steps))
}

fn output(record: &StepRecord) -> &Value {
    record
        .output
        .as_ref()
        .and_then(|o| o.get("output"))
        .unwrap_or(&Value::Null)
}

fn error_message(record: &StepRecord) -> String {
    record
        .error
        .as_ref()
        .and_then(|e| e["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn run_once(
    h: &Harness,
    exec: &Executor,
    name: &str,
    trigger: Value,
) -> Result<RunDetail> {
    let run = exec.enqueue(name, trigger, RunOrigin::Manual, None).await?;
    assert_eq!(run.status, RunStatus::Pending);
    let detail = exec.execute(run.id).await?;
    // What the executor returns is what the store recorded.
    let stored = h.store.get_run(run.id).await?.context("run not stored")?;
    assert_eq!(stored.run.status, detail.run.status);
    assert_eq!(stored.steps.len(), detail.steps.len());
    Ok(detail)
}

const CHAIN: &str = r#"  - id: create
    action: create_issue
    connection: acme
    input:
      project: DEMO
      issue_type: Task
      summary: "{{ trigger.summary }}"
  - id: comment
    action: create_comment
    connection: acme
    input:
      issue: "{{ steps.create.output.key }}"
      body: "Created {{ steps.create.output.key }} for {{ trigger.requester }}"
  - id: watch
    action: add_watcher
    connection: acme
    input:
      issue: "{{ steps.create.output.key }}"
      user: "{{ trigger.watcher }}"
  - id: second
    action: create_issue
    connection: acme
    input:
      project: DEMO
      issue_type: Task
      summary: "Follow-up of {{ steps.create.output.key }}"
  - id: link
    action: create_issue_link
    connection: acme
    input:
      type: Blocks
      outward: "{{ steps.create.output.key }}"
      inward: "{{ steps.second.output.key }}"
  - id: update
    action: update_issue
    connection: acme
    input:
      issue: "{{ steps.second.output.key }}"
      summary: "Blocked by {{ steps.create.output.key }} (comment {{ steps.comment.output.id }})"
      labels: ["chained", "{{ trigger.label }}"]
"#;

#[tokio::test]
async fn a_chain_of_six_actions_runs_end_to_end_with_mapped_values_and_a_full_history() -> Result<()>
{
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h.apply(&flow("chain", CHAIN)).await?;
    let trigger = json!({"summary": "Printer on fire", "requester": "Ada", "watcher": BOB,
        "label": "ops"});
    let detail = run_once(&h, &exec, &name, trigger).await?;
    assert_eq!(detail.run.status, RunStatus::Succeeded, "{detail:#?}");
    assert_eq!(detail.run.error, None);
    assert_eq!(detail.run.claims, 1);

    let ids: Vec<&str> = detail.steps.iter().map(|s| s.step_id.as_str()).collect();
    assert_eq!(
        ids,
        ["create", "comment", "watch", "second", "link", "update"]
    );
    for (i, s) in detail.steps.iter().enumerate() {
        assert_eq!(s.index as usize, i);
        assert_eq!(s.status, StepStatus::Succeeded, "{s:#?}");
        assert_eq!(s.attempts, 1);
        assert!(s.started_at.is_some() && s.finished_at.is_some(), "{s:#?}");
        assert!(s.started_at <= s.finished_at);
        assert!(s.duration_ms.is_some_and(|d| d >= 0), "{s:#?}");
        assert!(s.error.is_none());
    }

    let first = output(step(&detail, "create")?)["key"]
        .as_str()
        .context("create has no key")?
        .to_owned();
    let second = output(step(&detail, "second")?)["key"]
        .as_str()
        .context("second has no key")?
        .to_owned();
    let comment_id = output(step(&detail, "comment")?)["id"]
        .as_str()
        .context("comment has no id")?
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(
        step(&detail, "create")?
            .output
            .as_ref()
            .map(|o| &o["outcome"]),
        Some(&json!("changed"))
    );
    // The recorded inputs are the rendered ones.
    assert_eq!(
        step(&detail, "comment")?.input,
        Some(json!({"issue": first, "body": format!("Created {first} for Ada")}))
    );
    assert_eq!(
        step(&detail, "link")?.input,
        Some(json!({"type": "Blocks", "outward": first, "inward": second}))
    );
    assert_eq!(
        step(&detail, "update")?
            .input
            .as_ref()
            .map(|i| &i["labels"]),
        Some(&json!(["chained", "ops"]))
    );

    // The simulator's state.
    assert_eq!(
        h.comments(&first).await?,
        [format!("Created {first} for Ada")]
    );
    let watchers = h.jira.watchers(first.as_str()).list().await?;
    let watching = serde_json::to_value(&watchers.watchers)?;
    assert!(
        watching
            .as_array()
            .is_some_and(|w| w.iter().any(|u| u["accountId"] == BOB)),
        "{watching}"
    );
    let issue = h
        .jira
        .issues()
        .get(first.as_str())
        .fields(["issuelinks"])
        .send()
        .await?;
    let links = serde_json::to_value(&issue.fields)?;
    let links = links["issuelinks"].to_string();
    assert!(
        links.contains(&second) && links.contains("Blocks"),
        "{links}"
    );
    let updated = h
        .jira
        .issues()
        .get(second.as_str())
        .fields(["summary", "labels"])
        .send()
        .await?;
    let fields = serde_json::to_value(&updated.fields)?;
    assert_eq!(
        fields["summary"],
        json!(format!("Blocked by {first} (comment {comment_id})"))
    );
    assert_eq!(fields["labels"], json!(["chained", "ops"]));
    Ok(())
}

#[tokio::test]
async fn a_step_whose_condition_is_false_is_skipped_without_a_call() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow(
            "cond",
            r#"  - id: high
    action: create_comment
    connection: acme
    if: trigger.priority == "High"
    input: { issue: DEMO-1, body: "urgent" }
  - id: always
    action: create_comment
    connection: acme
    input: { issue: DEMO-1, body: "noted {{ trigger.priority }}" }
"#,
        ))
        .await?;
    let before = h.comments("DEMO-1").await?.len();
    let detail = run_once(&h, &exec, &name, json!({"priority": "Low"})).await?;
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    let high = step(&detail, "high")?;
    assert_eq!(high.status, StepStatus::Skipped);
    assert_eq!(high.attempts, 0);
    assert_eq!(high.input, None);
    assert_eq!(step(&detail, "always")?.status, StepStatus::Succeeded);
    let comments = h.comments("DEMO-1").await?;
    assert_eq!(comments.len(), before + 1);
    assert_eq!(comments.last().map(String::as_str), Some("noted Low"));
    Ok(())
}

const FAILING: &str = r#"  - id: bad
    action: create_comment
    connection: acme
    on_error: ON_ERROR
    input: { issue: NOPE-1, body: "lost" }
  - id: after
    action: create_comment
    connection: acme
    input: { issue: DEMO-2, body: "previous said {{ steps.bad.output.error }}" }
"#;

#[tokio::test]
async fn on_error_continue_records_the_failure_and_later_steps_see_the_error() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow("cont", &FAILING.replace("ON_ERROR", "continue")))
        .await?;
    let detail = run_once(&h, &exec, &name, json!({})).await?;
    assert_eq!(detail.run.status, RunStatus::Succeeded, "{detail:#?}");
    let bad = step(&detail, "bad")?;
    assert_eq!(bad.status, StepStatus::Failed);
    assert!(error_message(bad).contains("404"), "{bad:#?}");
    let after = step(&detail, "after")?;
    assert_eq!(after.status, StepStatus::Succeeded);
    let body = output(after)["body_text"].as_str().unwrap_or_default();
    assert!(
        body.starts_with("previous said ") && body.contains("NOPE-1"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn on_error_fail_stops_the_run_with_an_error_naming_the_step() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow("stop", &FAILING.replace("ON_ERROR", "fail")))
        .await?;
    let detail = run_once(&h, &exec, &name, json!({})).await?;
    assert_eq!(detail.run.status, RunStatus::Failed);
    let error = detail.run.error.clone().unwrap_or_default();
    assert!(
        error.contains("\"bad\"") && error.contains("404"),
        "{error}"
    );
    assert_eq!(
        detail.steps.len(),
        1,
        "the step after the failure never ran"
    );
    assert!(detail.run.finished_at.is_some());
    Ok(())
}

#[tokio::test]
async fn a_mapping_error_fails_the_step_naming_the_input_path_without_retrying() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow(
            "mapping",
            r#"  - id: create
    action: create_issue
    connection: acme
    input:
      project: DEMO
      issue_type: Task
      summary: "{{ trigger.missing.deep }}"
"#,
        ))
        .await?;
    let detail = run_once(&h, &exec, &name, json!({"present": 1})).await?;
    assert_eq!(detail.run.status, RunStatus::Failed);
    let create = step(&detail, "create")?;
    assert_eq!(create.status, StepStatus::Failed);
    assert_eq!(create.attempts, 0, "nothing was called");
    let error = create.error.clone().unwrap_or_default();
    assert_eq!(error["kind"], json!("mapping"));
    assert_eq!(error["retryable"], json!(false));
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("input.summary") && message.contains("trigger.missing"),
        "{message}"
    );
    assert!(
        detail
            .run
            .error
            .as_deref()
            .is_some_and(|e| e.contains("\"create\"") && e.contains("input.summary")),
        "{:?}",
        detail.run.error
    );
    Ok(())
}

#[tokio::test]
async fn secret_env_values_are_redacted_in_recorded_inputs_but_reach_jira() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|c| {
        c.env = BTreeMap::from([
            ("DEPLOY_TOKEN".to_owned(), "tok-9f8e7d6c".to_owned()),
            ("TEAM".to_owned(), "platform".to_owned()),
        ]);
    });
    let name = h
        .apply(&flow(
            "secret",
            r#"  - id: note
    action: create_comment
    connection: acme
    input: { issue: DEMO-4, body: "{{ env.TEAM }} deploys with {{ env.DEPLOY_TOKEN }}" }
"#,
        ))
        .await?;
    let detail = run_once(&h, &exec, &name, json!({})).await?;
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    let note = step(&detail, "note")?;
    assert_eq!(
        note.input,
        Some(json!({"issue": "DEMO-4", "body": "platform deploys with [redacted]"}))
    );
    assert!(
        h.comments("DEMO-4")
            .await?
            .iter()
            .any(|c| c == "platform deploys with tok-9f8e7d6c")
    );
    Ok(())
}

#[tokio::test]
async fn a_dry_run_renders_placeholders_for_earlier_outputs_and_leaves_their_conditions_open()
-> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|c| {
        c.env = BTreeMap::from([("API_TOKEN".to_owned(), "secret-123456".to_owned())]);
    });
    let yaml = flow(
        "dry",
        r#"  - id: create
    action: create_issue
    connection: acme
    if: trigger.priority == "High"
    input: { project: DEMO, issue_type: Task, summary: "{{ trigger.summary }}" }
  - id: comment
    action: create_comment
    connection: acme
    if: steps.create.output.key != ""
    input:
      issue: "{{ steps.create.output.key }}"
      body: "See {{ steps.create.output.fields.summary }} ({{ env.API_TOKEN }})"
  - id: broken
    action: create_comment
    connection: acme
    input: { issue: "{{ trigger.nothing.here }}", body: x }
"#,
    );
    let flow =
        load_flow(("dry.yaml", yaml.as_str()), &AnyConnection).map_err(|e| anyhow!("{e}"))?;
    let samples: Vec<Value> = (0..7)
        .map(|i| json!({"priority": if i == 0 { "High" } else { "Low" }, "summary": format!("s{i}")}))
        .collect();
    let out = exec.dry_run(&flow, &samples);
    assert_eq!(out.len(), 5, "at most five samples");
    let first = &out[0];
    assert_eq!(first.trigger, samples[0]);
    assert_eq!(first.steps[0].condition, Some(true));
    assert_eq!(out[1].steps[0].condition, Some(false));
    assert_eq!(
        first.steps[0].input,
        Some(json!({"project": "DEMO", "issue_type": "Task", "summary": "s0"}))
    );
    assert_eq!(
        first.steps[1].condition, None,
        "depends on an earlier output"
    );
    assert_eq!(
        first.steps[1].input,
        Some(json!({
            "issue": "<steps.create.output.key>",
            "body": "See <steps.create.output.fields.summary> ([redacted])",
        }))
    );
    assert_eq!(first.steps[1].error, None);
    assert_eq!(first.steps[2].input, None);
    assert!(
        first.steps[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("input.issue")),
        "{:?}",
        first.steps[2]
    );
    // Nothing was called.
    assert!(
        h.comments("DEMO-1")
            .await?
            .iter()
            .all(|c| !c.starts_with("See "))
    );
    Ok(())
}
