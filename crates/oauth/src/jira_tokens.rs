//! The Jira client's [`TokenProvider`] for one connection, backed by the [`TokenManager`].
//!
//! The client calls `token()` before every attempt and `invalidate(seen)` when Jira rejects a
//! token. `invalidate` is synchronous, so it only remembers the rejected token; the next `token()`
//! turns it into [`TokenManager::force_refresh`], which refreshes only if that token is still the
//! stored one (many requests failing with one stale token cause a single refresh).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jiraflow_jira::{BearerToken, TokenProvider};
use jiraflow_store::{AccessToken, ConnectionId};

use crate::error::OAuthError;
use crate::manager::{ConnectionTokenSource, TokenManager};

/// A [`TokenProvider`] serving one connection's tokens.
#[derive(Debug)]
pub struct JiraTokenProvider {
    source: ConnectionTokenSource,
}

impl JiraTokenProvider {
    /// A provider for `connection_id`.
    #[must_use]
    pub fn new(manager: Arc<TokenManager>, connection_id: ConnectionId) -> Self {
        Self {
            source: ConnectionTokenSource::new(manager, connection_id),
        }
    }

    /// Convenience: the provider as the `Arc<dyn TokenProvider>` the client builder takes.
    #[must_use]
    pub fn shared(
        manager: Arc<TokenManager>,
        connection_id: ConnectionId,
    ) -> Arc<dyn TokenProvider> {
        Arc::new(Self::new(manager, connection_id))
    }
}

/// Maps a token failure to the Jira client's error, keeping "a person must reconnect" visible.
fn to_jira_error(e: &OAuthError) -> jiraflow_jira::Error {
    jiraflow_jira::Error::Token {
        message: e.to_string(),
        reauthorize: e.needs_reconsent(),
    }
}

impl TokenProvider for JiraTokenProvider {
    fn token(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<BearerToken, jiraflow_jira::Error>> + Send + '_>> {
        Box::pin(async move {
            self.source
                .token()
                .await
                .map(|t| BearerToken::new(t.expose().to_owned()))
                .map_err(|e| to_jira_error(&e))
        })
    }

    fn invalidate(&self, seen: &BearerToken) {
        self.source
            .invalidate(&AccessToken::new(seen.expose_secret().to_owned()));
    }
}
