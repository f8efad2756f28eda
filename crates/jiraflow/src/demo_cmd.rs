//! `jiraflow demo`: starts the same stack as `jiraflow up --sandbox` for its own duration, acts
//! in the simulated Jira as a plain member (Bob: new issues, an "urgent" comment, a plain one),
//! waits (bounded) until the demo flows' runs for that activity are over, prints a summary per
//! flow and exits 0, or 1 when a flow did not fire.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use jiraflow_store::{RunQuery, RunRecord, RunStatus, StepStatus, Store};
use serde_json::{Value, json};

use crate::data_dir::CommonArgs;
use crate::sandbox::DEMO_FLOWS;
use crate::up_cmd::{Instance, UpArgs};

/// Flow that welcomes new issues.
const WELCOME: &str = "demo-welcome-new-issues";
/// Flow that escalates urgent comments.
const ESCALATE: &str = "demo-escalate-urgent-comments";
/// Flow that labels bugs.
const LABEL: &str = "demo-label-bugs";

/// Options of `jiraflow demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address of the demo's HTTP server.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Address of the sandbox simulator on its first start (later starts reuse the saved one).
    #[arg(long, default_value = "127.0.0.1:8090")]
    sandbox_listen: SocketAddr,
    /// Issues to create (the first is a bug).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    issues: u32,
    /// Longest wait for the flows to fire, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// What the demo did in Jira and when.
#[derive(Default)]
struct Activity {
    /// Issue key → when it was created.
    issues: BTreeMap<String, DateTime<Utc>>,
    /// Comment id → when it was added.
    comments: BTreeMap<String, DateTime<Utc>>,
    /// The issue that got the urgent comment.
    urgent_issue: Option<String>,
}

/// One flow's line of the summary.
#[derive(Default)]
struct Row {
    events: usize,
    succeeded: usize,
    failed: usize,
    open: usize,
    actions: usize,
    first_step_after: Option<Duration>,
}

/// Runs `jiraflow demo`.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let up = UpArgs {
        common: args.common.clone(),
        listen: args.listen,
        workers: 2,
        sandbox: true,
        no_sandbox: false,
        sandbox_listen: args.sandbox_listen,
        exit_after: None,
        once: false,
    };
    let instance = Instance::start(&up).await?;
    let result = drive(&instance, &args).await;
    instance.stop().await;
    let fired = result?;
    if fired {
        Ok(())
    } else {
        eprintln!(
            "a demo flow did not fire within {} seconds",
            args.timeout_secs
        );
        std::process::exit(1);
    }
}

