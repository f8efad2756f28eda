//! REST v3 endpoints: issue entity properties (`issue/{key}/properties[/{propertyKey}]`) and
//! comment entity properties (`comment/{id}/properties[/{propertyKey}]`), plus the validation and
//! storage the create/edit bodies' `properties` arrays share.
//!
//! Setting or deleting an issue property publishes an `issue_property_*` event but does not bump
//! the issue's `updated` (properties are not fields). Values are any JSON up to 32,768 characters;
//! keys at most 255 characters.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::render::rest_base;
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::events::IssueEventKind;
use crate::gateway::Caller;
use crate::rest::access::{self, Viewer, issue_or_404, issue_site_of};
use crate::state::SimState;
use crate::world::{Comment, Issue, Site, World};

/// Longest property value, in characters of its JSON text.
pub const MAX_VALUE_CHARS: usize = 32_768;
/// Longest property key.
pub const MAX_KEY_CHARS: usize = 255;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/issue/{issueIdOrKey}/properties", get(list_issue))
        .route(
            "/issue/{issueIdOrKey}/properties/{propertyKey}",
            get(get_issue_property)
                .put(put_issue_property)
                .delete(delete_issue_property),
        )
        .route("/comment/{commentId}/properties", get(list_comment))
        .route(
            "/comment/{commentId}/properties/{propertyKey}",
            get(get_comment_property)
                .put(put_comment_property)
                .delete(delete_comment_property),
        )
}

/// Checks a property key.
pub fn check_key(key: &str) -> ApiResult<()> {
    if key.trim().is_empty() {
        return Err(ApiError::bad_request("The property key cannot be empty."));
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(ApiError::bad_request(format!(
            "The property key cannot be longer than {MAX_KEY_CHARS} characters."
        )));
    }
    Ok(())
}

/// Checks the size of a property value given as JSON text.
fn check_value_text(text: &str) -> ApiResult<()> {
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(ApiError::bad_request(format!(
            "The property value cannot be longer than {MAX_VALUE_CHARS} characters."
        )));
    }
    Ok(())
}

/// Parses a PUT body into a property value.
fn read_value(body: &Bytes) -> ApiResult<Value> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("The property value must be valid JSON."))?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("The property value cannot be empty."));
    }
    check_value_text(text)?;
    serde_json::from_str(text)
        .map_err(|_| ApiError::bad_request("The property value must be valid JSON."))
}

/// Reads the `properties` array of a create/edit body (`[{key, value}]`).
pub fn read_create_properties(value: Option<&Value>) -> ApiResult<Vec<(String, Value)>> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(list) = value.as_array() else {
        return Err(ApiError::bad_request(INVALID_PAYLOAD));
    };
    let mut out = Vec::new();
    for entry in list {
        let key = entry
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("The property key cannot be empty."))?;
        check_key(key)?;
        let value = entry.get("value").cloned().unwrap_or(Value::Null);
        check_value_text(&value.to_string())?;
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

/// Sets an issue property and publishes `issue_property_set`. Returns whether it was new.
pub fn set_issue_property(
    state: &SimState,
    world: &mut World,
    caller: &Caller,
    issue_id: u64,
    key: &str,
    value: Value,
) -> bool {
    let Some(issue) = world
        .site_mut(&caller.cloud_id)
        .and_then(|s| s.jira.issues.get_mut(&issue_id))
    else {
        return false;
    };
    let created = issue.properties.insert(key.to_owned(), value).is_none();
    let snapshot = issue.clone();
    publish(
        state,
        world,
        caller,
        snapshot,
        IssueEventKind::PropertySet {
            key: key.to_owned(),
        },
    );
    created
}

fn publish(
    state: &SimState,
    world: &mut World,
    caller: &Caller,
    issue: Issue,
    kind: IssueEventKind,
) {
    let event = caller.event(issue, kind, state.clock.now_ms());
    state.publish(world, event);
}

fn property_not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("The property with key '{key}' does not exist."))
}

