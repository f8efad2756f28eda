//! REST v3 endpoints: issue comments (list, add, get, update, delete) and `comment/list`.
//!
//! Comments of issues the caller cannot browse answer 404 exactly like missing issues; comments
//! restricted to a group or role the caller does not hold are left out of lists and answer 404
//! by id. Every change bumps the issue's `updated` and is published (webhooks, search index)
//! while the world's write lock is still held.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::events::IssueEventKind;
use crate::gateway::Caller;
use crate::rest::params::{Page, Params};
use crate::rest::{adf, render};
use crate::state::SimState;
use crate::world::{Comment, Issue, Site, World};

mod input;

use crate::rest::access::{Viewer, issue_or_404, issue_site_of};
use input::read_input;

/// Most ids `comment/list` accepts.
const MAX_LIST_IDS: usize = 1000;
/// Largest page `GET /issue/{key}/comment` serves.
const MAX_PAGE: i64 = 5000;
/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/issue/{issueIdOrKey}/comment", get(list).post(add))
        .route(
            "/issue/{issueIdOrKey}/comment/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/comment/list", post(by_ids))
}

/// How much of a comment to render.
#[derive(Debug, Clone, Copy, Default)]
struct Expand {
    rendered_body: bool,
    properties: bool,
}

impl Expand {
    fn from(params: &Params) -> Self {
        Self {
            rendered_body: params.expands("renderedBody"),
            properties: params.expands("properties"),
        }
    }
}

/// A `Comment` with the requested expansions.
fn render_comment(world: &World, site: &Site, issue_id: u64, c: &Comment, expand: Expand) -> Value {
    let mut body = render::comment(world, site, issue_id, c);
    if let Some(obj) = body.as_object_mut() {
        if expand.rendered_body {
            obj.insert("renderedBody".to_owned(), json!(adf::to_html(&c.body)));
        }
        if expand.properties {
            let props: Vec<Value> = site
                .jira
                .comment_properties
                .get(&c.id)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| json!({ "key": k, "value": v }))
                        .collect()
                })
                .unwrap_or_default();
            obj.insert("properties".to_owned(), json!(props));
        }
    }
    body
}

fn parse_body(bytes: &Bytes) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(INVALID_PAYLOAD));
    }
    serde_json::from_slice(bytes).map_err(|_| ApiError::bad_request(INVALID_PAYLOAD))
}

fn comment_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Can not find a comment for the id: {id}."))
}

/// Finds comment `id` on `issue` as the viewer may see it. A comment of another issue gets Jira's
/// "No comment with given ID found" text; a missing or hidden one "Can not find a comment".
fn find_comment<'i>(
    site: &Site,
    viewer: Viewer<'_>,
    issue: &'i Issue,
    id: &str,
) -> ApiResult<&'i Comment> {
    let cid: u64 = id.parse().map_err(|_| comment_not_found(id))?;
    let project = site.jira.projects.get(&issue.project_id);
    if let Some(c) = issue.comments.iter().find(|c| c.id == cid) {
        return if viewer.can_see_comment(site, project, c) {
            Ok(c)
        } else {
            Err(comment_not_found(id))
        };
    }
    let elsewhere = site
        .jira
        .issues
        .values()
        .any(|i| i.id != issue.id && i.comments.iter().any(|c| c.id == cid));
    if elsewhere {
        Err(ApiError::not_found(format!(
            "No comment with given ID found for issue {}",
            issue.key
        )))
    } else {
        Err(comment_not_found(id))
    }
}

fn store_properties(site: &mut Site, comment_id: u64, properties: Vec<(String, Value)>) {
    if properties.is_empty() {
        return;
    }
    let entry = site.jira.comment_properties.entry(comment_id).or_default();
    for (key, value) in properties {
        entry.insert(key, value);
    }
}

