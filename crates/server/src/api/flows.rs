//! Applied flows over the API: list, show, apply (`PUT` with the YAML file as the body), enable,
//! disable, delete, and manual runs (enqueued for the workers, answered 202 with the run id).
//!
//! Applying or enabling a flow, or running it by hand, needs the use of every connection the flow
//! names, as on the command line; a flow naming someone else's connection is refused at that
//! name's position.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use jiraflow_engine::connections::may_use;
use jiraflow_engine::flow::{self, AnyConnection, ConnectionCatalog, Flow, FlowErrors, FlowFile};
use jiraflow_store::{ConnectionId, FlowRecord, RunOrigin, SaveFlow, Store, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::auth::{ApiJson, ApiUser};
use crate::error::{ApiError, ApiResult};

/// An applied flow as the API shows it: the record plus what its source says.
#[derive(Debug, Serialize)]
pub struct FlowView {
    /// The stored record (source included).
    #[serde(flatten)]
    pub record: FlowRecord,
    /// The trigger type.
    pub trigger: Option<String>,
    /// The connections it names, lowercased.
    pub connections: Vec<String>,
    /// Why the stored source no longer loads.
    pub load_error: Option<String>,
}

/// What an apply did.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// Flow name.
    pub name: String,
    /// Version after the apply.
    pub version: i64,
    /// `created`, `updated` or `unchanged`.
    pub result: &'static str,
    /// Whether its trigger runs.
    pub enabled: bool,
}

/// Body of `POST /flows/{name}/runs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The trigger payload the run sees as `trigger`.
    pub payload: Value,
}

struct Names(HashSet<String>);

impl ConnectionCatalog for Names {
    fn exists(&self, name: &str) -> bool {
        self.0.contains(&name.to_lowercase())
    }
}

/// The connection names a flow uses (trigger and steps), lowercased and sorted.
pub fn connection_names(spec: &FlowFile) -> Vec<String> {
    let mut names: Vec<String> = std::iter::once(spec.trigger.connection.as_str())
        .chain(spec.steps.iter().filter_map(|s| s.connection.as_deref()))
        .map(str::to_lowercase)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The 400 for a flow file that does not load: every problem in the message (each with
/// `file:line:column`), the first one's field path as `field`.
pub fn flow_errors(errors: &FlowErrors) -> ApiError {
    let error = ApiError::invalid(errors.to_string());
    match errors.errors.first() {
        Some(first) if !first.path.is_empty() => error.at(first.path.clone()),
        _ => error,
    }
}

/// Validates `text` and saves it as the flow it defines, as `user`: the shared apply of the API
/// and of `jiraflow up` (which applies the demo flows).
///
/// # Errors
/// 400 for a file that does not load (naming `file:line:column`), store failures.
pub async fn apply_source(
    store: &dyn Store,
    user: &User,
    file_name: &str,
    text: &str,
    disabled: bool,
) -> ApiResult<Applied> {
    let usable: HashMap<String, ConnectionId> = store
        .list_connections()
        .await?
        .into_iter()
        .filter(|c| may_use(user, c))
        .map(|c| (c.name.to_lowercase(), c.id))
        .collect();
    let catalog = Names(usable.keys().cloned().collect());
    let loaded = flow::load_flow((file_name, text), &catalog).map_err(|e| flow_errors(&e))?;
    let name = loaded.spec.name.clone();
    let connections = connection_names(&loaded.spec)
        .iter()
        .filter_map(|n| usable.get(n).copied())
        .collect();
    let before = store.get_flow(&name).await?;
    let record = store
        .save_flow(SaveFlow {
            name,
            source: text.to_owned(),
            file_name: file_name.to_owned(),
            enabled: loaded.spec.enabled && !disabled,
            applied_by: Some(user.id),
            connections,
        })
        .await?;
    let result = match before {
        None => "created",
        Some(b) if b.version != record.version || b.enabled != record.enabled => "updated",
        Some(_) => "unchanged",
    };
    Ok(Applied {
        name: record.name,
        version: record.version,
        result,
        enabled: record.enabled,
    })
}

fn view(record: FlowRecord) -> FlowView {
    match flow::load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    ) {
        Ok(loaded) => FlowView {
            trigger: serde_json::to_value(loaded.spec.trigger.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned)),
            connections: connection_names(&loaded.spec),
            load_error: None,
            record,
        },
        Err(errors) => FlowView {
            trigger: None,
            connections: Vec::new(),
            load_error: Some(errors.to_string()),
            record,
        },
    }
}

