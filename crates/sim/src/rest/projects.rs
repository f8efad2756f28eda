//! REST v3 endpoints: projects (create, get, update, delete, search).
//!
//! Project ids and keys in paths are case-sensitive, as the spec says. Projects the caller cannot
//! browse answer 404 like missing ones and are left out of searches. Creating and deleting a
//! project needs "Administer Jira"; editing needs "Administer Projects", and changing the key
//! needs "Administer Jira" too.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::clock::jira_timestamp;
use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::rest::params::{Page, Params, page_bean};
use crate::rest::render;
use crate::state::SimState;
use crate::world::{Project, Site, World};

pub(crate) mod rules;
mod search;

use crate::rest::access::{Viewer, site_of};
use rules::{Draft, TEMPLATE_EXCLUSIVE_SCHEMES};

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/project", get(list_all).post(create))
        .route("/project/search", get(search))
        .route(
            "/project/{projectIdOrKey}",
            get(get_one).put(update).delete(remove),
        )
}

fn not_found(id_or_key: &str) -> ApiError {
    if id_or_key.parse::<u64>().is_ok() {
        ApiError::not_found(format!("No project could be found with id '{id_or_key}'."))
    } else {
        ApiError::not_found(format!("No project could be found with key '{id_or_key}'."))
    }
}

/// The live project with id `id_or_key`, or with exactly that key (case-sensitive).
fn lookup<'s>(site: &'s Site, id_or_key: &str) -> Option<&'s Project> {
    let project = match id_or_key.parse::<u64>() {
        Ok(id) => site.jira.projects.get(&id),
        Err(_) => site.jira.projects.values().find(|p| p.key == id_or_key),
    };
    project.filter(|p| !p.archived)
}

/// The project as the caller may see it; 404 otherwise.
fn visible<'s>(site: &'s Site, viewer: Viewer<'_>, id_or_key: &str) -> ApiResult<&'s Project> {
    lookup(site, id_or_key)
        .filter(|p| viewer.can_browse(site, p))
        .ok_or_else(|| not_found(id_or_key))
}

fn parse_object(bytes: &Bytes) -> ApiResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(obj)) => Ok(obj),
        _ => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

/// What a `Project` rendering includes beyond the base fields.
#[derive(Debug, Clone, Copy, Default)]
struct Expand {
    description: bool,
    lead: bool,
    issue_types: bool,
    url: bool,
    permissions: bool,
    insight: bool,
}

impl Expand {
    /// `GET /project/{key}` always includes description, lead and issue types.
    fn single(params: &Params) -> Self {
        Self {
            description: true,
            lead: true,
            issue_types: true,
            ..Self::listed(params)
        }
    }

    /// Searches include only what `expand` asks for.
    fn listed(params: &Params) -> Self {
        Self {
            description: params.expands("description"),
            lead: params.expands("lead"),
            issue_types: params.expands("issueTypes"),
            url: params.expands("url"),
            permissions: params.expands("permissions"),
            insight: params.expands("insight"),
        }
    }
}

/// A `Project` in the spec's shape.
fn render_project(
    world: &World,
    site: &Site,
    project: &Project,
    viewer: Viewer<'_>,
    expand: Expand,
) -> Value {
    let base = render::rest_base(site);
    let mut body = json!({
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
        "self": format!("{base}/project/{}", project.id),
        "id": project.id.to_string(),
        "key": project.key,
        "name": project.name,
        "avatarUrls": render::project_avatar_urls(site, project.id),
        "projectTypeKey": project.project_type_key,
        "simplified": false,
        "style": "classic",
        "isPrivate": false,
        "properties": {},
    });
    let Some(obj) = body.as_object_mut() else {
        return body;
    };
    if expand.description {
        obj.insert("description".to_owned(), json!(project.description));
    }
    if expand.lead {
        let lead = render::user_ref(world, site, Some(&project.lead));
        if !lead.is_null() {
            obj.insert("lead".to_owned(), lead);
        }
    }
    if expand.issue_types {
        let types: Vec<Value> = project
            .issue_type_ids
            .iter()
            .filter_map(|id| site.jira.issue_type(id))
            .map(|t| render::issue_type(site, t))
            .collect();
        obj.insert("issueTypes".to_owned(), json!(types));
        obj.insert("assigneeType".to_owned(), json!(project.assignee_type));
        obj.insert("components".to_owned(), json!([]));
        obj.insert("versions".to_owned(), json!([]));
        obj.insert("roles".to_owned(), roles(&base, project.id));
    }
    if expand.url
        && let Some(url) = &project.url
    {
        obj.insert("url".to_owned(), json!(url));
    }
    if expand.permissions {
        obj.insert(
            "permissions".to_owned(),
            json!({ "canEdit": viewer.administers_project(project) }),
        );
    }
    if expand.insight {
        let issues = site
            .jira
            .issues
            .values()
            .filter(|i| i.project_id == project.id);
        let (count, last) = issues.fold((0u64, None::<i64>), |(n, last), i| {
            (n + 1, Some(last.map_or(i.updated, |l| l.max(i.updated))))
        });
        let mut insight = json!({ "totalIssueCount": count });
        if let (Some(last), Some(o)) = (last, insight.as_object_mut()) {
            o.insert(
                "lastIssueUpdateTime".to_owned(),
                json!(jira_timestamp(last)),
            );
        }
        obj.insert("insight".to_owned(), insight);
    }
    body
}

