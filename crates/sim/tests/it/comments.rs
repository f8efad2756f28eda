//! Issue comments over HTTP: listing and paging, adding (ADF only, empty bodies, limits),
//! visibility restrictions, who may edit and delete, `comment/list`, scopes, and the issue's
//! `updated` bump.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, as_user, issue_updated, send_json};
use jiraflow_sim::seed::{
    ACME_CLOUD_ID, ADMIN_ACCOUNT, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT, MEMBER_PLUS13_ACCOUNT,
    SECURITY_ACCOUNT, adf_paragraph,
};

const LIST: &str = "/rest/api/3/issue/{issueIdOrKey}/comment";
const ONE: &str = "/rest/api/3/issue/{issueIdOrKey}/comment/{id}";

fn comment_ids(page: &Value) -> Vec<String> {
    page["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| c["id"].as_str().expect("string id").to_owned())
        .collect()
}

#[tokio::test]
async fn listing_comments_returns_a_page_of_comments_oldest_first() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(sim.admin(Method::GET, "/issue/DEMO-3/comment")).await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("GET", LIST, 200, &body);
    assert_eq!(body["startAt"], 0);
    assert_eq!(body["maxResults"], 100);
    assert_eq!(body["total"], 2);
    let comments = body["comments"].as_array().expect("comments");
    assert!(comments[0]["created"].as_str() < comments[1]["created"].as_str());
    let first = &comments[0];
    assert_eq!(first["author"]["accountId"], JIRA_ADMIN_ACCOUNT);
    assert_eq!(first["jsdPublic"], true);
    assert_eq!(first["body"]["type"], "doc");
    let issue_id = sim.sim.state.world.read().sites[ACME_CLOUD_ID]
        .jira
        .resolve_issue("DEMO-3")
        .expect("issue");
    assert!(first["self"].as_str().expect("self").ends_with(&format!(
        "/rest/api/3/issue/{issue_id}/comment/{}",
        first["id"].as_str().expect("id")
    )));
    assert!(first.get("renderedBody").is_none());
}

#[tokio::test]
async fn comments_can_be_ordered_newest_first_but_by_nothing_except_created() {
    let sim = TestSim::start().await;
    let (_, ascending) =
        send_json(sim.admin(Method::GET, "/issue/DEMO-3/comment?orderBy=%2Bcreated")).await;
    let (status, descending) =
        send_json(sim.admin(Method::GET, "/issue/DEMO-3/comment?orderBy=-created")).await;
    assert_eq!(status, 200);
    let mut reversed = comment_ids(&ascending);
    reversed.reverse();
    assert_eq!(comment_ids(&descending), reversed);
    let (status, body) =
        send_json(sim.admin(Method::GET, "/issue/DEMO-3/comment?orderBy=updated")).await;
    assert_eq!(status, 400, "{body}");
    assert!(!body["errorMessages"][0].as_str().unwrap_or("").is_empty());
}

#[tokio::test]
async fn comments_are_paged_with_start_at_and_max_results() {
    let sim = TestSim::start().await;
    let (_, all) = send_json(sim.admin(Method::GET, "/issue/DEMO-3/comment")).await;
    let (status, page) = send_json(sim.admin(
        Method::GET,
        "/issue/DEMO-3/comment?startAt=1&maxResults=1&expand=renderedBody",
    ))
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", LIST, 200, &page);
    assert_eq!(page["startAt"], 1);
    assert_eq!(page["maxResults"], 1);
    assert_eq!(page["total"], 2);
    assert_eq!(comment_ids(&page), vec![comment_ids(&all)[1].clone()]);
    assert_eq!(
        page["comments"][0]["renderedBody"],
        "<p>Comment 2 on this issue.</p>"
    );
}

