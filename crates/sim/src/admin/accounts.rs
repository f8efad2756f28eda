//! Admin fixtures for who exists: adding and changing accounts, adding sites, and minting access
//! tokens without the consent flow.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AdminJson;
use crate::error::{ApiError, ApiResult};
use crate::state::SimState;
use crate::world::{SiteRole, User, World};

/// A site membership in admin bodies.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Membership {
    cloud_id: String,
    #[serde(default = "default_role")]
    role: RoleArg,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
enum RoleArg {
    Member,
    JiraAdmin,
    SiteAdmin,
}

fn default_role() -> RoleArg {
    RoleArg::Member
}

impl From<RoleArg> for SiteRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Member => SiteRole::Member,
            RoleArg::JiraAdmin => SiteRole::JiraAdmin,
            RoleArg::SiteAdmin => SiteRole::SiteAdmin,
        }
    }
}

fn role_name(role: SiteRole) -> &'static str {
    match role {
        SiteRole::Member => "member",
        SiteRole::JiraAdmin => "jiraAdmin",
        SiteRole::SiteAdmin => "siteAdmin",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct NewUser {
    display_name: String,
    email: Option<String>,
    #[serde(default = "yes")]
    email_visible: bool,
    account_id: Option<String>,
    #[serde(default = "utc")]
    time_zone: String,
    #[serde(default = "en_us")]
    locale: String,
    #[serde(default = "atlassian")]
    account_type: String,
    password: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    sites: Vec<Membership>,
}

fn yes() -> bool {
    true
}
fn utc() -> String {
    "UTC".to_owned()
}
fn en_us() -> String {
    "en_US".to_owned()
}
fn atlassian() -> String {
    "atlassian".to_owned()
}

fn check_time_zone(tz: &str) -> ApiResult<()> {
    tz.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| {
        ApiError::field(
            "timeZone",
            format!("'{tz}' is not an IANA time zone (e.g. Pacific/Honolulu)."),
        )
    })
}

/// The admin view of an account: its profile and where it is a member.
fn user_body(world: &World, user: &User) -> Value {
    let sites: Vec<Value> = world
        .sites
        .values()
        .filter_map(|s| {
            s.role(&user.account_id)
                .map(|r| json!({ "cloudId": s.cloud_id, "name": s.name, "role": role_name(r) }))
        })
        .collect();
    json!({
        "accountId": user.account_id,
        "displayName": user.display_name,
        "email": user.login,
        "emailVisible": user.email.is_some(),
        "timeZone": user.time_zone,
        "locale": user.locale,
        "accountType": user.account_type,
        "active": user.active,
        "sites": sites,
    })
}

/// Adds `account_id` to `site` with `role`, and to the groups Jira puts such accounts in.
fn join_site(world: &mut World, cloud_id: &str, account_id: &str, role: SiteRole) {
    let Some(site) = world.site_mut(cloud_id) else {
        return;
    };
    site.members.insert(account_id.to_owned(), role);
    for group in site.groups.values_mut() {
        let joins = group.name == "jira-software-users"
            || (group.name == "site-admins" && role == SiteRole::SiteAdmin);
        if joins {
            group.members.insert(account_id.to_owned());
        }
    }
}

