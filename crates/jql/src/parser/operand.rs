//! Parsing the parts of a clause below the operator: field references (names, `cf[id]`, entity
//! properties), operands (values, numbers, `EMPTY`, lists, function calls) and ORDER BY keys.

use super::{Parser, VALID_OPERATORS};
use crate::ast::{Direction, Field, FieldName, Operand, OperandKind, OrderKey, Span};
use crate::error::{ErrorKind, JqlError};
use crate::lexer::{Kw, Tok, Token};

impl Parser<'_> {
    // ----- fields -----

    pub(super) fn field(&mut self) -> Result<Field, JqlError> {
        let token = self.peek().clone();
        match &token.tok {
            Tok::Num(text) => {
                self.advance();
                Ok(Field {
                    name: FieldName::Named(text.clone()),
                    span: token.span,
                })
            }
            Tok::Str(name) => {
                if name.trim().is_empty() {
                    return Err(self.error_at(
                        ErrorKind::EmptyName,
                        "A field name cannot be empty.".to_owned(),
                        &token,
                    ));
                }
                self.advance();
                if self.at(&Tok::LBracket) {
                    return self.property(name.clone(), token.span);
                }
                Ok(Field {
                    name: FieldName::Named(name.clone()),
                    span: token.span,
                })
            }
            Tok::Kw(Kw::Cf) => {
                self.advance();
                self.expect(&Tok::LBracket, "[")?;
                let id_token = self.peek().clone();
                let id = match &id_token.tok {
                    Tok::Num(text) if !text.starts_with('-') => {
                        let id: i64 = text.parse().map_err(|_| self.illegal_number(&id_token))?;
                        u64::try_from(id).map_err(|_| self.illegal_number(&id_token))?
                    }
                    _ => {
                        return Err(self.unexpected(
                            |t| {
                                format!(
                                    "Expecting a custom field id (a positive number) but got \
                                     '{t}'."
                                )
                            },
                            "Expecting a custom field id (a positive number) before the end of \
                             the query.",
                        ));
                    }
                };
                self.advance();
                let close = self.expect(&Tok::RBracket, "]")?;
                Ok(Field {
                    name: FieldName::CustomId(id),
                    span: token.span.to(close.span),
                })
            }
            _ => Err(self.bad_field()),
        }
    }

    /// `name[key].path` after `name`; the current token is `[`.
    pub(super) fn property(&mut self, name: String, start: Span) -> Result<Field, JqlError> {
        self.advance();
        let key = match &self.peek().tok {
            Tok::Str(text) | Tok::Num(text) => text.clone(),
            _ => {
                return Err(self.unexpected(
                    |t| {
                        format!(
                            "Expecting a property id but got '{t}'. You must surround '{t}' in \
                             quotation marks to use it as a value."
                        )
                    },
                    "Expecting a property id before the end of the query.",
                ));
            }
        };
        self.advance();
        let mut end = self.expect(&Tok::RBracket, "]")?.span;
        let mut parts: Vec<String> = Vec::new();
        while let Tok::Str(text) | Tok::Num(text) = &self.peek().tok {
            let reference = text
                .strip_prefix('.')
                .filter(|r| !r.is_empty() && !r.starts_with('.'));
            let Some(reference) = reference else {
                // Jira reads a spaced word as a misplaced operator and a glued one as a bad
                // property reference.
                if self.spaced() {
                    return Err(self.error_at(
                        ErrorKind::Syntax,
                        format!(
                            "Expecting operator but got '{}'. {VALID_OPERATORS}",
                            self.peek().text
                        ),
                        self.peek(),
                    ));
                }
                return Err(self.error_at(
                    ErrorKind::Syntax,
                    format!(
                        "Expecting a property reference starting with '.' but got '{}'.",
                        self.peek().text
                    ),
                    self.peek(),
                ));
            };
            parts.push(reference.to_owned());
            end = self.advance().span;
        }
        Ok(Field {
            name: FieldName::Property {
                name,
                key,
                path: parts.join("."),
            },
            span: start.to(end),
        })
    }

    // ----- operands -----

    pub(super) fn at_operand_start(&self) -> bool {
        matches!(
            self.peek().tok,
            Tok::Str(_) | Tok::Num(_) | Tok::Kw(Kw::Empty) | Tok::LParen
        )
    }

    pub(super) fn operand(&mut self) -> Result<Operand, JqlError> {
        let token = self.peek().clone();
        match &token.tok {
            Tok::Kw(Kw::Empty) => {
                self.advance();
                Ok(Operand {
                    kind: OperandKind::Empty,
                    span: token.span,
                })
            }
            Tok::Str(text) | Tok::Num(text) => {
                self.advance();
                if self.at(&Tok::LParen) {
                    return self.function(text.clone(), &token);
                }
                let kind = if matches!(token.tok, Tok::Num(_)) {
                    OperandKind::Number(text.parse().map_err(|_| self.illegal_number(&token))?)
                } else {
                    OperandKind::String(text.clone())
                };
                Ok(Operand {
                    kind,
                    span: token.span,
                })
            }
            Tok::LParen => self.list(),
            _ => Err(self.bad_operand()),
        }
    }

    pub(super) fn list(&mut self) -> Result<Operand, JqlError> {
        self.enter()?;
        let start = self.advance().span;
        let mut items = Vec::new();
        loop {
            items.push(self.operand()?);
            match self.peek().tok {
                Tok::Comma => {
                    self.advance();
                }
                Tok::RParen => break,
                _ => return Err(self.expecting(")")),
            }
        }
        let end = self.advance().span;
        self.leave();
        Ok(Operand {
            kind: OperandKind::List(items),
            span: start.to(end),
        })
    }

    /// `name(args)`; the current token is `(`.
    pub(super) fn function(
        &mut self,
        name: String,
        name_token: &Token,
    ) -> Result<Operand, JqlError> {
        if name.trim().is_empty() {
            return Err(self.error_at(
                ErrorKind::EmptyName,
                "A function name cannot be empty.".to_owned(),
                name_token,
            ));
        }
        self.advance();
        let mut args = Vec::new();
        if !self.at(&Tok::RParen) {
            loop {
                let first = args.is_empty();
                match &self.peek().tok {
                    Tok::Str(text) | Tok::Num(text) => {
                        args.push(text.clone());
                        self.advance();
                    }
                    Tok::Comma if first => return Err(self.expecting(")")),
                    Tok::Comma | Tok::RParen => {
                        return Err(self.error_at(
                            ErrorKind::Syntax,
                            "Function argument must be specified.".to_owned(),
                            self.peek(),
                        ));
                    }
                    Tok::Eof if first => return Err(self.expecting(")")),
                    _ => {
                        return Err(self.unexpected(
                            |t| {
                                format!(
                                    "Expecting a function argument but got '{t}'. You must \
                                     surround '{t}' in quotation marks to use it as an argument."
                                )
                            },
                            "Expecting a function argument at the end of the query.",
                        ));
                    }
                }
                match self.peek().tok {
                    Tok::Comma => {
                        self.advance();
                    }
                    Tok::RParen => break,
                    Tok::Eof => return Err(self.expecting(")")),
                    _ => {
                        return Err(self.error_at(
                            ErrorKind::Syntax,
                            format!("Expecting ')' or ',' but got '{}'.", self.peek().text),
                            self.peek(),
                        ));
                    }
                }
            }
        }
        let end = self.advance().span;
        Ok(Operand {
            kind: OperandKind::Function { name, args },
            span: name_token.span.to(end),
        })
    }

    // ----- ORDER BY -----

    pub(super) fn order_by(&mut self) -> Result<Vec<OrderKey>, JqlError> {
        self.advance();
        self.expect(&Tok::Kw(Kw::By), "by")?;
        let mut keys = Vec::new();
        loop {
            let field = self.field()?;
            let direction = match self.peek().tok {
                Tok::Kw(Kw::Asc) => Some(Direction::Asc),
                Tok::Kw(Kw::Desc) => Some(Direction::Desc),
                _ => None,
            };
            let mut span = field.span;
            if direction.is_some() {
                span = span.to(self.advance().span);
            }
            keys.push(OrderKey {
                field,
                direction,
                span,
            });
            match self.peek().tok {
                Tok::Comma => {
                    self.advance();
                }
                Tok::Eof => return Ok(keys),
                _ if direction.is_some() => return Err(self.expecting(",")),
                _ => {
                    return Err(self.error_at(
                        ErrorKind::Syntax,
                        format!(
                            "Expecting either 'ASC' or 'DESC' but got '{}'.",
                            self.peek().text
                        ),
                        self.peek(),
                    ));
                }
            }
        }
    }
}

/// How Jira shows an operand inside its messages: strings in double quotes, numbers bare.
pub(super) fn operand_display(operand: &Operand) -> String {
    match &operand.kind {
        OperandKind::Empty => "EMPTY".to_owned(),
        OperandKind::String(s) => format!("\"{s}\""),
        OperandKind::Number(n) => n.to_string(),
        OperandKind::Function { name, args } => format!("{name}({})", args.join(", ")),
        OperandKind::List(items) => {
            let shown: Vec<String> = items.iter().map(operand_display).collect();
            format!("({})", shown.join(", "))
        }
    }
}
