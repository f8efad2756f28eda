//! Conversions between SQLite columns and model types: epoch-millisecond instants, TEXT UUIDs,
//! JSON scope lists and values, and the enum names, plus name validation shared by every table.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::parse_id;
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::model::{
    Connection, ConnectionKind, ConnectionStatus, Environment, NamedCredential, OAuthApp,
};
use crate::runs::{FlowRecord, RunOrigin, RunRecord, StepRecord};
use crate::triggers::{TriggerState, WebhookRegistration};

/// Longest accepted name, in characters.
const MAX_NAME_CHARS: usize = 200;

pub(crate) fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn now_ms() -> i64 {
    ms(Utc::now())
}

pub(crate) fn from_ms(value: i64, context: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(value).ok_or_else(|| StoreError::Corrupt {
        context: context.to_owned(),
        reason: format!("instant out of range: {value}"),
    })
}

pub(crate) fn opt_from_ms(value: Option<i64>, context: &str) -> StoreResult<Option<DateTime<Utc>>> {
    value.map(|v| from_ms(v, context)).transpose()
}

pub(crate) fn scopes_json(scopes: &[String]) -> String {
    serde_json::Value::from(scopes.to_vec()).to_string()
}

pub(crate) fn parse_scopes(text: &str, context: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        context: context.to_owned(),
        reason: format!("scopes are not a JSON string array: {e}"),
    })
}

/// Trims a name and rejects empty, over-long or control-character names.
pub(crate) fn valid_name(field: &'static str, name: &str) -> StoreResult<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::invalid(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(StoreError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Accepts only absolute `http(s)://` URLs without surrounding whitespace; trailing slashes are
/// dropped so paths can be appended.
pub(crate) fn valid_url(field: &'static str, url: &str) -> StoreResult<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| StoreError::invalid(field, format!("{url:?} is not an http(s) URL")))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(StoreError::invalid(
            field,
            format!("{url:?} is not a valid URL"),
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Maps a UNIQUE violation to `Duplicate`; other errors pass through.
pub(crate) fn map_unique(err: sqlx::Error, kind: RecordKind, name: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        return StoreError::Duplicate {
            kind,
            name: name.to_owned(),
        };
    }
    StoreError::Database(err)
}

fn parse_enum<T>(value: &str, parse: fn(&str) -> Option<T>, context: &str) -> StoreResult<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt {
        context: context.to_owned(),
        reason: format!("unknown value {value:?}"),
    })
}

/// Columns read by [`oauth_app`], as a literal for `concat!` (queries stay `&'static str`).
macro_rules! oauth_app_columns {
    () => {
        "id, name, client_id, scopes, auth_base_url, api_base_url, environment, created_at, \
         updated_at"
    };
}
pub(crate) use oauth_app_columns;

pub(crate) fn oauth_app(row: &SqliteRow) -> StoreResult<OAuthApp> {
    let ctx = "oauth_apps";
    Ok(OAuthApp {
        id: parse_id(row.try_get("id")?, ctx)?,
        name: row.try_get("name")?,
        client_id: row.try_get("client_id")?,
        scopes: parse_scopes(row.try_get("scopes")?, ctx)?,
        auth_base_url: row.try_get("auth_base_url")?,
        api_base_url: row.try_get("api_base_url")?,
        environment: parse_enum(row.try_get("environment")?, Environment::parse, ctx)?,
        created_at: from_ms(row.try_get("created_at")?, ctx)?,
        updated_at: from_ms(row.try_get("updated_at")?, ctx)?,
    })
}

/// Columns read by [`connection`], as a literal for `concat!`.
macro_rules! connection_columns {
    () => {
        "id, name, description, environment, oauth_app_id, cloud_id, instance_url, site_url, \
         status, status_message, kind, named_credential_id, token_family_id, created_by, \
         created_at, updated_at"
    };
}
pub(crate) use connection_columns;

