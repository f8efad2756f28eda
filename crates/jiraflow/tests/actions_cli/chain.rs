//! The five-action chain: create an issue, comment on it, add a watcher, create a second issue
//! and link the two, then update the first. Once as separate `jiraflow action` commands fed by
//! each other's output, once as one flow whose steps map earlier outputs; every effect is read
//! back from the simulator.

use serde_json::{Value, json};

use crate::support::*;

/// Checks every effect of the chain on `first` and `second` in the simulator.
/// `comment` is the comment step's output; its text must contain `mentions`.
fn assert_chain_effects(first: &str, second: &str, comment: &Value, mentions: &str, summary: &str) {
    let issue = jira_issue(first);
    let fields = &issue["fields"];
    assert_eq!(fields["summary"], summary, "{issue}");
    assert_eq!(fields["status"]["name"], "In Progress", "{issue}");
    assert_eq!(fields["labels"], json!(["chained"]), "{issue}");
    let links = fields["issuelinks"].as_array().expect("issuelinks");
    assert_eq!(links.len(), 1, "{issue}");
    assert_eq!(links[0]["type"]["name"], "Blocks");
    assert_eq!(links[0]["outwardIssue"]["key"], second);
    let linked = jira_issue(second);
    assert_eq!(
        linked["fields"]["issuelinks"][0]["inwardIssue"]["key"], first,
        "{linked}"
    );

    let (status, comments) = jira_get(&format!("/issue/{first}/comment"));
    assert_eq!(status, 200, "{comments}");
    assert_eq!(comments["total"], 1, "{comments}");
    assert_eq!(comments["comments"][0]["id"], comment["id"]);
    assert!(
        comment["body_text"]
            .as_str()
            .is_some_and(|t| t.contains(mentions)),
        "{comment}"
    );
    assert!(
        comments["comments"][0]["body"]
            .to_string()
            .contains(mentions),
        "{comments}"
    );

    let watching = watchers(first);
    assert!(watching.contains(&BOB.to_owned()), "{watching:?}");
    assert!(watching.contains(&ADA.to_owned()), "{watching:?}");
}

#[test]
fn the_five_action_chain_runs_as_separate_commands_fed_by_each_others_output() {
    let created = action(
        "create_issue",
        json!({"project": "DEMO", "issue_type": "Task", "summary": "Chain start"}),
    );
    let first = created["output"]["key"].as_str().expect("key").to_owned();
    // The issue is named by the id the create answered, the way a script would pass it on.
    let comment = action(
        "create_comment",
        json!({"issue": created["output"]["id"], "body": format!("Tracking {first}.")}),
    );
    let watcher = action(
        "add_watcher",
        json!({"issue": comment["output"]["issue"], "user": "bob@acme.example"}),
    );
    let watcher_id = watcher["output"]["account_id"]
        .as_str()
        .expect("account id")
        .to_owned();
    assert_eq!(watcher_id, BOB);
    let follow_up = action(
        "create_issue",
        json!({"project": "DEMO", "issue_type": "Task", "summary": format!("Follow-up of {first}")}),
    );
    let second = follow_up["output"]["key"].as_str().expect("key").to_owned();
    let link = action(
        "create_issue_link",
        json!({"type": "Blocks", "outward": first, "inward": follow_up["output"]["key"]}),
    );
    assert_eq!(link["outcome"], "changed", "{link}");
    let summary = format!(
        "Chain start (blocks {}, watched by {watcher_id})",
        link["output"]["inward"].as_str().expect("inward")
    );
    let update = action(
        "update_issue",
        json!({"issue": link["output"]["outward"], "summary": summary, "labels": ["chained"], "status": "In Progress"}),
    );
    assert_eq!(update["output"]["key"], first.as_str());
    assert_eq!(update["output"]["status"], "In Progress", "{update}");

    assert_chain_effects(
        &first,
        &second,
        &comment["output"],
        &format!("Tracking {first}."),
        &summary,
    );
}

const CHAIN_FLOW: &str = r#"
name: actions-chain
description: Create, comment, watch, link a follow-up, update.
enabled: false
trigger:
  type: new_issue
  connection: acme
