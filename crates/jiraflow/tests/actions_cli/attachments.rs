//! Attachments through `jiraflow action` and through a flow: add_attachment,
//! get_attachment_content.

use serde_json::json;

use crate::support::*;

/// The bytes FF 00 10 80 (not UTF-8) in standard base64, wrapped the way encoders wrap it.
const BINARY_BASE64: &str = "/wAQ\ngA==";

#[test]
fn add_attachment_uploads_text_and_get_attachment_content_reads_it_back() {
    let key = new_issue("With a text file");
    let added = action(
        "add_attachment",
        json!({"issue": key, "filename": "notes été.txt", "content": "Hello, Jira ✓\n", "media_type": "text/plain"}),
    );
    assert_eq!(added["outcome"], "changed", "{added}");
    let out = &added["output"];
    assert_eq!(out["filename"], "notes été.txt");
    assert_eq!(out["size"], "Hello, Jira ✓\n".len());
    assert_eq!(out["media_type"], "text/plain");
    let id = out["attachment_id"].as_str().expect("attachment id");

    let attachments = jira_issue(&key)["fields"]["attachment"].clone();
    assert!(
        attachments.to_string().contains(&format!("\"{id}\"")),
        "{attachments}"
    );
    let read = action("get_attachment_content", json!({"attachment_id": id}));
    assert_eq!(read["outcome"], "unchanged");
    assert_eq!(read["output"]["content"], "Hello, Jira ✓\n", "{read}");
    assert_eq!(read["output"]["content_base64"], serde_json::Value::Null);
    assert_eq!(read["output"]["filename"], "notes été.txt");
}

#[test]
fn binary_content_round_trips_as_base64() {
    let key = new_issue("With a binary file");
    let added = action(
        "add_attachment",
        json!({"issue": key, "filename": "blob.bin", "content_base64": BINARY_BASE64}),
    );
    assert_eq!(added["output"]["size"], 4, "{added}");
    let id = added["output"]["attachment_id"].clone();
    let read = action(
        "get_attachment_content",
        json!({"attachment_id": id, "max_bytes": 4}),
    );
    assert_eq!(read["output"]["content_base64"], "/wAQgA==", "{read}");
    assert_eq!(read["output"]["content"], serde_json::Value::Null);
    assert_eq!(read["output"]["size"], 4);
}

#[test]
fn add_attachment_refuses_ambiguous_or_invalid_content_and_an_unknown_issue() {
    let key = new_issue("Attachment refusals");
    let both = action_err(
        "acme",
        "add_attachment",
        json!({"issue": key, "filename": "a.txt", "content": "x", "content_base64": "eA=="}),
    );
    assert!(message(&both).contains("input"), "{both}");
    assert!(message(&both).contains("not both"), "{both}");
    let neither = action_err(
        "acme",
        "add_attachment",
        json!({"issue": key, "filename": "a.txt"}),
    );
    assert!(message(&neither).contains("content"), "{neither}");
    let invalid = action_err(
        "acme",
        "add_attachment",
        json!({"issue": key, "filename": "a.bin", "content_base64": "***"}),
    );
    assert!(
        message(&invalid).contains("input.content_base64"),
        "{invalid}"
    );
    let unknown = action_err(
        "acme",
        "add_attachment",
        json!({"issue": "DEMO-99999", "filename": "a.txt", "content": "x"}),
    );
    assert!(message(&unknown).contains(NO_ISSUE), "{unknown}");
    let attachments = jira_issue(&key)["fields"]["attachment"].clone();
    assert_eq!(attachments, json!([]), "nothing was attached");
}

#[test]
fn get_attachment_content_refuses_a_file_over_max_bytes_and_an_unknown_attachment() {
    let key = new_issue("Big file");
    let added = action(
        "add_attachment",
        json!({"issue": key, "filename": "big.txt", "content": "0123456789"}),
    );
    let id = added["output"]["attachment_id"]
        .as_str()
        .expect("attachment id")
        .to_owned();
    let too_big = action_err(
        "acme",
        "get_attachment_content",
        json!({"attachment_id": id, "max_bytes": 5}),
    );
    let text = message(&too_big);
    assert!(text.contains("input.max_bytes"), "{text}");
    assert!(text.contains("10 bytes"), "{text}");

    let unknown = action_err(
        "acme",
        "get_attachment_content",
        json!({"attachment_id": "99999999"}),
    );
    assert!(
        message(&unknown).contains("The attachment with id '99999999' does not exist"),
        "{unknown}"
    );
}

const ATTACHMENT_FLOW: &str = r#"
name: actions-attachments
enabled: false
trigger:
  type: new_issue
  connection: acme
steps:
  - id: attach
    action: add_attachment
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      filename: "{{ trigger.issue.key | lower }}-report.txt"
      content: "Report for {{ trigger.issue.key }}"
  - id: read
    action: get_attachment_content
    connection: acme
    input:
      attachment_id: "{{ steps.attach.output.attachment_id }}"
      max_bytes: "{{ steps.attach.output.size }}"
  - id: copy
    action: add_attachment
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      filename: "copy of {{ steps.read.output.filename }}"
      content: "{{ steps.read.output.content }}"
"#;

#[test]
fn an_attachment_flow_uploads_reads_and_copies_a_file_with_mapped_values() {
    let key = new_issue("Flow attachments");
    apply_flow("actions-attachments", ATTACHMENT_FLOW);
    let run = run_flow("actions-attachments", json!({"issue": {"key": key}}));
    let report = format!("Report for {key}");
    assert_eq!(step(&run, "read")["output"]["content"], report.as_str());
    let copy_id = step(&run, "copy")["output"]["attachment_id"].clone();

    let read = action("get_attachment_content", json!({"attachment_id": copy_id}));
    assert_eq!(read["output"]["content"], report.as_str(), "{read}");
    assert_eq!(
        read["output"]["filename"],
        format!("copy of {}-report.txt", key.to_lowercase())
    );
    let attachments = jira_issue(&key)["fields"]["attachment"].clone();
    assert_eq!(
        attachments.as_array().map(Vec::len),
        Some(2),
        "{attachments}"
    );
}
