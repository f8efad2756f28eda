//! The sandbox `jiraflow up` (and `jiraflow demo`) run when no production connection exists: an
//! embedded simulator (demo seed, auto-consent) whose world is kept in
//! `<data_dir>/sandbox/world.json`, and in the store the admin user `admin`, the OAuth app
//! `sandbox` and the connection `sandbox`, the last made through the real authorization code
//! flow (begin, the simulator's consent, the redirect to this server's `/oauth/callback`,
//! completion). Everything is created on the first start and reused on later ones.
//!
//! The simulator's address and its app's client id and secret are kept in
//! `<data_dir>/sandbox/sandbox.json` (mode 0600): the connection's instance URL and the app's
//! URLs name that address, so later starts must listen on the same port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use jiraflow_oauth::{ConnectDraft, REQUIRED_SCOPES};
use jiraflow_server::AppState;
use jiraflow_server::api::flows::{Applied, apply_source, connection_names};
use jiraflow_sim::{RunningSim, SeedKind, SimConfig};
use jiraflow_store::{
    ClientSecret, Connection, Environment, NewOAuthApp, NewUser, Permission, Store, User,
};
use serde::{Deserialize, Serialize};

/// Name of the sandbox's admin user, OAuth app and connection.
pub const ADMIN_USER: &str = "admin";
/// Name of the sandbox OAuth app.
pub const APP_NAME: &str = "sandbox";
/// Name of the sandbox connection (the demo flows use it).
pub const CONNECTION_NAME: &str = "sandbox";

/// The demo flows shipped in `examples/`, embedded so the binary works from any directory.
pub const DEMO_FLOWS: &[(&str, &str)] = &[
    (
        "examples/demo-welcome-new-issues.yaml",
        include_str!("../../../examples/demo-welcome-new-issues.yaml"),
    ),
    (
        "examples/demo-escalate-urgent-comments.yaml",
        include_str!("../../../examples/demo-escalate-urgent-comments.yaml"),
    ),
    (
        "examples/demo-label-bugs.yaml",
        include_str!("../../../examples/demo-label-bugs.yaml"),
    ),
];

/// What is kept between starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    listen: SocketAddr,
    client_id: String,
    client_secret: String,
}

/// A running sandbox.
pub struct Sandbox {
    /// The embedded simulator.
    pub sim: RunningSim,
    /// The admin user.
    pub admin: User,
    /// The admin's API key, when it was created by this start (it is shown once).
    pub new_api_key: Option<String>,
    /// The sandbox connection.
    pub connection: Connection,
    /// Whether the connection was made by this start.
    pub connected_now: bool,
    /// The demo flows: what applying each did (`kept` when it existed already).
    pub flows: Vec<(String, String)>,
}

/// Where the sandbox's files live.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox")
}

/// Starts the simulator and makes sure the user, app, connection and demo flows exist.
/// `listen` is used on the first start only; later starts reuse the saved address.
pub async fn start(
    state: &AppState,
    data_dir: &Path,
    listen: SocketAddr,
    redirect_uri: &str,
) -> anyhow::Result<Sandbox> {
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the sandbox directory {}", dir.display()))?;
    let saved_path = dir.join("sandbox.json");
    let saved = read_saved(&saved_path)?;
    let config = SimConfig {
        listen: saved.as_ref().map_or(listen, |s| s.listen),
        auto_consent: true,
        seed: SeedKind::Demo,
        redirect_uris: vec![redirect_uri.to_owned()],
        client_id: Some(
            saved
                .as_ref()
                .map_or_else(|| "jiraflow-sandbox".to_owned(), |s| s.client_id.clone()),
        ),
        client_secret: Some(saved.as_ref().map_or_else(
            || {
                format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                )
            },
            |s| s.client_secret.clone(),
        )),
        state_file: Some(dir.join("world.json")),
        state_save_interval_secs: 10,
        ..SimConfig::default()
    };
    let sim = jiraflow_sim::start(config.clone()).await.with_context(|| {
        format!(
            "starting the sandbox simulator on {} (another `jiraflow up` or `demo` on this \
                 data directory may be running)",
            config.listen
        )
    })?;
    if saved.is_none() {
        write_saved(
            &saved_path,
            &Saved {
                listen: sim.addr,
                client_id: sim.info.client_id.clone(),
                client_secret: sim.info.client_secret.clone(),
            },
        )?;
    }
    match prepare(state, &sim).await {
        Ok((admin, new_api_key, connection, connected_now)) => {
            let flows = apply_demo_flows(state.store().as_ref(), &admin).await;
            match flows {
                Ok(flows) => Ok(Sandbox {
                    sim,
                    admin,
                    new_api_key,
                    connection,
                    connected_now,
                    flows,
                }),
                Err(e) => {
                    sim.shutdown().await;
                    Err(e)
                }
            }
        }
        Err(e) => {
            sim.shutdown().await;
            Err(e)
        }
    }
}

