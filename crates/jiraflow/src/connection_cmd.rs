//! `jiraflow connection`: create (authorization code flow, or on a named credential), list,
//! show, test, update (name, description), reconnect and delete connections.
//!
//! Permissions (enforced here until an API layer exists): creating a standard connection needs
//! `manage_integration_connections`; a connection on a named credential is usable only with a
//! grant on its principal (without one it stays inactive and Test Connection names the grant). Holders of the permission see and use every
//! connection; everyone else sees and uses the connections they created.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use jiraflow_oauth::{
    Completed, ConnectDraft, ConnectFlow, ConnectionChecker, OAuthClient, OAuthError,
    StartedAuthorization, TokenManager, TokenManagerConfig,
};
use jiraflow_store::{Connection, ConnectionKind, ConnectionUpdate, Permission, User};
use serde::Serialize;

use crate::callback::{self, CallbackListener, DEFAULT_REDIRECT_URI};
use crate::data_dir::{CommonArgs, Context};
use crate::output::{self, MASKED, OutputFormat};

/// Options of `jiraflow connection`.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: ConnectionCommand,
}

#[derive(Debug, Subcommand)]
enum ConnectionCommand {
    /// Create a connection: consent in a browser (or on a named credential, without consent).
    Create(CreateArgs),
    /// List the connections you may see.
    List,
    /// Show one connection (credentials are write-only).
    Show {
        /// Connection name.
        name: String,
    },
    /// Test Connection: site still granted, /myself answers, scopes suffice.
    Test {
        /// Connection name.
        name: String,
    },
    /// Rename or re-describe a connection (the only details editable on a named credential's
    /// connection; its URL and credentials belong to the credential).
    Update(UpdateArgs),
    /// Rerun consent for the same connection and replace its token family.
    Reconnect(ReconnectArgs),
    /// Delete a connection (refused while flows use it).
    Delete {
        /// Connection name.
        name: String,
    },
}

/// How the consent's callback is received (shared with `credential`).
#[derive(Debug, Clone, Args)]
pub struct ConsentArgs {
    /// Redirect URI registered for the OAuth app (the callback listener binds its host:port).
    #[arg(long, default_value = DEFAULT_REDIRECT_URI)]
    pub redirect_uri: String,
    /// Do not listen for the callback; read the redirect URL pasted on stdin instead.
    #[arg(long)]
    pub no_listen: bool,
    /// How long to wait for the callback, in seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// Unique name.
    #[arg(long)]
    name: String,
    /// Description.
    #[arg(long, default_value = "")]
    description: String,
    /// OAuth app to consent to.
    #[arg(
        long,
        required_unless_present = "named_credential",
        conflicts_with = "named_credential"
    )]
    app: Option<String>,
    /// Build the connection on this named credential (no consent; details read-only).
    #[arg(long)]
    named_credential: Option<String>,
    /// Site URL (https://x.atlassian.net), needed when the consent covers several sites.
    #[arg(long, conflicts_with = "named_credential")]
    site: Option<String>,
    #[command(flatten)]
    consent: ConsentArgs,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// Connection name.
    name: String,
    /// New unique name.
    #[arg(long)]
    new_name: Option<String>,
    /// New description.
    #[arg(long)]
    description: Option<String>,
}

#[derive(Debug, Args)]
struct ReconnectArgs {
    /// Connection name.
    name: String,
    #[command(flatten)]
    consent: ConsentArgs,
}

/// A token family as shown: expiry and scopes, never a token.
#[derive(Debug, Serialize)]
pub struct TokenView {
    /// Access token expiry.
    pub expires_at: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Last refresh.
    pub last_refreshed_at: Option<String>,
    /// Always [`MASKED`].
    pub access_token: &'static str,
    /// Always [`MASKED`].
    pub refresh_token: &'static str,
}

#[derive(Debug, Serialize)]
struct ConnectionView {
    #[serde(flatten)]
    connection: Connection,
    oauth_app: String,
    named_credential: Option<String>,
    created_by_name: Option<String>,
    read_only: bool,
    tokens: Option<TokenView>,
}

