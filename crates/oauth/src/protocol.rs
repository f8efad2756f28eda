//! The Atlassian 3LO wire protocol: the authorization URL, the token endpoint (code exchange and
//! rotating refresh), accessible resources and `/_edge/tenant_info`.
//!
//! The HTTP client never follows redirects: a token endpoint that redirects would carry the client
//! secret and codes to another origin (SSRF), and the authorization URL's redirect is read, not
//! followed. Nothing here logs a code, token, state or secret; tracing fields are limited to
//! endpoint names, statuses and durations.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jiraflow_store::{AccessToken, ClientSecret, NewTokens, RefreshToken, RefreshedTokens};
use serde::Deserialize;
use url::Url;

use crate::error::{OAuthError, OAuthResult};
pub use crate::site::validate_site_url;

/// Scopes a jiraflow connection needs (Salesforce's connector asks for exactly these).
pub const REQUIRED_SCOPES: [&str; 5] = [
    "read:jira-user",
    "read:jira-work",
    "write:jira-work",
    "manage:jira-project",
    "manage:jira-configuration",
];

/// The scope without which Atlassian issues no refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The `audience` Atlassian requires on the authorization URL.
pub const AUDIENCE: &str = "api.atlassian.com";

/// What the protocol needs to know about an OAuth app.
#[derive(Clone)]
pub struct AppCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: ClientSecret,
    /// Authorization server base (`https://auth.atlassian.com`).
    pub auth_base_url: Url,
    /// API gateway base (`https://api.atlassian.com`).
    pub api_base_url: Url,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("auth_base_url", &self.auth_base_url.as_str())
            .field("api_base_url", &self.api_base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// A successful token endpoint answer. `Debug` is redacted through the secret newtypes.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// New access token.
    pub access_token: AccessToken,
    /// New refresh token, when the server rotated (or issued) one.
    pub refresh_token: Option<RefreshToken>,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
    /// Granted scopes, when the answer listed them.
    pub scopes: Option<Vec<String>>,
}

impl TokenResponse {
    /// Absolute expiry computed from `now`.
    #[must_use]
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let secs = i64::try_from(self.expires_in).unwrap_or(i64::MAX / 2_000);
        now + chrono::Duration::seconds(secs.min(10 * 365 * 24 * 3600))
    }

    /// The tokens of a consent, for a new token family.
    #[must_use]
    pub fn into_new_tokens(self, now: DateTime<Utc>) -> NewTokens {
        let expires_at = self.expires_at(now);
        NewTokens {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            expires_at,
            scopes: self.scopes.unwrap_or_default(),
        }
    }

    /// The tokens of a refresh (a missing refresh token keeps the stored one).
    #[must_use]
    pub fn into_refreshed(self, now: DateTime<Utc>) -> RefreshedTokens {
        let expires_at = self.expires_at(now);
        RefreshedTokens {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            expires_at,
            scopes: self.scopes,
        }
    }
}

/// One site of `accessible-resources`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessibleResource {
    /// Cloud id.
    pub id: String,
    /// Site name.
    #[serde(default)]
    pub name: String,
    /// Site URL.
    #[serde(default)]
    pub url: String,
    /// Product scopes granted on this site.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Wire shape of a token answer; converted into secret newtypes at once and never logged.
#[derive(Deserialize)]
struct RawToken {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

/// Wire shape of an OAuth error answer.
#[derive(Deserialize, Default)]
struct RawError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTenantInfo {
    cloud_id: String,
}

/// Timeouts of the OAuth HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    /// TCP/TLS connect.
    pub connect: Duration,
    /// Whole request.
    pub request: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

/// The OAuth HTTP client (redirects disabled).
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
}

impl OAuthClient {
    /// A client with default timeouts.
    ///
    /// # Errors
    /// If the TLS backend cannot be initialised.
    pub fn new() -> OAuthResult<Self> {
        Self::with_timeouts(HttpTimeouts::default())
    }

