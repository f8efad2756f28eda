//! The connect and reconnect flows (authorization code grant).
//!
//! [`ConnectFlow::begin_connect`] records a pending authorization (the store keeps only the
//! state's hash, bound to the initiating user, expiring, single-use) and returns the URL to open.
//! [`ConnectFlow::complete`] takes the callback: it consumes the state, exchanges the code,
//! resolves the Jira site and checks the granted scopes, and only then writes, in one store call
//! (a connection with its token family, or a family replacement for a reconnect). Every failure
//! before that write leaves nothing behind.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiraflow_store::{
    Connection, ConnectionId, ConnectionKind, ConnectionSource, Environment, NamedCredential,
    NewConnection, NewPendingAuthorization, OAuthAppId, PendingPurpose, Permission, RecordKind,
    StateToken, Store, StoreError, User,
};
use url::Url;

use crate::error::{OAuthError, OAuthResult, SiteChoice};
use crate::manager::app_credentials;
use crate::protocol::{
    AccessibleResource, OAuthClient, authorize_url, missing_scopes, normalize_scopes,
    validate_site_url,
};

/// Default lifetime of an authorization `state`.
pub const DEFAULT_STATE_TTL: Duration = Duration::from_secs(600);

/// What the user asks for when creating a connection.
#[derive(Debug, Clone)]
pub struct ConnectDraft {
    /// Unique connection name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// The OAuth app (external credential) to consent to; its environment is the connection's.
    pub oauth_app_id: OAuthAppId,
    /// Site URL (`https://x.atlassian.net`), needed when the consent may cover several sites.
    pub site_url: Option<String>,
}

/// A started authorization: open `authorization_url` in a browser.
#[derive(Debug, Clone)]
pub struct StartedAuthorization {
    /// The URL to open.
    pub authorization_url: Url,
    /// When the state expires.
    pub expires_at: DateTime<Utc>,
}

/// The parameters of the OAuth callback (`redirect_uri?code=..&state=..` or `?error=..`).
#[derive(Clone, Default)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state.
    pub state: Option<String>,
    /// The `error` code, when the authorization failed.
    pub error: Option<String>,
    /// The `error_description`.
    pub error_description: Option<String>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "[REDACTED]"))
            .field("state", &self.state.as_ref().map(|_| "[REDACTED]"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

impl Callback {
    /// Reads the callback parameters from the redirect URL (or just its query string).
    #[must_use]
    pub fn from_query(query: &str) -> Self {
        let query = query.split_once('?').map_or(query, |(_, q)| q);
        let mut out = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let v = Some(v.into_owned());
            match k.as_ref() {
                "code" => out.code = v,
                "state" => out.state = v,
                "error" => out.error = v,
                "error_description" => out.error_description = v,
                _ => {}
            }
        }
        out
    }
}

/// The outcome of a completed flow.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The connection (new, or reconnected with a fresh token family).
    pub connection: Connection,
    /// Whether this replaced the token family of an existing connection.
    pub reconnected: bool,
    /// The scopes granted.
    pub granted_scopes: Vec<String>,
}

/// The outcome of [`ConnectFlow::complete`]: what the authorization was started for.
#[derive(Debug, Clone)]
pub enum Completed {
    /// A standard connection was created or reconnected.
    Connection(Connected),
    /// A named credential was created or its principal reconnected.
    NamedCredential {
        /// The credential.
        credential: NamedCredential,
        /// Whether this replaced the principal's token family.
        reconnected: bool,
    },
}

impl Completed {
    /// The connection, when the flow was for one.
    #[must_use]
    pub fn into_connection(self) -> Option<Connected> {
        match self {
            Self::Connection(c) => Some(c),
            Self::NamedCredential { .. } => None,
        }
    }
}

/// The cloud id in an instance URL (`.../ex/jira/{cloudId}`), if it is one.
#[must_use]
pub fn cloud_id_of_instance_url(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("/ex/jira/")?;
    let id = rest.split(['/', '?', '#']).next()?;
    (!id.is_empty()).then_some(id)
}