async fn list_issue(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let issue = issue_or_404(site, &caller, &key)?;
    let base = rest_base(site);
    let keys: Vec<Value> = issue
        .properties
        .keys()
        .map(|k| json!({ "self": format!("{base}/issue/{}/properties/{k}", issue.id), "key": k }))
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

async fn get_issue_property(
    State(state): State<SimState>,
    caller: Caller,
    Path((key, prop)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let issue = issue_or_404(site, &caller, &key)?;
    let value = issue
        .properties
        .get(&prop)
        .ok_or_else(|| property_not_found(&prop))?;
    Ok(Json(json!({ "key": prop, "value": value })))
}

async fn put_issue_property(
    State(state): State<SimState>,
    caller: Caller,
    Path((key, prop)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    check_key(&prop)?;
    let value = read_value(&body)?;
    let mut world = state.world.write();
    let issue_id = issue_or_404(issue_site_of(&world, &caller)?, &caller, &key)?.id;
    let created = set_issue_property(&state, &mut world, &caller, issue_id, &prop, value);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(status.into_response())
}

async fn delete_issue_property(
    State(state): State<SimState>,
    caller: Caller,
    Path((key, prop)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let mut world = state.world.write();
    let issue_id = issue_or_404(issue_site_of(&world, &caller)?, &caller, &key)?.id;
    let Some(issue) = world
        .site_mut(&caller.cloud_id)
        .and_then(|s| s.jira.issues.get_mut(&issue_id))
    else {
        return Err(ApiError::issue_not_found());
    };
    if issue.properties.remove(&prop).is_none() {
        return Err(property_not_found(&prop));
    }
    let snapshot = issue.clone();
    publish(
        &state,
        &mut world,
        &caller,
        snapshot,
        IssueEventKind::PropertyDeleted { key: prop },
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Finds comment `id` as the caller may see it: its issue must be browsable and its visibility
/// restriction held. Missing and hidden answer the same 404.
fn visible_comment<'s>(
    site: &'s Site,
    caller: &Caller,
    id: &str,
) -> ApiResult<(&'s Issue, &'s Comment)> {
    let not_found = || ApiError::not_found(format!("Can not find a comment for the id: {id}."));
    let comment_id: u64 = id.parse().map_err(|_| not_found())?;
    access::visible_comment(site, Viewer::from(caller), comment_id).ok_or_else(not_found)
}

/// Editing a comment's properties needs "Edit own comments" (the author) or "Edit all comments"
/// (project administrators).
fn may_edit_comment(
    site: &Site,
    caller: &Caller,
    issue: &Issue,
    comment: &Comment,
) -> ApiResult<()> {
    let viewer = Viewer::from(caller);
    let admin = site
        .jira
        .projects
        .get(&issue.project_id)
        .is_some_and(|p| viewer.administers_project(p));
    if comment.author == caller.account_id || admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "You do not have the permission to edit this comment.",
        ))
    }
}

async fn list_comment(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let (_, comment) = visible_comment(site, &caller, &id)?;
    let base = rest_base(site);
    let keys: Vec<Value> = site
        .jira
        .comment_properties
        .get(&comment.id)
        .map(|m| {
            m.keys()
                .map(|k| json!({ "self": format!("{base}/comment/{}/properties/{k}", comment.id), "key": k }))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!({ "keys": keys })))
}

async fn get_comment_property(
    State(state): State<SimState>,
    caller: Caller,
    Path((id, prop)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let (_, comment) = visible_comment(site, &caller, &id)?;
    let value = site
        .jira
        .comment_properties
        .get(&comment.id)
        .and_then(|m| m.get(&prop))
        .ok_or_else(|| property_not_found(&prop))?;
    Ok(Json(json!({ "key": prop, "value": value })))
}

async fn put_comment_property(
    State(state): State<SimState>,
    caller: Caller,
    Path((id, prop)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    check_key(&prop)?;
    let value = read_value(&body)?;
    let mut world = state.world.write();
    let comment_id = {
        let site = issue_site_of(&world, &caller)?;
        let (issue, comment) = visible_comment(site, &caller, &id)?;
        may_edit_comment(site, &caller, issue, comment)?;
        comment.id
    };
    let Some(site) = world.site_mut(&caller.cloud_id) else {
        return Err(ApiError::issue_not_found());
    };
    let created = site
        .jira
        .comment_properties
        .entry(comment_id)
        .or_default()
        .insert(prop, value)
        .is_none();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(status.into_response())
}

async fn delete_comment_property(
    State(state): State<SimState>,
    caller: Caller,
    Path((id, prop)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let mut world = state.world.write();
    let comment_id = {
        let site = issue_site_of(&world, &caller)?;
        let (issue, comment) = visible_comment(site, &caller, &id)?;
        may_edit_comment(site, &caller, issue, comment)?;
        comment.id
    };
    let Some(site) = world.site_mut(&caller.cloud_id) else {
        return Err(ApiError::issue_not_found());
    };
    let removed = site
        .jira
        .comment_properties
        .get_mut(&comment_id)
        .and_then(|m| m.remove(&prop));
    if removed.is_none() {
        return Err(property_not_found(&prop));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
