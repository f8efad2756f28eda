//! The JQL fields the simulator knows: name resolution (aliases, `cf[10010]`, custom field names)
//! and how each field's values are read from an indexed issue.

use std::cmp::Ordering;

use serde_json::Value;

use super::dates::DateContext;
use super::index::Doc;
use crate::world::{FieldDef, FieldKind, Site};

/// A JQL field.
#[derive(Debug, Clone)]
pub enum Field {
    /// `project`.
    Project,
    /// `key`, `issuekey`, `issue`, `id`.
    IssueKey,
    /// `summary`.
    Summary,
    /// `description`.
    Description,
    /// `environment`.
    Environment,
    /// `comment`.
    Comment,
    /// `text`: summary, description, environment and comments at once.
    Text,
    /// `status`.
    Status,
    /// `statusCategory`.
    StatusCategory,
    /// `issuetype`, `type`.
    IssueType,
    /// `priority`.
    Priority,
    /// `assignee`.
    Assignee,
    /// `reporter`.
    Reporter,
    /// `creator`.
    Creator,
    /// `labels`.
    Labels,
    /// `created`, `createdDate`.
    Created,
    /// `updated`, `updatedDate`.
    Updated,
    /// `resolved`, `resolutiondate`.
    Resolved,
    /// `due`, `duedate`.
    DueDate,
    /// `resolution`.
    Resolution,
    /// `parent`.
    Parent,
    /// `watcher`.
    Watcher,
    /// A custom field by definition.
    Custom(Box<FieldDef>),
    /// `issue.property[key].path`.
    Property,
}

impl PartialEq for Field {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Field::Custom(a), Field::Custom(b)) => a.id == b.id,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

/// What kind of values a field holds: decides the operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Values from a fixed set compared for equality (status, user, label, option ...).
    Equality,
    /// Values with an order (`priority`, `key`): `=`, `!=`, `IN`, `<`, `>`.
    Ordered,
    /// Instants: every comparison.
    Date,
    /// Numbers: every comparison.
    Number,
    /// Analysed text: `~`, `!~`, `IS`.
    Text,
}

impl Field {
    /// Resolves a JQL field name (case-insensitive) on `site`.
    pub fn resolve(name: &str, site: &Site) -> Option<Field> {
        let lower = name.to_ascii_lowercase();
        let field = match lower.as_str() {
            "project" => Field::Project,
            "key" | "issuekey" | "issue" | "id" => Field::IssueKey,
            "summary" => Field::Summary,
            "description" => Field::Description,
            "environment" => Field::Environment,
            "comment" => Field::Comment,
            "text" => Field::Text,
            "status" => Field::Status,
            "statuscategory" => Field::StatusCategory,
            "issuetype" | "type" => Field::IssueType,
            "priority" => Field::Priority,
            "assignee" => Field::Assignee,
            "reporter" => Field::Reporter,
            "creator" => Field::Creator,
            "labels" => Field::Labels,
            "created" | "createddate" => Field::Created,
            "updated" | "updateddate" => Field::Updated,
            "resolved" | "resolutiondate" => Field::Resolved,
            "due" | "duedate" => Field::DueDate,
            "resolution" => Field::Resolution,
            "parent" => Field::Parent,
            "watcher" | "watchers" => Field::Watcher,
            _ => return custom_field(&lower, site).map(|def| Field::Custom(Box::new(def.clone()))),
        };
        Some(field)
    }

    /// How the field's values compare.
    pub fn kind(&self) -> Kind {
        match self {
            Field::Summary
            | Field::Description
            | Field::Environment
            | Field::Comment
            | Field::Text => Kind::Text,
            Field::Created | Field::Updated | Field::Resolved | Field::DueDate => Kind::Date,
            Field::Priority | Field::IssueKey => Kind::Ordered,
            Field::Custom(def) => match def.kind {
                FieldKind::TextField | FieldKind::TextArea => Kind::Text,
                FieldKind::Number => Kind::Number,
                FieldKind::Date | FieldKind::DateTime => Kind::Date,
                _ => Kind::Equality,
            },
            _ => Kind::Equality,
        }
    }

    /// The text tokens of a text field.
    pub fn tokens<'d>(&self, doc: &'d Doc) -> Vec<&'d [String]> {
        match self {
            Field::Summary => vec![&doc.summary_tokens],
            Field::Description => vec![&doc.description_tokens],
            Field::Environment => vec![&doc.environment_tokens],
            Field::Comment => vec![&doc.comment_tokens],
            Field::Text => vec![
                &doc.summary_tokens,
                &doc.description_tokens,
                &doc.environment_tokens,
                &doc.comment_tokens,
            ],
            _ => Vec::new(),
        }
    }
}

fn custom_field<'s>(lower: &str, site: &'s Site) -> Option<&'s FieldDef> {
    let defs = &site.jira.custom_fields;
    if let Some(number) = lower
        .strip_prefix("cf[")
        .and_then(|r| r.strip_suffix(']'))
        .or_else(|| lower.strip_prefix("customfield_"))
    {
        return defs.get(&format!("customfield_{}", number.trim()));
    }
    defs.values().find(|d| d.name.eq_ignore_ascii_case(lower))
}

/// One value of a field, normalised for comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    /// Identifiers and names (lower-cased where Jira compares case-insensitively).
    Str(String),
    /// Instants, ids and ranks.
    Int(i64),
    /// Numbers.
    Num(f64),
    /// Issue keys: (project id, number); only ordered within one project.
    Key(u64, i64),
}

