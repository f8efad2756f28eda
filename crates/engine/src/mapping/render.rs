//! Rendering input trees and evaluating conditions with one shared, locked-down environment.

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, ValueKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{InputPath, MappingError, TemplateError, position};

/// Fuel given to each template evaluation unless configured otherwise: enough for real mappings
/// (loops over a few hundred issues) while stopping runaway loops within milliseconds.
pub const DEFAULT_FUEL: u64 = 50_000;

/// Nesting depth (macros, blocks) allowed unless configured otherwise.
pub const DEFAULT_RECURSION_LIMIT: usize = 64;

/// The template environment, built once and shared by every render of a flow run.
///
/// Undefined values are strict (any use of one fails, except `default` and `is defined`),
/// every evaluation is bounded by fuel and a recursion limit, and there is no template loader,
/// so `include`, `import` and `extends` cannot reach the file system.
#[derive(Debug)]
pub struct Mapper {
    env: Environment<'static>,
    fuel: u64,
    recursion_limit: usize,
}

impl Default for Mapper {
    fn default() -> Self {
        Mapper::new()
    }
}

impl Mapper {
    /// A mapper with [`DEFAULT_FUEL`] and [`DEFAULT_RECURSION_LIMIT`].
    pub fn new() -> Self {
        Mapper::with_limits(DEFAULT_FUEL, DEFAULT_RECURSION_LIMIT)
    }

    /// A mapper with the given fuel (instructions per evaluation) and recursion limit.
    pub fn with_limits(fuel: u64, recursion_limit: usize) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(fuel));
        env.set_recursion_limit(recursion_limit);
        // `debug()` dumps the whole context, env values included, into whatever field the
        // template fills (a comment, a summary); a flow has no use for it.
        env.remove_global("debug");
        // Debug mode keeps source spans on errors, which is how undefined errors can name the
        // failing expression instead of just "undefined value".
        env.set_debug(true);
        // Inputs are data: a multi-line string keeps its final newline like any YAML string.
        // Building a config that only sets this flag cannot fail; should it ever, the default
        // (dropping one trailing newline) is harmless.
        if let Ok(syntax) = SyntaxConfig::builder().keep_trailing_newline(true).build() {
            env.set_syntax(syntax);
        }
        Mapper {
            env,
            fuel,
            recursion_limit,
        }
    }

    /// The fuel limit per evaluation.
    pub fn fuel(&self) -> u64 {
        self.fuel
    }

    /// The recursion limit.
    pub fn recursion_limit(&self) -> usize {
        self.recursion_limit
    }

    fn render_value(
        &self,
        value: &Value,
        root: &minijinja::Value,
        path: &InputPath,
    ) -> Result<Value, MappingError> {
        match value {
            Value::String(s) => self.render_leaf(s, root, path),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.render_value(item, root, &path.index(i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (key, item) in map {
                    out.insert(key.clone(), self.render_value(item, root, &path.key(key))?);
                }
                Ok(Value::Object(out))
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => Ok(value.clone()),
        }
    }

    fn render_leaf(
        &self,
        source: &str,
        root: &minijinja::Value,
        path: &InputPath,
    ) -> Result<Value, MappingError> {
        if !has_markers(source) {
            return Ok(Value::String(source.to_owned()));
        }
        if let Some((inner, offset)) = single_expression(source)
            && let Ok(expr) = self.env.compile_expression_owned(inner.to_owned())
        {
            let value = expr
                .eval(root.clone())
                .map_err(|err| self.map_error(&err, source, offset, path, root))?;
            return to_json(&value, inner.trim(), path);
        }
        self.env
            .render_str(source, root.clone())
            .map(Value::String)
            .map_err(|err| self.map_error(&err, source, 0, path, root))
    }

    fn map_error(
        &self,
        err: &minijinja::Error,
        source: &str,
        offset: usize,
        path: &InputPath,
        root: &minijinja::Value,
    ) -> MappingError {
        let path = path.to_string();
        let span = err
            .range()
            .and_then(|r| source.get(lookup_start(source, offset + r.start)..offset + r.end))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match err.kind() {
            ErrorKind::OutOfFuel => MappingError::OutOfFuel {
                path,
                limit: self.fuel,
            },
            ErrorKind::SyntaxError => MappingError::Syntax {
                path,
                error: TemplateError::from_minijinja(err, source, offset),
            },
            ErrorKind::UndefinedError => MappingError::Undefined {
                path,
                expr: span.map_or_else(|| "a value".to_owned(), |s| first_undefined(root, s)),
            },
            _ if err.detail().is_some_and(|d| d.contains("recursion")) => {
                MappingError::RecursionLimit {
                    path,
                    limit: self.recursion_limit,
                }
            }
            kind => {
                let line = match err.range() {
                    Some(r) => position(source, offset + r.start).0,
                    None => err.line().unwrap_or(1),
                };
                let message = match err.detail() {
                    Some(detail) => format!("{kind}: {detail}"),
                    None => kind.to_string(),
                };
                MappingError::Render {
                    path,
                    line,
                    message,
                }
            }
        }
    }
}

/// What templates can see: `trigger`, `steps.<id>.output` and `env`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Context {
    /// The trigger event (the issue or comment that started the run).
    pub trigger: Value,
    /// Results of the steps that already ran, by step id.
    pub steps: BTreeMap<String, StepResult>,
    /// Environment values made available to the flow.
    pub env: BTreeMap<String, String>,
}

