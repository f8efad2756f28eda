//! Which steps a template refers to, so the flow loader can check that a step only uses the
//! outputs of steps that run before it.

use std::collections::BTreeSet;

use minijinja::Environment;
use serde_json::Value;

use super::render::has_markers;

/// Step ids that `template` refers to via `steps.<id>`, sorted and without duplicates.
///
/// Relies on minijinja's static analysis of undeclared variables with nested lookups, so only
/// attribute access (`steps.create.output.key`) is seen; dynamic lookups like
/// `steps[name]` cannot be resolved statically and are not reported. A template that does not
/// parse refers to nothing (the loader reports its syntax error separately).
pub fn referenced_steps(template: &str) -> Vec<String> {
    let mut ids = BTreeSet::new();
    collect(template, &mut ids);
    ids.into_iter().collect()
}

/// Step ids referred to by any template in an input tree (see [`referenced_steps`]).
pub fn referenced_steps_in_input(input: &Value) -> Vec<String> {
    let mut ids = BTreeSet::new();
    walk(input, &mut ids);
    ids.into_iter().collect()
}

fn walk(value: &Value, ids: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => collect(s, ids),
        Value::Array(items) => items.iter().for_each(|v| walk(v, ids)),
        Value::Object(map) => map.values().for_each(|v| walk(v, ids)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn collect(template: &str, ids: &mut BTreeSet<String>) {
    if !has_markers(template) {
        return;
    }
    let env = Environment::new();
    let Ok(tmpl) = env.template_from_str(template) else {
        return;
    };
    for name in tmpl.undeclared_variables(true) {
        let mut parts = name.split('.');
        if parts.next() == Some("steps")
            && let Some(id) = parts.next()
        {
            ids.insert(id.to_owned());
        }
    }
}
