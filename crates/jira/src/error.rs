//! The crate's one error type. An HTTP failure keeps everything a caller needs to decide what to do
//! next: the request's method and path (never query values or bodies), the status, Jira's messages
//! in whichever of its error shapes arrived, and the rate-limit facts. Predicates answer the
//! questions callers ask (retry? re-authenticate? not found?) so nobody matches on status codes.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest excerpt of a non-JSON body kept in an error (bodies can be whole HTML pages).
const BODY_EXCERPT_CHARS: usize = 300;

/// Everything that can go wrong talking to Jira.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Jira (or the Atlassian gateway in front of it) answered with a non-success status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request never got a complete answer: connect failure, reset connection, TLS, timeout.
    #[error("{method} {path}: {kind}: {source}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path below the REST base.
        path: String,
        /// What failed.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A success response whose body did not match the expected type.
    #[error("{method} {path}: response body does not decode: {source}")]
    Decode {
        /// HTTP method.
        method: String,
        /// Request path below the REST base.
        path: String,
        /// serde's explanation, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The token provider could not supply a token.
    #[error("no access token: {message}")]
    Token {
        /// Why.
        message: String,
        /// Whether the connection must be re-authorized by a person (refresh token revoked).
        reauthorize: bool,
    },
    /// Input rejected before anything was sent (e.g. plain text where ADF is required, bad JQL).
    #[error("invalid request: {0}")]
    InvalidInput(String),
    /// A field could not be found or a value could not be coerced, before anything was sent. The
    /// structured [`FieldError`](crate::fields::FieldError) is kept so callers can still ask
    /// which e-mail addresses to resolve or which field was unknown; the message reads like any
    /// other invalid input.
    #[error("invalid request: {0}")]
    Field(#[from] crate::fields::FieldError),
    /// Paging went wrong (e.g. Jira repeated a `nextPageToken`, which would loop forever).
    #[error("{path}: pagination error: {message}")]
    Pagination {
        /// Request path below the REST base.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A rate-limit pause (from an earlier 429) or a `Retry-After` lasts longer than the policy's
    /// `max_retry_after`; the request was not sent (again). Retry after `wait`.
    #[error("{method} {path}: rate limited for another {}s ({})", wait.as_secs(), reason.as_deref().unwrap_or("no reason given"))]
    Paused {
        /// HTTP method.
        method: String,
        /// Request path below the REST base.
        path: String,
        /// How long until the pause ends.
        wait: Duration,
        /// The `RateLimit-Reason` that caused the pause, if known.
        reason: Option<String>,
    },
    /// The client was built with an unusable configuration (e.g. a base URL that is not a URL).
    #[error("client configuration: {0}")]
    Config(String),
    /// A lookup by something people type (an e-mail address, a name) matched no Jira entity,
    /// or more than one, so no id can be chosen safely.
    #[error("{what} {query:?}: {}", if *matches == 0 { "no match".to_owned() } else { format!("{matches} matches (ambiguous)") })]
    NoUniqueMatch {
        /// What was looked up (`user with e-mail`).
        what: &'static str,
        /// The text looked up.
        query: String,
        /// How many entities matched (0: none).
        matches: usize,
    },
}

/// Which part of the transport failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made; the request was certainly not processed.
    Connect,
    /// The per-request timeout elapsed.
    Timeout,
    /// The connection broke while sending or receiving; the request may have been processed.
    Interrupted,
    /// The redirect policy refused a hop.
    Redirect,
    /// Anything else (building the request, TLS configuration, ...).
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connection failed",
            Self::Timeout => "timed out",
            Self::Interrupted => "connection interrupted",
            Self::Redirect => "redirect refused",
            Self::Other => "transport error",
        })
    }
}

impl TransportKind {
    /// Classifies a reqwest error.
    pub fn of(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout
        } else if error.is_connect() {
            Self::Connect
        } else if error.is_redirect() {
            Self::Redirect
        } else if error.is_request() || error.is_body() || error.is_decode() {
            Self::Interrupted
        } else {
            Self::Other
        }
    }
}

