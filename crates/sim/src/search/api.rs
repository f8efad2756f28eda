//! `GET`/`POST /search/jql` (search and reconcile, cursor paged) and
//! `POST /search/approximate-count`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::compile::{self, Compiled, Env};
use super::dates::DateContext;
use super::exec::{self, After};
use super::index::Doc;
use super::token::{self, Cursor, TOKEN_TTL_MS, TokenError};
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::rest::access::Viewer;
use crate::rest::issue_bean::{FieldSelection, IssueOptions, IssueRenderer};
use crate::state::SimState;
use crate::world::World;

const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";
/// Page size cap when only `id`/`key` are requested.
const MAX_IDS_PAGE: i64 = 5000;
/// Page size cap when other fields are requested.
const MAX_FIELDS_PAGE: i64 = 100;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/search/jql", get(search_get).post(search_post))
        .route("/search/approximate-count", post(approximate_count))
}

/// A `search/jql` request, from either the query string or the body.
#[derive(Debug, Default)]
struct SearchRequest {
    jql: String,
    next_page_token: Option<String>,
    max_results: Option<i64>,
    fields: Vec<String>,
    expand: Vec<String>,
    properties: Vec<String>,
    reconcile: Vec<u64>,
}

async fn search_get(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let pairs: Vec<(String, String)> = raw
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let list = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    };
    let max_results = match first("maxResults") {
        Some(v) => Some(v.trim().parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("The value '{v}' is not valid for 'maxResults'."))
        })?),
        None => None,
    };
    let mut reconcile = Vec::new();
    for v in list("reconcileIssues") {
        reconcile.push(
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(INVALID_PAYLOAD))?,
        );
    }
    let request = SearchRequest {
        jql: first("jql").unwrap_or_default(),
        next_page_token: first("nextPageToken").filter(|t| !t.is_empty()),
        max_results,
        fields: list("fields"),
        expand: list("expand"),
        properties: list("properties"),
        reconcile,
    };
    search(&state, &caller, request).map(Json)
}

async fn search_post(
    State(state): State<SimState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let request = parse_body(&body)?;
    search(&state, &caller, request).map(Json)
}

/// Binds the POST body like Jira's strict bean: known properties with the right types only.
fn parse_body(body: &[u8]) -> ApiResult<SearchRequest> {
    let invalid = || ApiError::bad_request(INVALID_PAYLOAD);
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let Value::Object(map) = value else {
        return Err(invalid());
    };
    let mut request = SearchRequest::default();
    let strings = |v: &Value| -> ApiResult<Vec<String>> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).ok_or_else(invalid))
                .collect(),
            _ => Err(invalid()),
        }
    };
    for (key, v) in &map {
        match key.as_str() {
            "jql" => request.jql = opt_string(v).ok_or_else(invalid)?.unwrap_or_default(),
            "nextPageToken" => request.next_page_token = opt_string(v).ok_or_else(invalid)?,
            "maxResults" => {
                request.max_results = match v {
                    Value::Null => None,
                    Value::Number(n) => Some(n.as_i64().ok_or_else(invalid)?),
                    _ => return Err(invalid()),
                }
            }
            "fields" => request.fields = strings(v)?,
            // `expand` is a comma-separated string here, unlike most endpoints: an array is
            // refused like Jira refuses it.
            "expand" => {
                request.expand = opt_string(v)
                    .ok_or_else(invalid)?
                    .map(|s| s.split(',').map(|e| e.trim().to_owned()).collect())
                    .unwrap_or_default();
            }
            "properties" => request.properties = strings(v)?,
            "fieldsByKeys" => {
                if !(v.is_boolean() || v.is_null()) {
                    return Err(invalid());
                }
            }
            "reconcileIssues" => {
                request.reconcile = match v {
                    Value::Null => Vec::new(),
                    Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_u64().ok_or_else(invalid))
                        .collect::<ApiResult<_>>()?,
                    _ => return Err(invalid()),
                }
            }
            _ => return Err(invalid()),
        }
    }
    Ok(request)
}

fn opt_string(v: &Value) -> Option<Option<String>> {
    match v {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        _ => None,
    }
}

/// Parses and compiles `jql` for `caller`, with Jira's 400s.
pub fn prepare(
    world: &World,
    caller: &Caller,
    jql: &str,
    now: i64,
) -> ApiResult<(jiraflow_jql::Query, Compiled)> {
    let site = world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let query = jiraflow_jql::parse(jql).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let env = env(world, site, caller, now);
    let compiled = compile::compile(&query, &env).map_err(|errors| {
        ApiError::collection(
            axum::http::StatusCode::BAD_REQUEST,
            errors,
            Default::default(),
        )
    })?;
    Ok((query, compiled))
}

/// The evaluation environment of `caller` on `site`.
pub fn env<'a>(
    world: &'a World,
    site: &'a crate::world::Site,
    caller: &'a Caller,
    now: i64,
) -> Env<'a> {
    let (tz, locale) = world
        .user(&caller.account_id)
        .map_or(("UTC", "en_US"), |u| {
            (u.time_zone.as_str(), u.locale.as_str())
        });
    Env {
        world,
        site,
        account_id: &caller.account_id,
        role: caller.role,
        dates: DateContext::new(tz, locale, now),
    }
}

