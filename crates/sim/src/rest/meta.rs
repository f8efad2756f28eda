//! REST v3 endpoints: create metadata (`issue/createmeta/{project}/issuetypes[/{id}]`), edit
//! metadata (`issue/{key}/editmeta`) and workflow transitions (`GET`/`POST
//! issue/{key}/transitions`), plus the field-metadata and transition renderers the issue renderer
//! uses for `expand=editmeta,transitions`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::field_defs::{self, FieldInfo};
use super::issue_fields::{self, Mode};
use super::issue_values;
use super::issues::{self, parse_body};
use super::params::{Page, Params};
use super::render;
use crate::error::{ApiError, ApiResult};
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_or_404, issue_site_of};
use crate::state::SimState;
use crate::world::{FieldKind, Issue, IssueType, Project, Site, StatusCategory, Transition};

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route(
            "/issue/createmeta/{projectIdOrKey}/issuetypes",
            get(createmeta_issue_types),
        )
        .route(
            "/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
            get(createmeta_fields),
        )
        .route("/issue/{issueIdOrKey}/editmeta", get(editmeta))
        .route(
            "/issue/{issueIdOrKey}/transitions",
            get(list_transitions).post(do_transition),
        )
}

/// Operations Jira lists for a field.
fn operations(info: &FieldInfo) -> Vec<&'static str> {
    match (info.id.as_str(), info.kind) {
        ("labels", _) => vec!["add", "set", "remove", "edit"],
        ("issuetype", _) => Vec::new(),
        (_, Some(FieldKind::MultiSelect | FieldKind::Labels)) => vec!["add", "set", "remove"],
        _ => vec!["set"],
    }
}

/// `allowedValues` for fields with a fixed choice.
fn allowed_values(
    site: &Site,
    info: &FieldInfo,
    project: &Project,
    issue_type: Option<&IssueType>,
) -> Option<Vec<Value>> {
    match info.id.as_str() {
        "priority" => Some(
            site.jira
                .priorities
                .iter()
                .map(|p| render::priority_ref(site, p))
                .collect(),
        ),
        "project" => Some(vec![render::project_ref(site, project)]),
        "issuetype" => issue_type.map(|t| vec![render::issue_type(site, t)]),
        _ => {
            let def = site.jira.custom_fields.get(&info.id)?;
            match def.kind {
                FieldKind::Select | FieldKind::MultiSelect => Some(
                    def.options
                        .iter()
                        .map(|(id, v, _)| issue_values::option_json(site, id, v))
                        .collect(),
                ),
                FieldKind::Cascading => Some(
                    def.options
                        .iter()
                        .map(|(id, v, children)| {
                            let mut option = issue_values::option_json(site, id, v);
                            let children: Vec<Value> = children
                                .iter()
                                .map(|(cid, cv)| issue_values::option_json(site, cid, cv))
                                .collect();
                            if let Some(obj) = option.as_object_mut() {
                                obj.insert("children".to_owned(), json!(children));
                            }
                            option
                        })
                        .collect(),
                ),
                _ => None,
            }
        }
    }
}

/// One field's metadata (`FieldMetadata`; createmeta adds `fieldId`).
fn field_meta(
    site: &Site,
    info: &FieldInfo,
    project: &Project,
    issue_type: Option<&IssueType>,
    required: bool,
) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert("required".to_owned(), json!(required));
    meta.insert(
        "schema".to_owned(),
        info.schema
            .clone()
            .unwrap_or_else(|| json!({ "type": "any" })),
    );
    meta.insert("name".to_owned(), json!(info.name));
    meta.insert("key".to_owned(), json!(info.id));
    if matches!(info.id.as_str(), "assignee" | "reporter") || info.kind == Some(FieldKind::User) {
        meta.insert(
            "autoCompleteUrl".to_owned(),
            json!(format!("{}/user/search?query=", render::rest_base(site))),
        );
    }
    let has_default = matches!(info.id.as_str(), "priority" | "reporter" | "issuetype");
    meta.insert("hasDefaultValue".to_owned(), json!(has_default));
    meta.insert("operations".to_owned(), json!(operations(info)));
    if let Some(values) = allowed_values(site, info, project, issue_type) {
        meta.insert("allowedValues".to_owned(), json!(values));
    }
    if info.id == "priority"
        && let Some(default) = site.jira.priorities.iter().find(|p| p.is_default)
    {
        meta.insert(
            "defaultValue".to_owned(),
            render::priority_ref(site, default),
        );
    }
    meta
}

