//! JQL for callers of the client: validation with positions, the polling window query
//! (the user's filter as one unit AND epoch-millisecond bounds, sorted by the time field and id),
//! value quoting, a small clause builder, and a caret rendering of syntax errors.
//!
//! Everything works on the `jiraflow-jql` syntax tree, never on text: a user's `ORDER BY` is
//! dropped from the tree, not cut out with a regular expression, and the user's `a OR b` stays
//! parenthesised when restricted further.
//!
//! ```
//! use jiraflow_jira::jql::{compose_window, Jql, TimeField};
//! use jiraflow_jql::Direction;
//!
//! let poll = compose_window(
//!     Some("project = DEMO OR labels = urgent ORDER BY priority DESC"),
//!     TimeField::Updated,
//!     1_768_653_240_000,
//!     Some(1_768_653_840_000),
//!     Direction::Asc,
//! )
//! .unwrap();
//! assert_eq!(
//!     poll.to_string(),
//!     "(project = DEMO OR labels = urgent) AND updated >= 1768653240000 \
//!      AND updated < 1768653840000 ORDER BY updated ASC, id ASC"
//! );
//! assert_eq!(Jql::field("Story Points").gte(5).to_string(), "\"Story Points\" >= 5");
//! ```

use jiraflow_jql::{
    Clause, Direction, Field, JqlError, Operand, Operator, OrderKey, Query, Span, parse,
};

/// Parses `jql`, failing with Jira's message and position (line, column, offset) for anything
/// Jira rejects as syntax.
pub fn validate(jql: &str) -> Result<Query, JqlError> {
    parse(jql)
}

/// `value` as a double-quoted, escaped JQL string: safe for any user input.
pub fn quote(value: &str) -> String {
    jiraflow_jql::quote_value(value)
}

/// The time field a polling window is bounded and sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeField {
    /// `updated`: new or changed issues.
    Updated,
    /// `created`: new issues only.
    Created,
}

impl TimeField {
    /// The JQL field name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeField::Updated => "updated",
            TimeField::Created => "created",
        }
    }
}

/// The polling query for the half-open window `[from_ms, to_ms)` of `time_field`:
/// `(<user JQL without ORDER BY>) AND <field> >= from AND <field> < to ORDER BY <field> <order>,
/// id <order>`.
///
/// Bounds are epoch milliseconds, which Jira reads as absolute instants whatever the user's time
/// zone (quoted dates would be read in the user's profile zone). `id` breaks ties between issues
/// updated in the same millisecond, so paging is stable. An empty or absent user query leaves
/// just the bounds; the user's own `ORDER BY` is always replaced.
pub fn compose_window(
    user_jql: Option<&str>,
    time_field: TimeField,
    from_ms: i64,
    to_ms: Option<i64>,
    order: Direction,
) -> Result<Query, JqlError> {
    let user = match user_jql {
        Some(text) => parse(text)?,
        None => Query::default(),
    };
    Ok(window(user, time_field, from_ms, to_ms, order))
}

/// [`compose_window`] for an already parsed user query.
pub fn window(
    user: Query,
    time_field: TimeField,
    from_ms: i64,
    to_ms: Option<i64>,
    order: Direction,
) -> Query {
    let field = time_field.as_str();
    let mut clauses = Vec::with_capacity(3);
    if let Some(clause) = user.clause {
        // The user's condition is one child of the AND: the printer parenthesises it when it is
        // an AND/OR chain, so its precedence cannot leak into the bounds.
        clauses.push(clause);
    }
    clauses.push(Clause::field_cmp(
        field,
        Operator::Gte,
        Operand::epoch_millis(from_ms),
    ));
    if let Some(to) = to_ms {
        clauses.push(Clause::field_cmp(
            field,
            Operator::Lt,
            Operand::epoch_millis(to),
        ));
    }
    let clause = if clauses.len() == 1 {
        clauses.pop()
    } else {
        Some(Clause::And {
            clauses,
            span: Span::SYNTHETIC,
        })
    };
    Query {
        clause,
        order_by: vec![
            OrderKey::new(field, Some(order)),
            OrderKey::new("id", Some(order)),
        ],
    }
}

