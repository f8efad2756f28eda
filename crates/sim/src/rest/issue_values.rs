//! Single field values in create, edit and transition bodies: priority, user, label, date and
//! parent references resolved against the site, shared by the system fields and the custom
//! fields of the same kinds.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::issue_fields::Op;
use crate::rest::access::Viewer;
use crate::world::{Issue, Site, World};

/// Resolves a priority reference (`{id}` or `{name}`) to its id.
pub(super) fn priority_id(site: &Site, value: &Value) -> Result<String, String> {
    if let Some(id) = value.get("id").and_then(Value::as_str) {
        return site
            .jira
            .priority(id)
            .map(|p| p.id.clone())
            .ok_or_else(|| format!("Priority with id '{id}' does not exist"));
    }
    if let Some(name) = value.get("name").and_then(Value::as_str) {
        return site
            .jira
            .priorities
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.id.clone())
            .ok_or_else(|| format!("Priority name '{name}' is not valid"));
    }
    Err("Could not find valid 'id' or 'name' in priority object.".to_owned())
}

/// Resolves a user field value (`{accountId}`; `{id}` is accepted like the spec's example;
/// `null` clears; assignee `-1` picks the project default).
pub fn user_value(
    world: &World,
    site: &Site,
    issue: &Issue,
    field: &str,
    value: &Value,
) -> Result<Option<String>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let Some(obj) = value.as_object() else {
        return Err(format!(
            "expected Object containing a 'accountId' property for {field}"
        ));
    };
    let account = obj
        .get("accountId")
        .or_else(|| obj.get("id"))
        .and_then(Value::as_str);
    let Some(account) = account else {
        if obj.get("accountId").is_some_and(Value::is_null) {
            return Ok(None);
        }
        return Err(format!(
            "expected Object containing a 'accountId' property for {field}"
        ));
    };
    let project = site.jira.projects.get(&issue.project_id);
    if field == "assignee" && account == "-1" {
        return Ok(project
            .filter(|p| p.assignee_type == "PROJECT_LEAD")
            .map(|p| p.lead.clone()));
    }
    let Some(role) = world.user(account).and_then(|_| site.role(account)) else {
        return Err(if field == "reporter" {
            "The reporter specified is not a user.".to_owned()
        } else {
            format!("User '{account}' does not exist.")
        });
    };
    if field == "assignee" {
        let viewer = Viewer {
            account_id: account,
            role,
        };
        if !project.is_some_and(|p| viewer.can_browse(site, p)) {
            return Err(format!("User '{account}' cannot be assigned issues."));
        }
    }
    Ok(Some(account.to_owned()))
}

/// Applies a labels operation to `current` and returns the new, sorted, de-duplicated list.
pub fn labels_op(current: &[String], op: &Op, field: &str) -> Result<Vec<String>, String> {
    let check = |label: &Value| -> Result<String, String> {
        let Some(label) = label.as_str() else {
            return Err(format!("Operation value must be a string for {field}"));
        };
        if label.chars().any(char::is_whitespace) {
            return Err(format!(
                "The label '{label}' contains spaces which is invalid."
            ));
        }
        if label.is_empty() {
            return Err("Label cannot be empty.".to_owned());
        }
        if label.chars().count() > 255 {
            return Err(format!(
                "The label '{label}' exceeds the maximum length for a single label of 255 characters."
            ));
        }
        Ok(label.to_owned())
    };
    let mut labels: Vec<String> = match op {
        Op::Set(v) | Op::Edit(v) => match v {
            Value::Null => Vec::new(),
            Value::Array(items) => items.iter().map(check).collect::<Result<_, _>>()?,
            _ => return Err(format!("Operation value must be an array for {field}")),
        },
        Op::Add(v) => {
            let mut labels = current.to_vec();
            labels.push(check(v)?);
            labels
        }
        Op::Remove(v) => {
            let removed = check(v)?;
            current.iter().filter(|l| **l != removed).cloned().collect()
        }
    };
    labels.sort();
    labels.dedup();
    Ok(labels)
}

/// Parses a `YYYY-MM-DD` date value.
pub fn parse_date(value: &Value) -> Result<String, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("Error parsing date string: {text}"))
}

/// Resolves a parent reference (`{key}` / `{id}`; `{"none": true}` or `null` removes) and checks
/// the hierarchy: subtasks under standard issues of the same project, standard issues under epics.
pub(super) fn parent_value(
    site: &Site,
    issue: &Issue,
    value: &Value,
) -> Result<Option<u64>, String> {
    if value.is_null() || value.get("none").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    let reference = value
        .get("key")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| match value.get("id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .ok_or_else(|| "Could not find issue by id or key.".to_owned())?;
    let parent = site
        .jira
        .resolve_issue(&reference)
        .and_then(|id| site.jira.issues.get(&id))
        .ok_or_else(|| "Could not find issue by id or key.".to_owned())?;
    let level = |type_id: &str| {
        site.jira
            .issue_type(type_id)
            .map_or(0, |t| t.hierarchy_level)
    };
    if parent.id == issue.id || level(&parent.issue_type_id) != level(&issue.issue_type_id) + 1 {
        return Err("Given parent issue does not belong to appropriate hierarchy.".to_owned());
    }
    if level(&issue.issue_type_id) < 0 && parent.project_id != issue.project_id {
        return Err("Given parent issue does not belong to appropriate hierarchy.".to_owned());
    }
    Ok(Some(parent.id))
}

/// The select options of a custom field as `allowedValues` (`CustomFieldOption` objects).
pub fn option_json(site: &Site, id: &str, value: &str) -> Value {
    json!({
        "self": format!("{}/rest/api/3/customFieldOption/{id}", site.url),
        "value": value,
        "id": id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_deduplicated_and_checked() {
        let current = vec!["b".to_owned()];
        let added = labels_op(&current, &Op::Add(json!("a")), "labels").expect("valid");
        assert_eq!(added, vec!["a", "b"]);
        let removed = labels_op(&added, &Op::Remove(json!("b")), "labels").expect("valid");
        assert_eq!(removed, vec!["a"]);
        let set = labels_op(&current, &Op::Set(json!(["z", "z", "y"])), "labels").expect("valid");
        assert_eq!(set, vec!["y", "z"]);
        assert_eq!(
            labels_op(&current, &Op::Add(json!("a b")), "labels"),
            Err("The label 'a b' contains spaces which is invalid.".to_owned())
        );
    }

    #[test]
    fn dates_must_be_iso_days() {
        assert_eq!(
            parse_date(&json!("2026-02-28")),
            Ok("2026-02-28".to_owned())
        );
        assert_eq!(
            parse_date(&json!("2026-02-30")),
            Err("Error parsing date string: 2026-02-30".to_owned())
        );
    }
}
