//! Custom field values in create/edit bodies: validation per field kind (number, text, textarea
//! ADF, date, date-time, select, multi-select, cascading select, user picker, labels) and
//! conversion to the response shape stored on the issue.

use chrono::{DateTime, NaiveDate};
use serde_json::{Value, json};

use super::adf;
use super::field_defs::FieldInfo;
use super::issue_fields::{self, Op};
use super::issue_values::{self, option_json};
use crate::clock::jira_timestamp;
use crate::world::{ChangeItem, FieldDef, FieldKind, Issue, Site, World};

/// Applies one operation on custom field `info` of `issue`.
pub fn apply(
    world: &World,
    site: &Site,
    issue: &mut Issue,
    info: &FieldInfo,
    op: &Op,
    items: &mut Vec<ChangeItem>,
) -> Result<(), String> {
    let Some(def) = site.jira.custom_fields.get(&info.id) else {
        return Err(issue_fields::cannot_be_set(&info.id));
    };
    let old = issue.custom_fields.get(&def.id).cloned();
    let new = match (def.kind, op) {
        (FieldKind::Labels, op) => {
            let current: Vec<String> = old
                .as_ref()
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let labels = issue_values::labels_op(&current, op, &def.id)?;
            (!labels.is_empty()).then(|| json!(labels))
        }
        (FieldKind::MultiSelect, Op::Add(v)) => {
            let mut options = old
                .as_ref()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let option = select_option(site, def, v)?;
            if !options.iter().any(|o| o.get("id") == option.get("id")) {
                options.push(option);
            }
            Some(Value::Array(options))
        }
        (FieldKind::MultiSelect, Op::Remove(v)) => {
            let option = select_option(site, def, v)?;
            let options: Vec<Value> = old
                .as_ref()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|o| o.get("id") != option.get("id"))
                .collect();
            (!options.is_empty()).then_some(Value::Array(options))
        }
        (_, Op::Set(v)) => {
            if v.is_null() {
                None
            } else {
                Some(convert(world, site, issue, def, v)?).filter(|v| !v.is_null())
            }
        }
        _ => {
            return Err(format!(
                "Field '{}' does not support this operation; use set.",
                def.id
            ));
        }
    };
    if new != old {
        let (from, from_string) = describe(world, def, old.as_ref());
        let (to, to_string) = describe(world, def, new.as_ref());
        items.push(ChangeItem {
            field: def.name.clone(),
            field_id: def.id.clone(),
            field_type: "custom".to_owned(),
            from,
            from_string,
            to,
            to_string,
        });
        match new {
            Some(v) => issue.custom_fields.insert(def.id.clone(), v),
            None => issue.custom_fields.remove(&def.id),
        };
    }
    Ok(())
}

/// Converts a `set` value into the stored (response) shape.
fn convert(
    world: &World,
    site: &Site,
    issue: &Issue,
    def: &FieldDef,
    value: &Value,
) -> Result<Value, String> {
    match def.kind {
        FieldKind::TextField => {
            let text = value
                .as_str()
                .ok_or_else(|| "Operation value must be a string".to_owned())?;
            if text.chars().count() > 255 {
                return Err(
                    "The entered text is too long. It exceeds the allowed limit of 255 characters."
                        .to_owned(),
                );
            }
            Ok(json!(text))
        }
        FieldKind::TextArea => {
            adf::validate(value).map_err(|e| e.message().to_owned())?;
            Ok(value.clone())
        }
        FieldKind::Number => {
            if value.is_number() {
                Ok(value.clone())
            } else {
                Err("Operation value must be a number".to_owned())
            }
        }
        FieldKind::Date => Ok(json!(issue_values::parse_date(value)?)),
        FieldKind::DateTime => {
            let text = value.as_str().unwrap_or_default();
            let parsed = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
                .or_else(|_| DateTime::parse_from_rfc3339(text))
                .map(|d| d.timestamp_millis())
                .or_else(|_| {
                    NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| {
                        d.and_hms_opt(0, 0, 0)
                            .map_or(0, |t| t.and_utc().timestamp_millis())
                    })
                })
                .map_err(|_| format!("Error parsing date string: {text}"))?;
            Ok(json!(jira_timestamp(parsed)))
        }
        FieldKind::Select => select_option(site, def, value),
        FieldKind::MultiSelect => {
            let list = value
                .as_array()
                .ok_or_else(|| "Operation value must be an array".to_owned())?;
            let mut options: Vec<Value> = Vec::new();
            for v in list {
                let option = select_option(site, def, v)?;
                if !options.iter().any(|o| o.get("id") == option.get("id")) {
                    options.push(option);
                }
            }
            Ok(Value::Array(options))
        }
        FieldKind::Cascading => cascading_option(site, def, value),
        FieldKind::User => {
            let account = issue_values::user_value(world, site, issue, &def.id, value)?;
            Ok(account.map_or(Value::Null, |a| json!({ "accountId": a })))
        }
        FieldKind::Labels => Err("Operation value must be an array".to_owned()),
    }
}

