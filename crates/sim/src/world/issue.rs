//! Issues and what hangs off them: comments, attachments (metadata), links and the changelog.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::AccountId;
use crate::clock::EpochMs;

/// An issue. System fields are typed; custom field values are kept as the JSON Jira would return.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issue {
    /// Numeric id.
    pub id: u64,
    /// Current key (`DEMO-12`).
    pub key: String,
    /// Project id.
    pub project_id: u64,
    /// Issue type id.
    pub issue_type_id: String,
    /// Summary (plain string).
    pub summary: String,
    /// Description as ADF, if any.
    pub description: Option<serde_json::Value>,
    /// Environment as ADF, if any.
    pub environment: Option<serde_json::Value>,
    /// Status id.
    pub status_id: String,
    /// Resolution name (`Done`) when resolved.
    pub resolution: Option<String>,
    /// When it was resolved.
    pub resolution_date: Option<EpochMs>,
    /// Priority id.
    pub priority_id: Option<String>,
    /// Assignee.
    pub assignee: Option<AccountId>,
    /// Reporter.
    pub reporter: Option<AccountId>,
    /// Creator.
    pub creator: AccountId,
    /// Labels.
    pub labels: Vec<String>,
    /// Due date, `YYYY-MM-DD`.
    pub duedate: Option<String>,
    /// Parent issue id (subtasks, children of epics).
    pub parent_id: Option<u64>,
    /// Creation instant.
    pub created: EpochMs,
    /// Last update instant (any field change, comment, attachment, link, watcher is not one).
    pub updated: EpochMs,
    /// Custom field values by field id, already in response shape.
    pub custom_fields: BTreeMap<String, serde_json::Value>,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Attachment ids, oldest first.
    pub attachment_ids: Vec<u64>,
    /// Watchers.
    pub watchers: BTreeSet<AccountId>,
    /// Issue entity properties.
    pub properties: BTreeMap<String, serde_json::Value>,
    /// Change history, oldest first.
    pub changelog: Vec<ChangeHistory>,
}

/// A comment on an issue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    /// Numeric id (rendered as a string in `Comment`, as a number in `comment/list` ids).
    pub id: u64,
    /// Body as ADF.
    pub body: serde_json::Value,
    /// Author.
    pub author: AccountId,
    /// Last editor.
    pub update_author: AccountId,
    /// Creation instant.
    pub created: EpochMs,
    /// Last edit instant.
    pub updated: EpochMs,
    /// Restriction to a group or role, if any.
    pub visibility: Option<Visibility>,
}

/// A comment visibility restriction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Visibility {
    /// `group` or `role`.
    pub kind: String,
    /// Group name or role name.
    pub value: String,
    /// Group id for groups.
    pub identifier: Option<String>,
}

/// Attachment metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    /// Numeric id.
    pub id: u64,
    /// Issue it belongs to.
    pub issue_id: u64,
    /// File name as uploaded (UTF-8).
    pub filename: String,
    /// Media type.
    pub mime_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Upload instant.
    pub created: EpochMs,
    /// Uploader.
    pub author: AccountId,
}

/// A link between two issues.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssueLink {
    /// Numeric id.
    pub id: u64,
    /// Link type id.
    pub type_id: String,
    /// The inward issue ("is blocked by" side).
    pub inward_issue_id: u64,
    /// The outward issue ("blocks" side).
    pub outward_issue_id: u64,
}

/// One entry of an issue's change history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeHistory {
    /// Numeric id.
    pub id: u64,
    /// Who made the change.
    pub author: AccountId,
    /// When.
    pub created: EpochMs,
    /// What changed.
    pub items: Vec<ChangeItem>,
}

/// One field change inside a [`ChangeHistory`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeItem {
    /// Field name (`status`, `summary`, custom field name).
    pub field: String,
    /// Field id (`status`, `customfield_10010`).
    pub field_id: String,
    /// `jira` for system fields, `custom` for custom fields.
    pub field_type: String,
    /// Old raw value (ids for references).
    pub from: Option<String>,
    /// Old display value.
    pub from_string: Option<String>,
    /// New raw value.
    pub to: Option<String>,
    /// New display value.
    pub to_string: Option<String>,
}
