//! Error responses in the shapes Jira Cloud and Atlassian's gateway use.
//!
//! Jira's REST endpoints answer errors with an `ErrorCollection`:
//! `{"errorMessages": [...], "errors": {"field": "message"}}`; the API gateway answers auth failures
//! with `{"code": 401, "message": "Unauthorized"}`; the OAuth token endpoint with
//! `{"error": ..., "error_description": ...}`. Handlers return [`ApiError`] and pick the shape by
//! constructor.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error response. Build with the constructors; convert with `IntoResponse`.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    body: serde_json::Value,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Jira's message for a body that does not bind to the operation's schema (not JSON, or the
/// wrong JSON type somewhere), shared by every endpoint that reads a body.
pub const INVALID_PAYLOAD: &str =
    "Invalid request payload. Refer to the REST API documentation and try again.";

/// Result type of simulator handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A Jira `ErrorCollection` with general messages and field errors.
    pub fn collection(
        status: StatusCode,
        messages: impl IntoIterator<Item = String>,
        errors: BTreeMap<String, String>,
    ) -> Self {
        let messages: Vec<String> = messages.into_iter().collect();
        Self {
            status,
            body: json!({ "errorMessages": messages, "errors": errors }),
            headers: Vec::new(),
        }
    }

    /// An `ErrorCollection` with one general message.
    pub fn message(status: StatusCode, message: impl Into<String>) -> Self {
        Self::collection(status, [message.into()], BTreeMap::new())
    }

    /// A 400 with one field error (`errors.<field>`), as Jira reports invalid field values.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(field.into(), message.into());
        Self::collection(StatusCode::BAD_REQUEST, [], errors)
    }

    /// 400 with a general message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::message(StatusCode::BAD_REQUEST, message)
    }

    /// 403 with a general message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::message(StatusCode::FORBIDDEN, message)
    }

    /// 404 with a general message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::message(StatusCode::NOT_FOUND, message)
    }

    /// Jira's 404 for an issue that does not exist or that the caller may not browse. The two
    /// cases are indistinguishable on purpose.
    pub fn issue_not_found() -> Self {
        Self::not_found("Issue does not exist or you do not have permission to see it.")
    }

    /// A response in the gateway's shape (`{"code": .., "message": ..}`), used for token and
    /// scope failures in front of Jira.
    pub fn gateway(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "code": status.as_u16(), "message": message.into() }),
            headers: Vec::new(),
        }
    }

    /// An OAuth token-endpoint error (`{"error": .., "error_description": ..}`).
    pub fn oauth(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": error, "error_description": description.into() }),
            headers: Vec::new(),
        }
    }

    /// Any JSON body with a status (for the few endpoints with their own shapes).
    pub fn raw(status: StatusCode, body: serde_json::Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> &serde_json::Value {
        &self.body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        (self.status, headers, Json(self.body)).into_response()
    }
}
