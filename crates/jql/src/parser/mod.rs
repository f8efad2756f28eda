//! The recursive-descent JQL parser: the query, `OR`/`AND`/`NOT` with precedence `NOT` > `AND` >
//! `OR`, terminal and history clauses, operators and predicates, the nesting limit, and Jira's
//! error message for every way each of them can fail (fields, operands and ORDER BY keys are in
//! `operand.rs`).
//!
//! The grammar and the choice of message at each failure point follow Jira's own parser, so the
//! simulator rejects exactly the text Jira rejects, with the same words and position.

use crate::MAX_DEPTH;
use crate::ast::{
    ChangedClause, Clause, Comparison, HistoryPredicate, Operator, PredicateKind, Query, Span,
    WasClause, WasOperator,
};
use crate::error::{ErrorKind, JqlError};
use crate::lexer::{Kw, Tok, Token, lex};

mod operand;

use operand::operand_display;

const VALID_OPERATORS: &str = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', \
                               '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.";

/// Parses a whole query.
pub(crate) fn parse_query(input: &str) -> Result<Query, JqlError> {
    let tokens = lex(input)?;
    let mut parser = Parser {
        input,
        tokens,
        pos: 0,
        depth: 0,
    };
    parser.query()
}

/// The operator read after a field.
enum AnyOperator {
    Compare(Operator),
    Was(WasOperator),
    Changed,
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    // ----- token access -----

    fn peek(&self) -> &Token {
        // `lex` always ends with Eof and `advance` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn at(&self, tok: &Tok) -> bool {
        &self.peek().tok == tok
    }

    fn at_kw(&self, kw: Kw) -> bool {
        self.peek().tok == Tok::Kw(kw)
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::Eof {
            self.pos += 1;
        }
        token
    }

    /// Whether whitespace separates the current token from the previous one.
    fn spaced(&self) -> bool {
        match self.pos.checked_sub(1).and_then(|p| self.tokens.get(p)) {
            Some(prev) => prev.span.end < self.peek().span.start,
            None => false,
        }
    }

    // ----- errors -----

    fn error_at(&self, kind: ErrorKind, message: String, token: &Token) -> JqlError {
        JqlError::new(kind, message, self.input, token.span.start, true)
    }

    fn error_at_end(&self, message: &str) -> JqlError {
        let end = self.input.chars().count();
        JqlError::new(ErrorKind::Syntax, message, self.input, end, false)
    }

    /// A syntax error at the current token: `got` renders the message for a real token,
    /// `at_end` is the message when the input has ended.
    fn unexpected(&self, got: impl FnOnce(&str) -> String, at_end: &str) -> JqlError {
        let token = self.peek();
        if token.tok == Tok::Eof {
            self.error_at_end(at_end)
        } else {
            self.error_at(ErrorKind::Syntax, got(&token.text), token)
        }
    }

