//! `jiraflow adf convert` as a user runs it: standard input to standard output, non-zero exit and
//! a message naming what is wrong (and where) on bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn convert(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiraflow"))
        .args(["adf", "convert"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jiraflow starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn markdown_converts_to_an_adf_document_on_stdout() {
    let out = convert(
        &["--from", "markdown", "--to", "adf"],
        "# Title\n\n- **one**\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["type"], "doc");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["content"][0]["type"], "heading");
    assert_eq!(doc["content"][1]["type"], "bulletList");
}

#[test]
fn adf_converts_back_to_markdown_and_to_text() {
    let adf = stdout(&convert(
        &["--from", "markdown", "--to", "adf", "--compact"],
        "Hi [~accountid:abc123|Ada], see `x`\\\nnext",
    ));
    assert_eq!(adf.lines().count(), 1, "compact ADF is one line: {adf}");
    let md = convert(&["--from", "adf", "--to", "markdown"], &adf);
    assert!(md.status.success(), "{}", stderr(&md));
    assert_eq!(stdout(&md), "Hi [~accountid:abc123|Ada], see `x`\\\nnext\n");
    let text = convert(&["--from", "adf", "--to", "text"], &adf);
    assert_eq!(stdout(&text), "Hi Ada, see x\nnext\n");
}

#[test]
fn plain_text_input_keeps_its_line_breaks() {
    let out = convert(&["--from", "text", "--to", "markdown"], "a *b*\nc\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "a \\*b\\*\\\nc\n");
}

#[test]
fn invalid_json_fails_naming_the_line_and_column() {
    let out = convert(
        &["--from", "adf", "--to", "markdown"],
        "{\n  \"type\": \"doc\",\n  oops\n}",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("not valid JSON at line 3, column 3"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn json_that_is_not_an_adf_document_fails_saying_what_is_missing() {
    let out = convert(
        &["--from", "adf", "--to", "text"],
        r#"{"type": "doc", "content": []}"#,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("not an ADF document"), "{err}");
    assert!(err.contains("version"), "{err}");

    let out = convert(&["--from", "adf", "--to", "text"], r#""just a string""#);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("must be a JSON object"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_format_is_rejected_by_the_argument_parser() {
    let out = convert(&["--from", "html", "--to", "adf"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("html"), "{}", stderr(&out));
}
