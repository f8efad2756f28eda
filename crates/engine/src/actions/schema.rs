//! The JSON Schema of every action's input, generated from the input types, so editors, the
//! `jiraflow action NAME --schema` command and the documentation drift check all read the same
//! source of truth.

use serde_json::Value;

use super::{attachments, comments, files, groups, issues, links, projects, upserts, watchers};
use crate::flow::Action;

/// The JSON Schema of `action`'s input.
pub fn input_schema(action: Action) -> Value {
    let schema = match action {
        Action::AddAttachment => schemars::schema_for!(attachments::AddAttachmentInput),
        Action::AddUserToGroup | Action::RemoveUserFromGroup => {
            schemars::schema_for!(groups::MembershipInput)
        }
        Action::AddWatcher | Action::DeleteWatcher => schemars::schema_for!(watchers::WatcherInput),
        Action::CreateComment => schemars::schema_for!(comments::CreateCommentInput),
        Action::CreateGroup => schemars::schema_for!(groups::CreateGroupInput),
        Action::CreateIssue => schemars::schema_for!(issues::CreateIssueInput),
        Action::CreateIssueLink => schemars::schema_for!(links::CreateIssueLinkInput),
        Action::CreateProject => schemars::schema_for!(projects::CreateProjectInput),
        Action::GetAttachmentContent => {
            schemars::schema_for!(attachments::GetAttachmentContentInput)
        }
        Action::GetComments => schemars::schema_for!(comments::GetCommentsInput),
        Action::GetIssues => schemars::schema_for!(issues::GetIssuesInput),
        Action::RemoveGroup => schemars::schema_for!(groups::RemoveGroupInput),
        Action::UpdateComment => schemars::schema_for!(comments::UpdateCommentInput),
        Action::UpdateIssue => schemars::schema_for!(issues::UpdateIssueInput),
        Action::UpdateProject => schemars::schema_for!(projects::UpdateProjectInput),
        Action::UpsertComment => schemars::schema_for!(upserts::comment::UpsertCommentInput),
        Action::UpsertIssue => schemars::schema_for!(upserts::issue::UpsertIssueInput),
        Action::TestConnection => schemars::schema_for!(issues::TestConnectionInput),
        Action::GetFile => schemars::schema_for!(files::GetFileInput),
        Action::AttachFile => schemars::schema_for!(files::AttachFileInput),
        Action::DeleteFile => schemars::schema_for!(files::DeleteFileInput),
    };
    schema.to_value()
}

/// The top-level input fields of `action`, sorted.
pub fn input_fields(action: Action) -> Vec<String> {
    let mut fields: Vec<String> = input_schema(action)
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default();
    fields.sort();
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_an_object_schema_for_its_input() {
        for action in Action::ALL {
            let schema = input_schema(*action);
            assert_eq!(schema["type"], "object", "{action}: {schema}");
        }
    }

    #[test]
    fn the_action_documentation_names_every_input_field_of_every_action() {
        let docs = include_str!("../../../../docs/actions.md");
        let mut missing = Vec::new();
        for action in Action::ALL {
            let name = action.name();
            let Some(start) = docs.find(&format!("### {name}\n")) else {
                missing.push(format!("{name}: no entry"));
                continue;
            };
            // The action's entry runs to the next heading.
            let rest = &docs[start..];
            let end = rest[4..].find("\n#").map_or(rest.len(), |i| i + 4);
            let entry = &rest[..end];
            for field in input_fields(*action) {
                if !entry.contains(&format!("`{field}`")) {
                    missing.push(format!("{name}.{field}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "docs/actions.md does not document: {}",
            missing.join(", ")
        );
    }
}