/// The project roles map (`name` to role URL), as company-managed projects list them.
fn roles(base: &str, project_id: u64) -> Value {
    let mut map = Map::new();
    for (name, id) in [
        ("Administrators", 10002),
        ("Member", 10003),
        ("Viewer", 10004),
        ("atlassian-addons-project-access", 10005),
    ] {
        map.insert(
            name.to_owned(),
            json!(format!("{base}/project/{project_id}/role/{id}")),
        );
    }
    Value::Object(map)
}

/// `GET /project` (deprecated, still served): every project the caller can browse, by key.
async fn list_all(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let mut projects: Vec<&Project> = site
        .jira
        .projects
        .values()
        .filter(|p| viewer.can_browse(site, p))
        .collect();
    projects.sort_by(|a, b| a.key.cmp(&b.key));
    let expand = Expand::listed(&params);
    Ok(Json(json!(
        projects
            .iter()
            .map(|p| render_project(&world, site, p, viewer, expand))
            .collect::<Vec<_>>()
    )))
}

/// `GET /project/{projectIdOrKey}`.
async fn get_one(
    State(state): State<SimState>,
    caller: Caller,
    Path(id_or_key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let project = visible(site, viewer, &id_or_key)?;
    Ok(Json(render_project(
        &world,
        site,
        project,
        viewer,
        Expand::single(&params),
    )))
}

/// `POST /project`: 201 `ProjectIdentifiers`.
async fn create(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("manage:jira-configuration")?;
    caller.require_jira_admin()?;
    let body = parse_object(&bytes)?;
    let draft = Draft::from_create(&body)?;
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = site_of(world, &caller)?;
    let mut errors = BTreeMap::new();
    rules::check_key(site, draft.key.as_deref(), None, true, &mut errors);
    rules::check_name(site, draft.name.as_deref(), None, true, &mut errors);
    rules::check_lead(world, site, draft.lead.as_deref(), true, &mut errors);
    let type_key = rules::check_type(
        draft.project_type_key.as_deref(),
        draft.template_key.as_deref(),
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::collection(StatusCode::BAD_REQUEST, [], errors));
    }
    if draft.template_key.is_some() && draft.has_exclusive_scheme {
        return Err(ApiError::bad_request(format!(
            "A project template key can't be specified together with {}.",
            TEMPLATE_EXCLUSIVE_SCHEMES.join(", ")
        )));
    }
    if let Some(category) = draft.category_id.filter(|c| *c != -1) {
        return Err(ApiError::field(
            "categoryId",
            format!("The project category with id '{category}' does not exist."),
        ));
    }
    let issue_type_ids: Vec<String> = site
        .jira
        .issue_types
        .iter()
        .filter(|t| type_key == "software" || t.hierarchy_level < 1)
        .map(|t| t.id.clone())
        .collect();
    let id = world.allocate_id();
    let key = draft.key.unwrap_or_default();
    let project = Project {
        id,
        key: key.clone(),
        name: draft.name.unwrap_or_default(),
        description: draft.description.unwrap_or_default(),
        lead: draft.lead.unwrap_or_default(),
        project_type_key: type_key,
        project_template_key: draft.template_key,
        assignee_type: draft
            .assignee_type
            .unwrap_or_else(|| "UNASSIGNED".to_owned()),
        url: draft.url,
        browse_group: None,
        admins: Vec::new(),
        next_issue_number: 1,
        issue_type_ids,
        archived: false,
    };
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let base = render::rest_base(site);
    site.jira.projects.insert(id, project);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "self": format!("{base}/project/{id}"), "id": id, "key": key })),
    )
        .into_response())
}

