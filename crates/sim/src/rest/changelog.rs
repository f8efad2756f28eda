//! REST v3 endpoints: issue change history. One issue's changelog paged by offset
//! (`GET /issue/{key}/changelog`), selected histories by id (`POST /issue/{key}/changelog/list`)
//! and many issues' changelogs behind a cursor (`POST /changelog/bulkfetch`), all rendered from
//! `Issue.changelog`, oldest first.

use std::collections::BTreeSet;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::issues::parse_body;
use super::params::{Page, Params, page_bean};
use super::render;
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_or_404, issue_site_of, visible_issue};
use crate::state::SimState;
use crate::world::{ChangeHistory, Issue, Site, World};

/// Most histories one page of the per-issue changelog holds (also its default).
const MAX_PAGE: i64 = 100;
/// Most issues one bulk fetch may name.
const MAX_BULK_ISSUES: usize = 1000;
/// Most field ids one bulk fetch may filter by.
const MAX_BULK_FIELDS: usize = 10;
/// Default and largest page size of a bulk fetch, in histories.
const BULK_DEFAULT_MAX: i64 = 1000;
const BULK_LIMIT_MAX: i64 = 10_000;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/issue/{issueIdOrKey}/changelog", get(page))
        .route("/issue/{issueIdOrKey}/changelog/list", post(by_ids))
        .route("/changelog/bulkfetch", post(bulk_fetch))
}

/// `GET /issue/{issueIdOrKey}/changelog`: a `PageBeanChangelog`, oldest first.
async fn page(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, MAX_PAGE, MAX_PAGE)?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let issue = issue_or_404(site, &caller, &key)?;
    let total = issue.changelog.len();
    let values: Vec<Value> = page
        .slice(&issue.changelog)
        .iter()
        .map(|h| render::changelog(&world, site, h))
        .collect();
    let link = |start: usize| {
        format!(
            "{}/issue/{}/changelog?startAt={start}&maxResults={}",
            render::rest_base(site),
            issue.key,
            page.max_results
        )
    };
    Ok(Json(page_bean(page, total, values, link)))
}

/// `POST /issue/{issueIdOrKey}/changelog/list`: the issue's histories whose ids are listed, as
/// one `PageOfChangelogs` (`histories`, unlike the `values` of the paged changelog) in history
/// order. Ids of other issues' histories are ignored.
async fn by_ids(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let body = parse_body(&bytes)?;
    let ids: BTreeSet<u64> = match body.get("changelogIds") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))
            })
            .collect::<ApiResult<_>>()?,
        _ => {
            return Err(ApiError::field(
                "changelogIds",
                "The list of changelog IDs must not be empty.",
            ));
        }
    };
    if ids.is_empty() {
        return Err(ApiError::field(
            "changelogIds",
            "The list of changelog IDs must not be empty.",
        ));
    }
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let issue = issue_or_404(site, &caller, &key)?;
    let values: Vec<Value> = issue
        .changelog
        .iter()
        .filter(|h| ids.contains(&h.id))
        .map(|h| render::changelog(&world, site, h))
        .collect();
    Ok(Json(json!({
        "startAt": 0,
        "maxResults": values.len(),
        "total": values.len(),
        "histories": values,
    })))
}

/// A validated `BulkChangelogRequestBean`.
#[derive(Debug)]
struct BulkRequest {
    issues: Vec<String>,
    field_ids: Vec<String>,
    max_results: usize,
    token: Option<String>,
}

/// Reads a list of strings (numbers are accepted as their decimal text, as Jira's binding does).
fn string_list(value: &Value) -> ApiResult<Vec<String>> {
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request(INVALID_PAYLOAD));
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.trim().to_owned()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(ApiError::bad_request(INVALID_PAYLOAD)),
        })
        .collect()
}

fn read_bulk_request(body: &Value) -> ApiResult<BulkRequest> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_request(INVALID_PAYLOAD));
    };
    let issues = match obj.get("issueIdsOrKeys") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => string_list(v)?,
    };
    if issues.is_empty() {
        return Err(ApiError::bad_request(
            "At least one issue ID or key must be provided.",
        ));
    }
    if issues.len() > MAX_BULK_ISSUES {
        return Err(ApiError::bad_request(format!(
            "A maximum of {MAX_BULK_ISSUES} issue IDs or keys can be requested."
        )));
    }
    let field_ids = match obj.get("fieldIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => string_list(v)?,
    };
    if field_ids.len() > MAX_BULK_FIELDS {
        return Err(ApiError::bad_request(format!(
            "A maximum of {MAX_BULK_FIELDS} field IDs can be requested."
        )));
    }
    let max_results = match obj.get("maxResults") {
        None | Some(Value::Null) => BULK_DEFAULT_MAX,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))?,
    };
    if !(1..=BULK_LIMIT_MAX).contains(&max_results) {
        return Err(ApiError::bad_request(format!(
            "maxResults must be between 1 and {BULK_LIMIT_MAX}."
        )));
    }
    let token = match obj.get("nextPageToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
    };
    Ok(BulkRequest {
        issues,
        field_ids,
        max_results: usize::try_from(max_results).unwrap_or(1),
        token,
    })
}

/// A short hash of what a cursor belongs to: the same issues and fields must be asked for on
/// every page.
fn request_hash(request: &BulkRequest) -> String {
    let mut hasher = Sha256::new();
    for part in &request.issues {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher.update([1u8]);
    for part in &request.field_ids {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..9])
}

