//! Field values in create, edit and transition bodies: turns `fields` and `update` into changes
//! on an issue, validating every value per field kind with Jira's error messages
//! (`errors.<fieldId>`), and records the changelog items of what changed.
//!
//! Changes are applied to a copy of the issue; the caller writes it back only when every field
//! validated, so a 400 leaves the issue untouched like Jira's.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::adf;
use super::field_defs::{self, FieldInfo, Writable};
use super::issue_fields_custom as custom;
use super::issue_values::{labels_op, parent_value, parse_date, priority_id, user_value};
use crate::world::{ChangeItem, Issue, Site, World};

/// Field errors keyed by field id, as Jira reports them in `errors`.
pub type FieldErrors = BTreeMap<String, String>;

/// Which operation the body belongs to: decides which fields may be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `POST /issue` (project and issue type are handled by the caller).
    Create,
    /// `PUT /issue/{key}`.
    Edit,
    /// `POST /issue/{key}/transitions`; `resolves` tells whether the transition's screen has the
    /// resolution field.
    Transition {
        /// The transition sets a resolution.
        resolves: bool,
    },
}

/// One operation from `update` (or the implicit `set` of `fields`).
#[derive(Debug, Clone)]
pub enum Op {
    /// Replace the value.
    Set(Value),
    /// Add to a multi-value field.
    Add(Value),
    /// Remove from a multi-value field.
    Remove(Value),
    /// Edit (labels: replace the value, like `set`).
    Edit(Value),
}

/// What applying a body did besides changing fields.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Changelog items, in field order.
    pub items: Vec<ChangeItem>,
    /// ADF bodies of comments added through `update.comment`.
    pub comments: Vec<Value>,
    /// Resolution chosen on a resolving transition's screen.
    pub resolution: Option<String>,
}

/// The message for fields that are unknown, not on the screen, or not writable.
pub fn cannot_be_set(field: &str) -> String {
    format!("Field '{field}' cannot be set. It is not on the appropriate screen, or unknown.")
}

/// Collects `fields` and `update` into per-field operation lists. A field in both is an error.
pub fn collect_ops(
    fields: Option<&Map<String, Value>>,
    update: Option<&Map<String, Value>>,
) -> Result<Vec<(String, Vec<Op>)>, FieldErrors> {
    let mut ops: Vec<(String, Vec<Op>)> = Vec::new();
    let mut errors = FieldErrors::new();
    if let Some(fields) = fields {
        for (id, value) in fields {
            ops.push((id.clone(), vec![Op::Set(value.clone())]));
        }
    }
    if let Some(update) = update {
        for (id, list) in update {
            if fields.is_some_and(|f| f.contains_key(id)) {
                errors.insert(
                    id.clone(),
                    format!("Field '{id}' cannot appear in both 'fields' and 'update'"),
                );
                continue;
            }
            let Some(list) = list.as_array() else {
                errors.insert(id.clone(), "Field operations must be an array.".to_owned());
                continue;
            };
            let mut field_ops = Vec::new();
            for entry in list {
                let Some(obj) = entry.as_object().filter(|o| o.len() == 1) else {
                    errors.insert(
                        id.clone(),
                        "Each operation must be an object with one of set, add, remove, edit."
                            .to_owned(),
                    );
                    break;
                };
                for (name, value) in obj {
                    let op = match name.as_str() {
                        "set" => Op::Set(value.clone()),
                        "add" => Op::Add(value.clone()),
                        "remove" => Op::Remove(value.clone()),
                        "edit" => Op::Edit(value.clone()),
                        other => {
                            errors.insert(
                                id.clone(),
                                format!("Operation '{other}' is not supported for field '{id}'."),
                            );
                            continue;
                        }
                    };
                    field_ops.push(op);
                }
            }
            ops.push((id.clone(), field_ops));
        }
    }
    if errors.is_empty() {
        Ok(ops)
    } else {
        Err(errors)
    }
}

