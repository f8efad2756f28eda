//! Upserts through `jiraflow action` and through a flow: upsert_issue (by external id through
//! the store's write ledger, or by `match_jql`) and upsert_comment (by its marker).

use serde_json::json;

use crate::support::*;

/// The marker an upsert writes on what it creates, as Jira stores it.
fn marker(path: &str) -> serde_json::Value {
    let (status, body) = jira_get(&format!("{path}/properties/jiraflow.write"));
    assert_eq!(status, 200, "marker at {path}: {body}");
    body["value"].clone()
}

#[test]
fn upsert_issue_by_external_id_creates_once_then_updates_the_same_issue() {
    let n = unique();
    let external = format!("TICKET-{n}");
    // A word of its own, so the search below finds this test's issues only.
    let tag = format!("upsertonce{n}");
    let first = action(
        "upsert_issue",
        json!({"external_id": external, "project": "DEMO", "issue_type": "Task", "summary": format!("Upserted {tag}"), "labels": ["sync"]}),
    );
    assert_eq!(first["outcome"], "changed", "{first}");
    assert_eq!(first["output"]["created"], true, "{first}");
    let key = first["output"]["key"].as_str().expect("key").to_owned();
    assert!(
        first["output"]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/browse/{key}"))),
        "{first}"
    );
    assert_eq!(marker(&format!("/issue/{key}")), json!({"key": external}));

    let second = action(
        "upsert_issue",
        json!({"external_id": external, "project": "DEMO", "issue_type": "Task", "summary": format!("Upserted again {tag}"), "labels": ["sync", "v2"]}),
    );
    assert_eq!(second["output"]["created"], false, "{second}");
    assert_eq!(second["output"]["key"], key.as_str());
    let fields = &jira_issue(&key)["fields"];
    assert_eq!(fields["summary"], format!("Upserted again {tag}"));
    assert_eq!(fields["labels"], json!(["sync", "v2"]));
    let found = action(
        "get_issues",
        json!({"jql": format!("project = DEMO AND summary ~ \"{tag}\""), "fields": ["summary"]}),
    );
    assert_eq!(found["output"]["count"], 1, "one issue only: {found}");
}

#[test]
fn upsert_issue_by_jql_updates_the_one_match_and_refuses_several() {
    let tag = format!("jqlmatch{}", unique());
    let key = new_issue(&format!("Match {tag}"));
    let updated = action(
        "upsert_issue",
        json!({"match_jql": format!("project = DEMO AND summary ~ \"{tag}\""), "project": "DEMO", "issue_type": "Task", "summary": format!("Matched {tag}")}),
    );
    assert_eq!(updated["output"]["created"], false, "{updated}");
    assert_eq!(updated["output"]["key"], key.as_str());
    assert_eq!(
        jira_issue(&key)["fields"]["summary"],
        format!("Matched {tag}")
    );

    new_issue(&format!("Second {tag}"));
    let several = action_err(
        "acme",
        "upsert_issue",
        json!({"match_jql": format!("project = DEMO AND summary ~ \"{tag}\""), "project": "DEMO", "issue_type": "Task", "summary": "x"}),
    );
    let text = message(&several);
    assert!(text.contains("input.match_jql"), "{text}");
    assert!(text.contains("matches 2 issues"), "{text}");
}

#[test]
fn upsert_issue_refuses_input_without_an_identity() {
    let neither = action_err(
        "acme",
        "upsert_issue",
        json!({"project": "DEMO", "issue_type": "Task", "summary": "x"}),
    );
    assert!(message(&neither).contains("input.external_id"), "{neither}");
    assert_eq!(neither["kind"], "input");
    let blank = action_err(
        "acme",
        "upsert_issue",
        json!({"external_id": "  ", "project": "DEMO", "issue_type": "Task", "summary": "x"}),
    );
    assert!(message(&blank).contains("must not be empty"), "{blank}");
    let unknown_project = action_err(
        "acme",
        "upsert_issue",
        json!({"external_id": format!("X-{}", unique()), "project": "NOPE", "issue_type": "Task", "summary": "x"}),
    );
    assert!(
        message(&unknown_project).contains("valid project is required"),
        "{unknown_project}"
    );
}

