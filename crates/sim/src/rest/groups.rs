//! REST v3 endpoints: groups (create, remove, bulk lookup, members, add and remove members,
//! picker).
//!
//! Changing groups needs site administration; reading them needs "Browse users and groups",
//! which every licensed member of a simulated site holds. Group names are unique per site,
//! case-insensitively; `groupId` is the stable handle.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::gateway::Caller;
use crate::rest::access::site_of;
use crate::rest::params::{Page, Params, page_bean};
use crate::rest::render;
use crate::rest::users::sort_by_name;
use crate::state::SimState;
use crate::world::{Group, Site, User, World};

/// Most members `group/member` returns per page, and `Group.users` lists.
const MEMBER_PAGE: i64 = 50;
/// Default size of a `groups/picker` answer (Jira's `jira.ajax.autocomplete.limit`).
const PICKER_LIMIT: i64 = 20;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/group", axum::routing::post(create).delete(remove))
        .route("/group/bulk", get(bulk))
        .route("/group/member", get(members))
        .route(
            "/group/user",
            axum::routing::post(add_user).delete(remove_user),
        )
        .route("/groups/picker", get(picker))
}

/// How a request names a group: by id or by name, never both.
enum GroupRef {
    Id(String),
    Name(String),
}

impl GroupRef {
    /// Reads `groupId` / `groupname` (`groupName` is accepted too, as Jira does).
    fn from_params(params: &Params) -> ApiResult<Self> {
        let id = params.non_empty("groupId");
        let name = params
            .non_empty("groupname")
            .or_else(|| params.non_empty("groupName"));
        match (id, name) {
            (Some(_), Some(_)) => Err(ApiError::bad_request(
                "You must specify either a group name or a group ID, not both.",
            )),
            (Some(id), None) => Ok(Self::Id(id.to_owned())),
            (None, Some(name)) => Ok(Self::Name(name.to_owned())),
            (None, None) => Err(ApiError::bad_request(
                "You must specify a group name or a group ID.",
            )),
        }
    }

    fn find<'s>(&self, site: &'s Site) -> ApiResult<&'s Group> {
        match self {
            Self::Id(id) => site.groups.get(id).ok_or_else(|| {
                ApiError::not_found(format!("The group with groupId '{id}' doesn't exist."))
            }),
            Self::Name(name) => site.group_by_name(name).ok_or_else(|| {
                ApiError::not_found(format!("The group with name '{name}' doesn't exist."))
            }),
        }
    }
}

fn group_self(site: &Site, group: &Group) -> String {
    format!(
        "{}/group?groupId={}",
        render::rest_base(site),
        group.group_id
    )
}

/// Active members of `group` (inactive ones too when asked), by display name.
fn member_users<'w>(world: &'w World, group: &Group, include_inactive: bool) -> Vec<&'w User> {
    let mut users: Vec<&User> = group
        .members
        .iter()
        .filter_map(|a| world.user(a))
        .filter(|u| include_inactive || u.active)
        .collect();
    sort_by_name(&mut users);
    users
}

/// A `Group` with the first page of its members in `users`.
fn render_group(world: &World, site: &Site, group: &Group) -> Value {
    let users = member_users(world, group, true);
    let shown: Vec<Value> = users
        .iter()
        .take(MEMBER_PAGE as usize)
        .map(|u| render::user_details(site, u))
        .collect();
    json!({
        "name": group.name,
        "groupId": group.group_id,
        "self": group_self(site, group),
        "users": {
            "size": users.len(),
            "items": shown,
            "max-results": MEMBER_PAGE,
            "start-index": 0,
            "end-index": shown.len().saturating_sub(1),
        },
        "expand": "users",
    })
}

/// `POST /group`: 201 `Group`.
async fn create(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("manage:jira-configuration")?;
    caller.require_site_admin()?;
    let body: Value =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::bad_request(INVALID_PAYLOAD))?;
    let name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
    };
    let Some(name) = name else {
        return Err(ApiError::bad_request("You must specify a group name."));
    };
    if name.chars().count() > 255 {
        return Err(ApiError::bad_request(
            "The group name must not exceed 255 characters.",
        ));
    }
    let mut world = state.world.write();
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    if site.group_by_name(&name).is_some() {
        return Err(ApiError::bad_request(
            "A group with that name already exists.",
        ));
    }
    let group = Group {
        group_id: crate::util::uuid(),
        name,
        members: Default::default(),
    };
    site.groups.insert(group.group_id.clone(), group.clone());
    let site = site_of(&world, &caller)?;
    Ok((
        StatusCode::CREATED,
        Json(render_group(&world, site, &group)),
    )
        .into_response())
}