pub(crate) fn connection(row: &SqliteRow) -> StoreResult<Connection> {
    let ctx = "connections";
    let named: Option<&str> = row.try_get("named_credential_id")?;
    let created_by: Option<&str> = row.try_get("created_by")?;
    Ok(Connection {
        id: parse_id(row.try_get("id")?, ctx)?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        environment: parse_enum(row.try_get("environment")?, Environment::parse, ctx)?,
        oauth_app_id: parse_id(row.try_get("oauth_app_id")?, ctx)?,
        cloud_id: row.try_get("cloud_id")?,
        instance_url: row.try_get("instance_url")?,
        site_url: row.try_get("site_url")?,
        status: parse_enum(row.try_get("status")?, ConnectionStatus::parse, ctx)?,
        status_message: row.try_get("status_message")?,
        kind: parse_enum(row.try_get("kind")?, ConnectionKind::parse, ctx)?,
        named_credential_id: named.map(|n| parse_id(n, ctx)).transpose()?,
        token_family_id: parse_id(row.try_get("token_family_id")?, ctx)?,
        created_by: created_by.map(|u| parse_id(u, ctx)).transpose()?,
        created_at: from_ms(row.try_get("created_at")?, ctx)?,
        updated_at: from_ms(row.try_get("updated_at")?, ctx)?,
    })
}

/// Columns read by [`named_credential`], as a literal for `concat!`.
macro_rules! named_credential_columns {
    () => {
        "id, name, url, oauth_app_id, principal_family_id, created_at"
    };
}
pub(crate) use named_credential_columns;

pub(crate) fn named_credential(row: &SqliteRow) -> StoreResult<NamedCredential> {
    let ctx = "named_credentials";
    Ok(NamedCredential {
        id: parse_id(row.try_get("id")?, ctx)?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        oauth_app_id: parse_id(row.try_get("oauth_app_id")?, ctx)?,
        principal_family_id: parse_id(row.try_get("principal_family_id")?, ctx)?,
        created_at: from_ms(row.try_get("created_at")?, ctx)?,
    })
}

/// Columns read by [`flow`], as a literal for `concat!`.
macro_rules! flow_columns {
    () => {
        "name, version, source, file_name, enabled, applied_by, created_at, updated_at"
    };
}
pub(crate) use flow_columns;

pub(crate) fn flow(row: &SqliteRow) -> StoreResult<FlowRecord> {
    let ctx = "flows";
    let applied_by: Option<&str> = row.try_get("applied_by")?;
    Ok(FlowRecord {
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        source: row.try_get("source")?,
        file_name: row.try_get("file_name")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        applied_by: applied_by.map(|u| parse_id(u, ctx)).transpose()?,
        created_at: from_ms(row.try_get("created_at")?, ctx)?,
        updated_at: from_ms(row.try_get("updated_at")?, ctx)?,
    })
}

/// Columns read by [`run`], as a literal for `concat!`.
macro_rules! run_columns {
    () => {
        "id, flow_name, flow_version, origin, trigger, dedupe_key, status, error, claims, \
         created_at, started_at, finished_at"
    };
}
pub(crate) use run_columns;

fn parse_origin(value: &str) -> Option<RunOrigin> {
    match value {
        "trigger" => Some(RunOrigin::Trigger),
        "manual" => Some(RunOrigin::Manual),
        _ => None,
    }
}

pub(crate) fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

fn parse_json(text: &str, context: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        context: context.to_owned(),
        reason: format!("not JSON: {e}"),
    })
}

fn opt_json(text: Option<&str>, context: &str) -> StoreResult<Option<serde_json::Value>> {
    text.map(|t| parse_json(t, context)).transpose()
}

fn to_u32(value: i64, context: &str) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt {
        context: context.to_owned(),
        reason: format!("{value} is not a 32-bit count"),
    })
}

pub(crate) fn run(row: &SqliteRow) -> StoreResult<RunRecord> {
    let ctx = "runs";
    Ok(RunRecord {
        id: parse_id(row.try_get("id")?, ctx)?,
        flow_name: row.try_get("flow_name")?,
        flow_version: row.try_get("flow_version")?,
        origin: parse_enum(row.try_get("origin")?, parse_origin, ctx)?,
        trigger: parse_json(row.try_get("trigger")?, ctx)?,
        dedupe_key: row.try_get("dedupe_key")?,
        status: parse_enum(row.try_get("status")?, |s| s.parse().ok(), ctx)?,
        error: row.try_get("error")?,
        claims: row.try_get("claims")?,
        created_at: from_ms(row.try_get("created_at")?, ctx)?,
        started_at: opt_from_ms(row.try_get("started_at")?, ctx)?,
        finished_at: opt_from_ms(row.try_get("finished_at")?, ctx)?,
    })
}

/// Columns read by [`step`], as a literal for `concat!`.
macro_rules! step_columns {
    () => {
        "run_id, idx, step_id, action, status, attempts, input, output, error, started_at, \
         finished_at, duration_ms"
    };
}
pub(crate) use step_columns;

