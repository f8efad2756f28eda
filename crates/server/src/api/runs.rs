//! Runs (list with filters, one with its steps) and the triggers' health, read from the store.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use jiraflow_engine::triggers::health::{TriggerHealth, trigger_health};
use jiraflow_store::{RunDetail, RunId, RunQuery, RunRecord, RunStatus};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult};

/// `GET /runs?flow=NAME&status=pending|running|succeeded|failed&limit=N` (newest first).
pub async fn list(
    State(state): State<AppState>,
    _user: ApiUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<RunRecord>>> {
    let mut filter = RunQuery {
        limit: Some(100),
        ..RunQuery::default()
    };
    for (key, value) in super::query_params(query.as_deref(), &["flow", "status", "limit"])? {
        match key.as_str() {
            "flow" => filter.flow_name = Some(value),
            "status" => {
                filter.status = Some(
                    value
                        .parse::<RunStatus>()
                        .map_err(|e| ApiError::invalid(e).at("status"))?,
                );
            }
            _ => filter.limit = Some(super::query_u32(&key, &value)?),
        }
    }
    Ok(Json(state.store().list_runs(filter).await?))
}

/// `GET /runs/{id}`: the run and its steps (inputs as recorded: secrets redacted).
pub async fn show(
    State(state): State<AppState>,
    _user: ApiUser,
    Path(id): Path<String>,
) -> ApiResult<Json<RunDetail>> {
    let run_id: RunId = id
        .parse()
        .map_err(|_| ApiError::invalid(format!("{id:?} is not a run id")).at("id"))?;
    state
        .store()
        .get_run(run_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("run {id} not found")))
}

/// `GET /triggers`: every flow's trigger health (mode, last poll, lag, webhook, pause, errors,
/// counters).
pub async fn triggers(
    State(state): State<AppState>,
    _user: ApiUser,
) -> ApiResult<Json<Vec<TriggerHealth>>> {
    Ok(Json(
        trigger_health(state.store().as_ref(), chrono::Utc::now()).await?,
    ))
}
