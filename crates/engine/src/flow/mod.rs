//! The flow file format: YAML flows, validated with file:line:column and field paths.
//!
//! [`load_flow`] parses a file into [`FlowFile`] (syntax, type and unknown-key errors come with
//! yaml_serde's position and serde_path_to_error's path), then runs the semantic checks of
//! the `check` module and collects every problem they find. [`json_schema`] publishes the format for
//! editors.

mod check;
mod error;
mod locate;
mod spec;

use std::path::Path;

pub use error::{FlowError, FlowErrorKind, FlowErrors};
pub use locate::{FieldPath, Segment};
pub use spec::{
    Action, FlowFile, OnError, RetryPolicy, StepSpec, TriggerKind, TriggerMode, TriggerOptions,
    TriggerSpec,
};

/// The connections a flow may name; implemented by the store (and by tests).
pub trait ConnectionCatalog {
    /// Whether a connection with this name exists.
    fn exists(&self, name: &str) -> bool;
}

/// A catalog that accepts every name, for checking a file without a store.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyConnection;

impl ConnectionCatalog for AnyConnection {
    fn exists(&self, _name: &str) -> bool {
        true
    }
}

impl<S: std::hash::BuildHasher> ConnectionCatalog for std::collections::HashSet<String, S> {
    fn exists(&self, name: &str) -> bool {
        self.contains(name)
    }
}

impl ConnectionCatalog for &[&str] {
    fn exists(&self, name: &str) -> bool {
        self.contains(&name)
    }
}

/// A validated flow and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// The file name it was loaded from.
    pub source: String,
    /// The flow itself.
    pub spec: FlowFile,
}

/// Where a flow's text comes from.
#[derive(Debug, Clone, Copy)]
pub enum FlowSource<'a> {
    /// A file to read.
    Path(&'a Path),
    /// Text already in memory, with the name errors should show.
    Text {
        /// The name shown in errors.
        name: &'a str,
        /// The YAML text.
        text: &'a str,
    },
}

impl<'a> From<&'a Path> for FlowSource<'a> {
    fn from(path: &'a Path) -> Self {
        Self::Path(path)
    }
}

impl<'a> From<(&'a str, &'a str)> for FlowSource<'a> {
    fn from((name, text): (&'a str, &'a str)) -> Self {
        Self::Text { name, text }
    }
}

/// Loads and validates a flow, returning every problem found.
pub fn load_flow<'a>(
    source: impl Into<FlowSource<'a>>,
    catalog: &dyn ConnectionCatalog,
) -> Result<Flow, FlowErrors> {
    match source.into() {
        FlowSource::Path(path) => {
            let name = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(text) => load_text(&name, &text, catalog),
                Err(e) => Err(FlowErrors {
                    errors: vec![FlowError {
                        file: name,
                        line: 1,
                        column: 1,
                        path: String::new(),
                        kind: FlowErrorKind::Io(e.to_string()),
                    }],
                }),
            }
        }
        FlowSource::Text { name, text } => load_text(name, text, catalog),
    }
}

fn load_text(name: &str, text: &str, catalog: &dyn ConnectionCatalog) -> Result<Flow, FlowErrors> {
    let spec = parse(name, text)?;
    let errors = check::check(name, text, &spec, catalog);
    if errors.is_empty() {
        Ok(Flow {
            source: name.to_owned(),
            spec,
        })
    } else {
        Err(FlowErrors { errors })
    }
}

fn parse(name: &str, text: &str) -> Result<FlowFile, FlowErrors> {
    let de = yaml_serde::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, FlowFile>(de).map_err(|err| {
        let field_path = to_field_path(err.path());
        let path = field_path.to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string(), &path);
        let (kind, (line, column)) = if message.starts_with("unknown action") {
            // Raised after the string was read, so yaml_serde stamps the enclosing step's
            // position; the path leads to the value itself.
            (
                FlowErrorKind::UnknownAction(message),
                locate::locate(text, &field_path),
            )
        } else {
            let at = inner
                .location()
                .map_or((1, 1), |loc| (loc.line(), loc.column()));
            (FlowErrorKind::Syntax(message), at)
        };
        FlowErrors {
            errors: vec![FlowError {
                file: name.to_owned(),
                line,
                column,
                path,
                kind,
            }],
        }
    })
}

fn to_field_path(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    let mut out = FieldPath::default();
    for seg in path.iter() {
        match seg {
            S::Seq { index } => out = out.index(*index),
            S::Map { key } => out = out.key(key),
            S::Enum { variant } => out = out.key(variant),
            S::Unknown => {}
        }
    }
    out
}

// yaml_serde prefixes the field path and appends " at line L column C"; we print both ourselves
// in front, so drop the duplicates.
fn strip_position(message: &str, path: &str) -> String {
    let cut = message.find(" at line ").unwrap_or(message.len());
    let trimmed = &message[..cut];
    // yaml_serde's path is the enclosing node's, not always ours, so strip any path-shaped head.
    match trimmed.split_once(": ") {
        Some((head, tail)) if head == path || !head.contains([' ', '`']) => tail.to_owned(),
        _ => trimmed.to_owned(),
    }
}

/// The JSON Schema of flow files, generated from the types.
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(FlowFile).to_value()
}
