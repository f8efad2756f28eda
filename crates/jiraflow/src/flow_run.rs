//! `jiraflow flow run` (a manual run of an applied flow, executed at once) and `jiraflow flow
//! test` (a dry run: every step rendered over sample trigger records, no action called; the
//! samples are the given payloads, or records read from Jira for the trigger).

use std::path::Path;

use anyhow::{Context as _, bail};
use clap::Args;
use jiraflow_engine::connections::ClientSource;
use jiraflow_engine::executor::{DryRunSample, Executor, ExecutorConfig};
use jiraflow_engine::flow::{self, AnyConnection, Flow, TriggerKind};
use jiraflow_jira::JiraClient;
use jiraflow_jira::ops::comments::CommentOrder;
use jiraflow_store::{RunOrigin, RunStatus};
use serde_json::{Value, json};

use crate::data_dir::{CommonArgs, Context};
use crate::output::{self, OutputFormat};
use crate::{flow_cmd, jira_access, payload, runs_cmd};

/// The most sample records `flow test` reads from Jira.
const MAX_SAMPLES: u8 = 5;

/// Options of `jiraflow flow run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Flow name.
    name: String,
    /// The trigger payload: JSON text, or `@FILE`.
    #[arg(long, value_name = "JSON|@FILE")]
    payload: String,
    #[command(flatten)]
    common: CommonArgs,
}

/// Options of `jiraflow flow test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// An applied flow's name, or a flow file.
    flow: String,
    /// A sample trigger payload: JSON text, or `@FILE` (repeatable). Without one, samples are
    /// read from Jira.
    #[arg(long = "payload", value_name = "JSON|@FILE")]
    payloads: Vec<String>,
    /// How many sample records to read from Jira (1 to 5).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=i64::from(MAX_SAMPLES)))]
    samples: u8,
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs `flow run`: enqueues a manual run, executes it, prints it; exit status 1 if it failed.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let trigger = payload::parse("--payload", &args.payload)?;
    let ctx = Context::open(&args.common).await?;
    let result = execute(&ctx, &args.common.data_dir, &args.name, trigger).await;
    ctx.close().await;
    if result? == RunStatus::Failed {
        std::process::exit(1);
    }
    Ok(())
}

async fn execute(
    ctx: &Context,
    data_dir: &Path,
    name: &str,
    trigger: Value,
) -> anyhow::Result<RunStatus> {
    let user = ctx.acting_user().await?;
    let record = flow_cmd::find(ctx, name).await?;
    let loaded = flow::load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    )
    .map_err(|e| anyhow::anyhow!("flow {:?} does not load: {e}", record.name))?;
    jira_access::require_connections(ctx, &user, &loaded.spec).await?;
    let executor = Executor::new(
        ctx.store.clone(),
        jira_access::clients(ctx, Some(user))?,
        ExecutorConfig::default(),
    )
    .with_files(jira_access::files(ctx, data_dir).await?);
    let queued = executor
        .enqueue(&record.name, trigger, RunOrigin::Manual, None)
        .await?;
    let detail = executor.execute(queued.id).await?;
    runs_cmd::print_run(ctx.output, &detail)?;
    Ok(detail.run.status)
}

/// Runs `flow test`.
pub async fn test(args: TestArgs) -> anyhow::Result<()> {
    let mut samples = Vec::with_capacity(args.payloads.len());
    for p in &args.payloads {
        samples.push(payload::parse("--payload", p)?);
    }
    let ctx = Context::open(&args.common).await?;
    let result = dry_run(&ctx, &args, samples).await;
    ctx.close().await;
    let rendered = result?;
    print_samples(args.common.output, &rendered)
}

async fn dry_run(
    ctx: &Context,
    args: &TestArgs,
    mut samples: Vec<Value>,
) -> anyhow::Result<Vec<DryRunSample>> {
    let flow = load(ctx, &args.flow).await?;
    let clients = jira_access::clients(ctx, None)?;
    if samples.is_empty() {
        let user = ctx.acting_user().await?;
        jira_access::require_connections(ctx, &user, &flow.spec).await?;
        let name = &flow.spec.trigger.connection;
        let client = clients.client(name).await?;
        samples = fetch_samples(&client, &flow, usize::from(args.samples))
            .await
            .with_context(|| format!("reading sample records through the connection {name:?}"))?;
        if samples.is_empty() {
            bail!("Jira has no records for this trigger yet; give sample payloads with --payload");
        }
    }
    let executor = Executor::new(ctx.store.clone(), clients, ExecutorConfig::default());
    Ok(executor.dry_run(&flow, &samples))
}

/// A flow file when `arg` names an existing file, else the applied flow of that name.
async fn load(ctx: &Context, arg: &str) -> anyhow::Result<Flow> {
    if Path::new(arg).is_file() {
        return flow::load_flow(Path::new(arg), &AnyConnection).map_err(|e| anyhow::anyhow!("{e}"));
    }
    let record = flow_cmd::find(ctx, arg).await?;
    flow::load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    )
    .map_err(|e| anyhow::anyhow!("flow {:?} does not load: {e}", record.name))
}

