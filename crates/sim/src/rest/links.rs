//! REST v3 endpoints: issue link types and issue links.
//!
//! `POST /issueLink` answers 201 with an empty body and no id (Jira's behaviour); a duplicate of
//! an existing link is reported as created without making a second one, but its comment is still
//! added. The optional comment goes on the outward ("from") issue; when it is invalid nothing is
//! created. Creating or deleting a link bumps `updated` on both issues and records a `Link`
//! changelog item on each, worded from that issue's side ("This issue blocks DEMO-2").

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::events::IssueEventKind;
use crate::gateway::Caller;
use crate::rest::access::{Viewer, issue_or_404, issue_site_of};
use crate::rest::{adf, render};
use crate::state::SimState;
use crate::world::{
    ChangeHistory, ChangeItem, Comment, IssueLink, LinkType, Site, Visibility, World,
};

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/issueLinkType", get(list_types))
        .route("/issueLinkType/{issueLinkTypeId}", get(get_type))
        .route("/issueLink", post(create))
        .route("/issueLink/{linkId}", get(get_link).delete(delete_link))
}

fn linking_disabled() -> ApiError {
    ApiError::not_found("Issue linking is disabled.")
}

fn require_linking(site: &Site) -> ApiResult<()> {
    if site.jira.settings.linking_enabled {
        Ok(())
    } else {
        Err(linking_disabled())
    }
}

/// An `IssueLinkType`.
fn link_type(site: &Site, t: &LinkType) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "inward": t.inward,
        "outward": t.outward,
        "self": format!("{}/issueLinkType/{}", render::rest_base(site), t.id),
    })
}

/// `GET /issueLinkType`: `IssueLinkTypes`.
async fn list_types(State(state): State<SimState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    require_linking(site)?;
    let types: Vec<Value> = site
        .jira
        .link_types
        .iter()
        .map(|t| link_type(site, t))
        .collect();
    Ok(Json(json!({ "issueLinkTypes": types })))
}

/// `GET /issueLinkType/{id}`: `IssueLinkType`.
async fn get_type(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    require_linking(site)?;
    if id.parse::<u64>().is_err() {
        return Err(ApiError::bad_request(format!(
            "The issue link type ID '{id}' is invalid."
        )));
    }
    let t = site
        .jira
        .link_types
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| ApiError::not_found(format!("No issue link type with id '{id}' found.")))?;
    Ok(Json(link_type(site, t)))
}

/// Finds link `id` whose two issues the caller may both see.
fn visible_link<'s>(site: &'s Site, caller: &Caller, id: &str) -> ApiResult<&'s IssueLink> {
    require_linking(site)?;
    let n: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("The issue link ID '{id}' is invalid.")))?;
    let not_found = || ApiError::not_found(format!("No issue link with id '{id}' exists."));
    let link = site.jira.links.get(&n).ok_or_else(not_found)?;
    let viewer = Viewer::from(caller);
    let sees = |issue_id: u64| {
        site.jira
            .issues
            .get(&issue_id)
            .is_some_and(|i| viewer.can_see_issue(site, i))
    };
    if sees(link.inward_issue_id) && sees(link.outward_issue_id) {
        Ok(link)
    } else {
        Err(not_found())
    }
}

/// `GET /issueLink/{linkId}`: `IssueLink`.
async fn get_link(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_scope("read:jira-work")?;
    let world = state.world.read();
    let site = issue_site_of(&world, &caller)?;
    let link = visible_link(site, &caller, &id)?;
    let issue = |issue_id: u64| {
        site.jira
            .issues
            .get(&issue_id)
            .map_or(Value::Null, |i| render::issue_ref(site, i))
    };
    let ty = site
        .jira
        .link_types
        .iter()
        .find(|t| t.id == link.type_id)
        .map_or(Value::Null, |t| link_type(site, t));
    Ok(Json(json!({
        "id": link.id.to_string(),
        "self": format!("{}/issueLink/{}", render::rest_base(site), link.id),
        "type": ty,
        "inwardIssue": issue(link.inward_issue_id),
        "outwardIssue": issue(link.outward_issue_id),
    })))
}

/// `{id}` or `{key}` of a `LinkedIssue`, or `{id}`/`{name}` of an `IssueLinkType`.
fn reference<'v>(body: &'v Value, field: &str, keys: &[&str]) -> ApiResult<Option<&'v str>> {
    let Some(obj) = body.get(field) else {
        return Ok(None);
    };
    if obj.is_null() {
        return Ok(None);
    }
    let Some(obj) = obj.as_object() else {
        return Err(ApiError::bad_request(INVALID_PAYLOAD));
    };
    for key in keys {
        match obj.get(*key) {
            Some(Value::String(s)) if !s.trim().is_empty() => return Ok(Some(s.trim())),
            Some(Value::Number(_)) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
            _ => {}
        }
    }
    Ok(None)
}

