//! `jiraflow user` and `jiraflow apikey`: users, their permissions and API keys.
//!
//! Bootstrap: on an empty store the first `user create` needs no acting user (there is nobody to
//! act as yet). After that, creating users needs `manage_integration_connections`. An API key is
//! printed once, when it is created; the store keeps only its hash.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use jiraflow_store::{NewUser, Permission, User};
use serde::Serialize;

use crate::data_dir::{CommonArgs, Context, require_admin};
use crate::output::{self, OutputFormat};

/// Options of `jiraflow user`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user (the first one on an empty store needs no acting user).
    Create {
        /// Unique login name.
        name: String,
        /// Grant manage_integration_connections (see and use every connection, manage apps
        /// and named credentials).
        #[arg(long)]
        manage_connections: bool,
    },
    /// List users.
    List,
}

/// Options of `jiraflow apikey`.
#[derive(Debug, Args)]
pub struct ApiKeyArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: ApiKeyCommand,
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create an API key for a user and print it once.
    Create {
        /// The key's owner.
        user: String,
        /// Free-text label.
        #[arg(long, default_value = "")]
        label: String,
    },
}

#[derive(Serialize)]
struct UserView<'a> {
    id: String,
    name: &'a str,
    permissions: Vec<&'static str>,
    created_at: String,
}

fn view(user: &User) -> UserView<'_> {
    UserView {
        id: user.id.to_string(),
        name: &user.name,
        permissions: user.permissions.iter().map(|p| p.as_str()).collect(),
        created_at: user.created_at.to_rfc3339(),
    }
}

/// Runs `jiraflow user ...`.
pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch_user(&ctx, args.command).await;
    ctx.close().await;
    result
}

/// Runs `jiraflow apikey ...`.
pub async fn run_apikey(args: ApiKeyArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch_apikey(&ctx, args.command).await;
    ctx.close().await;
    result
}

async fn dispatch_user(ctx: &Context, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            name,
            manage_connections,
        } => {
            // Two processes bootstrapping at once both see an empty store; the unique name
            // constraint lets only one of a given name through, which is all that matters here.
            if !ctx.store.list_users().await?.is_empty() {
                ctx.admin("creating a user").await?;
            }
            let permissions = if manage_connections {
                vec![Permission::ManageIntegrationConnections]
            } else {
                Vec::new()
            };
            let user = ctx
                .store
                .create_user(NewUser {
                    name: name.trim().to_owned(),
                    permissions,
                })
                .await?;
            match ctx.output {
                OutputFormat::Json => output::json(&view(&user)),
                OutputFormat::Text => {
                    print_user(&user);
                    Ok(())
                }
            }
        }
        UserCommand::List => {
            ctx.acting_user().await?;
            let users = ctx.store.list_users().await?;
            match ctx.output {
                OutputFormat::Json => output::json(&users.iter().map(view).collect::<Vec<_>>()),
                OutputFormat::Text => {
                    let rows: Vec<Vec<String>> = users
                        .iter()
                        .map(|u| {
                            let v = view(u);
                            vec![u.name.clone(), v.permissions.join(","), v.id]
                        })
                        .collect();
                    output::table(&["NAME", "PERMISSIONS", "ID"], &rows);
                    Ok(())
                }
            }
        }
    }
}

async fn dispatch_apikey(ctx: &Context, command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create { user, label } => {
            let acting = ctx.acting_user().await?;
            let owner = find_user(ctx, &user).await?;
            if owner.id != acting.id {
                require_admin(&acting, "creating an API key for another user")?;
            }
            let created = ctx.store.create_api_key(owner.id, label).await?;
            match ctx.output {
                OutputFormat::Json => output::json(&serde_json::json!({
                    "id": created.record.id.to_string(),
                    "user": owner.name,
                    "label": created.record.label,
                    "prefix": created.record.prefix,
                    "key": created.key.expose(),
                })),
                OutputFormat::Text => {
                    eprintln!(
                        "API key for {:?} (shown once; store it now, e.g. in {}):",
                        owner.name,
                        crate::data_dir::API_KEY_ENV
                    );
                    // The one deliberate showing of a new key: the user asked for it.
                    println!("{}", created.key.expose());
                    Ok(())
                }
            }
        }
    }
}

/// Looks a user up by name, with a clear error.
pub async fn find_user(ctx: &Context, name: &str) -> anyhow::Result<User> {
    ctx.store
        .find_user_by_name(name)
        .await?
        .with_context(|| format!("unknown user {name:?} (see `jiraflow user list`)"))
}

fn print_user(user: &User) {
    let v = view(user);
    output::record(&[
        ("name", Some(user.name.clone())),
        ("id", Some(v.id)),
        ("permissions", Some(v.permissions.join(", "))),
        ("created", Some(v.created_at)),
    ]);
}
