//! Projects through `jiraflow action` and through a flow: create_project, update_project.

use serde_json::{Value, json};

use crate::support::*;

/// The project as Jira returns it, with its URL (which Jira only includes when expanded).
fn project(key: &str) -> (u16, Value) {
    jira_get(&format!("/project/{key}?expand=url"))
}

/// A project key unique in this process (uppercase letters and digits).
fn new_key(prefix: &str) -> String {
    format!("{prefix}{}", unique())
}

#[test]
fn create_project_makes_a_project_led_by_the_user_given_by_email() {
    let key = new_key("CP");
    let created = action(
        "create_project",
        json!({
            "key": key,
            "name": format!("Created {key}"),
            "lead": {"email": "jo@acme.example"},
            "project_type": "business",
            "description": "Made by a test.",
            "assignee_type": "project_lead"
        }),
    );
    assert_eq!(created["outcome"], "changed", "{created}");
    assert_eq!(created["output"]["key"], key.as_str());
    assert!(created["output"]["id"].is_string(), "{created}");

    let (status, body) = project(&key);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], created["output"]["id"]);
    assert_eq!(body["name"], format!("Created {key}"));
    assert_eq!(body["lead"]["accountId"], JO, "{body}");
    assert_eq!(body["projectTypeKey"], "business");
    assert_eq!(body["description"], "Made by a test.");
    assert_eq!(body["assigneeType"], "PROJECT_LEAD");
}

#[test]
fn create_project_refusals_keep_jiras_field_messages_and_name_the_permission() {
    let taken = action_err(
        "acme",
        "create_project",
        json!({"key": "DEMO", "name": format!("Another {}", unique()), "lead": ADA, "project_type": "software"}),
    );
    assert!(message(&taken).contains("uses this project key"), "{taken}");
    let bad_key = action_err(
        "acme",
        "create_project",
        json!({"key": "lower", "name": format!("Lower {}", unique()), "lead": ADA, "project_type": "software"}),
    );
    assert!(
        message(&bad_key).contains("Project keys must start with an uppercase letter"),
        "{bad_key}"
    );
    let key = new_key("BP");
    let by_bob = action_err(
        "bob",
        "create_project",
        json!({"key": key, "name": format!("Bob's {key}"), "lead": BOB, "project_type": "software"}),
    );
    assert!(message(&by_bob).contains("Administer Jira"), "{by_bob}");
    assert_eq!(project(&key).0, 404, "nothing was created");
    let bad_type = action_err(
        "acme",
        "create_project",
        json!({"key": new_key("BT"), "name": "Typo", "lead": ADA, "project_type": "softwear"}),
    );
    assert!(
        message(&bad_type).contains("input.project_type"),
        "{bad_type}"
    );
}

#[test]
fn update_project_changes_what_differs_and_a_repeat_is_unchanged() {
    let key = new_key("UP");
    action(
        "create_project",
        json!({"key": key, "name": format!("Before {key}"), "lead": ADA, "project_type": "software"}),
    );
    let input = json!({
        "project": key,
        "name": format!("After {key}"),
        "description": "Edited.",
        "lead": BOB,
        "url": "https://example.com/team"
    });
    let updated = action("update_project", input.clone());
    assert_eq!(updated["outcome"], "changed", "{updated}");
    assert_eq!(updated["output"]["key"], key.as_str());
    assert_eq!(updated["output"]["name"], format!("After {key}"));
    let (_, body) = project(&key);
    assert_eq!(body["name"], format!("After {key}"));
    assert_eq!(body["description"], "Edited.");
    assert_eq!(body["lead"]["accountId"], BOB);
    assert_eq!(body["url"], "https://example.com/team");

    let again = action("update_project", input);
    assert_eq!(again["outcome"], "unchanged", "{again}");
    let nothing = action("update_project", json!({"project": key}));
    assert_eq!(nothing["outcome"], "unchanged", "{nothing}");
}

#[test]
fn update_project_refuses_an_unknown_project_and_a_user_who_does_not_administer_it() {
    let unknown = action_err(
        "acme",
        "update_project",
        json!({"project": "NOPE", "name": "x y"}),
    );
    assert!(
        message(&unknown).contains("No project could be found with key 'NOPE'."),
        "{unknown}"
    );
    let by_bob = action_err(
        "bob",
        "update_project",
        json!({"project": "OPS", "description": "Bob was here"}),
    );
    let text = message(&by_bob);
    assert!(
        text.contains("You cannot edit the configuration of this project."),
        "{text}"
    );
    assert!(text.contains("Administer Projects"), "{text}");
    assert_ne!(project("OPS").1["description"], "Bob was here");
    let bad = action_err(
        "acme",
        "update_project",
        json!({"project": "OPS", "assignee_type": "everyone"}),
    );
    assert!(message(&bad).contains("input.assignee_type"), "{bad}");
}

const PROJECT_FLOW: &str = r#"
name: actions-projects
enabled: false
trigger:
  type: new_issue
  connection: acme
steps:
  - id: project
    action: create_project
    connection: acme
    input:
      key: "{{ trigger.key }}"
      name: "{{ trigger.name }}"
      lead: { account_id: "{{ trigger.lead }}" }
      project_type: software
  - id: rename
    action: update_project
    connection: acme
    input:
      project: "{{ steps.project.output.key }}"
      name: "{{ trigger.name }} (renamed)"
      description: "Project {{ steps.project.output.id }}"
  - id: first_issue
    action: create_issue
    connection: acme
    input:
      project: "{{ steps.rename.output.key }}"
      issue_type: Task
      summary: "First issue of {{ steps.rename.output.name }}"
"#;

#[test]
fn a_project_flow_creates_renames_and_fills_a_project_with_mapped_values() {
    let key = new_key("FP");
    let name = format!("Flow project {key}");
    apply_flow("actions-projects", PROJECT_FLOW);
    let run = run_flow(
        "actions-projects",
        json!({"key": key, "name": name, "lead": KIRI}),
    );
    let id = step(&run, "project")["output"]["id"].clone();
    assert_eq!(step(&run, "rename")["outcome"], "changed");
    assert_eq!(
        step(&run, "first_issue")["output"]["key"],
        format!("{key}-1")
    );

    let (status, body) = project(&key);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], format!("{name} (renamed)"));
    assert_eq!(
        body["description"],
        format!("Project {}", id.as_str().expect("id"))
    );
    assert_eq!(body["lead"]["accountId"], KIRI);
    let issue = jira_issue(&format!("{key}-1"));
    assert_eq!(
        issue["fields"]["summary"],
        format!("First issue of {name} (renamed)")
    );
}
