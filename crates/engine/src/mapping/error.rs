//! Errors of template mapping: syntax errors with positions, and render errors with the input
//! path they occurred at.

use std::fmt;

/// A template that does not parse, with the 1-based position of the problem in its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TemplateError {
    /// What is wrong, in minijinja's words (e.g. `unexpected end of input`).
    pub message: String,
    /// 1-based line in the template source.
    pub line: usize,
    /// 1-based column (in characters) in the template source.
    pub column: usize,
}

impl TemplateError {
    /// Builds a positioned error from a minijinja error; `offset` is the byte offset of the
    /// compiled source inside `source` (non-zero when only the inside of `{{ … }}` was compiled).
    pub(crate) fn from_minijinja(err: &minijinja::Error, source: &str, offset: usize) -> Self {
        let message = err
            .detail()
            .map_or_else(|| err.kind().to_string(), str::to_owned);
        let (line, column) = match err.range() {
            Some(range) => position(source, offset + range.start),
            // Without a span minijinja still knows the line; the column is then unknown and
            // reported as the line's first column rather than guessed.
            None => (err.line().unwrap_or(1), 1),
        };
        TemplateError {
            message,
            line,
            column,
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `source`.
pub(crate) fn position(source: &str, at: usize) -> (usize, usize) {
    let at = clamp_to_char_boundary(source, at);
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn clamp_to_char_boundary(source: &str, mut at: usize) -> usize {
    at = at.min(source.len());
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Why an input could not be rendered or a condition not evaluated. Every variant names the
/// input path (e.g. `input.fields.summary`, or `if` for conditions).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    /// The template does not parse.
    #[error("{path}: invalid template at {error}")]
    Syntax {
        /// Where the template sits in the input.
        path: String,
        /// The syntax problem and its position.
        error: TemplateError,
    },
    /// The template used a value that does not exist (and did not default it).
    #[error("{path}: {expr} is undefined (use `| default(...)` or `is defined` if it is optional)")]
    Undefined {
        /// Where the template sits in the input.
        path: String,
        /// The expression that was undefined, e.g. `steps.create.output.key`.
        expr: String,
    },
    /// The template did more work than the fuel limit allows (e.g. a runaway loop).
    #[error("{path}: template ran out of fuel (limit {limit} instructions)")]
    OutOfFuel {
        /// Where the template sits in the input.
        path: String,
        /// The configured fuel limit.
        limit: u64,
    },
    /// Macros or nested blocks went deeper than the recursion limit.
    #[error("{path}: template exceeded the recursion limit of {limit}")]
    RecursionLimit {
        /// Where the template sits in the input.
        path: String,
        /// The configured recursion limit.
        limit: usize,
    },
    /// Any other failure while evaluating (bad operand types, unknown filter, …).
    #[error("{path}: template failed at line {line}: {message}")]
    Render {
        /// Where the template sits in the input.
        path: String,
        /// 1-based line in the template.
        line: usize,
        /// What went wrong.
        message: String,
    },
    /// A condition evaluated to something other than `true` or `false`.
    #[error(
        "{path}: condition `{expr}` yielded {found}, not a boolean (compare explicitly, e.g. `x | length > 0`)"
    )]
    NotBoolean {
        /// Where the condition sits (e.g. `if`).
        path: String,
        /// The condition source.
        expr: String,
        /// The kind of value it produced (`string`, `number`, …).
        found: String,
    },
    /// The result holds a value with no JSON form (e.g. a macro or a function).
    #[error("{path}: result cannot be expressed as JSON: {found}")]
    NotJson {
        /// Where the template sits in the input.
        path: String,
        /// The offending value kind.
        found: String,
    },
}

impl MappingError {
    /// The input path the error occurred at.
    pub fn path(&self) -> &str {
        match self {
            MappingError::Syntax { path, .. }
            | MappingError::Undefined { path, .. }
            | MappingError::OutOfFuel { path, .. }
            | MappingError::RecursionLimit { path, .. }
            | MappingError::Render { path, .. }
            | MappingError::NotBoolean { path, .. }
            | MappingError::NotJson { path, .. } => path,
        }
    }
}

/// A path into an input tree, rendered as `input.fields.labels[0]`.
#[derive(Debug, Clone)]
pub(crate) struct InputPath(String);

impl InputPath {
    pub(crate) fn root(name: &str) -> Self {
        InputPath(name.to_owned())
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let simple = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if simple {
            InputPath(format!("{}.{key}", self.0))
        } else {
            InputPath(format!("{}[{key:?}]", self.0))
        }
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        InputPath(format!("{}[{index}]", self.0))
    }
}

impl fmt::Display for InputPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_lines_and_characters_from_one() {
        assert_eq!(position("ab\ncdé f", 0), (1, 1));
        assert_eq!(position("ab\ncdé f", 3), (2, 1));
        // `é` is two bytes but one column.
        assert_eq!(position("ab\ncdé f", 8), (2, 5));
    }

    #[test]
    fn input_paths_quote_keys_that_are_not_plain_names() {
        let root = InputPath::root("input");
        assert_eq!(
            root.key("fields").key("summary").to_string(),
            "input.fields.summary"
        );
        assert_eq!(root.key("a b").index(2).to_string(), "input[\"a b\"][2]");
    }
}
