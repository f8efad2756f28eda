//! Watchers (bare-string bodies, who may add whom, removal) and issue links (types, creation with
//! Jira's empty 201, idempotent duplicates, comments on the outward issue, deletion, errors).

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, as_user, edit_site_settings, issue_updated, send_json};
use jiraflow_sim::seed::{
    ACME_CLOUD_ID, ADMIN_ACCOUNT, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT, adf_paragraph,
};

const WATCHERS: &str = "/rest/api/3/issue/{issueIdOrKey}/watchers";

fn watcher_ids(body: &Value) -> Vec<String> {
    body["watchers"]
        .as_array()
        .expect("watchers")
        .iter()
        .map(|w| w["accountId"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn adding_a_watcher_takes_a_bare_json_string_and_does_not_bump_updated() {
    let sim = TestSim::start().await;
    let before = issue_updated(&sim, "DEMO-2");
    let (status, body) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-2/watchers")
            .header("Content-Type", "application/json")
            .body(format!("\"{MEMBER_ACCOUNT}\"")),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = send_json(sim.admin(Method::GET, "/issue/DEMO-2/watchers")).await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", WATCHERS, 200, &body);
    assert!(watcher_ids(&body).contains(&MEMBER_ACCOUNT.to_owned()));
    assert_eq!(
        body["watchCount"].as_u64(),
        Some(watcher_ids(&body).len() as u64)
    );
    assert_eq!(issue_updated(&sim, "DEMO-2"), before);
}

#[tokio::test]
async fn an_object_body_is_rejected_and_an_empty_body_adds_the_caller() {
    let sim = TestSim::start().await;
    let (status, _) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-2/watchers")
            .json(&json!({ "accountId": MEMBER_ACCOUNT })),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/issue/DEMO-2/watchers")
            .header("Content-Type", "application/json"),
    )
    .await;
    assert_eq!(status, 204);
    let (_, body) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        "/issue/DEMO-2/watchers",
    ))
    .await;
    assert_eq!(body["isWatching"], true);
}

#[tokio::test]
async fn only_watcher_managers_may_add_or_remove_someone_else() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/issue/DEMO-2/watchers")
            .json(&json!(JIRA_ADMIN_ACCOUNT)),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = send_json(
        as_user(
            &sim,
            JIRA_ADMIN_ACCOUNT,
            Method::POST,
            "/issue/DEMO-2/watchers",
        )
        .json(&json!(MEMBER_ACCOUNT)),
    )
    .await;
    assert_eq!(status, 204, "a Jira admin manages watcher lists");
    let (status, _) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-2/watchers")
            .json(&json!("no-such-account")),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::DELETE,
        &format!("/issue/DEMO-2/watchers?accountId={ADMIN_ACCOUNT}"),
    ))
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn removing_a_watcher_needs_an_account_id() {
    let sim = TestSim::start().await;
    let (status, _) = send_json(sim.admin(Method::DELETE, "/issue/DEMO-2/watchers")).await;
    assert_eq!(status, 400);
    let (status, _) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-2/watchers")
            .json(&json!(MEMBER_ACCOUNT)),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send_json(sim.admin(
        Method::DELETE,
        &format!("/issue/DEMO-2/watchers?accountId={MEMBER_ACCOUNT}"),
    ))
    .await;
    assert_eq!(status, 204);
    let (_, body) = send_json(sim.admin(Method::GET, "/issue/DEMO-2/watchers")).await;
    assert!(!watcher_ids(&body).contains(&MEMBER_ACCOUNT.to_owned()));
}

#[tokio::test]
async fn watchers_of_hidden_issues_and_with_watching_disabled_answer_404() {
    let sim = TestSim::start().await;
    let (status, _) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        "/issue/SEC-1/watchers",
    ))
    .await;
    assert_eq!(status, 404);
    edit_site_settings(&sim, |s| s.watching_enabled = false);
    let (status, _) = send_json(sim.admin(Method::GET, "/issue/DEMO-2/watchers")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn link_types_are_listed_in_the_specs_shape() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(sim.admin(Method::GET, "/issueLinkType")).await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", "/rest/api/3/issueLinkType", 200, &body);
    let blocks = &body["issueLinkTypes"][0];
    assert_eq!(blocks["name"], "Blocks");
    let (status, one) = send_json(sim.admin(Method::GET, "/issueLinkType/10000")).await;
    assert_eq!(status, 200);
    assert_matches_spec(
        "GET",
        "/rest/api/3/issueLinkType/{issueLinkTypeId}",
        200,
        &one,
    );
    let (status, _) = send_json(sim.admin(Method::GET, "/issueLinkType/999")).await;
    assert_eq!(status, 404);
}

fn link_ids(sim: &TestSim, inward: &str, outward: &str) -> Vec<u64> {
    let world = sim.sim.state.world.read();
    let jira = &world.site(ACME_CLOUD_ID).expect("site").jira;
    let (i, o) = (
        jira.resolve_issue(inward).expect("inward"),
        jira.resolve_issue(outward).expect("outward"),
    );
    jira.links
        .values()
        .filter(|l| l.inward_issue_id == i && l.outward_issue_id == o)
        .map(|l| l.id)
        .collect()
}

