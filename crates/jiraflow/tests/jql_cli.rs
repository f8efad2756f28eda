//! `jiraflow jql check`: normalized output, JSON output, Jira's error text with a caret, exit
//! codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn jiraflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiraflow"))
        .args(args)
        .output()
        .expect("jiraflow runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_valid_query_prints_its_normalized_form_and_exits_zero() {
    let output = jiraflow(&[
        "jql",
        "check",
        "project=DEMO and labels in (urgent,'needs triage') order by updated",
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "project = DEMO AND labels IN (urgent, \"needs triage\") ORDER BY updated\n"
    );
}

#[test]
fn an_invalid_query_prints_jiras_message_and_a_caret_and_exits_one() {
    let output = jiraflow(&["jql", "check", "project = DEMO status = Done"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'status'. \
         (line 1, character 16)\n  project = DEMO status = Done\n                 ^\n"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn an_error_at_the_end_puts_the_caret_after_the_last_character() {
    let output = jiraflow(&["jql", "check", "(a = b"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with(
            "error: Error in the JQL Query: Expecting ')' before the end of the query.\n"
        ),
        "{err}"
    );
    assert!(err.ends_with("  (a = b\n        ^\n"), "{err:?}");
}

#[test]
fn an_error_on_a_later_line_shows_that_line() {
    let output = jiraflow(&["jql", "check", "project = DEMO\nAND summary ~ 5%"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("(line 2, character 16)"), "{err}");
    assert!(
        err.ends_with("  AND summary ~ 5%\n                 ^\n"),
        "{err:?}"
    );
}

#[test]
fn json_output_has_the_normalized_query_and_the_syntax_tree() {
    let output = jiraflow(&[
        "jql",
        "check",
        "--output",
        "json",
        "status = Done ORDER BY key DESC",
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(body["valid"], true);
    assert_eq!(body["normalized"], "status = Done ORDER BY key DESC");
    assert_eq!(body["structure"]["order_by"][0]["direction"], "Desc");
    assert!(body["structure"]["clause"]["Compare"].is_object(), "{body}");
}

#[test]
fn json_output_of_an_invalid_query_has_the_error_and_position_and_exits_one() {
    let output = jiraflow(&["jql", "check", "--output", "json", "summary ~ user"]);
    assert_eq!(output.status.code(), Some(1));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(body["valid"], false);
    assert_eq!(
        body["errors"][0],
        "Error in the JQL Query: 'user' is a reserved JQL word. You must surround it in \
         quotation marks to use it in a query. (line 1, character 11)"
    );
    assert_eq!(body["position"]["column"], 11);
    assert_eq!(body["position"]["offset"], 10);
}

#[test]
fn a_dash_reads_the_query_from_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiraflow"))
        .args(["jql", "check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jiraflow starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(b"assignee is empty\n")
        .expect("query is written");
    let output = child.wait_with_output().expect("jiraflow finishes");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "assignee IS EMPTY\n");
}

#[test]
fn a_missing_query_is_a_usage_error_with_exit_code_two() {
    let output = jiraflow(&["jql", "check"]);
    assert_eq!(output.status.code(), Some(2));
    let output = jiraflow(&["jql", "check", "--output", "yaml", "a = b"]);
    assert_eq!(output.status.code(), Some(2));
}
