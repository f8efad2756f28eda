//! Options shared by the store-backed commands (`app`, `connection`, `credential`, `user`,
//! `apikey`, `store`): where the data lives, who is acting, and how results are printed; and the
//! opened store those commands work on.
//!
//! The master key is resolved by the store itself (`JIRAFLOW_MASTER_KEY`, else
//! `<data_dir>/master.key`, created with mode 0600 on first start), so a wrong key is refused
//! with the store's own message before any command runs.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use jiraflow_store::{ApiKeySecret, Permission, SqliteStore, Store, User};

use crate::output::OutputFormat;

/// The environment variable holding the acting user's API key.
pub const API_KEY_ENV: &str = "JIRAFLOW_API_KEY";

/// Options every store-backed command accepts (before or after its subcommand).
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Data directory (database and, unless JIRAFLOW_MASTER_KEY is set, master.key).
    #[arg(
        long,
        global = true,
        env = "JIRAFLOW_DATA_DIR",
        default_value = ".jiraflow"
    )]
    pub data_dir: PathBuf,
    /// Act as this user (alternatively, present an API key in JIRAFLOW_API_KEY).
    #[arg(long = "as", global = true, value_name = "USER")]
    pub acting_user: Option<String>,
    /// Output format of listings and records.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// An opened store plus the options it was opened with.
pub struct Context {
    /// The concrete store (key rotation and closing need it).
    pub sqlite: Arc<SqliteStore>,
    /// The same store behind the traits the OAuth crate uses.
    pub store: Arc<dyn Store>,
    /// Output format.
    pub output: OutputFormat,
    /// `--as`, if given.
    acting_user: Option<String>,
}

impl Context {
    /// Installs logging (stderr, `RUST_LOG`, default `warn`) and opens the store in the data
    /// directory, creating both on first use.
    pub async fn open(args: &CommonArgs) -> anyhow::Result<Self> {
        init_tracing();
        let (sqlite, _source) = SqliteStore::open_data_dir(&args.data_dir)
            .await
            .with_context(|| format!("opening the store in {}", args.data_dir.display()))?;
        let sqlite = Arc::new(sqlite);
        let store: Arc<dyn Store> = sqlite.clone();
        Ok(Self {
            sqlite,
            store,
            output: args.output,
            acting_user: args.acting_user.clone(),
        })
    }

    /// Closes the store (checkpointing the WAL when this is the last process using it).
    pub async fn close(self) {
        self.sqlite.close().await;
    }

    /// The acting user: from `JIRAFLOW_API_KEY` (authenticated) and/or `--as` (which must then
    /// name the key's owner).
    pub async fn acting_user(&self) -> anyhow::Result<User> {
        let key = std::env::var(API_KEY_ENV)
            .ok()
            .filter(|k| !k.trim().is_empty());
        if let Some(key) = key {
            let secret = ApiKeySecret::new(key.trim());
            let Some(user) = self.store.authenticate_api_key(&secret).await? else {
                bail!("the API key in {API_KEY_ENV} is unknown or revoked");
            };
            if let Some(name) = &self.acting_user
                && !name.eq_ignore_ascii_case(&user.name)
            {
                bail!(
                    "--as {name:?} does not match the owner of the API key in {API_KEY_ENV} ({:?})",
                    user.name
                );
            }
            return Ok(user);
        }
        let Some(name) = &self.acting_user else {
            if self.store.list_users().await?.is_empty() {
                bail!(
                    "there are no users yet; create the first one with \
                     `jiraflow user create NAME --manage-connections`"
                );
            }
            bail!("say who is acting: --as USER, or an API key in {API_KEY_ENV}");
        };
        self.store
            .find_user_by_name(name)
            .await?
            .with_context(|| format!("unknown user {name:?} (see `jiraflow user list`)"))
    }

    /// The acting user, who must hold `manage_integration_connections`.
    pub async fn admin(&self, what: &str) -> anyhow::Result<User> {
        let user = self.acting_user().await?;
        require_admin(&user, what)?;
        Ok(user)
    }
}

/// Fails unless `user` holds `manage_integration_connections`.
pub fn require_admin(user: &User, what: &str) -> anyhow::Result<()> {
    if user.has(Permission::ManageIntegrationConnections) {
        Ok(())
    } else {
        bail!(
            "{what} requires the manage_integration_connections permission, which {:?} lacks",
            user.name
        )
    }
}

/// Logs go to stderr only, so stdout carries nothing but results (scripts parse it).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second install (never expected) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: redirected logs stay greppable.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
