//! Issue endpoints: create, get (field selection, expansions, properties), edit, delete,
//! transitions, create/edit metadata, entity properties and the field/issue type/priority/status
//! catalogues, with Jira's validation messages and permission behaviour.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::{assert_matches_spec, assert_valid_adf};
use crate::support::{TestSim, send_json};

const ISSUE: &str = "/rest/api/3/issue";
const ISSUE_BY_KEY: &str = "/rest/api/3/issue/{issueIdOrKey}";
const BOB: &str = "5f1a00000000000000000b02";
const SAM: &str = "5f1a00000000000000000e05";
const WORK: &[&str] = &["read:jira-work", "write:jira-work"];

fn doc(text: &str) -> Value {
    json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":text}]}]})
}

async fn create(sim: &TestSim, fields: Value) -> (u16, Value) {
    send_json(
        sim.admin(Method::POST, "/issue")
            .json(&json!({ "fields": fields })),
    )
    .await
}

async fn create_ok(sim: &TestSim, summary: &str) -> String {
    let (status, body) = create(
        sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":summary}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().expect("key").to_owned()
}

async fn get(sim: &TestSim, path: &str) -> (u16, Value) {
    send_json(sim.admin(Method::GET, path)).await
}

fn as_user(sim: &TestSim, account: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    let token = sim.token_for(account, WORK);
    sim.http.request(method, sim.api(path)).bearer_auth(token)
}

#[tokio::test]
async fn creating_an_issue_answers_201_with_id_key_and_self_and_the_issue_reads_back() {
    let sim = TestSim::start().await;
    let (status, body) = create(
        &sim,
        json!({
            "project": {"key": "DEMO"},
            "issuetype": {"id": "10002"},
            "summary": "Checkout fails",
            "description": doc("Steps to reproduce"),
            "labels": ["b", "a"],
            "priority": {"name": "High"},
            "duedate": "2026-03-01",
            "assignee": {"accountId": BOB},
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_matches_spec("post", ISSUE, 201, &body);
    assert!(body["id"].is_string());
    let key = body["key"].as_str().expect("key");
    assert!(key.starts_with("DEMO-"));
    assert!(body["self"].as_str().expect("self").ends_with(&format!(
        "/rest/api/3/issue/{}",
        body["id"].as_str().expect("id")
    )));

    let (status, issue) = get(&sim, &format!("/issue/{key}")).await;
    assert_eq!(status, 200);
    assert_matches_spec("get", ISSUE_BY_KEY, 200, &issue);
    let fields = &issue["fields"];
    assert_eq!(fields["summary"], "Checkout fails");
    assert_eq!(fields["issuetype"]["name"], "Bug");
    assert_eq!(
        fields["labels"],
        json!(["a", "b"]),
        "labels come back sorted"
    );
    assert_eq!(fields["priority"]["name"], "High");
    assert_eq!(fields["duedate"], "2026-03-01");
    assert_eq!(fields["assignee"]["accountId"], BOB);
    assert_eq!(fields["status"]["name"], "To Do");
    assert_eq!(fields["status"]["statusCategory"]["key"], "new");
    assert_eq!(fields["resolution"], Value::Null);
    assert_eq!(fields["created"], fields["updated"]);
    assert_valid_adf(&fields["description"]);
    assert_eq!(fields["comment"]["total"], 0);
    assert_eq!(fields["project"]["key"], "DEMO");
}

#[tokio::test]
async fn a_plain_string_description_is_rejected_like_jira() {
    let sim = TestSim::start().await;
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":"x","description":"plain text"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"errorMessages":[],"errors":{"description":"Operation value must be an Atlassian Document (see the Atlassian Document Format)"}})
    );
}

#[tokio::test]
async fn an_invalid_adf_document_is_rejected_with_invalid_input() {
    let sim = TestSim::start().await;
    let empty_text = json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]});
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":"x","description":empty_text}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["description"], "INVALID_INPUT");
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":"x","customfield_10030":{"type":"doc","version":1,"content":[{"type":"nope"}]}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["customfield_10030"], "INVALID_INPUT");
}

