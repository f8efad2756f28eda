//! Building and rewriting queries in code: constructors for common clauses and operands, the
//! ORDER BY and AND rewrites a connector needs, and span normalisation for comparing trees.
//!
//! Composition works on the syntax tree, never on text, so a user's `a OR b` combined with an
//! extra restriction prints as `(a OR b) AND extra`: precedence cannot leak.

use crate::ast::{
    ChangedClause, Clause, Comparison, Direction, Field, FieldName, HistoryPredicate, Operand,
    OperandKind, Operator, OrderKey, Query, Span, WasClause,
};

impl Query {
    /// A query with this condition and no ORDER BY.
    pub fn from_clause(clause: Clause) -> Self {
        Query {
            clause: Some(clause),
            order_by: Vec::new(),
        }
    }

    /// The same condition without any ORDER BY.
    pub fn without_order_by(self) -> Self {
        Query {
            clause: self.clause,
            order_by: Vec::new(),
        }
    }

    /// The same condition, sorted by `keys` instead of the query's own ORDER BY.
    pub fn with_order_by(self, keys: impl IntoIterator<Item = OrderKey>) -> Self {
        Query {
            clause: self.clause,
            order_by: keys.into_iter().collect(),
        }
    }

    /// The query restricted further by `extra`: `user AND extra`, where the user's condition
    /// stays one unit (it prints parenthesised when it is an `OR` or `AND` chain). A query with
    /// no condition becomes just `extra`. The ORDER BY is kept.
    pub fn and(self, extra: Clause) -> Self {
        let clause = match self.clause {
            None => extra,
            Some(user) => Clause::And {
                clauses: vec![user, extra],
                span: Span::SYNTHETIC,
            },
        };
        Query {
            clause: Some(clause),
            order_by: self.order_by,
        }
    }

    /// A copy with every span set to [`Span::SYNTHETIC`], for comparing trees regardless of where
    /// they were written.
    pub fn normalized(&self) -> Query {
        Query {
            clause: self.clause.as_ref().map(Clause::normalized),
            order_by: self.order_by.iter().map(OrderKey::normalized).collect(),
        }
    }
}

impl Clause {
    /// `field op value`, e.g. `Clause::field_cmp("updated", Operator::Gte, Operand::epoch_millis(t))`.
    pub fn field_cmp(field: impl Into<Field>, op: Operator, value: impl Into<Operand>) -> Clause {
        Clause::Compare(Comparison {
            field: field.into(),
            op,
            op_span: Span::SYNTHETIC,
            operand: value.into(),
            span: Span::SYNTHETIC,
        })
    }

    /// `field IN (values...)`.
    pub fn field_in<V: Into<Operand>>(
        field: impl Into<Field>,
        values: impl IntoIterator<Item = V>,
    ) -> Clause {
        Clause::field_cmp(field, Operator::In, Operand::list(values))
    }

    /// `field IS EMPTY`.
    pub fn is_empty(field: impl Into<Field>) -> Clause {
        Clause::field_cmp(field, Operator::Is, Operand::empty())
    }

    /// `field IS NOT EMPTY`.
    pub fn is_not_empty(field: impl Into<Field>) -> Clause {
        Clause::field_cmp(field, Operator::IsNot, Operand::empty())
    }

    /// `a AND b`. Either side that is itself a chain stays a unit (printed in parentheses).
    pub fn both(a: Clause, b: Clause) -> Clause {
        Clause::And {
            clauses: vec![a, b],
            span: Span::SYNTHETIC,
        }
    }

    /// `a OR b`. Either side that is itself an `OR` chain stays a unit.
    pub fn either(a: Clause, b: Clause) -> Clause {
        Clause::Or {
            clauses: vec![a, b],
            span: Span::SYNTHETIC,
        }
    }

    /// All of `clauses` joined by AND; a single clause is returned as is, none gives `None`.
    pub fn all(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        let mut clauses: Vec<Clause> = clauses.into_iter().collect();
        match clauses.len() {
            0 => None,
            1 => clauses.pop(),
            _ => Some(Clause::And {
                clauses,
                span: Span::SYNTHETIC,
            }),
        }
    }

    /// Any of `clauses` joined by OR; a single clause is returned as is, none gives `None`.
    pub fn any(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        let mut clauses: Vec<Clause> = clauses.into_iter().collect();
        match clauses.len() {
            0 => None,
            1 => clauses.pop(),
            _ => Some(Clause::Or {
                clauses,
                span: Span::SYNTHETIC,
            }),
        }
    }

    /// `NOT clause`.
    pub fn negate(clause: Clause) -> Clause {
        Clause::Not {
            clause: Box::new(clause),
            span: Span::SYNTHETIC,
        }
    }

