//! Atlassian OAuth 2.0 (3LO) for jiraflow: the authorization URL and its single-use state, the
//! code exchange, rotating refresh tokens refreshed single-flight per connection (inside a process
//! and across processes), accessible resources and cloud id discovery.
//!
//! - [`protocol`]: the wire protocol against `auth.atlassian.com` / `api.atlassian.com`.
//! - [`connect`]: the connect and reconnect flows (authorization code, state, site resolution).
//! - [`manager`]: [`TokenManager`], proactive single-flight refresh over the store's lease and
//!   version compare-and-swap.
//! - [`named`]: named credentials (admin consent, principal grants, connections on them).
//! - [`check`]: Test Connection.
//! - [`jira_tokens`]: the Jira client's `TokenProvider` for a connection.
//!
//! See `docs/connections.md`.

pub mod check;
pub mod connect;
pub mod error;
pub mod jira_tokens;
pub mod manager;
pub mod named;
pub mod protocol;
pub mod site;

pub use check::{ConnectionCheck, ConnectionChecker};
pub use connect::{
    Callback, Completed, ConnectDraft, ConnectFlow, Connected, StartedAuthorization,
};
pub use error::{OAuthError, OAuthResult, SiteChoice};
pub use jira_tokens::JiraTokenProvider;
pub use manager::{ConnectionTokenSource, TokenManager, TokenManagerConfig};
pub use named::NamedCredentialDraft;
pub use protocol::{
    AccessibleResource, AppCredentials, HttpTimeouts, OAuthClient, REQUIRED_SCOPES, TokenResponse,
    authorize_url, missing_scopes, validate_site_url,
};
