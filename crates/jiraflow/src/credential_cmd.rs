//! `jiraflow credential`: named credentials (URL + OAuth app + exactly one principal obtained by
//! an administrator's consent) and the principal grants that let users build connections on
//! them. Everything here except `list` and `show` needs `manage_integration_connections`.

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use jiraflow_oauth::{Completed, NamedCredentialDraft};
use jiraflow_store::NamedCredential;
use serde::Serialize;

use crate::connection_cmd::{self, ConsentArgs, TokenView};
use crate::data_dir::{CommonArgs, Context};
use crate::output::{self, MASKED, OutputFormat};
use crate::user_cmd::find_user;

/// Options of `jiraflow credential`.
#[derive(Debug, Args)]
pub struct CredentialArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: CredentialCommand,
}

#[derive(Debug, Subcommand)]
enum CredentialCommand {
    /// Create a named credential: an administrator consents once; the consent is its principal.
    Create {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// OAuth app (external credential).
        #[arg(long)]
        app: String,
        /// Site or instance URL, needed when the consent covers several sites.
        #[arg(long)]
        site: Option<String>,
        #[command(flatten)]
        consent: ConsentArgs,
    },
    /// List named credentials.
    List,
    /// Show a named credential and who holds grants on its principal.
    Show {
        /// Credential name.
        name: String,
    },
    /// Rerun consent and replace the principal's token family.
    Reconnect {
        /// Credential name.
        name: String,
        #[command(flatten)]
        consent: ConsentArgs,
    },
    /// Let a user build connections on the credential's principal.
    Grant {
        /// Credential name.
        name: String,
        /// User name.
        user: String,
    },
    /// Withdraw a user's grant on the principal.
    Revoke {
        /// Credential name.
        name: String,
        /// User name.
        user: String,
    },
    /// Delete a named credential (refused while connections use it).
    Delete {
        /// Credential name.
        name: String,
    },
}

#[derive(Debug, Serialize)]
struct CredentialView {
    #[serde(flatten)]
    credential: NamedCredential,
    oauth_app: String,
    granted_users: Vec<String>,
    principal: Option<TokenView>,
}

