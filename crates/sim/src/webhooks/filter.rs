//! The JQL subset dynamic webhooks accept in `jqlFilter`, and its evaluation against one issue.
//!
//! Jira documents the subset as fields `issueKey`, `project`, `issuetype`, `status`, `assignee`,
//! `reporter`, `issue.property` and `cf[id]` (the latter only for the epic label field, which the
//! simulated sites do not have, so every `cf[..]` is refused), operators `=`, `!=`, `IN` and
//! `NOT IN`, combined with `AND`, `OR` and `NOT`. Anything else is a per-webhook registration
//! error such as `The clause watchCount is unsupported`. The JQL aliases `key` (of `issueKey`) and
//! `type` (of `issuetype`) name the same fields and are accepted.
//!
//! Values are compared the way JQL compares them: names case-insensitively, ids and keys exactly
//! (keys case-insensitively), and `!=`/`NOT IN` never match an empty value.

use jiraflow_jql::{Clause, FieldName, Operand, OperandKind, Operator, Query};

use crate::world::{Issue, Site, World};

/// A field of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    IssueKey,
    Project,
    IssueType,
    Status,
    Assignee,
    Reporter,
}

fn field_named(name: &str) -> Option<Field> {
    match name.to_ascii_lowercase().as_str() {
        "issuekey" | "key" => Some(Field::IssueKey),
        "project" => Some(Field::Project),
        "issuetype" | "type" => Some(Field::IssueType),
        "status" => Some(Field::Status),
        "assignee" => Some(Field::Assignee),
        "reporter" => Some(Field::Reporter),
        _ => None,
    }
}

/// Parses and checks `jql` against the subset; `Err` holds every message, as Jira reports them.
pub fn validate(jql: &str) -> Result<Query, Vec<String>> {
    if jql.trim().is_empty() {
        return Err(vec!["The JQL filter must not be empty.".to_owned()]);
    }
    let query = jiraflow_jql::parse(jql).map_err(|e| vec![e.to_string()])?;
    let mut errors = Vec::new();
    if !query.order_by.is_empty() {
        errors.push("The clause ORDER BY is unsupported".to_owned());
    }
    match &query.clause {
        Some(clause) => check(clause, &mut errors),
        None => errors.push("The JQL filter must not be empty.".to_owned()),
    }
    if errors.is_empty() {
        Ok(query)
    } else {
        Err(errors)
    }
}

fn check(clause: &Clause, errors: &mut Vec<String>) {
    match clause {
        Clause::And { clauses, .. } | Clause::Or { clauses, .. } => {
            for c in clauses {
                check(c, errors);
            }
        }
        Clause::Not { clause, .. } => check(clause, errors),
        Clause::Compare(c) => {
            let supported = match &c.field.name {
                FieldName::Named(name) => field_named(name).is_some(),
                FieldName::Property { .. } => c.field.name.property_entity() == Some("issue"),
                FieldName::CustomId(_) => false,
            };
            if !supported {
                errors.push(format!("The clause {} is unsupported", c.field));
                return;
            }
            if !matches!(
                c.op,
                Operator::Eq | Operator::NotEq | Operator::In | Operator::NotIn
            ) {
                errors.push(format!("The operator {} is unsupported", c.op.as_jql()));
                return;
            }
            check_operand(&c.operand, errors);
        }
        Clause::Was(c) => errors.push(format!("The operator {} is unsupported", c.op.as_jql())),
        Clause::Changed(_) => errors.push("The operator CHANGED is unsupported".to_owned()),
    }
}

fn check_operand(operand: &Operand, errors: &mut Vec<String>) {
    match &operand.kind {
        OperandKind::String(_) | OperandKind::Number(_) => {}
        OperandKind::List(items) => {
            for item in items {
                check_operand(item, errors);
            }
        }
        OperandKind::Empty => errors.push("The operand EMPTY is unsupported".to_owned()),
        OperandKind::Function { name, .. } => {
            errors.push(format!("The function {name} is unsupported"));
        }
    }
}

/// Whether `issue` on `site` matches the validated filter `query`.
pub fn matches(query: &Query, world: &World, site: &Site, issue: &Issue) -> bool {
    query
        .clause
        .as_ref()
        .is_some_and(|c| eval(c, world, site, issue))
}

fn eval(clause: &Clause, world: &World, site: &Site, issue: &Issue) -> bool {
    match clause {
        Clause::And { clauses, .. } => clauses.iter().all(|c| eval(c, world, site, issue)),
        Clause::Or { clauses, .. } => clauses.iter().any(|c| eval(c, world, site, issue)),
        Clause::Not { clause, .. } => !eval(clause, world, site, issue),
        Clause::Compare(c) => {
            let values = field_values(&c.field.name, world, site, issue);
            let mut operands = Vec::new();
            flatten(&c.operand, &mut operands);
            let hit = values.iter().any(|v| operands.iter().any(|o| v.matches(o)));
            match c.op {
                Operator::Eq | Operator::In => hit,
                // JQL's negative operators never match issues without a value.
                Operator::NotEq | Operator::NotIn => !values.is_empty() && !hit,
                _ => false,
            }
        }
        Clause::Was(_) | Clause::Changed(_) => false,
    }
}

