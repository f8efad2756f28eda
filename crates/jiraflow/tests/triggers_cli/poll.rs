//! `trigger poll` enqueues each new issue once, `runs resume` executes the runs, `trigger
//! status` shows the counts, `trigger replay` re-emits a window only when forced, and `trigger
//! reset` moves the cursor.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::Value;

use crate::support::*;

/// A member of the simulated site, so the connection's own-change filter lets their issues by.
const MEMBER: &str = "5f1a00000000000000000b02";

/// A `new_issue` flow on project TRG, starting two days back, that comments on each new issue.
fn flow() -> String {
    let start = (Utc::now() - Duration::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    format!(
        r#"name: on-new
trigger:
  type: new_issue
  connection: acme
  options:
    project: TRG
    start: "{start}"
steps:
  - id: note
    action: create_comment
    connection: acme
    input:
      issue: "{{{{ trigger.issue.key }}}}"
      body: "Seen {{{{ trigger.issue.key }}}}"
"#
    )
}

fn count(value: &Value, field: &str) -> u64 {
    value[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
}

#[test]
fn a_poll_enqueues_new_issues_once_and_a_forced_replay_runs_them_again() {
    let env = Env::start("poll");
    let file = env.write("on-new.yaml", &flow());
    env.ada(&["flow", "apply", &file]);
    env.sim.bulk_issues("TRG", 3, MEMBER);

    let first = env.ada_json(&["trigger", "poll", "on-new"]);
    assert_eq!(count(&first, "enqueued"), 3, "{first}");
    assert_eq!(first["flow"], "on-new");
    let again = env.ada_json(&["trigger", "poll", "on-new"]);
    assert_eq!(count(&again, "enqueued"), 0, "{again}");
    let pending = env.ada_json(&["runs", "list", "--flow", "on-new", "--status", "pending"]);
    assert_eq!(pending.as_array().map(Vec::len), Some(3), "{pending}");
    assert!(
        pending
            .as_array()
            .into_iter()
            .flatten()
            .all(|r| r["origin"] == "trigger"),
        "{pending}"
    );

    let comments = env.sim.comments();
    let resumed = env.ada_json(&["runs", "resume"]);
    assert_eq!(count(&resumed, "executed"), 3, "{resumed}");
    assert_eq!(env.sim.comments(), comments + 3);

    let status = env.ada_json(&["trigger", "status", "on-new"]);
    let one = &status[0];
    assert_eq!(status.as_array().map(Vec::len), Some(1), "{status}");
    assert_eq!(one["flow"], "on-new", "{status}");
    assert_eq!(one["mode"], "poll");
    assert_eq!(one["connection"], "acme");
    assert_eq!(one["events_enqueued"], 3, "{status}");
    assert!(one["last_success_at"].is_string(), "{status}");
    assert!(one["cursor_ms"].is_i64(), "{status}");
    assert!(one["lag_ms"].is_i64(), "{status}");
    assert_eq!(one["paused_reason"], Value::Null, "{status}");
    let text = env.ok(&["trigger", "status", "on-new"]);
    assert!(text.contains("enqueued"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["enqueued", "3"]),
        "{text}"
    );
    assert!(text.contains("condition"), "{text}");
    let table = env.ok(&["trigger", "status"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("on-new") && l.contains("poll")),
        "{table}"
    );

    let from = (Utc::now() - Duration::days(3)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let to = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let deduped = env.ada_json(&["trigger", "replay", "on-new", "--from", &from, "--to", &to]);
    assert_eq!(count(&deduped, "enqueued"), 0, "{deduped}");
    assert_eq!(count(&deduped, "duplicates"), 3, "{deduped}");
    let forced = env.ada_json(&[
        "trigger", "replay", "on-new", "--from", &from, "--to", &to, "--force",
    ]);
    assert_eq!(count(&forced, "enqueued"), 3, "{forced}");
    let resumed = env.ada_json(&["runs", "resume"]);
    assert_eq!(count(&resumed, "executed"), 3, "{resumed}");
    assert_eq!(env.sim.comments(), comments + 6);
}

#[test]
fn reset_moves_the_cursor_and_bad_input_is_refused_with_what_is_wrong() {
    let env = Env::start("reset");
    let file = env.write("on-new.yaml", &flow());
    env.ada(&["flow", "apply", &file]);

    let before = Utc::now().timestamp_millis();
    let reset = env.ada_json(&["trigger", "reset", "on-new", "--start", "now"]);
    let cursor = reset["cursor_ms"].as_i64().expect("cursor");
    assert!(cursor >= before, "{reset}");
    // Issues created a day ago are behind the new cursor.
    env.sim.bulk_issues("TRG", 2, MEMBER);
    let polled = env.ada_json(&["trigger", "poll", "on-new"]);
    assert_eq!(count(&polled, "enqueued"), 0, "{polled}");

    let cleared = env.ada(&["trigger", "reset", "on-new"]);
    assert!(cleared.contains("cursor cleared"), "{cleared}");
    let polled = env.ada_json(&["trigger", "poll", "on-new"]);
    assert_eq!(count(&polled, "enqueued"), 2, "{polled}");

    // Argument errors are clap's (exit status 2), naming the option and the value.
    let bad = env.jf(&[
        "trigger",
        "replay",
        "on-new",
        "--from",
        "yesterday",
        "--to",
        "2026-01-01T00:00:00Z",
        "--as",
        "ada",
    ]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--from"), "{}", text(&bad));
    assert!(
        text(&bad).contains("\"yesterday\" is not an RFC 3339 instant"),
        "{}",
        text(&bad)
    );
    let backwards = env.fails(&[
        "trigger",
        "replay",
        "on-new",
        "--from",
        "2026-01-02T00:00:00Z",
        "--to",
        "2026-01-01T00:00:00Z",
        "--as",
        "ada",
    ]);
    assert!(
        text(&backwards).contains("must be before --to"),
        "{}",
        text(&backwards)
    );
    let unknown = env.fails(&["trigger", "poll", "nope", "--as", "ada"]);
    assert!(
        text(&unknown).contains("unknown flow \"nope\""),
        "{}",
        text(&unknown)
    );
}