#[tokio::test]
async fn creating_a_link_answers_201_with_no_body_and_a_duplicate_makes_no_second_link() {
    let sim = TestSim::start().await;
    let (before_in, before_out) = (
        issue_updated(&sim, "DEMO-10"),
        issue_updated(&sim, "DEMO-11"),
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let request = json!({
        "type": { "name": "Blocks" },
        "inwardIssue": { "key": "DEMO-10" },
        "outwardIssue": { "key": "DEMO-11" },
    });
    let (status, body) = send_json(sim.admin(Method::POST, "/issueLink").json(&request)).await;
    assert_eq!(status, 201);
    assert_eq!(body, Value::Null, "Jira returns no body and no id");
    assert!(issue_updated(&sim, "DEMO-10") > before_in);
    assert!(issue_updated(&sim, "DEMO-11") > before_out);
    let (status, _) = send_json(sim.admin(Method::POST, "/issueLink").json(&request)).await;
    assert_eq!(status, 201);
    let ids = link_ids(&sim, "DEMO-10", "DEMO-11");
    assert_eq!(
        ids.len(),
        1,
        "the duplicate is reported as created but not made"
    );
    let (status, link) = send_json(sim.admin(Method::GET, &format!("/issueLink/{}", ids[0]))).await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", "/rest/api/3/issueLink/{linkId}", 200, &link);
    assert_eq!(link["outwardIssue"]["key"], "DEMO-11");
    assert_eq!(link["type"]["outward"], "blocks");
    let world = sim.sim.state.world.read();
    let jira = &world.site(ACME_CLOUD_ID).expect("site").jira;
    let outward = &jira.issues[&jira.resolve_issue("DEMO-11").expect("issue")];
    let item = &outward.changelog.last().expect("changelog").items[0];
    assert_eq!(item.field, "Link");
    assert_eq!(item.to_string.as_deref(), Some("This issue blocks DEMO-10"));
}

#[tokio::test]
async fn a_links_comment_goes_to_the_outward_issue_and_a_bad_one_prevents_the_link() {
    let sim = TestSim::start().await;
    let bad = json!({
        "type": { "id": "10003" },
        "inwardIssue": { "key": "DEMO-12" },
        "outwardIssue": { "key": "DEMO-13" },
        "comment": { "body": "plain text is not ADF" },
    });
    let (status, body) = send_json(sim.admin(Method::POST, "/issueLink").json(&bad)).await;
    assert_eq!(status, 400, "{body}");
    assert!(link_ids(&sim, "DEMO-12", "DEMO-13").is_empty());
    let comments = |key: &str| {
        let world = sim.sim.state.world.read();
        let jira = &world.site(ACME_CLOUD_ID).expect("site").jira;
        jira.issues[&jira.resolve_issue(key).expect("issue")]
            .comments
            .len()
    };
    let (in_before, out_before) = (comments("DEMO-12"), comments("DEMO-13"));
    let good = json!({
        "type": { "id": "10003" },
        "inwardIssue": { "key": "DEMO-12" },
        "outwardIssue": { "key": "DEMO-13" },
        "comment": { "body": adf_paragraph("Linked related issue!") },
    });
    let (status, _) = send_json(sim.admin(Method::POST, "/issueLink").json(&good)).await;
    assert_eq!(status, 201);
    assert_eq!(comments("DEMO-13"), out_before + 1);
    assert_eq!(comments("DEMO-12"), in_before);
}

#[tokio::test]
async fn unknown_types_and_issues_answer_404_and_missing_parts_400() {
    let sim = TestSim::start().await;
    let cases = [
        (
            json!({"type": {"name": "Nope"}, "inwardIssue": {"key": "DEMO-1"}, "outwardIssue": {"key": "DEMO-2"}}),
            404,
        ),
        (
            json!({"type": {"name": "Blocks"}, "inwardIssue": {"key": "DEMO-999"}, "outwardIssue": {"key": "DEMO-2"}}),
            404,
        ),
        (
            json!({"type": {"name": "Blocks"}, "inwardIssue": {"key": "DEMO-1"}}),
            400,
        ),
        (
            json!({"type": {"name": "Blocks"}, "inwardIssue": {"key": "DEMO-1"}, "outwardIssue": {"key": "DEMO-1"}}),
            400,
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = send_json(sim.admin(Method::POST, "/issueLink").json(&body)).await;
        assert_eq!(status, expected, "{body} -> {answer}");
    }
    let (status, _) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/issueLink").json(&json!({
            "type": {"name": "Blocks"}, "inwardIssue": {"key": "SEC-1"}, "outwardIssue": {"key": "DEMO-2"}
        })),
    )
    .await;
    assert_eq!(status, 404, "an issue the caller cannot browse");
}

#[tokio::test]
async fn deleting_a_link_answers_204_and_it_is_gone() {
    let sim = TestSim::start().await;
    let request = json!({
        "type": { "name": "Duplicate" },
        "inwardIssue": { "key": "DEMO-14" },
        "outwardIssue": { "key": "DEMO-15" },
    });
    let (status, _) = send_json(sim.admin(Method::POST, "/issueLink").json(&request)).await;
    assert_eq!(status, 201);
    let id = link_ids(&sim, "DEMO-14", "DEMO-15")[0];
    let (status, _) = send_json(sim.admin(Method::DELETE, &format!("/issueLink/{id}"))).await;
    assert_eq!(status, 204);
    let (status, _) = send_json(sim.admin(Method::GET, &format!("/issueLink/{id}"))).await;
    assert_eq!(status, 404);
    let (status, _) = send_json(sim.admin(Method::DELETE, "/issueLink/abc")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn linking_disabled_answers_404() {
    let sim = TestSim::start().await;
    edit_site_settings(&sim, |s| s.linking_enabled = false);
    let (status, _) = send_json(sim.admin(Method::GET, "/issueLinkType")).await;
    assert_eq!(status, 404);
    let (status, _) = send_json(sim.admin(Method::POST, "/issueLink").json(&json!({
        "type": {"name": "Blocks"}, "inwardIssue": {"key": "DEMO-1"}, "outwardIssue": {"key": "DEMO-2"}
    })))
    .await;
    assert_eq!(status, 404);
}
