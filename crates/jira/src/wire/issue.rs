//! Issues as Jira sends them: `IssueBean` (get, search, edit with `returnIssue`), its typed system
//! fields plus a map for everything else (custom fields included), `CreatedIssue`, transitions
//! and the issue types of the paged create metadata. Field entries of createmeta and editmeta are
//! [`crate::fields::FieldMetadata`], shared with the field catalog.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{IssueId, IssueKey, IssueTypeId, TransitionId};
use crate::time::Timestamp;
use crate::wire::user::UserDetails;

/// An issue. `id` and `key` are absent in some trimmed payloads; `fields` holds only what was
/// requested (search defaults to ids only, so always ask for fields).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueBean {
    /// Numeric id.
    #[serde(default)]
    pub id: Option<IssueId>,
    /// Key.
    #[serde(default)]
    pub key: Option<IssueKey>,
    /// Link on the site host (do not follow with a 3LO token).
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Requested fields.
    #[serde(default)]
    pub fields: IssueFields,
    /// `expand=renderedFields`: HTML renderings.
    #[serde(default)]
    pub rendered_fields: Option<Map<String, Value>>,
    /// `expand=names`: field id to display name.
    #[serde(default)]
    pub names: Option<Map<String, Value>>,
    /// `expand=schema`: field id to schema.
    #[serde(default)]
    pub schema: Option<Map<String, Value>>,
    /// `expand=transitions`.
    #[serde(default)]
    pub transitions: Option<Vec<Transition>>,
    /// `expand=changelog` (kept raw; the changelog module types it).
    #[serde(default)]
    pub changelog: Option<Value>,
    /// `properties=..`: requested entity properties.
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
    /// Everything else (`expand`, `operations`, `editmeta`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The system fields jiraflow reads, typed; every other field (custom fields, `components`,
/// `fixVersions`, ...) stays raw in `extra` keyed by field id.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueFields {
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Description (an ADF document in v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Issue type.
    #[serde(default, rename = "issuetype", skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<NamedRef>,
    /// Project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<NamedRef>,
    /// Priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<NamedRef>,
    /// Resolution (`null` while unresolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<NamedRef>,
    /// Assignee (`null` when unassigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<UserDetails>,
    /// Reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<UserDetails>,
    /// Creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<UserDetails>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// Parent (sub-tasks and child issues), raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Value>,
    /// Created.
    #[serde(
        default,
        with = "crate::time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<Timestamp>,
    /// Last updated (the polling cursor).
    #[serde(
        default,
        with = "crate::time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated: Option<Timestamp>,
    /// Resolved at.
    #[serde(
        default,
        with = "crate::time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub resolutiondate: Option<Timestamp>,
    /// Due date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duedate: Option<String>,
    /// Every other field by id.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IssueFields {
    /// Any field by id: typed system fields re-serialized, others from `extra`.
    pub fn get(&self, field_id: &str) -> Option<Value> {
        if let Some(value) = self.extra.get(field_id) {
            return Some(value.clone());
        }
        match serde_json::to_value(self) {
            Ok(Value::Object(mut map)) => map.remove(field_id),
            _ => None,
        }
    }
}

/// A reference to a named entity (issue type, project, priority, resolution, ...).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedRef {
    /// Id (string or number in the wild).
    #[serde(
        default,
        deserialize_with = "lenient_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// Key (projects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An issue status.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Id.
    #[serde(
        default,
        deserialize_with = "lenient_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// Name (`In Progress`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Category (`new`, `indeterminate`, `done`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_category: Option<NamedRef>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `201` answer of create issue.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedIssue {
    /// New issue id.
    pub id: IssueId,
    /// New issue key.
    pub key: IssueKey,
    /// Link on the site host.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Outcome of a transition in the create body (`{status, errorCollection}`): a failed
    /// transition does not fail the create.
    #[serde(default)]
    pub transition: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A workflow transition available from an issue's current status.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// Id (what do-transition takes).
    pub id: TransitionId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Target status.
    #[serde(default)]
    pub to: Option<Status>,
    /// Whether it can be done now.
    #[serde(default)]
    pub is_available: Option<bool>,
    /// Whether it has a screen.
    #[serde(default)]
    pub has_screen: Option<bool>,
    /// Screen fields (`expand=transitions.fields`).
    #[serde(default)]
    pub fields: Option<Map<String, Value>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /issue/{key}/transitions`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Transitions {
    /// The transitions.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An issue type as create metadata lists it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMetaIssueType {
    /// Id.
    pub id: IssueTypeId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it is a sub-task type.
    #[serde(default)]
    pub subtask: Option<bool>,
    /// Hierarchy level (-1 sub-task, 0 standard, 1 epic).
    #[serde(default)]
    pub hierarchy_level: Option<i64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /issue/createmeta/{project}/issuetypes` (legacy offset page with a named array).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMetaIssueTypesPage {
    /// The issue types (`issueTypes`; older responses call it `createMetaIssueType`).
    #[serde(default, alias = "createMetaIssueType")]
    pub issue_types: Vec<CreateMetaIssueType>,
    /// Offset.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// Page size the server used.
    #[serde(default)]
    pub max_results: Option<u64>,
    /// Total (may change between pages).
    #[serde(default)]
    pub total: Option<u64>,
}

/// Accepts a string or number for an optional id.
fn lenient_opt_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}