/// Runs `jiraflow credential ...`.
pub async fn run(args: CredentialArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch(&ctx, args.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Context, command: CredentialCommand) -> anyhow::Result<()> {
    match command {
        CredentialCommand::Create {
            name,
            app,
            site,
            consent,
        } => {
            let user = ctx.admin("creating a named credential").await?;
            let app = crate::app_cmd::find(ctx, &app).await?;
            if find_opt(ctx, &name).await?.is_some() {
                bail!("a named credential called {name:?} already exists");
            }
            let flow = connection_cmd::flow(ctx)?;
            let listener = connection_cmd::bind(&consent).await?;
            let draft = NamedCredentialDraft {
                name,
                oauth_app_id: app.id,
                url: site,
            };
            let started = flow
                .begin_named_credential(&user, draft, &consent.redirect_uri)
                .await
                .map_err(connection_cmd::explain)?;
            let done =
                connection_cmd::consent(ctx, &flow, &user, started, listener, &consent).await?;
            print_completed(ctx, done).await
        }
        CredentialCommand::List => {
            ctx.acting_user().await?;
            let all = ctx.store.list_named_credentials().await?;
            let mut views = Vec::with_capacity(all.len());
            for c in all {
                views.push(view(ctx, c).await?);
            }
            match ctx.output {
                OutputFormat::Json => output::json(&views),
                OutputFormat::Text => {
                    let rows: Vec<Vec<String>> = views
                        .iter()
                        .map(|v| {
                            vec![
                                v.credential.name.clone(),
                                v.oauth_app.clone(),
                                v.credential.url.clone(),
                                v.granted_users.join(","),
                            ]
                        })
                        .collect();
                    output::table(&["NAME", "OAUTH APP", "URL", "GRANTED USERS"], &rows);
                    Ok(())
                }
            }
        }
        CredentialCommand::Show { name } => {
            ctx.acting_user().await?;
            let credential = find(ctx, &name).await?;
            print(ctx, credential).await
        }
        CredentialCommand::Reconnect { name, consent } => {
            let user = ctx.admin("reconnecting a named credential").await?;
            let credential = find(ctx, &name).await?;
            let flow = connection_cmd::flow(ctx)?;
            let listener = connection_cmd::bind(&consent).await?;
            let started = flow
                .begin_reconnect_named_credential(&user, credential.id, &consent.redirect_uri)
                .await
                .map_err(connection_cmd::explain)?;
            let done =
                connection_cmd::consent(ctx, &flow, &user, started, listener, &consent).await?;
            print_completed(ctx, done).await
        }
        CredentialCommand::Grant { name, user } => {
            ctx.admin("granting a principal").await?;
            let credential = find(ctx, &name).await?;
            let grantee = find_user(ctx, &user).await?;
            ctx.store.grant_principal(credential.id, grantee.id).await?;
            eprintln!(
                "{:?} may now build connections on {:?}",
                grantee.name, credential.name
            );
            Ok(())
        }
        CredentialCommand::Revoke { name, user } => {
            ctx.admin("revoking a principal grant").await?;
            let credential = find(ctx, &name).await?;
            let grantee = find_user(ctx, &user).await?;
            ctx.store
                .revoke_principal(credential.id, grantee.id)
                .await?;
            eprintln!(
                "revoked {:?}'s grant on {:?}",
                grantee.name, credential.name
            );
            Ok(())
        }
        CredentialCommand::Delete { name } => {
            ctx.admin("deleting a named credential").await?;
            let credential = find(ctx, &name).await?;
            ctx.store
                .delete_named_credential(credential.id)
                .await
                .with_context(|| format!("cannot delete named credential {:?}", credential.name))?;
            eprintln!("deleted named credential {:?}", credential.name);
            Ok(())
        }
    }
}

async fn find_opt(ctx: &Context, name: &str) -> anyhow::Result<Option<NamedCredential>> {
    let name = name.trim();
    Ok(ctx
        .store
        .list_named_credentials()
        .await?
        .into_iter()
        .find(|c| c.name.to_lowercase() == name.to_lowercase()))
}

/// Looks a named credential up by name (case-insensitive), with a clear error.
pub async fn find(ctx: &Context, name: &str) -> anyhow::Result<NamedCredential> {
    find_opt(ctx, name).await?.with_context(|| {
        format!("unknown named credential {name:?} (see `jiraflow credential list`)")
    })
}

async fn view(ctx: &Context, credential: NamedCredential) -> anyhow::Result<CredentialView> {
    let oauth_app = ctx
        .store
        .get_oauth_app(credential.oauth_app_id)
        .await?
        .map_or_else(|| credential.oauth_app_id.to_string(), |a| a.name);
    let mut granted_users = Vec::new();
    for id in ctx.store.list_principal_grants(credential.id).await? {
        granted_users.push(
            ctx.store
                .get_user(id)
                .await?
                .map_or_else(|| id.to_string(), |u| u.name),
        );
    }
    let principal = connection_cmd::token_view(ctx, credential.principal_family_id).await?;
    Ok(CredentialView {
        credential,
        oauth_app,
        granted_users,
        principal,
    })
}

async fn print_completed(ctx: &Context, done: Completed) -> anyhow::Result<()> {
    match done {
        Completed::NamedCredential {
            credential,
            reconnected,
        } => {
            if reconnected {
                eprintln!("reconnected named credential {:?}", credential.name);
            }
            print(ctx, credential).await
        }
        Completed::Connection(_) => {
            bail!("this authorization completed a connection, not a named credential")
        }
    }
}

async fn print(ctx: &Context, credential: NamedCredential) -> anyhow::Result<()> {
    let v = view(ctx, credential).await?;
    match ctx.output {
        OutputFormat::Json => output::json(&v),
        OutputFormat::Text => {
            output::record(&[
                ("name", Some(v.credential.name.clone())),
                ("id", Some(v.credential.id.to_string())),
                ("url", Some(v.credential.url.clone())),
                ("oauth app", Some(v.oauth_app.clone())),
                ("principal", Some(MASKED.to_owned())),
                ("scopes", v.principal.as_ref().map(|t| t.scopes.join(" "))),
                (
                    "expires",
                    v.principal.as_ref().map(|t| t.expires_at.clone()),
                ),
                ("granted users", Some(v.granted_users.join(", "))),
                ("created", Some(v.credential.created_at.to_rfc3339())),
            ]);
            Ok(())
        }
    }
}