/// The part of a finished step that later templates may use.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StepResult {
    /// The action's output.
    pub output: Value,
}

/// Renders every template leaf of `input` (see the module docs for the typing rule); errors
/// name the leaf's path below `input`.
pub fn render_input(mapper: &Mapper, input: &Value, ctx: &Context) -> Result<Value, MappingError> {
    let root = minijinja::Value::from(Serde(ctx));
    mapper.render_value(input, &root, &InputPath::root("input"))
}

/// Renders `input` like [`render_input`] but over a template root the caller built (the dry
/// run's, where earlier steps' outputs are [`Placeholder`]s).
pub(crate) fn render_input_over(
    mapper: &Mapper,
    input: &Value,
    root: &minijinja::Value,
) -> Result<Value, MappingError> {
    mapper.render_value(input, root, &InputPath::root("input"))
}

/// A value that is only known once the run gets there (an earlier step's output in a dry run):
/// any attribute or index of it is a deeper placeholder, and it renders as `<path>`, so a dry
/// run shows where the value will go instead of failing on it.
#[derive(Debug)]
pub(crate) struct Placeholder(pub(crate) String);

impl minijinja::value::Object for Placeholder {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        // A map with no known keys: `is defined` holds and `for` loops run zero times.
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        let path = match (key.as_str(), key.as_i64()) {
            (Some(name), _) => format!("{}.{name}", self.0),
            (None, Some(index)) => format!("{}[{index}]", self.0),
            _ => format!("{}[{key}]", self.0),
        };
        Some(minijinja::Value::from_object(Placeholder(path)))
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.0)
    }
}

/// Evaluates a step's `if` condition, a bare expression (`trigger.issue.fields.priority.name ==
/// "High"`); a condition wrapped in `{{ … }}` is accepted too.
///
/// The result must be a boolean: truthiness would make `if: steps.find.output.issues` true for
/// any list, even an empty one after a refactor, so other kinds are errors that ask for an
/// explicit comparison.
pub fn eval_condition(mapper: &Mapper, expr: &str, ctx: &Context) -> Result<bool, MappingError> {
    let path = InputPath::root("if");
    let (inner, offset) = single_expression(expr).unwrap_or((expr, 0));
    let compiled = mapper
        .env
        .compile_expression_owned(inner.to_owned())
        .map_err(|err| mapper.map_error(&err, expr, offset, &path, &minijinja::Value::UNDEFINED))?;
    let root = minijinja::Value::from(Serde(ctx));
    let value = compiled
        .eval(root.clone())
        .map_err(|err| mapper.map_error(&err, expr, offset, &path, &root))?;
    match value.kind() {
        ValueKind::Bool => Ok(value.is_true()),
        ValueKind::Undefined => Err(MappingError::Undefined {
            path: path.to_string(),
            expr: first_undefined(&root, inner.trim()),
        }),
        kind => Err(MappingError::NotBoolean {
            path: path.to_string(),
            expr: inner.trim().to_owned(),
            found: kind.to_string(),
        }),
    }
}

/// Checks that `source` is a valid condition expression (bare or wrapped in `{{ … }}`).
pub fn check_condition(source: &str) -> Result<(), TemplateError> {
    let (inner, offset) = single_expression(source).unwrap_or((source, 0));
    let env = Environment::new();
    env.compile_expression(inner)
        .map(|_| ())
        .map_err(|err| TemplateError::from_minijinja(&err, source, offset))
}

/// Where the attribute chain ending in the span at `start` begins: minijinja's span for a
/// failed lookup covers only `.nothing.output` of `steps.nothing.output`, and the error is far
/// clearer with the variable it started from.
fn lookup_start(source: &str, start: usize) -> usize {
    let Some(before) = source.get(..start) else {
        return start;
    };
    let chain = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .map(char::len_utf8)
        .sum::<usize>();
    start - chain
}