/// Up to `n` trigger records read from Jira, newest first, shaped as the trigger delivers them.
async fn fetch_samples(client: &JiraClient, flow: &Flow, n: usize) -> anyhow::Result<Vec<Value>> {
    let trigger = &flow.spec.trigger;
    let order = match trigger.kind {
        TriggerKind::NewIssue | TriggerKind::NewIssueWithFilter => "created DESC",
        TriggerKind::NewOrUpdatedIssue
        | TriggerKind::NewOrUpdatedIssueWithFilter
        | TriggerKind::NewComment => "updated DESC",
    };
    let jql = sample_jql(
        trigger.options.jql.as_deref(),
        trigger.options.project.as_deref(),
        order,
    )?;
    let n_u32 = u32::try_from(n).unwrap_or(u32::from(MAX_SAMPLES));
    let page = client
        .search()
        .jql(jql)
        .fields(["*all"])
        .max_results(n_u32)
        .page(None)
        .await?;
    let mut samples = Vec::new();
    for issue in page.issues.into_iter().take(n) {
        let issue_json = serde_json::to_value(&issue)?;
        if trigger.kind != TriggerKind::NewComment {
            samples.push(json!({ "issue": issue_json }));
            continue;
        }
        let Some(id) = issue.id.clone() else {
            continue;
        };
        let comments = client
            .comments()
            .list(id)
            .order_by(CommentOrder::NewestFirst)
            .max_results(n as u64)
            .send()
            .await?;
        for comment in comments.comments {
            samples
                .push(json!({ "issue": issue_json, "comment": serde_json::to_value(&comment)? }));
            if samples.len() >= n {
                return Ok(samples);
            }
        }
    }
    Ok(samples)
}

/// The trigger's own JQL (or its project) with a newest-first order unless it has one. Jira
/// refuses unbounded searches, so a trigger over the whole site searches `created <= now()`.
fn sample_jql(jql: Option<&str>, project: Option<&str>, order: &str) -> anyhow::Result<String> {
    if let Some(jql) = jql {
        let parsed = jiraflow_jql::parse(jql).map_err(|e| anyhow::anyhow!("trigger JQL: {e}"))?;
        if !parsed.order_by.is_empty() {
            return Ok(jql.to_owned());
        }
        return Ok(format!("({jql}) ORDER BY {order}"));
    }
    Ok(match project {
        Some(key) => format!(
            "project = {} ORDER BY {order}",
            jiraflow_jql::quote_value(key)
        ),
        None => format!("created <= now() ORDER BY {order}"),
    })
}

fn print_samples(format: OutputFormat, samples: &[DryRunSample]) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        return output::json(&samples);
    }
    for (i, sample) in samples.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("sample {}: {}", i + 1, describe(&sample.trigger));
        for step in &sample.steps {
            let condition = match step.condition {
                Some(true) => "runs",
                Some(false) => "skipped (if is false)",
                None => "if depends on earlier steps",
            };
            println!("  step {} ({}): {condition}", step.step_id, step.action);
            if let Some(input) = &step.input {
                let pretty = serde_json::to_string_pretty(input)?;
                for line in pretty.lines() {
                    println!("    {line}");
                }
            }
            if let Some(error) = &step.error {
                println!("    error: {error}");
            }
        }
    }
    Ok(())
}

/// A short name for a sample: the issue key (and comment id), else the payload's start.
fn describe(trigger: &Value) -> String {
    let key = trigger.pointer("/issue/key").and_then(Value::as_str);
    let comment = trigger.pointer("/comment/id").and_then(Value::as_str);
    match (key, comment) {
        (Some(key), Some(comment)) => format!("issue {key}, comment {comment}"),
        (Some(key), None) => format!("issue {key}"),
        _ => {
            let text = trigger.to_string();
            text.chars().take(120).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_searches_keep_the_triggers_filter_and_order_newest_first() {
        assert_eq!(
            sample_jql(
                Some("project = OPS AND issuetype = Bug"),
                None,
                "created DESC"
            )
            .ok(),
            Some("(project = OPS AND issuetype = Bug) ORDER BY created DESC".to_owned())
        );
        assert_eq!(
            sample_jql(Some("project = OPS ORDER BY rank"), None, "created DESC").ok(),
            Some("project = OPS ORDER BY rank".to_owned())
        );
        assert_eq!(
            sample_jql(None, Some("DEMO"), "updated DESC").ok(),
            Some("project = \"DEMO\" ORDER BY updated DESC".to_owned())
        );
        assert_eq!(
            sample_jql(None, None, "updated DESC").ok(),
            Some("created <= now() ORDER BY updated DESC".to_owned())
        );
    }
}
