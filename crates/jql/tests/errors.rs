//! Syntax errors: Jira's message, word for word, and the position Jira reports.
//!
//! Most cases are the ones Jira's own parser is checked against; the expected texts are Jira's.

use jiraflow_jql::{ErrorKind, JqlError, MAX_DEPTH, parse};

fn error(jql: &str) -> JqlError {
    match parse(jql) {
        Ok(query) => panic!("{jql:?} should be rejected, parsed as {query:?}"),
        Err(e) => e,
    }
}

/// Asserts the full rendered message: Jira's prefix, message and position suffix.
fn rejects(jql: &str, message: &str) {
    assert_eq!(
        error(jql).to_string(),
        format!("Error in the JQL Query: {message}"),
        "for {jql:?}"
    );
}

const OPERATORS: &str = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.";
const ESCAPES: &str = r#"The valid escape sequences are \', \", \t, \n, \r, \\, '\ ' and \uXXXX."#;

#[test]
fn a_word_where_the_operator_belongs_is_reported_with_the_valid_operators() {
    rejects(
        "project foo",
        &format!("Expecting operator but got 'foo'. {OPERATORS} (line 1, character 9)"),
    );
    rejects(
        "a blah >",
        &format!("Expecting operator but got 'blah'. {OPERATORS} (line 1, character 3)"),
    );
    rejects(
        "a",
        &format!("Expecting operator before the end of the query. {OPERATORS}"),
    );
}

#[test]
fn the_error_exposes_line_column_and_offset() {
    let e = error("project foo");
    assert_eq!((e.line(), e.column(), e.offset()), (1, 9, 8));
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert!(e.message().starts_with("Expecting operator but got 'foo'."));
    let e = error("project = DEMO\nAND\n  status Done");
    assert_eq!((e.line(), e.column(), e.offset()), (3, 10, 28));
    assert!(e.to_string().ends_with("(line 3, character 10)"));
}

#[test]
fn an_unterminated_quote_is_reported_at_the_opening_quote() {
    rejects(
        "summary ~ \"abc",
        "The quoted string 'abc' has not been completed. (line 1, character 11)",
    );
    rejects(
        "comment ~ 'test",
        "The quoted string 'test' has not been completed. (line 1, character 11)",
    );
    rejects(
        "comment ~ 'test\n",
        "The quoted string 'test ' has not been completed. (line 1, character 11)",
    );
    rejects(
        "priority=\"test\nword",
        "The quoted string 'test word' has not been completed. (line 1, character 10)",
    );
    rejects(
        "comment ~ '",
        "The quoted string has not been completed. (line 1, character 11)",
    );
    assert_eq!(error("a = \"x").kind(), ErrorKind::UnterminatedString);
}

#[test]
fn a_missing_logical_operator_names_the_stray_token() {
    rejects(
        "project = DEMO status = x",
        "Expecting either 'OR' or 'AND' but got 'status'. (line 1, character 16)",
    );
    rejects(
        "a=b c=d",
        "Expecting either 'OR' or 'AND' but got 'c'. (line 1, character 5)",
    );
    rejects(
        "a=b !c=d",
        "Expecting either 'OR' or 'AND' but got '!'. (line 1, character 5)",
    );
    rejects(
        "comment !~ \"brenden\" jack = jill",
        "Expecting either 'OR' or 'AND' but got 'jack'. (line 1, character 22)",
    );
    rejects(
        "a = b )",
        "Expecting either 'OR' or 'AND' but got ')'. (line 1, character 7)",
    );
    rejects(
        "status was (fred, bob) at '10:55'",
        "Expecting either 'OR' or 'AND' but got 'at'. (line 1, character 24)",
    );
}

#[test]
fn a_missing_or_misplaced_field_name_is_reported() {
    rejects(
        "a = b AND",
        "Expecting a field name at the end of the query.",
    );
    rejects(
        "a = ((c,d), d, e, f, yyy) and",
        "Expecting a field name at the end of the query.",
    );
    rejects(
        ", a = b",
        "Expecting a field name but got ','. You must surround ',' in quotation marks to use it as a field name. (line 1, character 1)",
    );
    rejects(
        "[brenden] = a",
        "Expecting a field name but got '['. Did you mean 'cf['? (line 1, character 1)",
    );
    rejects(
        "a = brenden and [78] = q",
        "Expecting a field name but got '['. Did you mean 'cf['? (line 1, character 17)",
    );
    rejects(
        "a = b and empty = c",
        "Expecting a field name but got 'empty'. You must surround 'empty' in quotation marks to use it as a field name. (line 1, character 11)",
    );
}

