//! Validation and compilation of a parsed JQL query against one site, for one caller: field names,
//! operators and values are checked with Jira's messages, and names are resolved to ids.

use jiraflow_jql::ast::{self, Clause, FieldName, OperandKind, Operator};

use super::dates::DateContext;
use super::eval::{Cmp, Pred};
use super::fields::{Field, Kind, V, priority_rank};
use super::order::{MAX_ORDER_KEYS, SortKey};
use super::text::TextQuery;
use crate::world::{FieldKind, Project, Site, SiteRole, StatusCategory, World};

/// Who asks, where, and when: everything values are resolved against.
pub struct Env<'a> {
    /// The world (users, groups).
    pub world: &'a World,
    /// The site searched.
    pub site: &'a Site,
    /// The caller's account.
    pub account_id: &'a str,
    /// The caller's role on the site.
    pub role: SiteRole,
    /// Date reading context (caller's zone, now).
    pub dates: DateContext,
}

impl Env<'_> {
    /// Whether the caller may browse `project` (restricted projects: browse-group members and
    /// Jira admins).
    pub fn can_browse(&self, project: &Project) -> bool {
        if project.archived {
            return false;
        }
        match &project.browse_group {
            None => true,
            Some(group) => {
                self.role.administers_jira() || self.site.in_group(self.account_id, group)
            }
        }
    }
}

/// A compiled query.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The condition; `None` when the query has none.
    pub pred: Option<Pred>,
    /// The ORDER BY keys (the default order when none was written).
    pub order: Vec<SortKey>,
}