/// The fields on the create screen of `issue_type` in `project`, as `FieldCreateMetadata`.
fn create_fields(site: &Site, project: &Project, issue_type: &IssueType) -> Vec<Value> {
    field_defs::all_fields(site)
        .iter()
        .filter(|f| {
            f.writable != field_defs::Writable::No
                && !(f.id == "parent" && issue_type.hierarchy_level >= 1)
        })
        .map(|f| {
            let required = matches!(f.id.as_str(), "summary" | "issuetype" | "project")
                || (f.id == "parent" && issue_type.subtask);
            let mut meta = field_meta(site, f, project, Some(issue_type), required);
            meta.insert("fieldId".to_owned(), json!(f.id));
            Value::Object(meta)
        })
        .collect()
}

/// The `editmeta.fields` object of `issue`.
pub(crate) fn edit_fields(site: &Site, issue: &Issue) -> Value {
    let Some(project) = site.jira.projects.get(&issue.project_id) else {
        return json!({});
    };
    let issue_type = site.jira.issue_type(&issue.issue_type_id);
    let fields: Map<String, Value> = field_defs::all_fields(site)
        .iter()
        .filter(|f| f.writable == field_defs::Writable::Yes)
        .filter(|f| !(f.id == "parent" && issue_type.is_some_and(|t| t.hierarchy_level >= 1)))
        .map(|f| {
            let meta = field_meta(site, f, project, issue_type, f.id == "summary");
            (f.id.clone(), Value::Object(meta))
        })
        .collect();
    Value::Object(fields)
}

/// The transitions available to `issue` from its current status.
pub(crate) fn available<'s>(site: &'s Site, issue: &Issue) -> Vec<&'s Transition> {
    site.jira
        .transitions
        .iter()
        .filter(|t| {
            (t.from.is_empty() || t.from.contains(&issue.status_id)) && t.to != issue.status_id
        })
        .collect()
}

/// `IssueTransition` objects for `issue` (optionally only `only_id`), with screen fields when
/// `with_fields` (`expand=transitions.fields`).
pub(crate) fn issue_transitions(
    site: &Site,
    issue: &Issue,
    with_fields: bool,
    only_id: Option<&str>,
) -> Vec<Value> {
    available(site, issue)
        .into_iter()
        .filter(|t| only_id.is_none_or(|id| t.id == id))
        .filter_map(|t| {
            let to = site.jira.status(&t.to)?;
            let mut body = json!({
                "id": t.id,
                "name": t.name,
                "to": render::status(site, to),
                "hasScreen": t.resolves,
                "isGlobal": t.from.is_empty(),
                "isInitial": false,
                "isAvailable": true,
                "isConditional": false,
                "isLooped": false,
            });
            if with_fields && let Some(obj) = body.as_object_mut() {
                let mut fields = Map::new();
                if t.resolves {
                    let values: Vec<Value> = render::RESOLUTIONS
                        .iter()
                        .map(|(_, name, _)| render::resolution(site, name))
                        .collect();
                    fields.insert(
                        "resolution".to_owned(),
                        json!({
                            "required": false,
                            "schema": { "type": "resolution", "system": "resolution" },
                            "name": "Resolution",
                            "key": "resolution",
                            "hasDefaultValue": true,
                            "operations": ["set"],
                            "allowedValues": values,
                        }),
                    );
                }
                obj.insert("fields".to_owned(), Value::Object(fields));
            }
            Some(body)
        })
        .collect()
}