/// Entry point of the clause builder: `Jql::field("status").eq("Done")`.
#[derive(Debug, Clone, Copy)]
pub struct Jql;

impl Jql {
    /// A field by name (`status`, `"Story Points"`, `customfield_10016`).
    pub fn field(name: impl Into<String>) -> FieldRef {
        FieldRef(Field::named(name))
    }

    /// A custom field by number, printed `cf[10016]`.
    pub fn custom(id: u64) -> FieldRef {
        FieldRef(Field::custom(id))
    }

    /// Every clause (`a AND b AND ...`); `None` when there are none.
    pub fn all(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        Clause::all(clauses)
    }

    /// Any clause (`a OR b OR ...`); `None` when there are none.
    pub fn any(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        Clause::any(clauses)
    }

    /// `NOT clause`.
    pub fn not(clause: Clause) -> Clause {
        Clause::negate(clause)
    }
}

/// A field on the left of a clause being built; each method returns the finished [`Clause`].
#[derive(Debug, Clone)]
pub struct FieldRef(Field);

impl FieldRef {
    fn cmp(self, op: Operator, value: impl Into<Operand>) -> Clause {
        Clause::field_cmp(self.0, op, value)
    }

    /// `field = value`
    pub fn eq(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::Eq, value)
    }

    /// `field != value`
    pub fn not_eq(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::NotEq, value)
    }

    /// `field > value`
    pub fn gt(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::Gt, value)
    }

    /// `field >= value`
    pub fn gte(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::Gte, value)
    }

    /// `field < value`
    pub fn lt(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::Lt, value)
    }

    /// `field <= value`
    pub fn lte(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::Lte, value)
    }

    /// `field ~ value` (text contains)
    pub fn contains(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::Like, value)
    }

    /// `field !~ value`
    pub fn not_contains(self, value: impl Into<Operand>) -> Clause {
        self.cmp(Operator::NotLike, value)
    }

    /// `field IN (values)`
    pub fn in_list<V: Into<Operand>>(self, values: impl IntoIterator<Item = V>) -> Clause {
        self.cmp(Operator::In, Operand::list(values))
    }

    /// `field NOT IN (values)`
    pub fn not_in_list<V: Into<Operand>>(self, values: impl IntoIterator<Item = V>) -> Clause {
        self.cmp(Operator::NotIn, Operand::list(values))
    }

    /// `field IS EMPTY`
    pub fn is_empty(self) -> Clause {
        Clause::is_empty(self.0)
    }

    /// `field IS NOT EMPTY`
    pub fn is_not_empty(self) -> Clause {
        Clause::is_not_empty(self.0)
    }

    /// `field >= epochMillis`: an absolute instant, independent of time zones.
    pub fn since_ms(self, ms: i64) -> Clause {
        self.cmp(Operator::Gte, Operand::epoch_millis(ms))
    }
}

/// A syntax error as a terminal shows it: `error: <Jira's message>`, then the offending line of
/// the query with a caret under the error's position.
pub fn render_error(jql: &str, error: &JqlError) -> String {
    let line_no = error.line().max(1);
    let column = error.column().max(1);
    let line = jql.split('\n').nth(line_no - 1).unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    // Tabs are kept under tabs so the caret lines up in any tab width.
    let pad: String = line
        .chars()
        .take(column - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("error: {error}\n  {line}\n  {pad}^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_without_user_query_is_only_the_bounds() {
        let query = compose_window(None, TimeField::Created, 5, None, Direction::Desc);
        assert_eq!(
            query.map(|q| q.to_string()).ok().as_deref(),
            Some("created >= 5 ORDER BY created DESC, id DESC")
        );
    }

    #[test]
    fn caret_points_at_the_error_column() {
        let jql = "project = DEMO status = Done";
        let Err(error) = validate(jql) else {
            panic!("the query is invalid");
        };
        let rendered = render_error(jql, &error);
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[2].find('^'), Some(2 + 15));
    }
}
