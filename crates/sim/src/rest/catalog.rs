//! REST v3 endpoints: the site's catalogues of fields (`GET /field`), issue types, priorities,
//! statuses and resolutions, rendered from the site configuration and the field registry.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::{Value, json};

use super::field_defs;
use super::render;
use crate::error::{ApiError, ApiResult};
use crate::gateway::Caller;
use crate::rest::access::issue_site_of;
use crate::state::SimState;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/field", get(fields))
        .route("/issuetype", get(issue_types))
        .route("/issuetype/{id}", get(issue_type))
        .route("/priority", get(priorities))
        .route("/priority/{id}", get(priority))
        .route("/status", get(statuses))
        .route("/status/{idOrName}", get(status))
        .route("/resolution", get(resolutions))
}

async fn fields(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let list: Vec<Value> = field_defs::all_fields(site)
        .iter()
        .map(|f| {
            let mut body = json!({
                "id": f.id,
                "key": f.id,
                "name": f.name,
                "custom": f.custom,
                "orderable": f.orderable,
                "navigable": f.navigable,
                "searchable": f.searchable,
                "clauseNames": f.clause_names,
            });
            if let (Some(schema), Some(obj)) = (&f.schema, body.as_object_mut()) {
                obj.insert("schema".to_owned(), schema.clone());
            }
            body
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

async fn issue_types(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let list: Vec<Value> = site
        .jira
        .issue_types
        .iter()
        .map(|t| render::issue_type(site, t))
        .collect();
    Ok(Json(Value::Array(list)))
}

async fn issue_type(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let found = site
        .jira
        .issue_type(&id)
        .ok_or_else(|| ApiError::not_found("The issue type does not exist."))?;
    Ok(Json(render::issue_type(site, found)))
}

async fn priorities(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let list: Vec<Value> = site
        .jira
        .priorities
        .iter()
        .map(|p| render::priority(site, p))
        .collect();
    Ok(Json(Value::Array(list)))
}

async fn priority(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let found = site.jira.priority(&id).ok_or_else(|| {
        ApiError::not_found(format!("The priority with ID '{id}' was not found."))
    })?;
    Ok(Json(render::priority(site, found)))
}

async fn statuses(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let list: Vec<Value> = site
        .jira
        .statuses
        .iter()
        .map(|s| render::status(site, s))
        .collect();
    Ok(Json(Value::Array(list)))
}

async fn status(
    State(state): State<SimState>,
    caller: Caller,
    Path(id_or_name): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let found = site
        .jira
        .status(&id_or_name)
        .or_else(|| {
            site.jira
                .statuses
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(&id_or_name))
        })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The status with id or name '{id_or_name}' does not exist."
            ))
        })?;
    Ok(Json(render::status(site, found)))
}

async fn resolutions(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let list: Vec<Value> = render::RESOLUTIONS
        .iter()
        .map(|(_, name, _)| render::resolution(site, name))
        .collect();
    Ok(Json(Value::Array(list)))
}
