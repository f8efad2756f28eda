//! The printer: canonical JQL for every syntax tree node, and safe quoting of values.
//!
//! Output re-parses to the same tree (spans aside): text is printed bare only when it lexes back
//! as the same text (not a keyword, reserved word, number or anything with special characters),
//! and nested `AND`/`OR` chains get the parentheses that keep their shape.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{
    ChangedClause, Clause, Comparison, Field, FieldName, HistoryPredicate, Operand, OperandKind,
    OrderKey, Query, WasClause,
};
use crate::words::{
    is_control_char, is_keyword, is_reserved_word, is_word_stop, looks_like_number,
};

/// Quotes `value` as a JQL string literal, escaping as needed: the safe way to put user input
/// into a query. The result is always a double-quoted string, so it can never be read as a
/// keyword, a number, `EMPTY`, a function call or more query syntax.
///
/// ```
/// assert_eq!(jiraflow_jql::quote_value("say \"hi\""), r#""say \"hi\"""#);
/// assert_eq!(jiraflow_jql::quote_value("EMPTY"), r#""EMPTY""#);
/// ```
pub fn quote_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_control_char(c) => {
                // Writing into a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `text` lexes back, unquoted, as this same text: no special characters, not a keyword
/// and not a reserved word.
fn is_bare_text(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(is_word_stop)
        && !is_keyword(text)
        && !is_reserved_word(text)
}

/// Text in a position where a number token reads back as the same text (field names, function
/// names and arguments, property keys).
fn encode_name(text: &str) -> String {
    if is_bare_text(text) {
        text.to_owned()
    } else {
        quote_value(text)
    }
}

/// A string operand: bare only if it cannot be mistaken for anything else, including a number.
fn encode_value(text: &str) -> String {
    if is_bare_text(text) && !looks_like_number(text) {
        text.to_owned()
    } else {
        quote_value(text)
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(clause) = &self.clause {
            write!(f, "{clause}")?;
            if !self.order_by.is_empty() {
                f.write_str(" ")?;
            }
        }
        if !self.order_by.is_empty() {
            f.write_str("ORDER BY ")?;
            for (i, key) in self.order_by.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{key}")?;
            }
        }
        Ok(())
    }
}

/// Where a clause is printed, which decides whether it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    InOr,
    InAnd,
    InNot,
}

/// An `And`/`Or` with a single clause prints as that clause.
fn effective(clause: &Clause) -> &Clause {
    match clause {
        Clause::And { clauses, .. } | Clause::Or { clauses, .. } if clauses.len() == 1 => {
            clauses.first().map_or(clause, effective)
        }
        other => other,
    }
}

fn write_clause(f: &mut Formatter<'_>, clause: &Clause, context: Context) -> fmt::Result {
    let clause = effective(clause);
    let parens = match clause {
        Clause::Or { .. } => context != Context::Top,
        Clause::And { .. } => matches!(context, Context::InAnd | Context::InNot),
        _ => false,
    };
    if parens {
        f.write_str("(")?;
    }
    match clause {
        Clause::And { clauses, .. } => write_chain(f, clauses, " AND ", Context::InAnd)?,
        Clause::Or { clauses, .. } => write_chain(f, clauses, " OR ", Context::InOr)?,
        Clause::Not { clause, .. } => {
            f.write_str("NOT ")?;
            write_clause(f, clause, Context::InNot)?;
        }
        Clause::Compare(c) => write!(f, "{c}")?,
        Clause::Was(c) => write!(f, "{c}")?,
        Clause::Changed(c) => write!(f, "{c}")?,
    }
    if parens {
        f.write_str(")")?;
    }
    Ok(())
}

fn write_chain(f: &mut Formatter<'_>, clauses: &[Clause], sep: &str, ctx: Context) -> fmt::Result {
    for (i, clause) in clauses.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write_clause(f, clause, ctx)?;
    }
    Ok(())
}

impl Display for Clause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_clause(f, self, Context::Top)
    }
}

impl Display for Comparison {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.field, self.op.as_jql(), self.operand)
    }
}

impl Display for WasClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.field, self.op.as_jql(), self.operand)?;
        for predicate in &self.predicates {
            write!(f, " {predicate}")?;
        }
        Ok(())
    }
}

impl Display for ChangedClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} CHANGED", self.field)?;
        for predicate in &self.predicates {
            write!(f, " {predicate}")?;
        }
        Ok(())
    }
}

impl Display for HistoryPredicate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_jql(), self.operand)
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl Display for FieldName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FieldName::Named(name) => f.write_str(&encode_name(name)),
            FieldName::CustomId(id) => write!(f, "cf[{id}]"),
            FieldName::Property { name, key, path } => {
                // A bare number cannot take brackets, so a numeric name is quoted like a value.
                write!(f, "{}[{}]", encode_value(name), encode_name(key))?;
                if !path.is_empty() {
                    // The path is one token that starts with the dot, so quoting covers it too.
                    f.write_str(&encode_name(&format!(".{path}")))?;
                }
                Ok(())
            }
        }
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            OperandKind::Empty => f.write_str("EMPTY"),
            OperandKind::String(text) => f.write_str(&encode_value(text)),
            OperandKind::Number(n) => write!(f, "{n}"),
            OperandKind::Function { name, args } => {
                write!(f, "{}(", encode_name(name))?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&encode_name(arg))?;
                }
                f.write_str(")")
            }
            OperandKind::List(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Display for OrderKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        if let Some(direction) = self.direction {
            write!(f, " {}", direction.as_jql())?;
        }
        Ok(())
    }
}
