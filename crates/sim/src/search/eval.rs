//! The compiled form of a JQL condition and its evaluation against indexed issues.
//!
//! Compiling (see [`super::compile`]) resolves every name to ids once per query, so evaluating a
//! clause per issue is a few comparisons. Negation follows Jira: `!=`, `NOT IN` and `NOT x = y`
//! never match issues where the field is EMPTY, so `NOT` is pushed down into the clauses
//! (De Morgan) instead of complementing the result set.

use std::cmp::Ordering;

use super::dates::{DateContext, floor_minute};
use super::fields::{self, Field, Kind, V};
use super::index::Doc;
use super::text::TextQuery;
use crate::world::{FieldKind, Site};

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Cmp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
        }
    }

    fn negated(self) -> Self {
        match self {
            Cmp::Gt => Cmp::Le,
            Cmp::Ge => Cmp::Lt,
            Cmp::Lt => Cmp::Ge,
            Cmp::Le => Cmp::Gt,
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Pred {
    /// Every clause holds.
    And(Vec<Pred>),
    /// Some clause holds.
    Or(Vec<Pred>),
    /// Always (true) or never (false).
    Const(bool),
    /// The field has one of `set` (or, `negated`, has a value and none of them).
    In {
        /// Field.
        field: Field,
        /// Values.
        set: Vec<V>,
        /// `!=` / `NOT IN`.
        negated: bool,
    },
    /// The field has a value comparing `cmp` to `value`.
    Compare {
        /// Field.
        field: Field,
        /// Comparison.
        cmp: Cmp,
        /// Right-hand side.
        value: V,
    },
    /// The field is EMPTY (or, `negated`, is not).
    Empty {
        /// Field.
        field: Field,
        /// `IS NOT EMPTY`.
        negated: bool,
    },
    /// The text field contains the query (or, `negated`, has text and does not).
    Text {
        /// Field.
        field: Field,
        /// What to look for.
        query: TextQuery,
        /// `!~`.
        negated: bool,
    },
}

impl Pred {
    /// The condition `NOT self`, Jira style.
    pub fn negate(self) -> Pred {
        match self {
            Pred::And(items) => Pred::Or(items.into_iter().map(Pred::negate).collect()),
            Pred::Or(items) => Pred::And(items.into_iter().map(Pred::negate).collect()),
            Pred::Const(b) => Pred::Const(!b),
            Pred::In {
                field,
                set,
                negated,
            } => Pred::In {
                field,
                set,
                negated: !negated,
            },
            Pred::Compare { field, cmp, value } => Pred::Compare {
                field,
                cmp: cmp.negated(),
                value,
            },
            Pred::Empty { field, negated } => Pred::Empty {
                field,
                negated: !negated,
            },
            Pred::Text {
                field,
                query,
                negated,
            } => Pred::Text {
                field,
                query,
                negated: !negated,
            },
        }
    }

    /// Whether `doc` satisfies the condition.
    pub fn matches(&self, doc: &Doc, site: &Site, dates: &DateContext) -> bool {
        match self {
            Pred::And(items) => items.iter().all(|p| p.matches(doc, site, dates)),
            Pred::Or(items) => items.iter().any(|p| p.matches(doc, site, dates)),
            Pred::Const(b) => *b,
            Pred::In {
                field,
                set,
                negated,
            } => {
                // Fast path for the clause nearly every query has.
                if *field == Field::Project {
                    let hit = set.contains(&V::Int(doc.project_id as i64));
                    return hit != *negated;
                }
                let values = fields::values(field, doc, site, dates);
                if values.is_empty() {
                    return false;
                }
                let date = field.kind() == Kind::Date;
                let hit = values.iter().any(|v| {
                    set.iter().any(|s| {
                        if date {
                            // Date equality holds for the whole minute (JQL's precision).
                            matches!((v, s), (V::Int(a), V::Int(b)) if floor_minute(*a) == floor_minute(*b))
                        } else {
                            v.compare(s) == Some(Ordering::Equal)
                        }
                    })
                });
                hit != *negated
            }
            Pred::Compare { field, cmp, value } => {
                let actual = match field {
                    Field::Updated => Some(V::Int(doc.updated)),
                    Field::Created => Some(V::Int(doc.created)),
                    _ => None,
                };
                match actual {
                    Some(v) => v.compare(value).is_some_and(|o| cmp.holds(o)),
                    None => fields::values(field, doc, site, dates)
                        .iter()
                        .any(|v| v.compare(value).is_some_and(|o| cmp.holds(o))),
                }
            }
            Pred::Empty { field, negated } => {
                let empty = match field {
                    Field::Summary
                    | Field::Description
                    | Field::Environment
                    | Field::Comment
                    | Field::Text => field.tokens(doc).iter().all(|t| t.is_empty()),
                    Field::Custom(def)
                        if matches!(def.kind, FieldKind::TextField | FieldKind::TextArea) =>
                    {
                        fields::custom_text_tokens(def, doc).is_empty()
                    }
                    _ => fields::values(field, doc, site, dates).is_empty(),
                };
                empty != *negated
            }
            Pred::Text {
                field,
                query,
                negated,
            } => {
                let owned;
                let token_sets: Vec<&[String]> = match field {
                    Field::Custom(def) => {
                        owned = fields::custom_text_tokens(def, doc);
                        vec![&owned]
                    }
                    _ => field.tokens(doc),
                };
                if token_sets.iter().all(|t| t.is_empty()) {
                    return false;
                }
                let hit = token_sets.iter().any(|t| query.matches(t));
                hit != *negated
            }
        }
    }

    /// The top-level conjunction of this condition (itself when it is not an `And`).
    pub fn conjuncts(&self) -> Vec<&Pred> {
        match self {
            Pred::And(items) => items.iter().flat_map(Pred::conjuncts).collect(),
            other => vec![other],
        }
    }
}
