//! Identifier newtypes for the Jira resources jiraflow touches, so an issue id never mixes with an
//! issue key or an account id. Jira sends several ids as strings in one schema and as numbers in
//! another (attachment ids, project ids, comment ids in `/comment/list`), so every id deserializes
//! from either and serializes as a string.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Accepts a JSON string or number and yields its text.
fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Signed(i64),
        Unsigned(u64),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::Text(text) => text,
        Raw::Signed(n) => n.to_string(),
        Raw::Unsigned(n) => n.to_string(),
    })
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps the raw text.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The raw text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the raw text.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                string_or_number(deserializer).map(Self)
            }
        }
    };
}

string_id!(
    /// A numeric issue id (`"10001"`); stable across project moves, unlike the key.
    IssueId
);
string_id!(
    /// An issue key (`"PROJ-12"`); changes when the issue moves to another project.
    IssueKey
);
string_id!(
    /// An Atlassian account id, the only user identifier REST v3 accepts.
    AccountId
);
string_id!(
    /// The cloud id (UUID) of a Jira site, the `{cloudId}` in `api.atlassian.com/ex/jira/{cloudId}`.
    CloudId
);
string_id!(
    /// A numeric project id.
    ProjectId
);
string_id!(
    /// A project key (`"PROJ"`).
    ProjectKey
);
string_id!(
    /// An issue type id.
    IssueTypeId
);
string_id!(
    /// A workflow transition id (only meaningful for one issue's current status).
    TransitionId
);
string_id!(
    /// A field id: a system field (`"summary"`) or a custom field (`"customfield_10016"`).
    FieldId
);
string_id!(
    /// An issue id or an issue key, as every `/issue/{issueIdOrKey}` path accepts.
    IssueRef
);
string_id!(
    /// A project id or key, as `{projectIdOrKey}` paths accept.
    ProjectRef
);

string_id!(
    /// A comment id (`"10000"`; a number in `/comment/list`).
    CommentId
);
string_id!(
    /// An attachment id (a string in `Attachment`, a number in `AttachmentMetadata`).
    AttachmentId
);
string_id!(
    /// A group id (UUID); stable across renames, unlike the group name.
    GroupId
);
string_id!(
    /// A dynamic webhook id (numeric; unique per site only).
    WebhookId
);
string_id!(
    /// An issue link id.
    IssueLinkId
);
string_id!(
    /// An issue link type id.
    IssueLinkTypeId
);

impl From<IssueId> for IssueRef {
    fn from(value: IssueId) -> Self {
        Self(value.0)
    }
}

impl From<&IssueId> for IssueRef {
    fn from(value: &IssueId) -> Self {
        Self(value.0.clone())
    }
}

impl From<IssueKey> for IssueRef {
    fn from(value: IssueKey) -> Self {
        Self(value.0)
    }
}

impl From<&IssueKey> for IssueRef {
    fn from(value: &IssueKey) -> Self {
        Self(value.0.clone())
    }
}

impl From<ProjectId> for ProjectRef {
    fn from(value: ProjectId) -> Self {
        Self(value.0)
    }
}

impl From<ProjectKey> for ProjectRef {
    fn from(value: ProjectKey) -> Self {
        Self(value.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_deserialize_from_strings_and_numbers_and_serialize_as_strings() {
        let from_number: IssueId = serde_json::from_str("10001").unwrap();
        let from_string: IssueId = serde_json::from_str("\"10001\"").unwrap();
        assert_eq!(from_number, from_string);
        assert_eq!(serde_json::to_string(&from_number).unwrap(), "\"10001\"");
    }

    #[test]
    fn an_issue_key_converts_into_an_issue_reference() {
        let key = IssueKey::new("PROJ-1");
        assert_eq!(IssueRef::from(&key).as_str(), "PROJ-1");
    }
}