/// `DELETE /group?groupId=|groupname=`: 200 with no body. Comment restrictions move to the swap
/// group when one is named; otherwise they keep naming the deleted group and the comments become
/// inaccessible, as in Jira.
async fn remove(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<StatusCode> {
    caller.require_scope("manage:jira-configuration")?;
    caller.require_site_admin()?;
    let params = Params::parse(query.as_deref());
    let target = GroupRef::from_params(&params)?;
    let swap = match (
        params.non_empty("swapGroupId"),
        params.non_empty("swapGroup"),
    ) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "You must specify either swapGroup or swapGroupId, not both.",
            ));
        }
        (Some(id), None) => Some(GroupRef::Id(id.to_owned())),
        (None, Some(name)) => Some(GroupRef::Name(name.to_owned())),
        (None, None) => None,
    };
    let mut world = state.world.write();
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    let group = target.find(site)?.clone();
    let swap = match swap {
        Some(s) => {
            let swap = s.find(site)?.clone();
            if swap.group_id == group.group_id {
                return Err(ApiError::bad_request(
                    "You cannot swap comments and worklogs to the group being deleted.",
                ));
            }
            Some(swap)
        }
        None => None,
    };
    site.groups.remove(&group.group_id);
    if let Some(swap) = swap {
        for comment in site
            .jira
            .issues
            .values_mut()
            .flat_map(|i| i.comments.iter_mut())
        {
            if let Some(v) = comment.visibility.as_mut()
                && v.kind == "group"
                && (v.identifier.as_deref() == Some(group.group_id.as_str())
                    || v.value.eq_ignore_ascii_case(&group.name))
            {
                v.value = swap.name.clone();
                v.identifier = Some(swap.group_id.clone());
            }
        }
    }
    Ok(StatusCode::OK)
}

/// `GET /group/bulk`: a `PageBeanGroupDetails` of the groups named by id or name (every group
/// when none is named).
async fn bulk(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, 50, 1000)?;
    let ids = params.all("groupId");
    let names = params.all("groupName");
    let access = params.non_empty("accessType");
    let application = params.non_empty("applicationKey");
    // The simulated sites have one group per access level and product worth naming.
    let access_group = match access {
        None => None,
        Some("site-admin") => Some("site-admins"),
        Some("admin") => Some(""),
        Some("user") => Some("jira-software-users"),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "The value '{other}' is not valid for the parameter 'accessType'."
            )));
        }
    };
    let application_group = match application {
        None => None,
        Some("jira-software") => Some("jira-software-users"),
        Some("jira-servicedesk" | "jira-product-discovery" | "jira-core") => Some(""),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "The value '{other}' is not valid for the parameter 'applicationKey'."
            )));
        }
    };
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let mut groups: Vec<&Group> = site
        .groups
        .values()
        .filter(|g| {
            (ids.is_empty() && names.is_empty())
                || ids.contains(&g.group_id.as_str())
                || names.iter().any(|n| n.eq_ignore_ascii_case(&g.name))
        })
        .filter(|g| access_group.is_none_or(|n| g.name == n))
        .filter(|g| application_group.is_none_or(|n| g.name == n))
        .collect();
    groups.sort_by_key(|g| g.name.to_lowercase());
    let values: Vec<Value> = page
        .slice(&groups)
        .iter()
        .map(|g| json!({ "name": g.name, "groupId": g.group_id }))
        .collect();
    Ok(Json(json!({
        "maxResults": page.max_results,
        "startAt": page.start_at,
        "total": groups.len(),
        "isLast": page.is_last(groups.len()),
        "values": values,
    })))
}

/// `GET /group/member`: a `PageBeanUserDetails` of the group's members, at most 50 a page.
async fn members(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("manage:jira-configuration")?;
    let params = Params::parse(query.as_deref());
    let target = GroupRef::from_params(&params)?;
    let include_inactive = params.bool("includeInactiveUsers", false)?;
    let page = Page::from_params(&params, MEMBER_PAGE, MEMBER_PAGE)?;
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let group = target.find(site)?;
    let users = member_users(&world, group, include_inactive);
    let values: Vec<Value> = page
        .slice(&users)
        .iter()
        .map(|u| render::user_details(site, u))
        .collect();
    let link = |start: usize| {
        format!(
            "{}/group/member?groupId={}&includeInactiveUsers={include_inactive}&startAt={start}&maxResults={}",
            render::rest_base(site),
            group.group_id,
            page.max_results
        )
    };
    Ok(Json(page_bean(page, users.len(), values, link)))
}

/// Reads `accountId` from an `UpdateUserToGroupBean`.
fn account_from_body(bytes: &Bytes) -> ApiResult<String> {
    let body: Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::bad_request(INVALID_PAYLOAD))?;
    match body.get("accountId") {
        Some(Value::String(a)) if !a.trim().is_empty() => Ok(a.trim().to_owned()),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            Err(ApiError::bad_request("You must specify an account ID."))
        }
        Some(_) => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

