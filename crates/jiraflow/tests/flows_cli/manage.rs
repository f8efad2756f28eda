//! Applying, listing, showing, enabling, disabling and deleting flows; refusals with positions;
//! connections pinned by the flows that use them.

use crate::support::*;

/// A two-step flow: open an issue from the payload, then comment on it.
pub const OPEN_AND_NOTE: &str = r#"name: open-and-note
description: Open an issue from the payload, then comment on it.
trigger:
  type: new_issue
  connection: acme
  options:
    project: DEMO
steps:
  - id: open
    action: create_issue
    connection: acme
    input:
      project: DEMO
      issue_type: Task
      summary: "{{ trigger.summary }}"
  - id: note
    action: create_comment
    connection: acme
    input:
      issue: "{{ steps.open.output.key }}"
      body: "Opened for {{ trigger.requester }}."
"#;

#[test]
fn applying_a_flow_reports_created_then_unchanged_then_updated() {
    let env = Env::start("apply");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);

    let first = env.ada(&["flow", "apply", &file]);
    assert_eq!(first.trim(), "open-and-note  v1  created");
    let again = env.ada(&["flow", "apply", &file]);
    assert_eq!(again.trim(), "open-and-note  v1  unchanged");

    env.write(
        "open-and-note.yaml",
        &OPEN_AND_NOTE.replace("Opened for", "Opened on behalf of"),
    );
    let changed = env.ada(&["flow", "apply", &file]);
    assert_eq!(changed.trim(), "open-and-note  v2  updated");

    let disabled = env.ada_json(&["flow", "apply", &file, "--disabled"]);
    assert_eq!(disabled[0]["result"], "updated");
    assert_eq!(disabled[0]["version"], 2);
    assert_eq!(disabled[0]["enabled"], false);
}

#[test]
fn a_file_with_problems_is_refused_with_positions_and_nothing_is_applied() {
    let env = Env::start("refuse");
    let good = env.write("good.yaml", OPEN_AND_NOTE);
    let bad = env.write(
        "bad.yaml",
        &OPEN_AND_NOTE
            .replace("name: open-and-note", "name: broken")
            .replace("action: create_comment", "action: create_coment"),
    );
    let out = env.fails(&["flow", "apply", &good, &bad, "--as", "ada"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{bad}:17:13: steps[1].action: unknown action `create_coment` (did you mean `create_comment`?)"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was applied"), "{err}");
    assert_eq!(env.ada_json(&["flow", "list"]), serde_json::json!([]));
}

#[test]
fn a_flow_naming_an_unknown_connection_is_refused_at_that_name() {
    let env = Env::start("unknown-conn");
    let file = env.write(
        "elsewhere.yaml",
        &OPEN_AND_NOTE.replacen("connection: acme", "connection: globex", 1),
    );
    let out = env.fails(&["flow", "apply", &file, "--as", "ada"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{file}:5:15: trigger.connection: unknown connection `globex`"
        )),
        "{err}"
    );
}

#[test]
fn managing_flows_needs_an_acting_user() {
    let env = Env::start("no-user");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);
    let out = env.fails(&["flow", "apply", &file]);
    assert!(stderr(&out).contains("--as USER"), "{}", text(&out));
}

#[test]
fn flows_are_listed_shown_disabled_enabled_and_deleted() {
    let env = Env::start("lifecycle");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);
    env.ada(&["flow", "apply", &file]);

    let listed = env.ada(&["flow", "list"]);
    let row = listed
        .lines()
        .find(|l| l.starts_with("open-and-note"))
        .unwrap_or_else(|| panic!("no row: {listed}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cells[..5],
        ["open-and-note", "1", "yes", "new_issue", "acme"]
    );

    let shown = env.ada(&["flow", "show", "OPEN-AND-NOTE"]);
    assert!(shown.contains("version      1"), "{shown}");
    assert!(shown.contains("applied by   ada"), "{shown}");
    assert!(shown.ends_with(OPEN_AND_NOTE), "{shown}");

    assert_eq!(
        env.ada(&["flow", "disable", "open-and-note"]).trim(),
        "open-and-note  v1  disabled"
    );
    assert_eq!(
        env.ada_json(&["flow", "show", "open-and-note"])["enabled"],
        false
    );
    assert_eq!(
        env.ada(&["flow", "enable", "open-and-note"]).trim(),
        "open-and-note  v1  enabled"
    );

    env.ada(&["flow", "delete", "open-and-note"]);
    assert_eq!(env.ada_json(&["flow", "list"]), serde_json::json!([]));
    let out = env.fails(&["flow", "show", "open-and-note"]);
    assert!(
        stderr(&out).contains("unknown flow \"open-and-note\" (see `jiraflow flow list`)"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_connection_used_by_a_flow_cannot_be_deleted_until_the_flow_is() {
    let env = Env::start("pinned");
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);
    env.ada(&["flow", "apply", &file]);

    let out = env.fails(&["connection", "delete", "acme", "--as", "ada"]);
    assert!(stderr(&out).contains("open-and-note"), "{}", text(&out));

    env.ada(&["flow", "delete", "open-and-note"]);
    env.ada(&["connection", "delete", "acme"]);
}

#[test]
fn a_user_without_the_permission_can_use_only_connections_they_created() {
    let env = Env::start("perm");
    env.ada(&["user", "create", "bob"]);
    let file = env.write("open-and-note.yaml", OPEN_AND_NOTE);

    // Ada's connection does not exist for Bob: refused at its first use in the file.
    let out = env.fails(&["flow", "apply", &file, "--as", "bob"]);
    assert!(
        stderr(&out).contains(&format!(
            "{file}:5:15: trigger.connection: unknown connection `acme`"
        )),
        "{}",
        text(&out)
    );
    let out = env.fails(&[
        "action",
        "get_issues",
        "--connection",
        "acme",
        "--input",
        r#"{"jql": "project = DEMO"}"#,
        "--as",
        "bob",
    ]);
    assert!(
        stdout(&out).contains(r#""kind":"connection""#),
        "{}",
        text(&out)
    );

    // A flow Ada applied cannot be run by Bob with her connection either.
    env.ada(&["flow", "apply", &file]);
    let out = env.fails(&[
        "flow",
        "run",
        "open-and-note",
        "--payload",
        "{}",
        "--as",
        "bob",
    ]);
    assert!(stderr(&out).contains("not yours to use"), "{}", text(&out));
    assert_eq!(env.ada_json(&["runs", "list"]), serde_json::json!([]));
}
