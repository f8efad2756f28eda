//! REST v3 endpoints: small read endpoints clients use to fill pickers and check access: labels
//! in use (`/label`), priority search (`/priority/search`), a project's statuses by issue type
//! (`/project/{key}/statuses`), assignable users (`/user/assignable/search`) and users by account
//! id (`/user/bulk`). `GET /mypermissions` lives in `permissions.rs`.

use std::collections::BTreeSet;

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use serde_json::{Value, json};

use super::params::{Page, Params, page_bean};
use super::render;
use super::users::{MAX_USERS, site_users, user_matches};
use crate::error::{ApiError, ApiResult};
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_or_404, issue_site_of};
use crate::state::SimState;
use crate::world::{Project, Site, User};

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/label", get(labels))
        .route("/priority/search", get(priority_search))
        .route("/project/{projectIdOrKey}/statuses", get(project_statuses))
        .route("/user/assignable/search", get(assignable))
        .route("/user/bulk", get(users_bulk))
}

/// `GET /label`: every label on issues the caller can see, sorted and deduplicated, as a
/// `PageBeanString` (default and largest page: 1000).
async fn labels(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, 1000, 1000)?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let all: BTreeSet<&str> = site
        .jira
        .issues
        .values()
        .filter(|i| viewer.can_see_issue(site, i))
        .flat_map(|i| i.labels.iter().map(String::as_str))
        .collect();
    let all: Vec<&str> = all.into_iter().collect();
    let values: Vec<Value> = page.slice(&all).iter().map(|l| json!(l)).collect();
    let base = render::rest_base(site);
    Ok(Json(page_bean(page, all.len(), values, |start| {
        format!(
            "{base}/label?startAt={start}&maxResults={}",
            page.max_results
        )
    })))
}

/// `GET /priority/search`: `PageBeanPriority`, filtered by `id`, `projectId`, `priorityName`
/// and `onlyDefault`. Every project uses the site's one priority scheme.
async fn priority_search(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    // The spec lists this classic scope (not read:jira-work) for the operation.
    caller.require_scope("manage:jira-configuration")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, 50, 50)?;
    let only_default = params.bool("onlyDefault", false)?;
    let ids = params.list("id");
    let name = params.non_empty("priorityName").map(str::to_lowercase);
    let schemes = params.expands("schemes");
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    // `projectId` narrows to the priorities of the projects' schemes, ignoring invalid ids; every
    // project uses the one default scheme, so it never removes anything.
    let matching: Vec<_> = site
        .jira
        .priorities
        .iter()
        .filter(|p| ids.is_empty() || ids.contains(&p.id))
        .filter(|p| !only_default || p.is_default)
        .filter(|p| {
            name.as_deref()
                .is_none_or(|n| p.name.to_lowercase().contains(n))
        })
        .collect();
    let values: Vec<Value> = page
        .slice(&matching)
        .iter()
        .map(|p| {
            let mut body = render::priority(site, p);
            if schemes && let Some(obj) = body.as_object_mut() {
                obj.insert("schemes".to_owned(), default_priority_scheme_page(site));
            }
            body
        })
        .collect();
    let base = render::rest_base(site);
    Ok(Json(page_bean(page, matching.len(), values, |start| {
        format!(
            "{base}/priority/search?startAt={start}&maxResults={}",
            page.max_results
        )
    })))
}

/// The `schemes` expansion: the site's single default priority scheme.
fn default_priority_scheme_page(site: &Site) -> Value {
    json!({
        "maxResults": 15,
        "startAt": 0,
        "total": 1,
        "isLast": true,
        "values": [{
            "id": "1",
            "name": "Default Priority Scheme",
            "description": "The default priority scheme used by all company-managed projects.",
            "isDefault": true,
            "self": format!("{}/priorityscheme/1", render::rest_base(site)),
        }],
    })
}

/// The live project with id `id_or_key` or exactly that key (project keys are case-sensitive
/// here), if the viewer may browse it; Jira's 404 otherwise.
fn browsable_project<'s>(
    site: &'s Site,
    viewer: Viewer<'_>,
    id_or_key: &str,
) -> ApiResult<&'s Project> {
    let project = match id_or_key.parse::<u64>() {
        Ok(id) => site.jira.projects.get(&id),
        Err(_) => site.jira.projects.values().find(|p| p.key == id_or_key),
    };
    project
        .filter(|p| viewer.can_browse(site, p))
        .ok_or_else(|| {
            let what = if id_or_key.parse::<u64>().is_ok() {
                "id"
            } else {
                "key"
            };
            ApiError::not_found(format!(
                "No project could be found with {what} '{id_or_key}'."
            ))
        })
}

