//! ORDER BY: which fields sort, the sort value of an issue for each, and the total order used
//! for results and keyset paging (ties broken by issue id so paging never skips or repeats).

use std::cmp::Ordering;

use jiraflow_jql::ast;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::dates::DateContext;
use super::fields::{self, Field};
use super::index::Doc;
use crate::world::{FieldKind, Site, World};

/// Jira's limit on ORDER BY keys for `search/jql`.
pub const MAX_ORDER_KEYS: usize = 7;

/// A field results can be sorted by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortField {
    /// `created`.
    Created,
    /// `updated`.
    Updated,
    /// `resolved`.
    Resolved,
    /// `duedate`.
    DueDate,
    /// `key`/`issuekey`: project key, then number.
    Key,
    /// `id`: numeric issue id.
    Id,
    /// `priority`, by rank (`DESC` puts Highest first).
    Priority,
    /// `status`, by the workflow's status order.
    Status,
    /// `summary`, case-insensitively.
    Summary,
    /// `assignee`, `reporter`, `creator`: by display name.
    User(Field),
    /// `issuetype`, by name.
    IssueType,
    /// `project`, by key.
    Project,
    /// `resolution`, by name.
    Resolution,
    /// A sortable custom field.
    Custom(Field),
}

/// One resolved ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// What to sort by.
    pub field: SortField,
    /// Descending?
    pub desc: bool,
}

impl SortKey {
    /// Resolves an ORDER BY key. `Err` carries Jira's message.
    pub fn resolve(key: &ast::OrderKey, site: &Site) -> Result<SortKey, String> {
        let written = super::compile::field_display(&key.field);
        let field = super::compile::resolve_field(&key.field, site).ok_or_else(|| {
            format!("Field '{written}' does not exist or you do not have permission to view it.")
        })?;
        let is_id = key
            .field
            .as_named()
            .is_some_and(|n| n.eq_ignore_ascii_case("id"));
        let sort = match field {
            Field::Created => SortField::Created,
            Field::Updated => SortField::Updated,
            Field::Resolved => SortField::Resolved,
            Field::DueDate => SortField::DueDate,
            Field::IssueKey if is_id => SortField::Id,
            Field::IssueKey => SortField::Key,
            Field::Priority => SortField::Priority,
            Field::Status | Field::StatusCategory => SortField::Status,
            Field::Summary => SortField::Summary,
            Field::Assignee | Field::Reporter | Field::Creator => SortField::User(field),
            Field::IssueType => SortField::IssueType,
            Field::Project => SortField::Project,
            Field::Resolution => SortField::Resolution,
            Field::Custom(ref def) if def.kind != FieldKind::TextArea => SortField::Custom(field),
            _ => return Err(format!("Field '{written}' does not support sorting.")),
        };
        Ok(SortKey {
            field: sort,
            desc: key.direction == Some(ast::Direction::Desc),
        })
    }

    /// The default order when a query has none: newest first (`created DESC`), like Jira's
    /// issue search.
    pub fn default_order() -> Vec<SortKey> {
        vec![SortKey {
            field: SortField::Created,
            desc: true,
        }]
    }
}

/// A sort value. EMPTY sorts after every value in ascending order (first when descending).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SortVal {
    /// No value.
    Null,
    /// Instants, ids, ranks, positions.
    Int(i64),
    /// Numbers.
    Num(f64),
    /// Text (lower-cased).
    Str(String),
    /// Issue key: project key, number.
    Key(String, u64),
}

impl SortVal {
    fn rank(&self) -> u8 {
        match self {
            SortVal::Int(_) => 0,
            SortVal::Num(_) => 1,
            SortVal::Str(_) => 2,
            SortVal::Key(..) => 3,
            SortVal::Null => 4,
        }
    }

