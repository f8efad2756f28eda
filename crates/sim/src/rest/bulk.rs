//! REST v3 endpoints: bulk create (`POST /issue/bulk`, up to 50 issues, each created exactly like
//! `POST /issue`) and bulk fetch (`POST /issue/bulkfetch`, up to 100 issues rendered as
//! `IssueBean`s in ascending id order).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::issue_bean::{FieldSelection, IssueOptions, IssueRenderer};
use super::issues::{create_issue, parse_body};
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_site_of, visible_issue};
use crate::state::SimState;
use crate::world::Issue;

/// Most issues one bulk create may hold.
const MAX_CREATE: usize = 50;
/// Most issues one bulk fetch may name.
const MAX_FETCH: usize = 100;
/// Most issue properties one bulk fetch may ask for.
const MAX_PROPERTIES: usize = 5;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/issue/bulk", post(create))
        .route("/issue/bulkfetch", post(fetch))
}

/// `POST /issue/bulk`: `CreatedIssues`. Each element is created on its own (an invalid one does
/// not stop the others); 201 when at least one was created, 400 with the same body when none
/// was.
async fn create(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let body = parse_body(&bytes)?;
    let updates = match body.get("issueUpdates") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request("Issue updates must not be empty."));
        }
        Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
    };
    if updates.is_empty() {
        return Err(ApiError::bad_request("Issue updates must not be empty."));
    }
    if updates.len() > MAX_CREATE {
        return Err(ApiError::bad_request(format!(
            "The number of issues in the request exceeds the limit of {MAX_CREATE}."
        )));
    }
    let mut issues = Vec::new();
    let mut errors = Vec::new();
    for (index, update) in updates.iter().enumerate() {
        let outcome = if update.is_object() {
            create_issue(&state, &caller, update)
        } else {
            Err(ApiError::bad_request(INVALID_PAYLOAD))
        };
        match outcome {
            Ok(created) => issues.push(created),
            Err(err) => errors.push(json!({
                "failedElementNumber": index,
                "elementErrors": error_collection(err.body()),
                "status": err.status().as_u16(),
            })),
        }
    }
    let status = if issues.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(json!({ "issues": issues, "errors": errors }))).into_response())
}

/// An error body as an `ErrorCollection` (`errorMessages` and `errors` only).
fn error_collection(body: &Value) -> Value {
    json!({
        "errorMessages": body.get("errorMessages").cloned().unwrap_or_else(|| json!([])),
        "errors": body.get("errors").cloned().unwrap_or_else(|| json!({})),
    })
}

/// Reads an optional list of strings from a bulk fetch body.
fn strings(body: &Value, name: &str) -> ApiResult<Vec<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_owned()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(ApiError::bad_request(INVALID_PAYLOAD)),
            })
            .collect(),
        // The bean declares lists, but a lone comma-separated string binds as a one-item list.
        Some(Value::String(s)) => Ok(vec![s.trim().to_owned()]),
        Some(_) => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

/// `POST /issue/bulkfetch`: `BulkIssueResults`. Issues that do not exist or that the caller may
/// not browse are left out of both lists, as Jira documents.
async fn fetch(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let body = parse_body(&bytes)?;
    let ids = strings(&body, "issueIdsOrKeys")?;
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "At least one issue ID or key must be provided.",
        ));
    }
    if ids.len() > MAX_FETCH {
        return Err(ApiError::bad_request(format!(
            "A maximum of {MAX_FETCH} issue IDs or keys can be requested."
        )));
    }
    let fields = strings(&body, "fields")?;
    let expand = strings(&body, "expand")?;
    let properties = strings(&body, "properties")?;
    if properties.len() > MAX_PROPERTIES {
        return Err(ApiError::bad_request(format!(
            "A maximum of {MAX_PROPERTIES} issue property keys can be requested."
        )));
    }
    match body.get("fieldsByKeys") {
        // Field keys and ids are the same in the simulator, so the flag changes nothing.
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
    let options =
        IssueOptions::from_query(&fields, &expand, &properties, FieldSelection::navigable());
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let mut found: Vec<&Issue> = ids
        .iter()
        .filter_map(|r| visible_issue(site, viewer, r))
        .collect();
    found.sort_by_key(|i| i.id);
    found.dedup_by_key(|i| i.id);
    let renderer = IssueRenderer::new(&world, site, viewer, &options);
    let issues: Vec<Value> = found.into_iter().map(|i| renderer.render(i)).collect();
    Ok(Json(json!({ "issues": issues, "issueErrors": [] })))
}
