//! Records the store keeps and the inputs that create them. Records returned to callers never
//! carry a secret except [`TokenSet`] (which the token manager needs) and [`CreatedApiKey`]
//! (shown once); both redact secrets in `Debug` and none implements `Serialize`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    ApiKeyId, ConnectionId, LeaseId, NamedCredentialId, OAuthAppId, PendingAuthId, TokenFamilyId,
    UserId,
};
use crate::secret::{AccessToken, ApiKeySecret, ClientSecret, RefreshToken};

/// Atlassian's production authorization server.
pub const PRODUCTION_AUTH_BASE_URL: &str = "https://auth.atlassian.com";
/// Atlassian's production API gateway.
pub const PRODUCTION_API_BASE_URL: &str = "https://api.atlassian.com";

/// A permission a user can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Permission {
    /// See and use every connection, and manage OAuth apps and named credentials.
    ManageIntegrationConnections,
}

impl Permission {
    /// The stored, stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManageIntegrationConnections => "manage_integration_connections",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manage_integration_connections" => Some(Self::ManageIntegrationConnections),
            _ => None,
        }
    }
}

/// A jiraflow user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Unique (case-insensitive) login name.
    pub name: String,
    /// Granted permissions, sorted.
    pub permissions: Vec<Permission>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// Whether the user holds `permission`.
    #[must_use]
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

/// Input for a new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique (case-insensitive) login name.
    pub name: String,
    /// Initial permissions.
    pub permissions: Vec<Permission>,
}

/// An API key's public record (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRecord {
    /// Id.
    pub id: ApiKeyId,
    /// Owner.
    pub user_id: UserId,
    /// Free-text label.
    pub label: String,
    /// The first characters of the key, for recognising it in a list.
    pub prefix: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A newly created API key: the only moment the clear key is available.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    /// The stored record.
    pub record: ApiKeyRecord,
    /// The key in clear; show it once.
    pub key: ApiKeySecret,
}

/// Which Atlassian environment an OAuth app or connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// The real Atlassian Cloud.
    Production,
    /// A `jiraflow sim` simulator.
    Sandbox,
}

impl Environment {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Sandbox => "sandbox",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "production" => Some(Self::Production),
            "sandbox" => Some(Self::Sandbox),
            _ => None,
        }
    }
}

/// An OAuth app (external credential). The client secret is write-only: it is not part of this
/// record; read it with `OAuthAppStore::oauth_app_client_secret` at the point of use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthApp {
    /// Id.
    pub id: OAuthAppId,
    /// Unique (case-insensitive) name.
    pub name: String,
    /// OAuth client id (public).
    pub client_id: String,
    /// Scopes requested at consent.
    pub scopes: Vec<String>,
    /// Authorization server base URL (`/authorize`, `/oauth/token`).
    pub auth_base_url: String,
    /// API gateway base URL (`/oauth/token/accessible-resources`, `/ex/jira/{cloudId}`).
    pub api_base_url: String,
    /// Environment.
    pub environment: Environment,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Input for a new OAuth app.
#[derive(Debug, Clone)]
pub struct NewOAuthApp {
    /// Unique (case-insensitive) name.
    pub name: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret (sealed before it is stored).
    pub client_secret: ClientSecret,
    /// Scopes requested at consent.
    pub scopes: Vec<String>,
    /// Authorization server base URL.
    pub auth_base_url: String,
    /// API gateway base URL.
    pub api_base_url: String,
    /// Environment.
    pub environment: Environment,
}

impl NewOAuthApp {
    /// A production app with Atlassian's default URLs.
    #[must_use]
    pub fn production(
        name: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
        scopes: Vec<String>,
    ) -> Self {
        Self {
            name: name.into(),
            client_id: client_id.into(),
            client_secret,
            scopes,
            auth_base_url: PRODUCTION_AUTH_BASE_URL.to_owned(),
            api_base_url: PRODUCTION_API_BASE_URL.to_owned(),
            environment: Environment::Production,
        }
    }
}

/// What a pending authorization will do when its callback arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingPurpose {
    /// Create a new standard connection from this draft.
    NewConnection {
        /// Unique connection name.
        name: String,
        /// Description.
        description: String,
        /// Site URL the user typed, if any (resolved via `/_edge/tenant_info`).
        site_url: Option<String>,
    },
    /// Replace the token family of an existing connection (same connection id).
    Reconnect {
        /// The connection.
        connection_id: ConnectionId,
    },
    /// Create a named credential whose principal is this consent.
    NewNamedCredential {
        /// Unique name.
        name: String,
        /// Instance URL (`https://api.atlassian.com/ex/jira/{cloudId}`), if already known.
        url: Option<String>,
    },
    /// Replace a named credential's principal token family.
    ReconnectNamedCredential {
        /// The named credential.
        named_credential_id: NamedCredentialId,
    },
}

/// Input for a pending authorization.
#[derive(Debug, Clone)]
pub struct NewPendingAuthorization {
    /// The user who started the flow; only they can complete it.
    pub user_id: UserId,
    /// The OAuth app used.
    pub oauth_app_id: OAuthAppId,
    /// What to do on callback.
    pub purpose: PendingPurpose,
    /// The exact redirect URI sent in the authorization request.
    pub redirect_uri: String,
    /// Requested scopes.
    pub scopes: Vec<String>,
    /// How long the state stays valid.
    pub ttl: Duration,
}

