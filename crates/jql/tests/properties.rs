//! Property tests: no input panics, hangs or overflows the stack; printed trees parse back to
//! the same tree; deep nesting fails cleanly.

use jiraflow_jql::{
    ChangedClause, Clause, Comparison, Direction, ErrorKind, Field, FieldName, HistoryPredicate,
    MAX_DEPTH, Operand, OperandKind, Operator, OrderKey, PredicateKind, Query, Span, WasClause,
    WasOperator, parse,
};
use proptest::prelude::*;

/// Fragments that make random input look like JQL often enough to reach deep parser states.
const FRAGMENTS: &[&str] = &[
    "a",
    "project",
    "DEMO-1",
    "\"x y\"",
    "'q'",
    "\"",
    "'",
    "\\",
    "\\u00",
    "\\n",
    "(",
    ")",
    ",",
    "[",
    "]",
    "cf",
    "cf[10010]",
    "issue.property[k].p",
    "=",
    "!=",
    "~",
    "!~",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "&",
    "&&",
    "|",
    "||",
    "AND",
    "or",
    "NOT",
    "in",
    "is",
    "EMPTY",
    "null",
    "was",
    "changed",
    "by",
    "after",
    "before",
    "during",
    "on",
    "from",
    "to",
    "ORDER",
    "BY",
    "asc",
    "DESC",
    "user",
    "42",
    "-7",
    "99999999999999999999",
    "-15m",
    "now()",
    "f(a, b)",
    "%",
    "#",
    "\u{7f}",
    "é",
    " ",
    "\n",
    "\t",
];

fn jqlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.join(" "))
}

fn jqlish_tight() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.concat())
}

/// Any text, biased towards characters that matter to the lexer.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.\\-]{1,12}",
        "[ -~]{0,12}",
        "\\PC{0,8}",
        prop::sample::select(vec![
            "EMPTY", "null", "and", "user", "42", "-7", "cf", "in", "\"", "\\", "a b", "", "\u{0}",
            "\u{fdd0}", "😀",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Text Jira accepts as a field or function name (not blank).
fn name() -> impl Strategy<Value = String> {
    text().prop_filter("names may not be blank", |s| !s.trim().is_empty())
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        3 => name().prop_map(Field::named),
        1 => (0..=i64::MAX as u64).prop_map(Field::custom),
        1 => (name(), text(), text().prop_filter("a path may not start with a dot", |p| !p.starts_with('.')))
            .prop_map(|(name, key, path)| Field {
                name: FieldName::Property { name, key, path },
                span: Span::SYNTHETIC,
            }),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    let leaf = prop_oneof![
        Just(Operand::empty()),
        text().prop_map(Operand::string),
        any::<i64>().prop_map(Operand::number),
        (name(), prop::collection::vec(text(), 0..3)).prop_map(|(n, a)| Operand::function(n, a)),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop::collection::vec(inner, 1..4).prop_map(|items| Operand {
            kind: OperandKind::List(items),
            span: Span::SYNTHETIC,
        })
    })
}

fn predicates() -> impl Strategy<Value = Vec<HistoryPredicate>> {
    let kind = prop::sample::select(vec![
        PredicateKind::After,
        PredicateKind::Before,
        PredicateKind::By,
        PredicateKind::During,
        PredicateKind::On,
        PredicateKind::From,
        PredicateKind::To,
    ]);
    prop::collection::vec(
        (kind, operand()).prop_map(|(kind, operand)| HistoryPredicate {
            kind,
            operand,
            span: Span::SYNTHETIC,
        }),
        0..3,
    )
}

fn terminal() -> impl Strategy<Value = Clause> {
    let op = prop::sample::select(vec![
        Operator::Eq,
        Operator::NotEq,
        Operator::Like,
        Operator::NotLike,
        Operator::Gt,
        Operator::Gte,
        Operator::Lt,
        Operator::Lte,
        Operator::In,
        Operator::NotIn,
        Operator::Is,
        Operator::IsNot,
    ]);
    let was_op = prop::sample::select(vec![
        WasOperator::Was,
        WasOperator::WasNot,
        WasOperator::WasIn,
        WasOperator::WasNotIn,
    ]);
    prop_oneof![
        4 => (field(), op, operand()).prop_map(|(field, op, operand)| Clause::Compare(Comparison {
            field,
            op,
            op_span: Span::SYNTHETIC,
            operand,
            span: Span::SYNTHETIC,
        })),
        1 => (field(), was_op, operand(), predicates()).prop_map(|(field, op, operand, predicates)| {
            Clause::Was(WasClause {
                field,
                op,
                op_span: Span::SYNTHETIC,
                operand,
                predicates,
                span: Span::SYNTHETIC,
            })
        }),
        1 => (field(), predicates()).prop_map(|(field, predicates)| Clause::Changed(ChangedClause {
            field,
            op_span: Span::SYNTHETIC,
            predicates,
            span: Span::SYNTHETIC,
        })),
    ]
}

fn clause() -> impl Strategy<Value = Clause> {
    terminal().prop_recursive(6, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|clauses| Clause::And {
                clauses,
                span: Span::SYNTHETIC,
            }),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|clauses| Clause::Or {
                clauses,
                span: Span::SYNTHETIC,
            }),
            inner.prop_map(Clause::negate),
        ]
    })
}

