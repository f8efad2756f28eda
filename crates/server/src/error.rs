//! The one error type of the HTTP API: every handler returns it, and it renders as
//! `{"error": {"code", "message", "field"?}}` with a status that says whose fault it was.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiraflow_engine::executor::ExecError;
use jiraflow_files::FilesError;
use jiraflow_oauth::OAuthError;
use jiraflow_store::StoreError;
use serde::Serialize;

/// A refused or failed API request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (`invalid`, `not_found`, ...).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// The offending input field, when one is to blame.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Names the input field to blame.
    #[must_use]
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400: the request is malformed or its input is refused.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 401: no or an unknown API key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: no such record (or not the caller's to see).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409: the request clashes with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 413: the body is over a limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 502: Jira or the authorization server failed.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "upstream", message)
    }

    /// 503: a part of the server is not running.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 500: our fault; the details go to the log, not to the caller.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error (see the server log)",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Invalid { field, .. } => Self::invalid(e.to_string()).at(*field),
            StoreError::NotFound { .. } => Self::not_found(e.to_string()),
            StoreError::Duplicate { .. }
            | StoreError::ConnectionInUse { .. }
            | StoreError::InUse { .. }
            | StoreError::VersionConflict { .. } => Self::conflict(e.to_string()),
            StoreError::State(_) => Self::invalid(e.to_string()).at("state"),
            _ => Self::internal(&e),
        }
    }
}

impl From<FilesError> for ApiError {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::Store(s) => s.into(),
            FilesError::TooLarge { .. } => Self::too_large(e.to_string()),
            FilesError::NotFound(_) => Self::not_found(e.to_string()),
            FilesError::LengthMismatch { .. } | FilesError::Source(_) => {
                Self::invalid(e.to_string())
            }
            FilesError::Jira { .. } => Self::upstream(e.to_string()),
            other => Self::internal(&other),
        }
    }
}

impl From<ExecError> for ApiError {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::Store(s) => s.into(),
            ExecError::UnknownFlow(name) => Self::not_found(format!("unknown flow {name:?}")),
            ExecError::InvalidFlow { .. } => Self::conflict(e.to_string()),
            ExecError::NotClaimable(_) | ExecError::Interrupted(_) => Self::conflict(e.to_string()),
        }
    }
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::Store(s) => s.into(),
            OAuthError::Invalid { field, .. } => Self::invalid(e.to_string()).at(field),
            OAuthError::InvalidUrl { .. } => Self::invalid(e.to_string()),
            OAuthError::Forbidden(message) => Self::forbidden(message),
            ref other if other.is_state_rejected() => Self::invalid(e.to_string()).at("state"),
            OAuthError::ConsentDenied { .. }
            | OAuthError::UnknownSite { .. }
            | OAuthError::SiteChoiceRequired { .. }
            | OAuthError::NoSites
            | OAuthError::MissingScopes { .. } => Self::invalid(e.to_string()),
            other => Self::upstream(other.to_string()),
        }
    }
}

/// Results of the API's handlers.
pub type ApiResult<T> = Result<T, ApiError>;
