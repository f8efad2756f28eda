//! Flow files: loading, the position and path of every rejection, the examples and the schema.

use std::path::{Path, PathBuf};

use jiraflow_engine::flow::{
    self, Action, AnyConnection, FlowErrorKind, FlowErrors, OnError, TriggerKind, load_flow,
};

const CONNECTIONS: &[&str] = &["acme"];

fn load(text: &str) -> Result<flow::Flow, FlowErrors> {
    load_flow(("test.yaml", text), &CONNECTIONS)
}

/// The single error of `text`, as `line:column path: message`.
fn only_error(text: &str) -> String {
    let errors = match load(text) {
        Ok(_) => panic!("the flow loaded"),
        Err(e) => e.errors,
    };
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e.file, "test.yaml");
    format!("{}:{} {}: {}", e.line, e.column, e.path, e.kind)
}

const VALID: &str = "\
name: demo
trigger:
  type: new_issue
  connection: acme
steps:
  - id: first
    action: create_comment
    connection: acme
    input:
      issue: \"{{ trigger.issue.key }}\"
      body: hello
  - id: second
    action: add_watcher
    connection: acme
    input:
      issue: \"{{ steps.first.output.issue }}\"
";

fn with(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from}");
    VALID.replacen(from, to, 1)
}

#[test]
fn a_valid_flow_loads_with_defaults_filled_in() {
    let flow = load(VALID)
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(flow.source, "test.yaml");
    let spec = flow.spec;
    assert!(spec.enabled);
    assert_eq!(spec.trigger.kind, TriggerKind::NewIssue);
    assert_eq!(spec.steps[1].action, Action::AddWatcher);
    assert_eq!(spec.steps[0].retry.max_attempts, 3);
    assert_eq!(spec.steps[0].retry.backoff, "1s");
    assert_eq!(spec.steps[0].on_error, OnError::Fail);
}

#[test]
fn a_parsed_flow_round_trips_through_yaml() {
    let flow = load(VALID)
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let text = yaml_serde::to_string(&flow.spec).unwrap_or_else(|e| panic!("{e}"));
    let again = load(&text)
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.spec, flow.spec);
}

