//! Reading comment create and update bodies: the ADF body (with Jira's comment-specific
//! messages), the visibility restriction (which the caller must hold) and entity properties.

use serde_json::Value;

use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::rest::adf;
use crate::world::{Project, Site, Visibility};

use crate::rest::access::Viewer;

/// `errors.comment` for a body that is not an ADF document (a v2-style string, a number, an
/// invalid document). Real v3 answers comments with this, not with the "Operation value must be
/// an Atlassian Document" text that rich-text *fields* get.
const BODY_NOT_VALID: &str = "Comment body is not valid!";
/// `errors.comment` for a missing or empty body.
const BODY_EMPTY: &str = "Comment body can not be empty!";
/// Project roles a comment can be restricted to (Jira Cloud's default role set).
const ROLES: &[&str] = &[
    "Administrators",
    "Developers",
    "Member",
    "Users",
    "Viewer",
    "atlassian-addons-project-access",
];

/// What a create or update body asks for.
pub(super) struct CommentInput {
    /// The ADF body.
    pub(super) body: Value,
    /// `None`: leave as is (update) / unrestricted (create); `Some(None)`: clear.
    pub(super) visibility: Option<Option<Visibility>>,
    /// Entity properties to set.
    pub(super) properties: Vec<(String, Value)>,
}

fn comment_error(message: &str) -> ApiError {
    ApiError::field("comment", message)
}

fn level_error(message: String) -> ApiError {
    ApiError::field("commentLevel", message)
}

/// An ADF document with nothing in it (no blocks, or only empty paragraphs).
fn is_empty_document(doc: &Value) -> bool {
    match doc.get("content").and_then(Value::as_array) {
        None => true,
        Some(blocks) => blocks.iter().all(|b| {
            b.get("type").and_then(Value::as_str) == Some("paragraph")
                && b.get("content")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
        }),
    }
}

pub(super) fn read_input(
    raw: &Value,
    site: &Site,
    project: Option<&Project>,
    viewer: Viewer<'_>,
) -> ApiResult<CommentInput> {
    let Some(obj) = raw.as_object() else {
        return Err(ApiError::bad_request(INVALID_PAYLOAD));
    };
    let body = match obj.get("body") {
        None | Some(Value::Null) => return Err(comment_error(BODY_EMPTY)),
        Some(Value::String(s)) if s.trim().is_empty() => return Err(comment_error(BODY_EMPTY)),
        Some(doc) => doc,
    };
    if adf::validate(body).is_err() {
        return Err(comment_error(BODY_NOT_VALID));
    }
    if is_empty_document(body) {
        return Err(comment_error(BODY_EMPTY));
    }
    let visibility = match obj.get("visibility") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(read_visibility(v, site, project, viewer)?)),
    };
    let properties = match obj.get("properties") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let key = item
                    .get("key")
                    .and_then(Value::as_str)
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))?;
                if key.chars().count() > 255 {
                    return Err(ApiError::bad_request(
                        "The property key cannot be longer than 255 characters.",
                    ));
                }
                let value = item.get("value").cloned().unwrap_or(Value::Null);
                if value.to_string().len() > 32_768 {
                    return Err(ApiError::bad_request(
                        "The property value cannot be longer than 32768 characters.",
                    ));
                }
                Ok((key.to_owned(), value))
            })
            .collect::<ApiResult<Vec<_>>>()?,
        Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
    };
    Ok(CommentInput {
        body: body.clone(),
        visibility,
        properties,
    })
}

/// Checks a requested restriction: the group or role must exist and the caller must hold it
/// (Jira refuses to let anyone hide a comment from themselves).
fn read_visibility(
    v: &Value,
    site: &Site,
    project: Option<&Project>,
    viewer: Viewer<'_>,
) -> ApiResult<Visibility> {
    let kind = v.get("type").and_then(Value::as_str);
    let value = v
        .get("value")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let identifier = v
        .get("identifier")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match kind {
        Some("group") => {
            let group = identifier
                .and_then(|id| site.groups.get(id))
                .or_else(|| value.and_then(|name| site.group_by_name(name)));
            let Some(group) = group else {
                let shown = identifier.or(value).unwrap_or("null");
                return Err(level_error(format!("Group: {shown} does not exist.")));
            };
            if !group.members.contains(viewer.account_id) {
                return Err(level_error(format!(
                    "You are currently not a member of the group: {}.",
                    group.name
                )));
            }
            Ok(Visibility {
                kind: "group".to_owned(),
                value: group.name.clone(),
                identifier: Some(group.group_id.clone()),
            })
        }
        Some("role") => {
            let wanted = identifier.or(value).unwrap_or("null");
            let Some(role) = ROLES.iter().find(|r| r.eq_ignore_ascii_case(wanted)) else {
                return Err(level_error(if identifier.is_some() {
                    format!("Role with id: {wanted} does not exist.")
                } else {
                    format!("Role with name: {wanted} does not exist.")
                }));
            };
            let holds = match *role {
                "Administrators" => project.is_some_and(|p| viewer.administers_project(p)),
                // Held by app accounts only; people are never in it.
                "atlassian-addons-project-access" => false,
                _ => true,
            };
            if !holds {
                return Err(level_error(format!(
                    "You are currently not a member of the project role: {role}."
                )));
            }
            Ok(Visibility {
                kind: "role".to_owned(),
                value: (*role).to_owned(),
                identifier: Some((*role).to_owned()),
            })
        }
        _ => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_without_blocks_or_with_only_empty_paragraphs_are_empty() {
        assert!(is_empty_document(
            &json!({"type":"doc","version":1,"content":[]})
        ));
        assert!(is_empty_document(
            &json!({"type":"doc","version":1,"content":[{"type":"paragraph"}]})
        ));
        assert!(!is_empty_document(&crate::seed::adf_paragraph("hi")));
        assert!(!is_empty_document(
            &json!({"type":"doc","version":1,"content":[{"type":"rule"}]})
        ));
    }
}
