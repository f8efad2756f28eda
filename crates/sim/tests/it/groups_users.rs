//! Users and groups over HTTP: user search (names, visible e-mails, paging, required
//! parameters), user lookup, group create/remove (site admins only), bulk lookup, members,
//! adding and removing members, and the group picker.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, as_user, send_json};
use jiraflow_sim::seed::{
    ADMIN_ACCOUNT, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT, MEMBER_PLUS13_ACCOUNT, SECURITY_ACCOUNT,
};

fn account_ids(users: &Value) -> Vec<String> {
    users
        .as_array()
        .expect("array")
        .iter()
        .map(|u| u["accountId"].as_str().expect("accountId").to_owned())
        .collect()
}

/// The id of group `name` via `group/bulk`.
async fn group_id(sim: &TestSim, name: &str) -> String {
    let (_, page) =
        send_json(sim.admin(Method::GET, &format!("/group/bulk?groupName={name}"))).await;
    page["values"][0]["groupId"]
        .as_str()
        .expect("group found")
        .to_owned()
}

#[tokio::test]
async fn user_search_matches_names_and_visible_emails_by_prefix() {
    let sim = TestSim::start().await;
    let (status, found) = send_json(sim.admin(Method::GET, "/user/search?query=bob")).await;
    assert_eq!(status, 200, "{found}");
    assert_matches_spec("GET", "/rest/api/3/user/search", 200, &found);
    assert_eq!(account_ids(&found), vec![MEMBER_ACCOUNT]);
    assert_eq!(found[0]["timeZone"], "Pacific/Honolulu");
    let (_, found) = send_json(sim.admin(Method::GET, "/user/search?query=BUILDER")).await;
    assert_eq!(account_ids(&found), vec![MEMBER_ACCOUNT]);
    let (_, found) = send_json(sim.admin(Method::GET, "/user/search?query=jo%40acme")).await;
    assert_eq!(account_ids(&found), vec![JIRA_ADMIN_ACCOUNT]);
    // Kiri hides her e-mail: it is neither shown nor searchable.
    let (_, found) = send_json(sim.admin(Method::GET, "/user/search?query=kiri%40")).await;
    assert_eq!(found, json!([]));
    let (_, found) = send_json(sim.admin(Method::GET, "/user/search?query=kiri")).await;
    assert_eq!(account_ids(&found), vec![MEMBER_PLUS13_ACCOUNT]);
    assert!(found[0].get("emailAddress").is_none());
    let (_, found) = send_json(sim.admin(
        Method::GET,
        &format!("/user/search?accountId={SECURITY_ACCOUNT}"),
    ))
    .await;
    assert_eq!(account_ids(&found), vec![SECURITY_ACCOUNT]);
}

#[tokio::test]
async fn user_search_needs_a_query_or_an_account_id_and_pages_its_results() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(sim.admin(Method::GET, "/user/search")).await;
    assert_eq!(status, 400);
    assert!(body["errorMessages"][0].is_string());
    let (status, _) = send_json(sim.admin(
        Method::GET,
        &format!("/user/search?query=a&accountId={ADMIN_ACCOUNT}"),
    ))
    .await;
    assert_eq!(status, 400);
    let (_, all) = send_json(sim.admin(Method::GET, "/users/search")).await;
    assert_eq!(all.as_array().expect("array").len(), 5);
    assert_matches_spec("GET", "/rest/api/3/users/search", 200, &all);
    let (_, page) = send_json(sim.admin(Method::GET, "/users/search?startAt=1&maxResults=2")).await;
    assert_eq!(account_ids(&page), account_ids(&all)[1..3].to_vec());
    let token = sim.token_for(MEMBER_ACCOUNT, &["read:jira-work"]);
    let (status, body) = send_json(
        sim.http
            .get(sim.api("/user/search?query=bob"))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code": 401, "message": "Unauthorized; scope does not match"})
    );
}

