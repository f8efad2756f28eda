//! Comments (`/issue/{key}/comment`, `/comment/list`) and the `visibility` restriction they and
//! issue links share. Comment ids are strings in `Comment` but numbers in `/comment/list`; both
//! decode into [`CommentId`]. Bodies are ADF documents, kept as JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::CommentId;
use crate::time::Timestamp;
use crate::wire::property::EntityProperty;
use crate::wire::user::UserDetails;

/// Who may see a comment: members of a group or holders of a project role.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Visibility {
    /// `group` or `role`.
    #[serde(rename = "type")]
    pub kind: VisibilityKind,
    /// The group name or role name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The group id or role name; preferred for groups, whose names are mutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

impl Visibility {
    /// Visible to members of the group with this id (ids survive renames; names do not).
    pub fn group_id(id: impl Into<String>) -> Self {
        Self {
            kind: VisibilityKind::Group,
            value: None,
            identifier: Some(id.into()),
        }
    }

    /// Visible to members of the group with this name.
    pub fn group_name(name: impl Into<String>) -> Self {
        Self {
            kind: VisibilityKind::Group,
            value: Some(name.into()),
            identifier: None,
        }
    }

    /// Visible to holders of the project role with this name.
    pub fn role(name: impl Into<String>) -> Self {
        Self {
            kind: VisibilityKind::Role,
            value: Some(name.into()),
            identifier: None,
        }
    }
}

/// The kind of a [`Visibility`] restriction.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VisibilityKind {
    /// A group.
    Group,
    /// A project role.
    Role,
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// The comment id.
    pub id: CommentId,
    /// Link to the comment (site host).
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Who wrote it.
    #[serde(default)]
    pub author: Option<UserDetails>,
    /// Who last changed it.
    #[serde(default)]
    pub update_author: Option<UserDetails>,
    /// The body as an ADF document.
    #[serde(default)]
    pub body: Option<Value>,
    /// The body as HTML (`expand=renderedBody`).
    #[serde(default)]
    pub rendered_body: Option<String>,
    /// When it was written.
    #[serde(default, with = "crate::time::option")]
    pub created: Option<Timestamp>,
    /// When it was last changed.
    #[serde(default, with = "crate::time::option")]
    pub updated: Option<Timestamp>,
    /// The restriction, if any.
    #[serde(default)]
    pub visibility: Option<Visibility>,
    /// Whether a service-desk customer can see it.
    #[serde(default)]
    pub jsd_public: Option<bool>,
    /// Comment properties (only with `expand=properties`).
    #[serde(default)]
    pub properties: Option<Vec<EntityProperty>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /issue/{key}/comment`: the legacy offset page with a named `comments` array.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageOfComments {
    /// Index of the first comment on this page.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// Page size the server used.
    #[serde(default)]
    pub max_results: Option<u64>,
    /// Number of comments on the issue.
    #[serde(default)]
    pub total: Option<u64>,
    /// The comments.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_decodes_with_jira_timestamps_and_keeps_unknown_members() {
        let c: Comment = serde_json::from_str(
            r#"{"id":"10000","author":{"accountId":"5b1","displayName":"Ada"},
                "body":{"type":"doc","version":1,"content":[]},
                "created":"2021-01-17T12:34:00.000+0000","updated":"2021-01-17T12:34:00.000+0000",
                "visibility":{"type":"role","value":"Administrators","identifier":"Administrators"},
                "jsdPublic":true,"futureMember":1}"#,
        )
        .unwrap();
        assert_eq!(c.id.as_str(), "10000");
        assert_eq!(c.visibility.unwrap().kind, VisibilityKind::Role);
        assert!(c.created.is_some());
        assert_eq!(c.extra["futureMember"], 1);
    }

    #[test]
    fn comment_ids_may_arrive_as_numbers() {
        let c: Comment = serde_json::from_str(r#"{"id":10001,"created":null}"#).unwrap();
        assert_eq!(c.id.as_str(), "10001");
        assert!(c.created.is_none());
    }

    #[test]
    fn a_group_visibility_by_id_serializes_without_a_value() {
        let v = serde_json::to_value(Visibility::group_id("g-1")).unwrap();
        assert_eq!(v, serde_json::json!({"type":"group","identifier":"g-1"}));
    }
}
