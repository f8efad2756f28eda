//! Hostile-but-realistic behaviour layered over the Jira router: burst, per-issue and hourly
//! rate limits answered with 429 and Atlassian's headers, injected 5xx, delays and dropped
//! connections (before or after the write was applied), and Jira's JSON error bodies for the
//! framework's own rejections.
//!
//! The layer runs for every request the gateway authenticated. With every knob off it reads the
//! settings once, bumps a counter and passes the request through.

mod faults;
mod limits;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use faults::{
    BodyCut, BodyCuts, Dice, DroppedConnection, cut_body, dropped_connection, server_error,
};
pub use limits::{Budget, Limited, Limiters, Reason, burst_limit_for, reset_header};

use crate::error::ApiError;
use crate::gateway::Caller;
use crate::state::{Counters, SimState};

/// The realism layers' own state: limiter windows and the fault dice.
#[derive(Debug, Default)]
pub struct Realism {
    /// Burst buckets, per-issue write windows and hourly quotas.
    pub limiters: Limiters,
    /// The fault dice.
    pub dice: Dice,
    /// Responses to break off midway, armed in process by tests.
    pub body_cuts: BodyCuts,
}

impl Realism {
    /// Forgets every limiter window and restarts seeded dice (admin reset).
    pub fn clear(&self) {
        self.limiters.clear();
        self.dice.clear();
        self.body_cuts.disarm();
    }
}

/// Wraps the Jira router in the realism layers.
pub fn layer(router: Router<SimState>, state: SimState) -> Router<SimState> {
    router.layer(axum::middleware::from_fn_with_state(state, realism))
}

/// The knobs one request needs, copied out of the settings under one short read lock.
#[derive(Debug, Clone, Copy)]
struct Knobs {
    burst_per_second: u32,
    issue_writes_per_2s: u32,
    issue_writes_per_30s: u32,
    hourly_quota_points: u32,
    random_429_rate: f64,
    fault_5xx_rate: f64,
    fault_drop_rate: f64,
    fault_drop_after_commit_rate: f64,
    fault_delay_rate: f64,
    fault_delay_ms: u64,
    retry_after_secs: u64,
    fault_seed: Option<u64>,
    /// Whether this request passes the fault filter (method and path prefix).
    faults_apply: bool,
}

impl Knobs {
    fn read(state: &SimState, method: &Method, path: &str) -> Self {
        let s = state.settings.read();
        let faults_apply = (s.fault_methods.is_empty()
            || s.fault_methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method.as_str())))
            && s.fault_path_prefix
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix));
        Self {
            burst_per_second: s.burst_per_second,
            issue_writes_per_2s: s.issue_writes_per_2s,
            issue_writes_per_30s: s.issue_writes_per_30s,
            hourly_quota_points: s.hourly_quota_points,
            random_429_rate: s.random_429_rate,
            fault_5xx_rate: s.fault_5xx_rate,
            fault_drop_rate: s.fault_drop_rate,
            fault_drop_after_commit_rate: s.fault_drop_after_commit_rate,
            fault_delay_rate: s.fault_delay_rate,
            fault_delay_ms: s.fault_delay_ms,
            retry_after_secs: s.retry_after_secs,
            fault_seed: s.fault_seed,
            faults_apply,
        }
    }

    fn limits_on(&self) -> bool {
        self.burst_per_second > 0
            || self.issue_writes_per_2s > 0
            || self.issue_writes_per_30s > 0
            || self.hourly_quota_points > 0
    }

    fn faults_on(&self) -> bool {
        self.faults_apply
            && (self.random_429_rate > 0.0
                || self.fault_5xx_rate > 0.0
                || self.fault_drop_rate > 0.0
                || self.fault_drop_after_commit_rate > 0.0
                || (self.fault_delay_rate > 0.0 && self.fault_delay_ms > 0))
    }
}

async fn realism(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let cut = state.realism.body_cuts.take(request.uri().path());
    let response = realism_inner(&state, request, next).await;
    match cut {
        Some(after) if response.status().is_success() => {
            Counters::bump(&state.counters.faults_injected);
            cut_body(response, after)
        }
        _ => response,
    }
}

