//! Dry runs: every step's condition and input rendered over sample trigger records without
//! calling anything. Earlier steps' outputs are placeholders that render as
//! `<steps.<id>.output...>`, and a condition reading them is unknown.

use std::collections::BTreeMap;

use minijinja::value::Serde;
use serde_json::Value;

use super::redact::Redactor;
use super::{DRY_RUN_MAX_SAMPLES, DryRunSample, DryRunStep};
use crate::flow::Flow;
use crate::mapping::{
    Context, Mapper, Placeholder, eval_condition, referenced_steps, render_input_over,
};

/// Renders `flow` over the first [`DRY_RUN_MAX_SAMPLES`] samples.
pub(super) fn dry_run(
    mapper: &Mapper,
    redactor: &Redactor,
    env: &BTreeMap<String, String>,
    flow: &Flow,
    samples: &[Value],
) -> Vec<DryRunSample> {
    samples
        .iter()
        .take(DRY_RUN_MAX_SAMPLES)
        .map(|trigger| sample(mapper, redactor, env, flow, trigger))
        .collect()
}

fn sample(
    mapper: &Mapper,
    redactor: &Redactor,
    env: &BTreeMap<String, String>,
    flow: &Flow,
    trigger: &Value,
) -> DryRunSample {
    // Only steps before the current one are visible, as in a real run.
    let mut earlier: BTreeMap<String, minijinja::Value> = BTreeMap::new();
    let ctx = Context {
        trigger: trigger.clone(),
        steps: BTreeMap::new(),
        env: env.clone(),
    };
    let mut steps = Vec::with_capacity(flow.spec.steps.len());
    for spec in &flow.spec.steps {
        let root = minijinja::context! {
            trigger => Serde(trigger),
            env => Serde(env),
            steps => minijinja::Value::from(earlier.clone()),
        };
        let mut error = None;
        let condition = match &spec.condition {
            None => Some(true),
            // Whatever an earlier step returns is unknown until the run.
            Some(expr) if !referenced_steps(&wrap(expr)).is_empty() => None,
            Some(expr) => match eval_condition(mapper, expr, &ctx) {
                Ok(holds) => Some(holds),
                Err(err) => {
                    error = Some(redactor.text(&err.to_string()));
                    None
                }
            },
        };
        let input = match render_input_over(mapper, &Value::Object(spec.input.clone()), &root) {
            Ok(input) => Some(redactor.value(&input)),
            Err(err) => {
                error.get_or_insert_with(|| redactor.text(&err.to_string()));
                None
            }
        };
        steps.push(DryRunStep {
            step_id: spec.id.clone(),
            action: spec.action.name().to_owned(),
            condition,
            input,
            error,
        });
        let output = Placeholder(format!("steps.{}.output", spec.id));
        earlier.insert(
            spec.id.clone(),
            minijinja::context! { output => minijinja::Value::from_object(output) },
        );
    }
    DryRunSample {
        trigger: trigger.clone(),
        steps,
    }
}

/// A condition as a template, so the template analysis can find what it reads (conditions may
/// be bare expressions or already wrapped in `{{ }}`).
fn wrap(expr: &str) -> String {
    if expr.trim_start().starts_with("{{") {
        expr.to_owned()
    } else {
        format!("{{{{ {expr} }}}}")
    }
}