/// Which error body shape Jira or the gateway used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorShape {
    /// Jira's `ErrorCollection`: `{"errorMessages": [..], "errors": {..}}`.
    Collection,
    /// Bulk endpoints: `{"errors": [{"message": ..}]}`.
    ErrorList,
    /// `{"message": ..}` (`ErrorMessage`).
    Message,
    /// The Atlassian gateway: `{"code": 401, "message": "Unauthorized"}`.
    Gateway {
        /// The `code` member.
        code: i64,
    },
    /// OAuth endpoints: `{"error": .., "error_description": ..}`.
    OAuth {
        /// The `error` member (`invalid_grant`, ...).
        error: String,
    },
    /// A bare JSON string.
    String,
    /// Something else (HTML, plain text, unknown JSON); see [`ApiError::body_excerpt`].
    Other,
    /// No body.
    Empty,
}

/// Rate-limit facts from a response's headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// `Retry-After`, as a duration from when the response arrived.
    pub retry_after: Option<Duration>,
    /// `RateLimit-Reason` (`jira-burst-based`, `jira-quota-global-based`, ...).
    pub reason: Option<String>,
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset` as sent (ISO 8601).
    pub reset: Option<String>,
    /// `X-RateLimit-NearLimit: true`.
    pub near_limit: bool,
}

/// A non-success HTTP answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP method of the request.
    pub method: String,
    /// Request path below the REST base (no query string: query values can carry secrets).
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// The body shape.
    pub shape: ErrorShape,
    /// General messages (`errorMessages`, `message`, `error_description`, ...).
    pub messages: Vec<String>,
    /// Per-field messages (`errors`), keyed by field id.
    pub field_errors: BTreeMap<String, String>,
    /// The start of a body that was not one of the known JSON shapes.
    pub body_excerpt: Option<String>,
    /// Rate-limit headers of the response.
    pub rate_limit: RateLimitInfo,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: HTTP {}", self.method, self.path, self.status)?;
        let mut details: Vec<String> = self.messages.clone();
        details.extend(self.field_errors.iter().map(|(k, v)| format!("{k}: {v}")));
        if let Some(excerpt) = &self.body_excerpt {
            details.push(excerpt.clone());
        }
        if let Some(reason) = &self.rate_limit.reason {
            details.push(format!("rate limited ({reason})"));
        }
        if !details.is_empty() {
            write!(f, ": {}", details.join("; "))?;
        }
        Ok(())
    }
}

impl ApiError {
    /// Builds an error from a response's status and body.
    pub fn from_body(
        method: &str,
        path: &str,
        status: u16,
        body: &[u8],
        rate_limit: RateLimitInfo,
    ) -> Self {
        let mut error = Self {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            shape: ErrorShape::Empty,
            messages: Vec::new(),
            field_errors: BTreeMap::new(),
            body_excerpt: None,
            rate_limit,
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return error;
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => error.read_json(&value),
            Err(_) => {
                error.shape = ErrorShape::Other;
                error.body_excerpt = Some(excerpt(&String::from_utf8_lossy(body)));
            }
        }
        error
    }

    fn read_json(&mut self, value: &Value) {
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        };
        match value {
            Value::String(s) => {
                self.shape = ErrorShape::String;
                self.messages.push(s.clone());
            }
            Value::Object(map)
                if map.contains_key("errorMessages")
                    || map.get("errors").is_some_and(Value::is_object) =>
            {
                self.shape = ErrorShape::Collection;
                if let Some(Value::Array(list)) = map.get("errorMessages") {
                    self.messages.extend(list.iter().map(text));
                }
                if let Some(Value::Object(errors)) = map.get("errors") {
                    self.field_errors
                        .extend(errors.iter().map(|(k, v)| (k.clone(), text(v))));
                }
            }
            Value::Object(map) if map.get("errors").is_some_and(Value::is_array) => {
                self.shape = ErrorShape::ErrorList;
                if let Some(Value::Array(list)) = map.get("errors") {
                    self.messages.extend(
                        list.iter()
                            .map(|e| e.get("message").map(text).unwrap_or_else(|| e.to_string())),
                    );
                }
            }
            Value::Object(map) if map.contains_key("error") => {
                self.shape = ErrorShape::OAuth {
                    error: map.get("error").map(text).unwrap_or_default(),
                };
                let description = map.get("error_description").map(text);
                self.messages.push(
                    description.unwrap_or_else(|| map.get("error").map(text).unwrap_or_default()),
                );
            }
            Value::Object(map) if map.contains_key("message") => {
                self.shape = match map.get("code").and_then(Value::as_i64) {
                    Some(code) => ErrorShape::Gateway { code },
                    None => ErrorShape::Message,
                };
                self.messages.extend(map.get("message").map(text));
            }
            other => {
                self.shape = ErrorShape::Other;
                self.body_excerpt = Some(excerpt(&other.to_string()));
            }
        }
    }

    /// The gateway rejected the token itself (expired or revoked): a 401 of any shape, or the
    /// gateway-shaped `{"code":..,"message":"Unauthorized"}` 403/404 that api.atlassian.com sends
    /// for expired tokens. Jira's own permission 403/404 carry an `ErrorCollection` and don't match.
    pub fn needs_reauth(&self) -> bool {
        self.status == 401 || (matches!(self.status, 403 | 404) && self.is_gateway_unauthorized())
    }

    fn is_gateway_unauthorized(&self) -> bool {
        matches!(self.shape, ErrorShape::Gateway { .. })
            && self
                .messages
                .iter()
                .any(|m| m.to_ascii_lowercase().starts_with("unauthorized"))
    }

    /// The token lacks a scope the endpoint needs: a fresh token with the same grant won't help;
    /// the user must re-consent with more scopes.
    pub fn is_scope_error(&self) -> bool {
        self.needs_reauth()
            && self
                .messages
                .iter()
                .any(|m| m.to_ascii_lowercase().contains("scope"))
    }
}

fn excerpt(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() <= BODY_EXCERPT_CHARS {
        trimmed.to_owned()
    } else {
        let cut: String = trimmed.chars().take(BODY_EXCERPT_CHARS).collect();
        format!("{cut}…")
    }
}

impl Error {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status),
            _ => None,
        }
    }

    /// The API error details, for API errors.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The field problem behind a [`Error::Field`], with its predicates
    /// ([`needs_user_lookup`](crate::fields::FieldError::needs_user_lookup), ...).
    pub fn field(&self) -> Option<&crate::fields::FieldError> {
        match self {
            Self::Field(e) => Some(e),
            _ => None,
        }
    }

    /// Worth retrying later: 429, 500/502/503/504 (Jira Cloud answers 500 for transient
    /// internal failures too), and transport failures other than redirects. (Whether *this*
    /// client retried automatically also depends on the request's idempotency: a POST that may
    /// have been applied is not resent blindly.)
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(e) => matches!(e.status, 429 | 500 | 502 | 503 | 504),
            Self::Transport { kind, .. } => {
                !matches!(kind, TransportKind::Redirect | TransportKind::Other)
            }
            Self::Paused { .. } => true,
            _ => false,
        }
    }

    /// 404 from Jira itself (which also means "you may not see it"), not the gateway's expired-token 404.
    pub fn is_not_found(&self) -> bool {
        self.api()
            .is_some_and(|e| e.status == 404 && !e.needs_reauth())
            || matches!(self, Self::NoUniqueMatch { matches: 0, .. })
    }

    /// The token was rejected; refresh it (or re-authorize the connection if refreshing fails).
    pub fn needs_reauth(&self) -> bool {
        match self {
            Self::Api(e) => e.needs_reauth(),
            Self::Token { reauthorize, .. } => *reauthorize,
            _ => false,
        }
    }

    /// The token lacks a required OAuth scope.
    pub fn is_scope_error(&self) -> bool {
        self.api().is_some_and(ApiError::is_scope_error)
    }

    /// 429 Too Many Requests.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429) || matches!(self, Self::Paused { .. })
    }

    /// Jira's own 403: the user lacks a permission (not an expired token).
    pub fn is_permission_denied(&self) -> bool {
        self.api()
            .is_some_and(|e| e.status == 403 && !e.needs_reauth())
    }

    /// 409: a concurrent update conflicted; retry with backoff after re-reading.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// 400 with per-field errors or messages: the payload was rejected.
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(400)
    }

    /// 410 Gone: the endpoint was removed (e.g. the old `/search`); permanent.
    pub fn is_gone(&self) -> bool {
        self.status() == Some(410)
    }

    /// Per-field messages (`errors` of an `ErrorCollection`); empty for other errors.
    pub fn field_errors(&self) -> Option<&BTreeMap<String, String>> {
        self.api().map(|e| &e.field_errors)
    }

    /// General messages Jira sent.
    pub fn messages(&self) -> &[String] {
        self.api().map(|e| e.messages.as_slice()).unwrap_or(&[])
    }

    /// `Retry-After` of the response, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Paused { wait, .. } => Some(*wait),
            _ => self.api().and_then(|e| e.rate_limit.retry_after),
        }
    }

    /// `RateLimit-Reason` of the response, if any.
    pub fn rate_limit_reason(&self) -> Option<&str> {
        match self {
            Self::Paused { reason, .. } => reason.as_deref(),
            _ => self.api().and_then(|e| e.rate_limit.reason.as_deref()),
        }
    }
}

impl From<ApiError> for Error {
    fn from(value: ApiError) -> Self {
        Self::Api(Box::new(value))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> Error {
        ApiError::from_body(
            "GET",
            "/x",
            status,
            body.as_bytes(),
            RateLimitInfo::default(),
        )
        .into()
    }

    #[test]
    fn jira_error_collections_keep_messages_and_field_errors() {
        let e = api(
            400,
            r#"{"errorMessages":[],"errors":{"description":"Operation value must be an Atlassian Document"}}"#,
        );
        assert_eq!(
            e.field_errors().unwrap()["description"],
            "Operation value must be an Atlassian Document"
        );
        assert!(
            e.to_string()
                .contains("GET /x: HTTP 400: description: Operation value")
        );
    }

    #[test]
    fn every_known_body_shape_is_read() {
        assert_eq!(api(403, r#""Only admins""#).messages(), ["Only admins"]);
        assert_eq!(
            api(400, r#"{"errors":[{"message":"bad"}]}"#).messages(),
            ["bad"]
        );
        assert_eq!(api(400, r#"{"message":"nope"}"#).messages(), ["nope"]);
        assert_eq!(
            api(403, r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#).messages(),
            ["Unknown or invalid refresh token."]
        );
        let garbage = api(502, "<html>Bad gateway</html>");
        assert_eq!(
            garbage.api().unwrap().body_excerpt.as_deref(),
            Some("<html>Bad gateway</html>")
        );
    }

    #[test]
    fn long_non_json_bodies_are_truncated() {
        let e = api(500, &"x".repeat(5000));
        assert!(
            e.api()
                .unwrap()
                .body_excerpt
                .as_ref()
                .unwrap()
                .chars()
                .count()
                <= BODY_EXCERPT_CHARS + 1
        );
    }

    #[test]
    fn gateway_shaped_403_and_404_mean_reauth_but_jira_shaped_ones_do_not() {
        assert!(api(404, r#"{"code":404,"message":"Unauthorized"}"#).needs_reauth());
        assert!(api(403, r#"{"code":403,"message":"Unauthorized"}"#).needs_reauth());
        let jira_404 = api(
            404,
            r#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#,
        );
        assert!(!jira_404.needs_reauth());
        assert!(jira_404.is_not_found());
        assert!(api(403, r#"{"errorMessages":["no"],"errors":{}}"#).is_permission_denied());
        assert!(api(401, "").needs_reauth());
    }

    #[test]
    fn scope_mismatch_is_told_apart_from_expiry() {
        let e = api(
            401,
            r#"{"code":401,"message":"Unauthorized; scope does not match"}"#,
        );
        assert!(e.needs_reauth());
        assert!(e.is_scope_error());
        assert!(!api(401, r#"{"code":401,"message":"Unauthorized"}"#).is_scope_error());
    }
}
