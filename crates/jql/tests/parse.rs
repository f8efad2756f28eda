//! Parsing every JQL construct into the syntax tree.

use jiraflow_jql::{
    Clause, Comparison, Direction, Field, FieldName, HistoryPredicate, Operand, OperandKind,
    Operator, OrderKey, PredicateKind, Query, Span, WasOperator, parse,
};

fn tree(jql: &str) -> Query {
    parse(jql)
        .unwrap_or_else(|e| panic!("{jql:?} should parse: {e}"))
        .normalized()
}

fn clause(jql: &str) -> Clause {
    tree(jql)
        .clause
        .unwrap_or_else(|| panic!("{jql:?} has a condition"))
}

fn cmp(field: impl Into<Field>, op: Operator, operand: impl Into<Operand>) -> Clause {
    Clause::field_cmp(field, op, operand)
}

fn and(clauses: Vec<Clause>) -> Clause {
    Clause::And {
        clauses,
        span: Span::SYNTHETIC,
    }
}

fn or(clauses: Vec<Clause>) -> Clause {
    Clause::Or {
        clauses,
        span: Span::SYNTHETIC,
    }
}

#[test]
fn an_empty_query_has_neither_condition_nor_order() {
    assert_eq!(tree(""), Query::default());
    assert_eq!(tree("   \n\t "), Query::default());
}

#[test]
fn a_simple_comparison_keeps_field_operator_and_value() {
    assert_eq!(
        clause("project = DEMO"),
        cmp("project", Operator::Eq, "DEMO")
    );
}

#[test]
fn every_comparison_operator_is_recognised() {
    let cases = [
        ("a = b", Operator::Eq),
        ("a != b", Operator::NotEq),
        ("a ~ b", Operator::Like),
        ("a !~ b", Operator::NotLike),
        ("a > b", Operator::Gt),
        ("a >= b", Operator::Gte),
        ("a < b", Operator::Lt),
        ("a <= b", Operator::Lte),
        ("a in (b)", Operator::In),
        ("a not in (b)", Operator::NotIn),
        ("a is b", Operator::Is),
        ("a is not b", Operator::IsNot),
    ];
    for (jql, op) in cases {
        let Clause::Compare(Comparison { op: got, .. }) = clause(jql) else {
            panic!("{jql:?} is a comparison");
        };
        assert_eq!(got, op, "{jql}");
    }
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(
        clause("a = b aNd c iN (d) oR NOT e Is NoT nUlL"),
        or(vec![
            and(vec![
                cmp("a", Operator::Eq, "b"),
                cmp("c", Operator::In, Operand::list(["d"])),
            ]),
            Clause::negate(Clause::is_not_empty("e")),
        ])
    );
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    assert_eq!(
        clause("a = 1 OR NOT b = 2 AND c = 3"),
        or(vec![
            cmp("a", Operator::Eq, 1),
            and(vec![
                Clause::negate(cmp("b", Operator::Eq, 2)),
                cmp("c", Operator::Eq, 3),
            ]),
        ])
    );
}

#[test]
fn symbolic_logical_operators_mean_the_same_as_the_words() {
    assert_eq!(
        clause("a = 1 || !b = 2 && c = 3"),
        clause("a = 1 OR NOT b = 2 AND c = 3")
    );
    assert_eq!(clause("a=1&b=2|c=3"), clause("a = 1 AND b = 2 OR c = 3"));
}

#[test]
fn parentheses_override_precedence_and_stay_separate_nodes() {
    assert_eq!(
        clause("(a = 1 OR b = 2) AND c = 3"),
        and(vec![
            or(vec![cmp("a", Operator::Eq, 1), cmp("b", Operator::Eq, 2)]),
            cmp("c", Operator::Eq, 3),
        ])
    );
    assert_eq!(
        clause("(a = 1 AND b = 2) AND c = 3"),
        and(vec![
            and(vec![cmp("a", Operator::Eq, 1), cmp("b", Operator::Eq, 2)]),
            cmp("c", Operator::Eq, 3),
        ])
    );
    assert_eq!(clause("((a = 1))"), cmp("a", Operator::Eq, 1));
}

#[test]
fn chains_at_one_level_are_flat() {
    let Clause::And { clauses, .. } = clause("a = 1 AND b = 2 AND c = 3 AND d = 4") else {
        panic!("an AND chain");
    };
    assert_eq!(clauses.len(), 4);
}