    fn expecting(&self, what: &str) -> JqlError {
        self.unexpected(
            |t| format!("Expecting '{what}' but got '{t}'."),
            &format!("Expecting '{what}' before the end of the query."),
        )
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Token, JqlError> {
        if self.at(tok) {
            Ok(self.advance())
        } else {
            Err(self.expecting(what))
        }
    }

    fn bad_field(&self) -> JqlError {
        if self.at(&Tok::LBracket) {
            return self.error_at(
                ErrorKind::Syntax,
                "Expecting a field name but got '['. Did you mean 'cf['?".to_owned(),
                self.peek(),
            );
        }
        self.unexpected(
            |t| {
                format!(
                    "Expecting a field name but got '{t}'. You must surround '{t}' in quotation \
                     marks to use it as a field name."
                )
            },
            "Expecting a field name at the end of the query.",
        )
    }

    fn bad_operand(&self) -> JqlError {
        self.unexpected(
            |t| {
                format!(
                    "Expecting either a value, list or function but got '{t}'. You must surround \
                     '{t}' in quotation marks to use it as a value."
                )
            },
            "Expecting either a value, list or function before the end of the query.",
        )
    }

    fn need_logical_operator(&self) -> JqlError {
        self.unexpected(
            |t| format!("Expecting either 'OR' or 'AND' but got '{t}'."),
            "Expecting either 'OR' or 'AND' before the end of the query.",
        )
    }

    fn illegal_number(&self, token: &Token) -> JqlError {
        self.error_at(
            ErrorKind::IllegalNumber,
            format!(
                "'{}' is not a valid number. Numbers must be between -9,223,372,036,854,775,808 \
                 and 9,223,372,036,854,775,807.",
                token.text
            ),
            token,
        )
    }

    /// Enters one nesting level (parenthesis, list or NOT) at the current token.
    fn enter(&mut self) -> Result<(), JqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(
                ErrorKind::TooDeep,
                format!(
                    "The query is nested too deeply: parentheses, lists and NOT may nest at most \
                     {MAX_DEPTH} levels."
                ),
                self.peek(),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- query and clauses -----

    fn query(&mut self) -> Result<Query, JqlError> {
        let clause = if self.at(&Tok::Eof) || self.at_kw(Kw::Order) {
            None
        } else {
            Some(self.or_clause()?)
        };
        let order_by = if self.at_kw(Kw::Order) {
            self.order_by()?
        } else {
            Vec::new()
        };
        if !self.at(&Tok::Eof) {
            return Err(self.need_logical_operator());
        }
        Ok(Query { clause, order_by })
    }

    fn or_clause(&mut self) -> Result<Clause, JqlError> {
        let start = self.peek().span;
        let mut clauses = vec![self.and_clause()?];
        while self.at_kw(Kw::Or) {
            self.advance();
            clauses.push(self.and_clause()?);
        }
        let span = start.to(self.previous_span());
        Ok(chain(clauses, |clauses| Clause::Or { clauses, span }))
    }

    fn and_clause(&mut self) -> Result<Clause, JqlError> {
        let start = self.peek().span;
        let mut clauses = vec![self.not_clause()?];
        while self.at_kw(Kw::And) {
            self.advance();
            clauses.push(self.not_clause()?);
        }
        let span = start.to(self.previous_span());
        Ok(chain(clauses, |clauses| Clause::And { clauses, span }))
    }

    fn not_clause(&mut self) -> Result<Clause, JqlError> {
        match self.peek().tok {
            Tok::Kw(Kw::Not) | Tok::Bang => {
                self.enter()?;
                let start = self.advance().span;
                let inner = self.not_clause()?;
                self.leave();
                // Up to the last token read, so a parenthesised operand's `)` is included.
                Ok(Clause::Not {
                    span: start.to(self.previous_span()),
                    clause: Box::new(inner),
                })
            }
            Tok::LParen => {
                self.enter()?;
                self.advance();
                let inner = self.or_clause()?;
                self.expect(&Tok::RParen, ")")?;
                self.leave();
                Ok(inner)
            }
            _ => self.terminal_clause(),
        }
    }

    fn terminal_clause(&mut self) -> Result<Clause, JqlError> {
        let field = self.field()?;
        let op_start = self.peek().span;
        let op = self.operator()?;
        let op_span = op_start.to(self.previous_span());
        let clause = match op {
            AnyOperator::Compare(op) => {
                let operand = self.operand()?;
                if self.at_predicate() {
                    let predicates = self.predicates()?;
                    let shown: Vec<String> = predicates.iter().map(predicate_display).collect();
                    return Err(JqlError::new(
                        ErrorKind::UnsupportedPredicate,
                        format!(
                            "The {} operator does not support the use of the {} predicate.",
                            op.jira_name(),
                            shown.join(" ")
                        ),
                        self.input,
                        predicates.first().map_or(0, |p| p.span.start),
                        false,
                    ));
                }
                Clause::Compare(Comparison {
                    span: field.span.to(operand.span),
                    field,
                    op,
                    op_span,
                    operand,
                })
            }
            AnyOperator::Was(op) => {
                let operand = self.operand()?;
                let predicates = self.predicates()?;
                let end = predicates.last().map_or(operand.span, |p| p.span);
                Clause::Was(WasClause {
                    span: field.span.to(end),
                    field,
                    op,
                    op_span,
                    operand,
                    predicates,
                })
            }
            AnyOperator::Changed => {
                if self.at_operand_start() {
                    let operand = self.operand()?;
                    return Err(JqlError::new(
                        ErrorKind::UnsupportedPredicate,
                        format!(
                            "The CHANGED operator does not support the use of values without \
                             predicates. You must prefix the {} value with a suitable predicate.",
                            operand_display(&operand)
                        ),
                        self.input,
                        operand.span.start,
                        false,
                    ));
                }
                let predicates = self.predicates()?;
                let end = predicates.last().map_or(op_span, |p| p.span);
                Clause::Changed(ChangedClause {
                    span: field.span.to(end),
                    field,
                    op_span,
                    predicates,
                })
            }
        };
        // A complete clause is followed by AND/OR, a closing parenthesis, ORDER BY or the end;
        // anything else means a missing logical operator (`a = b c = d`).
        match self.peek().tok {
            Tok::Eof | Tok::RParen | Tok::Kw(Kw::And | Kw::Or | Kw::Order) => Ok(clause),
            _ => Err(self.need_logical_operator()),
        }
    }

    fn previous_span(&self) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.tokens.get(p))
            .map_or(Span::SYNTHETIC, |t| t.span)
    }

