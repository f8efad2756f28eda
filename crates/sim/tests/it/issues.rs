//! Issue endpoints: create, get (field selection, expansions, properties), edit, delete,
//! transitions, create/edit metadata, entity properties and the field/issue type/priority/status
//! catalogues, with Jira's validation messages and permission behaviour.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::{assert_matches_spec, assert_valid_adf};
use crate::support::{TestSim, as_user_with, send_json};

mod lifecycle;

const ISSUE: &str = "/rest/api/3/issue";
const ISSUE_BY_KEY: &str = "/rest/api/3/issue/{issueIdOrKey}";
pub(super) const BOB: &str = "5f1a00000000000000000b02";
const SAM: &str = "5f1a00000000000000000e05";
const WORK: &[&str] = &["read:jira-work", "write:jira-work"];

pub(super) fn doc(text: &str) -> Value {
    json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":text}]}]})
}

pub(super) async fn create(sim: &TestSim, fields: Value) -> (u16, Value) {
    send_json(
        sim.admin(Method::POST, "/issue")
            .json(&json!({ "fields": fields })),
    )
    .await
}

pub(super) async fn create_ok(sim: &TestSim, summary: &str) -> String {
    let (status, body) = create(
        sim,
        json!({"project":{"key":"DEMO"},"issuetype":{"name":"Task"},"summary":summary}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().expect("key").to_owned()
}

pub(super) use crate::support::admin_get as get;

/// A request as `account` with this module's scopes.
pub(super) fn as_user(
    sim: &TestSim,
    account: &str,
    method: Method,
    path: &str,
) -> reqwest::RequestBuilder {
    as_user_with(sim, account, WORK, method, path)
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
