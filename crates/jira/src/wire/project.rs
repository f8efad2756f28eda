//! Projects (`/project`, `/project/{idOrKey}`, `/project/search`). `ProjectIdentifiers.id` is a
//! number while `Project.id` is a string; both decode into [`ProjectId`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{ProjectId, ProjectKey};
use crate::wire::user::UserDetails;

/// `POST /project`: what was created.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectIdentifiers {
    /// The project id.
    pub id: ProjectId,
    /// The project key.
    pub key: ProjectKey,
    /// Link to the project.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// The project id (always sent by Jira; absent in some trimmed captures).
    #[serde(default)]
    pub id: Option<ProjectId>,
    /// The project key.
    pub key: ProjectKey,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The description (plain text).
    #[serde(default)]
    pub description: Option<String>,
    /// The project lead.
    #[serde(default)]
    pub lead: Option<UserDetails>,
    /// `software`, `service_desk` or `business`.
    #[serde(default)]
    pub project_type_key: Option<String>,
    /// `PROJECT_LEAD` or `UNASSIGNED`.
    #[serde(default)]
    pub assignee_type: Option<String>,
    /// `classic` or `next-gen`.
    #[serde(default)]
    pub style: Option<String>,
    /// Link to the project.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Everything else (`issueTypes`, `roles`, `avatarUrls`, `insight`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn project_identifiers_take_a_numeric_id() {
        let p: ProjectIdentifiers = serde_json::from_str(
            r#"{"id":10010,"key":"EX","self":"https://x/rest/api/3/project/10010"}"#,
        )
        .unwrap();
        assert_eq!(p.id.as_str(), "10010");
    }
}
