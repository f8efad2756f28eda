//! The simulator's admin API under `/_sim/`: realism settings, counters, the simulated clock,
//! reset, and test fixtures (accounts, sites, tokens, bulk issues).
//!
//! It is unauthenticated on purpose: the simulator is a local sandbox on loopback, and the admin
//! API must never be exposed beyond it. Bodies are JSON and reject unknown fields; errors use
//! Jira's error-collection shape.

mod accounts;
mod bulk;

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::clock::jira_timestamp;
use crate::config::{SeedKind, Settings, SimConfig};
use crate::error::{ApiError, ApiResult};
use crate::state::SimState;

/// Routes under `/_sim`.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route(
            "/settings",
            get(get_settings).put(put_settings).patch(put_settings),
        )
        .route("/stats", get(stats))
        .route("/clock", get(get_clock).post(set_clock))
        .route("/reset", post(reset))
        .route("/users", post(accounts::add_user))
        .route("/users/{account_id}", patch(accounts::patch_user))
        .route("/sites", post(accounts::add_site))
        .route("/tokens", post(accounts::mint_token))
        .route("/issues/bulk", post(bulk::create_issues))
        // 405s and other framework answers in the same JSON shape as every admin error.
        .layer(axum::middleware::map_response(crate::realism::json_errors))
}

/// A JSON body whose problems (syntax, unknown field, wrong type) are answered with a 400 in
/// Jira's error shape naming what is wrong. An empty body reads as `{}`.
pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|err| ApiError::message(err.status(), err.body_text()))?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(AdminJson)
            .map_err(|err| ApiError::bad_request(format!("Invalid request body: {err}")))
    }
}

async fn get_settings(State(state): State<SimState>) -> Json<Settings> {
    Json(state.settings())
}

