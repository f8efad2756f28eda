//! Where the executor and the `action` command get a Jira client for a connection name:
//! [`ClientSource`], and its store-backed implementation [`StoreClients`] (tokens through the
//! OAuth token manager, one cached client per connection, refused with the connection's own
//! reason while it needs a reconnect).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use jiraflow_jira::JiraClient;
use jiraflow_oauth::{JiraTokenProvider, TokenManager};
use jiraflow_store::{Connection, ConnectionId, ConnectionStatus, Permission, Store, User};

/// Why no client could be had for a connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// No connection has this name (or the acting user may not use it).
    #[error("unknown connection {0:?} (see `jiraflow connection list`)")]
    Unknown(String),
    /// The connection exists but cannot be used now (reconnect required, inactive, ...).
    #[error("connection {name:?} cannot be used: {reason}")]
    Unusable {
        /// The connection's name.
        name: String,
        /// Its status message, saying what to do.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] jiraflow_store::StoreError),
    /// The client could not be built.
    #[error("connection {name:?}: {message}")]
    Client {
        /// The connection's name.
        name: String,
        /// What failed.
        message: String,
    },
}

/// The future [`ClientSource::client`] returns.
pub type ClientFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Arc<JiraClient>, ConnectionError>> + Send + 'a>>;

/// Gives the Jira client of a connection, by name.
pub trait ClientSource: Send + Sync {
    /// The client of the connection `name` (case-insensitive).
    fn client<'a>(&'a self, name: &'a str) -> ClientFuture<'a>;
}

/// A fixed map of names to clients (tests, benchmarks, the embedded sandbox).
#[derive(Debug, Default, Clone)]
pub struct FixedClients {
    clients: std::collections::HashMap<String, Arc<JiraClient>>,
}

impl FixedClients {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a client under `name`.
    #[must_use]
    pub fn with(mut self, name: &str, client: Arc<JiraClient>) -> Self {
        self.clients.insert(name.to_lowercase(), client);
        self
    }
}

impl ClientSource for FixedClients {
    fn client<'a>(&'a self, name: &'a str) -> ClientFuture<'a> {
        Box::pin(async move {
            self.clients
                .get(&name.to_lowercase())
                .cloned()
                .ok_or_else(|| ConnectionError::Unknown(name.to_owned()))
        })
    }
}

/// Clients for the connections in the store: the connection is looked up by name on every call
/// (so a connection marked `reconnect_required` since the last call is refused at once), and its
/// client is built once per connection id and shared, because a client carries the rate-limit
/// pauses and retry metrics that every caller of one site must see.
pub struct StoreClients {
    store: Arc<dyn Store>,
    manager: Arc<TokenManager>,
    acting: Option<User>,
    cache: Mutex<HashMap<ConnectionId, Arc<JiraClient>>>,
}

impl std::fmt::Debug for StoreClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreClients")
            .field("acting", &self.acting.as_ref().map(|u| &u.name))
            .finish_non_exhaustive()
    }
}

