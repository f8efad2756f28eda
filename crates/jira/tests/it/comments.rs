//! Comments and entity properties against the simulator, plus snapshots of every comment and
//! property body the builders produce.

#![allow(clippy::unwrap_used)]

use futures_util::TryStreamExt;
use jiraflow_jira::ids::CommentId;
use jiraflow_jira::ops::comments::CommentOrder;
use jiraflow_jira::wire::comment::{Visibility, VisibilityKind};
use jiraflow_jira::wire::property::PropertyWrite;
use jiraflow_jira::{ApiRequest, Error};
use jiraflow_sim::seed::{CLASSIC_SCOPES, MEMBER_ACCOUNT};
use serde_json::json;

use crate::core::{admin, client, start_sim, token_for};
use crate::support::{adf, assert_request_matches_spec, body_json, offline};

#[tokio::test]
async fn a_comment_is_added_read_updated_listed_and_deleted() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let added = jira
        .comments()
        .add("DEMO-1", adf("first"))
        .property("jiraflow.external-id", json!({"id": "ext-1"}))
        .rendered_body()
        .send()
        .await
        .unwrap();
    assert_eq!(added.body, Some(adf("first")));
    assert!(added.created.is_some());
    assert!(added.rendered_body.is_some());

    let got = jira
        .comments()
        .get("DEMO-1", added.id.clone())
        .properties()
        .send()
        .await
        .unwrap();
    let props = got.properties.unwrap();
    assert_eq!(props[0].key, "jiraflow.external-id");
    assert_eq!(props[0].value, json!({"id": "ext-1"}));

    let updated = jira
        .comments()
        .update("DEMO-1", added.id.clone(), adf("second"))
        .notify_users(false)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.body, Some(adf("second")));

    let page = jira
        .comments()
        .list("DEMO-1")
        .order_by(CommentOrder::NewestFirst)
        .send()
        .await
        .unwrap();
    assert_eq!(page.comments[0].id, added.id);

    jira.comments()
        .delete("DEMO-1", added.id.clone())
        .send()
        .await
        .unwrap();
    let error = jira
        .comments()
        .get("DEMO-1", added.id)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_malformed_adf_body_is_refused_before_anything_is_sent() {
    let jira = offline();
    let error = jira
        .comments()
        .add("DEMO-1", json!({"type": "paragraph", "content": []}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
}

#[tokio::test]
async fn a_markdown_body_is_sent_as_adf_and_reads_back_as_a_document() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let request = jira
        .comments()
        .add("DEMO-1", "Deployed **v2**")
        .request()
        .unwrap();
    assert_eq!(body_json(&request)["body"]["type"], "doc");
    let added = jira
        .comments()
        .add("DEMO-1", "Deployed **v2**")
        .send()
        .await
        .unwrap();
    assert_eq!(added.body.unwrap()["type"], "doc");
}

#[tokio::test]
async fn the_comment_stream_follows_every_page_in_the_requested_order() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let before = jira.comments().list("OPS-1").send().await.unwrap();
    let existing = before.total.unwrap();
    for n in 0..5 {
        jira.comments()
            .add("OPS-1", adf(&format!("c{n}")))
            .send()
            .await
            .unwrap();
    }
    let all: Vec<_> = jira
        .comments()
        .list("OPS-1")
        .max_results(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len() as u64, existing + 5);
    let newest: Vec<_> = jira
        .comments()
        .list("OPS-1")
        .order_by(CommentOrder::NewestFirst)
        .max_results(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(newest.first().unwrap().body, Some(adf("c4")));
    let ids: Vec<_> = all.iter().rev().map(|c| c.id.clone()).collect();
    let newest_ids: Vec<_> = newest.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids, newest_ids);
}

#[tokio::test]
async fn comments_by_id_come_back_with_their_properties_and_unknown_ids_are_left_out() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let a = jira
        .comments()
        .add("DEMO-2", adf("a"))
        .property("marker", json!({"id": 7}))
        .send()
        .await
        .unwrap();
    let found = jira
        .comments()
        .by_ids([a.id.clone(), CommentId::new("99999999")])
        .properties()
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, a.id);
    assert_eq!(
        found[0].properties.as_ref().unwrap()[0].value,
        json!({"id": 7})
    );
    // No ids: no request at all.
    assert!(jira.comments().by_ids([]).send().await.unwrap().is_empty());
}

#[test]
fn comment_list_requests_are_chunked_at_a_thousand_ids_and_retry_safe() {
    let jira = offline();
    let ids = (1..=2500u32).map(|n| CommentId::new(n.to_string()));
    let requests = jira.comments().by_ids(ids).requests().unwrap();
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| body_json(r)["ids"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [1000, 1000, 500]);
    let bad = jira.comments().by_ids([CommentId::new("x1")]).requests();
    assert!(matches!(bad, Err(Error::InvalidInput(_))));
}

