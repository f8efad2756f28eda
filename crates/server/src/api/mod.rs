//! `/api/v1`: the JSON API for API-key holders. Every route authenticates with
//! `Authorization: Bearer <key>` ([`crate::auth::ApiUser`]) and answers errors as
//! `{"error": {"code", "message", "field"?}}`. Permissions follow the command line: holders of
//! `manage_integration_connections` see and use every connection, everyone else the connections
//! they created; someone else's connection is reported like a missing one.

pub mod connections;
pub mod files;
pub mod flows;
pub mod runs;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Largest flow file accepted by `PUT /flows/{name}`.
pub const MAX_FLOW_BYTES: usize = 1024 * 1024;

/// The `/api/v1` routes (nested by [`crate::router`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/flows", get(flows::list))
        .route(
            "/flows/{name}",
            get(flows::show)
                .put(flows::apply)
                .delete(flows::delete)
                .layer(DefaultBodyLimit::max(MAX_FLOW_BYTES)),
        )
        .route("/flows/{name}/enable", post(flows::enable))
        .route("/flows/{name}/disable", post(flows::disable))
        .route("/flows/{name}/runs", post(flows::run))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::show))
        .route("/triggers", get(runs::triggers))
        .route(
            "/connections",
            get(connections::list).post(connections::create),
        )
        .route("/connections/{name}", get(connections::show))
        .route("/connections/{name}/test", post(connections::test))
        .route(
            "/files",
            get(files::list)
                .post(files::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/files/{id}", get(files::show).delete(files::delete))
        .route("/files/{id}/content", get(files::content))
        .fallback(|| async { ApiError::not_found("no such API route") })
}

/// A query string's parameters, refusing any key not in `allowed` (a misspelt filter would
/// otherwise silently match everything).
pub fn query_params(raw: Option<&str>, allowed: &[&str]) -> ApiResult<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    for (key, _) in &pairs {
        if !allowed.contains(&key.as_str()) {
            return Err(ApiError::invalid(format!(
                "unknown query parameter {key:?} (expected one of: {})",
                allowed.join(", ")
            ))
            .at(key.clone()));
        }
    }
    Ok(pairs)
}

/// Reads a boolean query value (`true`/`false`, `1`/`0`).
pub fn query_bool(key: &str, value: &str) -> ApiResult<bool> {
    match value {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        other => {
            Err(ApiError::invalid(format!("{key} must be true or false, not {other:?}")).at(key))
        }
    }
}

/// Reads a positive integer query value.
pub fn query_u32(key: &str, value: &str) -> ApiResult<u32> {
    value.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::invalid(format!("{key} must be a positive integer, not {value:?}")).at(key)
    })
}
