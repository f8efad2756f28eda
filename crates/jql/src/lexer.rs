//! The JQL lexer: turns query text into tokens with character spans, decoding quoted strings and
//! escapes, and failing (with Jira's messages) on reserved characters, reserved words, control
//! characters, bad escapes and unterminated quotes.
//!
//! The whole input is lexed before parsing starts, as Jira's parser does, so a lexical error
//! anywhere wins over a grammar error earlier in the text.

use crate::ast::Span;
use crate::error::{ErrorKind, JqlError, line_column};
use crate::words::{
    is_control_char, is_keyword, is_reserved_char, is_reserved_word, is_space, is_word_stop,
    looks_like_number,
};

/// Keywords with their own token (matched case-insensitively, never when escaped or quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    And,
    Or,
    Not,
    In,
    Is,
    Empty,
    Was,
    Changed,
    Before,
    After,
    From,
    To,
    On,
    During,
    Order,
    By,
    Asc,
    Desc,
    Cf,
}

/// A token's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    LBracket,
    RBracket,
    Eq,
    NotEq,
    Like,
    NotLike,
    Lt,
    Lte,
    Gt,
    Gte,
    Bang,
    Kw(Kw),
    /// Text, unquoted or quoted, decoded.
    Str(String),
    /// An unquoted `-?[0-9]+`, kept as text: only operands and custom field ids must fit in 64
    /// bits, field names and function arguments keep the digits as written.
    Num(String),
    Eof,
}

/// A token, its span, and the text Jira shows for it in messages (`but got 'x'`).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
    pub(crate) text: String,
}

const VALID_ESCAPES: &str =
    "The valid escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX.";

