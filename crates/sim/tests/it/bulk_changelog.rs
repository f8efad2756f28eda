//! Changelog reads (per issue, by id, bulk with a cursor), bulk create and bulk fetch of issues;
//! the small read endpoints clients use for pickers and access checks are in `pickers`.

use jiraflow_sim::seed::{
    ADMIN_ACCOUNT, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT, MEMBER_PLUS13_ACCOUNT, SECURITY_ACCOUNT,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::{assert_matches_component, assert_matches_spec};
use crate::support::{TestSim, admin_get, admin_post, as_user_with, send_json};

mod pickers;

const ADA: &str = ADMIN_ACCOUNT;
const BOB: &str = MEMBER_ACCOUNT;
const KIRI: &str = MEMBER_PLUS13_ACCOUNT;
const JO: &str = JIRA_ADMIN_ACCOUNT;
const SAM: &str = SECURITY_ACCOUNT;
const ALL: &[&str] = &[
    "read:jira-user",
    "read:jira-work",
    "write:jira-work",
    "manage:jira-configuration",
];

const CHANGELOG: &str = "/rest/api/3/issue/{issueIdOrKey}/changelog";
const CHANGELOG_LIST: &str = "/rest/api/3/issue/{issueIdOrKey}/changelog/list";
const BULK_CHANGELOG: &str = "/rest/api/3/changelog/bulkfetch";
const BULK_CREATE: &str = "/rest/api/3/issue/bulk";
const BULK_FETCH: &str = "/rest/api/3/issue/bulkfetch";

/// A request as `account` with this module's scopes.
fn as_user(sim: &TestSim, account: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    as_user_with(sim, account, ALL, method, path)
}

/// Creates a DEMO task and returns its key.
async fn new_issue(sim: &TestSim, summary: &str) -> String {
    let (status, body) = admin_post(
        sim,
        "/issue",
        json!({"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": summary}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().expect("key").to_owned()
}

/// Edits `fields` of `key` (one changelog history per call).
async fn edit(sim: &TestSim, key: &str, fields: Value) {
    let (status, body) = send_json(
        sim.admin(Method::PUT, &format!("/issue/{key}"))
            .json(&json!({ "fields": fields })),
    )
    .await;
    assert_eq!(status, 204, "{body}");
}

/// An issue with three histories: summary, labels, then summary again.
async fn issue_with_history(sim: &TestSim) -> String {
    let key = new_issue(sim, "First title").await;
    edit(sim, &key, json!({"summary": "Second title"})).await;
    edit(sim, &key, json!({"labels": ["triaged"]})).await;
    edit(sim, &key, json!({"summary": "Third title"})).await;
    key
}

/// The key of a seeded issue in the restricted SEC project.
async fn sec_issue(sim: &TestSim) -> String {
    let (status, body) = admin_get(sim, "/issue/SEC-1?fields=summary").await;
    assert_eq!(status, 200, "{body}");
    body["key"].as_str().expect("key").to_owned()
}

#[tokio::test]
async fn the_changelog_pages_an_issues_histories_oldest_first() {
    let sim = TestSim::start().await;
    let key = issue_with_history(&sim).await;

    let (status, page) = admin_get(&sim, &format!("/issue/{key}/changelog?maxResults=2")).await;
    assert_eq!(status, 200, "{page}");
    assert_matches_spec("get", CHANGELOG, 200, &page);
    assert_eq!(page["total"], 3);
    assert_eq!(page["startAt"], 0);
    assert_eq!(page["maxResults"], 2);
    assert_eq!(page["isLast"], false);
    assert!(
        page["nextPage"]
            .as_str()
            .expect("nextPage")
            .contains("startAt=2")
    );
    let first = &page["values"][0];
    assert_eq!(first["author"]["accountId"], ADA);
    let item = &first["items"][0];
    assert_eq!(item["field"], "summary");
    assert_eq!(item["fieldId"], "summary");
    assert_eq!(item["fieldtype"], "jira");
    assert_eq!(item["fromString"], "First title");
    assert_eq!(item["toString"], "Second title");
    assert_eq!(page["values"][1]["items"][0]["field"], "labels");

    let (status, rest) = admin_get(
        &sim,
        &format!("/issue/{key}/changelog?startAt=2&maxResults=2"),
    )
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("get", CHANGELOG, 200, &rest);
    assert_eq!(rest["isLast"], true);
    assert!(rest.get("nextPage").is_none());
    assert_eq!(rest["values"][0]["items"][0]["toString"], "Third title");
}

#[tokio::test]
async fn the_changelog_of_a_missing_or_hidden_issue_is_404_and_needs_read_scope() {
    let sim = TestSim::start().await;
    let sec = sec_issue(&sim).await;
    let (status, body) = send_json(as_user(
        &sim,
        BOB,
        Method::GET,
        &format!("/issue/{sec}/changelog"),
    ))
    .await;
    assert_eq!(status, 404);
    assert_matches_spec("get", CHANGELOG, 404, &body);
    assert_eq!(
        body["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
    let (status, _) = admin_get(&sim, "/issue/DEMO-9999/changelog").await;
    assert_eq!(status, 404);

    let token = sim.token_for(BOB, &["read:jira-user"]);
    let (status, body) = send_json(
        sim.http
            .get(sim.api("/issue/DEMO-1/changelog"))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn changelog_list_returns_only_the_asked_histories_of_the_issue() {
    let sim = TestSim::start().await;
    let key = issue_with_history(&sim).await;
    let (_, page) = admin_get(&sim, &format!("/issue/{key}/changelog")).await;
    let ids: Vec<u64> = page["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|h| h["id"].as_str().expect("id").parse().expect("numeric id"))
        .collect();
    assert_eq!(ids.len(), 3);

    let path = format!("/issue/{key}/changelog/list");
    let (status, body) =
        admin_post(&sim, &path, json!({"changelogIds": [ids[2], ids[0], 1]})).await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("post", CHANGELOG_LIST, 200, &body);
    let got: Vec<&str> = body["histories"]
        .as_array()
        .expect("values")
        .iter()
        .map(|h| h["id"].as_str().expect("id"))
        .collect();
    assert_eq!(got, vec![ids[0].to_string(), ids[2].to_string()]);
    assert_eq!(body["total"], 2);

    let (status, body) = admin_post(&sim, &path, json!({})).await;
    assert_eq!(status, 400);
    assert_matches_spec("post", CHANGELOG_LIST, 400, &body);
    let (status, _) = admin_post(
        &sim,
        "/issue/DEMO-9999/changelog/list",
        json!({"changelogIds": [1]}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bulk_changelogs_group_by_issue_filter_by_field_and_page_with_a_cursor() {
    let sim = TestSim::start().await;
    let a = issue_with_history(&sim).await;
    let b = issue_with_history(&sim).await;
    let sec = sec_issue(&sim).await;
    edit(&sim, &sec, json!({"summary": "Secret change"})).await;

    // Bob cannot see SEC; unknown keys are left out without an error.
    let request = json!({"issueIdsOrKeys": [b, a.to_lowercase(), sec, "NOPE-1"]});
    let (status, body) =
        send_json(as_user(&sim, BOB, Method::POST, "/changelog/bulkfetch").json(&request)).await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("post", BULK_CHANGELOG, 200, &body);
    let logs = body["issueChangeLogs"].as_array().expect("logs");
    assert_eq!(logs.len(), 2);
    let first_id: u64 = logs[0]["issueId"].as_str().expect("id").parse().expect("n");
    let second_id: u64 = logs[1]["issueId"].as_str().expect("id").parse().expect("n");
    assert!(first_id < second_id, "ascending issue ids");
    assert_eq!(logs[0]["changeHistories"].as_array().map(Vec::len), Some(3));
    assert!(body.get("nextPageToken").is_none());

    // Filtered to labels: one history per issue, holding only the labels item.
    let (status, body) = admin_post(
        &sim,
        "/changelog/bulkfetch",
        json!({"issueIdsOrKeys": [a, b], "fieldIds": ["labels"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("post", BULK_CHANGELOG, 200, &body);
    for log in body["issueChangeLogs"].as_array().expect("logs") {
        let histories = log["changeHistories"].as_array().expect("histories");
        assert_eq!(histories.len(), 1);
        assert_eq!(histories[0]["items"][0]["fieldId"], "labels");
    }

    // Pages of two histories: 3 + 3 histories take three pages, the last without a token.
    let mut seen = 0;
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = json!({"issueIdsOrKeys": [a, b], "maxResults": 2});
        if let Some(t) = &token {
            request["nextPageToken"] = json!(t);
        }
        let (status, body) = admin_post(&sim, "/changelog/bulkfetch", request).await;
        assert_eq!(status, 200, "{body}");
        assert_matches_spec("post", BULK_CHANGELOG, 200, &body);
        pages += 1;
        for log in body["issueChangeLogs"].as_array().expect("logs") {
            seen += log["changeHistories"].as_array().map_or(0, Vec::len);
        }
        match body["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, 6));
}

#[tokio::test]
async fn bulk_changelog_requests_outside_the_documented_limits_are_rejected() {
    let sim = TestSim::start().await;
    let too_many: Vec<String> = (0..1001).map(|n| format!("DEMO-{n}")).collect();
    let fields: Vec<String> = (0..11).map(|n| format!("customfield_{n}")).collect();
    for body in [
        json!({}),
        json!({"issueIdsOrKeys": []}),
        json!({"issueIdsOrKeys": too_many}),
        json!({"issueIdsOrKeys": ["DEMO-1"], "fieldIds": fields}),
        json!({"issueIdsOrKeys": ["DEMO-1"], "maxResults": 0}),
        json!({"issueIdsOrKeys": ["DEMO-1"], "maxResults": 10001}),
        json!({"issueIdsOrKeys": ["DEMO-1"], "nextPageToken": "garbage"}),
    ] {
        let (status, answer) = admin_post(&sim, "/changelog/bulkfetch", body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_matches_component("ErrorCollection", &answer);
    }
}

#[tokio::test]
async fn a_cursor_from_one_bulk_changelog_request_is_refused_for_another() {
    let sim = TestSim::start().await;
    let a = issue_with_history(&sim).await;
    let (_, body) = admin_post(
        &sim,
        "/changelog/bulkfetch",
        json!({"issueIdsOrKeys": [a], "maxResults": 1}),
    )
    .await;
    let token = body["nextPageToken"].as_str().expect("token");
    let (status, _) = admin_post(
        &sim,
        "/changelog/bulkfetch",
        json!({"issueIdsOrKeys": [a, "DEMO-1"], "maxResults": 1, "nextPageToken": token}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn bulk_create_creates_the_valid_issues_and_reports_the_invalid_ones_by_position() {
    let sim = TestSim::start().await;
    let (status, body) = admin_post(
        &sim,
        "/issue/bulk",
        json!({"issueUpdates": [
            {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "One"}},
            {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}}},
            {"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Bug"}, "summary": "Two"}},
        ]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_matches_spec("post", BULK_CREATE, 201, &body);
    let issues = body["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), 2);
    assert!(issues[0]["key"].as_str().expect("key").starts_with("DEMO-"));
    assert!(issues[1]["key"].as_str().expect("key").starts_with("OPS-"));
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["failedElementNumber"], 1);
    assert_eq!(errors[0]["status"], 400);
    assert_eq!(
        errors[0]["elementErrors"]["errors"]["summary"],
        "You must specify a summary of the issue."
    );

    let key = issues[0]["key"].as_str().expect("key");
    let (status, issue) = admin_get(&sim, &format!("/issue/{key}")).await;
    assert_eq!(status, 200);
    assert_eq!(issue["fields"]["summary"], "One");
}

#[tokio::test]
async fn bulk_create_answers_400_when_every_issue_fails_or_the_batch_is_too_big() {
    let sim = TestSim::start().await;
    let (status, body) = admin_post(
        &sim,
        "/issue/bulk",
        json!({"issueUpdates": [
            {"fields": {"project": {"key": "NOPE"}, "issuetype": {"name": "Task"}, "summary": "x"}},
            "not an object",
        ]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_matches_spec("post", BULK_CREATE, 400, &body);
    assert_eq!(body["issues"], json!([]));
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["errors"][1]["failedElementNumber"], 1);

    let one = json!({"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "x"}});
    let (status, body) =
        admin_post(&sim, "/issue/bulk", json!({"issueUpdates": vec![one; 51]})).await;
    assert_eq!(status, 400);
    assert_matches_component("ErrorCollection", &body);

    let token = sim.token_for(BOB, &["read:jira-work"]);
    let (status, _) = send_json(
        sim.http
            .post(sim.api("/issue/bulk"))
            .bearer_auth(token)
            .json(&json!({"issueUpdates": []})),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn bulk_fetch_returns_visible_issues_in_ascending_id_order_with_navigable_fields() {
    let sim = TestSim::start().await;
    let sec = sec_issue(&sim).await;
    let (status, body) = send_json(as_user(&sim, BOB, Method::POST, "/issue/bulkfetch").json(
        &json!({
            "issueIdsOrKeys": ["DEMO-3", "demo-1", sec, "NOPE-1", "DEMO-1"],
        }),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("post", BULK_FETCH, 200, &body);
    let keys: Vec<&str> = body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| i["key"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, vec!["DEMO-1", "DEMO-3"]);
    assert_eq!(body["issueErrors"], json!([]));
    let fields = &body["issues"][0]["fields"];
    assert!(fields.get("summary").is_some());
    // `comment` is not navigable, so the default selection leaves it out.
    assert!(fields.get("comment").is_none());

    let (status, body) = admin_post(
        &sim,
        "/issue/bulkfetch",
        json!({"issueIdsOrKeys": ["DEMO-1"], "fields": ["summary", "comment"], "expand": ["names"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("post", BULK_FETCH, 200, &body);
    let issue = &body["issues"][0];
    let mut names: Vec<&String> = issue["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .collect();
    names.sort();
    assert_eq!(names, vec!["comment", "summary"]);
    assert_eq!(issue["names"]["summary"], "Summary");
}

#[tokio::test]
async fn bulk_fetch_rejects_empty_and_oversized_requests() {
    let sim = TestSim::start().await;
    let too_many: Vec<String> = (0..101).map(|n| format!("DEMO-{n}")).collect();
    for body in [
        json!({"issueIdsOrKeys": []}),
        json!({"fields": ["summary"]}),
        json!({"issueIdsOrKeys": too_many}),
        json!({"issueIdsOrKeys": ["DEMO-1"], "properties": ["a", "b", "c", "d", "e", "f"]}),
    ] {
        let (status, answer) = admin_post(&sim, "/issue/bulkfetch", body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_matches_spec("post", BULK_FETCH, 400, &answer);
    }
}
