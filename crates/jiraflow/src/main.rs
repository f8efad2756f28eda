//! The `jiraflow` command line.

mod adf_cmd;
mod jql_cmd;
mod sim_cmd;

use clap::{Parser, Subcommand};

/// jiraflow: Jira Cloud automation you run yourself.
#[derive(Debug, Parser)]
#[command(name = "jiraflow", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process, so the size of the largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Jira Cloud simulator (the offline sandbox).
    Sim(sim_cmd::SimArgs),
    /// Work with JQL offline (check a query's syntax).
    Jql(jql_cmd::JqlArgs),
    /// Convert rich text between Markdown, ADF and plain text.
    Adf(adf_cmd::AdfArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Sim(args) => sim_cmd::run(args).await,
            Command::Jql(args) => jql_cmd::run(args),
            Command::Adf(args) => adf_cmd::run(args),
        }
    })
}
