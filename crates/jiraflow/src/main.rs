//! The `jiraflow` command line.

mod sim_cmd;

use clap::{Parser, Subcommand};

/// jiraflow: Jira Cloud automation you run yourself.
#[derive(Debug, Parser)]
#[command(name = "jiraflow", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Jira Cloud simulator (the offline sandbox).
    Sim(sim_cmd::SimArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Sim(args) => sim_cmd::run(args).await,
        }
    })
}
