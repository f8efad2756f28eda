//! `jiraflow app`: OAuth apps (external credentials). The client secret is read from a file or
//! an environment variable, never from argv (argv is visible to every user of the machine via
//! `ps` and lands in shell history), and it is never printed back.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use jiraflow_oauth::REQUIRED_SCOPES;
use jiraflow_store::{
    ClientSecret, Environment, NewOAuthApp, OAuthApp, PRODUCTION_API_BASE_URL,
    PRODUCTION_AUTH_BASE_URL,
};
use serde::Serialize;

use crate::data_dir::{CommonArgs, Context};
use crate::output::{self, MASKED, OutputFormat};

/// Options of `jiraflow app`.
#[derive(Debug, Args)]
pub struct AppArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: AppCommand,
}

#[derive(Debug, Subcommand)]
enum AppCommand {
    /// Register an OAuth app (needs manage_integration_connections).
    Create(CreateArgs),
    /// List OAuth apps.
    List,
    /// Show one OAuth app (the client secret is write-only).
    Show {
        /// App name.
        name: String,
    },
    /// Delete an OAuth app (refused while connections or named credentials use it).
    Delete {
        /// App name.
        name: String,
    },
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// Unique name.
    #[arg(long)]
    name: String,
    /// OAuth client id.
    #[arg(long)]
    client_id: String,
    /// File holding the client secret (surrounding whitespace is ignored).
    #[arg(
        long,
        conflicts_with = "client_secret_env",
        required_unless_present = "client_secret_env"
    )]
    client_secret_file: Option<PathBuf>,
    /// Environment variable holding the client secret.
    #[arg(long)]
    client_secret_env: Option<String>,
    /// Scopes to request (space- or comma-separated; repeatable). Default: the scopes jiraflow
    /// needs; offline_access is always added.
    #[arg(long, num_args = 1..)]
    scopes: Vec<String>,
    /// production (Atlassian) or sandbox (a `jiraflow sim`).
    #[arg(long, value_enum, default_value = "production")]
    environment: EnvironmentArg,
    /// Authorization server base URL (default https://auth.atlassian.com; required for sandbox).
    #[arg(long)]
    auth_url: Option<String>,
    /// API gateway base URL (default https://api.atlassian.com; required for sandbox).
    #[arg(long)]
    api_url: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EnvironmentArg {
    Production,
    Sandbox,
}

/// What `app show` / `app list --output json` print.
#[derive(Debug, Serialize)]
struct AppView<'a> {
    #[serde(flatten)]
    app: &'a OAuthApp,
    client_secret: &'static str,
}

/// Runs `jiraflow app ...`.
pub async fn run(args: AppArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch(&ctx, args.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Context, command: AppCommand) -> anyhow::Result<()> {
    match command {
        AppCommand::Create(create) => {
            ctx.admin("creating an OAuth app").await?;
            let app = ctx.store.create_oauth_app(new_app(create)?).await?;
            print_app(ctx.output, &app)
        }
        AppCommand::List => {
            ctx.acting_user().await?;
            let apps = ctx.store.list_oauth_apps().await?;
            match ctx.output {
                OutputFormat::Json => {
                    let views: Vec<AppView<'_>> = apps.iter().map(view).collect();
                    output::json(&views)
                }
                OutputFormat::Text => {
                    let rows: Vec<Vec<String>> = apps
                        .iter()
                        .map(|a| {
                            vec![
                                a.name.clone(),
                                a.environment.as_str().to_owned(),
                                a.client_id.clone(),
                                a.auth_base_url.clone(),
                                a.api_base_url.clone(),
                            ]
                        })
                        .collect();
                    output::table(
                        &["NAME", "ENVIRONMENT", "CLIENT ID", "AUTH URL", "API URL"],
                        &rows,
                    );
                    Ok(())
                }
            }
        }
        AppCommand::Show { name } => {
            ctx.acting_user().await?;
            let app = find(ctx, &name).await?;
            print_app(ctx.output, &app)
        }
        AppCommand::Delete { name } => {
            ctx.admin("deleting an OAuth app").await?;
            let app = find(ctx, &name).await?;
            ctx.store.delete_oauth_app(app.id).await?;
            eprintln!("deleted OAuth app {:?}", app.name);
            Ok(())
        }
    }
}

/// Looks an app up by name, with a clear error.
pub async fn find(ctx: &Context, name: &str) -> anyhow::Result<OAuthApp> {
    ctx.store
        .find_oauth_app_by_name(name)
        .await?
        .with_context(|| format!("unknown OAuth app {name:?} (see `jiraflow app list`)"))
}

fn view(app: &OAuthApp) -> AppView<'_> {
    AppView {
        app,
        client_secret: MASKED,
    }
}

fn print_app(format: OutputFormat, app: &OAuthApp) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::json(&view(app)),
        OutputFormat::Text => {
            output::record(&[
                ("name", Some(app.name.clone())),
                ("id", Some(app.id.to_string())),
                ("environment", Some(app.environment.as_str().to_owned())),
                ("client id", Some(app.client_id.clone())),
                ("client secret", Some(MASKED.to_owned())),
                ("scopes", Some(app.scopes.join(" "))),
                ("auth url", Some(app.auth_base_url.clone())),
                ("api url", Some(app.api_base_url.clone())),
                ("created", Some(app.created_at.to_rfc3339())),
            ]);
            Ok(())
        }
    }
}

fn new_app(args: CreateArgs) -> anyhow::Result<NewOAuthApp> {
    let secret = match (&args.client_secret_file, &args.client_secret_env) {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the client secret from {}", path.display()))?,
        (None, Some(var)) => std::env::var(var)
            .with_context(|| format!("the environment variable {var} is not set"))?,
        (None, None) => {
            bail!("give the client secret with --client-secret-file or --client-secret-env")
        }
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        bail!("the client secret is empty");
    }
    let mut scopes: Vec<String> = args
        .scopes
        .iter()
        .flat_map(|s| s.split([' ', ',']))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        scopes = REQUIRED_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    }
    let (environment, auth, api) = match args.environment {
        EnvironmentArg::Production => (
            Environment::Production,
            args.auth_url
                .unwrap_or_else(|| PRODUCTION_AUTH_BASE_URL.to_owned()),
            args.api_url
                .unwrap_or_else(|| PRODUCTION_API_BASE_URL.to_owned()),
        ),
        EnvironmentArg::Sandbox => match (args.auth_url, args.api_url) {
            (Some(auth), Some(api)) => (Environment::Sandbox, auth, api),
            _ => bail!(
                "a sandbox app needs --auth-url and --api-url (the auth_url and api_url of a \
                 `jiraflow sim` ready line)"
            ),
        },
    };
    for (flag, value) in [("--auth-url", &auth), ("--api-url", &api)] {
        let url =
            url::Url::parse(value).with_context(|| format!("{flag} {value:?} is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("{flag} {value:?} must be an http(s) URL");
        }
    }
    Ok(NewOAuthApp {
        name: args.name.trim().to_owned(),
        client_id: args.client_id.trim().to_owned(),
        client_secret: ClientSecret::new(secret),
        scopes,
        auth_base_url: auth.trim_end_matches('/').to_owned(),
        api_base_url: api.trim_end_matches('/').to_owned(),
        environment,
    })
}
