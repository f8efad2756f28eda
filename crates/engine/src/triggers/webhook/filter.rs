//! The split of a trigger's filter into what Jira's dynamic webhook `jqlFilter` accepts (checked
//! by Jira before it delivers) and the residual the receiver checks with `POST /jql/match`.
//!
//! Jira accepts only `issueKey`/`key`, `project`, `issuetype`/`type`, `status`, `assignee`,
//! `reporter` and `issue.property[..]` with `=`, `!=`, `IN` and `NOT IN` over plain values,
//! combined with `AND`, `OR` and `NOT`, and refuses an empty filter. The registered filter must
//! accept every issue the original accepts (a webhook that never fires loses events), so it is
//! an over-approximation: a top-level `AND` keeps its supported clauses and moves the rest to the
//! residual; anything else with an unsupported clause registers what that clause implies (the
//! projects of every branch of an `OR`, say) and keeps the whole query as the residual. In both
//! cases `registered AND residual` accepts exactly what the original accepts.

use jiraflow_jql::{Clause, FieldName, Operand, OperandKind, Operator, Query};

use crate::flow::TriggerSpec;

/// A trigger's filter as registered in Jira plus what is left to check on delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookFilter {
    /// The `jqlFilter` to register (never empty).
    pub registered_jql: String,
    /// What Jira cannot check; `None` when the registered filter is the whole filter.
    pub residual: Option<Query>,
}

impl WebhookFilter {
    /// The JQL a delivered issue must still match (`registered AND residual`), or `None` when
    /// Jira already checked all of it.
    pub fn residual_check(&self) -> Option<String> {
        let residual = self.residual.as_ref()?.clause.clone()?;
        let registered = jiraflow_jql::parse(&self.registered_jql)
            .ok()
            .and_then(|q| q.clause);
        let clause = match registered {
            Some(registered) => Clause::both(registered, residual),
            None => residual,
        };
        Some(Query::from_clause(clause).to_string())
    }
}

/// Why no webhook filter can be built for a trigger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The trigger's JQL does not parse.
    #[error("trigger JQL {jql:?} does not parse: {message}")]
    Jql {
        /// The JQL.
        jql: String,
        /// The parser's message.
        message: String,
    },
    /// Nothing Jira's webhook filter accepts bounds the trigger, and Jira refuses an empty filter.
    #[error(
        "webhook mode needs a filter Jira's webhooks accept (project, issuetype, status, \
         assignee, reporter, issuekey with =, !=, IN, NOT IN): {reason}; add `options.project` \
         or a `project = KEY` clause to the JQL, or use mode `poll`"
    )]
    NothingToRegister {
        /// What the trigger had instead.
        reason: String,
    },
}

/// Splits the filter of `trigger` (its `options.jql`, else its `options.project`).
///
/// # Errors
/// [`FilterError`] when the JQL does not parse or nothing registrable bounds the trigger.
pub fn split_trigger(trigger: &TriggerSpec) -> Result<WebhookFilter, FilterError> {
    split_filter(
        trigger.options.jql.as_deref(),
        trigger.options.project.as_deref(),
    )
}

/// Splits `jql` (may be absent) into the registrable part and the residual; `project` (a trigger's
/// project option) bounds the registration when the JQL offers nothing Jira accepts.
///
/// # Errors
/// [`FilterError`] when the JQL does not parse or nothing registrable bounds the trigger.
pub fn split_filter(
    jql: Option<&str>,
    project: Option<&str>,
) -> Result<WebhookFilter, FilterError> {
    let project_clause = project
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Clause::field_cmp("project", Operator::Eq, Operand::string(p)));
    let clause = match jql.map(str::trim).filter(|j| !j.is_empty()) {
        Some(text) => {
            jiraflow_jql::parse(text)
                .map_err(|e| FilterError::Jql {
                    jql: text.to_owned(),
                    message: e.to_string(),
                })?
                .clause
        }
        None => None,
    };
    let Some(clause) = clause else {
        let registered = project_clause.ok_or_else(|| FilterError::NothingToRegister {
            reason: "the trigger has neither JQL nor a project".to_owned(),
        })?;
        return Ok(WebhookFilter {
            registered_jql: Query::from_clause(registered).to_string(),
            residual: None,
        });
    };
    let (registered, residual) = if supported(&clause) {
        (Some(clause.clone()), None)
    } else if let Clause::And { clauses, .. } = &clause {
        let rest: Vec<Clause> = clauses.iter().filter(|c| !supported(c)).cloned().collect();
        (implied(&clause), Clause::all(rest))
    } else {
        (implied(&clause), Some(clause.clone()))
    };
    // Without a registrable part, the project option still bounds the trigger (the residual
    // holds the whole JQL then).
    let (registered, residual) = match (registered, project_clause) {
        (Some(r), _) => (r, residual),
        (None, Some(p)) => (p, Some(clause.clone())),
        (None, None) => {
            return Err(FilterError::NothingToRegister {
                reason: format!("no clause of {clause} is one Jira's webhooks accept"),
            });
        }
    };
    Ok(WebhookFilter {
        registered_jql: Query::from_clause(registered).to_string(),
        residual: residual.map(Query::from_clause),
    })
}

/// Whether Jira's webhook filter accepts the whole clause.
pub fn supported(clause: &Clause) -> bool {
    match clause {
        Clause::And { clauses, .. } | Clause::Or { clauses, .. } => clauses.iter().all(supported),
        Clause::Not { clause, .. } => supported(clause),
        Clause::Compare(c) => {
            let field_ok = match &c.field.name {
                FieldName::Named(name) => matches!(
                    name.to_ascii_lowercase().as_str(),
                    "issuekey"
                        | "key"
                        | "project"
                        | "issuetype"
                        | "type"
                        | "status"
                        | "assignee"
                        | "reporter"
                ),
                FieldName::Property { .. } => c.field.name.property_entity() == Some("issue"),
                // Jira takes `cf[id]` only for the epic label field, which is not worth relying on.
                FieldName::CustomId(_) => false,
            };
            field_ok
                && matches!(
                    c.op,
                    Operator::Eq | Operator::NotEq | Operator::In | Operator::NotIn
                )
                && plain_operand(&c.operand)
        }
        Clause::Was(_) | Clause::Changed(_) => false,
    }
}

fn plain_operand(operand: &Operand) -> bool {
    match &operand.kind {
        OperandKind::String(_) | OperandKind::Number(_) => true,
        OperandKind::List(items) => items.iter().all(plain_operand),
        OperandKind::Empty | OperandKind::Function { .. } => false,
    }
}

/// The narrowest supported clause every issue matching `clause` also matches, if there is one.
fn implied(clause: &Clause) -> Option<Clause> {
    if supported(clause) {
        return Some(clause.clone());
    }
    match clause {
        Clause::And { clauses, .. } => Clause::all(clauses.iter().filter_map(implied)),
        // Every branch must be bounded, or an issue could match through the unbounded one.
        Clause::Or { clauses, .. } => clauses
            .iter()
            .map(implied)
            .collect::<Option<Vec<_>>>()
            .and_then(Clause::any),
        // The negation of an unsupported clause implies nothing Jira can check.
        Clause::Not { .. } | Clause::Compare(_) | Clause::Was(_) | Clause::Changed(_) => None,
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
