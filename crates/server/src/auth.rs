//! Who is calling the API (a Bearer API key checked against the store) and the strict JSON body
//! extractor: both refuse with the API's own error shape instead of axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use bytes::Bytes;
use jiraflow_store::{ApiKeySecret, Permission, User};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of an `/api/v1` route.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

impl ApiUser {
    /// Whether the caller holds `manage_integration_connections`.
    pub fn is_admin(&self) -> bool {
        self.0.has(Permission::ManageIntegrationConnections)
    }

    /// Fails with 403 unless the caller holds `manage_integration_connections`.
    pub fn require_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{what} requires the manage_integration_connections permission, which {:?} lacks",
                self.0.name
            )))
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("an API key is required: Authorization: Bearer <key>")
            })?
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let key = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <API key>`")
            })?;
        let secret = ApiKeySecret::new(key);
        match state.store().authenticate_api_key(&secret).await? {
            Some(user) => Ok(Self(user)),
            None => Err(ApiError::unauthorized("the API key is unknown or revoked")),
        }
    }
}

/// A JSON body whose type rejects unknown fields; errors name the field path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        if !content_type.starts_with("application/json") {
            return Err(ApiError::invalid(format!(
                "the body must be application/json, not {content_type}"
            )));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid(format!("cannot read the body: {e}")))?;
        parse_json(&bytes).map(Self)
    }
}

/// Parses `bytes` as `T`, naming the path of what is wrong (`payload`, `name`, ...).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // The path names the offending key itself, unknown keys included (`payload`, `colour`).
        let path = e.path().to_string();
        let error = ApiError::invalid(format!("invalid JSON body: {}", e.inner()));
        if path == "." { error } else { error.at(path) }
    })?;
    de.end()
        .map_err(|e| ApiError::invalid(format!("invalid JSON body: {e}")))?;
    Ok(value)
}