#[tokio::test]
async fn missing_summary_project_and_issue_type_are_reported_per_field() {
    let sim = TestSim::start().await;
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["summary"],
        "You must specify a summary of the issue."
    );
    let (status, body) = create(&sim, json!({"summary":"x"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["project"],
        "Specify a valid project ID or key"
    );
    assert_eq!(body["errors"]["issuetype"], "Specify an issue type");
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"NOPE"},"issuetype":{"name":"Task"},"summary":"x"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["project"], "valid project is required");
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"id":"999"},"summary":"x"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["issuetype"], "valid issue type is required");
    let long = "x".repeat(256);
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":long}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["summary"],
        "Summary must be less than 255 characters."
    );
}

#[tokio::test]
async fn unknown_and_read_only_fields_cannot_be_set() {
    let sim = TestSim::start().await;
    let (status, body) = create(
        &sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":"x","foo":1,"status":{"id":"3"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["foo"],
        "Field 'foo' cannot be set. It is not on the appropriate screen, or unknown."
    );
    assert_eq!(
        body["errors"]["status"],
        "Field 'status' cannot be set. It is not on the appropriate screen, or unknown."
    );
}

#[tokio::test]
async fn invalid_values_get_jiras_field_messages() {
    let sim = TestSim::start().await;
    let base = json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":"x"});
    let cases = [
        (
            "labels",
            json!(["a b"]),
            "The label 'a b' contains spaces which is invalid.",
        ),
        (
            "duedate",
            json!("01/02/2026"),
            "Error parsing date string: 01/02/2026",
        ),
        (
            "priority",
            json!({"name":"Urgent"}),
            "Priority name 'Urgent' is not valid",
        ),
        (
            "customfield_10020",
            json!({"value":"Nope"}),
            "Option value 'Nope' is not valid",
        ),
        (
            "customfield_10016",
            json!("three"),
            "Operation value must be a number",
        ),
        (
            "assignee",
            json!({"accountId":"nobody"}),
            "User 'nobody' does not exist.",
        ),
    ];
    for (field, value, message) in cases {
        let mut fields = base.clone();
        fields[field] = value;
        let (status, body) = create(&sim, fields).await;
        assert_eq!(status, 400, "{field}: {body}");
        assert_eq!(body["errors"][field], message, "{field}");
        assert_eq!(body["errorMessages"], json!([]));
    }
}

