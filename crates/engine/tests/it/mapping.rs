//! Template mapping: typed rendering of step inputs, conditions, referenced steps and limits.

use std::collections::BTreeMap;

use jiraflow_engine::mapping::{
    Context, Mapper, MappingError, StepResult, check_condition, check_template, eval_condition,
    referenced_steps, referenced_steps_in_input, render_input,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn ctx() -> Context {
    let mut steps = BTreeMap::new();
    steps.insert(
        "create".to_owned(),
        StepResult {
            output: json!({"key": "DEMO-7", "id": 10007, "labels": ["a", "b"], "meta": {"ok": true}}),
        },
    );
    let mut env = BTreeMap::new();
    env.insert("TEAM".to_owned(), "platform".to_owned());
    Context {
        trigger: json!({
            "issue": {
                "key": "DEMO-1",
                "fields": {"summary": "Broken login", "priority": {"name": "High"}, "points": 5, "labels": ["bug", "ui"], "assignee": null}
            }
        }),
        steps,
        env,
    }
}

fn render(input: Value) -> Result<Value, MappingError> {
    render_input(&Mapper::new(), &input, &ctx())
}

#[test]
fn a_single_expression_keeps_numbers_as_numbers() {
    let out = render(
        json!({"points": "{{ trigger.issue.fields.points }}", "id": "{{ steps.create.output.id + 1 }}"}),
    );
    assert_eq!(out.ok(), Some(json!({"points": 5, "id": 10008})));
}

#[test]
fn a_single_expression_keeps_lists_objects_bools_and_null() {
    let out = render(json!({
        "labels": "{{ trigger.issue.fields.labels }}",
        "meta": "{{ steps.create.output.meta }}",
        "flag": "{{ trigger.issue.fields.points > 3 }}",
        "nobody": "{{ trigger.issue.fields.assignee }}",
        "built": "{{ [trigger.issue.key, steps.create.output.key] }}",
        "dict": "{{ {'team': env.TEAM} }}"
    }));
    assert_eq!(
        out.ok(),
        Some(json!({
            "labels": ["bug", "ui"],
            "meta": {"ok": true},
            "flag": true,
            "nobody": null,
            "built": ["DEMO-1", "DEMO-7"],
            "dict": {"team": "platform"}
        }))
    );
}

#[test]
fn filters_and_literals_in_a_single_expression_keep_their_shape() {
    let out = render(json!({
        "reversed": "{{ trigger.issue.fields.labels | reverse }}",
        "range": "{{ range(3) }}",
        "half": "{{ 7 / 2 }}",
        "nested": "{{ {'a': {'b': 1}} }}",
        "count": "{{ trigger.issue.fields.labels | length }}",
        "text": "{{ trigger.issue.fields.points | string }}",
        "json_text": "{{ steps.create.output.meta | tojson }}"
    }));
    assert_eq!(
        out,
        Ok(json!({
            "reversed": ["ui", "bug"],
            "range": [0, 1, 2],
            "half": 3.5,
            "nested": {"a": {"b": 1}},
            "count": 2,
            "text": "5",
            "json_text": "{\"ok\": true}"
        }))
    );
}

#[test]
fn surrounding_whitespace_and_trim_markers_do_not_turn_an_expression_into_text() {
    let out = render(json!([
        "  {{ trigger.issue.fields.points }}\n",
        "{{- steps.create.output.id -}}"
    ]));
    assert_eq!(out.ok(), Some(json!([5, 10007])));
}

#[test]
fn text_mixed_with_expressions_renders_to_a_string() {
    let out = render(json!({
        "summary": "[{{ trigger.issue.key }}] {{ trigger.issue.fields.summary }}",
        "two": "{{ trigger.issue.fields.points }}{{ steps.create.output.id }}",
        "loop": "{% for l in trigger.issue.fields.labels %}{{ l | upper }};{% endfor %}"
    }));
    assert_eq!(
        out.ok(),
        Some(json!({"summary": "[DEMO-1] Broken login", "two": "510007", "loop": "BUG;UI;"}))
    );
}

#[test]
fn literal_values_and_plain_strings_pass_through_nested() {
    let input = json!({"a": [1, true, null, {"b": "plain } text {"}], "c": 2.5});
    assert_eq!(render(input.clone()).ok(), Some(input));
}

#[test]
fn a_missing_attribute_is_an_error_naming_path_and_expression() {
    let err = render(json!({"fields": {"summary": "{{ steps.create.output.nope }}"}}));
    let Err(err) = err else {
        panic!("expected an error, got {err:?}");
    };
    assert_eq!(err.path(), "input.fields.summary");
    insta::assert_snapshot!(err.to_string(), @"input.fields.summary: steps.create.output.nope is undefined (use `| default(...)` or `is defined` if it is optional)");
}

#[test]
fn a_missing_step_in_mixed_text_is_an_error_not_an_empty_string() {
    let err = render(json!({"body": "see {{ steps.nothing.output.key }} now"}));
    let Err(err) = err else {
        panic!("expected an error, got {err:?}");
    };
    assert_eq!(err.path(), "input.body");
    insta::assert_snapshot!(err.to_string(), @"input.body: steps.nothing is undefined (use `| default(...)` or `is defined` if it is optional)");
}

#[test]
fn a_missing_value_inside_a_built_list_is_an_error() {
    let err = render(json!({"labels": ["{{ [trigger.issue.key, trigger.issue.nope] }}"]}));
    assert!(
        matches!(&err, Err(MappingError::Undefined { path, .. }) if path == "input.labels[0][1]"),
        "{err:?}"
    );
}

#[test]
fn default_and_is_defined_make_missing_values_optional() {
    let out = render(json!({
        "a": "{{ steps.create.output.nope | default('none') }}",
        "b": "{{ steps.missing.output.key if steps.missing is defined else 3 }}",
        "c": "{{ trigger.issue.fields.nope is defined }}",
        "d": "x{{ trigger.issue.fields.nope | default('') }}y"
    }));
    assert_eq!(out, Ok(json!({"a": "none", "b": 3, "c": false, "d": "xy"})));
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let mapper = Mapper::with_limits(1_000, 16);
    let input = json!({"body": "{% for i in range(100000) %}{{ i }}{% endfor %}"});
    let err = render_input(&mapper, &input, &ctx());
    assert!(
        matches!(&err, Err(MappingError::OutOfFuel { path, limit: 1_000 }) if path == "input.body"),
        "{err:?}"
    );
}

#[test]
fn runaway_macro_recursion_hits_the_recursion_limit() {
    let mapper = Mapper::with_limits(1_000_000, 16);
    let input = json!("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    let err = render_input(&mapper, &input, &ctx());
    assert!(
        matches!(&err, Err(MappingError::RecursionLimit { limit: 16, .. })),
        "{err:?}"
    );
}

#[test]
fn a_syntax_error_reports_line_and_column() {
    let err = check_template("line one\n{{ trigger.issue. }}");
    let Err(err) = err else {
        panic!("expected a syntax error");
    };
    assert_eq!(err.line, 2);
    insta::assert_snapshot!(err.to_string(), @"line 2, column 19: unexpected end of variable block, expected identifier or integer");
    let err = render(json!({"x": "{{ 1 + }}"}));
    assert!(
        matches!(&err, Err(MappingError::Syntax { path, .. }) if path == "input.x"),
        "{err:?}"
    );
}

#[test]
fn check_template_accepts_valid_templates_and_plain_text() {
    assert_eq!(
        check_template("{{ steps.a.output | tojson }} {% if x %}y{% endif %}"),
        Ok(())
    );
    assert_eq!(check_template("no braces at all }}"), Ok(()));
    assert!(check_template("{% if x %}unclosed").is_err());
}

#[test]
fn conditions_must_evaluate_to_a_boolean() {
    let mapper = Mapper::new();
    let ctx = ctx();
    assert_eq!(
        eval_condition(
            &mapper,
            "trigger.issue.fields.priority.name == 'High'",
            &ctx
        ),
        Ok(true)
    );
    assert_eq!(
        eval_condition(
            &mapper,
            "{{ 'ui' in trigger.issue.fields.labels and false }}",
            &ctx
        ),
        Ok(false)
    );
    assert_eq!(
        eval_condition(&mapper, "steps.create.output.nope is defined", &ctx),
        Ok(false)
    );
    let err = eval_condition(&mapper, "trigger.issue.fields.labels", &ctx);
    assert!(
        matches!(&err, Err(MappingError::NotBoolean { found, .. }) if found == "sequence"),
        "{err:?}"
    );
    let err = eval_condition(&mapper, "steps.create.output.nope", &ctx);
    assert!(
        matches!(&err, Err(MappingError::Undefined { expr, .. }) if expr == "steps.create.output.nope"),
        "{err:?}"
    );
    assert!(check_condition("a ==").is_err());
    assert_eq!(check_condition("a == 1"), Ok(()));
}

#[test]
fn referenced_steps_lists_step_ids_in_order_without_duplicates() {
    let refs = referenced_steps(
        "{{ steps.create.output.key }} {{ steps.b.output }} {% for c in steps.create.output.labels %}{{ trigger.x }}{% endfor %}",
    );
    assert_eq!(refs, vec!["b".to_owned(), "create".to_owned()]);
    assert!(referenced_steps("{{ trigger.issue.key }}").is_empty());
    assert!(referenced_steps("{{ broken").is_empty());
    let refs = referenced_steps_in_input(
        &json!({"a": ["{{ steps.x.output }}"], "b": "{% if steps.y.output.ok %}1{% endif %}"}),
    );
    assert_eq!(refs, vec!["x".to_owned(), "y".to_owned()]);
}

fn literal_json() -> impl Strategy<Value = Value> {
    // Strings without `{` can hold no template markers, so they must come back unchanged.
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[^{]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn literal_json_passes_through_unchanged(input in literal_json()) {
        let out = render_input(&Mapper::new(), &input, &Context::default());
        prop_assert_eq!(out, Ok(input));
    }
}

#[test]
fn doc_examples_render_as_documented() {
    let out = render(json!({
        "labels": "{{ trigger.issue.fields.labels + ['triaged'] }}",
        "assignee": "{{ trigger.issue.fields.nope | default(none) }}",
        "html": "{{ '<b>' }} & {{ trigger.issue.key }}",
        "body": "Created {{ steps.create.output.key }} for {{ env.TEAM }}.\n"
    }));
    assert_eq!(
        out,
        Ok(json!({
            "labels": ["bug", "ui", "triaged"],
            "assignee": null,
            "html": "<b> & DEMO-1",
            "body": "Created DEMO-7 for platform.\n"
        }))
    );
}

#[test]
fn comparing_a_missing_value_is_an_error() {
    let mapper = Mapper::new();
    let err = eval_condition(&mapper, "steps.create.output.nope == 'a'", &ctx());
    assert!(
        matches!(&err, Err(MappingError::Undefined { .. })),
        "{err:?}"
    );
    let err = render(json!("{{ debug() }}"));
    assert!(matches!(&err, Err(MappingError::Render { .. })), "{err:?}");
}

#[test]
fn jira_wiki_braces_can_be_sent_literally() {
    let out = render(json!([
        "{% raw %}use {{monospace}} here{% endraw %}",
        "{{ '{{' }}monospace}}"
    ]));
    assert_eq!(out, Ok(json!(["use {{monospace}} here", "{{monospace}}"])));
}

#[test]
fn an_unknown_step_is_named_rather_than_the_whole_chain() {
    let err = render(json!({"key": "{{ steps.nothing.output.key }}"}));
    assert!(
        matches!(&err, Err(MappingError::Undefined { expr, path }) if expr == "steps.nothing" && path == "input.key"),
        "{err:?}"
    );
    let err = render(json!(
        "{% for l in trigger.issue.fields.labels %}{{ l.nope }}{% endfor %}"
    ));
    assert!(
        matches!(&err, Err(MappingError::Undefined { expr, .. }) if expr == "l.nope"),
        "{err:?}"
    );
}

#[test]
fn a_create_issue_input_renders_to_the_expected_shape() {
    let out = render(json!({
        "project": "DEMO",
        "fields": {
            "summary": "Follow-up: {{ trigger.issue.fields.summary }}",
            "story_points": "{{ trigger.issue.fields.points * 2 }}",
            "labels": "{{ trigger.issue.fields.labels + [env.TEAM] }}",
            "parent": "{{ {'key': steps.create.output.key} }}",
            "assignee": "{{ trigger.issue.fields.assignee }}",
            "urgent": "{{ trigger.issue.fields.priority.name == 'High' }}"
        }
    }));
    insta::assert_json_snapshot!(out.ok(), @r#"
    {
      "project": "DEMO",
      "fields": {
        "summary": "Follow-up: Broken login",
        "story_points": 10,
        "labels": [
          "bug",
          "ui",
          "platform"
        ],
        "parent": {
          "key": "DEMO-7"
        },
        "assignee": null,
        "urgent": true
      }
    }
    "#);
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn a_single_expression_returns_any_trigger_value_with_its_type(value in any_json()) {
        let ctx = Context { trigger: json!({"v": value.clone()}), ..Context::default() };
        let out = render_input(&Mapper::new(), &json!("{{ trigger.v }}"), &ctx);
        prop_assert_eq!(out, Ok(value));
    }
}