#[tokio::test]
async fn adding_a_comment_returns_201_bumps_the_issue_and_can_be_read_back() {
    let sim = TestSim::start().await;
    let before = issue_updated(&sim, "DEMO-1");
    let (status, created) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-1/comment?expand=renderedBody")
            .json(&json!({ "body": adf_paragraph("Shipped <today>") })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_matches_spec("POST", LIST, 201, &created);
    assert_eq!(created["author"]["accountId"], ADMIN_ACCOUNT);
    assert_eq!(created["updateAuthor"]["accountId"], ADMIN_ACCOUNT);
    assert_eq!(created["created"], created["updated"]);
    assert_eq!(created["renderedBody"], "<p>Shipped &lt;today&gt;</p>");
    assert!(issue_updated(&sim, "DEMO-1") > before);

    let id = created["id"].as_str().expect("string id");
    let (status, fetched) =
        send_json(sim.admin(Method::GET, &format!("/issue/demo-1/comment/{id}"))).await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", ONE, 200, &fetched);
    assert_eq!(fetched["body"], adf_paragraph("Shipped <today>"));
    let (_, page) = send_json(sim.admin(Method::GET, "/issue/DEMO-1/comment")).await;
    assert_eq!(page["total"], 1);
}

#[tokio::test]
async fn adding_a_comment_with_a_plain_string_body_is_rejected_like_jira() {
    let sim = TestSim::start().await;
    for body in [
        json!("Looks good"),
        json!({"type": "doc", "version": 1, "content": [{"type": "sparkle"}]}),
    ] {
        let (status, answer) = send_json(
            sim.admin(Method::POST, "/issue/DEMO-1/comment")
                .json(&json!({ "body": body })),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            answer,
            json!({"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}})
        );
    }
}

#[tokio::test]
async fn adding_a_comment_without_a_body_or_with_an_empty_document_is_rejected() {
    let sim = TestSim::start().await;
    for request in [
        json!({}),
        json!({"body": ""}),
        json!({"body": {"type": "doc", "version": 1, "content": []}}),
    ] {
        let (status, answer) = send_json(
            sim.admin(Method::POST, "/issue/DEMO-1/comment")
                .json(&request),
        )
        .await;
        assert_eq!(status, 400, "{request}");
        assert_eq!(
            answer["errors"]["comment"],
            "Comment body can not be empty!"
        );
    }
    let (status, answer) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-1/comment")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["errors"], json!({}));
}

#[tokio::test]
async fn comments_of_issues_the_caller_cannot_browse_answer_like_missing_issues() {
    let sim = TestSim::start().await;
    let not_found = json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}});
    let (status, body) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        "/issue/SEC-3/comment",
    ))
    .await;
    assert_eq!((status, &body), (404, &not_found));
    let (status, body) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/issue/SEC-3/comment")
            .json(&json!({ "body": adf_paragraph("hi") })),
    )
    .await;
    assert_eq!((status, &body), (404, &not_found));
    let (status, body) = send_json(sim.admin(Method::GET, "/issue/NOPE-1/comment")).await;
    assert_eq!((status, &body), (404, &not_found));
    let (status, _) = send_json(as_user(
        &sim,
        SECURITY_ACCOUNT,
        Method::GET,
        "/issue/SEC-3/comment",
    ))
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_group_restricted_comment_is_invisible_to_non_members() {
    let sim = TestSim::start().await;
    let (status, created) = send_json(
        as_user(
            &sim,
            SECURITY_ACCOUNT,
            Method::POST,
            "/issue/DEMO-1/comment",
        )
        .json(&json!({
            "body": adf_paragraph("For the security team only"),
            "visibility": {"type": "group", "value": "security-team"}
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_matches_spec("POST", LIST, 201, &created);
    assert_eq!(created["visibility"]["type"], "group");
    assert_eq!(created["visibility"]["value"], "security-team");
    assert!(created["visibility"]["identifier"].is_string());
    let id = created["id"].as_str().expect("id").to_owned();

    let (_, page) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        "/issue/DEMO-1/comment",
    ))
    .await;
    assert_eq!(page["total"], 0);
    let (status, body) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        &format!("/issue/DEMO-1/comment/{id}"),
    ))
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errorMessages"][0],
        format!("Can not find a comment for the id: {id}.")
    );
    let (_, listed) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/comment/list")
            .json(&json!({ "ids": [id.parse::<u64>().expect("numeric")] })),
    )
    .await;
    assert_eq!(listed["total"], 0);
    let (_, page) = send_json(as_user(
        &sim,
        SECURITY_ACCOUNT,
        Method::GET,
        "/issue/DEMO-1/comment",
    ))
    .await;
    assert_eq!(page["total"], 1);
}