#[tokio::test]
async fn comments_of_a_restricted_issue_are_not_found_for_a_member_outside_the_group() {
    let sim = start_sim().await;
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob.comments().list("SEC-1").send().await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let error = bob
        .comments()
        .add("SEC-1", adf("hi"))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn editing_someone_elses_comment_is_a_bad_request_not_a_forbidden() {
    let sim = start_sim().await;
    let added = admin(&sim)
        .comments()
        .add("DEMO-3", adf("mine"))
        .send()
        .await
        .unwrap();
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob
        .comments()
        .update("DEMO-3", added.id.clone(), adf("theirs"))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");
    let error = bob
        .comments()
        .delete("DEMO-3", added.id)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");
}

#[tokio::test]
async fn a_role_restricted_comment_is_hidden_from_those_without_the_role() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let added = jira
        .comments()
        .add("DEMO-4", adf("admins only"))
        .visibility(Visibility::role("Administrators"))
        .send()
        .await
        .unwrap();
    let visibility = added.visibility.unwrap();
    assert_eq!(visibility.kind, VisibilityKind::Role);
    assert_eq!(visibility.value.as_deref(), Some("Administrators"));
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob
        .comments()
        .get("DEMO-4", added.id)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn issue_properties_report_created_then_updated_and_can_be_deleted() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let props = jira.issue_properties("DEMO-5");
    assert_eq!(
        props.set("sync", &json!({"v": 1})).await.unwrap(),
        PropertyWrite::Created
    );
    assert_eq!(
        props.set("sync", &json!({"v": 2})).await.unwrap(),
        PropertyWrite::Updated
    );
    assert_eq!(props.get("sync").await.unwrap().value, json!({"v": 2}));
    assert!(props.keys().await.unwrap().contains(&"sync".to_owned()));
    props.delete("sync").await.unwrap();
    assert!(props.get_opt("sync").await.unwrap().is_none());
    let error = props.get("sync").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn comment_properties_work_like_issue_properties() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let c = jira
        .comments()
        .add("DEMO-6", adf("x"))
        .send()
        .await
        .unwrap();
    let props = jira.comment_properties(c.id.clone());
    assert_eq!(
        props.set("k", &json!(true)).await.unwrap(),
        PropertyWrite::Created
    );
    assert_eq!(props.keys().await.unwrap(), ["k"]);
    props.delete("k").await.unwrap();
    let error = jira.comment_properties("424242").keys().await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[test]
fn oversized_property_keys_and_values_are_refused_before_sending() {
    let jira = offline();
    let props = jira.issue_properties("DEMO-1");
    let long_key = "k".repeat(256);
    assert!(matches!(
        props.set_request(&long_key, &json!(1)),
        Err(Error::InvalidInput(_))
    ));
    let big = json!("x".repeat(32_767));
    assert!(matches!(
        props.set_request("k", &big),
        Err(Error::InvalidInput(_))
    ));
    assert!(props.set_request("k", &json!("x".repeat(32_000))).is_ok());
}

#[test]
fn comment_and_property_bodies_are_stable() {
    let jira = offline();
    let add = jira
        .comments()
        .add("DEMO-1", adf("Hello"))
        .visibility(Visibility::group_id("276f955c-63d7-42c8-9520-92d01dca0625"))
        .property("jiraflow.external-id", json!({"id": "ext-1"}))
        .request()
        .unwrap();
    assert_eq!(add.path(), "/issue/DEMO-1/comment");
    insta::assert_json_snapshot!("add_comment_body", body_json(&add));
    assert_request_matches_spec(&add);
    let update = jira
        .comments()
        .update("DEMO-1", "10001", adf("Edited"))
        .remove_visibility()
        .notify_users(false)
        .request()
        .unwrap();
    assert_eq!(
        update.query_pairs(),
        [("notifyUsers".into(), "false".into())]
    );
    // `"visibility": null` is outside the spec's schema (Visibility is not nullable); the
    // simulator reads it as "lift the restriction", which live Jira has not confirmed.
    insta::assert_json_snapshot!("update_comment_body", body_json(&update));
    let keep = jira
        .comments()
        .update("DEMO-1", "10001", adf("Edited"))
        .request()
        .unwrap();
    assert!(body_json(&keep).get("visibility").is_none());
    assert_request_matches_spec(&keep);
    let list = jira
        .comments()
        .by_ids(["10002", "10001"].map(CommentId::new))
        .properties()
        .requests()
        .unwrap();
    insta::assert_json_snapshot!("comment_list_body", body_json(&list[0]));
    assert_request_matches_spec(&list[0]);
    let set = jira
        .issue_properties("DEMO-1")
        .set_request("sync", &json!({"hash": "abc"}))
        .unwrap();
    assert_eq!(set.path(), "/issue/DEMO-1/properties/sync");
    insta::assert_json_snapshot!("set_property_body", body_json(&set));
}

#[test]
fn the_request_spec_check_rejects_a_body_of_the_wrong_shape() {
    let wrong = ApiRequest::post("/comment/list")
        .json(&json!({"ids": "10001"}))
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_request_matches_spec(&wrong);
    }));
    assert!(outcome.is_err());
    let missing = ApiRequest::post("/issueLink")
        .json(&json!({"type": {"name": "Blocks"}}))
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_request_matches_spec(&missing);
    }));
    assert!(outcome.is_err());
}
