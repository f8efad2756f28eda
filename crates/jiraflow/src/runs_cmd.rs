//! `jiraflow runs`: list runs, show one with its steps (inputs, outputs, errors), and `resume`:
//! execute every claimable run, which finishes the runs a crashed process left behind.
//!
//! Listing and showing need no acting user; `resume` does, and needs
//! `manage_integration_connections` because it executes other users' runs with their
//! connections.

use std::path::Path;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use jiraflow_engine::executor::{Executor, ExecutorConfig};
use jiraflow_store::{RunDetail, RunId, RunQuery, RunRecord, RunStatus, StepRecord};
use serde_json::Value;

use crate::data_dir::{CommonArgs, Context};
use crate::jira_access;
use crate::output::{self, OutputFormat};

/// Options of `jiraflow runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: RunsCommand,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// List runs, newest first.
    List {
        /// Only this flow's runs.
        #[arg(long)]
        flow: Option<String>,
        /// Only runs in this status: pending, running, succeeded or failed.
        #[arg(long, value_parser = parse_status)]
        status: Option<RunStatus>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show a run with its steps.
    Show {
        /// Run id.
        id: String,
    },
    /// Delete finished runs older than a number of days, with their steps and the file objects
    /// they own.
    Purge {
        /// Runs that finished more than this many days ago.
        #[arg(long, value_name = "DAYS")]
        older_than_days: u32,
    },
    /// Execute every claimable run (pending, or running with a lapsed claim).
    Resume {
        /// Execute at most this many runs.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
}

fn parse_status(s: &str) -> Result<RunStatus, String> {
    s.parse()
}

/// Runs `jiraflow runs ...`.
pub async fn run(args: RunsArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch(&ctx, &args.common.data_dir, args.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Context, data_dir: &Path, command: RunsCommand) -> anyhow::Result<()> {
    match command {
        RunsCommand::List {
            flow,
            status,
            limit,
        } => {
            let runs = ctx
                .store
                .list_runs(RunQuery {
                    flow_name: flow,
                    status,
                    limit: Some(limit),
                })
                .await?;
            print_runs(ctx.output, &runs)
        }
        RunsCommand::Show { id } => {
            let run_id: RunId = id.trim().parse().map_err(|_| {
                anyhow::anyhow!("{id:?} is not a run id (see `jiraflow runs list`)")
            })?;
            let detail = ctx
                .store
                .get_run(run_id)
                .await?
                .with_context(|| format!("unknown run {id} (see `jiraflow runs list`)"))?;
            print_detail(ctx.output, &detail)
        }
        RunsCommand::Purge { older_than_days } => {
            ctx.admin("purging runs").await?;
            let before = chrono::Utc::now() - chrono::Duration::days(i64::from(older_than_days));
            let purged = jira_access::files(ctx, data_dir)
                .await?
                .purge_finished_runs(before)
                .await?;
            match ctx.output {
                OutputFormat::Json => output::json(&purged),
                OutputFormat::Text => {
                    println!(
                        "purged {} run(s) that finished before {} and {} file object(s) they owned",
                        purged.runs,
                        before.to_rfc3339(),
                        purged.files
                    );
                    Ok(())
                }
            }
        }
        RunsCommand::Resume { limit } => {
            ctx.admin("resuming runs").await?;
            let executor = Executor::new(
                ctx.store.clone(),
                jira_access::clients(ctx, None)?,
                ExecutorConfig::default(),
            )
            .with_files(jira_access::files(ctx, data_dir).await?);
            let ran = executor.drain(limit).await?;
            match ctx.output {
                OutputFormat::Json => output::json(&serde_json::json!({ "executed": ran })),
                OutputFormat::Text => {
                    println!("executed {ran} run(s)");
                    Ok(())
                }
            }
        }
    }
}

fn print_runs(format: OutputFormat, runs: &[RunRecord]) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::json(&runs),
        OutputFormat::Text => {
            let rows: Vec<Vec<String>> = runs
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.flow_name.clone(),
                        r.flow_version.to_string(),
                        r.origin.as_str().to_owned(),
                        r.status.as_str().to_owned(),
                        r.created_at.to_rfc3339(),
                        r.error.clone().map(|e| one_line(&e)).unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "ID", "FLOW", "VERSION", "ORIGIN", "STATUS", "CREATED", "ERROR",
                ],
                &rows,
            );
            Ok(())
        }
    }
}

/// Prints a run: JSON as the whole [`RunDetail`]; text as the run's record and one line per
/// step (status, attempts, duration, error).
pub fn print_run(format: OutputFormat, detail: &RunDetail) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::json(detail),
        OutputFormat::Text => {
            print_header(&detail.run);
            println!();
            let rows: Vec<Vec<String>> = detail.steps.iter().map(step_row).collect();
            output::table(
                &["STEP", "ACTION", "STATUS", "ATTEMPTS", "DURATION", "ERROR"],
                &rows,
            );
            Ok(())
        }
    }
}

/// Prints a run with every step's input, output and error in full.
fn print_detail(format: OutputFormat, detail: &RunDetail) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        return output::json(detail);
    }
    print_header(&detail.run);
    println!("trigger     {}", compact(&detail.run.trigger));
    for step in &detail.steps {
        println!();
        let row = step_row(step);
        println!(
            "step {} ({})  {}  attempts {}  {}",
            step.step_id, step.action, row[2], row[3], row[4]
        );
        for (label, value) in [
            ("input", &step.input),
            ("output", &step.output),
            ("error", &step.error),
        ] {
            if let Some(value) = value {
                println!("  {label}:");
                let pretty = serde_json::to_string_pretty(value)?;
                for line in pretty.lines() {
                    println!("    {line}");
                }
            }
        }
    }
    Ok(())
}

fn print_header(run: &RunRecord) {
    output::record(&[
        ("run", Some(run.id.to_string())),
        (
            "flow",
            Some(format!("{} v{}", run.flow_name, run.flow_version)),
        ),
        ("origin", Some(run.origin.as_str().to_owned())),
        ("status", Some(run.status.as_str().to_owned())),
        ("error", run.error.clone()),
        ("claims", Some(run.claims.to_string())),
        ("created", Some(run.created_at.to_rfc3339())),
        ("started", run.started_at.map(|t| t.to_rfc3339())),
        ("finished", run.finished_at.map(|t| t.to_rfc3339())),
    ]);
}

fn step_row(step: &StepRecord) -> Vec<String> {
    vec![
        step.step_id.clone(),
        step.action.clone(),
        step.status.as_str().to_owned(),
        step.attempts.to_string(),
        step.duration_ms
            .map(|ms| format!("{ms}ms"))
            .unwrap_or_else(|| "-".to_owned()),
        step.error
            .as_ref()
            .map(|e| one_line(e.get("message").and_then(Value::as_str).unwrap_or_default()))
            .unwrap_or_default(),
    ]
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
}
