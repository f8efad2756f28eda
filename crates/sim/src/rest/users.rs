//! REST v3 endpoints: users (`user`, `user/search`, `users/search`, `user/groups`).
//!
//! Only accounts with access to the addressed site are found. E-mail addresses hidden by a user's
//! privacy settings are neither shown nor searchable.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::gateway::Caller;
use crate::rest::access::site_of;
use crate::rest::params::{Page, Params};
use crate::rest::render;
use crate::state::SimState;
use crate::world::{Site, User, World};

/// Most users a search pages through (Jira stops at the 1000th).
pub(crate) const MAX_USERS: i64 = 1000;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/user", get(get_user))
        .route("/user/search", get(search))
        .route("/users/search", get(list_all))
        .route("/user/groups", get(user_groups))
}

/// Jira's 404 for an account that does not exist or is not visible on the site.
fn user_not_found() -> ApiError {
    ApiError::not_found("Specified user does not exist or you do not have required permissions")
}

/// The accounts with access to `site`, by display name then account id.
pub(crate) fn site_users<'w>(world: &'w World, site: &Site) -> Vec<&'w User> {
    let mut users: Vec<&User> = site.members.keys().filter_map(|a| world.user(a)).collect();
    sort_by_name(&mut users);
    users
}

/// Sorts `users` the way Jira lists people: display name (ignoring case), then account id so the
/// order is stable between calls.
pub(crate) fn sort_by_name(users: &mut [&User]) {
    users.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
}

/// The site member `account_id`, or 404.
fn site_user<'w>(world: &'w World, site: &Site, account_id: Option<&str>) -> ApiResult<&'w User> {
    let Some(account_id) = account_id else {
        return Err(ApiError::bad_request(
            "The 'accountId' query parameter must be provided.",
        ));
    };
    site.members
        .contains_key(account_id)
        .then(|| world.user(account_id))
        .flatten()
        .ok_or_else(user_not_found)
}

/// Whether `query` matches the start of the display name, of any word in it, or of the visible
/// e-mail address (case-insensitive), as Jira's user search does. A hidden address is matched
/// only whole: Jira finds a user by their exact address without revealing it.
pub fn user_matches(user: &User, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return false;
    }
    let name = user.display_name.to_lowercase();
    name.starts_with(&q)
        || name
            .split(|c: char| c.is_whitespace() || c == '-' || c == '.')
            .any(|word| word.starts_with(&q))
        || user
            .email
            .as_deref()
            .is_some_and(|e| e.to_lowercase().starts_with(&q))
        || (q.contains('@') && user.login.to_lowercase() == q)
}

/// The groups of the site that `account_id` belongs to, by name, as `GroupName`s.
fn group_names(site: &Site, account_id: &str) -> Vec<Value> {
    let base = render::rest_base(site);
    let mut groups: Vec<_> = site
        .groups
        .values()
        .filter(|g| g.members.contains(account_id))
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    groups
        .into_iter()
        .map(|g| {
            json!({
                "name": g.name,
                "groupId": g.group_id,
                "self": format!("{base}/group?groupId={}", g.group_id),
            })
        })
        .collect()
}

/// `GET /user?accountId=`: a `User`, with `groups` and `applicationRoles` on request.
async fn get_user(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let user = site_user(&world, site, params.non_empty("accountId"))?;
    let mut body = render::user(site, user);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("expand".to_owned(), json!("groups,applicationRoles"));
        if params.expands("groups") {
            let groups = group_names(site, &user.account_id);
            obj.insert(
                "groups".to_owned(),
                json!({ "size": groups.len(), "items": groups }),
            );
        }
        if params.expands("applicationRoles") {
            obj.insert(
                "applicationRoles".to_owned(),
                json!({ "size": 1, "items": [] }),
            );
        }
    }
    Ok(Json(body))
}

/// `GET /user/search`: a bare array of `User`s matching `query` or `accountId`.
///
/// Real Jira puts user search under its own tenant-wide rate limit on top of the usual ones; the
/// realism layer can single out this path (`/rest/api/3/user/search`) to imitate it.
async fn search(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let text = params.non_empty("query");
    let account_id = params.non_empty("accountId");
    let property = params.non_empty("property");
    if text.is_none() && account_id.is_none() && property.is_none() {
        return Err(ApiError::bad_request(
            "One of 'query', 'accountId' or 'property' query parameters must be provided.",
        ));
    }
    if text.is_some() && account_id.is_some() {
        return Err(ApiError::bad_request(
            "The 'query' and 'accountId' query parameters cannot be used together.",
        ));
    }
    let page = Page::from_params(&params, 50, MAX_USERS)?;
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let matches: Vec<&User> = site_users(&world, site)
        .into_iter()
        // Users have no entity properties in the simulator, so a property query finds nobody.
        .filter(|_| property.is_none())
        .filter(|u| text.is_none_or(|q| user_matches(u, q)))
        .filter(|u| account_id.is_none_or(|a| u.account_id == a))
        .take(usize::try_from(MAX_USERS).unwrap_or(usize::MAX))
        .collect();
    let body: Vec<Value> = page
        .slice(&matches)
        .iter()
        .map(|u| render::user(site, u))
        .collect();
    Ok(Json(json!(body)))
}

/// `GET /users/search`: every account of the site, paged, as a bare array of `User`s.
async fn list_all(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let page = Page::from_params(&params, 50, MAX_USERS)?;
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let users = site_users(&world, site);
    let body: Vec<Value> = page
        .slice(&users)
        .iter()
        .map(|u| render::user(site, u))
        .collect();
    Ok(Json(json!(body)))
}

/// `GET /user/groups?accountId=`: the `GroupName`s of the account's groups.
async fn user_groups(
    State(state): State<SimState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-user")?;
    let params = Params::parse(query.as_deref());
    let world = state.world.read();
    let site = site_of(&world, &caller)?;
    let user = site_user(&world, site, params.non_empty("accountId"))?;
    Ok(Json(json!(group_names(site, &user.account_id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, email: Option<&str>) -> User {
        User {
            account_id: "a".to_owned(),
            display_name: name.to_owned(),
            email: email.map(str::to_owned),
            login: "login@example".to_owned(),
            password: String::new(),
            time_zone: "UTC".to_owned(),
            locale: "en_US".to_owned(),
            account_type: "atlassian".to_owned(),
            active: true,
        }
    }

    #[test]
    fn queries_match_word_prefixes_and_visible_emails_only() {
        let bob = user("Bob Builder", Some("bob@acme.example"));
        assert!(user_matches(&bob, "bo"));
        assert!(user_matches(&bob, "BUILD"));
        assert!(user_matches(&bob, "bob@acme"));
        assert!(!user_matches(&bob, "uilder"));
        let hidden = user("Kiri Tane", None);
        assert!(!user_matches(&hidden, "login"));
        assert!(user_matches(&hidden, "tane"));
    }

    #[test]
    fn a_hidden_address_is_found_only_by_the_whole_address() {
        let hidden = user("Kiri Tane", None);
        assert!(user_matches(&hidden, "Login@Example"));
        assert!(!user_matches(&hidden, "login@exam"));
    }
}
