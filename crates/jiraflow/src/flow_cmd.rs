//! `jiraflow flow validate FILE...` checks flow files and prints every problem as
//! `file:line:column: path: message`; `jiraflow flow schema` prints the JSON Schema of flow files
//! for editors.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use jiraflow_engine::flow::{self, ConnectionCatalog};

use crate::data_dir::{CommonArgs, Context};

/// Work with flow files.
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