/// Compiles `query`; `Err` holds every validation message (Jira reports them all at once).
pub fn compile(query: &ast::Query, env: &Env<'_>) -> Result<Compiled, Vec<String>> {
    let mut errors = Vec::new();
    let pred = query.clause.as_ref().map(|c| clause(c, env, &mut errors));
    if query.order_by.len() > MAX_ORDER_KEYS {
        errors.push(format!(
            "The ORDER BY clause can contain a maximum of {MAX_ORDER_KEYS} fields."
        ));
    }
    let mut order = Vec::new();
    for key in &query.order_by {
        match SortKey::resolve(key, env.site) {
            Ok(k) => order.push(k),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(errors);
    }
    if order.is_empty() {
        order = SortKey::default_order();
    }
    Ok(Compiled { pred, order })
}

/// The field name as the user wrote it, for messages.
pub fn field_display(field: &ast::Field) -> String {
    match &field.name {
        FieldName::Named(n) => n.clone(),
        FieldName::CustomId(id) => format!("cf[{id}]"),
        FieldName::Property { name, key, path } if path.is_empty() => format!("{name}[{key}]"),
        FieldName::Property { name, key, path } => format!("{name}[{key}].{path}"),
    }
}

/// Resolves a field reference on `site`.
pub fn resolve_field(field: &ast::Field, site: &Site) -> Option<Field> {
    match &field.name {
        FieldName::Named(n) => Field::resolve(n, site),
        FieldName::CustomId(id) => Field::resolve(&format!("customfield_{id}"), site),
        FieldName::Property { .. } => field
            .name
            .property_entity()
            .filter(|e| e.eq_ignore_ascii_case("issue"))
            .map(|_| Field::Property),
    }
}

fn clause(c: &Clause, env: &Env<'_>, errors: &mut Vec<String>) -> Pred {
    match c {
        Clause::And { clauses, .. } => {
            Pred::And(clauses.iter().map(|c| clause(c, env, errors)).collect())
        }
        Clause::Or { clauses, .. } => {
            Pred::Or(clauses.iter().map(|c| clause(c, env, errors)).collect())
        }
        Clause::Not { clause: inner, .. } => clause(inner, env, errors).negate(),
        Clause::Compare(cmp) => comparison(cmp, env, errors).unwrap_or(Pred::Const(false)),
        Clause::Was(w) => {
            errors.push(unsupported_history(w.op.as_jql(), w.op_span, env));
            Pred::Const(false)
        }
        Clause::Changed(ch) => {
            errors.push(unsupported_history("CHANGED", ch.op_span, env));
            Pred::Const(false)
        }
    }
}

fn unsupported_history(op: &str, span: ast::Span, _env: &Env<'_>) -> String {
    // Character positions are 1-based like Jira's parser errors; history clauses need the
    // changelog index, which the simulator does not keep.
    format!(
        "The operator '{op}' is not supported by the simulator (line 1, character {}).",
        span.start + 1
    )
}

/// One operand value after resolution.
enum Item {
    Val(V),
    Empty,
}

fn op_name(op: Operator) -> String {
    op.as_jql().to_lowercase()
}

fn comparison(c: &ast::Comparison, env: &Env<'_>, errors: &mut Vec<String>) -> Option<Pred> {
    let name = field_display(&c.field);
    let Some(field) = resolve_field(&c.field, env.site) else {
        errors.push(format!(
            "Field '{name}' does not exist or you do not have permission to view it."
        ));
        return None;
    };
    let kind = field.kind();
    let op = c.op;
    let supported = match op {
        Operator::Is | Operator::IsNot => true,
        Operator::Like | Operator::NotLike => kind == Kind::Text || field == Field::Property,
        Operator::Eq | Operator::NotEq | Operator::In | Operator::NotIn => kind != Kind::Text,
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
            matches!(kind, Kind::Ordered | Kind::Date | Kind::Number)
        }
    };
    if !supported {
        errors.push(format!(
            "The operator '{}' is not supported by the '{name}' field.",
            op_name(op)
        ));
        return None;
    }
    let operand_text = || format!("{:?}", c.operand.kind);
    match op {
        Operator::Is | Operator::IsNot => {
            if c.operand.kind != OperandKind::Empty {
                errors.push(format!(
                    "The operator '{}' only supports the EMPTY and NULL values, not '{}' for the field '{name}'.",
                    op_name(op),
                    plain_operand(&c.operand).unwrap_or_else(operand_text)
                ));
                return None;
            }
            return Some(Pred::Empty {
                field,
                negated: op == Operator::IsNot,
            });
        }
        Operator::Like | Operator::NotLike => {
            let text = match &c.operand.kind {
                OperandKind::String(s) => s.clone(),
                OperandKind::Number(n) => n.to_string(),
                _ => {
                    errors.push(format!(
                        "The operator '{}' does not support this value for the field '{name}'.",
                        op_name(op)
                    ));
                    return None;
                }
            };
            let Some(query) = TextQuery::parse(&text) else {
                errors.push(format!(
                    "The value '{text}' is not a valid text search for the field '{name}'."
                ));
                return None;
            };
            return Some(Pred::Text {
                field,
                query,
                negated: op == Operator::NotLike,
            });
        }
        _ => {}
    }
    let list = matches!(c.operand.kind, OperandKind::List(_));
    let multi_function = matches!(&c.operand.kind, OperandKind::Function { name, .. } if name.eq_ignore_ascii_case("membersOf") || name.to_ascii_lowercase().ends_with("issuetypes"));
    if matches!(op, Operator::In | Operator::NotIn) && !list && !multi_function {
        errors.push(format!(
            "Operator '{}' does not support the non-list value '{}' for field '{name}'.",
            op_name(op),
            plain_operand(&c.operand).unwrap_or_else(operand_text)
        ));
        return None;
    }
    if !matches!(op, Operator::In | Operator::NotIn) && list {
        errors.push(format!(
            "Operator '{}' does not support the list value for field '{name}'.",
            op_name(op)
        ));
        return None;
    }
    let before = errors.len();
    let mut items = Vec::new();
    operand_items(&c.operand, &field, &name, op, env, &mut items, errors);
    if errors.len() > before {
        return None;
    }
    let cmp = match op {
        Operator::Gt => Some(Cmp::Gt),
        Operator::Gte => Some(Cmp::Ge),
        Operator::Lt => Some(Cmp::Lt),
        Operator::Lte => Some(Cmp::Le),
        _ => None,
    };
    if let Some(cmp) = cmp {
        let mut values = items.into_iter().filter_map(|i| match i {
            Item::Val(v) => Some(v),
            Item::Empty => None,
        });
        let Some(value) = values.next() else {
            errors.push(format!(
                "The operator '{}' does not support the EMPTY value for the field '{name}'.",
                op_name(op)
            ));
            return None;
        };
        return Some(Pred::Compare { field, cmp, value });
    }
    let negated = matches!(op, Operator::NotEq | Operator::NotIn);
    let has_empty = items.iter().any(|i| matches!(i, Item::Empty));
    let set: Vec<V> = items
        .into_iter()
        .filter_map(|i| match i {
            Item::Val(v) => Some(v),
            Item::Empty => None,
        })
        .collect();
    let in_set = Pred::In {
        field: field.clone(),
        set,
        negated: false,
    };
    // `x != EMPTY` and `x NOT IN (a, EMPTY)` come out as "has a value (other than a)".
    let pred = if has_empty {
        Pred::Or(vec![
            in_set,
            Pred::Empty {
                field,
                negated: false,
            },
        ])
    } else {
        in_set
    };
    Some(if negated { pred.negate() } else { pred })
}