#[tokio::test]
async fn custom_fields_of_every_kind_are_stored_in_response_shape() {
    let sim = TestSim::start().await;
    let (status, body) = create(
        &sim,
        json!({
            "project": {"key": "DEMO"}, "issuetype": {"name": "Story"}, "summary": "custom",
            "customfield_10016": 5,
            "customfield_10020": {"value": "Payments"},
            "customfield_10022": [{"value": "API"}, {"id": "10121"}],
            "customfield_10030": doc("Given when then"),
            "customfield_10040": "EXT-1",
            "customfield_10050": {"accountId": BOB},
            "customfield_10060": "2026-02-01",
            "customfield_10061": "2026-02-01T10:00:00.000+0000",
            "customfield_10070": ["x", "y"],
            "customfield_10080": {"value": "Europe", "child": {"value": "Paris"}},
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let key = body["key"].as_str().expect("key");
    let (_, issue) = get(&sim, &format!("/issue/{key}")).await;
    let f = &issue["fields"];
    assert_eq!(f["customfield_10016"], 5);
    assert_eq!(f["customfield_10020"]["value"], "Payments");
    assert_eq!(f["customfield_10020"]["id"], "10101");
    assert_eq!(f["customfield_10022"].as_array().map(Vec::len), Some(2));
    assert_eq!(f["customfield_10022"][1]["value"], "Web");
    assert_valid_adf(&f["customfield_10030"]);
    assert_eq!(f["customfield_10040"], "EXT-1");
    assert_eq!(f["customfield_10050"]["displayName"], "Bob Builder");
    assert_eq!(f["customfield_10060"], "2026-02-01");
    assert_eq!(f["customfield_10061"], "2026-02-01T10:00:00.000+0000");
    assert_eq!(f["customfield_10070"], json!(["x", "y"]));
    assert_eq!(f["customfield_10080"]["child"]["value"], "Paris");
    assert_eq!(
        f["customfield_10021"],
        Value::Null,
        "unset custom fields are null"
    );
}

#[tokio::test]
async fn restricted_projects_are_invisible_to_outsiders() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(as_user(&sim, BOB, Method::GET, "/issue/SEC-1")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}})
    );
    let (status, _) = send_json(as_user(&sim, SAM, Method::GET, "/issue/SEC-1")).await;
    assert_eq!(status, 200);
    let (status, body) = send_json(as_user(&sim, BOB, Method::POST, "/issue").json(
        &json!({"fields":{"project":{"key":"SEC"},"issuetype":{"name":"Task"},"summary":"x"}}),
    ))
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["project"], "valid project is required");
    let (status, _) = send_json(
        as_user(&sim, BOB, Method::PUT, "/issue/SEC-1").json(&json!({"fields":{"summary":"y"}})),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_token_without_the_operations_scope_gets_the_gateways_401() {
    let sim = TestSim::start().await;
    let token = sim.token_for(BOB, &["read:jira-user"]);
    let (status, body) =
        send_json(sim.http.get(sim.api("/issue/DEMO-1")).bearer_auth(&token)).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code":401,"message":"Unauthorized; scope does not match"})
    );
    let read_only = sim.token_for(BOB, &["read:jira-work"]);
    let (status, _) = send_json(
        sim.http
            .put(sim.api("/issue/DEMO-1"))
            .bearer_auth(&read_only)
            .json(&json!({"fields":{"summary":"y"}})),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn issue_keys_are_case_insensitive_and_ids_work_too() {
    let sim = TestSim::start().await;
    let (status, issue) = get(&sim, "/issue/demo-1").await;
    assert_eq!(status, 200);
    assert_eq!(issue["key"], "DEMO-1");
    let id = issue["id"].as_str().expect("id");
    let (status, by_id) = get(&sim, &format!("/issue/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["key"], "DEMO-1");
    let (status, _) = get(&sim, "/issue/DEMO-99999").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn field_selection_and_expansions_shape_the_issue() {
    let sim = TestSim::start().await;
    let (_, issue) = get(&sim, "/issue/DEMO-1?fields=summary,status").await;
    let keys: Vec<&String> = issue["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .collect();
    assert_eq!(keys, vec!["status", "summary"]);
    let (_, issue) = get(&sim, "/issue/DEMO-1?fields=*all,-comment,-description").await;
    assert!(issue["fields"].get("comment").is_none());
    assert!(issue["fields"].get("description").is_none());
    assert!(issue["fields"].get("summary").is_some());
    let (_, issue) = get(&sim, "/issue/DEMO-1?fields=*navigable").await;
    assert!(
        issue["fields"].get("comment").is_none(),
        "comment is not navigable"
    );
    assert!(issue["fields"].get("summary").is_some());
    let (status, issue) = get(
        &sim,
        "/issue/DEMO-2?expand=names,schema,transitions,editmeta,changelog,renderedFields&fields=summary,description,created,customfield_10016",
    )
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("get", ISSUE_BY_KEY, 200, &issue);
    assert_eq!(issue["names"]["summary"], "Summary");
    assert_eq!(issue["names"]["customfield_10016"], "Story Points");
    assert_eq!(
        issue["schema"]["customfield_10016"]["custom"],
        "com.atlassian.jira.plugin.system.customfieldtypes:float"
    );
    assert!(
        issue["transitions"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(issue["editmeta"]["fields"]["summary"]["required"].as_bool() == Some(true));
    assert_eq!(issue["changelog"]["histories"], json!([]));
    assert!(
        issue["renderedFields"]["description"]
            .as_str()
            .is_some_and(|h| h.starts_with("<p>"))
    );
}

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
