//! JQL (Jira Query Language): lexer, parser, syntax tree, printer and safe composition.
//!
//! Shared by the simulator (which evaluates queries) and the client (which validates and composes
//! them). The grammar, reserved characters and words, and every error message follow Jira
//! Cloud's parser, so text Jira rejects is rejected here with the same words and position.
//!
//! - [`parse`] turns text into a [`Query`] ([`ast`] describes the tree; every node has a
//!   character [`Span`]).
//! - `Display` prints canonical JQL that parses back to the same tree.
//! - Composition works on the tree: [`Query::without_order_by`], [`Query::with_order_by`],
//!   [`Query::and`], [`Clause::field_cmp`] and friends, and [`quote_value`] for user input.
//!
//! Composing a polling query from a user's filter, whatever its precedence and ORDER BY:
//!
//! ```
//! use jiraflow_jql::{parse, Clause, Operand, Operator, OrderKey};
//!
//! let user = parse("project = DEMO OR labels in (urgent, \"needs triage\") ORDER BY rank").unwrap();
//! let poll = user
//!     .without_order_by()
//!     .and(Clause::field_cmp("updated", Operator::Gte, Operand::epoch_millis(1768653240000)))
//!     .with_order_by([OrderKey::asc("updated"), OrderKey::asc("key")]);
//! assert_eq!(
//!     poll.to_string(),
//!     "(project = DEMO OR labels IN (urgent, \"needs triage\")) AND updated >= 1768653240000 \
//!      ORDER BY updated ASC, key ASC"
//! );
//!
//! let err = parse("project = DEMO status = Done").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'status'. (line 1, character 16)"
//! );
//! assert_eq!((err.line(), err.column(), err.offset()), (1, 16, 15));
//! ```
//!
//! Putting user input into hand-written JQL:
//!
//! ```
//! use jiraflow_jql::{parse, quote_value};
//!
//! let label = "x\" OR project = SECRET";
//! let jql = format!("labels = {}", quote_value(label));
//! assert_eq!(jql, r#"labels = "x\" OR project = SECRET""#);
//! assert!(parse(&jql).is_ok_and(|q| q.clause.is_some_and(|c| c.field().is_some())));
//! ```

pub mod ast;
mod compose;
pub mod error;
mod lexer;
mod parser;
mod print;
mod words;

pub use ast::{
    ChangedClause, Clause, Comparison, Direction, Field, FieldName, HistoryPredicate, Operand,
    OperandKind, Operator, OrderKey, PredicateKind, Query, Span, WasClause, WasOperator,
};
pub use error::{ErrorKind, JqlError, line_column};
pub use print::quote_value;
pub use words::is_reserved_word;

/// How deeply parentheses, lists and `NOT`s may nest before the parser gives up with
/// [`ErrorKind::TooDeep`], so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 100;

/// Parses a JQL query, failing with Jira's message and position for anything Jira rejects as
/// syntax. (Whether fields, values and functions exist is for the evaluator to check.)
pub fn parse(input: &str) -> Result<Query, JqlError> {
    parser::parse_query(input)
}

impl std::str::FromStr for Query {
    type Err = JqlError;

    fn from_str(input: &str) -> Result<Query, JqlError> {
        parse(input)
    }
}
