//! The JQL syntax tree: queries, clauses, fields, operators, operands and ORDER BY keys.
//!
//! Every node carries a [`Span`] (character offsets into the parsed text) so errors raised while
//! evaluating a query can point at the part the user wrote. Nodes built in code (with the
//! constructors such as [`Clause::field_cmp`]) carry [`Span::SYNTHETIC`]. Two trees that differ only in spans
//! compare equal after [`Query::normalized`].
//!
//! The tree mirrors Jira's own query model: a string operand and a number operand are different
//! things (`updated >= 1768653240000` is an instant in epoch milliseconds, `"1768653240000"` is
//! text), `EMPTY` and `NULL` are the same operand, and the history operators (`WAS`, `CHANGED`)
//! have their own clause kinds so an evaluator can reject them with a positioned error.

use serde::{Deserialize, Serialize};

/// A range of character (not byte) offsets into the query text: `start` inclusive, `end`
/// exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    /// Offset of the first character.
    pub start: usize,
    /// Offset one past the last character.
    pub end: usize,
}

impl Span {
    /// The span of nodes built in code rather than parsed.
    pub const SYNTHETIC: Span = Span { start: 0, end: 0 };

    /// A span from `start` (inclusive) to `end` (exclusive).
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A whole JQL query: an optional condition and an optional ORDER BY.
///
/// The empty string parses to a query with neither (Jira accepts it and matches every issue the
/// caller may browse).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Query {
    /// The condition (Jira's "where" clause); `None` when the query has none.
    pub clause: Option<Clause>,
    /// The sort keys, in order; empty when the query has no ORDER BY.
    pub order_by: Vec<OrderKey>,
}

/// A condition.
///
/// Parsing builds n-ary `And`/`Or` nodes from a chain at one nesting level (`a AND b AND c` is one
/// `And` with three clauses); a parenthesised group stays a separate node, so `(a AND b) AND c`
/// is an `And` whose first clause is an `And`. Printing reproduces that shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clause {
    /// Matches when every clause matches. Holds at least two clauses.
    And {
        /// The combined clauses.
        clauses: Vec<Clause>,
        /// Where the chain was written.
        span: Span,
    },
    /// Matches when any clause matches. Holds at least two clauses.
    Or {
        /// The combined clauses.
        clauses: Vec<Clause>,
        /// Where the chain was written.
        span: Span,
    },
    /// Matches when the inner clause does not (`NOT x`, `!x`).
    Not {
        /// The negated clause.
        clause: Box<Clause>,
        /// From the `NOT` to the end of the negated clause.
        span: Span,
    },
    /// `field OP operand` with one of the current-value operators.
    Compare(Comparison),
    /// `field WAS [NOT] [IN] operand [predicates]`: a search over the field's history.
    Was(WasClause),
    /// `field CHANGED [predicates]`: a search over the field's history.
    Changed(ChangedClause),
}

/// A terminal clause comparing a field's current value: `status = Done`, `labels IN (a, b)`,
/// `assignee IS EMPTY`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// The field compared.
    pub field: Field,
    /// The operator.
    pub op: Operator,
    /// Where the operator was written.
    pub op_span: Span,
    /// The right-hand side.
    pub operand: Operand,
    /// The whole clause.
    pub span: Span,
}

/// The current-value operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operator {
    /// `=`
    Eq,
    /// `!=`
    NotEq,
    /// `~` (text contains)
    Like,
    /// `!~` (text does not contain)
    NotLike,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `IN`
    In,
    /// `NOT IN`
    NotIn,
    /// `IS` (Jira only accepts `EMPTY`/`NULL` after it; that is checked when validating, not when
    /// parsing, exactly as Jira does)
    Is,
    /// `IS NOT`
    IsNot,
}

/// A history clause: `status WAS "In Progress" BY currentUser() AFTER -1w`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasClause {
    /// The field whose history is searched.
    pub field: Field,
    /// Which WAS operator.
    pub op: WasOperator,
    /// Where the operator was written.
    pub op_span: Span,
    /// The value (or list, or function) looked for.
    pub operand: Operand,
    /// The `BY`/`AFTER`/`BEFORE`/`DURING`/`ON` refinements, in written order.
    pub predicates: Vec<HistoryPredicate>,
    /// The whole clause.
    pub span: Span,
}

