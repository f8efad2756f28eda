//! REST v3 endpoint `GET /mypermissions`: which of the asked-for permissions the caller holds,
//! globally, in a project, on an issue or on a comment, derived from the simulator's model of
//! Jira's default permission scheme:
//!
//! - global permissions: "Administer Jira" for Jira and site admins, "Jira system administrator"
//!   for site admins, the rest for every licensed user;
//! - project permissions need browse access to the project; administration-only ones (administer
//!   projects, delete issues, manage watchers, edit/delete all comments, attachments, worklogs,
//!   set security) need project administration as well, exactly where the other endpoints check
//!   it;
//! - without a project or issue, a project permission is held when it is held in any project.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::params::Params;
use crate::error::{ApiError, ApiResult};
use crate::gateway::Caller;
use crate::rest::access::{self, Viewer, issue_or_404, issue_site_of};
use crate::state::SimState;
use crate::world::{Project, Site};

/// Who holds a permission in the simulator's default scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// Global: every licensed user.
    Everyone,
    /// Global: Jira administrators (and site admins).
    JiraAdmin,
    /// Global: site admins only.
    SiteAdmin,
    /// Project: everyone who can browse the project.
    Browser,
    /// Project: project administrators (and Jira admins).
    ProjectAdmin,
}

/// One permission Jira knows: (key, id, name, description, grant).
type PermissionDef = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Grant,
);

