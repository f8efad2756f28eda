//! Test Connection: is the connection still usable, and does it have the scopes jiraflow needs?
//!
//! Three checks, each reported separately so the result names what is wrong: the token's
//! accessible resources still list the connection's cloud id; `GET {instance}/rest/api/3/myself`
//! answers; the granted scopes cover [`crate::REQUIRED_SCOPES`] plus `offline_access`.

use std::sync::Arc;

use jiraflow_store::{
    Connection, ConnectionId, ConnectionStatus, NamedCredentialId, RecordKind, Store, StoreError,
};
use serde::Serialize;

use crate::error::{OAuthError, OAuthResult};
use crate::manager::{TokenManager, app_credentials};
use crate::protocol::{OAuthClient, missing_scopes};

/// The structured result of Test Connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionCheck {
    /// The connection.
    pub connection_id: ConnectionId,
    /// Its name.
    pub name: String,
    /// Its cloud id.
    pub cloud_id: String,
    /// Whether accessible-resources still lists the cloud id.
    pub site_accessible: bool,
    /// HTTP status of `/rest/api/3/myself`, if it was reached.
    pub myself_status: Option<u16>,
    /// The account the connection acts as, when `/myself` answered.
    pub account_id: Option<String>,
    /// Its display name.
    pub display_name: Option<String>,
    /// Scopes granted on the site (plus `offline_access` when the token family has it).
    pub granted_scopes: Vec<String>,
    /// Required scopes that are missing.
    pub missing_scopes: Vec<String>,
    /// Every problem found, in words; empty when the connection is healthy.
    pub problems: Vec<String>,
}

impl ConnectionCheck {
    /// A result where nothing past the first problem could be checked.
    fn failed(connection: &Connection, problem: String) -> Self {
        Self {
            connection_id: connection.id,
            name: connection.name.clone(),
            cloud_id: connection.cloud_id.clone(),
            site_accessible: false,
            myself_status: None,
            account_id: None,
            display_name: None,
            granted_scopes: Vec::new(),
            missing_scopes: Vec::new(),
            problems: vec![problem],
        }
    }

    /// Whether every check passed.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Myself {
    account_id: Option<String>,
    display_name: Option<String>,
}

/// Runs Test Connection.
pub struct ConnectionChecker {
    store: Arc<dyn Store>,
    manager: Arc<TokenManager>,
    client: OAuthClient,
}

impl std::fmt::Debug for ConnectionChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionChecker").finish_non_exhaustive()
    }
}

impl ConnectionChecker {
    /// A checker using `manager` for tokens.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, manager: Arc<TokenManager>, client: OAuthClient) -> Self {
        Self {
            store,
            manager,
            client,
        }
    }

    /// For a connection on a named credential: the problem when the user it was made for holds
    /// no grant on the credential's principal (and no `manage_integration_connections`).
    async fn principal_grant_problem(
        &self,
        connection: &Connection,
        named_credential_id: NamedCredentialId,
    ) -> OAuthResult<Option<String>> {
        let credential = self
            .store
            .get_named_credential(named_credential_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: RecordKind::NamedCredential,
                id: named_credential_id.to_string(),
            })?;
        let user = match connection.created_by {
            Some(user_id) => self.store.get_user(user_id).await?,
            None => None,
        };
        let allowed = match &user {
            Some(user) => {
                crate::named::may_use_principal(self.store.as_ref(), user, named_credential_id)
                    .await?
            }
            None => false,
        };
        Ok((!allowed).then(|| crate::named::missing_grant_message(&credential.name)))
    }

    /// Tests the connection.
    ///
    /// # Errors
    /// Only when no check could run at all (unknown connection, dead token family, network).
    /// Failed checks are reported in the result's `problems`.
    pub async fn check(&self, connection_id: ConnectionId) -> OAuthResult<ConnectionCheck> {
        let connection = self
            .store
            .get_connection(connection_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: RecordKind::Connection,
                id: connection_id.to_string(),
            })?;
        if let Some(named_credential_id) = connection.named_credential_id {
            match self
                .principal_grant_problem(&connection, named_credential_id)
                .await?
            {
                Some(problem) => return Ok(ConnectionCheck::failed(&connection, problem)),
                None if connection.status == ConnectionStatus::Inactive => {
                    // The grant arrived since the connection was created: it may be used now.
                    self.store
                        .set_connection_status(connection_id, ConnectionStatus::Active, None)
                        .await?;
                }
                None => {}
            }
        }
        let token = self.manager.access_token(connection_id).await?;
        let credentials = app_credentials(self.store.as_ref(), connection.oauth_app_id).await?;
        let tokens = self.store.get_tokens(connection.token_family_id).await?;
        let mut problems = Vec::new();

        let resources = self
            .client
            .accessible_resources(&credentials.api_base_url, &token)
            .await?;
        let site = resources.iter().find(|r| r.id == connection.cloud_id);
        if site.is_none() {
            problems.push(format!(
                "the consent no longer covers the site {} (cloud id {}); reconnect and choose it",
                connection
                    .site_url
                    .as_deref()
                    .unwrap_or("of this connection"),
                connection.cloud_id
            ));
        }

        let mut granted: Vec<String> = site.map(|s| s.scopes.clone()).unwrap_or_default();
        if granted.is_empty() {
            granted.clone_from(&tokens.scopes);
        }
        if tokens
            .scopes
            .iter()
            .any(|s| s == crate::protocol::OFFLINE_ACCESS)
            || tokens.refresh_token.is_some()
        {
            granted.push(crate::protocol::OFFLINE_ACCESS.to_owned());
        }
        granted.sort();
        granted.dedup();
        let missing = missing_scopes(&granted);
        if !missing.is_empty() {
            problems.push(format!(
                "missing scopes: {}; add them to the OAuth app and reconnect",
                missing.join(", ")
            ));
        }

        let myself_url = format!(
            "{}/rest/api/3/myself",
            connection.instance_url.trim_end_matches('/')
        );
        let (myself_status, account_id, display_name) = match self
            .client
            .http()
            .get(&myself_url)
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    match response.json::<Myself>().await {
                        Ok(me) => (Some(status.as_u16()), me.account_id, me.display_name),
                        Err(_) => {
                            problems.push("/rest/api/3/myself answered an unexpected body".into());
                            (Some(status.as_u16()), None, None)
                        }
                    }
                } else {
                    problems.push(format!("/rest/api/3/myself answered HTTP {status}"));
                    (Some(status.as_u16()), None, None)
                }
            }
            Err(e) => {
                return Err(OAuthError::Transient {
                    endpoint: "myself",
                    status: None,
                    reason: if e.is_timeout() {
                        "timed out".into()
                    } else {
                        "request failed".into()
                    },
                });
            }
        };

        Ok(ConnectionCheck {
            connection_id,
            name: connection.name,
            cloud_id: connection.cloud_id,
            site_accessible: site.is_some(),
            myself_status,
            account_id,
            display_name,
            granted_scopes: granted,
            missing_scopes: missing,
            problems,
        })
    }
}