/// An operand value as text (numbers as written).
fn flatten(operand: &Operand, out: &mut Vec<String>) {
    match &operand.kind {
        OperandKind::String(s) => out.push(s.clone()),
        OperandKind::Number(n) => out.push(n.to_string()),
        OperandKind::List(items) => {
            for item in items {
                flatten(item, out);
            }
        }
        OperandKind::Empty | OperandKind::Function { .. } => {}
    }
}

/// One way the field's value may be written: exact forms (ids) and case-insensitive forms
/// (names, keys).
struct Value {
    exact: Vec<String>,
    folded: Vec<String>,
}

impl Value {
    fn matches(&self, operand: &str) -> bool {
        self.exact.iter().any(|e| e == operand)
            || self
                .folded
                .iter()
                .any(|f| f.to_lowercase() == operand.to_lowercase())
    }
}

fn field_values(name: &FieldName, world: &World, site: &Site, issue: &Issue) -> Vec<Value> {
    match name {
        FieldName::Named(n) => match field_named(n) {
            Some(f) => named_values(f, world, site, issue).into_iter().collect(),
            None => Vec::new(),
        },
        FieldName::Property { key, path, .. } => property_values(issue, key, path),
        FieldName::CustomId(_) => Vec::new(),
    }
}

fn named_values(field: Field, world: &World, site: &Site, issue: &Issue) -> Option<Value> {
    match field {
        Field::IssueKey => Some(Value {
            exact: vec![issue.id.to_string()],
            folded: vec![issue.key.clone()],
        }),
        Field::Project => site.jira.projects.get(&issue.project_id).map(|p| Value {
            exact: vec![p.id.to_string()],
            folded: vec![p.key.clone(), p.name.clone()],
        }),
        Field::IssueType => site.jira.issue_type(&issue.issue_type_id).map(|t| Value {
            exact: vec![t.id.clone()],
            folded: vec![t.name.clone()],
        }),
        Field::Status => site.jira.status(&issue.status_id).map(|s| Value {
            exact: vec![s.id.clone()],
            folded: vec![s.name.clone()],
        }),
        Field::Assignee => user_value(world, issue.assignee.as_deref()),
        Field::Reporter => user_value(world, issue.reporter.as_deref()),
    }
}

fn user_value(world: &World, account_id: Option<&str>) -> Option<Value> {
    let account_id = account_id?;
    let mut folded = Vec::new();
    if let Some(user) = world.user(account_id) {
        folded.push(user.display_name.clone());
        if let Some(email) = &user.email {
            folded.push(email.clone());
        }
    }
    Some(Value {
        exact: vec![account_id.to_owned()],
        folded,
    })
}

/// `issue.property[key].path`: the value at `path` (dot-separated) of the property, as text;
/// arrays contribute each element.
fn property_values(issue: &Issue, key: &str, path: &str) -> Vec<Value> {
    let Some(mut value) = issue.properties.get(key) else {
        return Vec::new();
    };
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        match value.get(segment) {
            Some(v) => value = v,
            None => return Vec::new(),
        }
    }
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let texts: Vec<String> = match value {
        serde_json::Value::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    };
    texts
        .into_iter()
        .map(|t| Value {
            exact: Vec::new(),
            folded: vec![t],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_subset_is_accepted() {
        for jql in [
            "project = DEMO",
            "project IN (DEMO, OPS) AND status != Done",
            "issueKey = DEMO-1 OR key NOT IN (DEMO-2)",
            "issuetype = Bug AND NOT assignee = 5f1a",
            "issue.property[flags].level = high AND reporter IN (x, y)",
        ] {
            assert!(validate(jql).is_ok(), "{jql}");
        }
    }

    fn errors(jql: &str) -> Vec<String> {
        validate(jql).err().unwrap_or_default()
    }

    #[test]
    fn other_clauses_operators_and_functions_are_refused_with_jiras_wording() {
        assert_eq!(
            errors("watchCount = 1"),
            vec!["The clause watchCount is unsupported".to_owned()]
        );
        assert_eq!(
            errors("project = DEMO AND labels = x"),
            vec!["The clause labels is unsupported".to_owned()]
        );
        assert_eq!(
            errors("summary ~ crash"),
            vec!["The clause summary is unsupported".to_owned()]
        );
        assert_eq!(
            errors("status ~ Done"),
            vec!["The operator ~ is unsupported".to_owned()]
        );
        assert_eq!(
            errors("assignee = currentUser()"),
            vec!["The function currentUser is unsupported".to_owned()]
        );
        assert!(validate("cf[10010] = x").is_err());
        assert!(validate("project = DEMO ORDER BY key").is_err());
        assert!(validate("project = ").is_err());
        assert!(validate("").is_err());
    }
}