/// Jira's built-in permissions with their ids, names and descriptions as `GET /permissions`
/// lists them.
const PERMISSIONS: &[PermissionDef] = &[
    (
        "ADMINISTER",
        "0",
        "Administer Jira",
        "Create and administer projects, issue types, fields, workflows, and schemes for all projects. Users with this permission can perform most administration tasks, except: managing users, importing data, and editing system email settings.",
        Grant::JiraAdmin,
    ),
    (
        "SYSTEM_ADMIN",
        "44",
        "Jira System Administrator",
        "Ability to perform all administration functions. There must be at least one group with this permission.",
        Grant::SiteAdmin,
    ),
    (
        "USER_PICKER",
        "27",
        "Browse users and groups",
        "View and select users or groups from the user picker, and share issues. Users with this permission can see the names of all users and groups on your site.",
        Grant::Everyone,
    ),
    (
        "CREATE_SHARED_OBJECTS",
        "22",
        "Share dashboards and filters",
        "Share dashboards and filters with other users.",
        Grant::Everyone,
    ),
    (
        "MANAGE_GROUP_FILTER_SUBSCRIPTIONS",
        "24",
        "Manage group filter subscriptions",
        "Create and delete group filter subscriptions.",
        Grant::Everyone,
    ),
    (
        "BULK_CHANGE",
        "33",
        "Make bulk changes",
        "Modify collections of issues at once. For example, resolve multiple issues in one step.",
        Grant::Everyone,
    ),
    (
        "ADMINISTER_PROJECTS",
        "23",
        "Administer Projects",
        "Ability to administer a project in Jira.",
        Grant::ProjectAdmin,
    ),
    (
        "BROWSE_PROJECTS",
        "10",
        "Browse Projects",
        "Ability to browse projects and the issues within them.",
        Grant::Browser,
    ),
    (
        "VIEW_DEV_TOOLS",
        "29",
        "View Development Tools",
        "Allows users in a software project to view development-related information on the issue, such as commits, reviews and build information.",
        Grant::Browser,
    ),
    (
        "VIEW_READONLY_WORKFLOW",
        "45",
        "View Read-Only Workflow",
        "Users with this permission may view a read-only version of a workflow.",
        Grant::Browser,
    ),
    (
        "CREATE_ISSUES",
        "11",
        "Create Issues",
        "Ability to create issues.",
        Grant::Browser,
    ),
    (
        "EDIT_ISSUES",
        "12",
        "Edit Issues",
        "Ability to edit issues.",
        Grant::Browser,
    ),
    (
        "TRANSITION_ISSUES",
        "46",
        "Transition Issues",
        "Ability to transition issues.",
        Grant::Browser,
    ),
    (
        "SCHEDULE_ISSUES",
        "28",
        "Schedule Issues",
        "Ability to view or edit an issue's due date.",
        Grant::Browser,
    ),
    (
        "MOVE_ISSUES",
        "25",
        "Move Issues",
        "Ability to move issues between projects or between workflows of the same project (if applicable). Note the user can only move issues to a project they have the create permission for.",
        Grant::Browser,
    ),
    (
        "ASSIGN_ISSUES",
        "13",
        "Assign Issues",
        "Ability to assign issues to other people.",
        Grant::Browser,
    ),
    (
        "ASSIGNABLE_USER",
        "17",
        "Assignable User",
        "Users with this permission may be assigned to issues.",
        Grant::Browser,
    ),
    (
        "RESOLVE_ISSUES",
        "14",
        "Resolve Issues",
        "Ability to resolve and reopen issues. This includes the ability to set a fix version.",
        Grant::Browser,
    ),
    (
        "CLOSE_ISSUES",
        "18",
        "Close Issues",
        "Ability to close issues. Often useful where your developers resolve issues, and a QA department closes them.",
        Grant::Browser,
    ),
    (
        "MODIFY_REPORTER",
        "30",
        "Modify Reporter",
        "Ability to modify the reporter when creating or editing an issue.",
        Grant::Browser,
    ),
    (
        "DELETE_ISSUES",
        "16",
        "Delete Issues",
        "Ability to delete issues.",
        Grant::ProjectAdmin,
    ),
    (
        "LINK_ISSUES",
        "21",
        "Link Issues",
        "Ability to link issues together and create linked issues. Only useful if issue linking is turned on.",
        Grant::Browser,
    ),
    (
        "SET_ISSUE_SECURITY",
        "26",
        "Set Issue Security",
        "Ability to set the level of security on an issue so that only people in that security level can see the issue.",
        Grant::ProjectAdmin,
    ),
    (
        "VIEW_VOTERS_AND_WATCHERS",
        "31",
        "View Voters and Watchers",
        "Ability to view the voters and watchers of an issue.",
        Grant::Browser,
    ),
    (
        "MANAGE_WATCHERS",
        "32",
        "Manage Watchers",
        "Ability to manage the watchers of an issue.",
        Grant::ProjectAdmin,
    ),
    (
        "ADD_COMMENTS",
        "15",
        "Add Comments",
        "Ability to comment on issues.",
        Grant::Browser,
    ),
    (
        "EDIT_ALL_COMMENTS",
        "34",
        "Edit All Comments",
        "Ability to edit all comments made on issues.",
        Grant::ProjectAdmin,
    ),
    (
        "EDIT_OWN_COMMENTS",
        "35",
        "Edit Own Comments",
        "Ability to edit own comments made on issues.",
        Grant::Browser,
    ),
    (
        "DELETE_ALL_COMMENTS",
        "36",
        "Delete All Comments",
        "Ability to delete all comments made on issues.",
        Grant::ProjectAdmin,
    ),
    (
        "DELETE_OWN_COMMENTS",
        "37",
        "Delete Own Comments",
        "Ability to delete own comments made on issues.",
        Grant::Browser,
    ),
    (
        "CREATE_ATTACHMENTS",
        "19",
        "Create Attachments",
        "Users with this permission may create attachments.",
        Grant::Browser,
    ),
    (
        "DELETE_ALL_ATTACHMENTS",
        "38",
        "Delete All Attachments",
        "Users with this permission may delete all attachments.",
        Grant::ProjectAdmin,
    ),
    (
        "DELETE_OWN_ATTACHMENTS",
        "39",
        "Delete Own Attachments",
        "Users with this permission may delete own attachments.",
        Grant::Browser,
    ),
    (
        "WORK_ON_ISSUES",
        "20",
        "Work On Issues",
        "Ability to log work done against an issue. Only useful if Time Tracking is turned on.",
        Grant::Browser,
    ),
    (
        "EDIT_OWN_WORKLOGS",
        "40",
        "Edit Own Worklogs",
        "Ability to edit own worklogs made on issues.",
        Grant::Browser,
    ),
    (
        "EDIT_ALL_WORKLOGS",
        "41",
        "Edit All Worklogs",
        "Ability to edit all worklogs made on issues.",
        Grant::ProjectAdmin,
    ),
    (
        "DELETE_OWN_WORKLOGS",
        "42",
        "Delete Own Worklogs",
        "Ability to delete own worklogs made on issues.",
        Grant::Browser,
    ),
    (
        "DELETE_ALL_WORKLOGS",
        "43",
        "Delete All Worklogs",
        "Ability to delete all worklogs made on issues.",
        Grant::ProjectAdmin,
    ),
];

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new().route("/mypermissions", get(my_permissions))
}

/// The context a permission is evaluated in.
enum Context<'s> {
    /// No project, issue or comment: project permissions count if held in any project.
    Global,
    /// One project (from `projectId`/`projectKey`, or the project of `issueId`/`issueKey`/
    /// `commentId`).
    Project(&'s Project),
}