/// `GET /project/{projectIdOrKey}/statuses`: the project's issue types, each with the statuses
/// of its workflow (the simulator has one workflow, so every type lists every status).
async fn project_statuses(
    State(state): State<SimState>,
    caller: Caller,
    Path(id_or_key): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let project = browsable_project(site, Viewer::from(&caller), &id_or_key)?;
    let base = render::rest_base(site);
    let statuses: Vec<Value> = site
        .jira
        .statuses
        .iter()
        .map(|s| render::status(site, s))
        .collect();
    let types: Vec<Value> = project
        .issue_type_ids
        .iter()
        .filter_map(|id| site.jira.issue_type(id))
        .map(|t| {
            json!({
                "self": format!("{base}/issueType/{}", t.id),
                "id": t.id,
                "name": t.name,
                "subtask": t.subtask,
                "statuses": statuses,
            })
        })
        .collect();
    Ok(Json(Value::Array(types)))
}

/// `GET /user/assignable/search`: the `User`s who may be assigned issues of the project (or of
/// the issue's project): active accounts that can browse it.
///
/// As Jira documents, the page (`startAt`, `maxResults`) is cut from the users matching the
/// query first and only then filtered to assignable ones, so a page may hold fewer users than
/// `maxResults` although more follow. Without `query` and `accountId` every user matches, which
/// is how Jira Cloud answers even though the spec calls `query` required.
async fn assignable(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let text = params.non_empty("query");
    let account_id = params.non_empty("accountId");
    if text.is_some() && account_id.is_some() {
        return Err(ApiError::bad_request(
            "The 'query' and 'accountId' query parameters cannot be used together.",
        ));
    }
    let project_param = params.non_empty("project");
    let issue_key = params.non_empty("issueKey");
    let issue_id = params.non_empty("issueId");
    if project_param.is_none() && issue_key.is_none() && issue_id.is_none() {
        return Err(ApiError::bad_request(
            "One of the 'issueKey', 'issueId' or 'project' query parameters must be provided.",
        ));
    }
    if issue_id.is_some_and(|id| id.parse::<u64>().is_err()) {
        return Err(ApiError::bad_request(format!(
            "The issue ID '{}' is not valid.",
            issue_id.unwrap_or_default()
        )));
    }
    params.int("actionDescriptorId", 0)?;
    let page = Page::from_params(&params, 50, MAX_USERS)?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    // `issueId` wins over `issueKey`, which wins over `project`.
    let project = match issue_id.or(issue_key) {
        Some(reference) => {
            let issue = issue_or_404(site, viewer, reference)?;
            site.jira
                .projects
                .get(&issue.project_id)
                .ok_or_else(ApiError::issue_not_found)?
        }
        None => browsable_project(site, viewer, project_param.unwrap_or_default())?,
    };
    let candidates: Vec<&User> = site_users(&world, site)
        .into_iter()
        .filter(|u| text.is_none_or(|q| user_matches(u, q)))
        .filter(|u| account_id.is_none_or(|a| u.account_id == a))
        .take(usize::try_from(MAX_USERS).unwrap_or(usize::MAX))
        .collect();
    let body: Vec<Value> = page
        .slice(&candidates)
        .iter()
        .filter(|u| u.active && can_be_assigned(site, project, u))
        .map(|u| render::user(site, u))
        .collect();
    Ok(Json(Value::Array(body)))
}

/// Whether `user` holds "Assignable user" in `project`: in the default permission scheme, every
/// licensed user who can browse it.
fn can_be_assigned(site: &Site, project: &Project, user: &User) -> bool {
    site.role(&user.account_id).is_some_and(|role| {
        Viewer {
            account_id: &user.account_id,
            role,
        }
        .can_browse(site, project)
    })
}

/// `GET /user/bulk?accountId=...`: the named accounts of the site as a `PageBeanUser`, in the
/// order asked (unknown account ids are left out; default page size 10).
async fn users_bulk(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let mut requested: Vec<&str> = Vec::new();
    for id in params.all("accountId").into_iter().map(str::trim) {
        if !id.is_empty() && !requested.contains(&id) {
            requested.push(id);
        }
    }
    if requested.is_empty() {
        return Err(ApiError::bad_request(
            "The 'accountId' query parameter must be provided.",
        ));
    }
    let page = Page::from_params(&params, 10, MAX_USERS)?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let found: Vec<&User> = requested
        .iter()
        .filter(|a| site.members.contains_key(**a))
        .filter_map(|a| world.user(a))
        .collect();
    let values: Vec<Value> = page
        .slice(&found)
        .iter()
        .map(|u| render::user(site, u))
        .collect();
    let base = render::rest_base(site);
    let ids: String = requested
        .iter()
        .map(|a| format!("&accountId={a}"))
        .collect();
    Ok(Json(page_bean(page, found.len(), values, |start| {
        format!(
            "{base}/user/bulk?startAt={start}&maxResults={}{ids}",
            page.max_results
        )
    })))
}
