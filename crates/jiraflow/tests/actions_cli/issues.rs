//! Issues, links and the connection test through `jiraflow action` and through a flow:
//! create_issue, update_issue, get_issues, create_issue_link, test_connection.

use serde_json::json;

use crate::support::*;

#[test]
fn create_issue_makes_an_issue_that_get_issues_reads_back_with_its_fields() {
    let input = input_file(
        "create-issue.json",
        &json!({
            "project": "DEMO",
            "issue_type": "Bug",
            "summary": "Printer on fire",
            "description": "It is **really** on fire.",
            "labels": ["hardware", "urgent"],
            "assignee": "bob@acme.example"
        }),
    );
    let output = jiraflow(&[
        "action",
        "create_issue",
        "--connection",
        "acme",
        "--input",
        &input,
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let created = stdout_json(&output);
    assert_eq!(created["outcome"], "changed", "{created}");
    let key = created["output"]["key"].as_str().expect("key");
    assert!(key.starts_with("DEMO-"), "{created}");
    assert!(created["output"]["id"].is_string(), "{created}");
    assert!(
        created["output"]["self"]
            .as_str()
            .is_some_and(|s| s.contains("/rest/api/3/issue/")),
        "{created}"
    );

    let found = action(
        "get_issues",
        json!({"jql": format!("key = {key}"), "fields": ["summary", "labels", "assignee", "issuetype"]}),
    );
    assert_eq!(found["outcome"], "unchanged");
    assert_eq!(found["output"]["count"], 1, "{found}");
    let fields = &found["output"]["issues"][0]["fields"];
    assert_eq!(fields["summary"], "Printer on fire");
    assert_eq!(fields["labels"], json!(["hardware", "urgent"]));
    assert_eq!(fields["assignee"]["accountId"], BOB);
    assert_eq!(fields["issuetype"]["name"], "Bug");
    let description = jira_issue(key)["fields"]["description"].to_string();
    assert!(description.contains("strong"), "{description}");
}

#[test]
fn the_action_command_refuses_a_misspelt_action_invalid_json_and_an_unknown_connection() {
    let misspelt = jiraflow(&[
        "action",
        "create_isue",
        "--connection",
        "acme",
        "--input",
        "{}",
    ]);
    assert_eq!(misspelt.status.code(), Some(1), "{}", text(&misspelt));
    let error = &stdout_json(&misspelt)["error"];
    assert_eq!(error["kind"], "unknown_action", "{error}");
    assert!(message(error).contains("create_issue"), "{error}");

    let broken = jiraflow(&[
        "action",
        "create_issue",
        "--connection",
        "acme",
        "--input",
        "{\"project\": }",
    ]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    let error = &stdout_json(&broken)["error"];
    assert_eq!(error["kind"], "input", "{error}");
    assert!(message(error).contains("--input"), "{error}");
    assert!(message(error).contains("line 1, column"), "{error}");

    let nowhere = action_err(
        "globex",
        "create_issue",
        json!({"project": "DEMO", "issue_type": "Task", "summary": "x"}),
    );
    assert_eq!(nowhere["kind"], "connection", "{nowhere}");
    assert!(message(&nowhere).contains("globex"), "{nowhere}");
}

#[test]
fn create_issue_errors_keep_jiras_message_and_name_the_input_path() {
    let unknown_project = action_err(
        "acme",
        "create_issue",
        json!({"project": "NOPE", "issue_type": "Task", "summary": "x"}),
    );
    assert!(
        message(&unknown_project).contains("valid project is required"),
        "{unknown_project}"
    );

    let misspelt_field = action_err(
        "acme",
        "create_issue",
        json!({"project": "DEMO", "issue_type": "Task", "summary": "x", "fields": {"Stroy Points": 3}}),
    );
    let text = message(&misspelt_field);
    assert!(text.contains("input.fields.Stroy Points"), "{text}");
    assert!(text.contains("Story Points"), "{text}");

    let unknown_input = action_err(
        "acme",
        "create_issue",
        json!({"project": "DEMO", "issue_type": "Task", "summary": "x", "sumary": "y"}),
    );
    assert!(
        message(&unknown_input).contains("sumary"),
        "{unknown_input}"
    );
    assert_eq!(unknown_input["retryable"], false);
}

#[test]
fn update_issue_edits_fields_and_moves_the_status_and_a_repeat_is_unchanged() {
    let key = new_issue("Update me");
    let updated = action(
        "update_issue",
        json!({"issue": key, "summary": "Updated", "labels": ["triaged"], "status": "in progress"}),
    );
    assert_eq!(updated["outcome"], "changed", "{updated}");
    assert_eq!(updated["output"]["key"], key.as_str());
    assert_eq!(updated["output"]["status"], "In Progress", "{updated}");
    let changed = updated["output"]["changedFields"].to_string();
    assert!(
        changed.contains("summary") && changed.contains("labels"),
        "{updated}"
    );
    let fields = &jira_issue(&key)["fields"];
    assert_eq!(fields["summary"], "Updated");
    assert_eq!(fields["labels"], json!(["triaged"]));
    assert_eq!(fields["status"]["name"], "In Progress");

    let again = action(
        "update_issue",
        json!({"issue": key, "status": "In Progress"}),
    );
    assert_eq!(again["outcome"], "unchanged", "{again}");
}

#[test]
fn update_issue_refuses_an_unknown_issue_and_an_unreachable_status() {
    let unknown = action_err(
        "acme",
        "update_issue",
        json!({"issue": "DEMO-99999", "summary": "x"}),
    );
    assert!(message(&unknown).contains(NO_ISSUE), "{unknown}");

    let key = new_issue("Stays in To Do");
    let unreachable = action_err(
        "acme",
        "update_issue",
        json!({"issue": key, "status": "In Review"}),
    );
    let text = message(&unreachable);
    assert!(text.contains("input.status"), "{text}");
    assert!(text.contains("Start Progress → In Progress"), "{text}");
    assert_eq!(jira_issue(&key)["fields"]["status"]["name"], "To Do");
}

#[test]
fn get_issues_reads_a_bounded_query_and_refuses_an_unbounded_one_or_a_bad_limit() {
    let page = action(
        "get_issues",
        json!({"jql": "project = DEMO ORDER BY created ASC", "limit": 3}),
    );
    assert_eq!(page["output"]["count"], 3, "{page}");
    assert_eq!(page["output"]["truncated"], true, "{page}");
    assert_eq!(page["output"]["issues"][0]["key"], "DEMO-1", "{page}");

    let unbounded = action_err("acme", "get_issues", json!({"jql": "order by created"}));
    assert!(message(&unbounded).contains("input.jql"), "{unbounded}");

    let bad_limit = action_err(
        "acme",
        "get_issues",
        json!({"jql": "project = DEMO", "limit": 0}),
    );
    assert!(message(&bad_limit).contains("input.limit"), "{bad_limit}");

    let hidden = action("get_issues", json!({"jql": "project = SEC", "limit": 10}));
    assert_eq!(
        hidden["output"]["count"], 3,
        "Ada administers SEC: {hidden}"
    );
    let refused = action_err("bob", "get_issues", json!({"jql": "project = SEC"}));
    assert!(
        message(&refused).contains("The value 'SEC' does not exist for the field 'project'."),
        "{refused}"
    );
}

#[test]
fn test_connection_names_the_user_each_connection_acts_for() {
    let ada = action("test_connection", json!({}));
    assert_eq!(ada["outcome"], "unchanged");
    assert_eq!(ada["output"]["accountId"], ADA, "{ada}");
    assert_eq!(ada["output"]["displayName"], "Ada Admin");
    assert!(ada["output"]["serverTime"].is_string(), "{ada}");
    assert!(
        ada["output"]["baseUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with("/acme")),
        "{ada}"
    );
    let bob = action_ok("bob", "test_connection", json!({}));
    assert_eq!(bob["output"]["accountId"], BOB, "{bob}");

    let extra = action_err("acme", "test_connection", json!({"verbose": true}));
    assert!(message(&extra).contains("verbose"), "{extra}");
}

#[test]
fn create_issue_link_links_two_issues_once_and_a_repeat_is_unchanged() {
    let blocker = new_issue("Blocker");
    let blocked = new_issue("Blocked");
    let input = json!({"type": "blocks", "outward": blocker, "inward": blocked, "comment": "Linked by a test."});
    let linked = action("create_issue_link", input.clone());
    assert_eq!(linked["outcome"], "changed", "{linked}");
    assert_eq!(linked["output"]["link_type"], "Blocks");
    let link_id = linked["output"]["link_id"].as_str().expect("link id");
    let links = jira_issue(&blocker)["fields"]["issuelinks"].clone();
    let link = links
        .as_array()
        .and_then(|l| l.iter().find(|l| l["id"] == link_id))
        .unwrap_or_else(|| panic!("link {link_id} not on {blocker}: {links}"));
    assert_eq!(link["outwardIssue"]["key"], blocked.as_str(), "{link}");

    let again = action("create_issue_link", input);
    assert_eq!(again["outcome"], "unchanged", "{again}");
    assert_eq!(again["output"]["link_id"], link_id);
    let comments = action("get_comments", json!({"issue": blocker}));
    assert_eq!(
        comments["output"]["count"], 1,
        "the comment is added once: {comments}"
    );

    let unknown_type = action_err(
        "acme",
        "create_issue_link",
        json!({"type": "Bloks", "outward": blocker, "inward": blocked}),
    );
    assert!(message(&unknown_type).contains("Bloks"), "{unknown_type}");
    let to_itself = action_err(
        "acme",
        "create_issue_link",
        json!({"type": "Relates", "outward": blocker, "inward": blocker}),
    );
    assert!(
        message(&to_itself).contains("You cannot link an issue to itself."),
        "{to_itself}"
    );
    let unknown_issue = action_err(
        "acme",
        "create_issue_link",
        json!({"type": "Relates", "outward": blocker, "inward": "DEMO-99999"}),
    );
    assert!(
        message(&unknown_issue).contains(NO_ISSUE),
        "{unknown_issue}"
    );
}

const ISSUE_FLOW: &str = r#"
name: actions-issues
enabled: false
trigger:
  type: new_issue
  connection: acme
steps:
  - id: whoami
    action: test_connection
    connection: acme
  - id: create
    action: create_issue
    connection: acme
    input:
      project: "{{ trigger.project }}"
      issue_type: Task
      summary: "{{ trigger.summary }}"
      labels: "{{ trigger.labels }}"
      assignee: "{{ steps.whoami.output.accountId }}"
  - id: partner
    action: create_issue
    connection: acme
    input:
      project: "{{ trigger.project }}"
      issue_type: Task
      summary: "Partner of {{ steps.create.output.key }}"
  - id: link
    action: create_issue_link
    connection: acme
    input:
      type: Relates
      outward: "{{ steps.create.output.key }}"
      inward: "{{ steps.partner.output.key }}"
  - id: update
    action: update_issue
    connection: acme
    input:
      issue: "{{ steps.create.output.key }}"
      status: Done
      summary: "{{ trigger.summary }} (done)"
  - id: read
    action: get_issues
    connection: acme
    input:
      jql: "key = {{ steps.create.output.key }}"
      fields: [summary, status, labels, assignee]
"#;

#[test]
fn an_issue_flow_creates_links_updates_and_reads_back_with_mapped_values() {
    apply_flow("actions-issues", ISSUE_FLOW);
    let run = run_flow(
        "actions-issues",
        json!({"project": "DEMO", "summary": "From a flow", "labels": ["flow"]}),
    );
    let key = step(&run, "create")["output"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let partner = step(&run, "partner")["output"]["key"].clone();
    assert_eq!(step(&run, "link")["output"]["inward"], partner);
    assert_eq!(step(&run, "update")["output"]["status"], "Done");
    let read = &step(&run, "read")["output"];
    assert_eq!(read["count"], 1, "{read}");
    assert_eq!(read["issues"][0]["fields"]["summary"], "From a flow (done)");

    let fields = &jira_issue(&key)["fields"];
    assert_eq!(fields["status"]["name"], "Done");
    assert_eq!(fields["labels"], json!(["flow"]));
    assert_eq!(fields["assignee"]["accountId"], ADA);
    assert!(
        fields["issuelinks"]
            .to_string()
            .contains(partner.as_str().expect("partner")),
        "{fields}"
    );
}
