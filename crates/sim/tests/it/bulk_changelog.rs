//! Changelog reads (per issue, by id, bulk with a cursor), bulk create and bulk fetch of issues,
//! and the small read endpoints clients use for pickers and access checks: `mypermissions`,
//! labels, priority search, project statuses, assignable users and users by account id.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::{assert_matches_component, assert_matches_spec};
use crate::support::{TestSim, send_json};

const ADA: &str = "5f1a00000000000000000a01";
const BOB: &str = "5f1a00000000000000000b02";
const KIRI: &str = "5f1a00000000000000000c03";
const JO: &str = "5f1a00000000000000000d04";
const SAM: &str = "5f1a00000000000000000e05";
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
const MY_PERMISSIONS: &str = "/rest/api/3/mypermissions";
const LABELS: &str = "/rest/api/3/label";
const PRIORITY_SEARCH: &str = "/rest/api/3/priority/search";
const PROJECT_STATUSES: &str = "/rest/api/3/project/{projectIdOrKey}/statuses";
const ASSIGNABLE: &str = "/rest/api/3/user/assignable/search";
const USER_BULK: &str = "/rest/api/3/user/bulk";

fn as_user(sim: &TestSim, account: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    let token = sim.token_for(account, ALL);
    sim.http.request(method, sim.api(path)).bearer_auth(token)
}

async fn admin_get(sim: &TestSim, path: &str) -> (u16, Value) {
    send_json(sim.admin(Method::GET, path)).await
}