async fn prepare(
    state: &AppState,
    sim: &RunningSim,
) -> anyhow::Result<(User, Option<String>, Connection, bool)> {
    let store = state.store();
    let (admin, new_api_key) = admin_user(store.as_ref()).await?;
    let app = match store.find_oauth_app_by_name(APP_NAME).await? {
        Some(app) => app,
        None => {
            store
                .create_oauth_app(NewOAuthApp {
                    name: APP_NAME.to_owned(),
                    client_id: sim.info.client_id.clone(),
                    client_secret: ClientSecret::new(sim.info.client_secret.clone()),
                    scopes: REQUIRED_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                    auth_base_url: sim.info.auth_url.clone(),
                    api_base_url: sim.info.api_url.clone(),
                    environment: Environment::Sandbox,
                })
                .await?
        }
    };
    if let Some(connection) = store.find_connection_by_name(CONNECTION_NAME).await? {
        return Ok((admin, new_api_key, connection, false));
    }
    let started = jiraflow_server::callback::begin_connect(
        state,
        &admin,
        ConnectDraft {
            name: CONNECTION_NAME.to_owned(),
            description: "The embedded simulator (sandbox)".to_owned(),
            oauth_app_id: app.id,
            site_url: Some(sim.info.site_url.clone()),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("starting the sandbox connection: {}", e.message))?;
    consent(started.authorization_url.as_str()).await?;
    let connection = store
        .find_connection_by_name(CONNECTION_NAME)
        .await?
        .context("the sandbox consent completed but no connection was created")?;
    Ok((admin, new_api_key, connection, true))
}

/// Plays the browser: opens the authorization URL (the simulator approves at once and
/// redirects) and follows the redirect to this server's callback, which completes the flow.
async fn consent(authorization_url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let answer = http
        .get(authorization_url)
        .send()
        .await
        .context("opening the sandbox authorization URL")?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(location) = location.filter(|_| answer.status().is_redirection()) else {
        bail!(
            "the sandbox consent answered {} instead of redirecting to the callback",
            answer.status()
        );
    };
    let callback = http
        .get(&location)
        .send()
        .await
        .context("delivering the sandbox callback")?;
    if !callback.status().is_success() {
        let status = callback.status();
        let page = callback.text().await.unwrap_or_default();
        bail!("the sandbox callback failed ({status}): {page}");
    }
    Ok(())
}

/// The admin user, created with an API key on the first start.
async fn admin_user(store: &dyn Store) -> anyhow::Result<(User, Option<String>)> {
    if let Some(user) = store.find_user_by_name(ADMIN_USER).await? {
        return Ok((user, None));
    }
    let user = store
        .create_user(NewUser {
            name: ADMIN_USER.to_owned(),
            permissions: vec![Permission::ManageIntegrationConnections],
        })
        .await?;
    let key = store
        .create_api_key(user.id, "created by jiraflow up".to_owned())
        .await?;
    Ok((user, Some(key.key.expose().to_owned())))
}

/// Applies the demo flows that are not applied yet (an existing one is kept as it is: it may
/// have been edited or disabled on purpose).
pub async fn apply_demo_flows(
    store: &dyn Store,
    admin: &User,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut done = Vec::new();
    for (file, text) in DEMO_FLOWS {
        let spec =
            jiraflow_engine::flow::load_flow((*file, *text), &jiraflow_engine::flow::AnyConnection)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .spec;
        if connection_names(&spec) != [CONNECTION_NAME] {
            continue;
        }
        if store.get_flow(&spec.name).await?.is_some() {
            done.push((spec.name, "kept".to_owned()));
            continue;
        }
        let Applied { name, result, .. } = apply_source(store, admin, file, text, false)
            .await
            .map_err(|e| anyhow::anyhow!("applying {file}: {}", e.message))?;
        done.push((name, result.to_owned()));
    }
    Ok(done)
}

fn read_saved(path: &Path) -> anyhow::Result<Option<Saved>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not valid sandbox settings (delete the sandbox directory to start over)",
                path.display()
            )
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_saved(path: &Path, saved: &Saved) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(saved)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    // It holds the simulator app's client secret: owner-only, like master.key.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}
