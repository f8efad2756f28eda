//! `jiraflow trigger`: the health of flows' triggers (`status`), one poll now (`poll`),
//! re-emitting a window of events (`replay`) and moving a trigger's cursor (`reset`).
//!
//! Showing health needs no acting user. Polling, replaying and resetting need one who may use
//! the trigger's connection: they read Jira through it or change what it will read next.

use anyhow::{Context as _, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use jiraflow_engine::connections::ClientSource;
use jiraflow_engine::flow::{self, AnyConnection, Flow};
use jiraflow_engine::triggers::scheduler::{SchedulerSettings, TriggerStatus, trigger_status};
use jiraflow_engine::triggers::{PollReport, PollTrigger, TriggerSettings};
use jiraflow_jira::JiraClient;
use serde::Serialize;

use crate::data_dir::{CommonArgs, Context};
use crate::output::{self, OutputFormat};
use crate::{flow_cmd, jira_access};

/// Options of `jiraflow trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: TriggerCommand,
}

#[derive(Debug, Subcommand)]
enum TriggerCommand {
    /// Show the health of every flow's trigger, or of one: mode, last poll, lag, cursor,
    /// counts, webhook, pause and last error.
    Status {
        /// Only this flow.
        flow: Option<String>,
    },
    /// Poll a flow's trigger once now and print what it did.
    Poll {
        /// Flow name.
        flow: String,
    },
    /// Re-emit the events of a time window; events already seen are dropped unless `--force`.
    Replay {
        /// Flow name.
        flow: String,
        /// Start of the window (RFC 3339, e.g. 2026-01-31T09:00:00Z).
        #[arg(long, value_parser = parse_instant)]
        from: DateTime<Utc>,
        /// End of the window (RFC 3339).
        #[arg(long, value_parser = parse_instant)]
        to: DateTime<Utc>,
        /// Start runs even for events that already started one.
        #[arg(long)]
        force: bool,
    },
    /// Set where a trigger's next poll starts: `now`, an RFC 3339 instant, or (without
    /// `--start`) the flow's own `start` option again.
    Reset {
        /// Flow name.
        flow: String,
        /// `now` or an RFC 3339 instant.
        #[arg(long, value_name = "now|RFC3339", value_parser = parse_start)]
        start: Option<DateTime<Utc>>,
    },
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is not an RFC 3339 instant like 2026-01-31T09:00:00Z ({e})"))
}

fn parse_start(text: &str) -> Result<DateTime<Utc>, String> {
    if text.trim().eq_ignore_ascii_case("now") {
        Ok(Utc::now())
    } else {
        parse_instant(text).map_err(|e| format!("{e}; or write `now`"))
    }
}

/// Runs `jiraflow trigger ...`.
pub async fn run(args: TriggerArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch(&ctx, args.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Context, command: TriggerCommand) -> anyhow::Result<()> {
    match command {
        TriggerCommand::Status { flow } => {
            if let Some(name) = &flow {
                flow_cmd::find(ctx, name).await?;
            }
            let all =
                trigger_status(&*ctx.store, &SchedulerSettings::default(), flow.as_deref()).await?;
            print_status(ctx.output, &all, flow.is_some())
        }
        TriggerCommand::Poll { flow } => {
            let (trigger, jira) = open_trigger(ctx, &flow).await?;
            let report = trigger
                .poll_once(&jira, &*ctx.store, Utc::now())
                .await
                .with_context(|| format!("polling flow {flow:?}"))?;
            print_report(ctx.output, trigger.flow_name(), "polled", &report)
        }
        TriggerCommand::Replay {
            flow,
            from,
            to,
            force,
        } => {
            if from >= to {
                bail!(
                    "--from ({}) must be before --to ({})",
                    rfc3339(from),
                    rfc3339(to)
                );
            }
            let (trigger, jira) = open_trigger(ctx, &flow).await?;
            let report = trigger
                .replay(&jira, &*ctx.store, from, to, force)
                .await
                .with_context(|| format!("replaying flow {flow:?}"))?;
            print_report(ctx.output, trigger.flow_name(), "replayed", &report)
        }
        TriggerCommand::Reset { flow, start } => {
            let user = ctx.acting_user().await?;
            let record = flow_cmd::find(ctx, &flow).await?;
            let loaded = load(&record)?;
            jira_access::require_connections(ctx, &user, &loaded.spec).await?;
            let cursor = start.map(|t| t.timestamp_millis());
            ctx.store.set_trigger_cursor(&record.name, cursor).await?;
            match ctx.output {
                OutputFormat::Json => output::json(&serde_json::json!({
                    "flow": record.name,
                    "cursor_ms": cursor,
                })),
                OutputFormat::Text => {
                    match start {
                        Some(t) => println!(
                            "flow {}: the next poll starts at {}",
                            record.name,
                            rfc3339(t)
                        ),
                        None => println!(
                            "flow {}: cursor cleared; the next poll starts where the flow's \
                             `start` option says",
                            record.name
                        ),
                    }
                    Ok(())
                }
            }
        }
    }
}

fn load(record: &jiraflow_store::FlowRecord) -> anyhow::Result<Flow> {
    flow::load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    )
    .map_err(|e| anyhow::anyhow!("flow {:?} does not load: {e}", record.name))
}