/// A pending authorization (the state itself is not kept, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// Id.
    pub id: PendingAuthId,
    /// The initiating user.
    pub user_id: UserId,
    /// The OAuth app used.
    pub oauth_app_id: OAuthAppId,
    /// What to do on callback.
    pub purpose: PendingPurpose,
    /// The exact redirect URI to send again at the token endpoint.
    pub redirect_uri: String,
    /// Requested scopes.
    pub scopes: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// A connection's lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Usable.
    Active,
    /// The token family is dead (`invalid_grant`); triggers are stopped until the user reconnects.
    ReconnectRequired,
    /// Disabled by an administrator.
    Inactive,
}

impl ConnectionStatus {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::ReconnectRequired => "reconnect_required",
            Self::Inactive => "inactive",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "reconnect_required" => Some(Self::ReconnectRequired),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// How a connection authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// Its own token family, obtained by the authorization code flow.
    Standard,
    /// A named credential's principal token family; details are read-only.
    NamedCredential,
}

impl ConnectionKind {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::NamedCredential => "named_credential",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(Self::Standard),
            "named_credential" => Some(Self::NamedCredential),
            _ => None,
        }
    }
}

/// A connection to one Jira Cloud site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Id.
    pub id: ConnectionId,
    /// Unique (case-insensitive) name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Environment (from its OAuth app).
    pub environment: Environment,
    /// The OAuth app its tokens belong to.
    pub oauth_app_id: OAuthAppId,
    /// Jira Cloud id.
    pub cloud_id: String,
    /// `{api_base_url}/ex/jira/{cloudId}` (or the named credential's URL).
    pub instance_url: String,
    /// The site URL (`https://x.atlassian.net`), when known.
    pub site_url: Option<String>,
    /// Status.
    pub status: ConnectionStatus,
    /// Why the status is not `active`.
    pub status_message: Option<String>,
    /// Kind.
    pub kind: ConnectionKind,
    /// The named credential, for kind `named_credential`.
    pub named_credential_id: Option<NamedCredentialId>,
    /// The token family that authenticates it (the credential's principal for named credentials).
    pub token_family_id: TokenFamilyId,
    /// The user who created it.
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Where a new connection's credentials come from.
#[derive(Debug, Clone)]
pub enum ConnectionSource {
    /// A fresh consent: a new token family owned by the connection.
    OAuthApp {
        /// The app consented to.
        oauth_app_id: OAuthAppId,
        /// The tokens from the code exchange.
        tokens: NewTokens,
    },
    /// An existing named credential; the connection uses its principal.
    NamedCredential {
        /// The named credential.
        named_credential_id: NamedCredentialId,
    },
}

/// Input for a new connection.
#[derive(Debug, Clone)]
pub struct NewConnection {
    /// Unique (case-insensitive) name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Credentials.
    pub source: ConnectionSource,
    /// Jira Cloud id chosen from accessible-resources.
    pub cloud_id: String,
    /// Site URL, when known.
    pub site_url: Option<String>,
    /// Creating user.
    pub created_by: Option<UserId>,
}

/// Editable connection fields (`None` leaves a field unchanged).
#[derive(Debug, Clone, Default)]
pub struct ConnectionUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// Tokens obtained by a consent (code exchange).
#[derive(Debug, Clone)]
pub struct NewTokens {
    /// Access token.
    pub access_token: AccessToken,
    /// Refresh token (present when `offline_access` was granted).
    pub refresh_token: Option<RefreshToken>,
    /// Access token expiry.
    pub expires_at: DateTime<Utc>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// Tokens obtained by a refresh.
#[derive(Debug, Clone)]
pub struct RefreshedTokens {
    /// New access token.
    pub access_token: AccessToken,
    /// New refresh token; `None` keeps the stored one (the server did not rotate it).
    pub refresh_token: Option<RefreshToken>,
    /// New expiry.
    pub expires_at: DateTime<Utc>,
    /// Scopes, when the response listed them; `None` keeps the stored ones.
    pub scopes: Option<Vec<String>>,
}

/// A token family's current state, decrypted.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The family.
    pub family_id: TokenFamilyId,
    /// Current access token.
    pub access_token: AccessToken,
    /// Current refresh token.
    pub refresh_token: Option<RefreshToken>,
    /// Access token expiry.
    pub expires_at: DateTime<Utc>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Generation, bumped by every refresh and replacement; the compare-and-swap key.
    pub version: i64,
    /// When the family was obtained by consent (absolute expiry is counted from here).
    pub family_created_at: DateTime<Utc>,
    /// Last successful refresh.
    pub last_refreshed_at: Option<DateTime<Utc>>,
}

/// A held refresh lease: the cross-process right to call the token endpoint for a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshLease {
    /// The family.
    pub family_id: TokenFamilyId,
    /// Unique id of this acquisition.
    pub lease_id: LeaseId,
    /// Who holds it (process/host label, for diagnostics).
    pub owner: String,
    /// When it lapses unless released earlier.
    pub until: DateTime<Utc>,
}

/// A named credential: URL + external credential (OAuth app) + exactly one principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedCredential {
    /// Id.
    pub id: NamedCredentialId,
    /// Unique (case-insensitive) name.
    pub name: String,
    /// Instance URL (`https://api.atlassian.com/ex/jira/{cloudId}`).
    pub url: String,
    /// The external credential.
    pub oauth_app_id: OAuthAppId,
    /// The principal's token family.
    pub principal_family_id: TokenFamilyId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Input for a new named credential.
#[derive(Debug, Clone)]
pub struct NewNamedCredential {
    /// Unique (case-insensitive) name.
    pub name: String,
    /// Instance URL.
    pub url: String,
    /// The external credential.
    pub oauth_app_id: OAuthAppId,
    /// The principal's tokens from consent.
    pub principal: NewTokens,
}
