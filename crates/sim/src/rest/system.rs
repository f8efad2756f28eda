//! `myself` and `serverInfo`: what Test Connection calls.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::clock::jira_timestamp;
use crate::error::{ApiError, ApiResult};
use crate::gateway::Caller;
use crate::rest::render;
use crate::state::SimState;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/myself", get(myself))
        .route("/serverInfo", get(server_info))
}

async fn myself(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let world = state.world.read();
    let site = world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let user = world
        .user(&caller.account_id)
        .ok_or_else(|| ApiError::not_found("User not found."))?;
    Ok(Json(render::user(site, user)))
}

async fn server_info(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    let world = state.world.read();
    let site = world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    Ok(Json(json!({
        "baseUrl": site.url,
        "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100_300,
        "buildDate": "2026-11-01T00:00:00.000+0000",
        "serverTime": jira_timestamp(state.clock.now_ms()),
        "scmInfo": "9d700605f271b9e38f3e73c4116a686dae8d11d7",
        "serverTitle": "Jira",
        "defaultLocale": { "locale": "en_US" },
        "serverTimeZone": site.jira.settings.default_time_zone,
    })))
}
