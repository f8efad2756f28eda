//! Webhook bodies in the shape Jira Cloud delivers them: the REST v2 representation (`self` URLs
//! under `/rest/api/2/`, rich text as plain strings instead of ADF), not v3. The shapes follow
//! captured Cloud deliveries (`testdata/jira/fixtures/mattermost-plugin-jira/webhooks/`):
//!
//! - issue events: `timestamp`, `webhookEvent`, `issue_event_type_name` (not on deletions),
//!   `user`, `issue` with every field, `changelog` (`{id, items}`) on updates and, listing the
//!   fields set, on creations;
//! - comment events: `timestamp`, `webhookEvent`, `comment`, and `issue` with only `summary`,
//!   `issuetype`, `project`, `assignee`, `priority`, `status`; no `user`;
//! - property events: `timestamp`, `webhookEvent`, `issue`, `property` (`{key, value}`), `user`.
//!
//! Every body gets `matchedWebhookIds` (numbers) added by the caller.

use serde_json::{Map, Value, json};

use crate::events::{IssueEvent, IssueEventKind};
use crate::rest::access::Viewer;
use crate::rest::{adf, render};
use crate::world::{Issue, Site, SiteRole, World};

/// Fields a comment event's `issue` carries.
const COMMENT_EVENT_FIELDS: &[&str] = &[
    "summary",
    "issuetype",
    "project",
    "assignee",
    "priority",
    "status",
];

/// Renders the body of `event` as `viewer_account` (the webhook's registrant) sees the issue.
pub fn body(world: &World, event: &IssueEvent, viewer_account: &str) -> Option<Value> {
    let site = world.site(&event.cloud_id)?;
    let viewer = Viewer {
        account_id: viewer_account,
        role: site.role(viewer_account).unwrap_or(SiteRole::Member),
    };
    let options = render::IssueOptions::all_fields();
    let mut issue = render::issue(world, site, viewer, &event.issue, &options);
    // The v3 bean carries `expand`; deliveries do not.
    if let Some(obj) = issue.as_object_mut() {
        obj.remove("expand");
    }
    let mut out = Map::new();
    out.insert("timestamp".to_owned(), json!(event.at));
    out.insert("webhookEvent".to_owned(), json!(event.webhook_event_name()));
    let user = world
        .user(&event.actor)
        .map_or(Value::Null, |u| render::user_details(site, u));
    match &event.kind {
        IssueEventKind::CommentCreated(c)
        | IssueEventKind::CommentUpdated(c)
        | IssueEventKind::CommentDeleted(c) => {
            out.insert(
                "comment".to_owned(),
                render::comment(world, site, event.issue.id, c),
            );
            if let Some(fields) = issue.get_mut("fields").and_then(Value::as_object_mut) {
                fields.retain(|k, _| COMMENT_EVENT_FIELDS.contains(&k.as_str()));
            }
        }
        IssueEventKind::PropertySet { key } | IssueEventKind::PropertyDeleted { key } => {
            out.insert("user".to_owned(), user);
            let mut property = json!({ "key": key });
            if let (IssueEventKind::PropertySet { .. }, Some(v), Some(obj)) = (
                &event.kind,
                event.issue.properties.get(key),
                property.as_object_mut(),
            ) {
                obj.insert("value".to_owned(), v.clone());
            }
            out.insert("property".to_owned(), property);
        }
        IssueEventKind::Created | IssueEventKind::Deleted | IssueEventKind::Updated { .. } => {
            if let Some(name) = event_type_name(&event.kind) {
                out.insert("issue_event_type_name".to_owned(), json!(name));
            }
            out.insert("user".to_owned(), user);
            if let IssueEventKind::Updated { changelog } = &event.kind {
                let rendered = render::changelog(world, site, changelog);
                out.insert(
                    "changelog".to_owned(),
                    json!({ "id": rendered["id"], "items": rendered["items"] }),
                );
            } else if let IssueEventKind::Created = &event.kind {
                out.insert(
                    "changelog".to_owned(),
                    creation_changelog(world, site, &event.issue),
                );
            }
        }
    }
    out.insert("issue".to_owned(), issue);
    let mut body = Value::Object(out);
    to_v2(&mut body);
    Some(body)
}