/// An operand's plain text for messages (`None` for lists and functions).
fn plain_operand(operand: &ast::Operand) -> Option<String> {
    match &operand.kind {
        OperandKind::String(s) => Some(s.clone()),
        OperandKind::Number(n) => Some(n.to_string()),
        OperandKind::Empty => Some("EMPTY".to_owned()),
        OperandKind::Function { name, args } => Some(format!("{name}({})", args.join(", "))),
        OperandKind::List(_) => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn operand_items(
    operand: &ast::Operand,
    field: &Field,
    name: &str,
    op: Operator,
    env: &Env<'_>,
    out: &mut Vec<Item>,
    errors: &mut Vec<String>,
) {
    match &operand.kind {
        OperandKind::List(items) => {
            for item in items {
                operand_items(item, field, name, op, env, out, errors);
            }
        }
        OperandKind::Empty => out.push(Item::Empty),
        OperandKind::Function {
            name: function,
            args,
        } => {
            super::functions::function_items(function, args, field, name, env, errors)
                .into_iter()
                .for_each(|v| out.push(Item::Val(v)));
        }
        OperandKind::String(s) => value_items(s, false, field, name, op, env, out, errors),
        OperandKind::Number(n) => {
            value_items(&n.to_string(), true, field, name, op, env, out, errors);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn value_items(
    text: &str,
    is_number: bool,
    field: &Field,
    name: &str,
    op: Operator,
    env: &Env<'_>,
    out: &mut Vec<Item>,
    errors: &mut Vec<String>,
) {
    let jira = &env.site.jira;
    let missing = || format!("The value '{text}' does not exist for the field '{name}'.");
    let ordering = matches!(
        op,
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte
    );
    let found: Result<Vec<V>, String> = match field {
        Field::Project => jira
            .projects
            .values()
            .find(|p| {
                p.key.eq_ignore_ascii_case(text)
                    || p.id.to_string() == text
                    || p.name.eq_ignore_ascii_case(text)
            })
            .filter(|p| env.can_browse(p))
            .map(|p| vec![V::Int(p.id as i64)])
            .ok_or_else(missing),
        Field::IssueKey => issue_key(text, is_number, ordering, name, env),
        Field::Parent => {
            if let Ok(id) = text.parse::<i64>() {
                Ok(vec![V::Int(id)])
            } else {
                jira.resolve_issue(text)
                    .map(|id| vec![V::Int(id as i64)])
                    .ok_or_else(missing)
            }
        }
        Field::Status => jira
            .statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(text) || s.id == text)
            .map(|s| vec![V::Str(s.id.clone())])
            .ok_or_else(missing),
        Field::StatusCategory => status_category(text)
            .map(|cat| {
                jira.statuses
                    .iter()
                    .filter(|s| s.category == cat)
                    .map(|s| V::Str(s.id.clone()))
                    .collect()
            })
            .ok_or_else(missing),
        Field::IssueType => jira
            .issue_types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(text) || t.id == text)
            .map(|t| vec![V::Str(t.id.clone())])
            .ok_or_else(missing),
        Field::Priority => jira
            .priorities
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(text) || p.id == text)
            .and_then(|p| priority_rank(env.site, &p.id))
            .map(|r| vec![V::Int(r)])
            .ok_or_else(missing),
        Field::Resolution => {
            if text.eq_ignore_ascii_case("unresolved") {
                out.push(Item::Empty);
                return;
            }
            let known = ["done", "won't do", "duplicate", "cannot reproduce"];
            let lower = text.to_lowercase();
            let exists = known.contains(&lower.as_str())
                || jira.issues.values().any(|i| {
                    i.resolution
                        .as_deref()
                        .is_some_and(|r| r.eq_ignore_ascii_case(text))
                });
            if exists {
                Ok(vec![V::Str(lower)])
            } else {
                Err(missing())
            }
        }
        Field::Assignee | Field::Reporter | Field::Creator | Field::Watcher => {
            user(text, env).map(|u| vec![u]).ok_or_else(missing)
        }
        Field::Labels | Field::Property => Ok(vec![V::Str(text.to_lowercase())]),
        Field::Created | Field::Updated | Field::Resolved | Field::DueDate => {
            date(text, is_number, name, env).map(|d| vec![d])
        }
        Field::Custom(def) => match def.kind {
            FieldKind::Number => text
                .parse::<f64>()
                .map(|n| vec![V::Num(n)])
                .map_err(|_| format!("'{text}' is not a valid number for the field '{name}'.")),
            FieldKind::Select | FieldKind::MultiSelect | FieldKind::Cascading => {
                let mut ids = Vec::new();
                for (id, value, children) in &def.options {
                    if value.eq_ignore_ascii_case(text) || id == text {
                        ids.push(V::Str(id.clone()));
                    }
                    for (cid, cvalue) in children {
                        if cvalue.eq_ignore_ascii_case(text) || cid == text {
                            ids.push(V::Str(cid.clone()));
                        }
                    }
                }
                if ids.is_empty() {
                    Err(format!(
                        "The option '{text}' for field '{name}' does not exist."
                    ))
                } else {
                    Ok(ids)
                }
            }
            FieldKind::User => user(text, env).map(|u| vec![u]).ok_or_else(missing),
            FieldKind::Labels => Ok(vec![V::Str(text.to_lowercase())]),
            FieldKind::Date | FieldKind::DateTime => {
                date(text, is_number, name, env).map(|d| vec![d])
            }
            FieldKind::TextField | FieldKind::TextArea => Err(missing()),
        },
        Field::Summary | Field::Description | Field::Environment | Field::Comment | Field::Text => {
            Err(missing())
        }
    };
    match found {
        Ok(values) => out.extend(values.into_iter().map(Item::Val)),
        Err(e) => errors.push(e),
    }
}

fn issue_key(
    text: &str,
    is_number: bool,
    ordering: bool,
    name: &str,
    env: &Env<'_>,
) -> Result<Vec<V>, String> {
    let jira = &env.site.jira;
    if is_number || text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .map(|id| vec![V::Int(id)])
            .map_err(|_| format!("The issue key '{text}' for field '{name}' is invalid."));
    }
    let Some((project_key, number)) = text
        .rsplit_once('-')
        .and_then(|(p, n)| n.parse::<i64>().ok().map(|n| (p, n)))
    else {
        return Err(format!(
            "The issue key '{text}' for field '{name}' is invalid."
        ));
    };
    let visible = jira
        .resolve_issue(text)
        .and_then(|id| jira.issues.get(&id))
        .filter(|i| {
            jira.projects
                .get(&i.project_id)
                .is_some_and(|p| env.can_browse(p))
        });
    if ordering {
        // Ordering compares numbers within the key's project, whether or not that issue exists.
        if let Some(issue) = visible {
            return Ok(vec![V::Key(
                issue.project_id,
                super::index::key_number(&issue.key) as i64,
            )]);
        }
        return jira
            .projects
            .values()
            .find(|p| p.key.eq_ignore_ascii_case(project_key) && env.can_browse(p))
            .map(|p| vec![V::Key(p.id, number)])
            .ok_or_else(|| {
                format!("An issue with key '{text}' does not exist for field '{name}'.")
            });
    }
    visible
        .map(|i| vec![V::Int(i.id as i64)])
        .ok_or_else(|| format!("An issue with key '{text}' does not exist for field '{name}'."))
}

fn status_category(text: &str) -> Option<StatusCategory> {
    match text.to_ascii_lowercase().as_str() {
        "to do" | "new" | "2" => Some(StatusCategory::ToDo),
        "in progress" | "indeterminate" | "4" => Some(StatusCategory::InProgress),
        "done" | "complete" | "3" => Some(StatusCategory::Done),
        _ => None,
    }
}

/// A user by account id, e-mail or display name (site members only).
pub fn user(text: &str, env: &Env<'_>) -> Option<V> {
    let members = &env.site.members;
    if members.contains_key(text) {
        return Some(V::Str(text.to_owned()));
    }
    env.world
        .users
        .values()
        .filter(|u| members.contains_key(&u.account_id))
        .find(|u| {
            u.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(text))
                || u.display_name.eq_ignore_ascii_case(text)
        })
        .map(|u| V::Str(u.account_id.clone()))
}

fn date(text: &str, is_number: bool, name: &str, env: &Env<'_>) -> Result<V, String> {
    let parsed = if is_number {
        text.parse::<i64>().ok()
    } else {
        env.dates.literal(text)
    };
    parsed.map(V::Int).ok_or_else(|| {
        format!(
            "Date value '{text}' for field '{name}' is invalid. Valid formats include: \
             'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period \
             format e.g. '-5d', '4w 2d'."
        )
    })
}
