//! JQL composition for callers: validation positions, the polling window query, quoting and the
//! clause builder, with property tests over generated user queries.

#![allow(clippy::unwrap_used)]

use jiraflow_jira::jql::{Jql, TimeField, compose_window, quote, render_error, validate};
use jiraflow_jql::{Clause, Direction, parse};
use proptest::prelude::*;

#[test]
fn validation_errors_carry_jiras_message_and_position() {
    let error = validate("project = DEMO AND").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Error in the JQL Query: Expecting a field name at the end of the query."
    );
    let error = validate("status = In Progress").unwrap_err();
    assert_eq!((error.line(), error.column(), error.offset()), (1, 10, 9));
    assert_eq!(
        render_error("status = In Progress", &error),
        "error: Error in the JQL Query: Expecting either a value, list or function but got 'In'. \
         You must surround 'In' in quotation marks to use it as a value. (line 1, character 10)\n  \
         status = In Progress\n           ^"
    );
}

#[test]
fn the_window_wraps_an_or_and_replaces_the_users_order_by() {
    let query = compose_window(
        Some("project = DEMO OR assignee = currentUser() order by priority desc, key"),
        TimeField::Updated,
        1_768_653_240_000,
        None,
        Direction::Asc,
    )
    .unwrap();
    assert_eq!(
        query.to_string(),
        "(project = DEMO OR assignee = currentUser()) AND updated >= 1768653240000 \
         ORDER BY updated ASC, id ASC"
    );
}

#[test]
fn the_window_keeps_an_and_chain_as_one_unit() {
    let query = compose_window(
        Some("project = DEMO AND status != Done"),
        TimeField::Created,
        1,
        Some(2),
        Direction::Desc,
    )
    .unwrap();
    assert_eq!(
        query.to_string(),
        "(project = DEMO AND status != Done) AND created >= 1 AND created < 2 \
         ORDER BY created DESC, id DESC"
    );
}

#[test]
fn a_query_of_only_order_by_or_blank_text_becomes_just_the_bounds() {
    for user in ["ORDER BY rank", "   ", ""] {
        let query =
            compose_window(Some(user), TimeField::Updated, 7, Some(9), Direction::Asc).unwrap();
        assert_eq!(
            query.to_string(),
            "updated >= 7 AND updated < 9 ORDER BY updated ASC, id ASC"
        );
    }
}

#[test]
fn invalid_user_jql_is_rejected_before_composition() {
    let error = compose_window(Some("a = "), TimeField::Updated, 0, None, Direction::Asc);
    assert!(error.is_err());
}

#[test]
fn quote_makes_any_input_a_single_string_value() {
    let hostile = "x\" OR project = SECRET ORDER BY key";
    let jql = format!("labels = {}", quote(hostile));
    let query = parse(&jql).unwrap();
    assert!(query.order_by.is_empty());
    assert!(matches!(query.clause, Some(Clause::Compare(_))));
}

#[test]
fn the_builder_prints_canonical_jql() {
    let clause = Jql::all([
        Jql::field("project").eq("DEMO"),
        Jql::field("labels").in_list(["urgent", "needs triage"]),
        Jql::not(Jql::field("status").eq("Done")),
        Jql::custom(10016).gte(3),
        Jql::field("assignee").is_empty(),
        Jql::field("summary").contains("printer"),
        Jql::field("updated").since_ms(1_768_653_240_000),
    ])
    .unwrap();
    assert_eq!(
        clause.to_string(),
        "project = DEMO AND labels IN (urgent, \"needs triage\") AND NOT status = Done AND \
         cf[10016] >= 3 AND assignee IS EMPTY AND summary ~ printer AND updated >= 1768653240000"
    );
    let either = Jql::any([Jql::field("a").lt(1), Jql::field("b").not_in_list(["x"])]).unwrap();
    assert_eq!(either.to_string(), "a < 1 OR b NOT IN (x)");
}

/// Generated user JQL: comparisons over a small vocabulary (values that need quoting included),
/// combined with AND, OR, NOT and parentheses, optionally with an ORDER BY.
fn terminal() -> impl Strategy<Value = String> {
    let field = prop::sample::select(vec![
        "project",
        "status",
        "\"Story Points\"",
        "cf[10016]",
        "labels",
        "updated",
    ]);
    let op = prop::sample::select(vec![
        "=", "!=", "~", ">=", "<", "in", "not in", "is", "is not",
    ]);
    let value = prop::sample::select(vec![
        "DEMO",
        "\"In Progress\"",
        "'order by key'",
        "42",
        "-15m",
        "currentUser()",
        "\"a\\\"b\"",
    ]);
    (field, op, value).prop_map(|(f, op, v)| match op {
        "in" | "not in" => format!("{f} {op} ({v}, x)"),
        "is" | "is not" => format!("{f} {op} EMPTY"),
        _ => format!("{f} {op} {v}"),
    })
}

fn condition() -> impl Strategy<Value = String> {
    terminal().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn user_jql() -> impl Strategy<Value = String> {
    let order = prop::option::of(prop::sample::select(vec![
        " ORDER BY rank",
        " order by priority DESC, key",
        " ORDER BY \"Story Points\" asc",
    ]));
    (prop::option::of(condition()), order)
        .prop_map(|(c, o)| format!("{}{}", c.unwrap_or_default(), o.unwrap_or_default()))
}

proptest! {
    #[test]
    fn composed_windows_parse_keep_the_users_clause_and_have_one_order_by(
        user in user_jql(),
        from in any::<i64>(),
        to in prop::option::of(any::<i64>()),
        updated in any::<bool>(),
        asc in any::<bool>(),
    ) {
        let field = if updated { TimeField::Updated } else { TimeField::Created };
        let direction = if asc { Direction::Asc } else { Direction::Desc };
        let composed = compose_window(Some(&user), field, from, to, direction).unwrap();
        let text = composed.to_string();
        let reparsed = parse(&text).unwrap();
        prop_assert_eq!(reparsed.normalized(), composed.normalized());
        // Exactly our two sort keys, whatever the user wrote.
        let keys: Vec<String> = reparsed.order_by.iter().map(ToString::to_string).collect();
        let dir = if asc { "ASC" } else { "DESC" };
        prop_assert_eq!(keys, vec![format!("{} {dir}", field.as_str()), format!("id {dir}")]);
        // The user's condition is the first operand of the AND, printed exactly as on its own.
        let original = parse(&user).unwrap();
        if let Some(user_clause) = original.clause {
            let Some(Clause::And { clauses, .. }) = reparsed.clause else {
                return Err(TestCaseError::fail(format!("not an AND: {text}")));
            };
            prop_assert_eq!(clauses[0].to_string(), user_clause.to_string());
            prop_assert_eq!(clauses[0].normalized(), user_clause.normalized());
            prop_assert_eq!(clauses.len(), if to.is_some() { 3 } else { 2 });
        }
    }
}