async fn drive(instance: &Instance, args: &DemoArgs) -> anyhow::Result<bool> {
    let Some(sandbox) = &instance.sandbox else {
        bail!("the demo needs the sandbox, which did not start");
    };
    let store = instance.state.store().clone();
    let info = &sandbox.sim.info;
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    println!(
        "jiraflow demo: server {}, simulator {}",
        instance.base_url, info.site_url
    );
    let flows = demo_flow_names();
    for flow in &flows {
        match store.get_flow(flow).await? {
            Some(record) if record.enabled => {}
            Some(_) => bail!(
                "the demo flow {flow:?} is disabled; enable it with `jiraflow flow enable {flow}`"
            ),
            None => bail!("the demo flow {flow:?} is not applied"),
        }
    }
    // Triggers start at "now" on their first poll: activity before it would not count.
    wait_for_first_polls(store.as_ref(), &flows, deadline).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let token = member_token(&http, &info.sim_admin_url).await?;
    let jira = Jira {
        http,
        base: info.jira_base_url.clone(),
        token,
    };
    let activity = act(&jira, args.issues).await?;
    println!(
        "created {} issue(s) and {} comment(s) in DEMO as Bob; waiting for the flows",
        activity.issues.len(),
        activity.comments.len()
    );
    let rows = loop {
        let rows = summarize(store.as_ref(), &activity).await?;
        let welcome_done = rows
            .get(WELCOME)
            .is_some_and(|r| r.events >= activity.issues.len() && r.open == 0);
        let escalate_done = rows
            .get(ESCALATE)
            .is_some_and(|r| r.events >= activity.comments.len() && r.open == 0);
        let label_done = rows
            .get(LABEL)
            .is_some_and(|r| r.events >= 1 && r.open == 0);
        if (welcome_done && escalate_done && label_done) || Instant::now() >= deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    print_summary(&rows);
    if let Some(key) = &activity.urgent_issue {
        let priority = jira.priority(key).await.unwrap_or_else(|_| "?".to_owned());
        println!("{key} priority is now {priority}");
    }
    Ok(flows
        .iter()
        .all(|f| rows.get(f.as_str()).is_some_and(|r| r.succeeded > 0)))
}

fn demo_flow_names() -> Vec<String> {
    DEMO_FLOWS
        .iter()
        .filter_map(|(file, text)| {
            jiraflow_engine::flow::load_flow((*file, *text), &jiraflow_engine::flow::AnyConnection)
                .ok()
                .map(|f| f.spec.name)
        })
        .collect()
}

async fn wait_for_first_polls(
    store: &dyn Store,
    flows: &[String],
    deadline: Instant,
) -> anyhow::Result<()> {
    loop {
        let states = store.list_trigger_states().await?;
        let ready = flows.iter().all(|f| {
            states
                .iter()
                .any(|s| s.flow_name.eq_ignore_ascii_case(f) && s.cursor_ms.is_some())
        });
        if ready {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("the demo flows' triggers did not poll before the timeout");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A token for Bob (a plain member), minted by the simulator's admin API.
async fn member_token(http: &reqwest::Client, admin_url: &str) -> anyhow::Result<String> {
    let answer: Value = http
        .post(format!("{admin_url}/tokens"))
        .json(&json!({ "accountId": jiraflow_sim::seed::MEMBER_ACCOUNT }))
        .send()
        .await
        .context("minting a token for Bob")?
        .error_for_status()
        .context("minting a token for Bob")?
        .json()
        .await?;
    answer["accessToken"]
        .as_str()
        .map(str::to_owned)
        .context("the simulator's token answer has no accessToken")
}

struct Jira {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Jira {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let answer = self
            .http
            .post(format!("{}/rest/api/3/{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path} answered {status}: {body}");
        }
        Ok(body)
    }

    async fn priority(&self, key: &str) -> anyhow::Result<String> {
        let issue: Value = self
            .http
            .get(format!(
                "{}/rest/api/3/issue/{key}?fields=priority",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(issue["fields"]["priority"]["name"]
            .as_str()
            .unwrap_or("?")
            .to_owned())
    }
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

/// Bob's activity: issues (the first a bug), an urgent comment on the first, a plain one on the
/// second (or the first again).
async fn act(jira: &Jira, issues: u32) -> anyhow::Result<Activity> {
    let mut activity = Activity::default();
    let mut keys = Vec::new();
    for i in 0..issues {
        let (kind, summary) = if i == 0 {
            ("Bug", "Checkout fails with a blank page")
        } else {
            ("Task", "Update the onboarding checklist")
        };
        let created = jira
            .post(
                "issue",
                json!({"fields": {
                    "project": {"key": "DEMO"},
                    "issuetype": {"name": kind},
                    "summary": format!("{summary} (demo {})", i + 1),
                }}),
            )
            .await?;
        let key = created["key"]
            .as_str()
            .context("the created issue has no key")?
            .to_owned();
        activity.issues.insert(key.clone(), Utc::now());
        keys.push(key);
    }
    let urgent = keys[0].clone();
    let plain = keys.get(1).cloned().unwrap_or_else(|| urgent.clone());
    for (key, text) in [
        (&urgent, "This is URGENT: customers cannot pay."),
        (&plain, "I can take this one next week."),
    ] {
        let comment = jira
            .post(
                &format!("issue/{key}/comment"),
                json!({ "body": adf(text) }),
            )
            .await?;
        if let Some(id) = comment["id"].as_str() {
            activity.comments.insert(id.to_owned(), Utc::now());
        }
    }
    activity.urgent_issue = Some(urgent);
    Ok(activity)
}

/// The runs of each demo flow that the activity started.
async fn summarize(store: &dyn Store, activity: &Activity) -> anyhow::Result<HashMap<String, Row>> {
    let mut rows = HashMap::new();
    for flow in [WELCOME, ESCALATE, LABEL] {
        let runs = store
            .list_runs(RunQuery {
                flow_name: Some(flow.to_owned()),
                limit: Some(200),
                ..RunQuery::default()
            })
            .await?;
        let mut row = Row::default();
        for run in runs {
            let Some(at) = event_time(&run, activity) else {
                continue;
            };
            row.events += 1;
            match run.status {
                RunStatus::Succeeded => row.succeeded += 1,
                RunStatus::Failed => row.failed += 1,
                RunStatus::Pending | RunStatus::Running => row.open += 1,
            }
            if let Some(detail) = store.get_run(run.id).await? {
                row.actions += detail
                    .steps
                    .iter()
                    .filter(|s| s.status == StepStatus::Succeeded)
                    .count();
                let first = detail.steps.iter().filter_map(|s| s.started_at).min();
                if let Some(first) = first
                    && let Ok(after) = (first - at).to_std()
                {
                    row.first_step_after =
                        Some(row.first_step_after.map_or(after, |d| d.min(after)));
                }
            }
        }
        rows.insert(flow.to_owned(), row);
    }
    Ok(rows)
}

/// When the demo did what started `run`, if the demo started it.
fn event_time(run: &RunRecord, activity: &Activity) -> Option<DateTime<Utc>> {
    if let Some(id) = run.trigger["comment"]["id"].as_str() {
        return activity.comments.get(id).copied();
    }
    let key = run.trigger["issue"]["key"].as_str()?;
    activity.issues.get(key).copied()
}

fn print_summary(rows: &HashMap<String, Row>) {
    println!();
    println!(
        "{:<32} {:>6} {:>9} {:>6} {:>7} {:>16}",
        "FLOW", "EVENTS", "SUCCEEDED", "FAILED", "ACTIONS", "FIRST STEP AFTER"
    );
    for flow in [WELCOME, ESCALATE, LABEL] {
        let empty = Row::default();
        let r = rows.get(flow).unwrap_or(&empty);
        println!(
            "{:<32} {:>6} {:>9} {:>6} {:>7} {:>16}",
            flow,
            r.events,
            r.succeeded,
            r.failed,
            r.actions,
            r.first_step_after
                .map_or_else(|| "-".to_owned(), |d| format!("{:.1}s", d.as_secs_f64())),
        );
    }
}
