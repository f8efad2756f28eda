//! The small read endpoints clients use for pickers and access checks: `mypermissions`, labels,
//! priority search, project statuses, assignable users and users by account id.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ADA, BOB, JO, KIRI, SAM, as_user};
use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, admin_get, send_json};

const MY_PERMISSIONS: &str = "/rest/api/3/mypermissions";
const LABELS: &str = "/rest/api/3/label";
const PRIORITY_SEARCH: &str = "/rest/api/3/priority/search";
const PROJECT_STATUSES: &str = "/rest/api/3/project/{projectIdOrKey}/statuses";
const ASSIGNABLE: &str = "/rest/api/3/user/assignable/search";
const USER_BULK: &str = "/rest/api/3/user/bulk";

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