/// The connect / reconnect flows.
pub struct ConnectFlow {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) client: OAuthClient,
    state_ttl: Duration,
}

impl std::fmt::Debug for ConnectFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectFlow")
            .field("state_ttl", &self.state_ttl)
            .finish_non_exhaustive()
    }
}

impl ConnectFlow {
    /// A flow over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, client: OAuthClient) -> Self {
        Self {
            store,
            client,
            state_ttl: DEFAULT_STATE_TTL,
        }
    }

    /// Changes the state lifetime.
    #[must_use]
    pub fn with_state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// Starts a new connection: validates the draft, records the pending authorization and
    /// returns the authorization URL.
    ///
    /// # Errors
    /// `Invalid` / `InvalidUrl` for bad input, `Duplicate` (store) for a taken name.
    pub async fn begin_connect(
        &self,
        user: &User,
        draft: ConnectDraft,
        redirect_uri: &str,
    ) -> OAuthResult<StartedAuthorization> {
        let name = draft.name.trim().to_owned();
        if name.is_empty() {
            return Err(OAuthError::invalid("name", "a connection needs a name"));
        }
        if self.store.find_connection_by_name(&name).await?.is_some() {
            return Err(StoreError::Duplicate {
                kind: RecordKind::Connection,
                name,
            }
            .into());
        }
        let app = self.app(draft.oauth_app_id).await?;
        let site_url = match draft.site_url.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => {
                Some(validate_site_url(raw, sandbox_base(&app)?.as_ref())?.to_string())
            }
            _ => None,
        };
        let purpose = PendingPurpose::NewConnection {
            name,
            description: draft.description.trim().to_owned(),
            site_url,
        };
        self.start(user, app.id, purpose, redirect_uri).await
    }

    /// Starts a reconnect of an existing standard connection (same id; its token family is
    /// replaced when the flow completes).
    ///
    /// # Errors
    /// `NotFound`, `Forbidden`, or `Invalid` for a connection built on a named credential.
    pub async fn begin_reconnect(
        &self,
        user: &User,
        connection_id: ConnectionId,
        redirect_uri: &str,
    ) -> OAuthResult<StartedAuthorization> {
        let connection = self.connection(connection_id).await?;
        if connection.kind != ConnectionKind::Standard {
            return Err(OAuthError::invalid(
                "connection",
                "this connection uses a named credential; reconnect the named credential instead",
            ));
        }
        if connection.created_by != Some(user.id)
            && !user.has(Permission::ManageIntegrationConnections)
        {
            return Err(OAuthError::Forbidden(format!(
                "you may not reconnect {:?}: it belongs to another user and you lack \
                 manage_integration_connections",
                connection.name
            )));
        }
        let purpose = PendingPurpose::Reconnect { connection_id };
        self.start(user, connection.oauth_app_id, purpose, redirect_uri)
            .await
    }

    pub(crate) async fn start(
        &self,
        user: &User,
        app_id: OAuthAppId,
        purpose: PendingPurpose,
        redirect_uri: &str,
    ) -> OAuthResult<StartedAuthorization> {
        let redirect = Url::parse(redirect_uri)
            .map_err(|e| OAuthError::invalid("redirect URI", format!("{redirect_uri:?}: {e}")))?;
        if !matches!(redirect.scheme(), "http" | "https") || redirect.fragment().is_some() {
            return Err(OAuthError::invalid(
                "redirect URI",
                "must be an absolute http(s) URL without a fragment",
            ));
        }
        let app = self.app(app_id).await?;
        let credentials = app_credentials(self.store.as_ref(), app_id).await?;
        let scopes = normalize_scopes(&app.scopes);
        let (state, pending) = self
            .store
            .create_pending(NewPendingAuthorization {
                user_id: user.id,
                oauth_app_id: app_id,
                purpose,
                // Kept exactly as given: the token endpoint compares it byte for byte.
                redirect_uri: redirect_uri.to_owned(),
                scopes: scopes.clone(),
                ttl: self.state_ttl,
            })
            .await?;
        let authorization_url = authorize_url(&credentials, redirect_uri, &scopes, state.expose())?;
        Ok(StartedAuthorization {
            authorization_url,
            expires_at: pending.expires_at,
        })
    }

    /// Completes a flow from its callback.
    ///
    /// # Errors
    /// A rejected state (`is_state_rejected`), `ConsentDenied`, `InvalidGrant` (expired or reused
    /// code), `ClientAuthentication` (wrong secret), `UnknownSite`, `SiteChoiceRequired`,
    /// `MissingScopes`, `Duplicate` (store). Nothing is created on any error.
    pub async fn complete(&self, user: &User, callback: Callback) -> OAuthResult<Completed> {
        let state = callback
            .state
            .filter(|s| !s.is_empty())
            .ok_or_else(|| OAuthError::invalid("state", "the callback has no state parameter"))?;
        // Consumed first (single use), even when the callback reports an error.
        let pending = self
            .store
            .take_pending(&StateToken::new(state), user.id)
            .await?;
        if let Some(error) = callback.error {
            let description = callback.error_description.unwrap_or_default();
            return Err(if error == "access_denied" {
                OAuthError::ConsentDenied { description }
            } else {
                OAuthError::Authorization { error, description }
            });
        }
        let code = callback
            .code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::invalid("code", "the callback has no code parameter"))?;
        let app = self.app(pending.oauth_app_id).await?;
        let credentials = app_credentials(self.store.as_ref(), app.id).await?;
        let answer = self
            .client
            .exchange_code(&credentials, &code, &pending.redirect_uri)
            .await?;
        drop(code);
        let granted = answer
            .scopes
            .clone()
            .unwrap_or_else(|| pending.scopes.clone());
        let missing = missing_scopes(&granted);
        if !missing.is_empty() {
            return Err(OAuthError::MissingScopes { missing });
        }
        if answer.refresh_token.is_none() {
            return Err(OAuthError::MissingScopes {
                missing: vec![crate::protocol::OFFLINE_ACCESS.to_owned()],
            });
        }
        let resources = self
            .client
            .accessible_resources(&credentials.api_base_url, &answer.access_token)
            .await?;
        let tokens = answer.into_new_tokens(Utc::now());
        match pending.purpose {
            PendingPurpose::NewConnection {
                name,
                description,
                site_url,
            } => {
                let site = self
                    .choose_site(&app, &resources, site_url.as_deref())
                    .await?;
                check_site_scopes(site)?;
                let connection = self
                    .store
                    .create_connection(NewConnection {
                        name,
                        description,
                        source: ConnectionSource::OAuthApp {
                            oauth_app_id: app.id,
                            tokens,
                        },
                        cloud_id: site.id.clone(),
                        site_url: (!site.url.is_empty()).then(|| site.url.clone()),
                        created_by: Some(user.id),
                    })
                    .await?;
                tracing::info!(connection = %connection.id, "connection created");
                Ok(Completed::Connection(Connected {
                    connection,
                    reconnected: false,
                    granted_scopes: granted,
                }))
            }
            PendingPurpose::Reconnect { connection_id } => {
                let connection = self.connection(connection_id).await?;
                let site = resources
                    .iter()
                    .find(|r| r.id == connection.cloud_id)
                    .ok_or_else(|| OAuthError::UnknownSite {
                        site_url: connection
                            .site_url
                            .clone()
                            .unwrap_or_else(|| connection.cloud_id.clone()),
                        reason: "is not covered by the new consent; choose this connection's \
                                 site on the consent page"
                            .to_owned(),
                    })?;
                check_site_scopes(site)?;
                self.store
                    .replace_family(connection.token_family_id, tokens)
                    .await?;
                let connection = self.connection(connection_id).await?;
                tracing::info!(connection = %connection.id, "connection reconnected");
                Ok(Completed::Connection(Connected {
                    connection,
                    reconnected: true,
                    granted_scopes: granted,
                }))
            }
            purpose => crate::named::complete_named(self, &app, purpose, &resources, tokens).await,
        }
    }

    pub(crate) async fn choose_site<'r>(
        &self,
        app: &jiraflow_store::OAuthApp,
        resources: &'r [AccessibleResource],
        site_url: Option<&str>,
    ) -> OAuthResult<&'r AccessibleResource> {
        if let Some(raw) = site_url {
            let url = validate_site_url(raw, sandbox_base(app)?.as_ref())?;
            // An instance URL names its cloud id; a site URL is resolved by the site itself.
            let cloud_id = match cloud_id_of_instance_url(url.as_str()) {
                Some(id) => id.to_owned(),
                None => self.client.tenant_info(&url).await?,
            };
            return resources.iter().find(|r| r.id == cloud_id).ok_or_else(|| {
                OAuthError::UnknownSite {
                    site_url: raw.to_owned(),
                    reason: "is not covered by this consent; choose it on the consent page"
                        .to_owned(),
                }
            });
        }
        match resources {
            [] => Err(OAuthError::NoSites),
            [one] => Ok(one),
            many => {
                let mut sites: Vec<SiteChoice> = many
                    .iter()
                    .map(|r| SiteChoice {
                        cloud_id: r.id.clone(),
                        name: r.name.clone(),
                        url: r.url.clone(),
                    })
                    .collect();
                // accessible-resources is unordered; sort so the message is stable.
                sites.sort_by(|a, b| a.name.cmp(&b.name));
                Err(OAuthError::SiteChoiceRequired { sites })
            }
        }
    }

    pub(crate) async fn app(&self, id: OAuthAppId) -> OAuthResult<jiraflow_store::OAuthApp> {
        Ok(self
            .store
            .get_oauth_app(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: RecordKind::OAuthApp,
                id: id.to_string(),
            })?)
    }

    async fn connection(&self, id: ConnectionId) -> OAuthResult<Connection> {
        Ok(self
            .store
            .get_connection(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: RecordKind::Connection,
                id: id.to_string(),
            })?)
    }
}