fn query() -> impl Strategy<Value = Query> {
    let direction = prop::option::of(prop::sample::select(vec![Direction::Asc, Direction::Desc]));
    let key = (field(), direction).prop_map(|(field, direction)| OrderKey::new(field, direction));
    (prop::option::of(clause()), prop::collection::vec(key, 0..3))
        .prop_map(|(clause, order_by)| Query { clause, order_by })
}

/// Parsing never panics, and an error's position lies within the input.
fn check_no_panic(input: &str) {
    if let Err(e) = parse(input) {
        let len = input.chars().count();
        assert!(
            e.offset() <= len,
            "offset {} past {len} for {input:?}",
            e.offset()
        );
        assert!(e.line() >= 1 && e.column() >= 1);
        assert!(e.to_string().starts_with("Error in the JQL Query: "));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(input in "\\PC{0,64}") {
        check_no_panic(&input);
    }

    #[test]
    fn arbitrary_bytes_as_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        check_no_panic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn jql_like_token_soup_never_panics_and_reprints_stably(input in prop_oneof![jqlish(), jqlish_tight()]) {
        check_no_panic(&input);
        if let Ok(query) = parse(&input) {
            let printed = query.to_string();
            let again = parse(&printed);
            prop_assert!(again.is_ok(), "{printed:?} from {input:?}: {again:?}");
            if let Ok(again) = again {
                prop_assert_eq!(again.normalized(), query.normalized());
                prop_assert_eq!(again.to_string(), printed);
            }
        }
    }

    #[test]
    fn generated_trees_print_to_jql_that_parses_back_to_the_same_tree(q in query()) {
        let printed = q.to_string();
        let parsed = parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed:?} failed: {parsed:?}");
        if let Ok(parsed) = parsed {
            prop_assert_eq!(parsed.normalized(), q.normalized(), "via {:?}", printed);
        }
    }

    #[test]
    fn deeply_nested_input_fails_cleanly(depth in (MAX_DEPTH + 1)..5_000usize, style in 0..4u8) {
        let input = match style {
            0 => format!("{}a = b{}", "(".repeat(depth), ")".repeat(depth)),
            1 => format!("{}a = b", "NOT ".repeat(depth)),
            2 => format!("a in {}b{}", "(".repeat(depth), ")".repeat(depth)),
            _ => "(".repeat(depth),
        };
        let result = parse(&input);
        prop_assert!(matches!(&result, Err(e) if e.kind() == ErrorKind::TooDeep), "{:?}", result.map(|_| ()));
    }
}

#[test]
fn a_megabyte_of_input_parses_without_trouble() {
    let long_chain = vec!["a = b"; 50_000].join(" AND ");
    let query = parse(&long_chain).expect("a long flat chain parses");
    assert!(
        matches!(query.clause, Some(Clause::And { ref clauses, .. }) if clauses.len() == 50_000)
    );
    assert_eq!(query.to_string(), long_chain);
    let long_word = "x".repeat(1 << 20);
    assert!(parse(&format!("a = {long_word}")).is_ok());
    assert!(parse(&"\"".repeat(1 << 20)).is_err());
    assert!(parse(&"\\".repeat(1 << 20)).is_err());
}