/// The applied flow's polling trigger and its connection's client, for an acting user who may
/// use the connection.
async fn open_trigger(
    ctx: &Context,
    name: &str,
) -> anyhow::Result<(PollTrigger, std::sync::Arc<JiraClient>)> {
    let user = ctx.acting_user().await?;
    let record = flow_cmd::find(ctx, name).await?;
    let loaded = load(&record)?;
    jira_access::require_connections(ctx, &user, &loaded.spec).await?;
    let trigger = PollTrigger::build(
        &record.name,
        &loaded.spec.trigger,
        TriggerSettings::default(),
    )?;
    let clients = jira_access::clients(ctx, Some(user))?;
    let jira = clients.client(trigger.connection()).await?;
    Ok((trigger, jira))
}

#[derive(Serialize)]
struct ReportView<'a> {
    flow: &'a str,
    #[serde(flatten)]
    report: &'a PollReport,
}

fn print_report(
    format: OutputFormat,
    flow: &str,
    verb: &str,
    report: &PollReport,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::json(&ReportView { flow, report }),
        OutputFormat::Text => {
            println!(
                "{verb} flow {flow}: {} candidate(s), {} enqueued, {} duplicate(s), {} filtered",
                report.candidates, report.enqueued, report.duplicates, report.filtered
            );
            if let Some(cursor) = report.cursor_ms.and_then(DateTime::from_timestamp_millis) {
                println!("cursor now {}", rfc3339(cursor));
            }
            Ok(())
        }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// JSON: always a list. Text: one flow asked for as a record, all flows as a table.
fn print_status(format: OutputFormat, all: &[TriggerStatus], one: bool) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::json(&all),
        OutputFormat::Text if one => {
            if let Some(status) = all.first() {
                print_one(status);
            }
            Ok(())
        }
        OutputFormat::Text => {
            let rows: Vec<Vec<String>> = all.iter().map(row).collect();
            output::table(
                &[
                    "FLOW",
                    "MODE",
                    "ENABLED",
                    "LAST POLL",
                    "LAG",
                    "ENQUEUED",
                    "DUPLICATES",
                    "STATE",
                ],
                &rows,
            );
            Ok(())
        }
    }
}

fn mode(status: &TriggerStatus) -> String {
    status
        .health
        .mode
        .and_then(|m| serde_json::to_value(m).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned())
}

fn lag(status: &TriggerStatus) -> String {
    match status.health.lag_ms {
        Some(ms) if ms >= 120_000 => format!("{}m", ms / 60_000),
        Some(ms) => format!("{}s", ms / 1000),
        None => "-".to_owned(),
    }
}

/// A short summary: why it cannot run, or that it runs.
fn condition(status: &TriggerStatus) -> String {
    let health = &status.health;
    if let Some(problem) = &status.problem {
        format!("invalid: {}", one_line(problem))
    } else if let Some(reason) = &health.paused_reason {
        format!("paused: {}", one_line(reason))
    } else if let Some(error) = &health.last_error {
        format!("failing: {}", one_line(error))
    } else if !health.enabled {
        "disabled".to_owned()
    } else if health.webhook_expired {
        "webhook expired".to_owned()
    } else {
        "ok".to_owned()
    }
}

fn row(status: &TriggerStatus) -> Vec<String> {
    let health = &status.health;
    vec![
        health.flow.clone(),
        mode(status),
        if health.enabled { "yes" } else { "no" }.to_owned(),
        health.last_poll_at.map_or_else(|| "-".to_owned(), rfc3339),
        lag(status),
        health.events_enqueued.to_string(),
        health.duplicates_dropped.to_string(),
        condition(status),
    ]
}

fn print_one(status: &TriggerStatus) {
    let health = &status.health;
    output::record(&[
        ("flow", Some(health.flow.clone())),
        ("enabled", Some(health.enabled.to_string())),
        ("connection", status.connection.clone()),
        ("mode", Some(mode(status))),
        (
            "interval",
            status.poll_interval_ms.map(|ms| format!("{ms}ms")),
        ),
        ("condition", Some(condition(status))),
        ("last poll", health.last_poll_at.map(rfc3339)),
        ("last success", health.last_success_at.map(rfc3339)),
        ("lag", Some(lag(status))),
        (
            "cursor",
            health
                .cursor_ms
                .and_then(DateTime::from_timestamp_millis)
                .map(rfc3339),
        ),
        ("enqueued", Some(health.events_enqueued.to_string())),
        ("duplicates", Some(health.duplicates_dropped.to_string())),
        ("last event", health.last_event_at.map(rfc3339)),
        ("webhook", health.webhook_id.map(|id| id.to_string())),
        ("webhook expires", health.webhook_expires_at.map(rfc3339)),
        ("paused", health.paused_reason.clone()),
        ("last error", health.last_error.clone()),
        (
            "failures",
            (health.consecutive_failures > 0).then(|| health.consecutive_failures.to_string()),
        ),
        ("problem", status.problem.clone()),
    ]);
}

fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 80 {
        let cut: String = line.chars().take(80).collect();
        format!("{cut}…")
    } else {
        line
    }
}