/// What `POST /issueLink` asks for, resolved.
struct LinkRequest {
    type_id: String,
    inward: u64,
    outward: u64,
    comment: Option<(Value, Option<Visibility>)>,
}

fn read_request(body: &Value, site: &Site, caller: &Caller) -> ApiResult<LinkRequest> {
    if !body.is_object() {
        return Err(ApiError::bad_request(INVALID_PAYLOAD));
    }
    let ty = reference(body, "type", &["id", "name"])?;
    let inward = reference(body, "inwardIssue", &["id", "key"])?;
    let outward = reference(body, "outwardIssue", &["id", "key"])?;
    let mut errors = std::collections::BTreeMap::new();
    if ty.is_none() {
        errors.insert(
            "issueLinkType".to_owned(),
            "Issue link type is required.".to_owned(),
        );
    }
    if inward.is_none() {
        errors.insert(
            "inwardIssue".to_owned(),
            "Inward issue is required.".to_owned(),
        );
    }
    if outward.is_none() {
        errors.insert(
            "outwardIssue".to_owned(),
            "Outward issue is required.".to_owned(),
        );
    }
    let (Some(ty), Some(inward), Some(outward)) = (ty, inward, outward) else {
        return Err(ApiError::collection(StatusCode::BAD_REQUEST, [], errors));
    };
    let by_id = body.pointer("/type/id").and_then(Value::as_str).is_some();
    let link_type = site
        .jira
        .link_types
        .iter()
        .find(|t| {
            if by_id {
                t.id == ty
            } else {
                t.name.eq_ignore_ascii_case(ty)
            }
        })
        .ok_or_else(|| {
            let what = if by_id { "id" } else { "name" };
            ApiError::not_found(format!("No issue link type with {what} '{ty}' found."))
        })?;
    let viewer = Viewer::from(caller);
    let inward = issue_or_404(site, viewer, inward)?;
    let outward = issue_or_404(site, viewer, outward)?;
    if inward.id == outward.id {
        return Err(ApiError::bad_request("You cannot link an issue to itself."));
    }
    let comment = match body.get("comment") {
        None | Some(Value::Null) => None,
        Some(c) => Some(read_comment(c, site, caller)?),
    };
    Ok(LinkRequest {
        type_id: link_type.id.clone(),
        inward: inward.id,
        outward: outward.id,
        comment,
    })
}

/// The link's comment: an ADF body (Jira's comment messages) and an optional group or role
/// restriction the caller holds.
fn read_comment(c: &Value, site: &Site, caller: &Caller) -> ApiResult<(Value, Option<Visibility>)> {
    let body = match c.get("body") {
        None | Some(Value::Null) => {
            return Err(ApiError::field("comment", "Comment body can not be empty!"));
        }
        Some(b) => b,
    };
    if adf::validate(body).is_err() {
        return Err(ApiError::field("comment", "Comment body is not valid!"));
    }
    if adf::plain_text(body).trim().is_empty() {
        return Err(ApiError::field("comment", "Comment body can not be empty!"));
    }
    let visibility = match c.get("visibility") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
            let value = v
                .get("value")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_default();
            let identifier = v
                .get("identifier")
                .and_then(Value::as_str)
                .map(str::to_owned);
            match kind {
                "group" => {
                    let group = identifier
                        .as_deref()
                        .and_then(|id| site.groups.get(id))
                        .or_else(|| site.group_by_name(&value))
                        .ok_or_else(|| {
                            ApiError::field(
                                "commentLevel",
                                format!("Group: {value} does not exist."),
                            )
                        })?;
                    if !group.members.contains(&caller.account_id) {
                        return Err(ApiError::field(
                            "commentLevel",
                            format!(
                                "You are currently not a member of the group: {}.",
                                group.name
                            ),
                        ));
                    }
                    Some(Visibility {
                        kind: "group".to_owned(),
                        value: group.name.clone(),
                        identifier: Some(group.group_id.clone()),
                    })
                }
                "role" if !value.is_empty() => Some(Visibility {
                    kind: "role".to_owned(),
                    value,
                    identifier: None,
                }),
                _ => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
            }
        }
    };
    Ok((body.clone(), visibility))
}

/// A `Link` changelog item, from one issue's side: `to`/`from` hold the other issue's key.
fn link_item(other_key: &str, description: &str, added: bool) -> ChangeItem {
    let text = Some(format!("This issue {description} {other_key}"));
    let key = Some(other_key.to_owned());
    ChangeItem {
        field: "Link".to_owned(),
        field_id: "issuelinks".to_owned(),
        field_type: "jira".to_owned(),
        from: if added { None } else { key.clone() },
        from_string: if added { None } else { text.clone() },
        to: if added { key } else { None },
        to_string: if added { text } else { None },
    }
}

