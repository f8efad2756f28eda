//! Flow load errors: each names the file, line, column and field path of what is wrong.

use std::fmt;

/// Everything wrong with one flow file, in file order.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct FlowErrors {
    /// The individual errors; never empty.
    pub errors: Vec<FlowError>,
}

impl fmt::Display for FlowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// One problem in a flow file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}{kind}", path_prefix(.path))]
pub struct FlowError {
    /// The file name (or the name given with the text).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field path, e.g. `steps[2].input.summary`; empty for the document itself.
    pub path: String,
    /// What is wrong.
    pub kind: FlowErrorKind,
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// What is wrong in a flow file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlowErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(String),
    /// The YAML is malformed, or a value has the wrong type, or a key is unknown.
    #[error("{0}")]
    Syntax(String),
    /// An action name that does not exist.
    #[error("{0}")]
    UnknownAction(String),
    /// Two steps share an id.
    #[error("duplicate step id `{id}` (first used by steps[{first}])")]
    DuplicateStepId {
        /// The repeated id.
        id: String,
        /// The index of the step that used it first.
        first: usize,
    },
    /// A step id with characters outside `[a-z0-9_]`.
    #[error("invalid step id `{0}`: use lowercase letters, digits and `_`")]
    InvalidStepId(String),
    /// A template or condition reads a step that is not an earlier step.
    #[error("`steps.{id}` is not an earlier step{}", later_hint(*.later))]
    UnknownStepReference {
        /// The referenced id.
        id: String,
        /// Whether the id belongs to this or a later step.
        later: bool,
    },
    /// A connection name that is not in the catalog.
    #[error("unknown connection `{0}`")]
    UnknownConnection(String),
    /// A Jira action without a connection.
    #[error("action `{0}` calls Jira and needs a `connection`")]
    MissingConnection(String),
    /// A connection on an action that does not use one.
    #[error("action `{0}` does not use a connection")]
    UnexpectedConnection(String),
    /// Invalid JQL, with the position inside the query.
    #[error("invalid JQL at {line}:{column} of the query: {message}")]
    InvalidJql {
        /// The parser's message.
        message: String,
        /// 1-based line inside the query.
        line: usize,
        /// 1-based column inside the query.
        column: usize,
    },
    /// A template or condition that does not compile.
    #[error("invalid template at {line}:{column} of the template: {message}")]
    InvalidTemplate {
        /// The template engine's message.
        message: String,
        /// 1-based line inside the template.
        line: usize,
        /// 1-based column inside the template.
        column: usize,
    },
    /// A trigger option the trigger type does not take, or a missing required one.
    #[error("{0}")]
    TriggerOption(String),
    /// A value out of its range or in the wrong format (durations, timestamps, attempts).
    #[error("{0}")]
    InvalidValue(String),
}

fn later_hint(later: bool) -> &'static str {
    if later {
        " (steps can only read the outputs of steps before them)"
    } else {
        ""
    }
}