#[test]
fn reserved_characters_must_be_quoted_or_escaped() {
    rejects(
        "summary ~ 5%",
        "The character '%' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0025' instead. (line 1, character 12)",
    );
    rejects(
        "mine{www = qwwr",
        "The character '{' is a reserved JQL character. You must enclose it in a string or use the escape '\\u007b' instead. (line 1, character 5)",
    );
    rejects(
        "minewww# = qwwr",
        "The character '#' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0023' instead. (line 1, character 8)",
    );
    rejects(
        "minewww = qwwr}",
        "The character '}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u007d' instead. (line 1, character 15)",
    );
    rejects(
        "reporter=a/user/with/slash",
        "The character '/' is a reserved JQL character. You must enclose it in a string or use the escape '\\u002f' instead. (line 1, character 11)",
    );
    assert_eq!(
        error("due = 2026/01/17").kind(),
        ErrorKind::ReservedCharacter
    );
    for c in ['{', '}', '*', '/', '%', '+', '^', '$', '#', '@', '?', ';'] {
        assert_eq!(
            error(&format!("a = b{c}")).kind(),
            ErrorKind::ReservedCharacter,
            "{c}"
        );
        assert!(parse(&format!("a = \"b{c}\"")).is_ok(), "quoted {c}");
    }
}

#[test]
fn control_characters_must_be_escaped_even_inside_quotes() {
    rejects(
        "minewww =\u{7f}qwwr",
        "The character 'U+007F' on line 1 at position 10 must be escaped. Use the escape '\\u007f' instead. (line 1, character 10)",
    );
    rejects(
        "mqwwr\u{7f}",
        "The character 'U+007F' on line 1 at position 6 must be escaped. Use the escape '\\u007f' instead. (line 1, character 6)",
    );
    rejects(
        "mqwwr=\"\u{7f} this is broken\"",
        "The character 'U+007F' on line 1 at position 8 must be escaped. Use the escape '\\u007f' instead. (line 1, character 8)",
    );
    assert_eq!(error("a = \"\u{0}\"").kind(), ErrorKind::IllegalCharacter);
}

#[test]
fn illegal_and_unfinished_escapes_are_reported_at_the_backslash() {
    rejects(
        "comme\\unt ~ 'test",
        &format!("'\\un' is an illegal JQL escape sequence. {ESCAPES} (line 1, character 6)"),
    );
    rejects(
        "status =\n\n\n\n\n\n \\c",
        &format!("'\\c' is an illegal JQL escape sequence. {ESCAPES} (line 7, character 2)"),
    );
    rejects(
        "status =\n\n\n\n\\",
        &format!("The escape sequence has not been completed. {ESCAPES} (line 5, character 1)"),
    );
    rejects(
        "status =\n\n\n\n\\u",
        &format!("'\\u' is an illegal JQL escape sequence. {ESCAPES} (line 5, character 1)"),
    );
    rejects(
        "status =\n\n\n\n'\\u'",
        &format!("'\\u'' is an illegal JQL escape sequence. {ESCAPES} (line 5, character 2)"),
    );
    assert_eq!(error("a = \"\\q\"").kind(), ErrorKind::IllegalEscape);
}

#[test]
fn unquoted_reserved_words_are_rejected_anywhere() {
    for word in [
        "user", "for", "select", "FOR", "Execute", "if", "raise", "next", "when",
    ] {
        rejects(
            &format!("summary ~ {word}"),
            &format!(
                "'{word}' is a reserved JQL word. You must surround it in quotation marks to use it in a query. (line 1, character 11)"
            ),
        );
        assert!(
            parse(&format!("summary ~ \"{word}\"")).is_ok(),
            "quoted {word}"
        );
    }
    assert_eq!(error("user = x").kind(), ErrorKind::ReservedWord);
    assert_eq!(error("a = b order by date").kind(), ErrorKind::ReservedWord);
    // An escape does not hide a reserved word.
    assert_eq!(error("a = \\u0061nd").kind(), ErrorKind::ReservedWord);
}

#[test]
fn keywords_in_value_position_must_be_quoted() {
    rejects(
        "project = OR AND labels in (x)",
        "Expecting either a value, list or function but got 'OR'. You must surround 'OR' in quotation marks to use it as a value. (line 1, character 11)",
    );
    rejects(
        "status = In Progress",
        "Expecting either a value, list or function but got 'In'. You must surround 'In' in quotation marks to use it as a value. (line 1, character 10)",
    );
}