async fn realism_inner(state: &SimState, request: Request, next: Next) -> Response {
    Counters::bump(&state.counters.api_requests);
    let knobs = Knobs::read(state, request.method(), request.uri().path());
    if !knobs.limits_on() && !knobs.faults_on() {
        return json_errors(next.run(request).await).await;
    }
    let seed = knobs.fault_seed;
    let dice = &state.realism.dice;
    if knobs.faults_on() {
        if dice.roll(knobs.fault_delay_rate, seed) && knobs.fault_delay_ms > 0 {
            Counters::bump(&state.counters.faults_injected);
            tokio::time::sleep(std::time::Duration::from_millis(knobs.fault_delay_ms)).await;
        }
        if dice.roll(knobs.fault_drop_rate, seed) {
            Counters::bump(&state.counters.faults_injected);
            return dropped_connection();
        }
        if dice.roll(knobs.fault_5xx_rate, seed) {
            Counters::bump(&state.counters.faults_injected);
            return server_error(dice.pick(5, seed), knobs.retry_after_secs);
        }
        if dice.roll(knobs.random_429_rate, seed) {
            Counters::bump(&state.counters.faults_injected);
            Counters::bump(&state.counters.rate_limited);
            let now = state.clock.now_ms();
            let retry_after_secs = knobs.retry_after_secs.max(1);
            return Limited {
                reason: Reason::Burst,
                retry_after_secs,
                limit: knobs.burst_per_second.max(1),
                reset_at: now + (retry_after_secs as i64) * 1000,
            }
            .into_response();
        }
    }
    let budget = if knobs.limits_on() {
        match check_limits(state, &knobs, &request) {
            Ok(budget) => budget,
            Err(limited) => {
                Counters::bump(&state.counters.rate_limited);
                return limited.into_response();
            }
        }
    } else {
        None
    };
    let mut response = json_errors(next.run(request).await).await;
    if knobs.faults_on() && dice.roll(knobs.fault_drop_after_commit_rate, seed) {
        Counters::bump(&state.counters.faults_injected);
        return dropped_connection();
    }
    if let Some((budget, near)) = budget {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(budget.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(budget.remaining));
        if near {
            headers.insert("x-ratelimit-nearlimit", HeaderValue::from_static("true"));
        }
    }
    response
}

/// Runs the enabled limiters in Jira's order of scope: the app's hourly quota, the endpoint's
/// burst, then the issue's write windows. Returns the budget the success headers describe (the
/// burst bucket when burst limits are on, else the hourly quota) and whether any budget is
/// nearly spent.
fn check_limits(
    state: &SimState,
    knobs: &Knobs,
    request: &Request,
) -> Result<Option<(Budget, bool)>, Limited> {
    let Some(caller) = request.extensions().get::<Caller>() else {
        return Ok(None);
    };
    let now = state.clock.now_ms();
    let limiters = &state.realism.limiters;
    let mut budget = None;
    let mut near = false;
    if knobs.hourly_quota_points > 0 {
        let quota = limiters.quota(&caller.client_id, knobs.hourly_quota_points, now)?;
        near = quota.near_limit();
        budget = Some(quota);
    }
    let method = request.method();
    if knobs.burst_per_second > 0 {
        let template = request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| request.uri().path(), MatchedPath::as_str);
        let limit = burst_limit_for(method, knobs.burst_per_second);
        let burst = limiters.burst(&caller.cloud_id, template, method, limit, now)?;
        near |= burst.near_limit();
        budget = Some(burst);
    }
    let is_write = *method == Method::POST
        || *method == Method::PUT
        || *method == Method::DELETE
        || *method == Method::PATCH;
    if is_write
        && (knobs.issue_writes_per_2s > 0 || knobs.issue_writes_per_30s > 0)
        && let Some(issue_id) = written_issue(state, &caller.cloud_id, request.uri().path())
    {
        limiters.issue_write(
            &caller.cloud_id,
            issue_id,
            knobs.issue_writes_per_2s,
            knobs.issue_writes_per_30s,
            now,
        )?;
    }
    Ok(budget.map(|budget| (budget, near)))
}

/// The issue a write addresses (`/rest/api/3/issue/{issueIdOrKey}/...`), resolved through the
/// world so that a key and the id of one issue share their windows.
fn written_issue(state: &SimState, cloud_id: &str, path: &str) -> Option<u64> {
    let rest = path.strip_prefix("/rest/api/3/issue/")?;
    let id_or_key = rest.split('/').next().filter(|s| !s.is_empty())?;
    let world = state.world.read();
    world.site(cloud_id)?.jira.resolve_issue(id_or_key)
}

/// Jira answers every REST error with a JSON error collection. The framework's own rejections
/// (unparsable JSON, wrong content type, unknown path, method not allowed, body too large) come
/// as plain text or empty bodies; they are rewrapped here so clients see Jira's shape.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !status.is_client_error() {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    let mut rewrapped = ApiError::message(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewrapped.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewrapped
}
