//! REST v3 endpoints: create, get, edit and delete issues, and the shared write paths (applying a
//! transition, storing properties) that create, edit and the transitions endpoint use.
//!
//! Every write validates against a copy of the issue first and only then changes the world, and
//! publishes the matching event while the write lock is still held.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::issue_bean::{FieldSelection, IssueOptions};
use super::issue_fields::{self, FieldErrors, Mode, Op};
use super::params::Params;
use super::properties;
use super::{meta, render};
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::events::IssueEventKind;
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_or_404, issue_site_of};
use crate::state::SimState;
use crate::world::{ChangeHistory, ChangeItem, Comment, Issue, Site, StatusCategory, World};

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new().route("/issue", post(create)).route(
        "/issue/{issueIdOrKey}",
        get(get_issue).put(edit).delete(delete),
    )
}

/// Parses a JSON object body; anything else is Jira's invalid-payload 400.
pub(crate) fn parse_body(bytes: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))
}

/// A 400 with field errors.
pub(crate) fn field_errors(errors: FieldErrors) -> ApiError {
    ApiError::collection(StatusCode::BAD_REQUEST, [], errors)
}

/// Reads a `{id}` / `{key}` / `{name}` reference's text.
fn reference(value: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match value.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Resolves project and issue type of a create body; field errors for both as Jira reports them.
fn create_context(
    site: &Site,
    viewer: Viewer<'_>,
    fields: &Map<String, Value>,
) -> Result<(u64, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let project = match fields.get("project").filter(|v| !v.is_null()) {
        None => {
            errors.insert(
                "project".to_owned(),
                "Specify a valid project ID or key".to_owned(),
            );
            None
        }
        Some(value) => {
            let found = reference(value, &["id", "key"])
                .and_then(|r| site.jira.resolve_project(&r))
                .and_then(|id| site.jira.projects.get(&id))
                .filter(|p| viewer.can_browse(site, p));
            if found.is_none() {
                errors.insert("project".to_owned(), "valid project is required".to_owned());
            }
            found
        }
    };
    let issue_type = match fields.get("issuetype").filter(|v| !v.is_null()) {
        None => {
            errors.insert("issuetype".to_owned(), "Specify an issue type".to_owned());
            None
        }
        Some(value) => {
            let by_id = reference(value, &["id"]);
            let by_name = value.get("name").and_then(Value::as_str);
            let found = site.jira.issue_types.iter().find(|t| {
                by_id.as_deref() == Some(t.id.as_str())
                    || by_name.is_some_and(|n| t.name.eq_ignore_ascii_case(n))
            });
            let valid = found.filter(|t| project.is_none_or(|p| p.issue_type_ids.contains(&t.id)));
            if valid.is_none() && project.is_some() {
                errors.insert(
                    "issuetype".to_owned(),
                    "valid issue type is required".to_owned(),
                );
            }
            valid
        }
    };
    match (project, issue_type, errors.is_empty()) {
        (Some(p), Some(t), true) => Ok((p.id, t.id.clone())),
        _ => Err(errors),
    }
}

/// `POST /issue`.
async fn create(State(state): State<SimState>, caller: Caller, body: Bytes) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let body = parse_body(&body)?;
    let created = create_issue(&state, &caller, &body)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Creates one issue from an `IssueUpdateDetails` object and returns its `CreatedIssue`: the
/// whole of `POST /issue` after scope and body parsing, shared with bulk create (which runs it
/// once per element).
pub(crate) fn create_issue(state: &SimState, caller: &Caller, body: &Value) -> ApiResult<Value> {
    let empty = Map::new();
    let fields = body
        .get("fields")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let ops =
        issue_fields::collect_ops(Some(fields), body.get("update").and_then(Value::as_object))
            .map_err(field_errors)?;
    let props = properties::read_create_properties(body.get("properties"))?;
    let transition_id = match body.get("transition").filter(|t| !t.is_null()) {
        Some(_) => Some(meta::transition_id(body)?),
        None => None,
    };
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let (draft, items_ok) = {
        let world_ref: &World = &world;
        let site = issue_site_of(world_ref, caller)?;
        let viewer = Viewer::from(caller);
        let (project_id, issue_type_id) =
            create_context(site, viewer, fields).map_err(field_errors)?;
        let mut draft = new_issue(site, caller, project_id, issue_type_id, now);
        let mut errors = match issue_fields::apply(world_ref, site, &mut draft, &ops, Mode::Create)
        {
            Ok(_) => FieldErrors::new(),
            Err(errors) => errors,
        };
        if !ops.iter().any(|(id, _)| id == "summary") {
            errors.insert(
                "summary".to_owned(),
                "You must specify a summary of the issue.".to_owned(),
            );
        }
        let subtask = site
            .jira
            .issue_type(&draft.issue_type_id)
            .is_some_and(|t| t.subtask);
        if subtask && draft.parent_id.is_none() && !errors.contains_key("parent") {
            errors.insert(
                "parent".to_owned(),
                "Issue type is a sub-task but parent issue key or id not specified.".to_owned(),
            );
        }
        (draft, errors)
    };
    if !items_ok.is_empty() {
        return Err(field_errors(items_ok));
    }
    let id = world.allocate_id();
    let mut issue = draft;
    issue.id = id;
    issue.properties.extend(props);
    let site_url = {
        let Some(site) = world.site_mut(&caller.cloud_id) else {
            return Err(ApiError::issue_not_found());
        };
        let Some(project) = site.jira.projects.get_mut(&issue.project_id) else {
            return Err(field_errors(BTreeMap::from([(
                "project".to_owned(),
                "valid project is required".to_owned(),
            )])));
        };
        issue.key = format!("{}-{}", project.key, project.next_issue_number);
        project.next_issue_number += 1;
        site.jira
            .issue_keys
            .insert(issue.key.to_ascii_uppercase(), id);
        site.jira.issues.insert(id, issue.clone());
        render::rest_base(site)
    };
    state.publish(
        &mut world,
        caller.event(issue.clone(), IssueEventKind::Created, now),
    );
    let mut response = json!({
        "id": id.to_string(),
        "key": issue.key,
        "self": format!("{site_url}/issue/{id}"),
    });
    if let Some(transition_id) = transition_id {
        let outcome = match transition(state, &mut world, caller, id, &transition_id, &[]) {
            Ok(()) => json!({
                "status": 204,
                "errorCollection": { "errorMessages": [], "errors": {} },
            }),
            Err(err) => json!({
                "status": err.status().as_u16(),
                "errorCollection": err.body(),
            }),
        };
        if let Some(obj) = response.as_object_mut() {
            obj.insert("transition".to_owned(), outcome);
        }
    }
    Ok(response)
}

/// A fresh issue in the workflow's initial status with the project's defaults.
fn new_issue(
    site: &Site,
    caller: &Caller,
    project_id: u64,
    issue_type_id: String,
    now: i64,
) -> Issue {
    let project = site.jira.projects.get(&project_id);
    let status_id = site
        .jira
        .statuses
        .iter()
        .find(|s| s.category == StatusCategory::ToDo)
        .or_else(|| site.jira.statuses.first())
        .map(|s| s.id.clone())
        .unwrap_or_default();
    Issue {
        id: 0,
        key: String::new(),
        project_id,
        issue_type_id,
        summary: String::new(),
        description: None,
        environment: None,
        status_id,
        resolution: None,
        resolution_date: None,
        priority_id: site
            .jira
            .priorities
            .iter()
            .find(|p| p.is_default)
            .map(|p| p.id.clone()),
        assignee: project
            .filter(|p| p.assignee_type == "PROJECT_LEAD")
            .map(|p| p.lead.clone()),
        reporter: Some(caller.account_id.clone()),
        creator: caller.account_id.clone(),
        labels: Vec::new(),
        duedate: None,
        parent_id: None,
        created: now,
        updated: now,
        custom_fields: BTreeMap::new(),
        comments: Vec::new(),
        attachment_ids: Vec::new(),
        // The creator watches new issues, as Jira's default "autowatch" does.
        watchers: [caller.account_id.clone()].into_iter().collect(),
        properties: BTreeMap::new(),
        changelog: Vec::new(),
    }
}

/// Stores a changed issue: appends a history for `items`, adds `comments`, bumps `updated`, writes
/// it back and publishes the events.
fn commit_change(
    state: &SimState,
    world: &mut World,
    caller: &Caller,
    mut issue: Issue,
    items: Vec<ChangeItem>,
    comments: Vec<Value>,
    now: i64,
) {
    let history = (!items.is_empty()).then(|| ChangeHistory {
        id: world.allocate_id(),
        author: caller.account_id.clone(),
        created: now,
        items,
    });
    let mut added = Vec::new();
    for body in comments {
        added.push(Comment {
            id: world.allocate_id(),
            body,
            author: caller.account_id.clone(),
            update_author: caller.account_id.clone(),
            created: now,
            updated: now,
            visibility: None,
        });
    }
    if history.is_none() && added.is_empty() {
        return;
    }
    issue.updated = now;
    if let Some(history) = &history {
        issue.changelog.push(history.clone());
    }
    issue.comments.extend(added.iter().cloned());
    if let Some(site) = world.site_mut(&caller.cloud_id) {
        site.jira.issues.insert(issue.id, issue.clone());
    }
    if let Some(changelog) = history {
        state.publish(
            world,
            caller.event(issue.clone(), IssueEventKind::Updated { changelog }, now),
        );
    }
    for comment in added {
        state.publish(
            world,
            caller.event(issue.clone(), IssueEventKind::CommentCreated(comment), now),
        );
    }
}

/// Applies transition `transition_id` (with screen `ops`) to issue `issue_id`: status, resolution,
/// changelog, `updated`, events.
pub(crate) fn transition(
    state: &SimState,
    world: &mut World,
    caller: &Caller,
    issue_id: u64,
    transition_id: &str,
    ops: &[(String, Vec<Op>)],
) -> ApiResult<()> {
    let now = state.clock.now_ms();
    let (issue, items, comments) = {
        let world_ref: &World = world;
        let site = issue_site_of(world_ref, caller)?;
        let current = site
            .jira
            .issues
            .get(&issue_id)
            .ok_or_else(ApiError::issue_not_found)?;
        let chosen =
            meta::check_transition(site, current, transition_id).map_err(ApiError::bad_request)?;
        let mut issue = current.clone();
        let mut outcome = issue_fields::apply(
            world_ref,
            site,
            &mut issue,
            ops,
            meta::transition_mode(chosen),
        )
        .map_err(field_errors)?;
        let status_name = |id: &str| site.jira.status(id).map(|s| s.name.clone());
        let mut items = vec![ChangeItem {
            field: "status".to_owned(),
            field_id: "status".to_owned(),
            field_type: "jira".to_owned(),
            from: Some(issue.status_id.clone()),
            from_string: status_name(&issue.status_id),
            to: Some(chosen.to.clone()),
            to_string: status_name(&chosen.to),
        }];
        issue.status_id = chosen.to.clone();
        let resolution_item = |from: Option<&str>, to: Option<&str>| {
            let id_of = |name: Option<&str>| {
                name.and_then(|n| render::RESOLUTIONS.iter().find(|(_, rn, _)| *rn == n))
                    .map(|(id, _, _)| (*id).to_owned())
            };
            ChangeItem {
                field: "resolution".to_owned(),
                field_id: "resolution".to_owned(),
                field_type: "jira".to_owned(),
                from: id_of(from),
                from_string: from.map(str::to_owned),
                to: id_of(to),
                to_string: to.map(str::to_owned),
            }
        };
        if chosen.resolves {
            let resolution = outcome
                .resolution
                .take()
                .unwrap_or_else(|| "Done".to_owned());
            if issue.resolution.as_deref() != Some(resolution.as_str()) {
                items.push(resolution_item(
                    issue.resolution.as_deref(),
                    Some(&resolution),
                ));
            }
            issue.resolution = Some(resolution);
            issue.resolution_date = Some(now);
        } else if !meta::is_done(site, &issue.status_id) && issue.resolution.is_some() {
            items.push(resolution_item(issue.resolution.as_deref(), None));
            issue.resolution = None;
            issue.resolution_date = None;
        }
        items.append(&mut outcome.items);
        (issue, items, outcome.comments)
    };
    commit_change(state, world, caller, issue, items, comments, now);
    Ok(())
}

/// `GET /issue/{issueIdOrKey}`.
async fn get_issue(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let options = options_from(&params);
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let issue = issue_or_404(site, &caller, &key)?;
    Ok(Json(render::issue(
        &world,
        site,
        Viewer::from(&caller),
        issue,
        &options,
    )))
}

fn options_from(params: &Params) -> IssueOptions {
    let fields: Vec<String> = params
        .all("fields")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let expand: Vec<String> = params
        .all("expand")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let props: Vec<String> = params
        .all("properties")
        .into_iter()
        .map(str::to_owned)
        .collect();
    IssueOptions::from_query(&fields, &expand, &props, FieldSelection::all())
}

/// `PUT /issue/{issueIdOrKey}`.
async fn edit(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let params = Params::parse(query.as_deref());
    let return_issue = params.bool("returnIssue", false)?;
    // notifyUsers=false needs admin rights and is otherwise ignored; the simulator sends no
    // notifications either way, so it only has to be a valid boolean.
    params.bool("notifyUsers", true)?;
    if params.bool("overrideScreenSecurity", false)?
        || params.bool("overrideEditableFlag", false)?
    {
        return Err(ApiError::forbidden(
            "Only connect app users with admin permissions can override screen security.",
        ));
    }
    let body = parse_body(&body)?;
    // A transition in an edit body is ignored, as Jira does.
    let ops = issue_fields::collect_ops(
        body.get("fields").and_then(Value::as_object),
        body.get("update").and_then(Value::as_object),
    )
    .map_err(field_errors)?;
    let props = properties::read_create_properties(body.get("properties"))?;
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let (issue, outcome) = {
        let world_ref: &World = &world;
        let site = issue_site_of(world_ref, &caller)?;
        let mut issue = issue_or_404(site, &caller, &key)?.clone();
        let outcome = issue_fields::apply(world_ref, site, &mut issue, &ops, Mode::Edit)
            .map_err(field_errors)?;
        (issue, outcome)
    };
    let issue_id = issue.id;
    commit_change(
        &state,
        &mut world,
        &caller,
        issue,
        outcome.items,
        outcome.comments,
        now,
    );
    for (prop_key, value) in props {
        properties::set_issue_property(&state, &mut world, &caller, issue_id, &prop_key, value);
    }
    if !return_issue {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let options = options_from(&params);
    let site = issue_site_of(&world, &caller)?;
    let issue = site
        .jira
        .issues
        .get(&issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    let rendered = render::issue(&world, site, Viewer::from(&caller), issue, &options);
    Ok((StatusCode::OK, Json(rendered)).into_response())
}

/// `DELETE /issue/{issueIdOrKey}`.
async fn delete(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let params = Params::parse(query.as_deref());
    let delete_subtasks = params.bool("deleteSubtasks", false)?;
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let (issue_id, subtasks) = {
        let site = issue_site_of(&world, &caller)?;
        let issue = issue_or_404(site, &caller, &key)?;
        let viewer = Viewer::from(&caller);
        // Jira's default permission scheme grants "Delete issues" to project administrators only.
        let may_delete = site
            .jira
            .projects
            .get(&issue.project_id)
            .is_some_and(|p| viewer.administers_project(p));
        if !may_delete {
            return Err(ApiError::forbidden(
                "You do not have permission to delete issues in this project.",
            ));
        }
        let subtasks: Vec<u64> = site
            .jira
            .issues
            .values()
            .filter(|i| i.parent_id == Some(issue.id))
            .map(|i| i.id)
            .collect();
        if !subtasks.is_empty() && !delete_subtasks {
            return Err(ApiError::bad_request(format!(
                "The issue '{}' has subtasks. Set deleteSubtasks=true to delete the issue and its subtasks.",
                issue.key
            )));
        }
        (issue.id, subtasks)
    };
    for id in subtasks.into_iter().chain([issue_id]) {
        let removed = world
            .site_mut(&caller.cloud_id)
            .and_then(|site| remove_issue(site, id));
        if let Some(issue) = removed {
            state.publish(
                &mut world,
                caller.event(issue.clone(), IssueEventKind::Deleted, now),
            );
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Removes an issue and everything hanging off it (keys, attachments, links, comment properties).
fn remove_issue(site: &mut Site, id: u64) -> Option<Issue> {
    let issue = site.jira.issues.remove(&id)?;
    site.jira.issue_keys.retain(|_, v| *v != id);
    for attachment in &issue.attachment_ids {
        site.jira.attachments.remove(attachment);
        site.jira.attachment_content.remove(attachment);
    }
    site.jira
        .links
        .retain(|_, l| l.inward_issue_id != id && l.outward_issue_id != id);
    for comment in &issue.comments {
        site.jira.comment_properties.remove(&comment.id);
    }
    Some(issue)
}
