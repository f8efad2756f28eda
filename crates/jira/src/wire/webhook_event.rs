//! Webhook deliveries (`jira:issue_created`, `jira:issue_updated`, `comment_created`, ...), read
//! tolerantly: deliveries carry REST v2 representations (plain-string descriptions and comment
//! bodies, not ADF), `timestamp` is epoch milliseconds, and most members depend on the event.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time::Timestamp;
use crate::wire::issue::IssueBean;
use crate::wire::user::UserDetails;

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// The event name (`jira:issue_updated`, `comment_created`, ...).
    #[serde(default)]
    pub webhook_event: Option<String>,
    /// When it happened.
    #[serde(default, with = "crate::time::option")]
    pub timestamp: Option<Timestamp>,
    /// The finer issue event (`issue_assigned`, `issue_generic`, ...).
    #[serde(default)]
    pub issue_event_type_name: Option<String>,
    /// Who caused it.
    #[serde(default)]
    pub user: Option<UserDetails>,
    /// The issue, in v2 representation.
    #[serde(default)]
    pub issue: Option<IssueBean>,
    /// The comment of comment events.
    #[serde(default)]
    pub comment: Option<WebhookComment>,
    /// What changed (issue events).
    #[serde(default)]
    pub changelog: Option<Changelog>,
    /// The ids of the app's webhooks that matched (dynamic webhooks).
    #[serde(default)]
    pub matched_webhook_ids: Option<Vec<Value>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WebhookEvent {
    /// The event name, or `""` when absent.
    pub fn event(&self) -> &str {
        self.webhook_event.as_deref().unwrap_or_default()
    }
}

/// A comment as webhooks carry it (`body` is a v2 string).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookComment {
    /// Comment id.
    #[serde(default)]
    pub id: Option<crate::ids::CommentId>,
    /// Body (wiki-markup string in deliveries; ADF elsewhere).
    #[serde(default)]
    pub body: Option<Value>,
    /// Author.
    #[serde(default)]
    pub author: Option<UserDetails>,
    /// Last editor.
    #[serde(default)]
    pub update_author: Option<UserDetails>,
    /// Created.
    #[serde(default, with = "crate::time::option")]
    pub created: Option<Timestamp>,
    /// Updated.
    #[serde(default, with = "crate::time::option")]
    pub updated: Option<Timestamp>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The change set of an issue event.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Changelog {
    /// Change id.
    #[serde(default)]
    pub id: Option<Value>,
    /// Changed items.
    #[serde(default)]
    pub items: Vec<ChangeItem>,
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    /// Field name.
    #[serde(default)]
    pub field: Option<String>,
    /// `jira` or `custom`.
    #[serde(default)]
    pub fieldtype: Option<String>,
    /// Field id.
    #[serde(default)]
    pub field_id: Option<String>,
    /// Old raw value.
    #[serde(default)]
    pub from: Option<Value>,
    /// Old display value.
    #[serde(default)]
    pub from_string: Option<String>,
    /// New raw value.
    #[serde(default)]
    pub to: Option<Value>,
    /// New display value.
    #[serde(default)]
    pub to_string: Option<String>,
}
