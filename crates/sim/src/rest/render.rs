//! Response bodies in the shapes of the official spec (`User`, `IssueBean`, `Comment`, ...),
//! rendered from the world model. Every endpoint that returns these entities renders them here.
//! The `IssueBean` itself (field selection, expansions) lives in `issue_bean.rs` and is re-exported
//! from here as [`issue`] and [`IssueRenderer`].

use serde_json::{Value, json};

use crate::clock::jira_timestamp;
use crate::world::{
    Attachment, ChangeHistory, Comment, Issue, IssueType, Priority, Project, Site, Status,
    StatusCategory, User, Visibility, World,
};

/// Base URL of a site's REST v3 API as it appears in `self` links (the site host, not the
/// gateway, exactly as real Jira does).
pub fn rest_base(site: &Site) -> String {
    format!("{}/rest/api/3", site.url)
}

/// Avatar URLs for an account (Jira always returns the four sizes).
pub fn avatar_urls(account_id: &str) -> Value {
    let base = format!("https://avatar-management.example/avatars/{account_id}");
    json!({
        "48x48": format!("{base}/48"),
        "24x24": format!("{base}/24"),
        "16x16": format!("{base}/16"),
        "32x32": format!("{base}/32"),
    })
}

/// A `User` as embedded in other entities (`UserDetails`: no groups, no application roles).
pub fn user_details(site: &Site, user: &User) -> Value {
    let mut body = json!({
        "self": format!("{}/user?accountId={}", rest_base(site), user.account_id),
        "accountId": user.account_id,
        "avatarUrls": avatar_urls(&user.account_id),
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": user.time_zone,
        "accountType": user.account_type,
    });
    if let (Some(email), Some(obj)) = (&user.email, body.as_object_mut()) {
        obj.insert("emailAddress".to_owned(), json!(email));
    }
    body
}

/// A full `User` (as `/myself` and `/user/search` return it).
pub fn user(site: &Site, user: &User) -> Value {
    let mut body = user_details(site, user);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("locale".to_owned(), json!(user.locale));
    }
    body
}

/// A user reference by account id: `UserDetails`, or `null` when the account is unknown (deleted
/// accounts render as null like unassigned fields).
pub fn user_ref(world: &World, site: &Site, account_id: Option<&str>) -> Value {
    match account_id.and_then(|a| world.user(a)) {
        Some(u) => user_details(site, u),
        None => Value::Null,
    }
}

/// A `StatusCategory`.
pub fn status_category(site: &Site, category: StatusCategory) -> Value {
    let (id, key, color, name) = match category {
        StatusCategory::ToDo => (2, "new", "blue-gray", "To Do"),
        StatusCategory::InProgress => (4, "indeterminate", "yellow", "In Progress"),
        StatusCategory::Done => (3, "done", "green", "Done"),
    };
    json!({
        "self": format!("{}/statuscategory/{id}", rest_base(site)),
        "id": id,
        "key": key,
        "colorName": color,
        "name": name,
    })
}

/// A `StatusDetails` with its category.
pub fn status(site: &Site, status: &Status) -> Value {
    json!({
        "self": format!("{}/status/{}", rest_base(site), status.id),
        "description": status.description,
        "iconUrl": format!("{}/images/icons/statuses/generic.png", site.url),
        "name": status.name,
        "id": status.id,
        "statusCategory": status_category(site, status.category),
    })
}

/// An `IssueTypeDetails`.
pub fn issue_type(site: &Site, issue_type: &IssueType) -> Value {
    let avatar_id = match issue_type.hierarchy_level {
        1 => 10307,
        -1 => 10316,
        _ => 10318,
    };
    json!({
        "self": format!("{}/issuetype/{}", rest_base(site), issue_type.id),
        "id": issue_type.id,
        "description": issue_type.description,
        "iconUrl": format!(
            "{}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{avatar_id}?size=medium",
            site.url
        ),
        "name": issue_type.name,
        "subtask": issue_type.subtask,
        "avatarId": avatar_id,
        "hierarchyLevel": issue_type.hierarchy_level,
    })
}

/// A `Priority` as embedded in issues (`self`, `iconUrl`, `name`, `id`).
pub fn priority_ref(site: &Site, priority: &Priority) -> Value {
    json!({
        "self": format!("{}/priority/{}", rest_base(site), priority.id),
        "iconUrl": format!(
            "{}/images/icons/priorities/{}.svg",
            site.url,
            priority.name.to_lowercase()
        ),
        "name": priority.name,
        "id": priority.id,
    })
}

/// A full `Priority` (the `/priority` endpoints).
pub fn priority(site: &Site, priority: &Priority) -> Value {
    let mut body = priority_ref(site, priority);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("statusColor".to_owned(), json!(priority.status_color));
        obj.insert(
            "description".to_owned(),
            json!(format!("{} priority.", priority.name)),
        );
        obj.insert("isDefault".to_owned(), json!(priority.is_default));
    }
    body
}