/// The shortest prefix of the attribute chain `expr` that is undefined in `root`, so that
/// `steps.nothing.output.key` is reported as `steps.nothing` when the step id is the problem.
/// Anything that is not a plain chain over the context (an expression, a loop variable) is
/// returned as it is.
fn first_undefined(root: &minijinja::Value, expr: &str) -> String {
    let plain = expr
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !plain {
        return expr.to_owned();
    }
    let mut value = root.clone();
    let mut end = 0;
    for (i, part) in expr.split('.').enumerate() {
        end += part.len() + usize::from(i > 0);
        value = match value.get_attr(part) {
            Ok(next) if !next.is_undefined() => next,
            // The first segment missing from the context means a template-local name (a loop
            // or `set` variable): the chain cannot be walked here.
            _ if i == 0 => return expr.to_owned(),
            _ => return expr[..end].to_owned(),
        };
    }
    expr.to_owned()
}

/// Whether a string contains template markers at all; strings without them are literals.
pub(crate) fn has_markers(source: &str) -> bool {
    source.contains("{{") || source.contains("{%") || source.contains("{#")
}

/// If `source` is exactly one `{{ expression }}` (surrounding whitespace aside), the
/// expression's source and its byte offset in `source`.
///
/// Text such as `{{ a }}{{ b }}` also has this outer shape; its inside is no valid expression,
/// so compiling it fails and the caller falls back to rendering a string.
fn single_expression(source: &str) -> Option<(&str, usize)> {
    let lead = source.len() - source.trim_start().len();
    let body = source.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let (body, start) = match body.strip_prefix('-') {
        Some(rest) => (rest, lead + 3),
        None => (body, lead + 2),
    };
    let body = body.strip_suffix('-').unwrap_or(body);
    if body.contains("{{") || body.contains("{%") || body.contains("{#") {
        return None;
    }
    Some((body, start))
}

/// Converts an evaluated value to JSON, refusing undefined parts (e.g. a list built from a
/// missing attribute) and values with no data form (macros, functions).
fn to_json(value: &minijinja::Value, expr: &str, path: &InputPath) -> Result<Value, MappingError> {
    if let Some(placeholder) = value.downcast_object_ref::<Placeholder>() {
        return Ok(Value::String(format!("<{}>", placeholder.0)));
    }
    let not_json = |found: &str| MappingError::NotJson {
        path: path.to_string(),
        found: found.to_owned(),
    };
    match value.kind() {
        ValueKind::Undefined => Err(MappingError::Undefined {
            path: path.to_string(),
            expr: expr.to_owned(),
        }),
        ValueKind::None => Ok(Value::Null),
        ValueKind::Bool => Ok(Value::Bool(value.is_true())),
        ValueKind::String => Ok(Value::String(value.to_string())),
        ValueKind::Number | ValueKind::Bytes => {
            serde_json::to_value(value).map_err(|e| not_json(&e.to_string()))
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let iter = value.try_iter().map_err(|e| not_json(&e.to_string()))?;
            iter.enumerate()
                .map(|(i, item)| to_json(&item, expr, &path.index(i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        ValueKind::Map => {
            let iter = value.try_iter().map_err(|e| not_json(&e.to_string()))?;
            let mut out = Map::new();
            for key in iter {
                let name = key.as_str().map_or_else(|| key.to_string(), str::to_owned);
                let item = value.get_item(&key).map_err(|e| not_json(&e.to_string()))?;
                let child = to_json(&item, expr, &path.key(&name))?;
                out.insert(name, child);
            }
            Ok(Value::Object(out))
        }
        kind => Err(not_json(&kind.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_expression_finds_the_inside_and_its_offset() {
        assert_eq!(single_expression("{{ a.b }}"), Some((" a.b ", 2)));
        assert_eq!(single_expression("  {{- a -}}\n"), Some((" a ", 5)));
        assert_eq!(single_expression("x {{ a }}"), None);
        assert_eq!(single_expression("{{ a }}{% if b %}{{ c }}"), None);
    }

    #[test]
    fn lookup_start_walks_back_over_the_attribute_chain() {
        let src = "{{ steps.nothing.output }}";
        let at = src.find(".nothing").unwrap_or(0);
        assert_eq!(&src[lookup_start(src, at)..at], "steps");
        assert_eq!(lookup_start(src, 2), 2);
    }

    #[test]
    fn strings_without_markers_are_literals() {
        assert!(!has_markers("a } b { c %}"));
        assert!(has_markers("a {# note #}"));
    }
}
