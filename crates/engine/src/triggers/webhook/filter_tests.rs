//! Unit and property tests of the webhook filter split, with a small JQL evaluator over sample
//! issues standing in for Jira's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use jiraflow_jql::{Clause, OperandKind, Operator, Query};
use proptest::prelude::*;

use super::{FilterError, split_filter, supported};

/// An issue as field name -> values (lowercased).
type Issue = BTreeMap<&'static str, Vec<String>>;

fn operand_values(kind: &OperandKind, out: &mut Vec<String>) {
    match kind {
        OperandKind::String(s) => out.push(s.to_lowercase()),
        OperandKind::Number(n) => out.push(n.to_string()),
        OperandKind::List(items) => {
            for item in items {
                operand_values(&item.kind, out);
            }
        }
        OperandKind::Empty | OperandKind::Function { .. } => {}
    }
}

fn eval(clause: &Clause, issue: &Issue) -> bool {
    match clause {
        Clause::And { clauses, .. } => clauses.iter().all(|c| eval(c, issue)),
        Clause::Or { clauses, .. } => clauses.iter().any(|c| eval(c, issue)),
        Clause::Not { clause, .. } => !eval(clause, issue),
        Clause::Compare(c) => {
            let name = c.field.as_named().unwrap_or_default().to_lowercase();
            let values = issue
                .iter()
                .find(|(k, _)| **k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let mut operands = Vec::new();
            operand_values(&c.operand.kind, &mut operands);
            let hit = values.iter().any(|v| operands.contains(v));
            match c.op {
                Operator::Eq | Operator::In => hit,
                Operator::NotEq | Operator::NotIn => !values.is_empty() && !hit,
                Operator::Like => values
                    .iter()
                    .any(|v| operands.iter().any(|o| v.contains(o.as_str()))),
                _ => false,
            }
        }
        Clause::Was(_) | Clause::Changed(_) => false,
    }
}

fn accepts(query: Option<&Query>, issue: &Issue) -> bool {
    query
        .and_then(|q| q.clause.as_ref())
        .is_none_or(|c| eval(c, issue))
}

/// Every combination of a few values of each field.
fn sample_issues() -> Vec<Issue> {
    let mut out = Vec::new();
    for project in ["a", "b", "c"] {
        for status in ["open", "done"] {
            for issuetype in ["bug", "task"] {
                for assignee in [None, Some("u1")] {
                    for labels in [vec![], vec!["x"], vec!["x", "y"]] {
                        for priority in ["high", "low"] {
                            for summary in ["fix foo", "other"] {
                                let mut issue = Issue::new();
                                issue.insert("project", vec![project.to_owned()]);
                                issue.insert("status", vec![status.to_owned()]);
                                issue.insert("issuetype", vec![issuetype.to_owned()]);
                                issue.insert(
                                    "assignee",
                                    assignee.map(str::to_owned).into_iter().collect(),
                                );
                                issue.insert(
                                    "labels",
                                    labels.iter().map(|l| (*l).to_owned()).collect(),
                                );
                                issue.insert("priority", vec![priority.to_owned()]);
                                issue.insert("summary", vec![summary.to_owned()]);
                                out.push(issue);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

const ATOMS: &[&str] = &[
    "project = A",
    "project IN (A, B)",
    "status != Done",
    "issuetype = Bug",
    "assignee = u1",
    "labels = x",
    "summary ~ foo",
    "priority = High",
    "labels NOT IN (y)",
];

fn clause_strategy() -> impl Strategy<Value = Clause> {
    let leaf = prop::sample::select(ATOMS).prop_map(|text| {
        jiraflow_jql::parse(text)
            .expect("atom parses")
            .clause
            .expect("atom has a clause")
    });
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|cs| Clause::all(cs).expect("two or more")),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|cs| Clause::any(cs).expect("two or more")),
            inner.prop_map(Clause::negate),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn registered_and_residual_together_accept_exactly_what_the_original_accepts(
        clause in clause_strategy()
    ) {
        let text = Query::from_clause(clause.clone()).to_string();
        let split = match split_filter(Some(&text), None) {
            Ok(split) => split,
            Err(FilterError::NothingToRegister { .. }) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let registered = jiraflow_jql::parse(&split.registered_jql).expect("registered parses");
        let registered_clause = registered.clause.clone().expect("registered is not empty");
        prop_assert!(supported(&registered_clause), "{}", split.registered_jql);
        let check = split.residual_check().map(|j| jiraflow_jql::parse(&j).expect("check parses"));
        for issue in sample_issues() {
            let original = eval(&clause, &issue);
            prop_assert_eq!(
                original,
                eval(&registered_clause, &issue) && accepts(split.residual.as_ref(), &issue),
                "{} split into {} / {:?}", text, split.registered_jql,
                split.residual.as_ref().map(ToString::to_string)
            );
            if let Some(check) = &check {
                prop_assert_eq!(original, accepts(Some(check), &issue));
            }
        }
    }
}

#[test]
fn a_fully_supported_filter_is_registered_whole() {
    let split = split_filter(
        Some("project = DEMO AND status IN (Open, \"In Progress\")"),
        None,
    )
    .unwrap();
    assert_eq!(
        split.registered_jql,
        "project = DEMO AND status IN (Open, \"In Progress\")"
    );
    assert_eq!(split.residual, None);
    assert_eq!(split.residual_check(), None);
}

#[test]
fn a_top_level_and_keeps_its_supported_clauses_and_leaves_the_rest() {
    let split = split_filter(
        Some("project = DEMO AND labels = urgent AND issuetype = Bug ORDER BY key"),
        None,
    )
    .unwrap();
    assert_eq!(split.registered_jql, "project = DEMO AND issuetype = Bug");
    assert_eq!(
        split.residual.map(|q| q.to_string()).as_deref(),
        Some("labels = urgent")
    );
}

#[test]
fn an_or_with_an_unsupported_branch_registers_the_projects_of_every_branch() {
    let split = split_filter(
        Some("project = A AND labels = x OR project = B AND priority = High"),
        None,
    )
    .unwrap();
    assert_eq!(split.registered_jql, "project = A OR project = B");
    assert_eq!(
        split.residual.map(|q| q.to_string()).as_deref(),
        Some("project = A AND labels = x OR project = B AND priority = High")
    );
}

#[test]
fn the_project_option_bounds_a_filter_without_a_registrable_clause() {
    let split = split_filter(None, Some("OPS")).unwrap();
    assert_eq!(split.registered_jql, "project = OPS");
    assert_eq!(split.residual, None);
    let split = split_filter(Some("labels = x"), Some("OPS")).unwrap();
    assert_eq!(split.registered_jql, "project = OPS");
    assert!(split.residual.is_some());
}

#[test]
fn a_filter_with_nothing_jira_accepts_is_refused_with_the_reason() {
    let error = split_filter(Some("labels = x OR project = A"), None).unwrap_err();
    assert!(
        matches!(error, FilterError::NothingToRegister { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("labels = x OR project = A"),
        "{error}"
    );
    let error = split_filter(None, None).unwrap_err();
    assert!(
        error.to_string().contains("neither JQL nor a project"),
        "{error}"
    );
}

#[test]
fn functions_and_empty_are_not_registered() {
    let split = split_filter(
        Some("project = A AND assignee = currentUser() AND reporter IS EMPTY"),
        None,
    )
    .unwrap();
    assert_eq!(split.registered_jql, "project = A");
    assert_eq!(
        split.residual.map(|q| q.to_string()).as_deref(),
        Some("assignee = currentUser() AND reporter IS EMPTY")
    );
}

#[test]
fn bad_jql_is_reported_with_the_parser_message() {
    let error = split_filter(Some("project = "), None).unwrap_err();
    assert!(matches!(error, FilterError::Jql { .. }), "{error}");
    assert!(error.to_string().contains("project ="), "{error}");
}