/// `GET /issue/{issueIdOrKey}/comment`: a `PageOfComments`, oldest first unless `-created`.
async fn list(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let issue = issue_or_404(site, viewer, &key)?;
    let descending = match params.get("orderBy") {
        None | Some("created" | "+created") => false,
        Some("-created") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid orderBy value '{other}'. Only 'created', '+created' and '-created' are supported."
            )));
        }
    };
    let page = Page::from_params(&params, 100, MAX_PAGE)?;
    let project = site.jira.projects.get(&issue.project_id);
    let mut visible: Vec<&Comment> = issue
        .comments
        .iter()
        .filter(|c| viewer.can_see_comment(site, project, c))
        .collect();
    visible.sort_by_key(|c| (c.created, c.id));
    if descending {
        visible.reverse();
    }
    let expand = Expand::from(&params);
    let comments: Vec<Value> = page
        .slice(&visible)
        .iter()
        .map(|c| render_comment(&world, site, issue.id, c, expand))
        .collect();
    Ok(Json(json!({
        "startAt": page.start_at,
        "maxResults": page.max_results,
        "total": visible.len(),
        "comments": comments,
    })))
}

/// `POST /issue/{issueIdOrKey}/comment`: 201 with the new `Comment`.
async fn add(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let params = Params::parse(query.as_deref());
    let raw = parse_body(&bytes)?;
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = issue_site_of(world, &caller)?;
    let viewer = Viewer::from(&caller);
    let issue = issue_or_404(site, viewer, &key)?;
    let issue_id = issue.id;
    let input = read_input(
        &raw,
        site,
        site.jira.projects.get(&issue.project_id),
        viewer,
    )?;
    let limit = site.jira.settings.max_comments_per_issue;
    if issue.comments.len() >= limit {
        return Err(ApiError::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The issue has reached the limit of {limit} comments."),
        ));
    }
    let comment = Comment {
        id: world.allocate_id(),
        body: input.body,
        author: caller.account_id.clone(),
        update_author: caller.account_id.clone(),
        created: now,
        updated: now,
        visibility: input.visibility.flatten(),
    };
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)?;
    store_properties(site, comment.id, input.properties);
    let issue = site
        .jira
        .issues
        .get_mut(&issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    issue.comments.push(comment.clone());
    issue.updated = now;
    let snapshot = issue.clone();
    state.publish(
        world,
        caller.event(
            snapshot,
            IssueEventKind::CommentCreated(comment.clone()),
            now,
        ),
    );
    let site = issue_site_of(world, &caller)?;
    let body = render_comment(world, site, issue_id, &comment, Expand::from(&params));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /issue/{issueIdOrKey}/comment/{id}`.
async fn get_one(
    State(state): State<SimState>,
    caller: Caller,
    Path((key, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let issue = issue_or_404(site, viewer, &key)?;
    let comment = find_comment(site, viewer, issue, &id)?;
    Ok(Json(render_comment(
        &world,
        site,
        issue.id,
        comment,
        Expand::from(&params),
    )))
}

/// `PUT /issue/{issueIdOrKey}/comment/{id}`: only the author and project administrators may edit
/// ("Edit own comments" / "Edit all comments"); anyone else gets Jira's 400, not a 403.
async fn update(
    State(state): State<SimState>,
    caller: Caller,
    Path((key, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("write:jira-work")?;
    let params = Params::parse(query.as_deref());
    // `notifyUsers` and `overrideEditableFlag` change nothing the simulator models, but malformed
    // values are still rejected.
    params.bool("notifyUsers", true)?;
    params.bool("overrideEditableFlag", false)?;
    let raw = parse_body(&bytes)?;
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = issue_site_of(world, &caller)?;
    let viewer = Viewer::from(&caller);
    let issue = issue_or_404(site, viewer, &key)?;
    let issue_id = issue.id;
    let project = site.jira.projects.get(&issue.project_id);
    let comment = find_comment(site, viewer, issue, &id)?;
    let comment_id = comment.id;
    let may_edit = comment.author == caller.account_id
        || project.is_some_and(|p| viewer.administers_project(p));
    if !may_edit {
        return Err(ApiError::bad_request(
            "You do not have the permission to edit this comment.",
        ));
    }
    let input = read_input(&raw, site, project, viewer)?;
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)?;
    store_properties(site, comment_id, input.properties);
    let issue = site
        .jira
        .issues
        .get_mut(&issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    let Some(comment) = issue.comments.iter_mut().find(|c| c.id == comment_id) else {
        return Err(comment_not_found(&id));
    };
    comment.body = input.body;
    if let Some(visibility) = input.visibility {
        comment.visibility = visibility;
    }
    comment.update_author = caller.account_id.clone();
    comment.updated = now;
    let comment = comment.clone();
    issue.updated = now;
    let snapshot = issue.clone();
    state.publish(
        world,
        caller.event(
            snapshot,
            IssueEventKind::CommentUpdated(comment.clone()),
            now,
        ),
    );
    let site = issue_site_of(world, &caller)?;
    Ok(Json(render_comment(
        world,
        site,
        issue_id,
        &comment,
        Expand::from(&params),
    )))
}

/// `DELETE /issue/{issueIdOrKey}/comment/{id}`: 204; the author and project administrators only.
async fn remove(
    State(state): State<SimState>,
    caller: Caller,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require_scope("write:jira-work")?;
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = issue_site_of(world, &caller)?;
    let viewer = Viewer::from(&caller);
    let issue = issue_or_404(site, viewer, &key)?;
    let issue_id = issue.id;
    let project = site.jira.projects.get(&issue.project_id);
    let comment = find_comment(site, viewer, issue, &id)?;
    let comment_id = comment.id;
    let may_delete = comment.author == caller.account_id
        || project.is_some_and(|p| viewer.administers_project(p));
    if !may_delete {
        return Err(ApiError::bad_request(format!(
            "You do not have permission to delete comment with id: {comment_id}"
        )));
    }
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(ApiError::issue_not_found)?;
    site.jira.comment_properties.remove(&comment_id);
    let issue = site
        .jira
        .issues
        .get_mut(&issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    let Some(pos) = issue.comments.iter().position(|c| c.id == comment_id) else {
        return Err(comment_not_found(&id));
    };
    let removed = issue.comments.remove(pos);
    issue.updated = now;
    let snapshot = issue.clone();
    state.publish(
        world,
        caller.event(snapshot, IssueEventKind::CommentDeleted(removed), now),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /comment/list`: the comments with the given ids that the caller may see, ascending by
/// id, as one `PageBeanComment`.
async fn by_ids(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let raw = parse_body(&bytes)?;
    let ids = raw
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))?;
    let ids: BTreeSet<u64> = ids
        .iter()
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))
        })
        .collect::<ApiResult<_>>()?;
    if ids.is_empty() || ids.len() > MAX_LIST_IDS {
        return Err(ApiError::bad_request(format!(
            "The number of comment IDs must be between 1 and {MAX_LIST_IDS}."
        )));
    }
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let expand = Expand::from(&params);
    let mut found: BTreeMap<u64, Value> = BTreeMap::new();
    for issue in site.jira.issues.values() {
        if !viewer.can_see_issue(site, issue) {
            continue;
        }
        let project = site.jira.projects.get(&issue.project_id);
        for c in issue.comments.iter().filter(|c| ids.contains(&c.id)) {
            if viewer.can_see_comment(site, project, c) {
                found.insert(c.id, render_comment(&world, site, issue.id, c, expand));
            }
        }
    }
    let values: Vec<Value> = found.into_values().collect();
    Ok(Json(json!({
        "isLast": true,
        "maxResults": MAX_LIST_IDS,
        "startAt": 0,
        "total": values.len(),
        "values": values,
    })))
}