fn holds(site: &Site, viewer: Viewer<'_>, context: &Context<'_>, grant: Grant) -> bool {
    let in_project = |p: &Project| match grant {
        Grant::Browser => viewer.can_browse(site, p),
        Grant::ProjectAdmin => viewer.can_browse(site, p) && viewer.administers_project(p),
        Grant::Everyone | Grant::JiraAdmin | Grant::SiteAdmin => false,
    };
    match grant {
        Grant::Everyone => true,
        Grant::JiraAdmin => viewer.role.administers_jira(),
        Grant::SiteAdmin => viewer.role.is_site_admin(),
        Grant::Browser | Grant::ProjectAdmin => match context {
            Context::Project(p) => in_project(p),
            Context::Global => site.jira.projects.values().any(in_project),
        },
    }
}

/// Resolves the context parameters. Ids win over keys; an unknown or hidden project or issue is
/// a 404, as Jira documents.
fn context<'s>(site: &'s Site, viewer: Viewer<'_>, params: &Params) -> ApiResult<Context<'s>> {
    if let Some(comment_id) = params.non_empty("commentId") {
        let project = comment_id
            .parse::<u64>()
            .ok()
            .and_then(|id| access::visible_comment(site, viewer, id))
            .and_then(|(issue, _)| site.jira.projects.get(&issue.project_id));
        return project.map(Context::Project).ok_or_else(|| {
            ApiError::not_found(format!("Can not find a comment for the id: {comment_id}."))
        });
    }
    if let Some(issue_ref) = params
        .non_empty("issueId")
        .or_else(|| params.non_empty("issueKey"))
    {
        let issue = issue_or_404(site, viewer, issue_ref)?;
        return site
            .jira
            .projects
            .get(&issue.project_id)
            .map(Context::Project)
            .ok_or_else(ApiError::issue_not_found);
    }
    let by_id = params.non_empty("projectId");
    let Some(reference) = by_id.or_else(|| params.non_empty("projectKey")) else {
        return Ok(Context::Global);
    };
    let project = match by_id {
        Some(id) => id
            .parse::<u64>()
            .ok()
            .and_then(|id| site.jira.projects.get(&id)),
        None => site.jira.projects.values().find(|p| p.key == reference),
    };
    project
        .filter(|p| viewer.can_browse(site, p))
        .map(Context::Project)
        .ok_or_else(|| {
            let what = if by_id.is_some() { "id" } else { "key" };
            ApiError::not_found(format!(
                "No project could be found with {what} '{reference}'."
            ))
        })
}

/// `GET /mypermissions?permissions=...`: `Permissions`, one `UserPermission` per asked key.
async fn my_permissions(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let params = Params::parse(query.as_deref());
    let keys = params.list("permissions");
    if keys.is_empty() {
        return Err(ApiError::bad_request(
            "The 'permissions' query parameter is required.",
        ));
    }
    let mut asked: Vec<&PermissionDef> = Vec::new();
    let mut unknown: Vec<&str> = Vec::new();
    for key in &keys {
        match PERMISSIONS.iter().find(|p| p.0 == key) {
            Some(def) => asked.push(def),
            None => unknown.push(key),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Invalid permission key(s) provided: {}.",
            unknown.join(", ")
        )));
    }
    if params.non_empty("commentId").is_some() && keys.iter().any(|k| k != "BROWSE_PROJECTS") {
        return Err(ApiError::bad_request(
            "Only the BROWSE_PROJECTS permission is supported when a comment ID is provided.",
        ));
    }
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let viewer = Viewer::from(&caller);
    let context = context(site, viewer, &params)?;
    let mut permissions = Map::new();
    for (key, id, name, description, grant) in asked {
        let kind = match grant {
            Grant::Everyone | Grant::JiraAdmin | Grant::SiteAdmin => "GLOBAL",
            Grant::Browser | Grant::ProjectAdmin => "PROJECT",
        };
        permissions.insert(
            (*key).to_owned(),
            json!({
                "id": id,
                "key": key,
                "name": name,
                "type": kind,
                "description": description,
                "havePermission": holds(site, viewer, &context, *grant),
            }),
        );
    }
    Ok(Json(json!({ "permissions": permissions })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_keys_and_ids_are_unique() {
        let mut keys: Vec<_> = PERMISSIONS.iter().map(|p| p.0).collect();
        let mut ids: Vec<_> = PERMISSIONS.iter().map(|p| p.1).collect();
        keys.sort_unstable();
        ids.sort_unstable();
        keys.dedup();
        ids.dedup();
        assert_eq!(keys.len(), PERMISSIONS.len());
        assert_eq!(ids.len(), PERMISSIONS.len());
    }
}