async fn find(state: &AppState, name: &str) -> ApiResult<FlowRecord> {
    state
        .store()
        .get_flow(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("unknown flow {name:?}")))
}

/// Loads a stored flow and fails unless `user` may use every connection it names.
async fn usable_flow(state: &AppState, user: &User, record: &FlowRecord) -> ApiResult<Flow> {
    let loaded = flow::load_flow(
        (record.file_name.as_str(), record.source.as_str()),
        &AnyConnection,
    )
    .map_err(|e| ApiError::conflict(format!("flow {:?} does not load: {e}", record.name)))?;
    for name in connection_names(&loaded.spec) {
        let connection = state.store().find_connection_by_name(&name).await?;
        if !connection.is_some_and(|c| may_use(user, &c)) {
            return Err(ApiError::forbidden(format!(
                "flow {:?} uses the connection {name:?}, which is unknown or not yours to use",
                record.name
            )));
        }
    }
    Ok(loaded)
}

/// `GET /flows`.
pub async fn list(State(state): State<AppState>, _user: ApiUser) -> ApiResult<Json<Vec<FlowView>>> {
    let flows = state.store().list_flows().await?;
    Ok(Json(flows.into_iter().map(view).collect()))
}

/// `GET /flows/{name}`.
pub async fn show(
    State(state): State<AppState>,
    _user: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<FlowView>> {
    Ok(Json(view(find(&state, &name).await?)))
}

/// `PUT /flows/{name}` with the flow file (YAML) as the body; `?disabled=true` saves it disabled.
pub async fn apply(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let mut disabled = false;
    for (key, value) in super::query_params(query.as_deref(), &["disabled"])? {
        disabled = super::query_bool(&key, &value)?;
    }
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::invalid(format!("the flow file is not UTF-8: {e}")))?;
    let file_name = format!("{name}.yaml");
    // The name in the path must be the file's: a PUT that silently wrote another flow would
    // surprise whoever scripted it.
    let declared = flow::load_flow((file_name.as_str(), text), &AnyConnection)
        .map_err(|e| flow_errors(&e))?
        .spec
        .name;
    if !declared.eq_ignore_ascii_case(&name) {
        return Err(ApiError::invalid(format!(
            "the flow file defines {declared:?}, but the URL names {name:?}"
        ))
        .at("name"));
    }
    let applied = apply_source(state.store().as_ref(), &user, &file_name, text, disabled).await?;
    let status = if applied.result == "created" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(applied)).into_response())
}

async fn set_enabled(
    state: &AppState,
    user: &User,
    name: &str,
    enabled: bool,
) -> ApiResult<Json<FlowView>> {
    let record = find(state, name).await?;
    if enabled {
        usable_flow(state, user, &record).await?;
    }
    let record = state
        .store()
        .set_flow_enabled(&record.name, enabled)
        .await?;
    Ok(Json(view(record)))
}

/// `POST /flows/{name}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<FlowView>> {
    set_enabled(&state, &user, &name, true).await
}

/// `POST /flows/{name}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<FlowView>> {
    set_enabled(&state, &user, &name, false).await
}

/// `DELETE /flows/{name}` (its runs are kept).
pub async fn delete(
    State(state): State<AppState>,
    _user: ApiUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let record = find(&state, &name).await?;
    state.store().delete_flow(&record.name).await?;
    state.notify_flows_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /flows/{name}/runs` `{"payload": ...}`: enqueues a manual run; 202 with its id.
pub async fn run(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<RunRequest>,
) -> ApiResult<Response> {
    let record = find(&state, &name).await?;
    usable_flow(&state, &user, &record).await?;
    let run = state
        .executor()
        .enqueue(&record.name, request.payload, RunOrigin::Manual, None)
        .await?;
    let body = serde_json::json!({
        "run_id": run.id,
        "flow_name": run.flow_name,
        "flow_version": run.flow_version,
        "status": run.status,
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