/// The history operators taking an operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WasOperator {
    /// `WAS`
    Was,
    /// `WAS NOT`
    WasNot,
    /// `WAS IN`
    WasIn,
    /// `WAS NOT IN`
    WasNotIn,
}

/// `field CHANGED [predicates]`: `status CHANGED FROM "To Do" TO Done AFTER -1d`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedClause {
    /// The field whose history is searched.
    pub field: Field,
    /// Where `CHANGED` was written.
    pub op_span: Span,
    /// The `FROM`/`TO`/`BY`/`AFTER`/`BEFORE`/`DURING`/`ON` refinements, in written order.
    pub predicates: Vec<HistoryPredicate>,
    /// The whole clause.
    pub span: Span,
}

/// One refinement of a history clause: `AFTER -1w`, `BY currentUser()`, `DURING (a, b)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPredicate {
    /// Which predicate.
    pub kind: PredicateKind,
    /// Its operand.
    pub operand: Operand,
    /// From the keyword to the end of the operand.
    pub span: Span,
}

/// The history predicate keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PredicateKind {
    /// `AFTER`
    After,
    /// `BEFORE`
    Before,
    /// `BY`
    By,
    /// `DURING`
    During,
    /// `ON`
    On,
    /// `FROM`
    From,
    /// `TO`
    To,
}

/// A field reference: the left-hand side of a clause or an ORDER BY key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// What the reference names.
    pub name: FieldName,
    /// Where it was written.
    pub span: Span,
}

/// The ways JQL names a field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldName {
    /// A field by name, alias or id, exactly as written (quotes removed, escapes decoded):
    /// `project`, `Story Points` (from `"Story Points"`), `customfield_10010`. Jira matches names
    /// case-insensitively; that is the evaluator's business, the tree keeps the user's spelling.
    Named(String),
    /// A custom field by numeric id: `cf[10010]`.
    CustomId(u64),
    /// An entity property: `issue.property[support].level.name` is
    /// `{ name: "issue.property", key: "support", path: "level.name" }`.
    Property {
        /// The text before the brackets, normally `issue.property`.
        name: String,
        /// The property key, between the brackets.
        key: String,
        /// The path into the property's JSON value, without the leading dot; empty when none was
        /// written.
        path: String,
    },
}

/// The right-hand side of a clause or predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operand {
    /// What the operand is.
    pub kind: OperandKind,
    /// Where it was written (for a list, from `(` to `)`).
    pub span: Span,
}

/// The kinds of operand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperandKind {
    /// `EMPTY` or `NULL`.
    Empty,
    /// A text value: an unquoted word (`DEMO-1`, `-15m`, `Done`) or a quoted string, unescaped.
    String(String),
    /// An unquoted whole number (`42`, `-7`, `1768653240000`). For date fields Jira reads it as
    /// an instant in epoch milliseconds.
    Number(i64),
    /// A function call: `currentUser()`, `startOfDay(-1d)`, `membersOf("jira-users")`. Arguments
    /// are always text, exactly as Jira passes them to the function.
    Function {
        /// The function name as written.
        name: String,
        /// The arguments, unquoted and unescaped.
        args: Vec<String>,
    },
    /// A parenthesised list: `(A, "B c", currentUser())`. Holds at least one operand.
    List(Vec<Operand>),
}

/// One ORDER BY key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderKey {
    /// The field sorted by.
    pub field: Field,
    /// The direction, if one was written (Jira then uses the field's default order).
    pub direction: Option<Direction>,
    /// The whole key.
    pub span: Span,
}

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

impl Clause {
    /// Where the clause was written.
    pub fn span(&self) -> Span {
        match self {
            Clause::And { span, .. } | Clause::Or { span, .. } | Clause::Not { span, .. } => *span,
            Clause::Compare(c) => c.span,
            Clause::Was(c) => c.span,
            Clause::Changed(c) => c.span,
        }
    }