/// The changelog Jira attaches to `jira:issue_created`: one item per field set at creation, each
/// from nothing (`from`/`fromString` null) to its value, as in captured Cloud deliveries. Its id is
/// the issue id, since no change-history entry exists for a creation.
fn creation_changelog(world: &World, site: &Site, issue: &Issue) -> Value {
    let item = |field: &str, field_id: &str, to: Option<String>, to_string: Option<String>| {
        json!({
            "field": field,
            "fieldtype": "jira",
            "fieldId": field_id,
            "from": null,
            "fromString": null,
            "to": to,
            "toString": to_string,
        })
    };
    let name_of = |account: &Option<String>| {
        account
            .as_deref()
            .and_then(|a| world.user(a))
            .map(|u| u.display_name.clone())
    };
    let mut items = Vec::new();
    if issue.assignee.is_some() {
        items.push(item(
            "assignee",
            "assignee",
            issue.assignee.clone(),
            name_of(&issue.assignee),
        ));
    }
    let description = issue
        .description
        .as_ref()
        .map_or_else(String::new, adf::plain_text);
    items.push(item("description", "description", None, Some(description)));
    if let Some(priority) = issue
        .priority_id
        .as_deref()
        .and_then(|id| site.jira.priority(id))
    {
        items.push(item(
            "priority",
            "priority",
            Some(priority.id.clone()),
            Some(priority.name.clone()),
        ));
    }
    if issue.reporter.is_some() {
        items.push(item(
            "reporter",
            "reporter",
            issue.reporter.clone(),
            name_of(&issue.reporter),
        ));
    }
    if let Some(status) = site.jira.status(&issue.status_id) {
        items.push(item(
            "Status",
            "status",
            Some(status.id.clone()),
            Some(status.name.clone()),
        ));
    }
    items.push(item(
        "summary",
        "summary",
        None,
        Some(issue.summary.clone()),
    ));
    json!({ "id": issue.id.to_string(), "items": items })
}

/// Jira's `issue_event_type_name` for issue events: `issue_created`; for updates
/// `issue_assigned` when only the assignee changed, `issue_generic` for workflow transitions,
/// `issue_updated` otherwise; none for deletions.
fn event_type_name(kind: &IssueEventKind) -> Option<&'static str> {
    match kind {
        IssueEventKind::Created => Some("issue_created"),
        IssueEventKind::Updated { changelog } => {
            let ids: Vec<&str> = changelog
                .items
                .iter()
                .map(|i| i.field_id.as_str())
                .collect();
            if !ids.is_empty() && ids.iter().all(|f| *f == "assignee") {
                Some("issue_assigned")
            } else if ids.contains(&"status") {
                Some("issue_generic")
            } else {
                Some("issue_updated")
            }
        }
        _ => None,
    }
}

/// Rewrites a v3 rendering into v2: ADF documents become their plain text and REST v3 URLs
/// become v2 URLs.
pub fn to_v2(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            let is_doc = obj.get("type").and_then(Value::as_str) == Some("doc")
                && obj.contains_key("version");
            if is_doc {
                let text = adf::plain_text(value);
                *value = Value::String(text);
                return;
            }
            for v in obj.values_mut() {
                to_v2(v);
            }
        }
        Value::Array(items) => {
            for v in items {
                to_v2(v);
            }
        }
        Value::String(s) if s.contains("/rest/api/3/") => {
            *s = s.replace("/rest/api/3/", "/rest/api/2/");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adf_becomes_text_and_urls_become_v2() {
        let mut body = json!({
            "self": "https://x/rest/api/3/issue/1",
            "fields": {
                "description": crate::seed::adf_paragraph("Hello"),
                "labels": ["a"],
            }
        });
        to_v2(&mut body);
        assert_eq!(body["self"], "https://x/rest/api/2/issue/1");
        assert_eq!(
            body["fields"]["description"].as_str().map(str::trim),
            Some("Hello")
        );
        assert_eq!(body["fields"]["labels"], json!(["a"]));
    }
}