fn project_for_create<'s>(
    site: &'s Site,
    viewer: Viewer<'_>,
    id_or_key: &str,
) -> ApiResult<&'s Project> {
    site.jira
        .resolve_project(id_or_key)
        .and_then(|id| site.jira.projects.get(&id))
        .filter(|p| viewer.can_browse(site, p))
        .ok_or_else(|| {
            ApiError::not_found(format!("No project could be found with key '{id_or_key}'."))
        })
}

async fn createmeta_issue_types(
    State(state): State<SimState>,
    caller: Caller,
    Path(project_ref): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, 50, 200)?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let project = project_for_create(site, Viewer::from(&caller), &project_ref)?;
    let types: Vec<Value> = project
        .issue_type_ids
        .iter()
        .filter_map(|id| site.jira.issue_type(id))
        .map(|t| render::issue_type(site, t))
        .collect();
    Ok(Json(json!({
        "issueTypes": page.slice(&types),
        "maxResults": page.max_results,
        "startAt": page.start_at,
        "total": types.len(),
    })))
}

async fn createmeta_fields(
    State(state): State<SimState>,
    caller: Caller,
    Path((project_ref, type_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, 50, 200)?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let project = project_for_create(site, Viewer::from(&caller), &project_ref)?;
    let issue_type = project
        .issue_type_ids
        .iter()
        .find(|id| **id == type_id)
        .and_then(|id| site.jira.issue_type(id))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Issue type with id '{type_id}' does not exist or is not valid for project."
            ))
        })?;
    let fields = create_fields(site, project, issue_type);
    Ok(Json(json!({
        "fields": page.slice(&fields),
        "maxResults": page.max_results,
        "startAt": page.start_at,
        "total": fields.len(),
    })))
}

async fn editmeta(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let issue = issue_or_404(site, &caller, &key)?;
    Ok(Json(json!({ "fields": edit_fields(site, issue) })))
}

async fn list_transitions(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let with_fields = params.expands("transitions.fields");
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let issue = issue_or_404(site, &caller, &key)?;
    let transitions = issue_transitions(site, issue, with_fields, params.non_empty("transitionId"));
    Ok(Json(json!({
        "expand": "transitions",
        "transitions": transitions,
    })))
}

/// Reads the transition id of a transition body (`{"transition": {"id": "31"}}`).
pub(crate) fn transition_id(body: &Value) -> ApiResult<String> {
    let Some(transition) = body.get("transition").filter(|t| !t.is_null()) else {
        return Err(ApiError::bad_request("Missing 'transition' identifier"));
    };
    let id = match transition.get("id") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(ApiError::bad_request("Missing 'transition' identifier")),
    };
    if id.parse::<u64>().is_err() {
        return Err(ApiError::bad_request(
            "'transition' identifier must be an integer",
        ));
    }
    Ok(id)
}

async fn do_transition(
    State(state): State<SimState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("write:jira-work")?;
    let body = parse_body(&body)?;
    let id = transition_id(&body)?;
    let ops = issue_fields::collect_ops(
        body.get("fields").and_then(Value::as_object),
        body.get("update").and_then(Value::as_object),
    )
    .map_err(issues::field_errors)?;
    let mut world = state.world.write();
    let issue_id = {
        let site = issue_site_of(&world, &caller)?;
        issue_or_404(site, &caller, &key)?.id
    };
    issues::transition(&state, &mut world, &caller, issue_id, &id, &ops)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Whether a status id belongs to the Done category.
pub(crate) fn is_done(site: &Site, status_id: &str) -> bool {
    site.jira
        .status(status_id)
        .is_some_and(|s| s.category == StatusCategory::Done)
}

/// Checks a transition in a create body and returns the transition, or the message Jira puts in
/// the create response's `transition.errorCollection`.
pub(crate) fn check_transition<'s>(
    site: &'s Site,
    issue: &Issue,
    id: &str,
) -> Result<&'s Transition, String> {
    available(site, issue)
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| format!("Transition id '{id}' is not valid for this issue."))
}

/// Convenience for handlers that only need `Mode::Transition`.
pub(crate) fn transition_mode(transition: &Transition) -> Mode {
    Mode::Transition {
        resolves: transition.resolves,
    }
}