    /// A copy with every span set to [`Span::SYNTHETIC`].
    pub fn normalized(&self) -> Clause {
        match self {
            Clause::And { clauses, .. } => Clause::And {
                clauses: clauses.iter().map(Clause::normalized).collect(),
                span: Span::SYNTHETIC,
            },
            Clause::Or { clauses, .. } => Clause::Or {
                clauses: clauses.iter().map(Clause::normalized).collect(),
                span: Span::SYNTHETIC,
            },
            Clause::Not { clause, .. } => Clause::Not {
                clause: Box::new(clause.normalized()),
                span: Span::SYNTHETIC,
            },
            Clause::Compare(c) => Clause::Compare(Comparison {
                field: c.field.normalized(),
                op: c.op,
                op_span: Span::SYNTHETIC,
                operand: c.operand.normalized(),
                span: Span::SYNTHETIC,
            }),
            Clause::Was(c) => Clause::Was(WasClause {
                field: c.field.normalized(),
                op: c.op,
                op_span: Span::SYNTHETIC,
                operand: c.operand.normalized(),
                predicates: c.predicates.iter().map(normalized_predicate).collect(),
                span: Span::SYNTHETIC,
            }),
            Clause::Changed(c) => Clause::Changed(ChangedClause {
                field: c.field.normalized(),
                op_span: Span::SYNTHETIC,
                predicates: c.predicates.iter().map(normalized_predicate).collect(),
                span: Span::SYNTHETIC,
            }),
        }
    }
}

fn normalized_predicate(p: &HistoryPredicate) -> HistoryPredicate {
    HistoryPredicate {
        kind: p.kind,
        operand: p.operand.normalized(),
        span: Span::SYNTHETIC,
    }
}

impl Field {
    /// A field by name or id: `Field::named("Story Points")`, `Field::named("customfield_10010")`.
    pub fn named(name: impl Into<String>) -> Field {
        Field {
            name: FieldName::Named(name.into()),
            span: Span::SYNTHETIC,
        }
    }

    /// A custom field by id, printed `cf[10010]`.
    pub fn custom(id: u64) -> Field {
        Field {
            name: FieldName::CustomId(id),
            span: Span::SYNTHETIC,
        }
    }

    /// An issue entity property: `Field::issue_property("support", "level")` is
    /// `issue.property[support].level`.
    pub fn issue_property(key: impl Into<String>, path: impl Into<String>) -> Field {
        Field {
            name: FieldName::Property {
                name: "issue.property".to_owned(),
                key: key.into(),
                path: path.into(),
            },
            span: Span::SYNTHETIC,
        }
    }

    /// A copy with its span set to [`Span::SYNTHETIC`].
    pub fn normalized(&self) -> Field {
        Field {
            name: self.name.clone(),
            span: Span::SYNTHETIC,
        }
    }
}

impl From<&str> for Field {
    fn from(name: &str) -> Field {
        Field::named(name)
    }
}

impl From<String> for Field {
    fn from(name: String) -> Field {
        Field::named(name)
    }
}

impl Operand {
    /// A text value; printed bare when that is safe, quoted and escaped otherwise.
    pub fn string(value: impl Into<String>) -> Operand {
        Operand::of(OperandKind::String(value.into()))
    }

    /// A whole number, printed bare.
    pub fn number(value: i64) -> Operand {
        Operand::of(OperandKind::Number(value))
    }

    /// An instant as epoch milliseconds, printed bare (`updated >= 1768653240000`), which Jira
    /// reads as an absolute instant independent of the searching user's time zone.
    pub fn epoch_millis(ms: i64) -> Operand {
        Operand::number(ms)
    }

    /// `EMPTY`.
    pub fn empty() -> Operand {
        Operand::of(OperandKind::Empty)
    }

    /// A function call: `Operand::function("startOfDay", ["-1d"])`.
    pub fn function<A: Into<String>>(
        name: impl Into<String>,
        args: impl IntoIterator<Item = A>,
    ) -> Operand {
        Operand::of(OperandKind::Function {
            name: name.into(),
            args: args.into_iter().map(Into::into).collect(),
        })
    }

    /// A list `(a, b, ...)`; it should hold at least one value (JQL has no empty list).
    pub fn list<V: Into<Operand>>(values: impl IntoIterator<Item = V>) -> Operand {
        Operand::of(OperandKind::List(
            values.into_iter().map(Into::into).collect(),
        ))
    }

    fn of(kind: OperandKind) -> Operand {
        Operand {
            kind,
            span: Span::SYNTHETIC,
        }
    }

    /// A copy with every span set to [`Span::SYNTHETIC`].
    pub fn normalized(&self) -> Operand {
        let kind = match &self.kind {
            OperandKind::List(items) => {
                OperandKind::List(items.iter().map(Operand::normalized).collect())
            }
            other => other.clone(),
        };
        Operand::of(kind)
    }
}

impl From<&str> for Operand {
    fn from(value: &str) -> Operand {
        Operand::string(value)
    }
}

impl From<String> for Operand {
    fn from(value: String) -> Operand {
        Operand::string(value)
    }
}

impl From<i64> for Operand {
    fn from(value: i64) -> Operand {
        Operand::number(value)
    }
}

impl OrderKey {
    /// A sort key with an optional direction.
    pub fn new(field: impl Into<Field>, direction: Option<Direction>) -> OrderKey {
        OrderKey {
            field: field.into(),
            direction,
            span: Span::SYNTHETIC,
        }
    }

    /// `field ASC`.
    pub fn asc(field: impl Into<Field>) -> OrderKey {
        OrderKey::new(field, Some(Direction::Asc))
    }

    /// `field DESC`.
    pub fn desc(field: impl Into<Field>) -> OrderKey {
        OrderKey::new(field, Some(Direction::Desc))
    }

    /// A copy with every span set to [`Span::SYNTHETIC`].
    pub fn normalized(&self) -> OrderKey {
        OrderKey {
            field: self.field.normalized(),
            direction: self.direction,
            span: Span::SYNTHETIC,
        }
    }
}