#[test]
fn upsert_comment_creates_once_updates_in_place_and_keeps_an_identical_body() {
    let key = new_issue("Comment upserts");
    let first = action(
        "upsert_comment",
        json!({"issue": key, "external_id": "build-status", "body": "Build **failed**"}),
    );
    assert_eq!(first["outcome"], "changed", "{first}");
    assert_eq!(first["output"]["created"], true);
    let id = first["output"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        marker(&format!("/comment/{id}")),
        json!({"key": "build-status"})
    );

    let second = action(
        "upsert_comment",
        json!({"issue": key, "external_id": "build-status", "body": "Build **passed**"}),
    );
    assert_eq!(second["outcome"], "changed", "{second}");
    assert_eq!(second["output"]["created"], false);
    assert_eq!(second["output"]["id"], id.as_str());
    let same = action(
        "upsert_comment",
        json!({"issue": key, "external_id": "build-status", "body": "Build **passed**"}),
    );
    assert_eq!(same["outcome"], "unchanged", "{same}");

    let read = action("get_comments", json!({"issue": key}));
    assert_eq!(read["output"]["count"], 1, "{read}");
    assert_eq!(read["output"]["comments"][0]["body_text"], "Build passed");

    let other = action(
        "upsert_comment",
        json!({"issue": key, "external_id": "deploy-status", "body": "Deployed"}),
    );
    assert_eq!(other["output"]["created"], true, "{other}");
}

#[test]
fn upsert_comment_refuses_an_unknown_issue_and_an_empty_external_id() {
    let unknown = action_err(
        "acme",
        "upsert_comment",
        json!({"issue": "DEMO-99999", "external_id": "x", "body": "x"}),
    );
    assert!(message(&unknown).contains(NO_ISSUE), "{unknown}");
    let empty = action_err(
        "acme",
        "upsert_comment",
        json!({"issue": "DEMO-1", "external_id": "", "body": "x"}),
    );
    assert!(message(&empty).contains("input.external_id"), "{empty}");
    let missing = action_err(
        "acme",
        "upsert_comment",
        json!({"issue": "DEMO-1", "body": "x"}),
    );
    assert!(message(&missing).contains("external_id"), "{missing}");
}

const UPSERT_FLOW: &str = r#"
name: actions-upserts
enabled: false
trigger:
  type: new_or_updated_issue
  connection: acme
steps:
  - id: mirror
    action: upsert_issue
    connection: acme
    input:
      external_id: "{{ trigger.ticket.id }}"
      project: DEMO
      issue_type: Task
      summary: "[{{ trigger.ticket.id }}] {{ trigger.ticket.title }}"
      labels: [mirrored]
  - id: status
    action: upsert_comment
    connection: acme
    input:
      issue: "{{ steps.mirror.output.key }}"
      external_id: "status-{{ trigger.ticket.id }}"
      body: "Status: {{ trigger.ticket.status }}"
"#;

#[test]
fn an_upsert_flow_run_twice_updates_the_same_issue_and_comment() {
    let ticket = format!("EXT-{}", unique());
    apply_flow("actions-upserts", UPSERT_FLOW);
    let first = run_flow(
        "actions-upserts",
        json!({"ticket": {"id": ticket, "title": "Outage", "status": "open"}}),
    );
    assert_eq!(step(&first, "mirror")["output"]["created"], true);
    assert_eq!(step(&first, "status")["output"]["created"], true);
    let key = step(&first, "mirror")["output"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let comment_id = step(&first, "status")["output"]["id"].clone();

    let second = run_flow(
        "actions-upserts",
        json!({"ticket": {"id": ticket, "title": "Outage resolved", "status": "closed"}}),
    );
    assert_eq!(step(&second, "mirror")["output"]["created"], false);
    assert_eq!(step(&second, "mirror")["output"]["key"], key.as_str());
    assert_eq!(step(&second, "status")["output"]["created"], false);
    assert_eq!(step(&second, "status")["output"]["id"], comment_id);

    assert_eq!(
        jira_issue(&key)["fields"]["summary"],
        format!("[{ticket}] Outage resolved")
    );
    let (_, comments) = jira_get(&format!("/issue/{key}/comment"));
    assert_eq!(comments["total"], 1, "{comments}");
    assert!(
        comments.to_string().contains("Status: closed"),
        "{comments}"
    );
}