impl V {
    /// Compares two values of the same field; `None` when they are not comparable.
    pub fn compare(&self, other: &V) -> Option<Ordering> {
        match (self, other) {
            (V::Str(a), V::Str(b)) => Some(a.cmp(b)),
            (V::Int(a), V::Int(b)) => Some(a.cmp(b)),
            (V::Num(a), V::Num(b)) => a.partial_cmp(b),
            (V::Int(a), V::Num(b)) => (*a as f64).partial_cmp(b),
            (V::Num(a), V::Int(b)) => a.partial_cmp(&(*b as f64)),
            (V::Key(pa, a), V::Key(pb, b)) if pa == pb => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// The values of `field` on `doc` (empty when the field is EMPTY).
pub fn values(field: &Field, doc: &Doc, site: &Site, dates: &DateContext) -> Vec<V> {
    let s = |v: &str| V::Str(v.to_owned());
    let opt = |v: &Option<String>| v.iter().map(|x| s(x)).collect::<Vec<_>>();
    match field {
        Field::Project => vec![V::Int(doc.project_id as i64)],
        Field::IssueKey => vec![
            V::Key(doc.project_id, doc.number as i64),
            V::Int(doc.id as i64),
        ],
        Field::Status => vec![s(&doc.status_id)],
        Field::StatusCategory => vec![s(&doc.status_id)],
        Field::IssueType => vec![s(&doc.issue_type_id)],
        Field::Priority => doc
            .priority_id
            .as_deref()
            .and_then(|p| priority_rank(site, p))
            .map(V::Int)
            .into_iter()
            .collect(),
        Field::Assignee => opt(&doc.assignee),
        Field::Reporter => opt(&doc.reporter),
        Field::Creator => vec![s(&doc.creator)],
        Field::Labels => doc
            .labels
            .iter()
            .map(|l| V::Str(l.to_lowercase()))
            .collect(),
        Field::Created => vec![V::Int(doc.created)],
        Field::Updated => vec![V::Int(doc.updated)],
        Field::Resolved => doc.resolution_date.map(V::Int).into_iter().collect(),
        Field::DueDate => doc
            .duedate
            .as_deref()
            .and_then(|d| dates.day_start(d))
            .map(V::Int)
            .into_iter()
            .collect(),
        Field::Resolution => doc
            .resolution
            .iter()
            .map(|r| V::Str(r.to_lowercase()))
            .collect(),
        Field::Parent => doc
            .parent_id
            .map(|p| V::Int(p as i64))
            .into_iter()
            .collect(),
        Field::Watcher => doc.watchers.iter().map(|w| s(w)).collect(),
        Field::Custom(def) => doc
            .custom_fields
            .get(&def.id)
            .map(|value| custom_values(def, value, dates))
            .unwrap_or_default(),
        Field::Summary
        | Field::Description
        | Field::Environment
        | Field::Comment
        | Field::Text
        | Field::Property => Vec::new(),
    }
}

/// The rank Jira orders priorities by: the first (highest) priority ranks highest, so
/// `priority > Medium` finds High and Highest.
pub fn priority_rank(site: &Site, priority_id: &str) -> Option<i64> {
    let list = &site.jira.priorities;
    list.iter()
        .position(|p| p.id == priority_id)
        .map(|i| (list.len() - i) as i64)
}

fn custom_values(def: &FieldDef, value: &Value, dates: &DateContext) -> Vec<V> {
    let option_id = |v: &Value| {
        v.get("id")
            .and_then(Value::as_str)
            .map(|id| V::Str(id.to_owned()))
    };
    match def.kind {
        FieldKind::Number => value.as_f64().map(V::Num).into_iter().collect(),
        FieldKind::Select => option_id(value).into_iter().collect(),
        FieldKind::MultiSelect => value
            .as_array()
            .map(|a| a.iter().filter_map(option_id).collect())
            .unwrap_or_default(),
        FieldKind::Cascading => {
            let mut out: Vec<V> = option_id(value).into_iter().collect();
            if let Some(child) = value.get("child").and_then(option_id) {
                out.push(child);
            }
            out
        }
        FieldKind::User => value
            .get("accountId")
            .and_then(Value::as_str)
            .map(|a| V::Str(a.to_owned()))
            .into_iter()
            .collect(),
        FieldKind::Labels => value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|l| V::Str(l.to_lowercase()))
                    .collect()
            })
            .unwrap_or_default(),
        FieldKind::Date => value
            .as_str()
            .and_then(|d| dates.day_start(d))
            .map(V::Int)
            .into_iter()
            .collect(),
        FieldKind::DateTime => value
            .as_str()
            .and_then(parse_jira_timestamp)
            .map(V::Int)
            .into_iter()
            .collect(),
        FieldKind::TextField | FieldKind::TextArea => Vec::new(),
    }
}

/// The tokens of a custom text field's value (a string, or an ADF document).
pub fn custom_text_tokens(def: &FieldDef, doc: &Doc) -> Vec<String> {
    match doc.custom_fields.get(&def.id) {
        Some(Value::String(s)) => super::text::tokens(s),
        Some(adf @ Value::Object(_)) => super::text::tokens(&crate::rest::adf::plain_text(adf)),
        _ => Vec::new(),
    }
}

/// Parses `2026-01-17T12:34:00.000+0000` (and RFC 3339) to epoch milliseconds.
pub fn parse_jira_timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.timestamp_millis())
}