pub(crate) fn step(row: &SqliteRow) -> StoreResult<StepRecord> {
    let ctx = "run_steps";
    Ok(StepRecord {
        run_id: parse_id(row.try_get("run_id")?, ctx)?,
        index: to_u32(row.try_get("idx")?, ctx)?,
        step_id: row.try_get("step_id")?,
        action: row.try_get("action")?,
        status: parse_enum(row.try_get("status")?, |s| s.parse().ok(), ctx)?,
        attempts: to_u32(row.try_get("attempts")?, ctx)?,
        input: opt_json(row.try_get("input")?, ctx)?,
        output: opt_json(row.try_get("output")?, ctx)?,
        error: opt_json(row.try_get("error")?, ctx)?,
        started_at: opt_from_ms(row.try_get("started_at")?, ctx)?,
        finished_at: opt_from_ms(row.try_get("finished_at")?, ctx)?,
        duration_ms: row.try_get("duration_ms")?,
    })
}

/// Columns read by [`trigger_state`], as a literal for `concat!`. Qualified by `t` (the
/// `trigger_state` table) and `f` (`flows`), so the flow's current spelling is reported.
macro_rules! trigger_state_columns {
    () => {
        "f.name AS flow_name, t.cursor_ms, t.last_poll_at, t.last_success_at, t.last_error, \
         t.consecutive_failures, t.last_event_at, t.events_enqueued, t.duplicates_dropped, \
         t.paused_reason, t.webhook_id, t.webhook_connection_id, t.webhook_jql, \
         t.webhook_events, t.webhook_expires_at, t.webhook_refreshed_at, t.updated_at"
    };
}
pub(crate) use trigger_state_columns;

/// A webhook's event list as stored.
pub(crate) fn events_json(events: &[String]) -> String {
    serde_json::Value::from(events.to_vec()).to_string()
}

pub(crate) fn trigger_state(row: &SqliteRow) -> StoreResult<TriggerState> {
    let ctx = "trigger_state";
    let webhook_id: Option<i64> = row.try_get("webhook_id")?;
    let webhook = match webhook_id {
        None => None,
        Some(webhook_id) => {
            // The table's CHECK keeps the webhook columns all set or all NULL.
            let events: &str = row.try_get("webhook_events")?;
            Some(WebhookRegistration {
                webhook_id,
                connection_id: parse_id(row.try_get("webhook_connection_id")?, ctx)?,
                jql: row.try_get("webhook_jql")?,
                events: serde_json::from_str(events).map_err(|e| StoreError::Corrupt {
                    context: ctx.to_owned(),
                    reason: format!("webhook events are not a JSON string array: {e}"),
                })?,
                expires_at: from_ms(row.try_get("webhook_expires_at")?, ctx)?,
                refreshed_at: from_ms(row.try_get("webhook_refreshed_at")?, ctx)?,
            })
        }
    };
    Ok(TriggerState {
        flow_name: row.try_get("flow_name")?,
        cursor_ms: row.try_get("cursor_ms")?,
        last_poll_at: opt_from_ms(row.try_get("last_poll_at")?, ctx)?,
        last_success_at: opt_from_ms(row.try_get("last_success_at")?, ctx)?,
        last_error: row.try_get("last_error")?,
        consecutive_failures: row.try_get("consecutive_failures")?,
        last_event_at: opt_from_ms(row.try_get("last_event_at")?, ctx)?,
        events_enqueued: row.try_get("events_enqueued")?,
        duplicates_dropped: row.try_get("duplicates_dropped")?,
        paused_reason: row.try_get("paused_reason")?,
        webhook,
        updated_at: from_ms(row.try_get("updated_at")?, ctx)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_empty_names_rejected() {
        assert_eq!(valid_name("name", "  Jira  ").ok().as_deref(), Some("Jira"));
        assert!(valid_name("name", "   ").is_err());
        assert!(valid_name("name", "a\u{7}b").is_err());
    }

    #[test]
    fn urls_must_be_absolute_http_and_lose_trailing_slashes() {
        assert_eq!(
            valid_url("url", "https://api.atlassian.com/")
                .ok()
                .as_deref(),
            Some("https://api.atlassian.com")
        );
        assert!(valid_url("url", "ftp://x").is_err());
        assert!(valid_url("url", "https://").is_err());
        assert!(valid_url("url", "https://a b").is_err());
    }
}