    /// The field of a terminal clause (`None` for `And`/`Or`/`Not`).
    pub fn field(&self) -> Option<&Field> {
        match self {
            Clause::Compare(c) => Some(&c.field),
            Clause::Was(c) => Some(&c.field),
            Clause::Changed(c) => Some(&c.field),
            Clause::And { .. } | Clause::Or { .. } | Clause::Not { .. } => None,
        }
    }
}

impl Field {
    /// The custom field id for `cf[10010]` and for the id spelling `customfield_10010`.
    pub fn custom_field_id(&self) -> Option<u64> {
        match &self.name {
            FieldName::CustomId(id) => Some(*id),
            FieldName::Named(name) => {
                let digits = name.strip_prefix("customfield_")?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.parse().ok()
            }
            FieldName::Property { .. } => None,
        }
    }

    /// The plain name for `Named` fields.
    pub fn as_named(&self) -> Option<&str> {
        match &self.name {
            FieldName::Named(name) => Some(name),
            FieldName::CustomId(_) | FieldName::Property { .. } => None,
        }
    }
}

impl FieldName {
    /// For a property reference, the entity it belongs to: `issue` for `issue.property[..]`.
    pub fn property_entity(&self) -> Option<&str> {
        match self {
            FieldName::Property { name, .. } => {
                let cut = name.len().checked_sub(".property".len())?;
                let (entity, suffix) = (name.get(..cut)?, name.get(cut..)?);
                suffix.eq_ignore_ascii_case(".property").then_some(entity)
            }
            FieldName::Named(_) | FieldName::CustomId(_) => None,
        }
    }
}

impl Operator {
    /// Jira's internal name for the operator, used in its messages ("The EQUALS operator ...").
    pub fn jira_name(self) -> &'static str {
        match self {
            Operator::Eq => "EQUALS",
            Operator::NotEq => "NOT_EQUALS",
            Operator::Like => "LIKE",
            Operator::NotLike => "NOT_LIKE",
            Operator::Gt => "GREATER_THAN",
            Operator::Gte => "GREATER_THAN_EQUALS",
            Operator::Lt => "LESS_THAN",
            Operator::Lte => "LESS_THAN_EQUALS",
            Operator::In => "IN",
            Operator::NotIn => "NOT_IN",
            Operator::Is => "IS",
            Operator::IsNot => "IS_NOT",
        }
    }

    /// The operator as written in canonical JQL (`=`, `NOT IN`, ...).
    pub fn as_jql(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::NotEq => "!=",
            Operator::Like => "~",
            Operator::NotLike => "!~",
            Operator::Gt => ">",
            Operator::Gte => ">=",
            Operator::Lt => "<",
            Operator::Lte => "<=",
            Operator::In => "IN",
            Operator::NotIn => "NOT IN",
            Operator::Is => "IS",
            Operator::IsNot => "IS NOT",
        }
    }
}

impl WasOperator {
    /// Jira's internal name for the operator, used in its messages.
    pub fn jira_name(self) -> &'static str {
        match self {
            WasOperator::Was => "WAS",
            WasOperator::WasNot => "WAS_NOT",
            WasOperator::WasIn => "WAS_IN",
            WasOperator::WasNotIn => "WAS_NOT_IN",
        }
    }

    /// The operator as written in canonical JQL.
    pub fn as_jql(self) -> &'static str {
        match self {
            WasOperator::Was => "WAS",
            WasOperator::WasNot => "WAS NOT",
            WasOperator::WasIn => "WAS IN",
            WasOperator::WasNotIn => "WAS NOT IN",
        }
    }
}

impl PredicateKind {
    /// The keyword as written in canonical JQL.
    pub fn as_jql(self) -> &'static str {
        match self {
            PredicateKind::After => "AFTER",
            PredicateKind::Before => "BEFORE",
            PredicateKind::By => "BY",
            PredicateKind::During => "DURING",
            PredicateKind::On => "ON",
            PredicateKind::From => "FROM",
            PredicateKind::To => "TO",
        }
    }
}

impl Direction {
    /// The keyword as written in canonical JQL.
    pub fn as_jql(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }
}
