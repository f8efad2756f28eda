//! The `jiraflow` command line.

mod action_cmd;
mod adf_cmd;
mod app_cmd;
mod callback;
mod connection_cmd;
mod credential_cmd;
mod data_dir;
mod demo_cmd;
mod files_cmd;
mod flow_cmd;
mod flow_run;
mod jira_access;
mod jql_cmd;
mod output;
mod payload;
mod runs_cmd;
mod sandbox;
mod sim_cmd;
mod store_cmd;
mod trigger_cmd;
mod up_cmd;
mod user_cmd;

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
    /// Run jiraflow: the HTTP server, workers and triggers (and the sandbox when no production
    /// connection exists); prints the URLs; Ctrl-C stops it.
    Up(up_cmd::UpArgs),
    /// Show the sandbox at work: act in the simulated Jira and watch the demo flows fire.
    Demo(demo_cmd::DemoArgs),
    /// Run the Jira Cloud simulator (the offline sandbox).
    Sim(sim_cmd::SimArgs),
    /// Work with JQL offline (check a query's syntax).
    Jql(jql_cmd::JqlArgs),
    /// Convert rich text between Markdown, ADF and plain text.
    Adf(adf_cmd::AdfArgs),
    /// Manage OAuth apps (external credentials: client id and secret).
    App(app_cmd::AppArgs),
    /// Connect to Jira Cloud sites and manage connections.
    Connection(connection_cmd::ConnectionArgs),
    /// Manage named credentials and their principal grants.
    Credential(credential_cmd::CredentialArgs),
    /// Manage jiraflow users.
    User(user_cmd::UserArgs),
    /// Create API keys.
    Apikey(user_cmd::ApiKeyArgs),
    /// Store maintenance (master key rotation).
    Store(store_cmd::StoreArgs),
    /// Check, apply, manage, run and dry-run flows.
    Flow(flow_cmd::FlowArgs),
    /// List and inspect flow runs; resume the runs a crashed process left.
    Runs(runs_cmd::RunsArgs),
    /// Run one action with a JSON input and print its result as JSON.
    Action(action_cmd::ActionArgs),
    /// Manage file objects: list, show, download, upload, delete, sweep expired ones.
    Files(files_cmd::FilesArgs),
    /// Trigger health, one poll now, replaying a window, resetting a cursor.
    Trigger(trigger_cmd::TriggerArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => up_cmd::run(args).await,
            Command::Demo(args) => demo_cmd::run(args).await,
            Command::Sim(args) => sim_cmd::run(args).await,
            Command::Jql(args) => jql_cmd::run(args),
            Command::Adf(args) => adf_cmd::run(args),
            Command::App(args) => app_cmd::run(args).await,
            Command::Connection(args) => connection_cmd::run(args).await,
            Command::Credential(args) => credential_cmd::run(args).await,
            Command::User(args) => user_cmd::run(args).await,
            Command::Apikey(args) => user_cmd::run_apikey(args).await,
            Command::Store(args) => store_cmd::run(args).await,
            Command::Flow(args) => flow_cmd::run(args).await,
            Command::Runs(args) => runs_cmd::run(args).await,
            Command::Action(args) => action_cmd::run(args).await,
            Command::Files(args) => files_cmd::run(args).await,
            Command::Trigger(args) => trigger_cmd::run(args).await,
        }
    })
}
