//! `GET /healthz` and `GET /metrics`: the store's reachability as JSON, and the Prometheus text
//! exposition written by hand (a handful of series does not justify a metrics framework).
//!
//! Most series are read from the store at scrape time (runs by status, trigger cursors and
//! counters, file totals), so they are right across restarts and across processes sharing the
//! database; the Jira client counters and webhook outcomes live in this process.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use jiraflow_store::{RunId, RunQuery, RunStatus};
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;

/// Runs read per status and per scrape: the store caps listings at 1,000.
const RUNS_PER_STATUS: u32 = 1_000;
/// Newest runs inspected per scrape for retried steps.
const RETRY_SCAN: u32 = 200;

/// Counters kept by this process.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// Webhook deliveries accepted (runs may or may not follow).
    pub webhooks_accepted: AtomicU64,
    /// Webhook deliveries that were replays or redeliveries.
    pub webhooks_duplicate: AtomicU64,
    /// Webhook deliveries refused (forged, expired, malformed).
    pub webhooks_rejected: AtomicU64,
    retried: Mutex<RetryTally>,
}

#[derive(Debug, Default)]
struct RetryTally {
    counted: HashSet<RunId>,
    steps_retried: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            webhooks_accepted: AtomicU64::new(0),
            webhooks_duplicate: AtomicU64::new(0),
            webhooks_rejected: AtomicU64::new(0),
            retried: Mutex::new(RetryTally::default()),
        }
    }
}

impl Metrics {
    /// Seconds since the server started.
    pub fn uptime_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Adds the retries of finished runs not counted yet (among the newest ones).
    async fn steps_retried(&self, state: &AppState) -> Result<u64, ApiError> {
        let runs = state
            .store()
            .list_runs(RunQuery {
                limit: Some(RETRY_SCAN),
                ..RunQuery::default()
            })
            .await?;
        let fresh: Vec<RunId> = {
            let tally = self
                .retried
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            runs.iter()
                .filter(|r| r.status.is_final() && !tally.counted.contains(&r.id))
                .map(|r| r.id)
                .collect()
        };
        let mut added = Vec::with_capacity(fresh.len());
        for id in fresh {
            if let Some(detail) = state.store().get_run(id).await? {
                let retries: u64 = detail
                    .steps
                    .iter()
                    .map(|s| u64::from(s.attempts.saturating_sub(1)))
                    .sum();
                added.push((id, retries));
            }
        }
        let mut tally = self
            .retried
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (id, retries) in added {
            if tally.counted.insert(id) {
                tally.steps_retried += retries;
            }
        }
        Ok(tally.steps_retried)
    }
}

/// `GET /healthz`: 200 `{"status":"ok"}` when the store answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().list_flows().await {
        Ok(flows) => Json(json!({
            "status": "ok",
            "store": "ok",
            "flows": flows.len(),
            "uptime_seconds": state.metrics().uptime_secs().floor(),
            "webhooks": state.webhooks_enabled(),
        }))
        .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "store": e.to_string() })),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus text format 0.0.4.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = render(&state).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// Renders every series.
///
/// # Errors
/// Store failures.
pub async fn render(state: &AppState) -> Result<String, ApiError> {
    let mut out = String::new();
    let m = state.metrics();
    series(
        &mut out,
        "jiraflow_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
    );
    line(&mut out, "jiraflow_uptime_seconds", &[], m.uptime_secs());

    series(
        &mut out,
        "jiraflow_runs",
        "gauge",
        "Runs by status (at most 1000 counted per status).",
    );
    for status in [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
    ] {
        let n = state
            .store()
            .list_runs(RunQuery {
                status: Some(status),
                limit: Some(RUNS_PER_STATUS),
                ..RunQuery::default()
            })
            .await?
            .len();
        line(
            &mut out,
            "jiraflow_runs",
            &[("status", status.as_str())],
            n as f64,
        );
    }

    series(
        &mut out,
        "jiraflow_steps_retried_total",
        "counter",
        "Step attempts beyond the first, in finished runs seen by this process.",
    );
    let retried = m.steps_retried(state).await?;
    line(
        &mut out,
        "jiraflow_steps_retried_total",
        &[],
        retried as f64,
    );

    let triggers = state.store().list_trigger_states().await?;
    let now_ms = Utc::now().timestamp_millis();
    series(
        &mut out,
        "jiraflow_trigger_lag_seconds",
        "gauge",
        "How far each flow's trigger cursor is behind now.",
    );
    for t in &triggers {
        if let Some(cursor) = t.cursor_ms {
            let lag = (now_ms - cursor).max(0) as f64 / 1000.0;
            line(
                &mut out,
                "jiraflow_trigger_lag_seconds",
                &[("flow", &t.flow_name)],
                lag,
            );
        }
    }
    series(
        &mut out,
        "jiraflow_trigger_events_enqueued_total",
        "counter",
        "Trigger events enqueued as runs.",
    );
    for t in &triggers {
        line(
            &mut out,
            "jiraflow_trigger_events_enqueued_total",
            &[("flow", &t.flow_name)],
            t.events_enqueued as f64,
        );
    }
    series(
        &mut out,
        "jiraflow_trigger_duplicates_dropped_total",
        "counter",
        "Trigger events seen again and dropped.",
    );
    for t in &triggers {
        line(
            &mut out,
            "jiraflow_trigger_duplicates_dropped_total",
            &[("flow", &t.flow_name)],
            t.duplicates_dropped as f64,
        );
    }

    let totals = state.files().totals().await?;
    series(
        &mut out,
        "jiraflow_file_objects",
        "gauge",
        "File objects stored.",
    );
    line(&mut out, "jiraflow_file_objects", &[], totals.count as f64);
    series(
        &mut out,
        "jiraflow_file_bytes",
        "gauge",
        "Bytes of file content stored.",
    );
    line(&mut out, "jiraflow_file_bytes", &[], totals.bytes as f64);

    let clients = state.clients().snapshots();
    for (name, help, pick) in [
        (
            "jiraflow_jira_requests_total",
            "Jira requests sent, per connection.",
            (|s: &jiraflow_jira::MetricsSnapshot| s.requests) as fn(&_) -> u64,
        ),
        (
            "jiraflow_jira_retries_total",
            "Jira attempts that were retries, per connection.",
            |s| s.retries,
        ),
        (
            "jiraflow_jira_rate_limited_total",
            "Jira 429 answers, per connection.",
            |s| s.rate_limited,
        ),
    ] {
        series(&mut out, name, "counter", help);
        for (connection, snapshot) in &clients {
            line(
                &mut out,
                name,
                &[("connection", connection)],
                pick(snapshot) as f64,
            );
        }
    }

    series(
        &mut out,
        "jiraflow_webhook_deliveries_total",
        "counter",
        "Webhook deliveries received, by outcome.",
    );
    for (outcome, counter) in [
        ("accepted", &m.webhooks_accepted),
        ("duplicate", &m.webhooks_duplicate),
        ("rejected", &m.webhooks_rejected),
    ] {
        line(
            &mut out,
            "jiraflow_webhook_deliveries_total",
            &[("outcome", outcome)],
            counter.load(Ordering::Relaxed) as f64,
        );
    }
    Ok(out)
}

fn series(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn line(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Label values escape backslash, quote and newline (the exposition format's rules).
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
