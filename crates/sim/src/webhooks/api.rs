//! `/rest/api/3/webhook*`: register, list, delete and refresh dynamic webhooks.
//!
//! Only OAuth 2.0 apps may call these (every gateway token belongs to one); scopes
//! `read:jira-work` and `manage:jira-webhook`. Registration answers 200 even when some entries
//! fail: each failure is an `errors` entry in request order. Webhooks are scoped to (site, app):
//! listing, deleting and refreshing only ever see the calling app's webhooks on the addressed
//! site, and ids of other apps are silently ignored.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde_json::{Value, json};

use super::{EVENTS, MAX_WEBHOOKS_PER_APP_USER, filter};
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::rest::access::site_of;
use crate::rest::params::{Page, Params, page_bean};
use crate::rest::render;
use crate::state::SimState;
use crate::world::{Webhook, World};

/// Largest page `GET /webhook` serves.
const MAX_PAGE: i64 = 100;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/webhook", get(list).post(register).delete(remove))
        .route("/webhook/refresh", put(refresh))
}

/// Checks scopes and that the caller is an app; returns its client id.
fn app_caller(world: &World, caller: &Caller) -> ApiResult<()> {
    caller.require_scope("read:jira-work")?;
    caller.require_scope("manage:jira-webhook")?;
    if caller.client_id.is_empty() || !world.apps.contains_key(&caller.client_id) {
        return Err(ApiError::forbidden(
            "Only Connect and OAuth 2.0 apps can use this operation.",
        ));
    }
    Ok(())
}

fn parse_object(bytes: &Bytes) -> ApiResult<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(obj)) => Ok(obj),
        _ => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

fn string_list(value: Option<&Value>) -> ApiResult<Option<Vec<String>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// `POST /webhook`: `ContainerForRegisteredWebhooks`.
async fn register(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now_ms();
    let ttl_ms = i64::try_from(state.settings.read().webhook_ttl_secs)
        .unwrap_or(i64::MAX / 2_000)
        .saturating_mul(1000);
    let mut guard = state.world.write();
    let world = &mut *guard;
    app_caller(world, &caller)?;
    site_of(world, &caller)?;
    let body = parse_object(&bytes)?;
    let url = match body.get("url") {
        Some(Value::String(u)) if !u.trim().is_empty() => u.trim().to_owned(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ApiError::field("url", "The URL must not be empty."));
        }
        Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
    };
    if !is_http_url(&url) {
        return Err(ApiError::field("url", "The URL is invalid."));
    }
    let entries = match body.get("webhooks") {
        Some(Value::Array(items)) => items.clone(),
        None | Some(Value::Null) => {
            return Err(ApiError::field(
                "webhooks",
                "The list of webhooks must not be empty.",
            ));
        }
        Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
    };
    let site = site_of(world, &caller)?;
    let mine = || {
        site.jira
            .webhooks
            .values()
            .filter(|w| w.client_id == caller.client_id)
    };
    if mine().any(|w| w.url != url) {
        return Err(ApiError::bad_request(
            "Only a single URL per app is allowed to be registered.",
        ));
    }
    let mut active = mine()
        .filter(|w| w.registered_by == caller.account_id && w.expiration > now)
        .count();
    let mut results = Vec::new();
    let mut created = Vec::new();
    for entry in &entries {
        match read_entry(entry) {
            Err(errors) => results.push(json!({ "errors": errors })),
            Ok(_) if active >= MAX_WEBHOOKS_PER_APP_USER => results.push(json!({
                "errors": [format!(
                    "The maximum number of {MAX_WEBHOOKS_PER_APP_USER} webhooks per app and user has been reached."
                )]
            })),
            Ok((events, jql, field_ids, property_keys)) => {
                active += 1;
                let id = world.allocate_id();
                results.push(json!({ "createdWebhookId": id }));
                created.push(Webhook {
                    id,
                    client_id: caller.client_id.clone(),
                    registered_by: caller.account_id.clone(),
                    url: url.clone(),
                    events,
                    jql_filter: jql,
                    field_ids_filter: field_ids,
                    issue_property_keys_filter: property_keys,
                    expiration: now.saturating_add(ttl_ms),
                });
            }
        }
    }
    if let Some(site) = world.site_mut(&caller.cloud_id) {
        for webhook in created {
            site.jira.webhooks.insert(webhook.id, webhook);
        }
    }
    Ok(Json(json!({ "webhookRegistrationResult": results })))
}

type Entry = (Vec<String>, String, Vec<String>, Vec<String>);