/// The four project avatar URLs.
pub fn project_avatar_urls(site: &Site, project_id: u64) -> Value {
    let base = format!(
        "{}/rest/api/3/universal_avatar/view/type/project/avatar/10400",
        site.url
    );
    json!({
        "48x48": format!("{base}?pid={project_id}&size=large"),
        "24x24": format!("{base}?pid={project_id}&size=small"),
        "16x16": format!("{base}?pid={project_id}&size=xsmall"),
        "32x32": format!("{base}?pid={project_id}&size=medium"),
    })
}

/// A project as embedded in issues (`ProjectDetails`-like).
pub fn project_ref(site: &Site, project: &Project) -> Value {
    json!({
        "self": format!("{}/project/{}", rest_base(site), project.id),
        "id": project.id.to_string(),
        "key": project.key,
        "name": project.name,
        "projectTypeKey": project.project_type_key,
        "simplified": false,
        "avatarUrls": project_avatar_urls(site, project.id),
    })
}

/// Jira's default resolutions: (id, name, description).
pub const RESOLUTIONS: &[(&str, &str, &str)] = &[
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
    (
        "10002",
        "Duplicate",
        "The problem is a duplicate of an existing issue.",
    ),
    (
        "10003",
        "Cannot Reproduce",
        "This issue couldn't be reproduced.",
    ),
];

/// A `Resolution` by name (unknown names get id `10000`'s shape with their own name).
pub fn resolution(site: &Site, name: &str) -> Value {
    let (id, name, description) = RESOLUTIONS
        .iter()
        .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or(("10000", name, ""));
    json!({
        "self": format!("{}/resolution/{id}", rest_base(site)),
        "id": id,
        "description": description,
        "name": name,
    })
}

/// A comment `Visibility`.
pub fn visibility(visibility: &Visibility) -> Value {
    let mut body = json!({ "type": visibility.kind, "value": visibility.value });
    if let (Some(identifier), Some(obj)) = (&visibility.identifier, body.as_object_mut()) {
        obj.insert("identifier".to_owned(), json!(identifier));
    }
    body
}

/// A `Comment` of `issue_id`.
pub fn comment(world: &World, site: &Site, issue_id: u64, comment: &Comment) -> Value {
    let mut body = json!({
        "self": format!("{}/issue/{issue_id}/comment/{}", rest_base(site), comment.id),
        "id": comment.id.to_string(),
        "author": user_ref(world, site, Some(&comment.author)),
        "body": comment.body,
        "updateAuthor": user_ref(world, site, Some(&comment.update_author)),
        "created": jira_timestamp(comment.created),
        "updated": jira_timestamp(comment.updated),
        "jsdPublic": true,
    });
    if let (Some(v), Some(obj)) = (&comment.visibility, body.as_object_mut()) {
        obj.insert("visibility".to_owned(), visibility(v));
    }
    body
}

/// An attachment as listed in `fields.attachment` and returned by upload.
pub fn attachment(world: &World, site: &Site, attachment: &Attachment) -> Value {
    let base = rest_base(site);
    let mut body = json!({
        "self": format!("{base}/attachment/{}", attachment.id),
        "id": attachment.id.to_string(),
        "filename": attachment.filename,
        "author": user_ref(world, site, Some(&attachment.author)),
        "created": jira_timestamp(attachment.created),
        "size": attachment.size,
        "mimeType": attachment.mime_type,
        "content": format!("{base}/attachment/content/{}", attachment.id),
    });
    if attachment.mime_type.starts_with("image/")
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert(
            "thumbnail".to_owned(),
            json!(format!("{base}/attachment/thumbnail/{}", attachment.id)),
        );
    }
    body
}

/// A `Changelog` entry (one history with its items).
pub fn changelog(world: &World, site: &Site, history: &ChangeHistory) -> Value {
    let items: Vec<Value> = history
        .items
        .iter()
        .map(|i| {
            json!({
                "field": i.field,
                "fieldtype": i.field_type,
                "fieldId": i.field_id,
                "from": i.from,
                "fromString": i.from_string,
                "to": i.to,
                "toString": i.to_string,
            })
        })
        .collect();
    json!({
        "id": history.id.to_string(),
        "author": user_ref(world, site, Some(&history.author)),
        "created": jira_timestamp(history.created),
        "items": items,
    })
}

/// A minimal issue reference (`{id, key, self, fields:{summary,status,priority,issuetype}}`) as
/// used for parents, subtasks and linked issues.
pub fn issue_ref(site: &Site, issue: &Issue) -> Value {
    let mut fields = serde_json::Map::new();
    fields.insert("summary".to_owned(), json!(issue.summary));
    if let Some(s) = site.jira.status(&issue.status_id) {
        fields.insert("status".to_owned(), status(site, s));
    }
    if let Some(p) = issue
        .priority_id
        .as_deref()
        .and_then(|p| site.jira.priority(p))
    {
        fields.insert("priority".to_owned(), priority_ref(site, p));
    }
    if let Some(t) = site.jira.issue_type(&issue.issue_type_id) {
        fields.insert("issuetype".to_owned(), issue_type(site, t));
    }
    json!({
        "id": issue.id.to_string(),
        "key": issue.key,
        "self": format!("{}/issue/{}", rest_base(site), issue.id),
        "fields": fields,
    })
}

pub use super::issue_bean::{
    Expand, FieldSelection, IssueOptions, IssueRenderer, PropertySelection, issue,
};