/// Lexes `input`; the last token is always `Eof`, spanning the end of the input.
pub(crate) fn lex(input: &str) -> Result<Vec<Token>, JqlError> {
    let chars: Vec<char> = input.chars().collect();
    let mut lexer = Lexer {
        input,
        chars: &chars,
        pos: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next()?;
        let end = token.tok == Tok::Eof;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    input: &'a str,
    chars: &'a [char],
    pos: usize,
}

impl Lexer<'_> {
    fn peek_at(&self, at: usize) -> Option<char> {
        self.chars.get(at).copied()
    }

    fn error(&self, kind: ErrorKind, message: String, at: usize) -> JqlError {
        JqlError::new(kind, message, self.input, at, true)
    }

    fn symbol(&mut self, tok: Tok, len: usize) -> Token {
        let start = self.pos;
        self.pos += len;
        Token {
            tok,
            span: Span::new(start, self.pos),
            text: self.chars[start..self.pos].iter().collect(),
        }
    }

    fn next(&mut self) -> Result<Token, JqlError> {
        while self.peek_at(self.pos).is_some_and(is_space) {
            self.pos += 1;
        }
        let Some(c) = self.peek_at(self.pos) else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(self.pos, self.pos),
                text: String::new(),
            });
        };
        let next = self.peek_at(self.pos + 1);
        let token = match c {
            '(' => self.symbol(Tok::LParen, 1),
            ')' => self.symbol(Tok::RParen, 1),
            ',' => self.symbol(Tok::Comma, 1),
            '[' => self.symbol(Tok::LBracket, 1),
            ']' => self.symbol(Tok::RBracket, 1),
            '=' => self.symbol(Tok::Eq, 1),
            '~' => self.symbol(Tok::Like, 1),
            '!' => match next {
                Some('=') => self.symbol(Tok::NotEq, 2),
                Some('~') => self.symbol(Tok::NotLike, 2),
                _ => self.symbol(Tok::Bang, 1),
            },
            '<' if next == Some('=') => self.symbol(Tok::Lte, 2),
            '<' => self.symbol(Tok::Lt, 1),
            '>' if next == Some('=') => self.symbol(Tok::Gte, 2),
            '>' => self.symbol(Tok::Gt, 1),
            '&' if next == Some('&') => self.symbol(Tok::Kw(Kw::And), 2),
            '&' => self.symbol(Tok::Kw(Kw::And), 1),
            '|' if next == Some('|') => self.symbol(Tok::Kw(Kw::Or), 2),
            '|' => self.symbol(Tok::Kw(Kw::Or), 1),
            '"' | '\'' => self.quoted(c)?,
            c if is_reserved_char(c) => {
                return Err(self.error(
                    ErrorKind::ReservedCharacter,
                    format!(
                        "The character '{c}' is a reserved JQL character. You must enclose it in \
                         a string or use the escape '\\u{:04x}' instead.",
                        u32::from(c)
                    ),
                    self.pos,
                ));
            }
            c if is_control_char(c) => return Err(self.illegal_char(c, self.pos)),
            _ => self.word()?,
        };
        Ok(token)
    }

    fn illegal_char(&self, c: char, at: usize) -> JqlError {
        let (line, column) = line_column(self.input, at);
        let code = u32::from(c);
        self.error(
            ErrorKind::IllegalCharacter,
            format!(
                "The character 'U+{code:04X}' on line {line} at position {column} must be \
                 escaped. Use the escape '\\u{code:04x}' instead."
            ),
            at,
        )
    }

    /// A quoted string starting at the quote character `quote`.
    fn quoted(&mut self, quote: char) -> Result<Token, JqlError> {
        let start = self.pos;
        let mut value = String::new();
        let mut at = start + 1;
        loop {
            let Some(c) = self.peek_at(at) else {
                // Jira quotes what followed the opening quote, newlines shown as spaces.
                let rest: String = self.chars[start + 1..]
                    .iter()
                    .map(|&c| if c == '\n' || c == '\r' { ' ' } else { c })
                    .collect();
                let message = if rest.is_empty() {
                    "The quoted string has not been completed.".to_owned()
                } else {
                    format!("The quoted string '{rest}' has not been completed.")
                };
                return Err(self.error(ErrorKind::UnterminatedString, message, start));
            };
            if c == quote {
                at += 1;
                break;
            }
            if c == '\\' {
                let (decoded, after) = self.escape(at)?;
                value.push(decoded);
                at = after;
            } else if is_control_char(c) {
                return Err(self.illegal_char(c, at));
            } else {
                value.push(c);
                at += 1;
            }
        }
        self.pos = at;
        Ok(Token {
            tok: Tok::Str(value.clone()),
            span: Span::new(start, at),
            text: value,
        })
    }

    /// An unquoted word: a keyword, a number, or text.
    fn word(&mut self) -> Result<Token, JqlError> {
        let start = self.pos;
        let mut value = String::new();
        let mut escaped = false;
        let mut at = start;
        while let Some(c) = self.peek_at(at) {
            if c == '\\' {
                let (decoded, after) = self.escape(at)?;
                value.push(decoded);
                at = after;
                escaped = true;
            } else if is_word_stop(c) {
                break;
            } else {
                value.push(c);
                at += 1;
            }
        }
        self.pos = at;
        let span = Span::new(start, at);
        if !escaped {
            if let Some(kw) = keyword(&value) {
                return Ok(Token {
                    tok: Tok::Kw(kw),
                    span,
                    text: value,
                });
            }
            if looks_like_number(&value) {
                return Ok(Token {
                    tok: Tok::Num(value.clone()),
                    span,
                    text: value,
                });
            }
        }
        if is_reserved_word(&value) {
            return Err(self.error(
                ErrorKind::ReservedWord,
                format!(
                    "'{value}' is a reserved JQL word. You must surround it in quotation marks \
                     to use it in a query."
                ),
                start,
            ));
        }
        Ok(Token {
            tok: Tok::Str(value.clone()),
            span,
            text: value,
        })
    }

    /// Decodes the escape whose backslash is at `at`; returns the character and the offset after
    /// the sequence.
    fn escape(&self, at: usize) -> Result<(char, usize), JqlError> {
        let Some(c) = self.peek_at(at + 1) else {
            return Err(self.error(
                ErrorKind::IllegalEscape,
                format!("The escape sequence has not been completed. {VALID_ESCAPES}"),
                at,
            ));
        };
        let simple = match c {
            't' => Some('\t'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            '"' | '\'' | '\\' | ' ' => Some(c),
            _ => None,
        };
        if let Some(decoded) = simple {
            return Ok((decoded, at + 2));
        }
        if c != 'u' {
            return Err(self.illegal_escape(format!("\\{c}"), at));
        }
        let (unit, after) = self.hex4(at)?;
        // A surrogate pair written as two escapes is one character; a lone surrogate cannot be
        // represented and becomes U+FFFD.
        if (0xD800..0xDC00).contains(&unit)
            && self.peek_at(after) == Some('\\')
            && self.peek_at(after + 1) == Some('u')
            && let Ok((low, after_low)) = self.hex4(after)
            && (0xDC00..0xE000).contains(&low)
        {
            let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            return Ok((char::from_u32(code).unwrap_or('\u{fffd}'), after_low));
        }
        Ok((char::from_u32(unit).unwrap_or('\u{fffd}'), after))
    }

    /// Reads the four hex digits of a `\u` escape whose backslash is at `at`.
    fn hex4(&self, at: usize) -> Result<(u32, usize), JqlError> {
        let mut unit = 0u32;
        let mut seen = String::from("\\u");
        for i in 0..4 {
            let Some(c) = self.peek_at(at + 2 + i) else {
                return Err(self.illegal_escape(seen, at));
            };
            seen.push(c);
            let Some(digit) = c.to_digit(16) else {
                return Err(self.illegal_escape(seen, at));
            };
            unit = unit * 16 + digit;
        }
        Ok((unit, at + 6))
    }

    fn illegal_escape(&self, sequence: String, at: usize) -> JqlError {
        self.error(
            ErrorKind::IllegalEscape,
            format!("'{sequence}' is an illegal JQL escape sequence. {VALID_ESCAPES}"),
            at,
        )
    }
}