    /// A client with the given timeouts.
    ///
    /// # Errors
    /// If the TLS backend cannot be initialised.
    pub fn with_timeouts(timeouts: HttpTimeouts) -> OAuthResult<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .user_agent(concat!("jiraflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OAuthError::invalid("http client", e.to_string()))?;
        Ok(Self { http })
    }

    /// The underlying HTTP client (redirects disabled), for API checks such as `/myself`.
    #[must_use]
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Exchanges an authorization code (`grant_type=authorization_code`, JSON body as Atlassian
    /// documents).
    ///
    /// # Errors
    /// `InvalidGrant` for an unknown, expired or reused code or a different `redirect_uri`;
    /// `ClientAuthentication` for a wrong client secret; `Transient` for network and 5xx failures.
    pub async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &str,
        redirect_uri: &str,
    ) -> OAuthResult<TokenResponse> {
        let body = serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": app.client_id,
            "client_secret": app.client_secret.expose(),
            "code": code,
            "redirect_uri": redirect_uri,
        });
        self.token_request(app, body, "code exchange").await
    }

    /// Refreshes (`grant_type=refresh_token`). Atlassian rotates the refresh token: the caller must
    /// persist the answer before using it.
    ///
    /// # Errors
    /// `InvalidGrant` when the refresh token is dead; `ClientAuthentication` for a wrong secret;
    /// `Transient` for network and 5xx failures (retry with the same refresh token).
    pub async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &RefreshToken,
    ) -> OAuthResult<TokenResponse> {
        let body = serde_json::json!({
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "client_secret": app.client_secret.expose(),
            "refresh_token": refresh_token.expose(),
        });
        self.token_request(app, body, "refresh").await
    }

    async fn token_request(
        &self,
        app: &AppCredentials,
        body: serde_json::Value,
        what: &'static str,
    ) -> OAuthResult<TokenResponse> {
        let url = endpoint(&app.auth_base_url, "oauth/token");
        let started = Instant::now();
        let response = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await;
        drop(body);
        let response = response.map_err(|e| transport_error("token endpoint", &e))?;
        let status = response.status();
        tracing::debug!(
            grant = what,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "token endpoint answered"
        );
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error("token endpoint", &e))?;
        if status.is_success() {
            let raw: RawToken = serde_json::from_slice(&bytes).map_err(|e| OAuthError::Decode {
                endpoint: "token endpoint",
                // serde's message can quote a value (a token); report only the kind and position.
                reason: format!(
                    "token answer is not the documented JSON ({:?} error at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            })?;
            if raw.access_token.is_empty() {
                return Err(OAuthError::Decode {
                    endpoint: "token endpoint",
                    reason: "empty access_token".into(),
                });
            }
            return Ok(TokenResponse {
                access_token: AccessToken::new(raw.access_token),
                refresh_token: raw
                    .refresh_token
                    .filter(|t| !t.is_empty())
                    .map(RefreshToken::new),
                expires_in: raw.expires_in.unwrap_or(3600),
                scopes: raw.scope.map(|s| split_scopes(&s)),
            });
        }
        Err(classify_token_error(status.as_u16(), &bytes))
    }

    /// Sites the access token covers (`GET {api}/oauth/token/accessible-resources`).
    ///
    /// # Errors
    /// `InvalidGrant`-like 401s come back as `Protocol` with status 401; network and 5xx as
    /// `Transient`.
    pub async fn accessible_resources(
        &self,
        api_base_url: &Url,
        access_token: &AccessToken,
    ) -> OAuthResult<Vec<AccessibleResource>> {
        let url = endpoint(api_base_url, "oauth/token/accessible-resources");
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| transport_error("accessible-resources", &e))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<Vec<AccessibleResource>>()
                .await
                .map_err(|e| OAuthError::Decode {
                    endpoint: "accessible-resources",
                    reason: e.to_string(),
                });
        }
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(OAuthError::Transient {
                endpoint: "accessible-resources",
                status: Some(status.as_u16()),
                reason: format!("HTTP {status}"),
            });
        }
        Err(OAuthError::Protocol {
            status: status.as_u16(),
            error: "accessible_resources".into(),
            description: format!("accessible-resources answered HTTP {status}"),
        })
    }

    /// The cloud id of a site (`GET {site}/_edge/tenant_info`). The URL must already be validated
    /// with [`validate_site_url`].
    ///
    /// # Errors
    /// `UnknownSite` for a 404; `Transient` for network and 5xx failures.
    pub async fn tenant_info(&self, site_url: &Url) -> OAuthResult<String> {
        let url = endpoint(site_url, "_edge/tenant_info");
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| transport_error("tenant_info", &e))?;
        let status = response.status();
        if status.is_success() {
            let info: RawTenantInfo = response.json().await.map_err(|e| OAuthError::Decode {
                endpoint: "tenant_info",
                reason: e.to_string(),
            })?;
            return Ok(info.cloud_id);
        }
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(OAuthError::Transient {
                endpoint: "tenant_info",
                status: Some(status.as_u16()),
                reason: format!("HTTP {status}"),
            });
        }
        Err(OAuthError::UnknownSite {
            site_url: site_url.to_string(),
            reason: format!("is not a Jira Cloud site (tenant_info answered HTTP {status})"),
        })
    }
}

/// The authorization URL: `audience=api.atlassian.com`, `prompt=consent`, `response_type=code`,
/// space-separated scopes (with `offline_access` added when missing).
///
/// # Errors
/// If the auth base URL cannot carry a path.
pub fn authorize_url(
    app: &AppCredentials,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
) -> OAuthResult<Url> {
    let scope = normalize_scopes(scopes).join(" ");
    let mut url = endpoint(&app.auth_base_url, "authorize");
    url.query_pairs_mut()
        .append_pair("audience", AUDIENCE)
        .append_pair("client_id", &app.client_id)
        .append_pair("scope", &scope)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .append_pair("response_type", "code")
        .append_pair("prompt", "consent");
    Ok(url)
}