/// Applies `ops` to `issue` (a working copy). Returns the outcome, or every field error found.
pub fn apply(
    world: &World,
    site: &Site,
    issue: &mut Issue,
    ops: &[(String, Vec<Op>)],
    mode: Mode,
) -> Result<Outcome, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut outcome = Outcome::default();
    for (id, field_ops) in ops {
        if mode == Mode::Create && (id == "project" || id == "issuetype") {
            continue;
        }
        if id == "comment" && mode != Mode::Create {
            match comment_ops(field_ops) {
                Ok(mut bodies) => outcome.comments.append(&mut bodies),
                Err(message) => {
                    errors.insert(id.clone(), message);
                }
            }
            continue;
        }
        if let Mode::Transition { resolves } = mode {
            if id == "resolution" && resolves {
                match resolution_value(field_ops) {
                    Ok(name) => outcome.resolution = Some(name),
                    Err(message) => {
                        errors.insert(id.clone(), message);
                    }
                }
            } else {
                errors.insert(id.clone(), cannot_be_set(id));
            }
            continue;
        }
        let Some(info) = field_defs::field(site, id) else {
            errors.insert(id.clone(), cannot_be_set(id));
            continue;
        };
        let settable = match info.writable {
            Writable::Yes => true,
            Writable::CreateOnly => mode == Mode::Create,
            Writable::No => false,
        };
        if !settable {
            errors.insert(id.clone(), cannot_be_set(id));
            continue;
        }
        for op in field_ops {
            match apply_one(world, site, issue, &info, op, &mut outcome.items) {
                Ok(()) => {}
                Err(message) => {
                    errors.insert(id.clone(), message);
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(outcome)
    } else {
        Err(errors)
    }
}

fn comment_ops(ops: &[Op]) -> Result<Vec<Value>, String> {
    let mut bodies = Vec::new();
    for op in ops {
        let Op::Add(value) = op else {
            return Err("Only the add operation is supported for comments.".to_owned());
        };
        let body = value.get("body").cloned().unwrap_or(Value::Null);
        adf::validate(&body).map_err(|e| e.message().to_owned())?;
        bodies.push(body);
    }
    Ok(bodies)
}

fn resolution_value(ops: &[Op]) -> Result<String, String> {
    let value = match ops.last() {
        Some(Op::Set(v) | Op::Edit(v)) => v,
        _ => return Err("Only the set operation is supported for resolution.".to_owned()),
    };
    let by_name = value.get("name").and_then(Value::as_str);
    let by_id = value.get("id").and_then(Value::as_str);
    super::render::RESOLUTIONS
        .iter()
        .find(|(id, name, _)| by_name == Some(name) || by_id == Some(id))
        .map(|(_, name, _)| (*name).to_owned())
        .ok_or_else(|| {
            format!(
                "Resolution '{}' is not valid",
                by_name.or(by_id).unwrap_or_default()
            )
        })
}

/// Display form of an account for changelog strings.
fn display_name(world: &World, account: Option<&str>) -> Option<String> {
    account
        .and_then(|a| world.user(a))
        .map(|u| u.display_name.clone())
}

fn item(
    info: &FieldInfo,
    from: Option<String>,
    from_string: Option<String>,
    to: Option<String>,
    to_string: Option<String>,
) -> ChangeItem {
    // Jira names system fields by id in lower case and custom fields by their display name.
    let field = if info.custom {
        info.name.clone()
    } else if info.id == "parent" {
        "IssueParentAssociation".to_owned()
    } else {
        info.id.clone()
    };
    ChangeItem {
        field,
        field_id: info.id.clone(),
        field_type: if info.custom { "custom" } else { "jira" }.to_owned(),
        from,
        from_string,
        to,
        to_string,
    }
}

fn set_value(op: &Op, field: &str) -> Result<Value, String> {
    match op {
        Op::Set(v) => Ok(v.clone()),
        Op::Edit(v) if field == "labels" => Ok(v.clone()),
        _ => Err(format!(
            "Field '{field}' does not support this operation; use set."
        )),
    }
}

fn apply_one(
    world: &World,
    site: &Site,
    issue: &mut Issue,
    info: &FieldInfo,
    op: &Op,
    items: &mut Vec<ChangeItem>,
) -> Result<(), String> {
    if info.custom {
        return custom::apply(world, site, issue, info, op, items);
    }
    match info.id.as_str() {
        "summary" => {
            let value = set_value(op, "summary")?;
            let summary = match &value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                _ => return Err("Operation value must be a string".to_owned()),
            };
            if summary.trim().is_empty() {
                return Err("You must specify a summary of the issue.".to_owned());
            }
            if summary.chars().count() > 255 {
                return Err("Summary must be less than 255 characters.".to_owned());
            }
            if summary != issue.summary {
                items.push(item(
                    info,
                    None,
                    Some(issue.summary.clone()),
                    None,
                    Some(summary.clone()),
                ));
                issue.summary = summary;
            }
        }
        "description" | "environment" => {
            let value = set_value(op, &info.id)?;
            let new = if value.is_null() {
                None
            } else {
                adf::validate(&value).map_err(|e| e.message().to_owned())?;
                Some(value)
            };
            let slot = if info.id == "description" {
                &mut issue.description
            } else {
                &mut issue.environment
            };
            if *slot != new {
                items.push(item(
                    info,
                    None,
                    slot.as_ref().map(adf::plain_text),
                    None,
                    new.as_ref().map(adf::plain_text),
                ));
                *slot = new;
            }
        }
        "priority" => {
            let value = set_value(op, "priority")?;
            let new = if value.is_null() {
                site.jira
                    .priorities
                    .iter()
                    .find(|p| p.is_default)
                    .map(|p| p.id.clone())
            } else {
                Some(priority_id(site, &value)?)
            };
            if new != issue.priority_id {
                let name = |id: &Option<String>| {
                    id.as_deref()
                        .and_then(|i| site.jira.priority(i))
                        .map(|p| p.name.clone())
                };
                items.push(item(
                    info,
                    issue.priority_id.clone(),
                    name(&issue.priority_id),
                    new.clone(),
                    name(&new),
                ));
                issue.priority_id = new;
            }
        }
        "assignee" | "reporter" => {
            let value = set_value(op, &info.id)?;
            let new = user_value(world, site, issue, &info.id, &value)?;
            let slot = if info.id == "assignee" {
                &mut issue.assignee
            } else {
                &mut issue.reporter
            };
            if *slot != new {
                items.push(item(
                    info,
                    slot.clone(),
                    display_name(world, slot.as_deref()),
                    new.clone(),
                    display_name(world, new.as_deref()),
                ));
                *slot = new;
            }
        }
        "labels" => {
            let new = labels_op(&issue.labels, op, "labels")?;
            if new != issue.labels {
                items.push(item(
                    info,
                    None,
                    Some(issue.labels.join(" ")),
                    None,
                    Some(new.join(" ")),
                ));
                issue.labels = new;
            }
        }
        "duedate" => {
            let value = set_value(op, "duedate")?;
            let new = match &value {
                Value::Null => None,
                v => Some(parse_date(v)?),
            };
            if new != issue.duedate {
                let long = |d: &Option<String>| d.as_ref().map(|d| format!("{d} 00:00:00.0"));
                items.push(item(
                    info,
                    issue.duedate.clone(),
                    long(&issue.duedate),
                    new.clone(),
                    long(&new),
                ));
                issue.duedate = new;
            }
        }
        "parent" => {
            let value = set_value(op, "parent")?;
            let new = parent_value(site, issue, &value)?;
            if new != issue.parent_id {
                let key = |id: Option<u64>| {
                    id.and_then(|i| site.jira.issues.get(&i))
                        .map(|i| i.key.clone())
                };
                items.push(item(
                    info,
                    issue.parent_id.map(|i| i.to_string()),
                    key(issue.parent_id),
                    new.map(|i| i.to_string()),
                    key(new),
                ));
                issue.parent_id = new;
            }
        }
        other => return Err(cannot_be_set(other)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_field_in_both_fields_and_update_is_an_error() {
        let fields = json!({"labels": ["a"]});
        let update = json!({"labels": [{"add": "b"}], "summary": [{"set": "x"}]});
        let errors = collect_ops(fields.as_object(), update.as_object()).expect_err("conflict");
        assert!(errors.contains_key("labels"));
        assert!(!errors.contains_key("summary"));
    }
}