/// Jira's rule for `search/jql` and `approximate-count`: the query needs a WHERE condition. An
/// empty query and a bare ORDER BY are unbounded.
fn require_bounded(query: &jiraflow_jql::Query) -> ApiResult<()> {
    if query.clause.is_none() {
        return Err(ApiError::bad_request(UNBOUNDED));
    }
    Ok(())
}

fn search(state: &SimState, caller: &Caller, request: SearchRequest) -> ApiResult<Value> {
    if request.properties.len() > 5 {
        return Err(ApiError::bad_request(
            "The number of issue properties requested exceeds the limit of 5.",
        ));
    }
    if request.reconcile.len() > 50 {
        return Err(ApiError::bad_request(
            "The number of issues to reconcile exceeds the limit of 50.",
        ));
    }
    let only_ids = request
        .fields
        .iter()
        .all(|f| matches!(f.as_str(), "id" | "key"));
    let cap = if only_ids {
        MAX_IDS_PAGE
    } else {
        MAX_FIELDS_PAGE
    };
    let limit = request.max_results.unwrap_or(50).clamp(1, cap) as usize;
    let now = state.clock.now_ms();
    let world = state.world.read();
    let (query, compiled) = prepare(&world, caller, &request.jql, now)?;
    require_bounded(&query)?;
    let site = world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    // A token belongs to its JQL and caller; `fields` may change between pages (the cursor does
    // not depend on them).
    let request_hash = token::request_hash(&[&request.jql, &caller.account_id]);
    let after = match &request.next_page_token {
        Some(t) => Some(match token::decode(t, &request_hash, now) {
            Ok(cursor) => After {
                keys: cursor.keys,
                id: cursor.id,
            },
            Err(TokenError::Invalid) => return Err(ApiError::bad_request("Invalid nextPageToken")),
            Err(TokenError::Expired) => {
                return Err(ApiError::bad_request("The nextPageToken has expired."));
            }
        }),
        None => None,
    };
    let env = env(&world, site, caller, now);
    // reconcileIssues: those issues are judged on their live state (read-after-write).
    let live: Vec<Arc<Doc>> = request
        .reconcile
        .iter()
        .filter_map(|id| site.jira.issues.get(id))
        .map(|issue| Arc::new(Doc::from_issue(issue)))
        .collect();
    let page = {
        let indexes = state.search.view(now);
        exec::page(
            indexes.sites.get(&caller.cloud_id),
            &env,
            &compiled,
            after.as_ref(),
            limit,
            &live,
        )
    };
    let id_only = request.fields.is_empty() || request.fields.iter().all(|f| f == "id");
    let options = IssueOptions::from_query(
        &request.fields,
        &request.expand,
        &request.properties,
        FieldSelection::none(),
    );
    let viewer = Viewer::from(caller);
    let renderer = IssueRenderer::new(&world, site, viewer, &options);
    let issues: Vec<Value> = page
        .hits
        .iter()
        .filter_map(|(_, id)| site.jira.issues.get(id))
        .filter(|issue| viewer.can_see_issue(site, issue))
        .map(|issue| {
            if id_only && request.expand.is_empty() && request.properties.is_empty() {
                json!({ "id": issue.id.to_string() })
            } else {
                renderer.render(issue)
            }
        })
        .collect();
    let mut body = Map::new();
    body.insert("issues".to_owned(), Value::Array(issues));
    if page.more
        && let Some((keys, id)) = page.hits.last()
    {
        let cursor = Cursor {
            request: request_hash,
            expires: now + TOKEN_TTL_MS,
            keys: keys.clone(),
            id: *id,
        };
        body.insert("nextPageToken".to_owned(), json!(token::encode(&cursor)));
    }
    body.insert("isLast".to_owned(), json!(!page.more));
    if request.expand.iter().any(|e| e == "names") {
        body.insert("names".to_owned(), renderer.names());
    }
    if request.expand.iter().any(|e| e == "schema") {
        body.insert("schema".to_owned(), renderer.schema());
    }
    Ok(Value::Object(body))
}

async fn approximate_count(
    State(state): State<SimState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let invalid = || ApiError::bad_request(INVALID_PAYLOAD);
    let value: Value = serde_json::from_slice(&body).map_err(|_| invalid())?;
    let Value::Object(map) = value else {
        return Err(invalid());
    };
    if map.keys().any(|k| k != "jql") {
        return Err(invalid());
    }
    let jql = match map.get("jql") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid()),
    };
    let now = state.clock.now_ms();
    let world = state.world.read();
    let (query, compiled) = prepare(&world, &caller, &jql, now)?;
    require_bounded(&query)?;
    let site = world
        .site(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let env = env(&world, site, &caller, now);
    let count = {
        let indexes = state.search.view(now);
        exec::count(indexes.sites.get(&caller.cloud_id), &env, &compiled)
    };
    Ok(Json(json!({ "count": count })))
}
