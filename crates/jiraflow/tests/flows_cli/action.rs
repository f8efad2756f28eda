//! `jiraflow action`: one action, JSON in and JSON out, errors as JSON with exit status 1.

use serde_json::Value;

use crate::support::*;

fn json_out(output: &std::process::Output) -> Value {
    serde_json::from_str(stdout(output).trim())
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(output)))
}

#[test]
fn create_issue_prints_its_outcome_and_output_as_json() {
    let env = Env::start("action");
    let issues = env.sim.issues();
    let input = r#"{"project": "DEMO", "issue_type": "Task", "summary": "From the command line"}"#;
    let out = env.ada(&[
        "action",
        "create_issue",
        "--connection",
        "acme",
        "--input",
        input,
    ]);
    let result: Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(result["outcome"], "changed", "{result}");
    assert!(
        result["output"]["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("DEMO-")),
        "{result}"
    );
    assert_eq!(env.sim.issues(), issues + 1);

    // The input may come from a file too.
    let file = env.write("input.json", input);
    let again = env.ada(&[
        "action",
        "create_issue",
        "--connection",
        "acme",
        "--input",
        &format!("@{file}"),
    ]);
    assert!(again.contains("\"outcome\":\"changed\""), "{again}");
}

#[test]
fn a_bad_input_exits_1_with_a_json_error_naming_the_path() {
    let env = Env::start("action-bad");
    let out = env.fails(&[
        "action",
        "create_issue",
        "--connection",
        "acme",
        "--input",
        r#"{"project": "DEMO", "issue_type": "Task", "summary": 5}"#,
        "--as",
        "ada",
    ]);
    let error = &json_out(&out)["error"];
    assert_eq!(error["action"], "create_issue", "{error}");
    assert_eq!(error["kind"], "input", "{error}");
    assert_eq!(error["retryable"], false, "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("input.summary")),
        "{error}"
    );
}

#[test]
fn malformed_json_input_names_its_line_and_column() {
    let env = Env::start("action-json");
    let out = env.fails(&[
        "action",
        "create_issue",
        "--connection",
        "acme",
        "--input",
        "{\n  \"project\": DEMO\n}",
        "--as",
        "ada",
    ]);
    let error = &json_out(&out)["error"];
    assert_eq!(error["kind"], "input", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("--input: invalid JSON at line 2, column 14")),
        "{error}"
    );
}

#[test]
fn an_unknown_action_or_connection_is_a_json_error() {
    let env = Env::start("action-unknown");
    let out = env.fails(&[
        "action",
        "create_isue",
        "--connection",
        "acme",
        "--input",
        "{}",
        "--as",
        "ada",
    ]);
    let error = &json_out(&out)["error"];
    assert_eq!(error["kind"], "unknown_action", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean `create_issue`?")),
        "{error}"
    );

    let out = env.fails(&[
        "action",
        "get_issues",
        "--connection",
        "nope",
        "--input",
        r#"{"jql": "project = DEMO"}"#,
        "--as",
        "ada",
    ]);
    let error = &json_out(&out)["error"];
    assert_eq!(error["kind"], "connection", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown connection \"nope\"")),
        "{error}"
    );
}

#[test]
fn the_schema_of_an_actions_input_is_printed_from_its_type() {
    let out = std::process::Command::new(BIN)
        .args(["action", "upsert_issue", "--schema"])
        .output()
        .expect("run jiraflow");
    assert!(out.status.success(), "{}", text(&out));
    let schema = json_out(&out);
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"]["external_id"].is_object(), "{schema}");
    assert!(schema["properties"]["match_jql"].is_object(), "{schema}");

    let unknown = std::process::Command::new(BIN)
        .args(["action", "upsert_isue", "--schema"])
        .output()
        .expect("run jiraflow");
    assert_eq!(unknown.status.code(), Some(1));
    let error = json_out(&unknown);
    assert_eq!(error["error"]["kind"], "unknown_action");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("upsert_issue")),
        "{error}"
    );
}