    // ----- operators -----

    fn operator(&mut self) -> Result<AnyOperator, JqlError> {
        let simple = match self.peek().tok {
            Tok::Eq => Some(Operator::Eq),
            Tok::NotEq => Some(Operator::NotEq),
            Tok::Like => Some(Operator::Like),
            Tok::NotLike => Some(Operator::NotLike),
            Tok::Lt => Some(Operator::Lt),
            Tok::Lte => Some(Operator::Lte),
            Tok::Gt => Some(Operator::Gt),
            Tok::Gte => Some(Operator::Gte),
            Tok::Kw(Kw::In) => Some(Operator::In),
            _ => None,
        };
        if let Some(op) = simple {
            self.advance();
            return Ok(AnyOperator::Compare(op));
        }
        match self.peek().tok {
            Tok::Kw(Kw::Is) => {
                self.advance();
                if self.at_kw(Kw::Not) {
                    self.advance();
                    Ok(AnyOperator::Compare(Operator::IsNot))
                } else if self.at_operand_start() || self.at(&Tok::Eof) {
                    Ok(AnyOperator::Compare(Operator::Is))
                } else {
                    Err(self.expecting("NOT"))
                }
            }
            Tok::Kw(Kw::Not) => {
                self.advance();
                self.expect(&Tok::Kw(Kw::In), "IN")?;
                Ok(AnyOperator::Compare(Operator::NotIn))
            }
            Tok::Kw(Kw::Was) => {
                self.advance();
                let not = self.at_kw(Kw::Not);
                if not {
                    self.advance();
                }
                let is_in = self.at_kw(Kw::In);
                if is_in {
                    self.advance();
                }
                Ok(AnyOperator::Was(match (not, is_in) {
                    (false, false) => WasOperator::Was,
                    (true, false) => WasOperator::WasNot,
                    (false, true) => WasOperator::WasIn,
                    (true, true) => WasOperator::WasNotIn,
                }))
            }
            Tok::Kw(Kw::Changed) => {
                self.advance();
                Ok(AnyOperator::Changed)
            }
            _ => Err(self.unexpected(
                |t| format!("Expecting operator but got '{t}'. {VALID_OPERATORS}"),
                &format!("Expecting operator before the end of the query. {VALID_OPERATORS}"),
            )),
        }
    }

    fn at_predicate(&self) -> bool {
        predicate_kind(&self.peek().tok).is_some()
    }

    fn predicates(&mut self) -> Result<Vec<HistoryPredicate>, JqlError> {
        let mut predicates = Vec::new();
        while let Some(kind) = predicate_kind(&self.peek().tok) {
            let start = self.advance().span;
            let operand = self.operand()?;
            predicates.push(HistoryPredicate {
                kind,
                span: start.to(operand.span),
                operand,
            });
        }
        Ok(predicates)
    }
}

/// One clause stays itself; several become an n-ary node.
fn chain(mut clauses: Vec<Clause>, build: impl FnOnce(Vec<Clause>) -> Clause) -> Clause {
    if clauses.len() == 1
        && let Some(only) = clauses.pop()
    {
        return only;
    }
    build(clauses)
}

fn predicate_kind(tok: &Tok) -> Option<PredicateKind> {
    match tok {
        Tok::Kw(Kw::After) => Some(PredicateKind::After),
        Tok::Kw(Kw::Before) => Some(PredicateKind::Before),
        Tok::Kw(Kw::By) => Some(PredicateKind::By),
        Tok::Kw(Kw::During) => Some(PredicateKind::During),
        Tok::Kw(Kw::On) => Some(PredicateKind::On),
        Tok::Kw(Kw::From) => Some(PredicateKind::From),
        Tok::Kw(Kw::To) => Some(PredicateKind::To),
        _ => None,
    }
}

/// How Jira shows a history predicate inside its messages: `by "admin"`.
fn predicate_display(predicate: &HistoryPredicate) -> String {
    format!(
        "{} {}",
        predicate.kind.as_jql().to_ascii_lowercase(),
        operand_display(&predicate.operand)
    )
}
