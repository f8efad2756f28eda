//! Printing canonical JQL and composing queries from code.

use jiraflow_jql::{Clause, Field, Operand, Operator, OrderKey, Query, parse, quote_value};

fn reprint(jql: &str) -> String {
    parse(jql)
        .unwrap_or_else(|e| panic!("{jql:?} should parse: {e}"))
        .to_string()
}

fn assert_round_trips(query: &Query) {
    let text = query.to_string();
    let again = parse(&text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"));
    assert_eq!(again.normalized(), query.normalized(), "via {text:?}");
}

#[test]
fn canonical_output_uppercases_keywords_and_normalises_spacing() {
    assert_eq!(
        reprint(
            "project=DEMO and(status  in(Done,'In Progress')or assignee is empty)order by key desc,created"
        ),
        "project = DEMO AND (status IN (Done, \"In Progress\") OR assignee IS EMPTY) ORDER BY key DESC, created"
    );
    assert_eq!(
        reprint("a = b || !c = d && e != f"),
        "a = b OR NOT c = d AND e != f"
    );
    assert_eq!(reprint("ORDER BY rank"), "ORDER BY rank");
    assert_eq!(reprint(""), "");
}

#[test]
fn values_are_quoted_only_when_needed() {
    assert_eq!(reprint("key = \"DEMO-1\""), "key = DEMO-1");
    assert_eq!(reprint("updated > '-15m'"), "updated > -15m");
    assert_eq!(reprint("a = \"two words\""), "a = \"two words\"");
    assert_eq!(reprint("a = \"42\""), "a = \"42\"");
    assert_eq!(reprint("a = 42"), "a = 42");
    assert_eq!(reprint("a = \"EMPTY\""), "a = \"EMPTY\"");
    assert_eq!(reprint("a = 'user'"), "a = \"user\"");
    assert_eq!(reprint("a = \"5%\""), "a = \"5%\"");
    assert_eq!(reprint("a = \"\""), "a = \"\"");
    assert_eq!(reprint("a = \"x=y\""), "a = \"x=y\"");
    assert_eq!(reprint("a = x\\ y"), "a = \"x y\"");
}

#[test]
fn quoted_output_escapes_quotes_backslashes_and_control_characters() {
    assert_eq!(
        reprint(r#"a ~ "say \"hi\" \\ \n\t\u0001 it's""#),
        r#"a ~ "say \"hi\" \\ \n\t\u0001 it's""#
    );
    assert_eq!(
        quote_value("a\"b\\c\rd\u{7f}e\u{fffe}"),
        r#""a\"b\\c\rd\u007fe\ufffe""#
    );
}

#[test]
fn quote_value_always_produces_a_string_literal() {
    for input in [
        "",
        "DEMO",
        "42",
        "EMPTY",
        "null",
        "AND",
        "currentUser()",
        "a\" OR b = \"c",
        "x) OR (y",
    ] {
        let jql = format!("summary ~ {}", quote_value(input));
        let query = parse(&jql).unwrap_or_else(|e| panic!("{jql:?}: {e}"));
        assert_eq!(
            query.normalized(),
            Query::from_clause(Clause::field_cmp(
                "summary",
                Operator::Like,
                Operand::string(input)
            )),
            "{jql}"
        );
    }
}

#[test]
fn fields_print_in_the_form_that_reads_back() {
    assert_eq!(reprint("\"Story Points\" > 3"), "\"Story Points\" > 3");
    assert_eq!(reprint("\"project\" = x"), "project = x");
    assert_eq!(reprint("\"order\" = x"), "\"order\" = x");
    assert_eq!(reprint("CF[10010] = x"), "cf[10010] = x");
    assert_eq!(
        reprint("issue.property[support].level.name = high"),
        "issue.property[support].level.name = high"
    );
    assert_eq!(
        reprint("issue.property[\"my key\"] = 1"),
        "issue.property[\"my key\"] = 1"
    );
    assert_eq!(
        Clause::field_cmp(Field::issue_property("k", "a b"), Operator::Eq, "x").to_string(),
        "issue.property[k]\".a b\" = x"
    );
}

#[test]
fn functions_lists_and_history_clauses_print_canonically() {
    assert_eq!(
        reprint("a in (b, membersOf( \"jira users\" ), startOfDay(-1d), (c))"),
        "a IN (b, membersOf(\"jira users\"), startOfDay(-1d), (c))"
    );
    assert_eq!(
        reprint("status was not in (Done) by currentUser() during (-2w, now())"),
        "status WAS NOT IN (Done) BY currentUser() DURING (-2w, now())"
    );
    assert_eq!(
        reprint("status changed from 'To Do' to Done after -1d"),
        "status CHANGED FROM \"To Do\" TO Done AFTER -1d"
    );
    assert_eq!(reprint("a changed"), "a CHANGED");
}

#[test]
fn nested_chains_keep_their_parentheses_and_redundant_ones_disappear() {
    assert_eq!(
        reprint("(a = 1 OR b = 2) AND c = 3"),
        "(a = 1 OR b = 2) AND c = 3"
    );
    assert_eq!(
        reprint("(a = 1 AND b = 2) OR c = 3"),
        "a = 1 AND b = 2 OR c = 3"
    );
    assert_eq!(
        reprint("a = 1 OR (b = 2 OR c = 3)"),
        "a = 1 OR (b = 2 OR c = 3)"
    );
    assert_eq!(reprint("NOT (a = 1 AND b = 2)"), "NOT (a = 1 AND b = 2)");
    assert_eq!(reprint("NOT NOT a = 1"), "NOT NOT a = 1");
    assert_eq!(reprint("((a = 1))"), "a = 1");
    for jql in [
        "(a = 1 OR b = 2) AND c = 3",
        "a = 1 OR (b = 2 OR c = 3)",
        "(a = 1 AND b = 2) AND c = 3",
        "NOT (a = 1 OR b = 2) AND NOT c = 3",
    ] {
        assert_round_trips(&parse(jql).expect("parses"));
    }
}

#[test]
fn anding_a_restriction_keeps_the_users_or_chain_together() {
    let user = parse("project = A OR project = B ORDER BY priority DESC").expect("parses");
    let poll = user
        .without_order_by()
        .and(Clause::field_cmp(
            "updated",
            Operator::Gte,
            Operand::epoch_millis(1_768_653_240_000),
        ))
        .with_order_by([OrderKey::asc("updated"), OrderKey::asc("key")]);
    assert_eq!(
        poll.to_string(),
        "(project = A OR project = B) AND updated >= 1768653240000 ORDER BY updated ASC, key ASC"
    );
    assert_round_trips(&poll);
}

#[test]
fn anding_onto_an_and_chain_keeps_it_as_one_unit() {
    let user = parse("a = 1 AND b = 2").expect("parses");
    let q = user.and(Clause::is_not_empty("assignee"));
    assert_eq!(q.to_string(), "(a = 1 AND b = 2) AND assignee IS NOT EMPTY");
    assert_round_trips(&q);
}

#[test]
fn anding_onto_an_empty_query_gives_just_the_restriction() {
    let q = parse("ORDER BY key")
        .expect("parses")
        .and(Clause::field_cmp("project", Operator::Eq, "DEMO"));
    assert_eq!(q.to_string(), "project = DEMO ORDER BY key");
}

#[test]
fn without_order_by_drops_only_the_sort() {
    let q = parse("a = b ORDER BY c")
        .expect("parses")
        .without_order_by();
    assert_eq!(q.to_string(), "a = b");
    assert!(q.order_by.is_empty());
}

#[test]
fn constructors_build_the_common_clauses() {
    assert_eq!(
        Clause::field_in("status", ["To Do", "Done"]).to_string(),
        "status IN (\"To Do\", Done)"
    );
    assert_eq!(
        Clause::is_empty("assignee").to_string(),
        "assignee IS EMPTY"
    );
    assert_eq!(
        Clause::field_cmp(Field::custom(10010), Operator::Gt, 5).to_string(),
        "cf[10010] > 5"
    );
    assert_eq!(
        Clause::field_cmp(
            "assignee",
            Operator::Eq,
            Operand::function("currentUser", Vec::<String>::new())
        )
        .to_string(),
        "assignee = currentUser()"
    );
    assert_eq!(
        Clause::field_cmp(
            "created",
            Operator::Gt,
            Operand::function("startOfDay", ["-1d"])
        )
        .to_string(),
        "created > startOfDay(-1d)"
    );
    let any = Clause::any([
        Clause::field_cmp("a", Operator::Eq, 1),
        Clause::field_cmp("b", Operator::Eq, 2),
    ]);
    let all = Clause::all([
        any.clone().unwrap_or_else(|| Clause::is_empty("x")),
        Clause::negate(Clause::field_cmp("c", Operator::Eq, 3)),
    ]);
    assert_eq!(
        all.map(|c| c.to_string()).unwrap_or_default(),
        "(a = 1 OR b = 2) AND NOT c = 3"
    );
    assert_eq!(Clause::all(Vec::new()), None);
    assert_eq!(
        Clause::either(
            Clause::is_empty("a"),
            any.unwrap_or_else(|| Clause::is_empty("x"))
        )
        .to_string(),
        "a IS EMPTY OR (a = 1 OR b = 2)"
    );
    assert_eq!(
        Clause::both(Clause::is_empty("a"), Clause::is_empty("b")).to_string(),
        "a IS EMPTY AND b IS EMPTY"
    );
}

#[test]
fn values_from_user_input_cannot_inject_syntax() {
    let hostile = "x\" OR project = SECRET OR summary ~ \"";
    let q = Query::from_clause(Clause::field_cmp("summary", Operator::Like, hostile));
    assert_round_trips(&q);
    let reparsed = parse(&q.to_string()).expect("parses");
    assert!(matches!(reparsed.clause, Some(Clause::Compare(_))));
}
