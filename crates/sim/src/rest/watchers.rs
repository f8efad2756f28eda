//! REST v3 endpoints: issue watchers (list, add, remove).
//!
//! The add body is a bare JSON string (`"5b10ac8d82e05b22cc7d4ef5"`), not an object; an empty
//! body adds the caller. Adding or removing someone else needs "Manage watcher list" (project
//! admins and Jira admins here). Watching does not bump `updated` and fires no webhook, but JQL
//! `watcher` sees it, so the search index is told.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_or_404, issue_site_of};
use crate::rest::params::Params;
use crate::rest::render;
use crate::state::SimState;
use crate::world::{Issue, Site};

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new().route(
        "/issue/{issueIdOrKey}/watchers",
        get(list).post(add).delete(remove),
    )
}

fn watching_disabled() -> ApiError {
    ApiError::not_found("Watching is disabled.")
}

fn cannot_manage() -> ApiError {
    ApiError::forbidden("You do not have the permission to manage the watcher list.")
}

/// Checks the option, the issue and, for someone else than the caller, "Manage watcher list".
/// Returns the issue.
fn check<'s>(site: &'s Site, caller: &Caller, key: &str, target: &str) -> ApiResult<&'s Issue> {
    if !site.jira.settings.watching_enabled {
        return Err(watching_disabled());
    }
    let viewer = Viewer::from(caller);
    let issue = issue_or_404(site, viewer, key)?;
    if target != caller.account_id {
        let manages = site
            .jira
            .projects
            .get(&issue.project_id)
            .is_some_and(|p| viewer.administers_project(p));
        if !manages {
            return Err(cannot_manage());
        }
    }
    Ok(issue)
}

fn user_not_found(account_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "The user with account ID '{account_id}' does not exist."
    ))
}

/// `GET /issue/{issueIdOrKey}/watchers`: `Watchers`.
async fn list(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    if !site.jira.settings.watching_enabled {
        return Err(watching_disabled());
    }
    let issue = issue_or_404(site, Viewer::from(&caller), &key)?;
    let watchers: Vec<Value> = issue
        .watchers
        .iter()
        .filter_map(|a| world.user(a))
        .map(|u| render::user_details(site, u))
        .collect();
    Ok(Json(json!({
        "self": format!("{}/issue/{}/watchers", render::rest_base(site), issue.key),
        "isWatching": issue.watchers.contains(&caller.account_id),
        "watchCount": watchers.len(),
        "watchers": watchers,
    })))
}

/// Reads the add body: a JSON string, or nothing for the caller.
fn read_target(headers: &HeaderMap, body: &Bytes, caller: &Caller) -> ApiResult<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(caller.account_id.clone());
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json_type {
        return Err(ApiError::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::String(account_id)) if !account_id.trim().is_empty() => {
            Ok(account_id.trim().to_owned())
        }
        Ok(Value::String(_)) => Ok(caller.account_id.clone()),
        _ => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

/// `POST /issue/{issueIdOrKey}/watchers` with a bare JSON string body: 204.
async fn add(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    caller.require_scope("write:jira-work")?;
    let target = read_target(&headers, &body, &caller)?;
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let site = issue_site_of(&world, &caller)?;
    let issue_id = check(site, &caller, &key, &target)?.id;
    if world.user(&target).is_none() || site.role(&target).is_none() {
        return Err(user_not_found(&target));
    }
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)?;
    if let Some(issue) = site.jira.issues.get_mut(&issue_id)
        && issue.watchers.insert(target)
    {
        let lag = state.settings.read().search_lag_ms;
        state.search.touch(
            &caller.cloud_id,
            issue,
            now + i64::try_from(lag).unwrap_or(0),
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /issue/{issueIdOrKey}/watchers?accountId=`: 204.
async fn remove(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<StatusCode> {
    caller.require_scope("write:jira-work")?;
    let params = Params::parse(query.as_deref());
    if params.non_empty("username").is_some() && params.non_empty("accountId").is_none() {
        return Err(ApiError::bad_request(
            "The username query parameter is no longer supported; use accountId.",
        ));
    }
    let target = params
        .non_empty("accountId")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("accountId is required."))?;
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let site = issue_site_of(&world, &caller)?;
    let issue_id = check(site, &caller, &key, &target)?.id;
    if world.user(&target).is_none() {
        return Err(user_not_found(&target));
    }
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)?;
    if let Some(issue) = site.jira.issues.get_mut(&issue_id)
        && issue.watchers.remove(&target)
    {
        let lag = state.settings.read().search_lag_ms;
        state.search.touch(
            &caller.cloud_id,
            issue,
            now + i64::try_from(lag).unwrap_or(0),
        );
    }
    Ok(StatusCode::NO_CONTENT)
}
