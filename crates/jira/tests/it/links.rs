//! Issue links and link types against the simulator, with a snapshot of the create body.

#![allow(clippy::unwrap_used)]

use jiraflow_jira::ids::IssueLinkId;
use jiraflow_jira::ops::links::LinkTypeRef;
use jiraflow_jira::wire::comment::Visibility;
use jiraflow_jira::{ApiRequest, Error, JiraClient};
use jiraflow_sim::seed::{CLASSIC_SCOPES, MEMBER_ACCOUNT};
use serde_json::{Value, json};

use crate::core::{admin, client, start_sim, token_for};
use crate::support::{adf, assert_request_matches_spec, body_json, offline};

/// The ids of `issue`'s links to `other` (create answers no id: this is how to find it).
async fn link_ids(jira: &JiraClient, issue: &str, other: &str) -> Vec<IssueLinkId> {
    let bean: Value = jira
        .send(
            ApiRequest::get("/issue/{issueIdOrKey}")
                .param(issue)
                .query("fields", "issuelinks"),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    bean["fields"]["issuelinks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["inwardIssue"]["key"] == other || l["outwardIssue"]["key"] == other)
        .map(|l| IssueLinkId::new(l["id"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn link_types_are_listed_and_fetched_by_id() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let types = jira.issue_links().types().await.unwrap();
    let blocks = types
        .iter()
        .find(|t| t.name.as_deref() == Some("Blocks"))
        .unwrap();
    assert_eq!(blocks.outward.as_deref(), Some("blocks"));
    let again = jira
        .issue_links()
        .link_type(blocks.id.clone().unwrap())
        .await
        .unwrap();
    assert_eq!(again.name.as_deref(), Some("Blocks"));
    let error = jira.issue_links().link_type("99999").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_link_is_created_with_a_comment_read_back_and_deleted() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let before = jira.comments().list("DEMO-10").send().await.unwrap().total;
    jira.issue_links()
        .create(LinkTypeRef::Name("Blocks".into()), "DEMO-10", "DEMO-11")
        .comment(adf("DEMO-10 blocks DEMO-11"))
        .send()
        .await
        .unwrap();
    // The comment lands on the outward issue.
    let after = jira.comments().list("DEMO-10").send().await.unwrap().total;
    assert_eq!(after, before.map(|n| n + 1));
    let ids = link_ids(&jira, "DEMO-10", "DEMO-11").await;
    assert_eq!(ids.len(), 1);
    let link = jira.issue_links().get(ids[0].clone()).await.unwrap();
    assert_eq!(link.outward_issue.unwrap().key.unwrap().as_str(), "DEMO-10");
    assert_eq!(link.inward_issue.unwrap().key.unwrap().as_str(), "DEMO-11");
    // A duplicate is reported as created and adds no second link.
    jira.issue_links()
        .create(LinkTypeRef::Name("Blocks".into()), "DEMO-10", "DEMO-11")
        .send()
        .await
        .unwrap();
    assert_eq!(link_ids(&jira, "DEMO-10", "DEMO-11").await.len(), 1);
    jira.issue_links().delete(ids[0].clone()).await.unwrap();
    let error = jira.issue_links().get(ids[0].clone()).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn linking_to_a_hidden_or_unknown_issue_is_not_found() {
    let sim = start_sim().await;
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob
        .issue_links()
        .create(LinkTypeRef::Name("Blocks".into()), "DEMO-1", "SEC-1")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let error = admin(&sim)
        .issue_links()
        .create(LinkTypeRef::Name("No Such Type".into()), "DEMO-1", "DEMO-2")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_malformed_adf_link_comment_is_refused_before_sending() {
    let error = offline()
        .issue_links()
        .create(LinkTypeRef::Name("Blocks".into()), "DEMO-1", "DEMO-2")
        .comment(json!({"type": "doc", "version": 2, "content": []}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
}

#[test]
fn link_bodies_are_stable() {
    let jira = offline();
    let by_name = jira
        .issue_links()
        .create(LinkTypeRef::Name("Blocks".into()), "DEMO-1", "10002")
        .comment(adf("Linked by a flow"))
        .comment_visibility(Visibility::role("Developers"))
        .request()
        .unwrap();
    insta::assert_json_snapshot!("create_link_body", body_json(&by_name));
    assert_request_matches_spec(&by_name);
    let by_id = jira
        .issue_links()
        .create(LinkTypeRef::Id("10000".into()), "10001", "DEMO-2")
        .request()
        .unwrap();
    insta::assert_json_snapshot!("create_link_by_id_body", body_json(&by_id));
    assert_request_matches_spec(&by_id);
}