/// The bulk cursor: the (issue id, history id) the previous page ended at. Keyed rather than an
/// offset, so histories added meanwhile neither repeat nor get skipped.
fn encode_token(hash: &str, issue_id: u64, history_id: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{hash}:{issue_id}:{history_id}"))
}

fn decode_token(token: &str, hash: &str) -> ApiResult<(u64, u64)> {
    let invalid = || ApiError::bad_request("Invalid nextPageToken");
    let text = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let mut parts = text.split(':');
    let (Some(h), Some(issue), Some(history), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if h != hash {
        return Err(invalid());
    }
    match (issue.parse(), history.parse()) {
        (Ok(issue), Ok(history)) => Ok((issue, history)),
        _ => Err(invalid()),
    }
}

/// A history reduced to the items of `fields` (all items when `fields` is empty); `None` when
/// nothing of interest changed in it.
fn filtered(history: &ChangeHistory, fields: &[String]) -> Option<ChangeHistory> {
    if fields.is_empty() {
        return Some(history.clone());
    }
    let items: Vec<_> = history
        .items
        .iter()
        .filter(|i| fields.iter().any(|f| *f == i.field_id || *f == i.field))
        .cloned()
        .collect();
    (!items.is_empty()).then(|| ChangeHistory {
        items,
        ..history.clone()
    })
}

/// The issues of a bulk request the caller may see, by ascending id, without repeats.
fn requested_issues<'s>(site: &'s Site, caller: &Caller, ids: &[String]) -> Vec<&'s Issue> {
    let viewer = Viewer::from(caller);
    let mut issues: Vec<&Issue> = ids
        .iter()
        .filter_map(|r| visible_issue(site, viewer, r))
        .collect();
    issues.sort_by_key(|i| i.id);
    issues.dedup_by_key(|i| i.id);
    issues
}

/// Renders one page of a bulk fetch. Issues come by ascending id, each with its histories oldest
/// first; a page holds at most `max_results` histories and may split an issue's histories.
fn bulk_page(
    world: &World,
    site: &Site,
    caller: &Caller,
    request: &BulkRequest,
    after: Option<(u64, u64)>,
    hash: &str,
) -> Value {
    let mut groups: Vec<(u64, Vec<Value>)> = Vec::new();
    let mut taken = 0usize;
    let mut last = None;
    let mut more = false;
    'issues: for issue in requested_issues(site, caller, &request.issues) {
        for history in &issue.changelog {
            if after.is_some_and(|cursor| (issue.id, history.id) <= cursor) {
                continue;
            }
            let Some(history) = filtered(history, &request.field_ids) else {
                continue;
            };
            if taken == request.max_results {
                more = true;
                break 'issues;
            }
            let rendered = render::changelog(world, site, &history);
            match groups.last_mut() {
                Some((id, list)) if *id == issue.id => list.push(rendered),
                _ => groups.push((issue.id, vec![rendered])),
            }
            taken += 1;
            last = Some((issue.id, history.id));
        }
    }
    let logs: Vec<Value> = groups
        .into_iter()
        .map(|(id, histories)| json!({ "issueId": id.to_string(), "changeHistories": histories }))
        .collect();
    let mut body = Map::new();
    body.insert("issueChangeLogs".to_owned(), Value::Array(logs));
    if more && let Some((issue_id, history_id)) = last {
        body.insert(
            "nextPageToken".to_owned(),
            json!(encode_token(hash, issue_id, history_id)),
        );
    }
    Value::Object(body)
}

/// `POST /changelog/bulkfetch`: `BulkChangelogResponseBean`. Unknown and hidden issues are left
/// out silently; the last page has no `nextPageToken`.
async fn bulk_fetch(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let body = parse_body(&bytes)?;
    let request = read_bulk_request(&body)?;
    let hash = request_hash(&request);
    let after = request
        .token
        .as_deref()
        .map(|t| decode_token(t, &hash))
        .transpose()?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    Ok(Json(bulk_page(
        &world, site, &caller, &request, after, &hash,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::ChangeItem;

    fn item(field: &str) -> ChangeItem {
        ChangeItem {
            field: field.to_owned(),
            field_id: field.to_owned(),
            field_type: "jira".to_owned(),
            from: None,
            from_string: None,
            to: None,
            to_string: Some("x".to_owned()),
        }
    }

    #[test]
    fn a_field_filter_keeps_only_matching_items_and_drops_empty_histories() {
        let history = ChangeHistory {
            id: 1,
            author: "a".to_owned(),
            created: 0,
            items: vec![item("status"), item("summary")],
        };
        let only_status = filtered(&history, &["status".to_owned()]).map(|h| h.items.len());
        assert_eq!(only_status, Some(1));
        assert!(filtered(&history, &["labels".to_owned()]).is_none());
        assert_eq!(filtered(&history, &[]).map(|h| h.items.len()), Some(2));
    }

    #[test]
    fn a_cursor_round_trips_and_is_bound_to_its_request() {
        let token = encode_token("abc", 10_001, 10_050);
        assert_eq!(decode_token(&token, "abc").ok(), Some((10_001, 10_050)));
        assert!(decode_token(&token, "other").is_err());
        assert!(decode_token("not a token", "abc").is_err());
    }
}
