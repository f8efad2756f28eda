//! `POST /jql/parse` (syntax tree and validation per query) and `POST /jql/match` (which of the
//! given issues each query matches). Both report problems per query in the response body rather
//! than failing the whole request.

use std::collections::HashSet;

use axum::extract::{RawQuery, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::api::env;
use super::compile;
use super::exec;
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::state::SimState;

/// Most JQL queries `jql/match` accepts.
const MAX_MATCH_QUERIES: usize = 1000;
/// Most issue ids `jql/match` accepts.
const MAX_MATCH_ISSUES: usize = 1000;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/jql/parse", post(parse))
        .route("/jql/match", post(match_issues))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validation {
    Strict,
    Warn,
    None,
}

fn string_list(map: &serde_json::Map<String, Value>, name: &str) -> ApiResult<Vec<String>> {
    let invalid = || ApiError::bad_request(INVALID_PAYLOAD);
    match map.get(name) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect(),
        _ => Err(invalid()),
    }
}

fn body_object(body: &[u8], allowed: &[&str]) -> ApiResult<serde_json::Map<String, Value>> {
    let invalid = || ApiError::bad_request(INVALID_PAYLOAD);
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if map.keys().all(|k| allowed.contains(&k.as_str())) => Ok(map),
        _ => Err(invalid()),
    }
}

async fn parse(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let validation = raw
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "validation")
        .map(|(_, v)| v);
    let validation = match validation.as_deref() {
        None | Some("strict") => Validation::Strict,
        Some("warn") => Validation::Warn,
        Some("none") => Validation::None,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid validation value '{other}'. Valid values are: strict, warn, none."
            )));
        }
    };
    let map = body_object(&body, &["queries"])?;
    let queries = string_list(&map, "queries")?;
    if queries.is_empty() {
        return Err(ApiError::bad_request("At least one query is required."));
    }
    let now = state.clock.now_ms();
    let world = state.world.read();
    let site = world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let env = env(&world, site, &caller, now);
    let parsed: Vec<Value> = queries
        .iter()
        .map(|text| match jiraflow_jql::parse(text) {
            Err(e) => json!({ "query": text, "errors": [e.to_string()] }),
            Ok(query) => {
                let errors = if validation == Validation::None {
                    Vec::new()
                } else {
                    compile::compile(&query, &env).err().unwrap_or_default()
                };
                let mut out = json!({ "query": text });
                if let Some(obj) = out.as_object_mut() {
                    if errors.is_empty() || validation == Validation::Warn {
                        obj.insert("structure".to_owned(), super::structure::query(&query));
                    }
                    if !errors.is_empty() {
                        obj.insert("errors".to_owned(), json!(errors));
                    }
                }
                out
            }
        })
        .collect();
    Ok(Json(json!({ "queries": parsed })))
}

async fn match_issues(
    State(state): State<SimState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let invalid = || ApiError::bad_request(INVALID_PAYLOAD);
    let map = body_object(&body, &["issueIds", "jqls"])?;
    let jqls = string_list(&map, "jqls")?;
    let issue_ids: Vec<u64> = match map.get("issueIds") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_u64().ok_or_else(invalid))
            .collect::<ApiResult<_>>()?,
        _ => return Err(invalid()),
    };
    if jqls.len() > MAX_MATCH_QUERIES {
        return Err(ApiError::bad_request(format!(
            "The number of JQL queries exceeds the limit of {MAX_MATCH_QUERIES}."
        )));
    }
    if issue_ids.len() > MAX_MATCH_ISSUES {
        return Err(ApiError::bad_request(format!(
            "The number of issue IDs exceeds the limit of {MAX_MATCH_ISSUES}."
        )));
    }
    let now = state.clock.now_ms();
    let world = state.world.read();
    let site = world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let env = env(&world, site, &caller, now);
    let browsable: HashSet<u64> = exec::browsable_projects(&env);
    let indexes = state.search.view(now);
    let index = indexes.sites.get(&caller.cloud_id);
    let mut seen = HashSet::new();
    let ids: Vec<u64> = issue_ids
        .into_iter()
        .filter(|id| seen.insert(*id))
        .collect();
    let matches: Vec<Value> = jqls
        .iter()
        .map(|text| {
            let compiled = jiraflow_jql::parse(text)
                .map_err(|e| vec![e.to_string()])
                .and_then(|q| compile::compile(&q, &env));
            match compiled {
                Err(errors) => json!({ "matchedIssues": [], "errors": errors }),
                Ok(compiled) => {
                    // Matching reads the search index, like search itself: a change not yet
                    // visible to search is not visible here either.
                    let matched: Vec<u64> = ids
                        .iter()
                        .copied()
                        .filter(|id| {
                            index
                                .and_then(|i| i.docs.get(id))
                                .is_some_and(|doc| exec::matches(doc, &env, &compiled, &browsable))
                        })
                        .collect();
                    json!({ "matchedIssues": matched, "errors": [] })
                }
            }
        })
        .collect();
    Ok(Json(json!({ "matches": matches })))
}
