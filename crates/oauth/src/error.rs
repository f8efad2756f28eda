//! The crate's single error type. Callers branch on the predicates ([`OAuthError::is_terminal`],
//! [`OAuthError::is_transient`], [`OAuthError::needs_reconsent`], ...) rather than on variants.
//!
//! No variant carries a token, a code, a state or a client secret: the token endpoint's
//! `error_description` is kept because Atlassian never echoes credentials in it, and it is what an
//! operator needs to see.

use jiraflow_store::StoreError;

/// A site the grant covers, offered when the user has to choose one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SiteChoice {
    /// Jira Cloud id.
    pub cloud_id: String,
    /// Site name.
    pub name: String,
    /// Site URL (`https://x.atlassian.net`).
    pub url: String,
}

/// Everything that can go wrong in OAuth and connection handling.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The token endpoint refused the grant (`invalid_grant`): the refresh token is dead (expired,
    /// revoked, rotated out) or the code is unknown, expired or already used.
    #[error("the authorization server refused the grant (invalid_grant: {description})")]
    InvalidGrant {
        /// The server's `error_description`.
        description: String,
    },
    /// The token endpoint rejected the client credentials (401 `access_denied`): a configuration
    /// error, not something a new consent fixes.
    #[error(
        "the authorization server rejected the OAuth app's client id or secret (HTTP {status}); \
         check the app's client id and secret"
    )]
    ClientAuthentication {
        /// HTTP status.
        status: u16,
    },
    /// The user denied consent (`error=access_denied` in the callback).
    #[error("consent was denied at the authorization server: {description}")]
    ConsentDenied {
        /// The server's `error_description`.
        description: String,
    },
    /// The authorization server answered the callback with another error.
    #[error("the authorization failed: {error}: {description}")]
    Authorization {
        /// The `error` code.
        error: String,
        /// The `error_description`.
        description: String,
    },
    /// The token endpoint refused the request for another reason (4xx other than the above): a
    /// programming or configuration error.
    #[error("the token endpoint refused the request (HTTP {status}, {error}: {description})")]
    Protocol {
        /// HTTP status.
        status: u16,
        /// The `error` code, if any.
        error: String,
        /// The `error_description`, if any.
        description: String,
    },
    /// Network failure, timeout, 429 or 5xx: retry later with the same refresh token.
    #[error("temporary failure talking to {endpoint}: {reason}")]
    Transient {
        /// Which endpoint (no query string).
        endpoint: &'static str,
        /// HTTP status, if any.
        status: Option<u16>,
        /// What happened.
        reason: String,
    },
    /// A response could not be understood.
    #[error("unexpected response from {endpoint}: {reason}")]
    Decode {
        /// Which endpoint.
        endpoint: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A URL is not an Atlassian gateway/site (nor the configured sandbox).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it is rejected.
        reason: String,
    },
    /// Input rejected before anything was sent or written.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The site URL is unknown, or the grant does not cover it.
    #[error("the site {site_url:?} {reason}")]
    UnknownSite {
        /// The site URL as given.
        site_url: String,
        /// Why.
        reason: String,
    },
    /// The grant covers several sites and none was chosen.
    #[error(
        "the consent covers several Jira sites ({}); start again and choose one with its site URL",
        sites.iter().map(|s| format!("{} <{}>", s.name, s.url)).collect::<Vec<_>>().join(", ")
    )]
    SiteChoiceRequired {
        /// The sites to choose from.
        sites: Vec<SiteChoice>,
    },
    /// The grant covers no Jira site at all.
    #[error("the consent does not cover any Jira site")]
    NoSites,
    /// Required scopes were not granted.
    #[error("the consent is missing required scopes: {}; add them to the OAuth app and connect again", missing.join(", "))]
    MissingScopes {
        /// The scopes that are missing.
        missing: Vec<String>,
    },
    /// The connection's token family is dead; the user must reconnect.
    #[error("connection {connection:?} must be reconnected: {message}")]
    ReconnectRequired {
        /// The connection's name.
        connection: String,
        /// Why.
        message: String,
    },
    /// The connection is not usable (for example disabled).
    #[error("connection {connection:?} is {status}")]
    ConnectionUnavailable {
        /// The connection's name.
        connection: String,
        /// Its status.
        status: &'static str,
    },
    /// Another process kept the refresh lease and no fresh token appeared in time.
    #[error(
        "timed out waiting for another process to refresh the tokens of connection {connection:?}"
    )]
    RefreshBusy {
        /// The connection's name.
        connection: String,
    },
    /// The user may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Storage failure (includes rejected or expired OAuth states).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OAuthError {
    /// Retrying later (with the same refresh token) may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transient { .. } | Self::Decode { .. } | Self::RefreshBusy { .. } => true,
            Self::Store(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Retrying will not help; something must change first (consent, configuration or input).
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        !self.is_transient()
    }

    /// Only a new consent (reconnect) fixes this.
    #[must_use]
    pub fn needs_reconsent(&self) -> bool {
        matches!(
            self,
            Self::InvalidGrant { .. } | Self::ReconnectRequired { .. } | Self::MissingScopes { .. }
        )
    }

    /// The OAuth app or server configuration is wrong (client credentials, protocol errors).
    #[must_use]
    pub fn is_config_error(&self) -> bool {
        matches!(
            self,
            Self::ClientAuthentication { .. } | Self::Protocol { .. } | Self::InvalidUrl { .. }
        )
    }

    /// The token endpoint said `invalid_grant`.
    #[must_use]
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::InvalidGrant { .. })
    }

    /// The OAuth `state` was rejected (unknown, expired, replayed or another user's).
    #[must_use]
    pub fn is_state_rejected(&self) -> bool {
        matches!(self, Self::Store(e) if e.state_rejection().is_some())
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// Result alias for this crate.
pub type OAuthResult<T> = Result<T, OAuthError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_grant_is_terminal_and_needs_reconsent() {
        let e = OAuthError::InvalidGrant {
            description: "Unknown or invalid refresh token.".into(),
        };
        assert!(e.is_terminal());
        assert!(e.needs_reconsent());
        assert!(!e.is_config_error());
    }

    #[test]
    fn bad_client_credentials_are_a_config_error_not_a_reconsent() {
        let e = OAuthError::ClientAuthentication { status: 401 };
        assert!(e.is_terminal());
        assert!(!e.needs_reconsent());
        assert!(e.is_config_error());
    }

    #[test]
    fn server_errors_are_transient() {
        let e = OAuthError::Transient {
            endpoint: "token",
            status: Some(503),
            reason: "HTTP 503".into(),
        };
        assert!(e.is_transient());
        assert!(!e.is_terminal());
        assert!(!e.needs_reconsent());
    }

    #[test]
    fn the_site_choice_message_lists_every_site() {
        let e = OAuthError::SiteChoiceRequired {
            sites: vec![
                SiteChoice {
                    cloud_id: "1".into(),
                    name: "acme".into(),
                    url: "https://acme.atlassian.net".into(),
                },
                SiteChoice {
                    cloud_id: "2".into(),
                    name: "globex".into(),
                    url: "https://globex.atlassian.net".into(),
                },
            ],
        };
        let text = e.to_string();
        assert!(text.contains("acme <https://acme.atlassian.net>"), "{text}");
        assert!(text.contains("globex"), "{text}");
    }
}
