//! `jiraflow flow`: check flow files (`validate`, `schema`), manage applied flows (`apply`,
//! `list`, `show`, `enable`, `disable`, `delete`), and run them (`run`, `test`, in
//! [`crate::flow_run`]).
//!
//! Permissions: managing flows needs an acting user, and applying or enabling a flow needs the
//! use of every connection it names (holders of `manage_integration_connections` use all
//! connections, everyone else the ones they created). Listing and showing need neither.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use jiraflow_engine::connections::may_use;
use jiraflow_engine::flow::{self, AnyConnection, ConnectionCatalog, Flow};
use jiraflow_store::{ConnectionId, FlowRecord, SaveFlow, StoreError, User};
use serde::Serialize;

use crate::data_dir::{CommonArgs, Context};
use crate::flow_run::{self, RunArgs, TestArgs};
use crate::jira_access;
use crate::output::{self, OutputFormat};

/// Work with flow files and applied flows.
#[derive(Debug, Args)]
pub struct FlowArgs {
    #[command(subcommand)]
    command: FlowCommand,
}

#[derive(Debug, Subcommand)]
enum FlowCommand {
    /// Check flow files; exits with status 1 if any has a problem.
    Validate {
        /// The flow files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A connection name flows may use (repeatable). Without this or `--store`, connection
        /// names are not checked.
        #[arg(long = "connection", value_name = "NAME")]
        connections: Vec<String>,
        /// Check connection names against the store's connections.
        #[arg(long)]
        store: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Print the JSON Schema of flow files.
    Schema,
    /// Apply flow files: create or update the flows they define (nothing is saved if any file
    /// has a problem).
    Apply {
        /// The flow files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Save the flows with their triggers disabled.
        #[arg(long)]
        disabled: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List the applied flows.
    List {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Show an applied flow and its YAML source.
    Show {
        /// Flow name.
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Enable a flow's trigger.
    Enable {
        /// Flow name.
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Disable a flow's trigger (manual runs stay possible).
    Disable {
        /// Flow name.
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Delete a flow (its runs are kept).
    Delete {
        /// Flow name.
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Run an applied flow now with a manual payload; exits with status 1 if the run failed.
    Run(RunArgs),
    /// Dry-run a flow (applied, or a file) over sample trigger records: renders every step's
    /// input without calling any action.
    Test(TestArgs),
}

/// Connection names compared case-insensitively, as the store does; `None` accepts any name.
struct Names(Option<HashSet<String>>);

impl ConnectionCatalog for Names {
    fn exists(&self, name: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|names| names.contains(&name.to_lowercase()))
    }
}

/// Runs a `flow` subcommand.
pub async fn run(args: FlowArgs) -> anyhow::Result<()> {
    match args.command {
        FlowCommand::Schema => {
            let schema = serde_json::to_string_pretty(&flow::json_schema())?;
            writeln!(std::io::stdout().lock(), "{schema}")?;
            Ok(())
        }
        FlowCommand::Validate {
            files,
            connections,
            store,
            common,
        } => {
            let mut names: Option<HashSet<String>> = None;
            if !connections.is_empty() {
                names = Some(connections.iter().map(|n| n.to_lowercase()).collect());
            }
            if store {
                let ctx = Context::open(&common).await?;
                let listed = ctx.store.list_connections().await;
                ctx.close().await;
                let set = names.get_or_insert_with(HashSet::new);
                set.extend(listed?.into_iter().map(|c| c.name.to_lowercase()));
            }
            if !validate(&files, &Names(names))? {
                std::process::exit(1);
            }
            Ok(())
        }
        FlowCommand::Run(args) => flow_run::run(args).await,
        FlowCommand::Test(args) => flow_run::test(args).await,
        managed => {
            let common = match &managed {
                FlowCommand::Apply { common, .. }
                | FlowCommand::List { common }
                | FlowCommand::Show { common, .. }
                | FlowCommand::Enable { common, .. }
                | FlowCommand::Disable { common, .. }
                | FlowCommand::Delete { common, .. } => common.clone(),
                _ => bail!("internal: {managed:?} is not a store command"),
            };
            let ctx = Context::open(&common).await?;
            let result = manage(&ctx, managed).await;
            ctx.close().await;
            result
        }
    }
}

/// Runs a subcommand that manages applied flows.
async fn manage(ctx: &Context, command: FlowCommand) -> anyhow::Result<()> {
    match command {
        FlowCommand::Apply {
            files, disabled, ..
        } => apply(ctx, files, disabled).await,
        FlowCommand::List { .. } => list(ctx).await,
        FlowCommand::Show { name, .. } => show(ctx, name).await,
        FlowCommand::Enable { name, .. } => set_enabled(ctx, name, true).await,
        FlowCommand::Disable { name, .. } => set_enabled(ctx, name, false).await,
        FlowCommand::Delete { name, .. } => delete(ctx, name).await,
        other => bail!("internal: {other:?} is not a store command"),
    }
}

/// Prints `ok FILE` or the file's errors for each file; returns whether all were valid.
fn validate(files: &[PathBuf], catalog: &Names) -> anyhow::Result<bool> {
    let mut stdout = std::io::stdout().lock();
    let mut all_ok = true;
    for file in files {
        match flow::load_flow(file.as_path(), catalog) {
            Ok(_) => writeln!(stdout, "ok {}", file.display())?,
            Err(errors) => {
                all_ok = false;
                eprintln!("{errors}");
            }
        }
    }
    Ok(all_ok)
}

/// A flow file ready to save: its text, the validated flow and the ids of its connections.
struct Loaded {
    file_name: String,
    text: String,
    flow: Flow,
    connections: Vec<ConnectionId>,
}

#[derive(Debug, Serialize)]
struct Applied {
    name: String,
    version: i64,
    result: &'static str,
    enabled: bool,
    file: String,
}

async fn apply(ctx: &Context, files: Vec<PathBuf>, disabled: bool) -> anyhow::Result<()> {
    let user = ctx.acting_user().await?;
    // Only the connections the user may use exist for the check, so a flow naming someone
    // else's connection is refused at that name's position.
    let usable: HashMap<String, ConnectionId> = ctx
        .store
        .list_connections()
        .await?
        .into_iter()
        .filter(|c| may_use(&user, c))
        .map(|c| (c.name.to_lowercase(), c.id))
        .collect();
    let catalog = Names(Some(usable.keys().cloned().collect()));
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for file in &files {
        let file_name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!("{file_name}:1:1: cannot read the file: {e}"));
                continue;
            }
        };
        match flow::load_flow((file_name.as_str(), text.as_str()), &catalog) {
            Ok(flow) => {
                let key = flow.spec.name.to_lowercase();
                if let Some(first) = seen.insert(key, file_name.clone()) {
                    problems.push(format!(
                        "{file_name}: flow {:?} is also defined in {first}",
                        flow.spec.name
                    ));
                    continue;
                }
                let connections = jira_access::connection_names(&flow.spec)
                    .iter()
                    .filter_map(|n| usable.get(n).copied())
                    .collect();
                loaded.push(Loaded {
                    file_name,
                    text,
                    flow,
                    connections,
                });
            }
            Err(errors) => problems.push(errors.to_string()),
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        bail!(
            "nothing was applied: {} of {} file(s) have problems",
            problems.len(),
            files.len()
        );
    }
    let mut results = Vec::with_capacity(loaded.len());
    for l in loaded {
        let name = l.flow.spec.name.clone();
        let before = ctx.store.get_flow(&name).await?;
        let enabled = l.flow.spec.enabled && !disabled;
        let record = ctx
            .store
            .save_flow(SaveFlow {
                name: name.clone(),
                source: l.text,
                file_name: l.file_name.clone(),
                enabled,
                applied_by: Some(user.id),
                connections: l.connections,
            })
            .await
            .with_context(|| format!("cannot apply flow {name:?} from {}", l.file_name))?;
        let result = match before {
            None => "created",
            Some(b) if b.version != record.version || b.enabled != record.enabled => "updated",
            Some(_) => "unchanged",
        };
        results.push(Applied {
            name: record.name,
            version: record.version,
            result,
            enabled: record.enabled,
            file: l.file_name,
        });
    }
    match ctx.output {
        OutputFormat::Json => output::json(&results),
        OutputFormat::Text => {
            for r in &results {
                println!("{}  v{}  {}", r.name, r.version, r.result);
            }
            Ok(())
        }
    }
}

/// An applied flow as listed: the record plus what its source says.
#[derive(Debug, Serialize)]
struct FlowView {
    #[serde(flatten)]
    record: FlowRecord,
    trigger: Option<String>,
    connections: Vec<String>,
    /// Why the stored source no longer loads (applied by an older version).
    load_error: Option<String>,
}

fn view(record: FlowRecord) -> FlowView {
    match flow::load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    ) {
        Ok(loaded) => FlowView {
            trigger: serde_json::to_value(loaded.spec.trigger.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned)),
            connections: jira_access::connection_names(&loaded.spec)
                .into_iter()
                .collect(),
            load_error: None,
            record,
        },
        Err(errors) => FlowView {
            trigger: None,
            connections: Vec::new(),
            load_error: Some(errors.to_string()),
            record,
        },
    }
}

async fn list(ctx: &Context) -> anyhow::Result<()> {
    let views: Vec<FlowView> = ctx
        .store
        .list_flows()
        .await?
        .into_iter()
        .map(view)
        .collect();
    match ctx.output {
        OutputFormat::Json => output::json(&views),
        OutputFormat::Text => {
            let rows: Vec<Vec<String>> = views
                .iter()
                .map(|v| {
                    vec![
                        v.record.name.clone(),
                        v.record.version.to_string(),
                        if v.record.enabled { "yes" } else { "no" }.to_owned(),
                        v.trigger.clone().unwrap_or_else(|| "?".to_owned()),
                        v.connections.join(","),
                        v.record.updated_at.to_rfc3339(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "NAME",
                    "VERSION",
                    "ENABLED",
                    "TRIGGER",
                    "CONNECTIONS",
                    "UPDATED",
                ],
                &rows,
            );
            Ok(())
        }
    }
}

/// The applied flow `name`, or an error pointing at `flow list`.
pub async fn find(ctx: &Context, name: &str) -> anyhow::Result<FlowRecord> {
    ctx.store
        .get_flow(name)
        .await?
        .with_context(|| format!("unknown flow {name:?} (see `jiraflow flow list`)"))
}

async fn show(ctx: &Context, name: String) -> anyhow::Result<()> {
    let v = view(find(ctx, &name).await?);
    let applied_by = match v.record.applied_by {
        Some(id) => ctx.store.get_user(id).await?.map(|u| u.name),
        None => None,
    };
    match ctx.output {
        OutputFormat::Json => output::json(&v),
        OutputFormat::Text => {
            let r = &v.record;
            output::record(&[
                ("name", Some(r.name.clone())),
                ("version", Some(r.version.to_string())),
                ("enabled", Some(r.enabled.to_string())),
                ("trigger", v.trigger.clone()),
                ("connections", Some(v.connections.join(", "))),
                ("file", Some(r.file_name.clone())),
                ("applied by", applied_by),
                ("created", Some(r.created_at.to_rfc3339())),
                ("updated", Some(r.updated_at.to_rfc3339())),
                ("load error", v.load_error.clone()),
            ]);
            println!();
            print!("{}", r.source);
            if !r.source.ends_with('\n') {
                println!();
            }
            Ok(())
        }
    }
}

/// Maps the store's `NotFound` for a flow to the CLI's message.
fn unknown_flow(name: &str, error: StoreError) -> anyhow::Error {
    if error.is_not_found() {
        anyhow::anyhow!("unknown flow {name:?} (see `jiraflow flow list`)")
    } else {
        error.into()
    }
}

async fn set_enabled(ctx: &Context, name: String, enabled: bool) -> anyhow::Result<()> {
    let user = ctx.acting_user().await?;
    let record = find(ctx, &name).await?;
    if enabled {
        check_usable(ctx, &user, &record).await?;
    }
    let record = ctx
        .store
        .set_flow_enabled(&record.name, enabled)
        .await
        .map_err(|e| unknown_flow(&name, e))?;
    let state = if record.enabled {
        "enabled"
    } else {
        "disabled"
    };
    match ctx.output {
        OutputFormat::Json => output::json(&view(record)),
        OutputFormat::Text => {
            println!("{}  v{}  {state}", record.name, record.version);
            Ok(())
        }
    }
}

/// Fails unless `user` may use every connection the stored flow names.
async fn check_usable(ctx: &Context, user: &User, record: &FlowRecord) -> anyhow::Result<()> {
    let loaded = flow::load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    )
    .map_err(|e| anyhow::anyhow!("flow {:?} does not load: {e}", record.name))?;
    jira_access::require_connections(ctx, user, &loaded.spec).await
}

async fn delete(ctx: &Context, name: String) -> anyhow::Result<()> {
    ctx.acting_user().await?;
    let record = find(ctx, &name).await?;
    ctx.store
        .delete_flow(&record.name)
        .await
        .map_err(|e| unknown_flow(&name, e))?;
    eprintln!("deleted flow {:?} (its runs are kept)", record.name);
    Ok(())
}
