//! Template mapping: typed minijinja templates over `trigger`, `steps.<id>.output` and `env`.
//!
//! Step inputs are JSON trees whose string leaves may be templates. A leaf that is exactly one
//! `{{ expression }}` keeps the expression's type (number, bool, list, object, null); a leaf
//! mixing text and expressions yields a string; everything else passes through untouched.
//! Undefined values are errors naming the input path and the expression, never empty strings.
//! The language subset, the typing rule and the limits are described in docs/mapping.md.

mod error;
mod refs;
mod render;

pub use error::{MappingError, TemplateError};
pub use refs::{referenced_steps, referenced_steps_in_input};
pub use render::{
    Context, DEFAULT_FUEL, DEFAULT_RECURSION_LIMIT, Mapper, StepResult, check_condition,
    eval_condition, render_input,
};
pub(crate) use render::{Placeholder, render_input_over};

use minijinja::Environment;

/// Checks that `source` is a syntactically valid template.
///
/// Only syntax is checked: unknown variables are fine here (they are resolved when the flow
/// runs), and strings without template markers are always valid. Positions in the returned
/// error are 1-based and relative to `source`.
pub fn check_template(source: &str) -> Result<(), TemplateError> {
    if !render::has_markers(source) {
        return Ok(());
    }
    let env = Environment::new();
    env.template_from_str(source)
        .map(|_| ())
        .map_err(|err| TemplateError::from_minijinja(&err, source, 0))
}
