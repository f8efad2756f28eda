//! People through `jiraflow action` and through a flow: add_watcher, delete_watcher,
//! create_group, remove_group, add_user_to_group, remove_user_from_group.

use serde_json::{Value, json};

use crate::support::*;

/// Account ids in the group with id `group_id`.
fn members(group_id: &str) -> Vec<String> {
    let (status, body) = jira_get(&format!("/group/member?groupId={group_id}"));
    assert_eq!(status, 200, "GET members of {group_id}: {body}");
    body["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|m| m["accountId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn group_status(group_id: &str) -> u16 {
    jira_get(&format!("/group/member?groupId={group_id}")).0
}

fn new_group(prefix: &str) -> (String, String) {
    let name = format!("{prefix}-{}", unique());
    let created = action("create_group", json!({"name": name}));
    let id = created["output"]["groupId"]
        .as_str()
        .expect("groupId")
        .to_owned();
    (name, id)
}

#[test]
fn add_watcher_adds_a_user_by_email_and_a_repeat_is_unchanged() {
    let key = new_issue("Watch me");
    let added = action(
        "add_watcher",
        json!({"issue": key, "user": "bob@acme.example"}),
    );
    assert_eq!(added["outcome"], "changed", "{added}");
    assert_eq!(
        added["output"],
        json!({"issue": key, "account_id": BOB, "watching": true})
    );
    assert!(watchers(&key).contains(&BOB.to_owned()));

    let again = action(
        "add_watcher",
        json!({"issue": key, "user": {"account_id": BOB}}),
    );
    assert_eq!(again["outcome"], "unchanged", "{again}");
    assert_eq!(again["output"]["watching"], true);
}

#[test]
fn add_watcher_for_someone_else_without_manage_watchers_is_refused_naming_the_permission() {
    let key = new_issue("Bob may not manage watchers");
    let refused = action_err("bob", "add_watcher", json!({"issue": key, "user": KIRI}));
    let text = message(&refused);
    assert!(
        text.contains("You do not have the permission to manage the watcher list."),
        "{text}"
    );
    assert!(text.contains("Manage Watchers"), "{text}");
    assert!(!watchers(&key).contains(&KIRI.to_owned()));

    // Bob may add himself.
    let himself = action_ok("bob", "add_watcher", json!({"issue": key, "user": BOB}));
    assert_eq!(himself["outcome"], "changed", "{himself}");

    let nobody = action_err(
        "acme",
        "add_watcher",
        json!({"issue": key, "user": "nobody@acme.example"}),
    );
    assert!(message(&nobody).contains("nobody@acme.example"), "{nobody}");
    let unknown = action_err(
        "acme",
        "add_watcher",
        json!({"issue": "DEMO-99999", "user": BOB}),
    );
    assert!(message(&unknown).contains(NO_ISSUE), "{unknown}");
    let bad = action_err("acme", "add_watcher", json!({"issue": key, "user": 7}));
    assert!(message(&bad).contains("input.user"), "{bad}");
}

#[test]
fn delete_watcher_removes_a_watcher_and_a_repeat_is_unchanged() {
    let key = new_issue("Unwatch me");
    action("add_watcher", json!({"issue": key, "user": JO}));
    let removed = action("delete_watcher", json!({"issue": key, "user": JO}));
    assert_eq!(removed["outcome"], "changed", "{removed}");
    assert_eq!(removed["output"]["watching"], false);
    assert!(!watchers(&key).contains(&JO.to_owned()));

    let again = action(
        "delete_watcher",
        json!({"issue": key, "user": "jo@acme.example"}),
    );
    assert_eq!(again["outcome"], "unchanged", "{again}");

    let refused = action_err("bob", "delete_watcher", json!({"issue": key, "user": ADA}));
    assert!(message(&refused).contains("Manage Watchers"), "{refused}");
    assert!(
        watchers(&key).contains(&ADA.to_owned()),
        "Ada still watches"
    );
}

#[test]
fn create_group_makes_a_group_and_refuses_a_taken_name_and_a_member() {
    let (name, id) = new_group("makers");
    assert_eq!(group_status(&id), 200);
    assert!(members(&id).is_empty());

    let taken = action_err("acme", "create_group", json!({"name": name}));
    assert!(
        message(&taken).contains("A group with that name already exists."),
        "{taken}"
    );
    let by_bob = action_err(
        "bob",
        "create_group",
        json!({"name": format!("bobs-{}", unique())}),
    );
    let text = message(&by_bob);
    assert!(text.contains("site administrator"), "{text}");
    let missing = action_err("acme", "create_group", json!({}));
    assert!(message(&missing).contains("name"), "{missing}");
}

#[test]
fn group_membership_is_added_and_removed_and_repeats_are_unchanged() {
    let (name, id) = new_group("members");
    let added = action(
        "add_user_to_group",
        json!({"group": {"name": name}, "user": {"email": "jo@acme.example"}}),
    );
    assert_eq!(added["outcome"], "changed", "{added}");
    assert_eq!(added["output"], json!({"accountId": JO, "member": true}));
    assert_eq!(members(&id), vec![JO.to_owned()]);

    let again = action(
        "add_user_to_group",
        json!({"group": {"id": id}, "user": JO}),
    );
    assert_eq!(again["outcome"], "unchanged", "{again}");

    let removed = action(
        "remove_user_from_group",
        json!({"group": {"id": id}, "user": JO}),
    );
    assert_eq!(removed["outcome"], "changed", "{removed}");
    assert_eq!(removed["output"]["member"], false);
    assert!(members(&id).is_empty());
    let removed_again = action(
        "remove_user_from_group",
        json!({"group": {"name": name}, "user": "jo@acme.example"}),
    );
    assert_eq!(removed_again["outcome"], "unchanged", "{removed_again}");

    // Kiri hides her address: Jira's user search still finds her by the whole address.
    let hidden = action(
        "add_user_to_group",
        json!({"group": {"id": id}, "user": {"email": "kiri@acme.example"}}),
    );
    assert_eq!(hidden["output"], json!({"accountId": KIRI, "member": true}));
    assert_eq!(members(&id), vec![KIRI.to_owned()]);
    let nobody = action_err(
        "acme",
        "add_user_to_group",
        json!({"group": {"id": id}, "user": {"email": "nobody@acme.example"}}),
    );
    assert_eq!(nobody["kind"], "resolve", "{nobody}");
    assert!(message(&nobody).contains("nobody@acme.example"), "{nobody}");
    let unknown = action_err(
        "acme",
        "add_user_to_group",
        json!({"group": {"name": "no-such-group"}, "user": KIRI}),
    );
    assert!(message(&unknown).contains("no-such-group"), "{unknown}");
    let by_bob = action_err(
        "bob",
        "remove_user_from_group",
        json!({"group": {"name": "developers"}, "user": KIRI}),
    );
    assert!(message(&by_bob).contains("site administrator"), "{by_bob}");
    let bad = action_err(
        "acme",
        "add_user_to_group",
        json!({"group": {"title": name}, "user": KIRI}),
    );
    assert!(message(&bad).contains("input.group"), "{bad}");
}

#[test]
fn remove_group_deletes_it_and_a_second_removal_is_a_not_found_error() {
    let (name, id) = new_group("doomed");
    let removed = action("remove_group", json!({"group": {"id": id}}));
    assert_eq!(removed["outcome"], "changed", "{removed}");
    assert_eq!(removed["output"], json!({"removed": true}));
    assert_eq!(group_status(&id), 404);

    let again = action_err("acme", "remove_group", json!({"group": {"name": name}}));
    assert!(message(&again).contains(&name), "{again}");
    let by_bob = action_err(
        "bob",
        "remove_group",
        json!({"group": {"name": "developers"}}),
    );
    assert!(message(&by_bob).contains("site administrator"), "{by_bob}");
}

const PEOPLE_FLOW: &str = r#"
name: actions-people
enabled: false
trigger:
  type: new_issue
  connection: acme
steps:
  - id: group
    action: create_group
    connection: acme
    input:
      name: "{{ trigger.team }}"
  - id: join
    action: add_user_to_group
    connection: acme
    input:
      group: { id: "{{ steps.group.output.groupId }}" }
      user: { email: "{{ trigger.email }}" }
  - id: watch
    action: add_watcher
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      user: "{{ steps.join.output.accountId }}"
  - id: rewatch
    action: add_watcher
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      user: "{{ trigger.email }}"
  - id: unwatch_reporter
    action: delete_watcher
    connection: acme
    input:
      issue: "{{ trigger.issue.key }}"
      user: { account_id: "{{ trigger.reporter }}" }
  - id: leave
    action: remove_user_from_group
    connection: acme
    input:
      group: { name: "{{ steps.group.output.name }}" }
      user: "{{ steps.join.output.accountId }}"
  - id: disband
    action: remove_group
    connection: acme
    input:
      group: { id: "{{ steps.group.output.groupId }}" }
"#;

#[test]
fn a_people_flow_manages_a_group_and_watchers_with_mapped_values() {
    let key = new_issue("Flow watchers");
    let team = format!("flow-team-{}", unique());
    apply_flow("actions-people", PEOPLE_FLOW);
    let run = run_flow(
        "actions-people",
        json!({"issue": {"key": key}, "team": team, "email": "sam@acme.example", "reporter": ADA}),
    );
    let group_id = step(&run, "group")["output"]["groupId"]
        .as_str()
        .expect("groupId")
        .to_owned();
    assert_eq!(step(&run, "join")["output"]["accountId"], SAM);
    assert_eq!(step(&run, "watch")["outcome"], "changed");
    assert_eq!(step(&run, "rewatch")["outcome"], "unchanged");
    assert_eq!(step(&run, "unwatch_reporter")["outcome"], "changed");
    assert_eq!(step(&run, "leave")["output"]["member"], false);
    assert_eq!(step(&run, "disband")["output"], json!({"removed": true}));

    let watching = watchers(&key);
    assert!(watching.contains(&SAM.to_owned()), "{watching:?}");
    assert!(!watching.contains(&ADA.to_owned()), "{watching:?}");
    assert_eq!(group_status(&group_id), 404, "the group is gone");
    let steps: Vec<Value> = run["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 7);
}