/// The site member `account_id`, or Jira's 404.
fn member_account<'w>(world: &'w World, site: &Site, account_id: &str) -> ApiResult<&'w User> {
    site.members
        .contains_key(account_id)
        .then(|| world.user(account_id))
        .flatten()
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "User with account ID '{account_id}' does not exist."
            ))
        })
}

/// `POST /group/user?groupId=|groupname=`: 201 `Group`. A user who is already a member is a 400.
async fn add_user(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> ApiResult<Response> {
    caller.require_scope("manage:jira-configuration")?;
    caller.require_site_admin()?;
    let params = Params::parse(query.as_deref());
    let target = GroupRef::from_params(&params)?;
    let account_id = account_from_body(&bytes)?;
    let mut world = state.world.write();
    let site = site_of(&world, &caller)?;
    let group = target.find(site)?;
    member_account(&world, site, &account_id)?;
    if group.members.contains(&account_id) {
        return Err(ApiError::bad_request(format!(
            "Cannot add user. User is already a member of '{}'.",
            group.name
        )));
    }
    let group_id = group.group_id.clone();
    let site = world
        .site_mut(&caller.cloud_id)
        .ok_or_else(|| ApiError::not_found("Site not found."))?;
    if let Some(group) = site.groups.get_mut(&group_id) {
        group.members.insert(account_id);
    }
    let site = site_of(&world, &caller)?;
    let group = site
        .groups
        .get(&group_id)
        .ok_or_else(|| ApiError::not_found("The group doesn't exist."))?;
    Ok((StatusCode::CREATED, Json(render_group(&world, site, group))).into_response())
}

/// `DELETE /group/user?groupId=|groupname=&accountId=`: 200 with no body. Removing someone who
/// is not a member is a 400.
async fn remove_user(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<StatusCode> {
    caller.require_scope("manage:jira-configuration")?;
    caller.require_site_admin()?;
    let params = Params::parse(query.as_deref());
    let target = GroupRef::from_params(&params)?;
    let Some(account_id) = params.non_empty("accountId").map(str::to_owned) else {
        return Err(ApiError::bad_request("You must specify an account ID."));
    };
    let mut world = state.world.write();
    let site = site_of(&world, &caller)?;
    let group = target.find(site)?;
    member_account(&world, site, &account_id)?;
    if !group.members.contains(&account_id) {
        return Err(ApiError::bad_request(format!(
            "Cannot remove user. User is not a member of '{}'.",
            group.name
        )));
    }
    let group_id = group.group_id.clone();
    if let Some(group) = world
        .site_mut(&caller.cloud_id)
        .and_then(|s| s.groups.get_mut(&group_id))
    {
        group.members.remove(&account_id);
    }
    Ok(StatusCode::OK)
}

/// `GET /groups/picker`: `FoundGroups`, names containing `query` with the match in bold.
async fn picker(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let text = params.get("query").unwrap_or("").to_owned();
    let case_insensitive = params.bool("caseInsensitive", false)?;
    let limit = params.int("maxResults", PICKER_LIMIT)?.max(0);
    let exclude_names = params.all("exclude");
    let exclude_ids = params.all("excludeId");
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let mut found: BTreeMap<String, (&Group, Option<usize>)> = BTreeMap::new();
    for group in site.groups.values() {
        if exclude_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&group.name))
            || exclude_ids.contains(&group.group_id.as_str())
        {
            continue;
        }
        let at = if case_insensitive {
            group.name.to_lowercase().find(&text.to_lowercase())
        } else {
            group.name.find(&text)
        };
        if text.is_empty() || at.is_some() {
            found.insert(group.name.to_lowercase(), (group, at));
        }
    }
    let total = found.len();
    let shown: Vec<Value> = found
        .values()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|(g, at)| {
            json!({
                "name": g.name,
                "html": highlight(&g.name, *at, text.len()),
                "groupId": g.group_id,
            })
        })
        .collect();
    Ok(Json(json!({
        "header": format!("Showing {} of {total} matching groups", shown.len()),
        "total": total,
        "groups": shown,
    })))
}

/// `name` with `len` bytes from `at` wrapped in `<b>`, HTML-escaped.
fn highlight(name: &str, at: Option<usize>, len: usize) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    match at {
        Some(at) if len > 0 && name.is_char_boundary(at) && name.is_char_boundary(at + len) => {
            format!(
                "{}<b>{}</b>{}",
                escape(&name[..at]),
                escape(&name[at..at + len]),
                escape(&name[at + len..])
            )
        }
        _ => escape(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_bolds_the_matched_part() {
        assert_eq!(
            highlight("jdog-developers", Some(0), 1),
            "<b>j</b>dog-developers"
        );
        assert_eq!(highlight("a<b", None, 0), "a&lt;b");
    }
}