/// Scopes deduplicated, sorted, with `offline_access` always present.
#[must_use]
pub fn normalize_scopes(scopes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = scopes
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_owned)
        .collect();
    if !out.iter().any(|s| s == OFFLINE_ACCESS) {
        out.push(OFFLINE_ACCESS.to_owned());
    }
    out.sort();
    out.dedup();
    out
}

/// Splits a space-separated `scope` answer.
#[must_use]
pub fn split_scopes(scope: &str) -> Vec<String> {
    let mut v: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    v.sort();
    v.dedup();
    v
}

/// The required scopes (plus `offline_access`) that `granted` lacks.
#[must_use]
pub fn missing_scopes(granted: &[String]) -> Vec<String> {
    REQUIRED_SCOPES
        .iter()
        .copied()
        .chain(std::iter::once(OFFLINE_ACCESS))
        .filter(|need| !granted.iter().any(|g| g == need))
        .map(str::to_owned)
        .collect()
}

/// `{base}/{path}`, keeping any path prefix of the base.
fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_query(None);
    url.set_fragment(None);
    url
}

fn transport_error(endpoint: &'static str, e: &reqwest::Error) -> OAuthError {
    // reqwest's Display includes the URL; our URLs carry no secrets (tokens go in bodies and
    // headers), but strip it anyway so a future query parameter cannot leak.
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "connection broke while reading the answer"
    } else {
        "request failed"
    };
    OAuthError::Transient {
        endpoint,
        status: e.status().map(|s| s.as_u16()),
        reason: kind.to_owned(),
    }
}

/// Maps a token endpoint refusal to the error enum (Atlassian: `invalid_grant` with 403, bad
/// client credentials `access_denied` with 401, 5xx and 429 transient).
fn classify_token_error(status: u16, body: &[u8]) -> OAuthError {
    let raw: RawError = serde_json::from_slice(body).unwrap_or_default();
    let error = raw.error.unwrap_or_default();
    let description = raw.error_description.unwrap_or_default();
    if status == 429 || status >= 500 {
        return OAuthError::Transient {
            endpoint: "token endpoint",
            status: Some(status),
            reason: format!("HTTP {status}"),
        };
    }
    if error == "invalid_grant" {
        return OAuthError::InvalidGrant { description };
    }
    if status == 401 || error == "invalid_client" || error == "unauthorized_client" {
        return OAuthError::ClientAuthentication { status };
    }
    OAuthError::Protocol {
        status,
        error: if error.is_empty() {
            "unknown".into()
        } else {
            error
        },
        description,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn app() -> AppCredentials {
        AppCredentials {
            client_id: "cid".into(),
            client_secret: ClientSecret::new("sec"),
            auth_base_url: Url::parse("https://auth.atlassian.com").unwrap(),
            api_base_url: Url::parse("https://api.atlassian.com").unwrap(),
        }
    }

    #[test]
    fn the_authorization_url_carries_audience_consent_and_offline_access() {
        let url = authorize_url(
            &app(),
            "https://x.example/cb",
            &["read:jira-work".into(), "write:jira-work".into()],
            "st",
        )
        .unwrap();
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(url.path(), "/authorize");
        assert_eq!(pairs["audience"], "api.atlassian.com");
        assert_eq!(pairs["prompt"], "consent");
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["state"], "st");
        assert_eq!(pairs["redirect_uri"], "https://x.example/cb");
        assert_eq!(
            pairs["scope"],
            "offline_access read:jira-work write:jira-work"
        );
    }

    #[test]
    fn token_errors_map_to_their_meaning() {
        let e = classify_token_error(
            403,
            br#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
        );
        assert!(e.is_invalid_grant() && e.needs_reconsent());
        let e = classify_token_error(
            401,
            br#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        );
        assert!(e.is_config_error() && !e.needs_reconsent());
        assert!(classify_token_error(503, b"").is_transient());
        assert!(classify_token_error(429, b"").is_transient());
        let e = classify_token_error(400, br#"{"error":"invalid_request"}"#);
        assert!(e.is_config_error() && e.is_terminal());
    }

    #[test]
    fn missing_scopes_names_each_absent_scope() {
        let granted = split_scopes("read:jira-user read:jira-work offline_access");
        assert_eq!(
            missing_scopes(&granted),
            vec![
                "write:jira-work",
                "manage:jira-project",
                "manage:jira-configuration"
            ]
        );
    }

    #[test]
    fn app_credentials_debug_hides_the_secret() {
        assert!(!format!("{:?}", app()).contains("sec\""));
    }
}