/// The per-site product scopes must cover the required ones (Atlassian once unioned scopes across
/// sites in the token answer; the per-site list is authoritative).
pub(crate) fn check_site_scopes(site: &AccessibleResource) -> OAuthResult<()> {
    if site.scopes.is_empty() {
        return Ok(());
    }
    let mut granted = site.scopes.clone();
    granted.push(crate::protocol::OFFLINE_ACCESS.to_owned());
    let missing = missing_scopes(&granted);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(OAuthError::MissingScopes { missing })
    }
}

/// The sandbox base URL (site URLs live under it) for a sandbox app.
pub(crate) fn sandbox_base(app: &jiraflow_store::OAuthApp) -> OAuthResult<Option<Url>> {
    match app.environment {
        Environment::Production => Ok(None),
        Environment::Sandbox => Url::parse(&app.api_base_url).map(Some).map_err(|e| {
            OAuthError::invalid("API base URL", format!("{:?}: {e}", app.api_base_url))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_read_from_a_full_redirect_url() {
        let cb = Callback::from_query("http://127.0.0.1:8080/oauth/callback?code=abc&state=xyz");
        assert_eq!(cb.code.as_deref(), Some("abc"));
        assert_eq!(cb.state.as_deref(), Some("xyz"));
        assert!(cb.error.is_none());
    }

    #[test]
    fn callback_debug_hides_code_and_state() {
        let cb = Callback::from_query("code=secret-code&state=secret-state");
        let shown = format!("{cb:?}");
        assert!(!shown.contains("secret-"), "{shown}");
    }

    #[test]
    fn the_cloud_id_is_read_from_an_instance_url() {
        assert_eq!(
            cloud_id_of_instance_url("https://api.atlassian.com/ex/jira/abc-123/"),
            Some("abc-123")
        );
        assert_eq!(cloud_id_of_instance_url("https://acme.atlassian.net"), None);
    }

    #[test]
    fn a_denied_callback_keeps_its_error() {
        let cb = Callback::from_query("error=access_denied&error_description=User+denied&state=s");
        assert_eq!(cb.error.as_deref(), Some("access_denied"));
        assert_eq!(cb.error_description.as_deref(), Some("User denied"));
    }
}
