//! The Jira clients the server and its workers share, remembered by connection name so
//! `/metrics` can report every client's request, retry and 429 counters (the clients own those
//! counters; this only keeps a handle on each client handed out).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use jiraflow_engine::connections::{ClientFuture, ClientSource};
use jiraflow_jira::{JiraClient, MetricsSnapshot};

/// A [`ClientSource`] that remembers the clients it returned.
pub struct MeteredClients {
    inner: Arc<dyn ClientSource>,
    seen: Mutex<BTreeMap<String, Arc<JiraClient>>>,
}

impl std::fmt::Debug for MeteredClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredClients").finish_non_exhaustive()
    }
}

impl MeteredClients {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ClientSource>) -> Self {
        Self {
            inner,
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// Each connection's client counters, by lowercased connection name.
    pub fn snapshots(&self) -> Vec<(String, MetricsSnapshot)> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, client)| (name.clone(), client.metrics()))
            .collect()
    }
}

impl ClientSource for MeteredClients {
    fn client<'a>(&'a self, name: &'a str) -> ClientFuture<'a> {
        Box::pin(async move {
            let client = self.inner.client(name).await?;
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.to_lowercase(), client.clone());
            Ok(client)
        })
    }
}