#[test]
fn an_unknown_key_is_rejected_at_the_key_with_its_path() {
    let text = with(
        "    input:\n      issue: \"{{ steps",
        "    inputs: {}\n    input:\n      issue: \"{{ steps",
    );
    let err = only_error(&text);
    assert!(
        err.starts_with("15:5 steps[1].inputs: unknown field `inputs`"),
        "{err}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_rejected_with_its_path() {
    let text = with(
        "  connection: acme\nsteps",
        "  connection: acme\n  options:\n    mode: sometimes\nsteps",
    );
    let err = only_error(&text);
    assert!(
        err.starts_with("6:11 trigger.options.mode: unknown variant `sometimes`"),
        "{err}"
    );
}

#[test]
fn malformed_yaml_is_rejected_with_its_position() {
    let err = only_error("name: x: y\n");
    assert_eq!(err, "1:8 : mapping values are not allowed in this context");
    let err = only_error("name: [x]\n");
    assert_eq!(err, "1:7 name: invalid type: sequence, expected a string");
}

#[test]
fn an_unknown_action_names_the_closest_and_lists_the_valid_ones() {
    let err = only_error(&with("action: add_watcher", "action: add_wacher"));
    assert!(err.starts_with("13:13 steps[1].action: unknown action `add_wacher` (did you mean `add_watcher`?); valid actions: add_attachment,"), "{err}");
    assert!(err.contains("delete_file"), "{err}");
}

#[test]
fn a_duplicate_step_id_is_rejected_at_the_second_one() {
    let err = only_error(&with("id: second", "id: first"));
    assert_eq!(
        err,
        "12:9 steps[1].id: duplicate step id `first` (first used by steps[0])"
    );
}

#[test]
fn a_step_id_outside_the_allowed_characters_is_rejected() {
    let err = only_error(&with("id: second", "id: Second-Step"));
    assert_eq!(
        err,
        "12:9 steps[1].id: invalid step id `Second-Step`: use lowercase letters, digits and `_`"
    );
}

#[test]
fn a_template_reading_a_later_step_is_rejected() {
    let err = only_error(&with("body: hello", "body: \"{{ steps.second.output }}\""));
    assert_eq!(
        err,
        "11:13 steps[0].input.body: `steps.second` is not an earlier step (steps can only read the outputs of steps before them)"
    );
}

#[test]
fn a_template_reading_an_unknown_step_is_rejected() {
    let err = only_error(&with("steps.first.output", "steps.nope.output"));
    assert_eq!(
        err,
        "16:14 steps[1].input.issue: `steps.nope` is not an earlier step"
    );
}

#[test]
fn an_unknown_connection_is_rejected_where_it_is_named() {
    let err = only_error(&with(
        "    connection: acme\n    input:\n      issue: \"{{ steps",
        "    connection: globex\n    input:\n      issue: \"{{ steps",
    ));
    assert_eq!(
        err,
        "14:17 steps[1].connection: unknown connection `globex`"
    );
    let err = only_error(&with(
        "  connection: acme\nsteps",
        "  connection: initech\nsteps",
    ));
    assert_eq!(err, "4:15 trigger.connection: unknown connection `initech`");
}

#[test]
fn a_jira_action_without_a_connection_is_rejected_at_the_step() {
    let err = only_error(&with(
        "    connection: acme\n    input:\n      issue: \"{{ steps",
        "    input:\n      issue: \"{{ steps",
    ));
    assert_eq!(
        err,
        "12:5 steps[1]: action `add_watcher` calls Jira and needs a `connection`"
    );
}

#[test]
fn a_bad_template_is_rejected_with_its_position_inside_the_template() {
    let err = only_error(&with("body: hello", "body: \"hi {{ trigger.issue.key \""));
    assert!(
        err.starts_with("11:13 steps[0].input.body: invalid template at 1:"),
        "{err}"
    );
}

#[test]
fn a_bad_condition_is_rejected_at_the_if() {
    let err = only_error(&with(
        "    action: add_watcher\n",
        "    action: add_watcher\n    if: trigger.x ==\n",
    ));
    assert!(
        err.starts_with("14:9 steps[1].if: invalid template at 1:"),
        "{err}"
    );
}

#[test]
fn invalid_jql_is_rejected_with_its_position_inside_the_query() {
    let text = with(
        "  connection: acme\nsteps",
        "  connection: acme\n  options:\n    jql: project = OPS AND\nsteps",
    )
    .replacen("type: new_issue", "type: new_issue_with_filter", 1);
    let err = only_error(&text);
    assert!(
        err.starts_with("6:10 trigger.options.jql: invalid JQL at 1:18 of the query: "),
        "{err}"
    );
}

#[test]
fn a_filtered_trigger_without_jql_is_rejected() {
    let err = only_error(&with(
        "type: new_issue",
        "type: new_or_updated_issue_with_filter",
    ));
    assert_eq!(
        err,
        "3:3 trigger.options: trigger `new_or_updated_issue_with_filter` requires `options.jql`"
    );
}

#[test]
fn trigger_options_the_type_does_not_take_are_rejected() {
    let text = with(
        "  connection: acme\nsteps",
        "  connection: acme\n  options:\n    jql: project = X\n    fields: [summary]\nsteps",
    );
    let errors = load(&text).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        errors,
        "test.yaml:6:10: trigger.options.jql: trigger `new_issue` takes no `jql`; use `new_issue_with_filter`\n\
         test.yaml:7:13: trigger.options.fields: trigger `new_issue` does not fire on updates, so `fields` does not apply"
    );
}