/// Resolves `{value}` or `{id}` against the field's top-level options.
fn select_option(site: &Site, def: &FieldDef, value: &Value) -> Result<Value, String> {
    if let Some(id) = value.get("id").and_then(id_text) {
        return def
            .options
            .iter()
            .find(|(oid, _, _)| *oid == id)
            .map(|(oid, v, _)| option_json(site, oid, v))
            .ok_or_else(|| format!("Option id '{id}' is not valid"));
    }
    if let Some(text) = value.get("value").and_then(Value::as_str) {
        return def
            .options
            .iter()
            .find(|(_, v, _)| v == text)
            .map(|(oid, v, _)| option_json(site, oid, v))
            .ok_or_else(|| format!("Option value '{text}' is not valid"));
    }
    Err(format!(
        "Could not find valid 'id' or 'value' in the option object for {}.",
        def.id
    ))
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Resolves `{value|id, child?: {value|id}}`.
fn cascading_option(site: &Site, def: &FieldDef, value: &Value) -> Result<Value, String> {
    let parent = select_option(site, def, value)?;
    let parent_id = parent.get("id").and_then(Value::as_str).unwrap_or_default();
    let Some(child_ref) = value.get("child").filter(|c| !c.is_null()) else {
        return Ok(parent);
    };
    let children = def
        .options
        .iter()
        .find(|(oid, _, _)| oid == parent_id)
        .map(|(_, _, c)| c.as_slice())
        .unwrap_or_default();
    let by_id = child_ref.get("id").and_then(id_text);
    let by_value = child_ref.get("value").and_then(Value::as_str);
    let child = children
        .iter()
        .find(|(cid, cv)| by_id.as_deref() == Some(cid.as_str()) || by_value == Some(cv.as_str()))
        .map(|(cid, cv)| option_json(site, cid, cv));
    match child {
        Some(child) => {
            let mut parent = parent;
            if let Some(obj) = parent.as_object_mut() {
                obj.insert("child".to_owned(), child);
            }
            Ok(parent)
        }
        None => Err(format!(
            "Option value '{}' is not valid",
            by_value.map(str::to_owned).or(by_id).unwrap_or_default()
        )),
    }
}

/// Raw and display strings of a stored custom value, for changelog items.
fn describe(
    world: &World,
    def: &FieldDef,
    value: Option<&Value>,
) -> (Option<String>, Option<String>) {
    let Some(value) = value else {
        return (None, None);
    };
    match def.kind {
        FieldKind::Select => (
            value.get("id").and_then(Value::as_str).map(str::to_owned),
            value
                .get("value")
                .and_then(Value::as_str)
                .map(str::to_owned),
        ),
        FieldKind::Cascading => {
            let parent = value
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let text = match value.pointer("/child/value").and_then(Value::as_str) {
                Some(child) => format!("Parent values: {parent}Level 1 values: {child}"),
                None => format!("Parent values: {parent}"),
            };
            (
                value.get("id").and_then(Value::as_str).map(str::to_owned),
                Some(text),
            )
        }
        FieldKind::MultiSelect => {
            let list = value.as_array().cloned().unwrap_or_default();
            let ids: Vec<&str> = list.iter().filter_map(|o| o.get("id")?.as_str()).collect();
            let values: Vec<&str> = list
                .iter()
                .filter_map(|o| o.get("value")?.as_str())
                .collect();
            (
                Some(format!("[{}]", ids.join(", "))),
                Some(values.join(",")),
            )
        }
        FieldKind::User => {
            let account = value.get("accountId").and_then(Value::as_str);
            (
                account.map(str::to_owned),
                account
                    .and_then(|a| world.user(a))
                    .map(|u| u.display_name.clone()),
            )
        }
        FieldKind::TextArea => (None, Some(adf::plain_text(value))),
        FieldKind::Labels => {
            let labels: Vec<&str> = value
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (None, Some(labels.join(" ")))
        }
        FieldKind::Number => (None, Some(value.to_string())),
        FieldKind::TextField | FieldKind::Date | FieldKind::DateTime => {
            (None, value.as_str().map(str::to_owned))
        }
    }
}
