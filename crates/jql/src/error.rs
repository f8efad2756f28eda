//! The parse error: Jira's message texts, and the position Jira reports with them.
//!
//! Messages follow Jira Cloud's parser word for word (`Error in the JQL Query: Expecting operator
//! but got 'foo'. ... (line 1, character 9)`), because clients match on them and users paste
//! them into searches. Errors found at the end of the input carry no `(line, character)` suffix,
//! again as Jira does, but still expose the position (the end of the input).

use crate::ast::Span;

/// What went wrong, for callers that react to a class of error rather than to its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A token where the grammar wanted something else, or the input ended too early.
    Syntax,
    /// An unquoted reserved word (`'user' is a reserved JQL word ...`).
    ReservedWord,
    /// An unquoted reserved character (`%`, `/`, `#`, ...).
    ReservedCharacter,
    /// A control character that must be escaped even inside quotes.
    IllegalCharacter,
    /// A quoted string without its closing quote.
    UnterminatedString,
    /// A backslash sequence JQL does not define.
    IllegalEscape,
    /// A number outside the 64-bit range.
    IllegalNumber,
    /// An empty field or function name (`"" = x`, `""()`).
    EmptyName,
    /// A history predicate (`BY`, `AFTER`, ...) after an operator that takes none, or an operand
    /// after `CHANGED`.
    UnsupportedPredicate,
    /// Parentheses, lists or `NOT`s nested deeper than [`crate::MAX_DEPTH`].
    TooDeep,
}

/// A JQL syntax error with Jira's message and position.
///
/// `Display` renders exactly what Jira puts in `errorMessages`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.rendered())]
pub struct JqlError {
    kind: ErrorKind,
    message: String,
    offset: usize,
    line: usize,
    column: usize,
    shows_position: bool,
}

impl JqlError {
    /// An error at character `offset` of `input`; `shows_position` says whether the message ends
    /// with Jira's `(line L, character C)` (Jira omits it for errors at the end of the input).
    pub fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        input: &str,
        offset: usize,
        shows_position: bool,
    ) -> Self {
        let (line, column) = line_column(input, offset);
        JqlError {
            kind,
            message: message.into(),
            offset,
            line,
            column,
            shows_position,
        }
    }

    /// The class of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Jira's message without the `Error in the JQL Query:` prefix and the position suffix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Character offset (0-based) into the query text.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Line number, 1-based, counting `\n` as the separator.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Character within the line, 1-based, as in Jira's `(line 1, character 9)`.
    pub fn column(&self) -> usize {
        self.column
    }

    /// A one-character span at the error, for callers that highlight it.
    pub fn span(&self) -> Span {
        Span::new(self.offset, self.offset + 1)
    }

    /// Whether the rendered message ends with `(line L, character C)`.
    pub fn shows_position(&self) -> bool {
        self.shows_position
    }
}

impl JqlError {
    fn rendered(&self) -> String {
        if self.shows_position {
            format!(
                "Error in the JQL Query: {} (line {}, character {})",
                self.message, self.line, self.column
            )
        } else {
            format!("Error in the JQL Query: {}", self.message)
        }
    }
}

/// The 1-based line and 1-based character of character `offset` in `input`, as Jira counts them
/// (a `\n` starts a new line). Offsets past the end point just after the last character.
pub fn line_column(input: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in input.chars().take(offset) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes_and_restart_after_newlines() {
        assert_eq!(line_column("a = b", 4), (1, 5));
        assert_eq!(line_column("é = b", 4), (1, 5));
        assert_eq!(line_column("a = b\nAND c", 6), (2, 1));
        assert_eq!(line_column("a = b\nAND c", 10), (2, 5));
    }

    #[test]
    fn errors_at_the_end_of_the_input_render_without_a_position() {
        let at_end = JqlError::new(
            ErrorKind::Syntax,
            "Expecting ')' before the end of the query.",
            "(a = b",
            6,
            false,
        );
        assert_eq!(
            at_end.to_string(),
            "Error in the JQL Query: Expecting ')' before the end of the query."
        );
        let inside = JqlError::new(ErrorKind::Syntax, "Oops.", "a = b c", 6, true);
        assert_eq!(
            inside.to_string(),
            "Error in the JQL Query: Oops. (line 1, character 7)"
        );
        assert_eq!((inside.line(), inside.column(), inside.offset()), (1, 7, 6));
    }
}