fn keyword(word: &str) -> Option<Kw> {
    if !is_keyword(word) {
        return None;
    }
    let kw = match word.to_ascii_lowercase().as_str() {
        "and" => Kw::And,
        "or" => Kw::Or,
        "not" => Kw::Not,
        "in" => Kw::In,
        "is" => Kw::Is,
        "empty" | "null" => Kw::Empty,
        "was" => Kw::Was,
        "changed" => Kw::Changed,
        "before" => Kw::Before,
        "after" => Kw::After,
        "from" => Kw::From,
        "to" => Kw::To,
        "on" => Kw::On,
        "during" => Kw::During,
        "order" => Kw::Order,
        "by" => Kw::By,
        "asc" => Kw::Asc,
        "desc" => Kw::Desc,
        "cf" => Kw::Cf,
        _ => return None,
    };
    Some(kw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<Tok> {
        match lex(input) {
            Ok(tokens) => tokens.into_iter().map(|t| t.tok).collect(),
            Err(e) => panic!("lexing {input:?} failed: {e}"),
        }
    }

    #[test]
    fn operators_are_lexed_longest_first() {
        assert_eq!(
            kinds("a!=b!~c<=d>=e<f>g=h~i!j"),
            vec![
                Tok::Str("a".into()),
                Tok::NotEq,
                Tok::Str("b".into()),
                Tok::NotLike,
                Tok::Str("c".into()),
                Tok::Lte,
                Tok::Str("d".into()),
                Tok::Gte,
                Tok::Str("e".into()),
                Tok::Lt,
                Tok::Str("f".into()),
                Tok::Gt,
                Tok::Str("g".into()),
                Tok::Eq,
                Tok::Str("h".into()),
                Tok::Like,
                Tok::Str("i".into()),
                Tok::Bang,
                Tok::Str("j".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn symbolic_and_and_or_are_keywords() {
        assert_eq!(
            kinds("a&b&&c|d||e"),
            vec![
                Tok::Str("a".into()),
                Tok::Kw(Kw::And),
                Tok::Str("b".into()),
                Tok::Kw(Kw::And),
                Tok::Str("c".into()),
                Tok::Kw(Kw::Or),
                Tok::Str("d".into()),
                Tok::Kw(Kw::Or),
                Tok::Str("e".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn numbers_keywords_and_words_are_told_apart() {
        assert_eq!(
            kinds("42 -7 -15m DEMO-1 NuLl \\u0064uring"),
            vec![
                Tok::Num("42".into()),
                Tok::Num("-7".into()),
                Tok::Str("-15m".into()),
                Tok::Str("DEMO-1".into()),
                Tok::Kw(Kw::Empty),
                Tok::Str("during".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn escapes_decode_in_quoted_and_unquoted_text() {
        assert_eq!(
            kinds(r#""a\"b\\c\n" 'it\'s' x\ y \u00e9\ud83d\ude00"#),
            vec![
                Tok::Str("a\"b\\c\n".into()),
                Tok::Str("it's".into()),
                Tok::Str("x y".into()),
                Tok::Str("é😀".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn spans_are_character_offsets() {
        let tokens = lex("é = \"ü\"").expect("lexes");
        let spans: Vec<Span> = tokens.iter().map(|t| t.span).collect();
        assert_eq!(
            spans,
            vec![
                Span::new(0, 1),
                Span::new(2, 3),
                Span::new(4, 7),
                Span::new(7, 7)
            ]
        );
    }
}
