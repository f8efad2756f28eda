//! Where the executor and the `action` command get a Jira client for a connection name:
//! [`ClientSource`], and its store-backed implementation [`StoreClients`] (tokens through the
//! OAuth token manager, one cached client per connection, refused with the connection's own
//! reason while it needs a reconnect).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jiraflow_jira::JiraClient;

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
