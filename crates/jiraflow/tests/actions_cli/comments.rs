//! Comments through `jiraflow action` and through a flow: create_comment, update_comment,
//! get_comments.

use serde_json::json;

use crate::support::*;

#[test]
fn create_comment_adds_a_markdown_comment_that_get_comments_reads_back() {
    let key = new_issue("Commented");
    let created = action(
        "create_comment",
        json!({"issue": key, "body": "Looks **good** to me."}),
    );
    assert_eq!(created["outcome"], "changed", "{created}");
    let out = &created["output"];
    assert!(out["id"].is_string(), "{created}");
    assert_eq!(out["issue"], key.as_str());
    assert_eq!(out["author"]["account_id"], ADA);
    assert_eq!(out["author"]["display_name"], "Ada Admin");
    assert_eq!(out["body"]["type"], "doc", "{created}");
    assert!(out["body"].to_string().contains("strong"), "{created}");
    assert_eq!(out["body_text"], "Looks good to me.", "{created}");

    let restricted = action(
        "create_comment",
        json!({"issue": key, "body": "Admins only.", "visibility": {"type": "group", "value": "site-admins"}}),
    );
    assert_eq!(restricted["outcome"], "changed", "{restricted}");

    let read = action("get_comments", json!({"issue": key}));
    assert_eq!(read["outcome"], "unchanged");
    assert_eq!(read["output"]["count"], 2, "{read}");
    assert_eq!(read["output"]["comments"][0]["id"], out["id"]);
    let bob_reads = action_ok("bob", "get_comments", json!({"issue": key}));
    assert_eq!(
        bob_reads["output"]["count"], 1,
        "the group-restricted comment is hidden from Bob: {bob_reads}"
    );
}

#[test]
fn create_comment_refuses_an_unknown_issue_a_body_of_the_wrong_type_and_an_empty_visibility() {
    let unknown = action_err(
        "acme",
        "create_comment",
        json!({"issue": "DEMO-99999", "body": "hello"}),
    );
    assert!(message(&unknown).contains(NO_ISSUE), "{unknown}");
    assert_eq!(unknown["retryable"], false);

    let key = new_issue("Bad comments");
    let numeric = action_err("acme", "create_comment", json!({"issue": key, "body": 42}));
    assert!(message(&numeric).contains("input.body"), "{numeric}");
    let empty_visibility = action_err(
        "acme",
        "create_comment",
        json!({"issue": key, "body": "x", "visibility": {"type": "group"}}),
    );
    assert!(
        message(&empty_visibility).contains("input.visibility"),
        "{empty_visibility}"
    );
    let hidden = action_err(
        "bob",
        "create_comment",
        json!({"issue": "SEC-1", "body": "Bob cannot see SEC"}),
    );
    assert!(message(&hidden).contains(NO_ISSUE), "{hidden}");
    let read = action("get_comments", json!({"issue": key}));
    assert_eq!(read["output"]["count"], 0, "nothing was added: {read}");
}

#[test]
fn update_comment_changes_the_body_and_the_same_body_again_is_unchanged() {
    let key = new_issue("Edited comment");
    let created = action(
        "create_comment",
        json!({"issue": key, "body": "First draft"}),
    );
    let id = created["output"]["id"].as_str().expect("id").to_owned();
    let updated = action(
        "update_comment",
        json!({"issue": key, "comment_id": id, "body": "Final _words_"}),
    );
    assert_eq!(updated["outcome"], "changed", "{updated}");
    assert_eq!(updated["output"]["body_text"], "Final words");
    let read = action("get_comments", json!({"issue": key}));
    assert_eq!(read["output"]["comments"][0]["body_text"], "Final words");
    assert!(
        read["output"]["comments"][0]["body"]
            .to_string()
            .contains("\"em\""),
        "{read}"
    );

    let again = action(
        "update_comment",
        json!({"issue": key, "comment_id": id, "body": "Final _words_"}),
    );
    assert_eq!(again["outcome"], "unchanged", "{again}");

    let unknown = action_err(
        "acme",
        "update_comment",
        json!({"issue": key, "comment_id": "99999999", "body": "x"}),
    );
    assert!(
        message(&unknown).contains("Can not find a comment for the id: 99999999."),
        "{unknown}"
    );
    let malformed = action_err(
        "acme",
        "update_comment",
        json!({"issue": key, "comment_id": id, "body": {"type": "doc", "version": 2, "content": []}}),
    );
    assert!(message(&malformed).contains("input.body"), "{malformed}");
    assert_eq!(malformed["kind"], "input");
    let invalid = action_err(
        "acme",
        "update_comment",
        json!({"issue": key, "comment_id": id, "body": {"type": "doc", "version": 1, "content": [{"type": "nonsense"}]}}),
    );
    assert_eq!(invalid["kind"], "input", "{invalid}");
    assert!(message(&invalid).contains("input.body"), "{invalid}");
    assert!(message(&invalid).contains("content[0]"), "{invalid}");
    let read = action("get_comments", json!({"issue": key}));
    assert_eq!(read["output"]["comments"][0]["body_text"], "Final words");
}

#[test]
fn get_comments_orders_newest_first_and_refuses_an_unknown_order() {
    let key = new_issue("Many comments");
    for n in 1..=3 {
        action(
            "create_comment",
            json!({"issue": key, "body": format!("Comment {n}")}),
        );
    }
    let newest = action(
        "get_comments",
        json!({"issue": key, "order": "newest_first", "limit": 2}),
    );
    assert_eq!(newest["output"]["count"], 2, "{newest}");
    assert_eq!(newest["output"]["comments"][0]["body_text"], "Comment 3");
    assert_eq!(newest["output"]["comments"][1]["body_text"], "Comment 2");

    let sideways = action_err(
        "acme",
        "get_comments",
        json!({"issue": key, "order": "sideways"}),
    );
    assert!(message(&sideways).contains("input.order"), "{sideways}");
    let unknown = action_err("acme", "get_comments", json!({"issue": "DEMO-99999"}));
    assert!(message(&unknown).contains(NO_ISSUE), "{unknown}");
}

const COMMENT_FLOW: &str = r#"
name: actions-comments
enabled: false
trigger:
  type: new_comment
  connection: acme
steps:
  - id: note
    action: create_comment
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      body: "Seen by {{ trigger.who }}."
  - id: revise
    action: update_comment
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      comment_id: "{{ steps.note.output.id }}"
      body: "{{ steps.note.output.body_text }} Revised."
  - id: read
    action: get_comments
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      order: newest_first
"#;

#[test]
fn a_comment_flow_creates_revises_and_reads_a_comment_with_mapped_values() {
    let key = new_issue("Flow comments");
    apply_flow("actions-comments", COMMENT_FLOW);
    let run = run_flow(
        "actions-comments",
        json!({"issue": {"key": key}, "who": "the flow"}),
    );
    let id = step(&run, "note")["output"]["id"].clone();
    assert_eq!(step(&run, "revise")["outcome"], "changed");
    assert_eq!(step(&run, "revise")["output"]["id"], id);
    let read = &step(&run, "read")["output"];
    assert_eq!(read["count"], 1, "{read}");
    assert_eq!(
        read["comments"][0]["body_text"],
        "Seen by the flow. Revised."
    );

    let (status, body) = jira_get(&format!("/issue/{key}/comment"));
    assert_eq!(status, 200);
    assert_eq!(body["total"], 1, "{body}");
    assert_eq!(body["comments"][0]["id"], id);
}