#[tokio::test]
async fn a_user_is_found_by_account_id_with_groups_on_request() {
    let sim = TestSim::start().await;
    let (status, user) = send_json(sim.admin(
        Method::GET,
        &format!("/user?accountId={SECURITY_ACCOUNT}&expand=groups"),
    ))
    .await;
    assert_eq!(status, 200, "{user}");
    assert_matches_spec("GET", "/rest/api/3/user", 200, &user);
    assert_eq!(user["displayName"], "Sam Secure");
    let names: Vec<&str> = user["groups"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|g| g["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["jira-software-users", "security-team"]);
    let (status, body) =
        send_json(sim.admin(Method::GET, "/user?accountId=5f1a0000000000000000ffff")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errorMessages"][0],
        "Specified user does not exist or you do not have required permissions"
    );
    let (status, groups) = send_json(sim.admin(
        Method::GET,
        &format!("/user/groups?accountId={MEMBER_ACCOUNT}"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", "/rest/api/3/user/groups", 200, &groups);
    assert_eq!(groups.as_array().expect("array").len(), 2);
}

#[tokio::test]
async fn a_site_admin_creates_and_removes_a_group() {
    let sim = TestSim::start().await;
    let (status, group) = send_json(
        sim.admin(Method::POST, "/group")
            .json(&json!({"name": "power-users"})),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    assert_matches_spec("POST", "/rest/api/3/group", 201, &group);
    assert_eq!(group["name"], "power-users");
    assert_eq!(group["users"]["size"], 0);
    let id = group["groupId"].as_str().expect("groupId").to_owned();
    assert!(
        group["self"]
            .as_str()
            .expect("self")
            .ends_with(&format!("/group?groupId={id}"))
    );

    let (status, body) = send_json(
        sim.admin(Method::POST, "/group")
            .json(&json!({"name": "Power-Users"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"errorMessages": ["A group with that name already exists."], "errors": {}})
    );
    let (status, _) = send_json(sim.admin(Method::POST, "/group").json(&json!({}))).await;
    assert_eq!(status, 400);

    let (status, body) = send_json(sim.admin(
        Method::DELETE,
        &format!("/group?groupId={id}&groupname=power-users"),
    ))
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        send_json(sim.admin(Method::DELETE, &format!("/group?groupId={id}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, Value::Null);
    let (status, _) = send_json(sim.admin(Method::DELETE, &format!("/group?groupId={id}"))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn group_changes_need_a_site_admin_even_for_jira_admins() {
    let sim = TestSim::start().await;
    for account in [MEMBER_ACCOUNT, JIRA_ADMIN_ACCOUNT] {
        let (status, body) = send_json(
            as_user(&sim, account, Method::POST, "/group").json(&json!({"name": "nope"})),
        )
        .await;
        assert_eq!(status, 403, "{body}");
    }
    let developers = group_id(&sim, "developers").await;
    let (status, _) = send_json(
        as_user(
            &sim,
            JIRA_ADMIN_ACCOUNT,
            Method::POST,
            &format!("/group/user?groupId={developers}"),
        )
        .json(&json!({"accountId": SECURITY_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 403);
    let token = sim.token_for(ADMIN_ACCOUNT, &["read:jira-user", "manage:jira-project"]);
    let (status, _) = send_json(
        sim.http
            .post(sim.api("/group"))
            .bearer_auth(token)
            .json(&json!({"name": "scoped-out"})),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn members_are_added_listed_and_removed() {
    let sim = TestSim::start().await;
    let developers = group_id(&sim, "developers").await;
    let (status, members) =
        send_json(sim.admin(Method::GET, &format!("/group/member?groupId={developers}"))).await;
    assert_eq!(status, 200, "{members}");
    assert_matches_spec("GET", "/rest/api/3/group/member", 200, &members);
    assert_eq!(members["total"], 2);

    let (status, group) = send_json(
        sim.admin(Method::POST, "/group/user?groupname=developers")
            .json(&json!({"accountId": SECURITY_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    assert_matches_spec("POST", "/rest/api/3/group/user", 201, &group);
    assert_eq!(group["users"]["size"], 3);

    let (status, body) = send_json(
        sim.admin(Method::POST, &format!("/group/user?groupId={developers}"))
            .json(&json!({"accountId": SECURITY_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errorMessages"][0],
        "Cannot add user. User is already a member of 'developers'."
    );
    let (status, _) = send_json(
        sim.admin(Method::POST, &format!("/group/user?groupId={developers}"))
            .json(&json!({"accountId": "5f1a0000000000000000ffff"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send_json(
        sim.admin(Method::POST, &format!("/group/user?groupId={developers}"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, page) = send_json(sim.admin(
        Method::GET,
        &format!("/group/member?groupId={developers}&startAt=1&maxResults=1"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", "/rest/api/3/group/member", 200, &page);
    assert_eq!(page["total"], 3);
    assert_eq!(page["isLast"], false);
    assert!(
        page["nextPage"]
            .as_str()
            .expect("nextPage")
            .contains("startAt=2")
    );

    let path = format!("/group/user?groupId={developers}&accountId={SECURITY_ACCOUNT}");
    let (status, body) = send_json(sim.admin(Method::DELETE, &path)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send_json(sim.admin(Method::DELETE, &path)).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) =
        send_json(sim.admin(Method::DELETE, &format!("/group/user?groupId={developers}"))).await;
    assert_eq!(status, 400, "accountId is required");
    let (status, _) =
        send_json(sim.admin(Method::GET, "/group/member?groupname=nobody-here")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn group_bulk_finds_groups_by_id_and_name() {
    let sim = TestSim::start().await;
    let (status, all) = send_json(sim.admin(Method::GET, "/group/bulk")).await;
    assert_eq!(status, 200, "{all}");
    assert_matches_spec("GET", "/rest/api/3/group/bulk", 200, &all);
    assert_eq!(all["total"], 4);
    let security = group_id(&sim, "security-team").await;
    let (_, some) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        &format!("/group/bulk?groupId={security}&groupName=DEVELOPERS"),
    ))
    .await;
    let names: Vec<&str> = some["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|g| g["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["developers", "security-team"]);
    let (_, paged) = send_json(sim.admin(Method::GET, "/group/bulk?startAt=3&maxResults=2")).await;
    assert_eq!(paged["values"].as_array().expect("values").len(), 1);
    assert_eq!(paged["isLast"], true);
}

#[tokio::test]
async fn the_group_picker_highlights_matches() {
    let sim = TestSim::start().await;
    let (status, found) = send_json(sim.admin(Method::GET, "/groups/picker?query=dev")).await;
    assert_eq!(status, 200, "{found}");
    assert_matches_spec("GET", "/rest/api/3/groups/picker", 200, &found);
    assert_eq!(found["total"], 1);
    assert_eq!(found["groups"][0]["name"], "developers");
    assert_eq!(found["groups"][0]["html"], "<b>dev</b>elopers");
    assert_eq!(found["header"], "Showing 1 of 1 matching groups");
    let (_, none) = send_json(sim.admin(Method::GET, "/groups/picker?query=DEV")).await;
    assert_eq!(none["total"], 0, "case-sensitive unless asked");
    let (_, found) =
        send_json(sim.admin(Method::GET, "/groups/picker?query=DEV&caseInsensitive=true")).await;
    assert_eq!(found["total"], 1);
    let (_, all) = send_json(sim.admin(Method::GET, "/groups/picker?maxResults=2")).await;
    assert_eq!(all["total"], 4);
    assert_eq!(all["groups"].as_array().expect("groups").len(), 2);
}

#[tokio::test]
async fn deleting_a_group_moves_comment_restrictions_to_the_swap_group() {
    let sim = TestSim::start().await;
    let (status, group) = send_json(
        sim.admin(Method::POST, "/group")
            .json(&json!({"name": "auditors"})),
    )
    .await;
    assert_eq!(status, 201);
    let auditors = group["groupId"].as_str().expect("id").to_owned();
    let (status, _) = send_json(
        sim.admin(Method::POST, &format!("/group/user?groupId={auditors}"))
            .json(&json!({"accountId": ADMIN_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, comment) = send_json(sim.admin(Method::POST, "/issue/DEMO-1/comment").json(
        &json!({
            "body": jiraflow_sim::seed::adf_paragraph("audit note"),
            "visibility": {"type": "group", "identifier": auditors}
        }),
    ))
    .await;
    assert_eq!(status, 201, "{comment}");
    let developers = group_id(&sim, "developers").await;
    let (status, body) = send_json(sim.admin(
        Method::DELETE,
        &format!("/group?groupId={auditors}&swapGroupId={developers}"),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    let id = comment["id"].as_str().expect("id");
    let (status, moved) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        &format!("/issue/DEMO-1/comment/{id}"),
    ))
    .await;
    assert_eq!(status, 200, "developers now see it: {moved}");
    assert_eq!(moved["visibility"]["value"], "developers");
}
