//! `flow run` executes a manual run at once and `runs list | show` read it back; `flow test`
//! renders steps over payloads or samples read from Jira without writing anything.

use serde_json::Value;

use crate::manage::OPEN_AND_NOTE;
use crate::support::*;

const PAYLOAD: &str = r#"{"summary": "Printer on fire", "requester": "Bob"}"#;

#[test]
fn a_manual_run_of_a_two_step_flow_executes_both_steps_and_is_listed_and_shown() {
    let env = Env::start("run");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);
    env.ada(&["flow", "apply", &file]);
    let (issues, comments) = (env.sim.issues(), env.sim.comments());

    let run = env.ada_json(&["flow", "run", "open-and-note", "--payload", PAYLOAD]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["origin"], "manual");
    let steps = run["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{run}");
    assert!(steps.iter().all(|s| s["status"] == "succeeded"), "{run}");
    let key = steps[0]["output"]["output"]["key"]
        .as_str()
        .expect("created issue key");
    assert!(key.starts_with("DEMO-"), "{key}");
    assert_eq!(env.sim.issues(), issues + 1);
    assert_eq!(env.sim.comments(), comments + 1);

    let id = run["id"].as_str().expect("run id");
    let listed = env.ada_json(&["runs", "list", "--flow", "open-and-note"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], id);
    let none = env.ada_json(&["runs", "list", "--status", "failed"]);
    assert_eq!(none, serde_json::json!([]));

    let shown = env.ada(&["runs", "show", id]);
    assert!(shown.contains("status    succeeded"), "{shown}");
    assert!(
        shown.contains("step open (create_issue)  succeeded  attempts 1"),
        "{shown}"
    );
    assert!(
        shown.contains("\"summary\": \"Printer on fire\""),
        "{shown}"
    );
    assert!(shown.contains(&format!("\"issue\": \"{key}\"")), "{shown}");

    let text_run = env.ada(&["flow", "run", "open-and-note", "--payload", PAYLOAD]);
    let rows: Vec<Vec<&str>> = text_run
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        rows.iter()
            .any(|r| r.len() == 5 && r[..4] == ["open", "create_issue", "succeeded", "1"]),
        "{text_run}"
    );
}

#[test]
fn a_failed_run_exits_1_and_names_the_failing_step() {
    let env = Env::start("run-fails");
    let file = env.write(
        "open-and-note.yaml",
        &OPEN_AND_NOTE.replace(
            "project: DEMO\n      issue_type",
            "project: NOPE\n      issue_type",
        ),
    );
    env.ada(&["flow", "apply", &file]);
    let out = env.fails(&[
        "flow",
        "run",
        "open-and-note",
        "--payload",
        PAYLOAD,
        "--as",
        "ada",
        "--output",
        "json",
    ]);
    let run: Value = serde_json::from_str(stdout(&out).trim()).expect("run JSON");
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["steps"][0]["status"], "failed", "{run}");
    assert!(
        run["steps"][0]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("create_issue")),
        "{run}"
    );
    assert!(run["error"].is_string(), "{run}");
}

#[test]
fn a_dry_run_with_a_payload_renders_every_step_and_writes_nothing() {
    let env = Env::start("dry-run");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);
    env.ada(&["flow", "apply", &file]);
    let issues = env.sim.issues();

    let samples = env.ada_json(&["flow", "test", "open-and-note", "--payload", PAYLOAD]);
    assert_eq!(samples.as_array().map(Vec::len), Some(1), "{samples}");
    let steps = &samples[0]["steps"];
    assert_eq!(steps[0]["input"]["summary"], "Printer on fire", "{samples}");
    assert_eq!(steps[1]["action"], "create_comment", "{samples}");

    // A file is dry-run as well as an applied flow, without applying it.
    let text_out = env.ada(&["flow", "test", &file, "--payload", PAYLOAD]);
    assert!(text_out.contains("step open (create_issue)"), "{text_out}");
    assert!(
        text_out.contains("\"summary\": \"Printer on fire\""),
        "{text_out}"
    );

    assert_eq!(env.sim.issues(), issues, "a dry run created an issue");
    assert_eq!(env.ada_json(&["runs", "list"]), serde_json::json!([]));
}