#[test]
fn bad_durations_timestamps_and_attempts_are_rejected() {
    let text = with(
        "  connection: acme\nsteps",
        "  connection: acme\n  options:\n    poll_interval: 5\n    start: yesterday\nsteps",
    )
    .replacen(
        "    input:\n      issue: \"{{ steps",
        "    retry: { max_attempts: 0 }\n    input:\n      issue: \"{{ steps",
        1,
    );
    let errors = load(&text).err().map(|e| e.errors).unwrap_or_default();
    let got: Vec<String> = errors
        .iter()
        .map(|e| format!("{}:{} {}", e.line, e.column, e.path))
        .collect();
    assert_eq!(
        got,
        [
            "6:20 trigger.options.poll_interval",
            "7:12 trigger.options.start",
            "18:28 steps[1].retry.max_attempts"
        ]
    );
    assert!(matches!(errors[0].kind, FlowErrorKind::InvalidValue(_)));
}

#[test]
fn all_semantic_errors_are_reported_together() {
    let text = with("id: second", "id: first").replacen(
        "connection: acme\n    input",
        "connection: nope\n    input",
        1,
    );
    let errors = load(&text).err().map(|e| e.errors).unwrap_or_default();
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    files
}

#[test]
fn every_example_loads() {
    let files = examples();
    assert!(files.len() >= 3, "{files:?}");
    for path in files {
        if let Err(e) = load_flow(path.as_path(), &AnyConnection) {
            panic!("{e}");
        }
    }
}

#[test]
fn every_example_validates_against_the_published_schema() {
    let schema = flow::json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let value: serde_json::Value =
            yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    let bad = serde_json::json!({"name": "x", "trigger": {"type": "new_issue", "connection": "a"}, "steps": [], "extra": 1});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn the_schema_has_a_stable_shape() {
    insta::assert_json_snapshot!("flow_schema", flow::json_schema());
}

mod props {
    use jiraflow_engine::flow::{
        Action, FlowFile, OnError, RetryPolicy, StepSpec, TriggerKind, TriggerOptions, TriggerSpec,
        load_flow,
    };
    use proptest::prelude::*;

    fn step(i: usize, action: usize, literal: String) -> StepSpec {
        let action = Action::ALL[action % Action::ALL.len()];
        let mut input = serde_json::Map::new();
        input.insert("text".into(), serde_json::Value::String(literal));
        input.insert("count".into(), serde_json::Value::from(i));
        StepSpec {
            id: format!("s{i}"),
            action,
            connection: action.needs_connection().then(|| "acme".to_owned()),
            input,
            condition: None,
            retry: RetryPolicy::default(),
            on_error: if i.is_multiple_of(2) {
                OnError::Fail
            } else {
                OnError::Continue
            },
        }
    }

    proptest! {
        #[test]
        fn any_serialized_valid_flow_loads_back_unchanged(
            actions in proptest::collection::vec(0usize..23, 0..6),
            literal in "[a-zA-Z0-9 .,:#'\"-]{0,30}",
        ) {
            let flow = FlowFile {
                name: "generated".into(),
                description: Some(literal.clone()),
                enabled: true,
                trigger: TriggerSpec {
                    kind: TriggerKind::NewComment,
                    connection: "acme".into(),
                    options: TriggerOptions::default(),
                },
                steps: actions.iter().enumerate().map(|(i, a)| step(i, *a, literal.clone())).collect(),
            };
            let text = yaml_serde::to_string(&flow).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let loaded = load_flow(("gen.yaml", text.as_str()), &["acme"].as_slice())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(loaded.spec, flow);
        }
    }
}

#[test]
fn option_defaults_are_applied_when_options_are_absent() {
    let flow = load(VALID)
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = &flow.spec.trigger.options;
    assert_eq!(opts.mode(), flow::TriggerMode::Poll);
    assert_eq!(opts.poll_interval_ms(), 60_000);
    assert!(opts.ignores_own_changes());
    assert_eq!(flow.spec.steps[0].retry.backoff_ms(), 1_000);
}