/// Partial update: the body is an object of `Settings` fields (snake_case, as `GET` returns
/// them). Each field is checked on its own so that errors name it; nothing changes unless every
/// field is valid.
async fn put_settings(
    State(state): State<SimState>,
    AdminJson(patch): AdminJson<serde_json::Map<String, Value>>,
) -> ApiResult<Json<Settings>> {
    let current = serde_json::to_value(state.settings())
        .map_err(|e| ApiError::message(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let Value::Object(mut merged) = current else {
        return Err(ApiError::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Settings are not an object.",
        ));
    };
    let mut errors = std::collections::BTreeMap::new();
    let mut unknown = Vec::new();
    for (key, value) in &patch {
        if !merged.contains_key(key) {
            unknown.push(key.clone());
            errors.insert(key.clone(), "Unknown setting.".to_owned());
            continue;
        }
        let single = json!({ key.clone(): value });
        if let Err(err) = serde_json::from_value::<Settings>(single) {
            errors.insert(key.clone(), err.to_string());
        }
    }
    if errors.is_empty() {
        let reseeds = patch.contains_key("fault_seed");
        merged.extend(patch);
        match serde_json::from_value::<Settings>(Value::Object(merged)) {
            Ok(next) => {
                validate(&next, &mut errors);
                if errors.is_empty() {
                    if reseeds {
                        // Setting a seed (even the same one) replays its sequence from the start.
                        state.realism.dice.clear();
                    }
                    *state.settings.write() = next.clone();
                    return Ok(Json(next));
                }
            }
            Err(err) => {
                errors.insert("settings".to_owned(), err.to_string());
            }
        }
    }
    let messages = unknown.iter().map(|k| {
        format!(
            "Unknown setting '{k}'. Known settings: {}.",
            known_settings().join(", ")
        )
    });
    Err(ApiError::collection(
        StatusCode::BAD_REQUEST,
        messages,
        errors,
    ))
}

fn known_settings() -> Vec<String> {
    match serde_json::to_value(Settings::default()) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn validate(settings: &Settings, errors: &mut std::collections::BTreeMap<String, String>) {
    let rates = [
        ("random_429_rate", settings.random_429_rate),
        ("fault_5xx_rate", settings.fault_5xx_rate),
        ("fault_drop_rate", settings.fault_drop_rate),
        (
            "fault_drop_after_commit_rate",
            settings.fault_drop_after_commit_rate,
        ),
        ("fault_delay_rate", settings.fault_delay_rate),
    ];
    for (name, rate) in rates {
        if !(0.0..=1.0).contains(&rate) {
            errors.insert(
                name.to_owned(),
                "Must be a fraction between 0.0 and 1.0.".to_owned(),
            );
        }
    }
    if !(400..=599).contains(&settings.expired_token_status) {
        errors.insert(
            "expired_token_status".to_owned(),
            "Must be an HTTP error status (400-599).".to_owned(),
        );
    }
    for method in &settings.fault_methods {
        if axum::http::Method::from_bytes(method.as_bytes()).is_err() {
            errors.insert(
                "fault_methods".to_owned(),
                format!("'{method}' is not an HTTP method."),
            );
        }
    }
    if settings
        .fault_path_prefix
        .as_deref()
        .is_some_and(|p| !p.starts_with('/'))
    {
        errors.insert(
            "fault_path_prefix".to_owned(),
            "Must start with '/' (a path after /ex/jira/{cloudId}, e.g. /rest/api/3/issue)."
                .to_owned(),
        );
    }
    if settings.fault_delay_ms > 600_000 {
        errors.insert(
            "fault_delay_ms".to_owned(),
            "Must be at most 600000 (10 minutes).".to_owned(),
        );
    }
}

async fn stats(State(state): State<SimState>) -> Json<Value> {
    let now = state.clock.now_ms();
    let world = state.world.read();
    let mut projects = 0;
    let mut issues = 0;
    let mut comments = 0;
    let mut attachments = 0;
    let mut links = 0;
    let mut webhooks = 0;
    let mut groups = 0;
    for site in world.sites.values() {
        projects += site.jira.projects.len();
        issues += site.jira.issues.len();
        comments += site
            .jira
            .issues
            .values()
            .map(|i| i.comments.len())
            .sum::<usize>();
        attachments += site.jira.attachments.len();
        links += site.jira.links.len();
        webhooks += site.jira.webhooks.len();
        groups += site.groups.len();
    }
    Json(json!({
        "counters": state.counters.snapshot(),
        "world": {
            "apps": world.apps.len(),
            "users": world.users.len(),
            "sites": world.sites.len(),
            "groups": groups,
            "projects": projects,
            "issues": issues,
            "comments": comments,
            "attachments": attachments,
            "links": links,
            "webhooks": webhooks,
        },
        "tokens": crate::oauth::token_stats(&world, now),
        "search": { "pendingChanges": state.search.pending_len() },
        "clock": clock_body(&state),
    }))
}

fn clock_body(state: &SimState) -> Value {
    let now = state.clock.now_ms();
    json!({
        "nowMs": now,
        "now": jira_timestamp(now),
        "offsetMs": state.clock.offset_ms(),
    })
}

async fn get_clock(State(state): State<SimState>) -> Json<Value> {
    Json(clock_body(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClockChange {
    offset_ms: Option<i64>,
    advance_ms: Option<i64>,
}

/// `{"offsetMs": n}` sets the offset from the host clock; `{"advanceMs": n}` moves the clock
/// (both: set, then advance).
async fn set_clock(
    State(state): State<SimState>,
    AdminJson(change): AdminJson<ClockChange>,
) -> ApiResult<Json<Value>> {
    if change.offset_ms.is_none() && change.advance_ms.is_none() {
        return Err(ApiError::bad_request(
            "Give offsetMs (set the offset from the host clock) or advanceMs (move the clock).",
        ));
    }
    if let Some(offset) = change.offset_ms {
        state.clock.set_offset_ms(offset);
    }
    if let Some(delta) = change.advance_ms {
        state.clock.advance_ms(delta);
    }
    Ok(Json(clock_body(&state)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ResetRequest {
    seed: SeedKind,
}

/// Rebuilds the world from a seed as start-up does. The OAuth apps (client id and secret) and
/// the whole token state survive, so the ready line's admin token and every connection made
/// through consent keep working; limiter windows are forgotten. Settings, counters and the clock
/// are left alone.
async fn reset(
    State(state): State<SimState>,
    AdminJson(request): AdminJson<ResetRequest>,
) -> Json<Value> {
    let now = state.clock.now_ms();
    {
        let mut world = state.world.write();
        let config = SimConfig {
            seed: request.seed,
            ..SimConfig::default()
        };
        let mut fresh = crate::seed::build(&config, &state.urls, now);
        fresh.apps = std::mem::take(&mut world.apps);
        fresh.oauth = std::mem::take(&mut world.oauth);
        *world = fresh;
        state.search.rebuild(&world, now);
    }
    state.realism.clear();
    let world = state.world.read();
    let issues: usize = world.sites.values().map(|s| s.jira.issues.len()).sum();
    Json(json!({ "seed": request.seed, "issues": issues }))
}