/// Validates one `WebhookDetails`; `Err` holds its messages.
fn read_entry(entry: &Value) -> Result<Entry, Vec<String>> {
    let Some(obj) = entry.as_object() else {
        return Err(vec![INVALID_PAYLOAD.to_owned()]);
    };
    let mut errors = Vec::new();
    let list = |key: &str, errors: &mut Vec<String>| match string_list(obj.get(key)) {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => {
            errors.push(format!("{key} must be a list of strings."));
            Vec::new()
        }
    };
    let events = list("events", &mut errors);
    if events.is_empty() && errors.is_empty() {
        errors.push("At least one event must be specified.".to_owned());
    }
    for event in &events {
        if !EVENTS.contains(&event.as_str()) {
            errors.push(format!("The event {event} is not supported."));
        }
    }
    let field_ids = list("fieldIdsFilter", &mut errors);
    let property_keys = list("issuePropertyKeysFilter", &mut errors);
    let jql = match obj.get("jqlFilter") {
        Some(Value::String(jql)) => {
            if let Err(messages) = filter::validate(jql) {
                errors.extend(messages);
            }
            jql.clone()
        }
        _ => {
            errors.push("The JQL filter is required.".to_owned());
            String::new()
        }
    };
    if errors.is_empty() {
        Ok((events, jql, field_ids, property_keys))
    } else {
        Err(errors)
    }
}

/// A `Webhook` (`expirationDate` as epoch milliseconds, the schema's int64).
fn render_webhook(w: &Webhook) -> Value {
    let mut body = json!({
        "id": w.id,
        "events": w.events,
        "jqlFilter": w.jql_filter,
        "url": w.url,
        "expirationDate": w.expiration,
    });
    if let Some(obj) = body.as_object_mut() {
        if !w.field_ids_filter.is_empty() {
            obj.insert("fieldIdsFilter".to_owned(), json!(w.field_ids_filter));
        }
        if !w.issue_property_keys_filter.is_empty() {
            obj.insert(
                "issuePropertyKeysFilter".to_owned(),
                json!(w.issue_property_keys_filter),
            );
        }
    }
    body
}

/// `GET /webhook?startAt&maxResults`: `PageBeanWebhook` of the calling app's webhooks.
async fn list(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, MAX_PAGE, MAX_PAGE)?;
    let world = state.world.read();
    app_caller(&world, &caller)?;
    let site = site_of(&world, &caller)?;
    let mine: Vec<&Webhook> = site
        .jira
        .webhooks
        .values()
        .filter(|w| w.client_id == caller.client_id)
        .collect();
    let values: Vec<Value> = page
        .slice(&mine)
        .iter()
        .map(|w| render_webhook(w))
        .collect();
    let base = format!("{}/webhook", render::rest_base(site));
    Ok(Json(page_bean(page, mine.len(), values, |start| {
        format!("{base}?startAt={start}&maxResults={}", page.max_results)
    })))
}

/// Reads `ContainerForWebhookIDs`.
fn webhook_ids(bytes: &Bytes) -> ApiResult<Vec<u64>> {
    let body = parse_object(bytes)?;
    match body.get("webhookIds") {
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))
            })
            .collect(),
        None | Some(Value::Null) => Err(ApiError::field(
            "webhookIds",
            "The list of webhook IDs must not be null.",
        )),
        Some(_) => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

/// `DELETE /webhook` with `{webhookIds}`: 202.
async fn remove(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    let mut world = state.world.write();
    app_caller(&world, &caller)?;
    let ids = webhook_ids(&bytes)?;
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    site.jira
        .webhooks
        .retain(|id, w| !(ids.contains(id) && w.client_id == caller.client_id));
    Ok(StatusCode::ACCEPTED)
}

/// `PUT /webhook/refresh` with `{webhookIds}`: 200 `{expirationDate}`.
async fn refresh(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now_ms();
    let ttl_ms = i64::try_from(state.settings.read().webhook_ttl_secs)
        .unwrap_or(i64::MAX / 2_000)
        .saturating_mul(1000);
    let expiration = now.saturating_add(ttl_ms);
    let mut world = state.world.write();
    app_caller(&world, &caller)?;
    let ids = webhook_ids(&bytes)?;
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    for id in ids {
        if let Some(w) = site.jira.webhooks.get_mut(&id)
            && w.client_id == caller.client_id
        {
            w.expiration = expiration;
        }
    }
    Ok(Json(json!({ "expirationDate": expiration })))
}
