//! Issue links and link types (`/issueLink`, `/issueLinkType`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{IssueId, IssueKey, IssueLinkId, IssueLinkTypeId};

/// A link type such as `Blocks` ("blocks" / "is blocked by").
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueLinkType {
    /// The id.
    #[serde(default)]
    pub id: Option<IssueLinkTypeId>,
    /// The name (`Blocks`).
    #[serde(default)]
    pub name: Option<String>,
    /// The inward description (`is blocked by`).
    #[serde(default)]
    pub inward: Option<String>,
    /// The outward description (`blocks`).
    #[serde(default)]
    pub outward: Option<String>,
    /// Link to the type.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /issueLinkType`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueLinkTypes {
    /// The link types.
    #[serde(default)]
    pub issue_link_types: Vec<IssueLinkType>,
}

/// One end of a link: an issue, with a few fields.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedIssue {
    /// The issue id.
    #[serde(default)]
    pub id: Option<IssueId>,
    /// The issue key.
    #[serde(default)]
    pub key: Option<IssueKey>,
    /// Link to the issue.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// `summary`, `status`, `priority`, `issuetype`, when sent.
    #[serde(default)]
    pub fields: Option<Map<String, Value>>,
}

/// `GET /issueLink/{linkId}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueLink {
    /// The link id.
    #[serde(default)]
    pub id: Option<IssueLinkId>,
    /// The link type.
    #[serde(default, rename = "type")]
    pub link_type: Option<IssueLinkType>,
    /// The inward ("is blocked by") issue.
    #[serde(default)]
    pub inward_issue: Option<LinkedIssue>,
    /// The outward ("blocks") issue.
    #[serde(default)]
    pub outward_issue: Option<LinkedIssue>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