impl StoreClients {
    /// Clients for every connection in `store`, with tokens from `manager`.
    pub fn new(store: Arc<dyn Store>, manager: Arc<TokenManager>) -> Self {
        Self {
            store,
            manager,
            acting: None,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Only the connections `user` may use: all of them with `manage_integration_connections`,
    /// otherwise those the user created. Any other name is reported as unknown.
    #[must_use]
    pub fn acting_as(mut self, user: User) -> Self {
        self.acting = Some(user);
        self
    }

    /// The connection named `name`, if it exists and the acting user (if any) may use it.
    async fn usable(&self, name: &str) -> Result<Connection, ConnectionError> {
        let connection = self
            .store
            .find_connection_by_name(name)
            .await?
            .filter(|c| self.acting.as_ref().is_none_or(|u| may_use(u, c)))
            // Someone else's connection is reported like a missing one: its existence is not
            // the caller's to learn.
            .ok_or_else(|| ConnectionError::Unknown(name.to_owned()))?;
        if connection.status != ConnectionStatus::Active {
            let reason = connection.status_message.clone().unwrap_or_else(|| {
                format!(
                    "its status is {}; see `jiraflow connection test {}`",
                    connection.status.as_str(),
                    connection.name
                )
            });
            return Err(ConnectionError::Unusable {
                name: connection.name,
                reason,
            });
        }
        Ok(connection)
    }

    fn cached(&self, id: ConnectionId) -> Option<Arc<JiraClient>> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    fn build(&self, connection: &Connection) -> Result<Arc<JiraClient>, ConnectionError> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        // Two callers may race to build the first client: the first one stored wins, so every
        // caller shares one set of rate-limit gates.
        if let Some(client) = cache.get(&connection.id) {
            return Ok(client.clone());
        }
        let client = JiraClient::builder(connection.instance_url.clone())
            .token_provider(JiraTokenProvider::shared(
                self.manager.clone(),
                connection.id,
            ))
            .build()
            .map_err(|e| ConnectionError::Client {
                name: connection.name.clone(),
                message: e.to_string(),
            })?;
        let client = Arc::new(client);
        cache.insert(connection.id, client.clone());
        Ok(client)
    }
}

/// Whether `user` may use `connection`: holders of `manage_integration_connections` use every
/// connection, everyone else the connections they created.
pub fn may_use(user: &User, connection: &Connection) -> bool {
    user.has(Permission::ManageIntegrationConnections) || connection.created_by == Some(user.id)
}

impl ClientSource for StoreClients {
    fn client<'a>(&'a self, name: &'a str) -> ClientFuture<'a> {
        Box::pin(async move {
            let connection = self.usable(name).await?;
            match self.cached(connection.id) {
                Some(client) => Ok(client),
                None => self.build(&connection),
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiraflow_oauth::{OAuthClient, TokenManagerConfig};
    use jiraflow_store::{
        AccessToken, ClientSecret, ConnectionSource, MasterKey, NewConnection, NewOAuthApp,
        NewTokens, NewUser, SqliteStore,
    };

    use super::*;

    struct Fixture {
        dir: std::path::PathBuf,
        store: Arc<dyn Store>,
        manager: Arc<TokenManager>,
        admin: User,
        member: User,
        connection: Connection,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// A store with an admin, a plain member and one active connection the admin created
    /// (tokens valid for an hour, so nothing calls the network).
    async fn fixture() -> Fixture {
        let dir = std::env::temp_dir().join(format!("jiraflow-clients-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let sqlite = SqliteStore::open(&dir.join("jiraflow.db"), MasterKey::generate())
            .await
            .unwrap();
        let store: Arc<dyn Store> = Arc::new(sqlite);
        let admin = store
            .create_user(NewUser {
                name: "ada".into(),
                permissions: vec![Permission::ManageIntegrationConnections],
            })
            .await
            .unwrap();
        let member = store
            .create_user(NewUser {
                name: "bob".into(),
                permissions: Vec::new(),
            })
            .await
            .unwrap();
        let app = store
            .create_oauth_app(NewOAuthApp::production(
                "prod",
                "client-id",
                ClientSecret::new("client-secret"),
                vec!["read:jira-work".into(), "offline_access".into()],
            ))
            .await
            .unwrap();
        let connection = store
            .create_connection(NewConnection {
                name: "acme".into(),
                description: String::new(),
                source: ConnectionSource::OAuthApp {
                    oauth_app_id: app.id,
                    tokens: NewTokens {
                        access_token: AccessToken::new("access"),
                        refresh_token: None,
                        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                        scopes: vec!["read:jira-work".into()],
                    },
                },
                cloud_id: "a1b2c3d4-0000-4000-8000-00000000ac3e".into(),
                site_url: Some("https://acme.atlassian.net".into()),
                created_by: Some(admin.id),
            })
            .await
            .unwrap();
        let manager = Arc::new(TokenManager::new(
            store.clone(),
            OAuthClient::new().unwrap(),
            TokenManagerConfig::default(),
        ));
        Fixture {
            dir,
            store,
            manager,
            admin,
            member,
            connection,
        }
    }

    #[tokio::test]
    async fn an_unknown_connection_name_is_refused_as_unknown() {
        let f = fixture().await;
        let clients = StoreClients::new(f.store.clone(), f.manager.clone());
        let err = clients.client("nope").await.unwrap_err();
        assert!(
            matches!(err, ConnectionError::Unknown(ref n) if n == "nope"),
            "{err}"
        );
        assert!(
            err.to_string().contains("jiraflow connection list"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_connection_waiting_for_a_reconnect_is_refused_with_its_status_message() {
        let f = fixture().await;
        f.store
            .mark_reconnect_required(f.connection.id, "the refresh token was revoked".into())
            .await
            .unwrap();
        let clients = StoreClients::new(f.store.clone(), f.manager.clone());
        let err = clients.client("ACME").await.unwrap_err();
        match err {
            ConnectionError::Unusable { name, reason } => {
                assert_eq!(name, "acme");
                assert_eq!(reason, "the refresh token was revoked");
            }
            other => panic!("expected Unusable, got {other}"),
        }
    }

    #[tokio::test]
    async fn one_client_is_shared_by_every_caller_of_a_connection() {
        let f = fixture().await;
        let clients = StoreClients::new(f.store.clone(), f.manager.clone());
        let first = clients.client("acme").await.unwrap();
        let second = clients.client("Acme").await.unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(
            first
                .api_base()
                .ends_with(&format!("/ex/jira/{}/rest/api/3", f.connection.cloud_id)),
            "{}",
            first.api_base()
        );
    }

    #[tokio::test]
    async fn a_user_without_the_permission_cannot_use_someone_elses_connection() {
        let f = fixture().await;
        let as_member =
            StoreClients::new(f.store.clone(), f.manager.clone()).acting_as(f.member.clone());
        let err = as_member.client("acme").await.unwrap_err();
        assert!(matches!(err, ConnectionError::Unknown(_)), "{err}");
        let as_admin =
            StoreClients::new(f.store.clone(), f.manager.clone()).acting_as(f.admin.clone());
        assert!(as_admin.client("acme").await.is_ok());
    }
}