/// Runs `jiraflow connection ...`.
pub async fn run(args: ConnectionArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch(&ctx, args.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Context, command: ConnectionCommand) -> anyhow::Result<()> {
    let user = ctx.acting_user().await?;
    match command {
        ConnectionCommand::Create(args) => create(ctx, &user, args).await,
        ConnectionCommand::List => {
            let all = ctx.store.list_connections().await?;
            let visible: Vec<Connection> = all.into_iter().filter(|c| may_use(&user, c)).collect();
            let mut views = Vec::with_capacity(visible.len());
            for c in visible {
                views.push(view(ctx, c).await?);
            }
            match ctx.output {
                OutputFormat::Json => output::json(&views),
                OutputFormat::Text => {
                    let rows: Vec<Vec<String>> = views
                        .iter()
                        .map(|v| {
                            let c = &v.connection;
                            vec![
                                c.name.clone(),
                                c.status.as_str().to_owned(),
                                c.environment.as_str().to_owned(),
                                c.kind.as_str().to_owned(),
                                c.cloud_id.clone(),
                                c.instance_url.clone(),
                            ]
                        })
                        .collect();
                    output::table(
                        &[
                            "NAME",
                            "STATUS",
                            "ENVIRONMENT",
                            "KIND",
                            "CLOUD ID",
                            "INSTANCE URL",
                        ],
                        &rows,
                    );
                    Ok(())
                }
            }
        }
        ConnectionCommand::Show { name } => {
            let connection = find(ctx, &user, &name).await?;
            print_connection(ctx, connection).await
        }
        ConnectionCommand::Test { name } => {
            let connection = find(ctx, &user, &name).await?;
            test(ctx, &connection).await
        }
        ConnectionCommand::Update(args) => {
            if args.new_name.is_none() && args.description.is_none() {
                bail!("nothing to update: give --new-name and/or --description");
            }
            let connection = find(ctx, &user, &args.name).await?;
            let updated = ctx
                .store
                .update_connection(
                    connection.id,
                    ConnectionUpdate {
                        name: args.new_name,
                        description: args.description,
                    },
                )
                .await
                .with_context(|| format!("cannot update connection {:?}", connection.name))?;
            print_connection(ctx, updated).await
        }
        ConnectionCommand::Reconnect(args) => {
            let connection = find(ctx, &user, &args.name).await?;
            let flow = flow(ctx)?;
            let listener = bind(&args.consent).await?;
            let started = flow
                .begin_reconnect(&user, connection.id, &args.consent.redirect_uri)
                .await
                .map_err(explain)?;
            let completed = consent(ctx, &flow, &user, started, listener, &args.consent).await?;
            match completed {
                Completed::Connection(done) => {
                    eprintln!("reconnected {:?}", done.connection.name);
                    print_connection(ctx, done.connection).await
                }
                Completed::NamedCredential { .. } => {
                    bail!("this authorization completed a named credential, not a connection")
                }
            }
        }
        ConnectionCommand::Delete { name } => {
            let connection = find(ctx, &user, &name).await?;
            ctx.store
                .delete_connection(connection.id)
                .await
                .with_context(|| format!("cannot delete connection {:?}", connection.name))?;
            eprintln!("deleted connection {:?}", connection.name);
            Ok(())
        }
    }
}

async fn create(ctx: &Context, user: &User, args: CreateArgs) -> anyhow::Result<()> {
    let flow = flow(ctx)?;
    if let Some(credential) = &args.named_credential {
        let credential = crate::credential_cmd::find(ctx, credential).await?;
        let connection = flow
            .connect_named_credential(user, &args.name, &args.description, credential.id)
            .await
            .map_err(explain)?;
        return print_connection(ctx, connection).await;
    }
    crate::data_dir::require_admin(user, "creating a connection")?;
    let app_name = args.app.as_deref().unwrap_or_default();
    let app = crate::app_cmd::find(ctx, app_name).await?;
    let listener = bind(&args.consent).await?;
    let draft = ConnectDraft {
        name: args.name,
        description: args.description,
        oauth_app_id: app.id,
        site_url: args.site,
    };
    let started = flow
        .begin_connect(user, draft, &args.consent.redirect_uri)
        .await
        .map_err(explain)?;
    let completed = consent(ctx, &flow, user, started, listener, &args.consent).await?;
    match completed {
        Completed::Connection(done) => print_connection(ctx, done.connection).await,
        Completed::NamedCredential { .. } => {
            bail!("this authorization completed a named credential, not a connection")
        }
    }
}

/// Binds the callback listener unless `--no-listen` (before the URL is shown, so a consent that
/// completes at once finds it).
pub async fn bind(args: &ConsentArgs) -> anyhow::Result<Option<CallbackListener>> {
    if args.no_listen {
        Ok(None)
    } else {
        Ok(Some(CallbackListener::bind(&args.redirect_uri).await?))
    }
}

/// Shows the authorization URL, waits for the callback and completes the flow.
pub async fn consent(
    ctx: &Context,
    flow: &ConnectFlow,
    user: &User,
    started: StartedAuthorization,
    listener: Option<CallbackListener>,
    args: &ConsentArgs,
) -> anyhow::Result<Completed> {
    let url = started.authorization_url.as_str();
    match ctx.output {
        OutputFormat::Json => output::json(&serde_json::json!({
            "authorization_url": url,
            "expires_at": started.expires_at.to_rfc3339(),
        }))?,
        OutputFormat::Text => {
            eprintln!("Open this URL in a browser to consent:");
            println!("{url}");
        }
    }
    let callback = callback::receive(listener, Duration::from_secs(args.timeout_secs)).await?;
    flow.complete(user, callback).await.map_err(explain)
}

/// Turns an OAuth error into one that says what to do next.
pub fn explain(error: OAuthError) -> anyhow::Error {
    let hint = match &error {
        OAuthError::SiteChoiceRequired { .. } => {
            Some("nothing was created; rerun with --site <URL> naming one of these sites")
        }
        OAuthError::ConsentDenied { .. } => Some("nothing was created"),
        OAuthError::ClientAuthentication { .. } => Some(
            "nothing was created; check the OAuth app's client id and secret (`jiraflow app show`)",
        ),
        e if e.is_state_rejected() => Some("nothing was created"),
        _ => None,
    };
    match hint {
        Some(hint) => anyhow::anyhow!("{error}\n({hint})"),
        None => anyhow::Error::new(error),
    }
}

/// A connect flow over the context's store.
pub fn flow(ctx: &Context) -> anyhow::Result<ConnectFlow> {
    Ok(ConnectFlow::new(ctx.store.clone(), OAuthClient::new()?))
}

fn may_use(user: &User, connection: &Connection) -> bool {
    user.has(Permission::ManageIntegrationConnections) || connection.created_by == Some(user.id)
}

async fn find(ctx: &Context, user: &User, name: &str) -> anyhow::Result<Connection> {
    let connection = ctx.store.find_connection_by_name(name).await?;
    match connection {
        Some(c) if may_use(user, &c) => Ok(c),
        // Someone else's connection is reported like a missing one: its existence is not ours
        // to reveal.
        _ => bail!("unknown connection {name:?} (see `jiraflow connection list`)"),
    }
}

async fn test(ctx: &Context, connection: &Connection) -> anyhow::Result<()> {
    let client = OAuthClient::new()?;
    let manager = Arc::new(TokenManager::new(
        ctx.store.clone(),
        client.clone(),
        TokenManagerConfig::default(),
    ));
    let report = ConnectionChecker::new(ctx.store.clone(), manager, client)
        .check(connection.id)
        .await
        .map_err(explain)?;
    match ctx.output {
        OutputFormat::Json => output::json(&serde_json::json!({
            "ok": report.ok(),
            "report": &report,
        }))?,
        OutputFormat::Text => {
            output::record(&[
                ("connection", Some(report.name.clone())),
                ("cloud id", Some(report.cloud_id.clone())),
                ("site accessible", Some(report.site_accessible.to_string())),
                ("myself", report.myself_status.map(|s| format!("HTTP {s}"))),
                ("acting as", report.display_name.clone()),
                ("account id", report.account_id.clone()),
                ("granted scopes", Some(report.granted_scopes.join(" "))),
                (
                    "missing scopes",
                    (!report.missing_scopes.is_empty()).then(|| report.missing_scopes.join(" ")),
                ),
                (
                    "result",
                    Some(if report.ok() { "ok" } else { "FAILED" }.to_owned()),
                ),
            ]);
            for problem in &report.problems {
                println!("problem  {problem}");
            }
        }
    }
    if report.ok() {
        Ok(())
    } else {
        bail!(
            "connection {:?} is not healthy: {}",
            report.name,
            report.problems.join("; ")
        )
    }
}

async fn view(ctx: &Context, connection: Connection) -> anyhow::Result<ConnectionView> {
    let oauth_app = ctx
        .store
        .get_oauth_app(connection.oauth_app_id)
        .await?
        .map_or_else(|| connection.oauth_app_id.to_string(), |a| a.name);
    let named_credential = match connection.named_credential_id {
        Some(id) => Some(
            ctx.store
                .get_named_credential(id)
                .await?
                .map_or_else(|| id.to_string(), |c| c.name),
        ),
        None => None,
    };
    let created_by_name = match connection.created_by {
        Some(id) => ctx.store.get_user(id).await?.map(|u| u.name),
        None => None,
    };
    let tokens = token_view(ctx, connection.token_family_id).await?;
    Ok(ConnectionView {
        read_only: connection.kind == ConnectionKind::NamedCredential,
        connection,
        oauth_app,
        named_credential,
        created_by_name,
        tokens,
    })
}

/// Expiry and scopes of a token family (the tokens themselves stay in memory only).
pub async fn token_view(
    ctx: &Context,
    family: jiraflow_store::TokenFamilyId,
) -> anyhow::Result<Option<TokenView>> {
    match ctx.store.get_tokens(family).await {
        Ok(set) => Ok(Some(TokenView {
            expires_at: set.expires_at.to_rfc3339(),
            scopes: set.scopes.clone(),
            last_refreshed_at: set.last_refreshed_at.map(|t| t.to_rfc3339()),
            access_token: MASKED,
            refresh_token: MASKED,
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn print_connection(ctx: &Context, connection: Connection) -> anyhow::Result<()> {
    let v = view(ctx, connection).await?;
    match ctx.output {
        OutputFormat::Json => output::json(&v),
        OutputFormat::Text => {
            let c = &v.connection;
            output::record(&[
                ("name", Some(c.name.clone())),
                ("id", Some(c.id.to_string())),
                (
                    "description",
                    (!c.description.is_empty()).then(|| c.description.clone()),
                ),
                ("status", Some(c.status.as_str().to_owned())),
                ("status message", c.status_message.clone()),
                ("environment", Some(c.environment.as_str().to_owned())),
                ("kind", Some(c.kind.as_str().to_owned())),
                ("named credential", v.named_credential.clone()),
                ("oauth app", Some(v.oauth_app.clone())),
                ("cloud id", Some(c.cloud_id.clone())),
                ("instance url", Some(c.instance_url.clone())),
                ("site url", c.site_url.clone()),
                ("scopes", v.tokens.as_ref().map(|t| t.scopes.join(" "))),
                ("expires", v.tokens.as_ref().map(|t| t.expires_at.clone())),
                (
                    "last refreshed",
                    v.tokens.as_ref().and_then(|t| t.last_refreshed_at.clone()),
                ),
                ("credentials", Some(MASKED.to_owned())),
                ("created by", v.created_by_name.clone()),
                ("created", Some(c.created_at.to_rfc3339())),
                (
                    "details",
                    v.read_only
                        .then(|| "read-only (managed by the named credential)".to_owned()),
                ),
            ]);
            Ok(())
        }
    }
}