#[test]
fn quoted_field_names_custom_fields_and_properties_are_fields() {
    assert_eq!(
        clause("\"Story Points\" > 3")
            .field()
            .map(|f| f.name.clone()),
        Some(FieldName::Named("Story Points".into()))
    );
    assert_eq!(
        clause("cf[10010] = x").field().map(|f| f.name.clone()),
        Some(FieldName::CustomId(10010))
    );
    let named = clause("customfield_10010 = x");
    let field = named.field().cloned().unwrap_or_else(|| Field::named("?"));
    assert_eq!(field.as_named(), Some("customfield_10010"));
    assert_eq!(field.custom_field_id(), Some(10010));
    let property = clause("issue.property[support].level.name = high");
    let name = property.field().map(|f| f.name.clone());
    assert_eq!(
        name,
        Some(FieldName::Property {
            name: "issue.property".into(),
            key: "support".into(),
            path: "level.name".into(),
        })
    );
    assert_eq!(
        name.as_ref().and_then(FieldName::property_entity),
        Some("issue")
    );
    assert_eq!(
        clause("issue.property[\"my key\"] = 1")
            .field()
            .map(|f| f.name.clone()),
        Some(FieldName::Property {
            name: "issue.property".into(),
            key: "my key".into(),
            path: String::new(),
        })
    );
}

#[test]
fn unquoted_values_cover_keys_relative_dates_and_numbers() {
    let value = |jql: &str| match clause(jql) {
        Clause::Compare(c) => c.operand.kind,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        value("issuekey = DEMO-1"),
        OperandKind::String("DEMO-1".into())
    );
    assert_eq!(value("updated > -15m"), OperandKind::String("-15m".into()));
    assert_eq!(
        value("due = 2026-01-17"),
        OperandKind::String("2026-01-17".into())
    );
    assert_eq!(value("votes >= 42"), OperandKind::Number(42));
    assert_eq!(value("votes >= -3"), OperandKind::Number(-3));
    assert_eq!(
        value("updated >= 1768653240000"),
        OperandKind::Number(1_768_653_240_000)
    );
    assert_eq!(value("summary ~ 1.5"), OperandKind::String("1.5".into()));
    assert_eq!(value("summary ~ café"), OperandKind::String("café".into()));
}