/// Records a link added or removed on both issues and publishes an update for each.
fn record_link_change(
    state: &SimState,
    world: &mut World,
    caller: &Caller,
    link: &IssueLink,
    added: bool,
    now: i64,
) {
    let Some(site) = world.site(&caller.cloud_id) else {
        return;
    };
    let key_of = |id: u64| site.jira.issues.get(&id).map(|i| i.key.clone());
    let (Some(inward_key), Some(outward_key)) =
        (key_of(link.inward_issue_id), key_of(link.outward_issue_id))
    else {
        return;
    };
    let Some(ty) = site
        .jira
        .link_types
        .iter()
        .find(|t| t.id == link.type_id)
        .cloned()
    else {
        return;
    };
    // The outward issue "blocks" the inward one; the inward one "is blocked by" the outward.
    let sides = [
        (
            link.outward_issue_id,
            link_item(&inward_key, &ty.outward, added),
        ),
        (
            link.inward_issue_id,
            link_item(&outward_key, &ty.inward, added),
        ),
    ];
    for (issue_id, item) in sides {
        let history_id = world.allocate_id();
        let Some(issue) = world
            .site_mut(&caller.cloud_id)
            .and_then(|s| s.jira.issues.get_mut(&issue_id))
        else {
            continue;
        };
        let changelog = ChangeHistory {
            id: history_id,
            author: caller.account_id.clone(),
            created: now,
            items: vec![item],
        };
        issue.changelog.push(changelog.clone());
        issue.updated = now;
        let snapshot = issue.clone();
        state.publish(
            world,
            caller.event(snapshot, IssueEventKind::Updated { changelog }, now),
        );
    }
}

/// `POST /issueLink`: 201, empty body.
async fn create(
    State(state): State<SimState>,
    caller: Caller,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    caller.require_scope("write:jira-work")?;
    let body: Value =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::bad_request(INVALID_PAYLOAD))?;
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = issue_site_of(world, &caller)?;
    require_linking(site)?;
    let request = read_request(&body, site, &caller)?;
    let existing = site.jira.links.values().any(|l| {
        l.type_id == request.type_id
            && l.inward_issue_id == request.inward
            && l.outward_issue_id == request.outward
    });
    if !existing {
        let limit = site.jira.settings.max_links_per_issue;
        let count = |issue_id: u64| {
            site.jira
                .links
                .values()
                .filter(|l| l.inward_issue_id == issue_id || l.outward_issue_id == issue_id)
                .count()
        };
        if count(request.inward) >= limit || count(request.outward) >= limit {
            return Err(ApiError::message(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The per-issue limit of {limit} issue links has been breached."),
            ));
        }
        let id = world.allocate_id();
        let link = IssueLink {
            id,
            type_id: request.type_id.clone(),
            inward_issue_id: request.inward,
            outward_issue_id: request.outward,
        };
        if let Some(site) = world.site_mut(&caller.cloud_id) {
            site.jira.links.insert(id, link.clone());
        }
        record_link_change(&state, world, &caller, &link, true, now);
    }
    if let Some((body, visibility)) = request.comment {
        add_comment(
            &state,
            world,
            &caller,
            request.outward,
            body,
            visibility,
            now,
        );
    }
    Ok(StatusCode::CREATED)
}

/// Adds the link's comment to the outward issue and publishes `comment_created`.
fn add_comment(
    state: &SimState,
    world: &mut World,
    caller: &Caller,
    issue_id: u64,
    body: Value,
    visibility: Option<Visibility>,
    now: i64,
) {
    let comment = Comment {
        id: world.allocate_id(),
        body,
        author: caller.account_id.clone(),
        update_author: caller.account_id.clone(),
        created: now,
        updated: now,
        visibility,
    };
    let Some(issue) = world
        .site_mut(&caller.cloud_id)
        .and_then(|s| s.jira.issues.get_mut(&issue_id))
    else {
        return;
    };
    issue.comments.push(comment.clone());
    issue.updated = now;
    let snapshot = issue.clone();
    state.publish(
        world,
        caller.event(snapshot, IssueEventKind::CommentCreated(comment), now),
    );
}

/// `DELETE /issueLink/{linkId}`: 204.
async fn delete_link(
    State(state): State<SimState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_scope("write:jira-work")?;
    let now = state.clock.now_ms();
    let mut guard = state.world.write();
    let world = &mut *guard;
    let site = issue_site_of(world, &caller)?;
    let link = visible_link(site, &caller, &id)?.clone();
    if let Some(site) = world.site_mut(&caller.cloud_id) {
        site.jira.links.remove(&link.id);
    }
    record_link_change(&state, world, &caller, &link, false, now);
    Ok(StatusCode::NO_CONTENT)
}
