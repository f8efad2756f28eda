//! What an operation hands to the choke point ([`ApiRequest`]) and what it gets back
//! ([`ApiResponse`]). Requests are plain data so they can be replayed on retry: JSON bodies are
//! serialized once up front, multipart bodies are rebuilt by a factory for every attempt.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::JiraClient;
use crate::error::{Error, Result};
use crate::ids::IssueRef;

/// Characters left as-is in a path segment (RFC 3986 unreserved); everything else is escaped so a
/// key or id can never inject `/`, `?` or `..`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Builds a multipart form for one attempt (a form is consumed by sending it).
pub type MultipartFactory = Arc<dyn Fn() -> Result<reqwest::multipart::Form> + Send + Sync>;

/// A request body.
#[derive(Clone, Default)]
pub enum RequestBody {
    /// No body.
    #[default]
    None,
    /// A serialized JSON document (`Content-Type: application/json`).
    Json(Bytes),
    /// Raw bytes with a content type.
    Bytes {
        /// The `Content-Type`.
        content_type: String,
        /// The bytes.
        data: Bytes,
    },
    /// A multipart form; the client adds `X-Atlassian-Token: no-check`, without which Jira's XSRF
    /// protection rejects multipart requests.
    Multipart(MultipartFactory),
}

impl fmt::Debug for RequestBody {
    // Bodies can carry user data; Debug shows only their kind and size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Json(b) => write!(f, "Json({} bytes)", b.len()),
            Self::Bytes { content_type, data } => {
                write!(f, "Bytes({content_type}, {} bytes)", data.len())
            }
            Self::Multipart(_) => f.write_str("Multipart"),
        }
    }
}

/// Decides, after an ambiguous failure of a non-idempotent request (timeout, broken connection,
/// 502/503/504), whether the request already took effect.
pub trait RetryCheck: Send + Sync {
    /// `Ok(Some(body))`: it did; `body` becomes the response (e.g. the `CreatedIssue` found by a
    /// lookup). `Ok(None)`: it did not; the client retries.
    fn check<'a>(
        &'a self,
        client: &'a JiraClient,
    ) -> BoxFuture<'a, Result<Option<serde_json::Value>>>;
}

/// May this request be sent again after a failure that leaves its effect unknown?
#[derive(Clone, Default)]
pub enum Idempotency {
    /// Decide by method: GET, HEAD, PUT, DELETE and OPTIONS yes; POST and PATCH no.
    #[default]
    ByMethod,
    /// Safe to repeat whatever the method (POSTs that only read: `search/jql`, `jql/match`,
    /// `comment/list`, `bulkfetch`, `approximate-count`).
    RetrySafe,
    /// Never repeat after an ambiguous failure (429 and connect failures are still retried:
    /// the request was certainly not processed).
    Never,
    /// Ask the check whether it took effect before repeating.
    Verify(Arc<dyn RetryCheck>),
}

impl fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ByMethod => "ByMethod",
            Self::RetrySafe => "RetrySafe",
            Self::Never => "Never",
            Self::Verify(_) => "Verify",
        })
    }
}

/// One request to the Jira REST API v3, relative to `{base}/rest/api/3`.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) template: &'static str,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: RequestBody,
    pub(crate) idempotency: Idempotency,
    pub(crate) issue: Option<IssueRef>,
    pub(crate) timeout: Option<Duration>,
}

impl ApiRequest {
    /// A request to `template` (e.g. `"/issue/{issueIdOrKey}/transitions"`); fill each `{..}`
    /// placeholder in order with [`param`](Self::param). The template names the endpoint in
    /// traces and keys the per-endpoint burst pause.
    pub fn new(method: Method, template: &'static str) -> Self {
        Self {
            method,
            template,
            path: template.to_owned(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: RequestBody::None,
            idempotency: Idempotency::ByMethod,
            issue: None,
            timeout: None,
        }
    }

    /// `GET template`.
    pub fn get(template: &'static str) -> Self {
        Self::new(Method::GET, template)
    }

    /// `POST template`.
    pub fn post(template: &'static str) -> Self {
        Self::new(Method::POST, template)
    }

    /// `PUT template`.
    pub fn put(template: &'static str) -> Self {
        Self::new(Method::PUT, template)
    }

    /// `DELETE template`.
    pub fn delete(template: &'static str) -> Self {
        Self::new(Method::DELETE, template)
    }

    /// Fills the next `{..}` placeholder with `value`, percent-encoded as one path segment.
    #[must_use]
    pub fn param(mut self, value: impl AsRef<str>) -> Self {
        if let Some(start) = self.path.find('{')
            && let Some(len) = self.path[start..].find('}')
        {
            let encoded = utf8_percent_encode(value.as_ref(), SEGMENT).to_string();
            self.path.replace_range(start..=start + len, &encoded);
        }
        self
    }

    /// Adds a query parameter.
    #[must_use]
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    #[must_use]
    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sets a JSON body.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `body` cannot be serialized.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidInput(format!("request body does not serialize: {e}")))?;
        self.body = RequestBody::Json(Bytes::from(bytes));
        Ok(self)
    }

    /// Sets any body.
    #[must_use]
    pub fn body(mut self, body: RequestBody) -> Self {
        self.body = body;
        self
    }

    /// Sets the idempotency (default [`Idempotency::ByMethod`]).
    #[must_use]
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Names the issue a write touches, so a `jira-per-issue-on-write` 429 pauses only writes to
    /// that issue.
    #[must_use]
    pub fn issue_scope(mut self, issue: impl Into<IssueRef>) -> Self {
        self.issue = Some(issue.into());
        self
    }

    /// Overrides the client's per-attempt timeout (e.g. for large uploads).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template.
    pub fn template(&self) -> &'static str {
        self.template
    }

    /// The concrete path (placeholders filled).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query parameters.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The body.
    pub fn request_body(&self) -> &RequestBody {
        &self.body
    }

    /// Whether a failure that leaves the effect unknown may be followed by a plain retry.
    pub(crate) fn repeatable(&self) -> bool {
        match self.idempotency {
            Idempotency::ByMethod => matches!(
                self.method,
                Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
            ),
            Idempotency::RetrySafe => true,
            Idempotency::Never | Idempotency::Verify(_) => false,
        }
    }

    /// Whether this request writes (per-issue write limits apply only to writes).
    pub(crate) fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }
}

/// A successful, fully read response.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl ApiResponse {
    /// The status (2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// Decodes the body as JSON.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the request when the body does not match `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            method: self.method.to_string(),
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn params_fill_placeholders_in_order_and_cannot_escape_their_segment() {
        let req = ApiRequest::get("/issue/{issueIdOrKey}/comment/{id}")
            .param("../admin?x=1")
            .param("10 1");
        assert_eq!(req.path(), "/issue/..%2Fadmin%3Fx%3D1/comment/10%201");
        assert_eq!(req.template(), "/issue/{issueIdOrKey}/comment/{id}");
    }

    #[test]
    fn only_idempotent_methods_repeat_by_default() {
        assert!(ApiRequest::get("/x").repeatable());
        assert!(ApiRequest::put("/x").repeatable());
        assert!(!ApiRequest::post("/x").repeatable());
        assert!(
            ApiRequest::post("/x")
                .idempotency(Idempotency::RetrySafe)
                .repeatable()
        );
    }
}