steps:
  - id: create
    action: create_issue
    connection: acme
    input:
      project: "{{ trigger.project }}"
      issue_type: Task
      summary: "{{ trigger.summary }}"
  - id: comment
    action: create_comment
    connection: acme
    input:
      issue: "{{ steps.create.output.key }}"
      body: "Tracking {{ steps.create.output.key }} for {{ trigger.watcher }}."
  - id: watch
    action: add_watcher
    connection: acme
    input:
      issue: "{{ steps.create.output.key }}"
      user: "{{ trigger.watcher }}"
  - id: follow_up
    action: create_issue
    connection: acme
    input:
      project: "{{ trigger.project }}"
      issue_type: Task
      summary: "Follow-up of {{ steps.create.output.key }}"
  - id: link
    action: create_issue_link
    connection: acme
    input:
      type: Blocks
      outward: "{{ steps.create.output.key }}"
      inward: "{{ steps.follow_up.output.key }}"
  - id: update
    action: update_issue
    connection: acme
    input:
      issue: "{{ steps.create.output.key }}"
      summary: "{{ trigger.summary }} (blocks {{ steps.follow_up.output.key }}, watched by {{ steps.watch.output.account_id }})"
      labels: [chained]
      status: In Progress
"#;

#[test]
fn the_five_action_chain_runs_as_one_flow_mapping_each_steps_output_into_the_next() {
    apply_flow("actions-chain", CHAIN_FLOW);
    let run = run_flow(
        "actions-chain",
        json!({"project": "DEMO", "summary": "Flow chain", "watcher": "bob@acme.example"}),
    );
    let ids: Vec<&str> = run["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["create", "comment", "watch", "follow_up", "link", "update"]
    );
    let first = step(&run, "create")["output"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let second = step(&run, "follow_up")["output"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    assert_eq!(step(&run, "link")["output"]["outward"], first.as_str());
    assert_eq!(step(&run, "link")["output"]["inward"], second.as_str());
    let summary = format!("Flow chain (blocks {second}, watched by {BOB})");
    assert_eq!(step(&run, "update")["output"]["status"], "In Progress");
    assert_chain_effects(
        &first,
        &second,
        &step(&run, "comment")["output"],
        &format!("Tracking {first} for bob@acme.example."),
        &summary,
    );
}

#[test]
fn a_chain_run_that_fails_at_the_watcher_exits_1_records_the_error_and_stops() {
    // A flow of its own name, so the two chain tests never apply one flow at the same time.
    let flow = CHAIN_FLOW.replace("name: actions-chain", "name: actions-chain-broken");
    apply_flow("actions-chain-broken", &flow);
    let (status, run) = run_flow_raw(
        "actions-chain-broken",
        &json!({"project": "DEMO", "summary": "Broken chain", "watcher": "nobody@acme.example"}),
    );
    assert_eq!(status, Some(1), "{run:#}");
    assert_eq!(run["status"], "failed", "{run:#}");
    let steps = run["steps"].as_array().expect("steps");
    let statuses: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| {
            (
                s["step_id"].as_str().unwrap_or_default(),
                s["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("create", "succeeded"),
            ("comment", "succeeded"),
            ("watch", "failed")
        ],
        "the steps after the failure do not run: {run:#}"
    );
    let error = steps[2]["error"]["message"].as_str().unwrap_or_default();
    assert!(error.contains("nobody@acme.example"), "{run:#}");
    let first = step(&run, "create")["output"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let issue = jira_issue(&first);
    assert_eq!(issue["fields"]["summary"], "Broken chain", "not updated");
    assert_eq!(issue["fields"]["issuelinks"], json!([]), "not linked");

    let id = run["id"].as_str().expect("run id").to_owned();
    let shown = jiraflow(&["runs", "show", &id, "--output", "json"]);
    assert!(shown.status.success(), "{}", text(&shown));
    let shown = stdout_json(&shown);
    assert_eq!(shown["status"], "failed");
    // Compared without timestamps: `flow run` prints the in-memory instants (nanoseconds),
    // `runs show` the stored ones (milliseconds).
    let history = |run: &Value| -> Vec<Value> {
        run["steps"]
            .as_array()
            .map(|steps| {
                steps
                    .iter()
                    .map(|s| {
                        json!([
                            s["step_id"],
                            s["status"],
                            s["input"],
                            s["output"],
                            s["error"]
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        history(&shown),
        history(&run),
        "runs show reads the same history"
    );
}
