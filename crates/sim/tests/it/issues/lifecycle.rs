//! Issue edits, transitions, subtasks, entity properties and the metadata endpoints.

use reqwest::Method;
use serde_json::{Value, json};

use super::{BOB, as_user, create, create_ok, get};
use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, send_json};

#[tokio::test]
async fn editing_fields_records_a_changelog_and_bumps_updated() {
    let sim = TestSim::start().await;
    let key = create_ok(&sim, "before").await;
    let (_, before) = get(&sim, &format!("/issue/{key}")).await;
    sim.sim.state.clock.advance_ms(60_000);
    let (status, body) = send_json(
        sim.admin(Method::PUT, &format!("/issue/{key}"))
            .json(&json!({"fields":{"summary":"after"},"update":{"labels":[{"add":"triaged"},{"add":"x"},{"remove":"x"}]},"transition":{"id":"31"}})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, after) = get(&sim, &format!("/issue/{key}?expand=changelog")).await;
    assert_eq!(after["fields"]["summary"], "after");
    assert_eq!(after["fields"]["labels"], json!(["triaged"]));
    assert_eq!(
        after["fields"]["status"]["name"], "To Do",
        "a transition in an edit body is ignored"
    );
    assert_ne!(after["fields"]["updated"], before["fields"]["updated"]);
    let items = &after["changelog"]["histories"][0]["items"];
    assert_eq!(
        items[0],
        json!({"field":"summary","fieldtype":"jira","fieldId":"summary","from":null,"fromString":"before","to":null,"toString":"after"})
    );
    assert_eq!(items[1]["field"], "labels");
    assert_eq!(items[1]["toString"], "triaged");
}

#[tokio::test]
async fn edit_with_return_issue_answers_200_with_the_issue() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        sim.admin(Method::PUT, "/issue/DEMO-3?returnIssue=true&expand=names")
            .json(&json!({"fields":{"customfield_10021":{"id":"10110"}}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["key"], "DEMO-3");
    assert_eq!(body["fields"]["customfield_10021"]["value"], "S1");
    assert_eq!(body["names"]["customfield_10021"], "Severity");
}

#[tokio::test]
async fn edit_rejects_read_only_fields_and_fields_given_twice() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        sim.admin(Method::PUT, "/issue/DEMO-1")
            .json(&json!({"fields":{"created":"2020-01-01T00:00:00.000+0000"}})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["created"],
        "Field 'created' cannot be set. It is not on the appropriate screen, or unknown."
    );
    let (status, body) = send_json(
        sim.admin(Method::PUT, "/issue/DEMO-1")
            .json(&json!({"fields":{"labels":["a"]},"update":{"labels":[{"add":"b"}]}})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["errors"]["labels"].is_string(), "{body}");
    let (status, body) = send_json(
        sim.admin(Method::PUT, "/issue/DEMO-1")
            .json(&json!({"fields":{"project":{"key":"OPS"}}})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn transitions_move_the_issue_and_set_and_clear_the_resolution() {
    let sim = TestSim::start().await;
    let key = create_ok(&sim, "workflow").await;
    let (status, list) = get(
        &sim,
        &format!("/issue/{key}/transitions?expand=transitions.fields"),
    )
    .await;
    assert_eq!(status, 200);
    assert_matches_spec(
        "get",
        "/rest/api/3/issue/{issueIdOrKey}/transitions",
        200,
        &list,
    );
    let ids: Vec<&str> = list["transitions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["11", "31"]);

    let path = format!("/issue/{key}/transitions");
    let (status, body) = send_json(
        sim.admin(Method::POST, &path)
            .json(&json!({"transition":{"id":"21"}})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errorMessages"],
        json!(["Transition id '21' is not valid for this issue."])
    );
    let (status, body) = send_json(
        sim.admin(Method::POST, &path)
            .json(&json!({"transition":{"id":"abc"}})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errorMessages"],
        json!(["'transition' identifier must be an integer"])
    );

    let (status, body) = send_json(
        sim.admin(Method::POST, &path)
            .json(&json!({"transition":{"id":"31"},"fields":{"resolution":{"name":"Won't Do"}}})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, done) = get(&sim, &format!("/issue/{key}?expand=changelog")).await;
    assert_eq!(done["fields"]["status"]["statusCategory"]["key"], "done");
    assert_eq!(done["fields"]["resolution"]["name"], "Won't Do");
    assert!(done["fields"]["resolutiondate"].is_string());
    let items = &done["changelog"]["histories"][0]["items"];
    assert_eq!(items[0]["field"], "status");
    assert_eq!(items[0]["toString"], "Done");
    assert_eq!(items[1]["field"], "resolution");

    let (status, _) = send_json(
        sim.admin(Method::POST, &path)
            .json(&json!({"transition":{"id":"41"}})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, reopened) = get(&sim, &format!("/issue/{key}")).await;
    assert_eq!(reopened["fields"]["resolution"], Value::Null);
    assert_eq!(reopened["fields"]["resolutiondate"], Value::Null);

    let (status, body) = send_json(
        sim.admin(Method::POST, &path)
            .json(&json!({"transition":{"id":"11"},"fields":{"summary":"no screen"}})),
    )
    .await;
    assert_eq!(
        status, 400,
        "fields not on a transition screen are rejected: {body}"
    );
}

#[tokio::test]
async fn a_transition_in_the_create_body_is_applied_after_creation() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(sim.admin(Method::POST, "/issue").json(&json!({
        "fields": {"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":"born done"},
        "transition": {"id": "31"},
        "properties": [{"key":"app.external-id","value":{"id":"ext-1"}}],
        "historyMetadata": {"type": "app"},
        "somethingElse": true,
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["transition"]["status"], 204);
    let key = body["key"].as_str().expect("key");
    let (_, issue) = get(&sim, &format!("/issue/{key}?properties=*all")).await;
    assert_eq!(issue["fields"]["status"]["name"], "Done");
    assert_eq!(
        issue["properties"]["app.external-id"],
        json!({"id":"ext-1"})
    );

    let (status, body) = send_json(sim.admin(Method::POST, "/issue").json(&json!({
        "fields": {"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":"bad transition"},
        "transition": {"id": "41"},
    })))
    .await;
    assert_eq!(
        status, 201,
        "the issue is created even when its transition fails"
    );
    assert_eq!(body["transition"]["status"], 400);
    assert_eq!(
        body["transition"]["errorCollection"]["errorMessages"][0],
        "Transition id '41' is not valid for this issue."
    );
}

#[tokio::test]
async fn subtasks_need_a_parent_and_block_deletion_of_their_parent() {
    let sim = TestSim::start().await;
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Subtask"},"summary":"orphan"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["errors"]["parent"].is_string(), "{body}");
    let parent = create_ok(&sim, "parent").await;
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Subtask"},"summary":"child","parent":{"key":parent}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let child = body["key"].as_str().expect("key").to_owned();
    let (_, parent_issue) = get(&sim, &format!("/issue/{parent}")).await;
    assert_eq!(parent_issue["fields"]["subtasks"][0]["key"], child);
    let (_, child_issue) = get(&sim, &format!("/issue/{child}")).await;
    assert_eq!(child_issue["fields"]["parent"]["key"], parent);

    let (status, _) = send_json(as_user(
        &sim,
        BOB,
        Method::DELETE,
        &format!("/issue/{child}"),
    ))
    .await;
    assert_eq!(status, 403, "members lack the Delete Issues permission");
    let (status, body) = send_json(sim.admin(Method::DELETE, &format!("/issue/{parent}"))).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = send_json(sim.admin(
        Method::DELETE,
        &format!("/issue/{parent}?deleteSubtasks=true"),
    ))
    .await;
    assert_eq!(status, 204);
    assert_eq!(get(&sim, &format!("/issue/{parent}")).await.0, 404);
    assert_eq!(get(&sim, &format!("/issue/{child}")).await.0, 404);
}

#[tokio::test]
async fn issue_properties_can_be_set_read_listed_and_deleted_without_bumping_updated() {
    let sim = TestSim::start().await;
    let key = create_ok(&sim, "props").await;
    let (_, before) = get(&sim, &format!("/issue/{key}")).await;
    sim.sim.state.clock.advance_ms(60_000);
    let path = format!("/issue/{key}/properties/app.state");
    let (status, _) = send_json(sim.admin(Method::PUT, &path).json(&json!({"n": 1}))).await;
    assert_eq!(status, 201);
    let (status, _) = send_json(sim.admin(Method::PUT, &path).json(&json!({"n": 2}))).await;
    assert_eq!(status, 200);
    let (status, body) = get(&sim, &path).await;
    assert_eq!(status, 200);
    assert_matches_spec(
        "get",
        "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
        200,
        &body,
    );
    assert_eq!(body, json!({"key":"app.state","value":{"n":2}}));
    let (status, list) = get(&sim, &format!("/issue/{key}/properties")).await;
    assert_eq!(status, 200);
    assert_eq!(list["keys"][0]["key"], "app.state");
    let (_, after) = get(&sim, &format!("/issue/{key}")).await;
    assert_eq!(after["fields"]["updated"], before["fields"]["updated"]);

    let big = json!({"blob": "x".repeat(33_000)});
    let (status, _) = send_json(sim.admin(Method::PUT, &path).json(&big)).await;
    assert_eq!(status, 400);
    let long_key = format!("/issue/{key}/properties/{}", "k".repeat(256));
    let (status, _) = send_json(sim.admin(Method::PUT, &long_key).json(&json!(1))).await;
    assert_eq!(status, 400);

    let (status, _) = send_json(sim.admin(Method::DELETE, &path)).await;
    assert_eq!(status, 204);
    assert_eq!(get(&sim, &path).await.0, 404);
}

#[tokio::test]
async fn comment_properties_live_on_visible_comments() {
    let sim = TestSim::start().await;
    let (_, issue) = get(&sim, "/issue/DEMO-2?fields=comment").await;
    let comment_id = issue["fields"]["comment"]["comments"][0]["id"]
        .as_str()
        .expect("a seeded comment")
        .to_owned();
    let path = format!("/comment/{comment_id}/properties/app.ref");
    let (status, _) = send_json(sim.admin(Method::PUT, &path).json(&json!({"id": 7}))).await;
    assert_eq!(status, 201);
    let (status, body) = get(&sim, &path).await;
    assert_eq!(status, 200);
    assert_eq!(body["value"], json!({"id": 7}));
    let (status, list) = get(&sim, &format!("/comment/{comment_id}/properties")).await;
    assert_eq!(status, 200);
    assert_eq!(list["keys"][0]["key"], "app.ref");
    let (status, _) = get(&sim, "/comment/999999/properties").await;
    assert_eq!(status, 404);
    let (status, _) = send_json(sim.admin(Method::DELETE, &path)).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn the_catalogues_match_the_spec() {
    let sim = TestSim::start().await;
    let (status, fields) = get(&sim, "/field").await;
    assert_eq!(status, 200);
    assert_matches_spec("get", "/rest/api/3/field", 200, &fields);
    let textarea = fields
        .as_array()
        .expect("list")
        .iter()
        .find(|f| f["id"] == "customfield_10030")
        .expect("textarea field");
    assert_eq!(
        textarea["schema"]["custom"],
        "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
    );
    assert_eq!(textarea["clauseNames"][0], "cf[10030]");
    let (status, types) = get(&sim, "/issuetype").await;
    assert_eq!(status, 200);
    assert_matches_spec("get", "/rest/api/3/issuetype", 200, &types);
    assert_eq!(get(&sim, "/issuetype/10004").await.1["subtask"], true);
    assert_eq!(get(&sim, "/issuetype/424242").await.0, 404);
    let (status, priorities) = get(&sim, "/priority").await;
    assert_eq!(status, 200);
    assert_matches_spec("get", "/rest/api/3/priority", 200, &priorities);
    assert_eq!(get(&sim, "/priority/3").await.1["isDefault"], true);
    let (status, statuses) = get(&sim, "/status").await;
    assert_eq!(status, 200);
    assert_matches_spec("get", "/rest/api/3/status", 200, &statuses);
    let (status, in_progress) = get(&sim, "/status/in%20progress").await;
    assert_eq!(status, 200);
    assert_eq!(
        in_progress["statusCategory"],
        json!({
            "self": in_progress["statusCategory"]["self"], "id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"
        })
    );
    assert_eq!(get(&sim, "/status/Nope").await.0, 404);
}

#[tokio::test]
async fn create_and_edit_metadata_describe_the_screens() {
    let sim = TestSim::start().await;
    let (status, types) = get(&sim, "/issue/createmeta/DEMO/issuetypes?maxResults=2").await;
    assert_eq!(status, 200);
    assert_matches_spec(
        "get",
        "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
        200,
        &types,
    );
    assert_eq!(types["issueTypes"].as_array().map(Vec::len), Some(2));
    assert_eq!(types["total"], 5);
    let (status, fields) = get(&sim, "/issue/createmeta/DEMO/issuetypes/10004").await;
    assert_eq!(status, 200);
    assert_matches_spec(
        "get",
        "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
        200,
        &fields,
    );
    let list = fields["fields"].as_array().expect("fields");
    let parent = list
        .iter()
        .find(|f| f["fieldId"] == "parent")
        .expect("parent on subtask screen");
    assert_eq!(parent["required"], true);
    let team = list
        .iter()
        .find(|f| f["fieldId"] == "customfield_10020")
        .expect("select field");
    assert_eq!(team["allowedValues"].as_array().map(Vec::len), Some(3));
    let (status, _) = get(&sim, "/issue/createmeta/NOPE/issuetypes").await;
    assert_eq!(status, 404);
    let (status, meta) = get(&sim, "/issue/DEMO-1/editmeta").await;
    assert_eq!(status, 200);
    assert_matches_spec(
        "get",
        "/rest/api/3/issue/{issueIdOrKey}/editmeta",
        200,
        &meta,
    );
    assert_eq!(
        meta["fields"]["labels"]["operations"],
        json!(["add", "set", "remove", "edit"])
    );
    assert!(meta["fields"].get("status").is_none());
}