async fn admin_post(sim: &TestSim, path: &str, body: Value) -> (u16, Value) {
    send_json(sim.admin(Method::POST, path).json(&body)).await
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

#[tokio::test]
async fn my_permissions_follow_site_role_project_access_and_project_administration() {
    let sim = TestSim::start().await;
    let ask = "/mypermissions?permissions=BROWSE_PROJECTS,CREATE_ISSUES,DELETE_ISSUES,ADMINISTER";

    let (status, body) = send_json(as_user(&sim, BOB, Method::GET, ask)).await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("get", MY_PERMISSIONS, 200, &body);
    let perms = &body["permissions"];
    assert_eq!(perms["BROWSE_PROJECTS"]["havePermission"], true);
    assert_eq!(perms["BROWSE_PROJECTS"]["id"], "10");
    assert_eq!(perms["BROWSE_PROJECTS"]["type"], "PROJECT");
    assert_eq!(perms["CREATE_ISSUES"]["havePermission"], true);
    assert_eq!(perms["DELETE_ISSUES"]["havePermission"], false);
    assert_eq!(perms["ADMINISTER"]["havePermission"], false);
    assert_eq!(perms["ADMINISTER"]["type"], "GLOBAL");

    let (status, body) = send_json(as_user(&sim, JO, Method::GET, ask)).await;
    assert_eq!(status, 200);
    assert_eq!(body["permissions"]["DELETE_ISSUES"]["havePermission"], true);
    assert_eq!(body["permissions"]["ADMINISTER"]["havePermission"], true);

    // SEC is visible to the security team only: 404 for Bob, browsable for Sam.
    let sec = format!("{ask}&projectKey=SEC");
    let (status, body) = send_json(as_user(&sim, BOB, Method::GET, &sec)).await;
    assert_eq!(status, 404);
    assert_matches_spec("get", MY_PERMISSIONS, 404, &body);
    let (status, body) = send_json(as_user(&sim, SAM, Method::GET, &sec)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["permissions"]["BROWSE_PROJECTS"]["havePermission"],
        true
    );
    assert_eq!(
        body["permissions"]["DELETE_ISSUES"]["havePermission"],
        false
    );

    let (status, body) = send_json(as_user(
        &sim,
        BOB,
        Method::GET,
        "/mypermissions?permissions=EDIT_ISSUES&issueKey=DEMO-2",
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["permissions"]["EDIT_ISSUES"]["havePermission"], true);
}

#[tokio::test]
async fn my_permissions_requires_known_permission_keys() {
    let sim = TestSim::start().await;
    let (status, body) = admin_get(&sim, "/mypermissions").await;
    assert_eq!(status, 400);
    assert_matches_spec("get", MY_PERMISSIONS, 400, &body);
    assert_eq!(
        body["errorMessages"][0],
        "The 'permissions' query parameter is required."
    );
    let (status, body) = admin_get(&sim, "/mypermissions?permissions=BROWSE_PROJECTS,FLY").await;
    assert_eq!(status, 400);
    assert_matches_spec("get", MY_PERMISSIONS, 400, &body);
    let (status, _) = admin_get(&sim, "/mypermissions?permissions=EDIT_ISSUES&commentId=1").await;
    assert_eq!(status, 400);
    let (status, body) = admin_get(
        &sim,
        "/mypermissions?permissions=EDIT_ISSUES&issueKey=NOPE-1",
    )
    .await;
    assert_eq!(status, 404);
    assert_matches_spec("get", MY_PERMISSIONS, 404, &body);
}

#[tokio::test]
async fn labels_lists_every_label_in_use_once_in_order() {
    let sim = TestSim::start().await;
    let (status, body) = admin_get(&sim, "/label").await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("get", LABELS, 200, &body);
    assert_eq!(body["values"], json!(["backend", "frontend", "ux"]));
    assert_eq!(body["total"], 3);
    assert_eq!(body["isLast"], true);

    let (status, body) = admin_get(&sim, "/label?startAt=1&maxResults=1").await;
    assert_eq!(status, 200);
    assert_matches_spec("get", LABELS, 200, &body);
    assert_eq!(body["values"], json!(["frontend"]));
    assert_eq!(body["isLast"], false);
    assert!(
        body["nextPage"]
            .as_str()
            .expect("nextPage")
            .contains("startAt=2")
    );
}

#[tokio::test]
async fn priority_search_filters_and_pages_priorities() {
    let sim = TestSim::start().await;
    let (status, all) = admin_get(&sim, "/priority/search").await;
    assert_eq!(status, 200, "{all}");
    assert_matches_spec("get", PRIORITY_SEARCH, 200, &all);
    let total = all["total"].as_u64().expect("total");
    assert!(total >= 3);
    assert_eq!(all["values"].as_array().map(Vec::len), Some(total as usize));

    let (_, by_id) = admin_get(&sim, "/priority/search?id=2&id=3").await;
    assert_eq!(by_id["total"], 2);
    let (_, defaults) = admin_get(&sim, "/priority/search?onlyDefault=true&expand=schemes").await;
    assert_matches_spec("get", PRIORITY_SEARCH, 200, &defaults);
    assert_eq!(defaults["total"], 1);
    assert_eq!(defaults["values"][0]["isDefault"], true);
    assert_eq!(defaults["values"][0]["schemes"]["total"], 1);
    let (_, paged) = admin_get(&sim, "/priority/search?maxResults=1").await;
    assert_eq!(paged["isLast"], false);

    // The spec grants this operation to manage:jira-configuration, not read:jira-work.
    let token = sim.token_for(BOB, &["read:jira-work"]);
    let (status, _) = send_json(sim.http.get(sim.api("/priority/search")).bearer_auth(token)).await;
    assert_eq!(status, 401);
    // `/priority/{id}` still answers single priorities.
    let (status, one) = admin_get(&sim, "/priority/3").await;
    assert_eq!(status, 200, "{one}");
}

#[tokio::test]
async fn project_statuses_list_each_issue_type_with_its_statuses() {
    let sim = TestSim::start().await;
    let (status, body) = admin_get(&sim, "/project/DEMO/statuses").await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("get", PROJECT_STATUSES, 200, &body);
    let types = body.as_array().expect("array");
    assert!(!types.is_empty());
    for t in types {
        assert!(!t["statuses"].as_array().expect("statuses").is_empty());
    }
    assert!(types.iter().any(|t| t["subtask"] == true));

    // Keys are case-sensitive here, and SEC is hidden from Bob.
    let (status, body) = admin_get(&sim, "/project/demo/statuses").await;
    assert_eq!(status, 404);
    assert_matches_spec("get", PROJECT_STATUSES, 404, &body);
    let (status, _) = send_json(as_user(&sim, BOB, Method::GET, "/project/SEC/statuses")).await;
    assert_eq!(status, 404);
    let (status, _) = send_json(as_user(&sim, SAM, Method::GET, "/project/SEC/statuses")).await;
    assert_eq!(status, 200);
}

fn account_ids(body: &Value) -> Vec<&str> {
    body.as_array()
        .expect("array")
        .iter()
        .map(|u| u["accountId"].as_str().expect("accountId"))
        .collect()
}

#[tokio::test]
async fn assignable_users_are_the_users_who_can_browse_the_project() {
    let sim = TestSim::start().await;
    let (status, body) = admin_get(&sim, "/user/assignable/search?project=DEMO&query=bo").await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("get", ASSIGNABLE, 200, &body);
    assert_eq!(account_ids(&body), vec![BOB]);

    let (status, body) = admin_get(&sim, "/user/assignable/search?project=SEC").await;
    assert_eq!(status, 200);
    assert_matches_spec("get", ASSIGNABLE, 200, &body);
    let ids = account_ids(&body);
    assert!(ids.contains(&SAM) && ids.contains(&ADA) && ids.contains(&JO));
    assert!(!ids.contains(&BOB) && !ids.contains(&KIRI));

    let (status, body) = admin_get(
        &sim,
        &format!("/user/assignable/search?issueKey=DEMO-1&accountId={KIRI}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(account_ids(&body), vec![KIRI]);
}

#[tokio::test]
async fn assignable_search_rejects_missing_context_and_hides_restricted_projects() {
    let sim = TestSim::start().await;
    for path in [
        "/user/assignable/search?query=bo",
        &format!("/user/assignable/search?project=DEMO&query=bo&accountId={BOB}"),
        "/user/assignable/search?issueId=abc",
    ] {
        let (status, body) = admin_get(&sim, path).await;
        assert_eq!(status, 400, "{path} -> {body}");
        assert_matches_spec("get", ASSIGNABLE, 400, &body);
    }
    let (status, body) = send_json(as_user(
        &sim,
        BOB,
        Method::GET,
        "/user/assignable/search?project=SEC",
    ))
    .await;
    assert_eq!(status, 404);
    assert_matches_spec("get", ASSIGNABLE, 404, &body);
    let (status, _) = admin_get(&sim, "/user/assignable/search?issueKey=NOPE-1").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn user_bulk_returns_the_named_site_users_as_a_page() {
    let sim = TestSim::start().await;
    let path = format!("/user/bulk?accountId={BOB}&accountId={KIRI}&accountId=unknown-account");
    let (status, body) = admin_get(&sim, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("get", USER_BULK, 200, &body);
    let ids: Vec<&str> = body["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|u| u["accountId"].as_str().expect("accountId"))
        .collect();
    assert_eq!(ids, vec![BOB, KIRI]);
    assert_eq!(body["total"], 2);

    let (status, body) = admin_get(&sim, &format!("{path}&maxResults=1")).await;
    assert_eq!(status, 200);
    assert_matches_spec("get", USER_BULK, 200, &body);
    assert_eq!(body["isLast"], false);
    assert!(
        body["nextPage"]
            .as_str()
            .expect("nextPage")
            .contains("startAt=1")
    );

    let (status, body) = admin_get(&sim, "/user/bulk").await;
    assert_eq!(status, 400);
    assert_matches_spec("get", USER_BULK, 400, &body);
}