#[test]
fn a_missing_or_bad_operand_is_reported() {
    rejects(
        "a=",
        "Expecting either a value, list or function before the end of the query.",
    );
    rejects(
        "a=!",
        "Expecting either a value, list or function but got '!'. You must surround '!' in quotation marks to use it as a value. (line 1, character 3)",
    );
    rejects(
        "a=(a,",
        "Expecting either a value, list or function before the end of the query.",
    );
    rejects(
        "a=(a,(,bad))",
        "Expecting either a value, list or function but got ','. You must surround ',' in quotation marks to use it as a value. (line 1, character 7)",
    );
    rejects(
        "project = LAUNCH AND status = = Done",
        "Expecting either a value, list or function but got '='. You must surround '=' in quotation marks to use it as a value. (line 1, character 31)",
    );
    rejects(
        "a in ()",
        "Expecting either a value, list or function but got ')'. You must surround ')' in quotation marks to use it as a value. (line 1, character 7)",
    );
    rejects(
        "a was",
        "Expecting either a value, list or function before the end of the query.",
    );
}

#[test]
fn two_word_operators_name_the_missing_word() {
    rejects(
        "a =a and j not is empty",
        "Expecting 'IN' but got 'is'. (line 1, character 16)",
    );
    rejects(
        "a =a and j is ! empty",
        "Expecting 'NOT' but got '!'. (line 1, character 15)",
    );
    rejects(
        "a not was \"Open\"",
        "Expecting 'IN' but got 'was'. (line 1, character 7)",
    );
    rejects("a not", "Expecting 'IN' before the end of the query.");
}

#[test]
fn custom_field_references_need_a_bracketed_positive_id() {
    rejects("cf", "Expecting '[' before the end of the query.");
    rejects(
        "a = b and not (cf = 6)",
        "Expecting '[' but got '='. (line 1, character 19)",
    );
    rejects(
        "cf[",
        "Expecting a custom field id (a positive number) before the end of the query.",
    );
    rejects(
        "cf[ = 9",
        "Expecting a custom field id (a positive number) but got '='. (line 1, character 5)",
    );
    rejects(
        "cf[] = 1",
        "Expecting a custom field id (a positive number) but got ']'. (line 1, character 4)",
    );
    rejects(
        "cf[29829k] = ",
        "Expecting a custom field id (a positive number) but got '29829k'. (line 1, character 4)",
    );
    rejects(
        "cf[-29829] = ",
        "Expecting a custom field id (a positive number) but got '-29829'. (line 1, character 4)",
    );
    rejects(
        "cf[29829 = world",
        "Expecting ']' but got '='. (line 1, character 10)",
    );
    rejects("cf[29829", "Expecting ']' before the end of the query.");
}

#[test]
fn numbers_outside_sixty_four_bits_are_rejected() {
    rejects(
        "aaaaa=-3482094382084092840932809482",
        "'-3482094382084092840932809482' is not a valid number. Numbers must be between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807. (line 1, character 7)",
    );
    rejects(
        "cf[1002020202002020202020202020020202822]=a",
        "'1002020202002020202020202020020202822' is not a valid number. Numbers must be between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807. (line 1, character 4)",
    );
    assert!(parse("a = 9223372036854775807 and b = -9223372036854775808").is_ok());
    assert_eq!(
        error("a = 9223372036854775808").kind(),
        ErrorKind::IllegalNumber
    );
    // Function arguments keep their digits as text, however long.
    assert!(parse("a = f(99999999999999999999999)").is_ok());
}

#[test]
fn function_calls_report_missing_parentheses_and_arguments() {
    rejects("a = func(", "Expecting ')' before the end of the query.");
    rejects(
        "a = func(, and not (a = x)",
        "Expecting ')' but got ','. (line 1, character 10)",
    );
    rejects("b=func(bad", "Expecting ')' before the end of the query.");
    rejects(
        "bas=func(bad,)",
        "Function argument must be specified. (line 1, character 14)",
    );
    rejects(
        "bas=func(bad,",
        "Expecting a function argument at the end of the query.",
    );
    rejects(
        "k = func(!",
        "Expecting a function argument but got '!'. You must surround '!' in quotation marks to use it as an argument. (line 1, character 10)",
    );
    rejects(
        "k = func(abc, jk!)",
        "Expecting ')' or ',' but got '!'. (line 1, character 17)",
    );
}

#[test]
fn unmatched_parentheses_are_reported() {
    rejects(
        "(a=b and c = d",
        "Expecting ')' before the end of the query.",
    );
    rejects(
        "a=b or (c=d and not l ~ kate",
        "Expecting ')' before the end of the query.",
    );
    rejects(
        "b in ((12, (288)",
        "Expecting ')' before the end of the query.",
    );
    rejects(
        "abc IN ((foo) abc = a",
        "Expecting ')' but got 'abc'. (line 1, character 15)",
    );
}