#[test]
fn a_dry_run_without_payloads_reads_newest_issues_of_the_trigger_from_jira() {
    let env = Env::start("samples");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);
    env.ada(&["flow", "apply", &file]);
    let issues = env.sim.issues();

    let samples = env.ada_json(&["flow", "test", "open-and-note", "--samples", "2"]);
    let samples = samples.as_array().expect("samples");
    assert_eq!(samples.len(), 2, "{samples:?}");
    for s in samples {
        let key = s["trigger"]["issue"]["key"].as_str().expect("issue key");
        assert!(key.starts_with("DEMO-"), "{key}");
    }
    assert_eq!(env.sim.issues(), issues);

    // Out of range is a usage error (status 2), before anything is read.
    let out = env.jf(&[
        "flow",
        "test",
        "open-and-note",
        "--samples",
        "6",
        "--as",
        "ada",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("--samples"), "{}", text(&out));
}

#[test]
fn a_dry_run_of_a_comment_trigger_samples_the_newest_comments_with_their_issues() {
    let env = Env::start("comment-samples");
    let file = env.write(
        "reply.yaml",
        r#"name: reply
trigger:
  type: new_comment
  connection: acme
  options:
    project: DEMO
steps:
  - id: reply
    action: create_comment
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      body: "Seen comment {{ trigger.comment.id }}"
"#,
    );
    let samples = env.ada_json(&["flow", "test", &file, "--samples", "3"]);
    let samples = samples.as_array().expect("samples");
    assert!(!samples.is_empty(), "no samples");
    assert!(samples.len() <= 3, "{samples:?}");
    for s in samples {
        let key = s["trigger"]["issue"]["key"].as_str().expect("issue key");
        let id = s["trigger"]["comment"]["id"].as_str().expect("comment id");
        assert_eq!(s["steps"][0]["input"]["issue"], key, "{s}");
        assert_eq!(
            s["steps"][0]["input"]["body"],
            format!("Seen comment {id}"),
            "{s}"
        );
    }
}

#[test]
fn resuming_with_nothing_left_executes_nothing_and_needs_the_permission() {
    let env = Env::start("resume");
    assert_eq!(env.ada(&["runs", "resume"]).trim(), "executed 0 run(s)");
    env.ada(&["user", "create", "bob"]);
    let out = env.fails(&["runs", "resume", "--as", "bob"]);
    assert!(
        stderr(&out).contains("manage_integration_connections"),
        "{}",
        text(&out)
    );
}

#[test]
fn purging_deletes_finished_runs_older_than_the_cutoff_and_needs_the_permission() {
    let env = Env::start("purge");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);
    env.ada(&["flow", "apply", &file]);
    let run = env.ada_json(&["flow", "run", "open-and-note", "--payload", PAYLOAD]);
    assert_eq!(run["status"], "succeeded", "{run}");

    let kept = env.ada_json(&["runs", "purge", "--older-than-days", "1"]);
    assert_eq!(kept["runs"], 0, "{kept}");
    assert_eq!(
        env.ada_json(&["runs", "list"]).as_array().map(Vec::len),
        Some(1)
    );
    // Zero days: everything that has finished by now goes.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let purged = env.ada_json(&["runs", "purge", "--older-than-days", "0"]);
    assert_eq!(purged["runs"], 1, "{purged}");
    assert_eq!(env.ada_json(&["runs", "list"]), serde_json::json!([]));

    env.ada(&["user", "create", "bob"]);
    let out = env.fails(&["runs", "purge", "--older-than-days", "0", "--as", "bob"]);
    assert!(
        stderr(&out).contains("manage_integration_connections"),
        "{}",
        text(&out)
    );
}