    /// Total order of sort values.
    pub fn total_cmp(&self, other: &SortVal) -> Ordering {
        match (self, other) {
            (SortVal::Int(a), SortVal::Int(b)) => a.cmp(b),
            (SortVal::Num(a), SortVal::Num(b)) => a.total_cmp(b),
            (SortVal::Str(a), SortVal::Str(b)) => a.cmp(b),
            (SortVal::Key(pa, a), SortVal::Key(pb, b)) => pa.cmp(pb).then(a.cmp(b)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// The sort values of `doc` for `keys`.
pub fn sort_values(
    keys: &[SortKey],
    doc: &Doc,
    world: &World,
    site: &Site,
    dates: &DateContext,
) -> Vec<SortVal> {
    keys.iter()
        .map(|k| sort_value(&k.field, doc, world, site, dates))
        .collect()
}

fn sort_value(
    field: &SortField,
    doc: &Doc,
    world: &World,
    site: &Site,
    dates: &DateContext,
) -> SortVal {
    let int = |v: Option<i64>| v.map_or(SortVal::Null, SortVal::Int);
    let text = |v: Option<&str>| v.map_or(SortVal::Null, |s| SortVal::Str(s.to_lowercase()));
    match field {
        SortField::Created => SortVal::Int(doc.created),
        SortField::Updated => SortVal::Int(doc.updated),
        SortField::Resolved => int(doc.resolution_date),
        SortField::DueDate => int(doc.duedate.as_deref().and_then(|d| dates.day_start(d))),
        SortField::Key => SortVal::Key(doc.project_key().to_owned(), doc.number),
        SortField::Id => SortVal::Int(doc.id as i64),
        SortField::Priority => int(doc
            .priority_id
            .as_deref()
            .and_then(|p| fields::priority_rank(site, p))),
        SortField::Status => int(site
            .jira
            .statuses
            .iter()
            .position(|s| s.id == doc.status_id)
            .map(|p| p as i64)),
        SortField::Summary => SortVal::Str(doc.summary.to_lowercase()),
        SortField::User(f) => {
            let account = match f {
                Field::Assignee => doc.assignee.as_deref(),
                Field::Reporter => doc.reporter.as_deref(),
                _ => Some(doc.creator.as_str()),
            };
            text(account.map(|a| world.user(a).map_or(a, |u| u.display_name.as_str())))
        }
        SortField::IssueType => text(
            site.jira
                .issue_type(&doc.issue_type_id)
                .map(|t| t.name.as_str()),
        ),
        SortField::Project => text(
            site.jira
                .projects
                .get(&doc.project_id)
                .map(|p| p.key.as_str()),
        ),
        SortField::Resolution => text(doc.resolution.as_deref()),
        SortField::Custom(Field::Custom(def)) => match doc.custom_fields.get(&def.id) {
            None | Some(Value::Null) => SortVal::Null,
            Some(value) => match def.kind {
                FieldKind::Number => value.as_f64().map_or(SortVal::Null, SortVal::Num),
                FieldKind::Date => int(value.as_str().and_then(|d| dates.day_start(d))),
                FieldKind::DateTime => int(value.as_str().and_then(fields::parse_jira_timestamp)),
                FieldKind::Select | FieldKind::Cascading => {
                    text(value.get("value").and_then(Value::as_str))
                }
                FieldKind::User => text(value.get("displayName").and_then(Value::as_str)),
                FieldKind::TextField => text(value.as_str()),
                _ => text(Some(&value.to_string())),
            },
        },
        SortField::Custom(_) => SortVal::Null,
    }
}

/// Compares two issues by their sort values, then by id in the direction of the first key.
pub fn compare(keys: &[SortKey], a: (&[SortVal], u64), b: (&[SortVal], u64)) -> Ordering {
    for (i, key) in keys.iter().enumerate() {
        let (Some(x), Some(y)) = (a.0.get(i), b.0.get(i)) else {
            break;
        };
        let mut ord = x.total_cmp(y);
        if key.desc {
            ord = ord.reverse();
        }
        if ord != Ordering::Equal {
            return ord;
        }
    }
    let ord = a.1.cmp(&b.1);
    if keys.first().is_some_and(|k| k.desc) {
        ord.reverse()
    } else {
        ord
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_sort_last_ascending_and_first_descending() {
        let asc = [SortKey {
            field: SortField::DueDate,
            desc: false,
        }];
        let desc = [SortKey {
            field: SortField::DueDate,
            desc: true,
        }];
        let empty = [SortVal::Null];
        let day = [SortVal::Int(5)];
        assert_eq!(compare(&asc, (&empty, 1), (&day, 2)), Ordering::Greater);
        assert_eq!(compare(&desc, (&empty, 1), (&day, 2)), Ordering::Less);
    }

    #[test]
    fn ties_are_broken_by_id_in_the_first_keys_direction() {
        let desc = [SortKey {
            field: SortField::Updated,
            desc: true,
        }];
        let v = [SortVal::Int(5)];
        assert_eq!(compare(&desc, (&v, 1), (&v, 2)), Ordering::Greater);
        assert_eq!(compare(&[], (&[], 1), (&[], 2)), Ordering::Less);
    }
}