#[tokio::test]
async fn restricting_a_comment_to_a_group_or_role_the_caller_lacks_is_rejected() {
    let sim = TestSim::start().await;
    let cases = [
        (
            json!({"type": "group", "value": "security-team"}),
            "You are currently not a member of the group: security-team.",
        ),
        (
            json!({"type": "group", "value": "no-such-group"}),
            "Group: no-such-group does not exist.",
        ),
        (
            json!({"type": "role", "value": "Administrators"}),
            "You are currently not a member of the project role: Administrators.",
        ),
    ];
    for (visibility, message) in cases {
        let (status, body) = send_json(
            as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/issue/DEMO-1/comment").json(&json!({
                "body": adf_paragraph("secret"),
                "visibility": visibility
            })),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"errorMessages": [], "errors": {"commentLevel": message}})
        );
    }
    let (status, created) = send_json(
        as_user(
            &sim,
            JIRA_ADMIN_ACCOUNT,
            Method::POST,
            "/issue/DEMO-1/comment",
        )
        .json(&json!({
            "body": adf_paragraph("admins only"),
            "visibility": {"type": "role", "value": "Administrators"}
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (_, page) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        "/issue/DEMO-1/comment",
    ))
    .await;
    assert_eq!(
        page["total"], 0,
        "a role-restricted comment is hidden from non-holders"
    );
}

#[tokio::test]
async fn only_the_author_or_a_project_administrator_may_edit_a_comment() {
    let sim = TestSim::start().await;
    // DEMO-2's only comment is Kiri's.
    let (_, page) = send_json(sim.admin(Method::GET, "/issue/DEMO-2/comment")).await;
    let id = comment_ids(&page)[0].clone();
    let path = format!("/issue/DEMO-2/comment/{id}");
    assert_eq!(
        page["comments"][0]["author"]["accountId"],
        MEMBER_PLUS13_ACCOUNT
    );

    let (status, body) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::PUT, &path)
            .json(&json!({"body": adf_paragraph("mine now")})),
    )
    .await;
    assert_eq!(status, 400, "Jira answers 400, not 403");
    assert_eq!(
        body,
        json!({"errorMessages": ["You do not have the permission to edit this comment."], "errors": {}})
    );

    let before = issue_updated(&sim, "DEMO-2");
    let (status, edited) = send_json(
        as_user(
            &sim,
            MEMBER_PLUS13_ACCOUNT,
            Method::PUT,
            &format!("{path}?notifyUsers=false"),
        )
        .json(&json!({"body": adf_paragraph("Edited by its author")})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_matches_spec("PUT", ONE, 200, &edited);
    assert_eq!(edited["body"], adf_paragraph("Edited by its author"));
    assert_ne!(edited["created"], edited["updated"]);
    assert!(issue_updated(&sim, "DEMO-2") > before);

    let (status, edited) = send_json(
        as_user(&sim, JIRA_ADMIN_ACCOUNT, Method::PUT, &path)
            .json(&json!({"body": adf_paragraph("Moderated")})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(edited["author"]["accountId"], MEMBER_PLUS13_ACCOUNT);
    assert_eq!(edited["updateAuthor"]["accountId"], JIRA_ADMIN_ACCOUNT);

    let (status, body) = send_json(
        sim.admin(Method::PUT, &path)
            .json(&json!({"body": "plain"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["comment"], "Comment body is not valid!");
}

#[tokio::test]
async fn deleting_a_comment_returns_204_and_leaves_it_not_found() {
    let sim = TestSim::start().await;
    let (_, page) = send_json(sim.admin(Method::GET, "/issue/DEMO-2/comment")).await;
    let id = comment_ids(&page)[0].clone();
    let path = format!("/issue/DEMO-2/comment/{id}");
    let (status, body) = send_json(as_user(&sim, MEMBER_ACCOUNT, Method::DELETE, &path)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errorMessages"][0],
        format!("You do not have permission to delete comment with id: {id}")
    );
    let (status, body) =
        send_json(as_user(&sim, MEMBER_PLUS13_ACCOUNT, Method::DELETE, &path)).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, Value::Null);
    let (status, body) = send_json(sim.admin(Method::GET, &path)).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errorMessages"][0],
        format!("Can not find a comment for the id: {id}.")
    );
    let (status, _) = send_json(sim.admin(Method::DELETE, &path)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_comment_asked_for_under_another_issue_is_not_found() {
    let sim = TestSim::start().await;
    let (_, page) = send_json(sim.admin(Method::GET, "/issue/DEMO-2/comment")).await;
    let id = comment_ids(&page)[0].clone();
    let (status, body) =
        send_json(sim.admin(Method::GET, &format!("/issue/DEMO-3/comment/{id}"))).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errorMessages"][0],
        "No comment with given ID found for issue DEMO-3"
    );
    let (status, body) = send_json(sim.admin(Method::GET, "/issue/DEMO-3/comment/piolho")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errorMessages"][0],
        "Can not find a comment for the id: piolho."
    );
}

#[tokio::test]
async fn comment_list_returns_the_visible_comments_with_properties_on_request() {
    let sim = TestSim::start().await;
    let (status, created) = send_json(sim.admin(Method::POST, "/issue/DEMO-1/comment").json(
        &json!({
            "body": adf_paragraph("with a marker"),
            "properties": [{"key": "jiraflow.external-id", "value": {"id": "ext-1"}}]
        }),
    ))
    .await;
    assert_eq!(status, 201);
    let new_id: u64 = created["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("numeric");
    let (_, page) = send_json(sim.admin(Method::GET, "/issue/DEMO-3/comment")).await;
    let mut ids: Vec<u64> = comment_ids(&page)
        .iter()
        .map(|i| i.parse().expect("numeric"))
        .collect();
    ids.push(new_id);
    ids.push(999_999_999);
    // A comment on the restricted project: Bob must not get it.
    let sec_comment = {
        let (_, sec) = send_json(sim.admin(Method::GET, "/issue/SEC-2/comment")).await;
        comment_ids(&sec)[0].parse::<u64>().expect("numeric")
    };
    ids.push(sec_comment);

    let (status, body) = send_json(
        sim.admin(Method::POST, "/comment/list?expand=properties,renderedBody")
            .json(&json!({ "ids": ids })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("POST", "/rest/api/3/comment/list", 200, &body);
    assert_eq!(body["total"], 4);
    assert_eq!(body["isLast"], true);
    let values = body["values"].as_array().expect("values");
    let marked = values
        .iter()
        .find(|c| c["id"] == json!(new_id.to_string()))
        .expect("new comment listed");
    assert_eq!(
        marked["properties"],
        json!([{"key": "jiraflow.external-id", "value": {"id": "ext-1"}}])
    );
    assert!(marked["renderedBody"].is_string());

    let (_, as_bob) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/comment/list").json(&json!({ "ids": ids })),
    )
    .await;
    assert_eq!(as_bob["total"], 3);
    assert!(as_bob["values"][0].get("properties").is_none());

    let (status, _) = send_json(
        sim.admin(Method::POST, "/comment/list")
            .json(&json!({ "ids": [] })),
    )
    .await;
    assert_eq!(status, 400);
    let too_many: Vec<u64> = (1..=1001).collect();
    let (status, _) = send_json(
        sim.admin(Method::POST, "/comment/list")
            .json(&json!({ "ids": too_many })),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn comment_writes_need_the_write_scope_and_reads_the_read_scope() {
    let sim = TestSim::start().await;
    let scope_error = json!({"code": 401, "message": "Unauthorized; scope does not match"});
    let reader = sim.token_for(MEMBER_ACCOUNT, &["read:jira-work"]);
    let (status, body) = send_json(
        sim.http
            .post(sim.api("/issue/DEMO-1/comment"))
            .bearer_auth(&reader)
            .json(&json!({"body": adf_paragraph("hi")})),
    )
    .await;
    assert_eq!((status, &body), (401, &scope_error));
    let (status, _) = send_json(
        sim.http
            .get(sim.api("/issue/DEMO-1/comment"))
            .bearer_auth(&reader),
    )
    .await;
    assert_eq!(status, 200);
    let writer = sim.token_for(MEMBER_ACCOUNT, &["write:jira-work"]);
    let (status, body) = send_json(
        sim.http
            .get(sim.api("/issue/DEMO-1/comment"))
            .bearer_auth(&writer),
    )
    .await;
    assert_eq!((status, &body), (401, &scope_error));
}

#[tokio::test]
async fn adding_a_comment_beyond_the_per_issue_limit_is_a_413() {
    let sim = TestSim::start().await;
    if let Some(site) = sim.sim.state.world.write().site_mut(ACME_CLOUD_ID) {
        site.jira.settings.max_comments_per_issue = 2;
    }
    let (status, body) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-3/comment")
            .json(&json!({"body": adf_paragraph("one too many")})),
    )
    .await;
    assert_eq!(status, 413);
    assert!(body["errorMessages"][0].is_string());
    let (status, _) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-2/comment")
            .json(&json!({"body": adf_paragraph("still room")})),
    )
    .await;
    assert_eq!(status, 201);
}