/// `PUT /project/{projectIdOrKey}`: 200 with the full `Project`.
async fn update(
    State(state): State<SimState>,
    caller: Caller,
    Path(id_or_key): Path<String>,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_scope("manage:jira-project")?;
    let params = Params::parse(query.as_deref());
    let body = parse_object(&bytes)?;
    let draft = Draft::from_update(&body)?;
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = site_of(world, &caller)?;
    let viewer = Viewer::from(&caller);
    let project = visible(site, viewer, &id_or_key)?;
    if !viewer.administers_project(project) {
        return Err(ApiError::forbidden(
            "You cannot edit the configuration of this project.",
        ));
    }
    let project_id = project.id;
    let key_changes = draft.key.as_deref().is_some_and(|k| k != project.key);
    if key_changes || draft.has_scheme {
        caller.require_jira_admin()?;
    }
    let mut errors = BTreeMap::new();
    if key_changes {
        rules::check_key(
            site,
            draft.key.as_deref(),
            Some(project_id),
            true,
            &mut errors,
        );
    }
    rules::check_name(
        site,
        draft.name.as_deref(),
        Some(project_id),
        false,
        &mut errors,
    );
    rules::check_lead(world, site, draft.lead.as_deref(), false, &mut errors);
    if let Some(released) = draft.released_keys.first() {
        errors.insert(
            "releasedProjectKeys".to_owned(),
            format!("The project key '{released}' is not a previous key of this project."),
        );
    }
    if let Some(category) = draft.category_id.filter(|c| *c != -1) {
        errors.insert(
            "categoryId".to_owned(),
            format!("The project category with id '{category}' does not exist."),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::collection(StatusCode::BAD_REQUEST, [], errors));
    }
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let Some(project) = site.jira.projects.get_mut(&project_id) else {
        return Err(not_found(&id_or_key));
    };
    if let Some(name) = draft.name {
        project.name = name;
    }
    if let Some(description) = draft.description {
        project.description = description;
    }
    if let Some(lead) = draft.lead {
        project.lead = lead;
    }
    if let Some(assignee_type) = draft.assignee_type {
        project.assignee_type = assignee_type;
    }
    if let Some(url) = draft.url {
        project.url = (!url.is_empty()).then_some(url);
    }
    if key_changes && let Some(new_key) = draft.key {
        rules::rekey(site, project_id, &new_key);
        // Issue keys changed for every issue of the project: let search see them at once.
        state.search.rebuild(world, now);
    }
    let site = site_of(world, &caller)?;
    let project = site
        .jira
        .projects
        .get(&project_id)
        .ok_or_else(|| not_found(&id_or_key))?;
    Ok(Json(render_project(
        world,
        site,
        project,
        viewer,
        Expand::single(&params),
    )))
}

/// `DELETE /project/{projectIdOrKey}`: 204. The project goes to the "recycle bin": hidden from
/// every endpoint, its issues with it. Callers without "Administer Jira" get 404, as the spec
/// documents no 403 for this operation.
async fn remove(
    State(state): State<SimState>,
    caller: Caller,
    Path(id_or_key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<StatusCode> {
    caller.require_scope("manage:jira-configuration")?;
    Params::parse(query.as_deref()).bool("enableUndo", true)?;
    let mut world = state.world.write();
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let viewer = Viewer::from(&caller);
    let project_id = visible(site, viewer, &id_or_key)?.id;
    if !caller.role.administers_jira() {
        return Err(not_found(&id_or_key));
    }
    if let Some(project) = site.jira.projects.get_mut(&project_id) {
        project.archived = true;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /project/search`: a `PageBeanProject` of the projects the caller can browse.
async fn search(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, 50, 100)?;
    let order = search::SearchOrder::parse(params.get("orderBy"))?;
    let action = params.get("action").unwrap_or("view");
    if !matches!(action, "view" | "browse" | "edit" | "create") {
        return Err(ApiError::bad_request(format!(
            "The value '{action}' is not valid for the parameter 'action'."
        )));
    }
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let filter = search::SearchFilter::from_params(&params)?;
    let mut found: Vec<&Project> = site
        .jira
        .projects
        .values()
        .filter(|p| viewer.can_browse(site, p))
        .filter(|p| action != "edit" || viewer.administers_project(p))
        .filter(|p| filter.matches(p))
        .collect();
    order.sort(&world, site, &mut found);
    let expand = Expand::listed(&params);
    let values: Vec<Value> = page
        .slice(&found)
        .iter()
        .map(|p| render_project(&world, site, p, viewer, expand))
        .collect();
    let base = format!("{}/project/search", render::rest_base(site));
    Ok(Json(page_bean(page, found.len(), values, |start| {
        format!("{base}?startAt={start}&maxResults={}", page.max_results)
    })))
}