#[test]
fn quoted_values_are_strings_even_when_they_look_like_numbers_or_keywords() {
    let value = |jql: &str| match clause(jql) {
        Clause::Compare(c) => c.operand.kind,
        other => panic!("{other:?}"),
    };
    assert_eq!(value("a = \"42\""), OperandKind::String("42".into()));
    assert_eq!(value("a = 'EMPTY'"), OperandKind::String("EMPTY".into()));
    assert_eq!(
        value(r#"a = "2026/01/17 12:34""#),
        OperandKind::String("2026/01/17 12:34".into())
    );
    assert_eq!(
        value(r#"a ~ "say \"hi\" \\ \t\u0041""#),
        OperandKind::String("say \"hi\" \\ \tA".into())
    );
    assert_eq!(value(r"a ~ 'it\'s'"), OperandKind::String("it's".into()));
    assert_eq!(value("a = \"\""), OperandKind::String(String::new()));
    assert_eq!(value(r"a = 50\u0025"), OperandKind::String("50%".into()));
}

#[test]
fn empty_and_null_are_the_same_operand() {
    assert_eq!(clause("a is EMPTY"), clause("a is null"));
    assert_eq!(clause("a IS NULL"), Clause::is_empty("a"));
}

#[test]
fn lists_hold_values_functions_and_nested_lists() {
    assert_eq!(
        clause("labels in (a, \"b c\", 7, currentUser(), (d))"),
        cmp(
            "labels",
            Operator::In,
            Operand::list([
                Operand::string("a"),
                Operand::string("b c"),
                Operand::number(7),
                Operand::function("currentUser", Vec::<String>::new()),
                Operand::list(["d"]),
            ])
        )
    );
}

#[test]
fn functions_take_text_arguments_quoted_or_not() {
    let operand = |jql: &str| match clause(jql) {
        Clause::Compare(c) => c.operand,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        operand("assignee = currentUser()"),
        Operand::function("currentUser", Vec::<String>::new())
    );
    assert_eq!(
        operand("updated > startOfDay(-1d)"),
        Operand::function("startOfDay", ["-1d"])
    );
    assert_eq!(
        operand("updated < endOfWeek(\"+1w\")"),
        Operand::function("endOfWeek", ["+1w"])
    );
    assert_eq!(
        operand("assignee in membersOf('jira users', 12)"),
        Operand::function("membersOf", ["jira users", "12"])
    );
    assert_eq!(
        operand("created > now ( )"),
        Operand::function("now", Vec::<String>::new())
    );
}

#[test]
fn history_clauses_keep_their_operator_operand_and_predicates() {
    let Clause::Was(was) =
        clause("status WAS NOT IN (Done, Closed) BY currentUser() DURING (-2w, now()) ON -1d")
    else {
        panic!("a WAS clause");
    };
    assert_eq!(was.op, WasOperator::WasNotIn);
    let kinds: Vec<PredicateKind> = was.predicates.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [PredicateKind::By, PredicateKind::During, PredicateKind::On]
    );
    for (jql, op) in [
        ("a was b", WasOperator::Was),
        ("a was not b", WasOperator::WasNot),
        ("a was in (b)", WasOperator::WasIn),
        ("a WAS NOT IN (b)", WasOperator::WasNotIn),
    ] {
        let Clause::Was(was) = clause(jql) else {
            panic!("{jql}");
        };
        assert_eq!(was.op, op, "{jql}");
    }
    let Clause::Changed(changed) =
        clause("status changed FROM \"To Do\" TO Done AFTER -1d BEFORE now()")
    else {
        panic!("a CHANGED clause");
    };
    assert_eq!(
        changed.predicates,
        vec![
            predicate(PredicateKind::From, Operand::string("To Do")),
            predicate(PredicateKind::To, Operand::string("Done")),
            predicate(PredicateKind::After, Operand::string("-1d")),
            predicate(
                PredicateKind::Before,
                Operand::function("now", Vec::<String>::new())
            ),
        ]
    );
    assert!(matches!(clause("assignee changed"), Clause::Changed(c) if c.predicates.is_empty()));
}

fn predicate(kind: PredicateKind, operand: Operand) -> HistoryPredicate {
    HistoryPredicate {
        kind,
        operand,
        span: Span::SYNTHETIC,
    }
}

#[test]
fn order_by_takes_several_keys_with_optional_directions() {
    let query = tree("project = DEMO order by updated DESC, key asc, \"Story Points\", cf[10010]");
    assert_eq!(
        query.order_by,
        vec![
            OrderKey::desc("updated"),
            OrderKey::asc("key"),
            OrderKey::new("Story Points", None),
            OrderKey::new(Field::custom(10010), None),
        ]
    );
    let only_order = tree("ORDER BY rank");
    assert_eq!(only_order.clause, None);
    assert_eq!(only_order.order_by, vec![OrderKey::new("rank", None)]);
    assert_eq!(
        tree("order by issue.property[p].x desc").order_by[0].direction,
        Some(Direction::Desc)
    );
}

#[test]
fn spans_point_at_the_text_each_node_came_from() {
    let jql = "project = DEMO AND NOT (assignee in (a, b)) ORDER BY key";
    let query = parse(jql).expect("parses");
    let text = |span: Span| -> String {
        jql.chars()
            .skip(span.start)
            .take(span.end - span.start)
            .collect()
    };
    let Some(Clause::And { clauses, span }) = &query.clause else {
        panic!("an AND");
    };
    assert_eq!(text(*span), "project = DEMO AND NOT (assignee in (a, b))");
    let Clause::Compare(first) = &clauses[0] else {
        panic!("a comparison");
    };
    assert_eq!(text(first.span), "project = DEMO");
    assert_eq!(text(first.field.span), "project");
    assert_eq!(text(first.op_span), "=");
    assert_eq!(text(first.operand.span), "DEMO");
    let Clause::Not {
        clause: inner,
        span,
    } = &clauses[1]
    else {
        panic!("a NOT");
    };
    assert_eq!(text(*span), "NOT (assignee in (a, b))");
    let Clause::Compare(inner) = inner.as_ref() else {
        panic!("a comparison");
    };
    assert_eq!(text(inner.operand.span), "(a, b)");
    assert_eq!(text(inner.op_span), "in");
    assert_eq!(text(query.order_by[0].span), "key");
}

#[test]
fn spans_are_counted_in_characters_for_non_ascii_text() {
    let query = parse("summary ~ \"Ünïcödé\" AND x = y").expect("parses");
    let Some(Clause::And { clauses, .. }) = &query.clause else {
        panic!("an AND");
    };
    assert_eq!(clauses[1].span(), Span::new(24, 29));
}

#[test]
fn whitespace_and_newlines_separate_tokens_anywhere() {
    assert_eq!(
        tree("project\n=\tDEMO\r\nORDER\nBY\nkey"),
        tree("project = DEMO ORDER BY key")
    );
}

#[test]
fn queries_parse_through_from_str_too() {
    let query: Query = "a = b".parse().expect("parses");
    assert_eq!(query.normalized(), tree("a = b"));
}