/// `POST /_sim/users`: adds an Atlassian account. Answers 201 with the admin view.
pub(super) async fn add_user(
    State(state): State<SimState>,
    AdminJson(new): AdminJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if new.display_name.trim().is_empty() {
        return Err(ApiError::field("displayName", "Give a display name."));
    }
    check_time_zone(&new.time_zone)?;
    if new.account_type != "atlassian" && new.account_type != "app" {
        return Err(ApiError::field(
            "accountType",
            "Must be 'atlassian' or 'app'.",
        ));
    }
    let mut world = state.world.write();
    for membership in &new.sites {
        if world.site(&membership.cloud_id).is_none() {
            return Err(ApiError::field(
                "sites",
                format!("No site with cloud id '{}'.", membership.cloud_id),
            ));
        }
    }
    let account_id = new
        .account_id
        .clone()
        .unwrap_or_else(|| crate::util::uuid().replace('-', "")[..24].to_owned());
    if account_id.is_empty() || world.users.contains_key(&account_id) {
        return Err(ApiError::field(
            "accountId",
            format!("An account with id '{account_id}' already exists."),
        ));
    }
    let login = new
        .email
        .clone()
        .unwrap_or_else(|| format!("{account_id}@users.sim.example"));
    if world
        .users
        .values()
        .any(|u| u.login.eq_ignore_ascii_case(&login))
    {
        return Err(ApiError::field(
            "email",
            format!("An account with e-mail '{login}' already exists."),
        ));
    }
    let user = User {
        account_id: account_id.clone(),
        display_name: new.display_name,
        email: new.email_visible.then(|| login.clone()),
        login,
        password: new
            .password
            .unwrap_or_else(|| crate::seed::SEED_PASSWORD.to_owned()),
        time_zone: new.time_zone,
        locale: new.locale,
        account_type: new.account_type,
        active: new.active,
    };
    world.users.insert(account_id.clone(), user);
    for membership in &new.sites {
        join_site(
            &mut world,
            &membership.cloud_id,
            &account_id,
            membership.role.into(),
        );
    }
    let body = world
        .user(&account_id)
        .map(|u| user_body(&world, u))
        .unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct UserPatch {
    display_name: Option<String>,
    email: Option<String>,
    email_visible: Option<bool>,
    time_zone: Option<String>,
    locale: Option<String>,
    active: Option<bool>,
}

/// `PATCH /_sim/users/{accountId}`: changes profile fields (time zone, active, e-mail and its
/// visibility, display name, locale).
pub(super) async fn patch_user(
    State(state): State<SimState>,
    Path(account_id): Path<String>,
    AdminJson(patch): AdminJson<UserPatch>,
) -> ApiResult<Json<Value>> {
    if let Some(tz) = &patch.time_zone {
        check_time_zone(tz)?;
    }
    let mut world = state.world.write();
    let user = world
        .users
        .get_mut(&account_id)
        .ok_or_else(|| ApiError::not_found(format!("No account with id '{account_id}'.")))?;
    let visible = patch.email_visible.unwrap_or(user.email.is_some());
    if let Some(name) = patch.display_name {
        user.display_name = name;
    }
    if let Some(email) = patch.email {
        user.login = email;
    }
    user.email = visible.then(|| user.login.clone());
    if let Some(tz) = patch.time_zone {
        user.time_zone = tz;
    }
    if let Some(locale) = patch.locale {
        user.locale = locale;
    }
    if let Some(active) = patch.active {
        user.active = active;
    }
    let body = world
        .user(&account_id)
        .map(|u| user_body(&world, u))
        .unwrap_or(Value::Null);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct NewSite {
    name: String,
    cloud_id: Option<String>,
    #[serde(default)]
    members: Vec<SiteMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SiteMember {
    account_id: String,
    #[serde(default = "default_role")]
    role: RoleArg,
}

/// `POST /_sim/sites`: adds a site with the standard Jira configuration and no projects.
/// Tokens issued earlier do not cover it (a new consent, or `POST /_sim/tokens`, does).
pub(super) async fn add_site(
    State(state): State<SimState>,
    AdminJson(new): AdminJson<NewSite>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let valid_name = !new.name.is_empty()
        && new.name.len() <= 63
        && new
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_name {
        return Err(ApiError::field(
            "name",
            "Use 1-63 lower-case letters, digits or hyphens.",
        ));
    }
    let cloud_id = match new.cloud_id {
        Some(id) => uuid::Uuid::parse_str(&id)
            .map(|u| u.hyphenated().to_string())
            .map_err(|_| ApiError::field("cloudId", "Must be a UUID."))?,
        None => crate::util::uuid(),
    };
    let mut world = state.world.write();
    if world.sites.contains_key(&cloud_id) || world.sites.values().any(|s| s.name == new.name) {
        return Err(ApiError::field(
            "name",
            "A site with this name or cloud id already exists.",
        ));
    }
    for member in &new.members {
        if !world.users.contains_key(&member.account_id) {
            return Err(ApiError::field(
                "members",
                format!("No account with id '{}'.", member.account_id),
            ));
        }
    }
    let site = crate::seed::new_site(&state.urls, &cloud_id, &new.name, &[]);
    let url = site.url.clone();
    world.sites.insert(cloud_id.clone(), site);
    for member in &new.members {
        join_site(
            &mut world,
            &cloud_id,
            &member.account_id,
            member.role.into(),
        );
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "cloudId": cloud_id, "name": new.name, "url": url })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct TokenRequest {
    account_id: String,
    scopes: Option<Vec<String>>,
    ttl_secs: Option<u64>,
    client_id: Option<String>,
    cloud_ids: Option<Vec<String>>,
}

/// `POST /_sim/tokens`: an access token for an account, as if it had consented (scopes default to
/// every classic scope, sites to every site it belongs to, lifetime to the access-token TTL).
pub(super) async fn mint_token(
    State(state): State<SimState>,
    AdminJson(request): AdminJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let now = state.clock.now_ms();
    let ttl = request
        .ttl_secs
        .unwrap_or_else(|| state.settings.read().access_token_ttl_secs);
    let mut world = state.world.write();
    if !world.users.contains_key(&request.account_id) {
        return Err(ApiError::field(
            "accountId",
            format!("No account with id '{}'.", request.account_id),
        ));
    }
    let client_id = match request.client_id {
        Some(id) if world.apps.contains_key(&id) => id,
        Some(id) => {
            return Err(ApiError::field(
                "clientId",
                format!("No app with client id '{id}'."),
            ));
        }
        None => world
            .apps
            .keys()
            .next()
            .cloned()
            .ok_or_else(|| ApiError::bad_request("No OAuth app is registered."))?,
    };
    if let Some(cloud_ids) = &request.cloud_ids
        && let Some(bad) = cloud_ids.iter().find(|c| world.site(c).is_none())
    {
        return Err(ApiError::field(
            "cloudIds",
            format!("No site with cloud id '{bad}'."),
        ));
    }
    let scopes: Vec<String> = request.scopes.unwrap_or_else(|| {
        crate::seed::CLASSIC_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    });
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let expires_at = now.saturating_add((ttl.min(i64::MAX as u64 / 2000) as i64) * 1000);
    let token = crate::oauth::issue_static_token(
        &mut world,
        &request.account_id,
        &client_id,
        &scope_refs,
        expires_at,
    );
    let Some(access) = world.oauth.access_tokens.get_mut(&token) else {
        return Err(ApiError::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The token was not stored.",
        ));
    };
    if let Some(cloud_ids) = request.cloud_ids {
        access.cloud_ids = cloud_ids;
    }
    let scope: BTreeSet<&str> = scope_refs.iter().copied().collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "accessToken": token,
            "tokenType": "Bearer",
            "expiresIn": ttl,
            "scope": scope.into_iter().collect::<Vec<_>>().join(" "),
            "accountId": request.account_id,
            "clientId": client_id,
            "cloudIds": access.cloud_ids,
        })),
    ))
}