#[test]
fn order_by_errors_name_what_was_expected() {
    rejects("a =b order", "Expecting 'by' before the end of the query.");
    rejects(
        "a =b order summary",
        "Expecting 'by' but got 'summary'. (line 1, character 12)",
    );
    rejects(
        "a =b order by",
        "Expecting a field name at the end of the query.",
    );
    rejects(
        "a =b order by asc",
        "Expecting a field name but got 'asc'. You must surround 'asc' in quotation marks to use it as a field name. (line 1, character 15)",
    );
    rejects(
        "a =b order by ajsks blah",
        "Expecting either 'ASC' or 'DESC' but got 'blah'. (line 1, character 21)",
    );
    rejects(
        "comment !~ \"brenden\" and cf[1000] = jill order by a desc b",
        "Expecting ',' but got 'b'. (line 1, character 58)",
    );
    rejects(
        "order by a desc d",
        "Expecting ',' but got 'd'. (line 1, character 17)",
    );
    rejects(
        "order by a, ",
        "Expecting a field name at the end of the query.",
    );
}

#[test]
fn empty_field_and_function_names_are_rejected() {
    rejects(
        "a =b order by \"\" desc",
        "A field name cannot be empty. (line 1, character 15)",
    );
    rejects(
        "'' = c",
        "A field name cannot be empty. (line 1, character 1)",
    );
    rejects(
        "summary ~ bad and \n\\  ~ cool",
        "A field name cannot be empty. (line 2, character 1)",
    );
    rejects(
        "a = ''()",
        "A function name cannot be empty. (line 1, character 5)",
    );
    rejects(
        "a = \"\"()",
        "A function name cannot be empty. (line 1, character 5)",
    );
    assert_eq!(error("'' = c").kind(), ErrorKind::EmptyName);
}

#[test]
fn history_predicates_are_only_accepted_after_history_operators() {
    rejects(
        "status = \"Open\" by admin",
        "The EQUALS operator does not support the use of the by \"admin\" predicate.",
    );
    rejects(
        "fixVersion changed 4 by \"I can type complete rubbish here\"",
        "The CHANGED operator does not support the use of values without predicates. You must prefix the 4 value with a suitable predicate.",
    );
    let e = error("status = Open by admin");
    assert_eq!(e.kind(), ErrorKind::UnsupportedPredicate);
    assert_eq!(e.offset(), 14);
}

#[test]
fn nesting_deeper_than_the_limit_fails_with_a_positioned_error() {
    let ok = format!("{}a = b{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
    let deep = format!(
        "{}a = b{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let e = error(&deep);
    assert_eq!(e.kind(), ErrorKind::TooDeep);
    assert_eq!(e.offset(), MAX_DEPTH);
    assert_eq!(e.column(), MAX_DEPTH + 1);
    assert_eq!(
        error(&"NOT ".repeat(MAX_DEPTH + 1)).kind(),
        ErrorKind::TooDeep
    );
    let lists = format!(
        "a in {}b{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(error(&lists).kind(), ErrorKind::TooDeep);
}

#[test]
fn a_lexical_error_anywhere_wins_over_an_earlier_grammar_error() {
    // Jira lexes the whole query first.
    assert_eq!(error("a blah > #").kind(), ErrorKind::ReservedCharacter);
}

#[test]
fn the_examples_in_the_documentation_report_what_it_says() {
    rejects(
        "a = x\\q",
        &format!("'\\q' is an illegal JQL escape sequence. {ESCAPES} (line 1, character 6)"),
    );
    rejects(
        "a = \"\u{7f}\"",
        "The character 'U+007F' on line 1 at position 6 must be escaped. Use the escape '\\u007f' instead. (line 1, character 6)",
    );
    rejects(
        "cf[abc] = 1",
        "Expecting a custom field id (a positive number) but got 'abc'. (line 1, character 4)",
    );
    rejects(
        "a = 99999999999999999999",
        "'99999999999999999999' is not a valid number. Numbers must be between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807. (line 1, character 5)",
    );
    rejects(
        "a = f(x,)",
        "Function argument must be specified. (line 1, character 9)",
    );
    rejects(
        "a = b order by c d",
        "Expecting either 'ASC' or 'DESC' but got 'd'. (line 1, character 18)",
    );
    rejects(
        "\"\" = c",
        "A field name cannot be empty. (line 1, character 1)",
    );
    rejects(
        "status changed 4",
        "The CHANGED operator does not support the use of values without predicates. You must prefix the 4 value with a suitable predicate.",
    );
    let deep = format!("{}a = b{}", "(".repeat(101), ")".repeat(101));
    rejects(
        &deep,
        "The query is nested too deeply: parentheses, lists and NOT may nest at most 100 levels. (line 1, character 101)",
    );
}
