//! Dynamic webhooks against the simulator: per-entry registration results (refusals arrive with
//! HTTP 200), listing, refresh and delete, plus snapshots of every body.

#![allow(clippy::unwrap_used)]

use futures_util::TryStreamExt;
use jiraflow_jira::Error;
use jiraflow_jira::ids::WebhookId;
use jiraflow_jira::ops::webhooks::WebhookDetails;
use serde_json::json;

use crate::core::{admin, start_sim};
use crate::support::{assert_request_matches_spec, body_json, offline};

const URL: &str = "https://jiraflow.example/hooks/jira";

#[tokio::test]
async fn each_registration_entry_succeeds_or_fails_on_its_own() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let results = jira
        .webhooks()
        .register(
            URL,
            &[
                WebhookDetails::new(["jira:issue_created"], "project = DEMO"),
                WebhookDetails::new(["jira:issue_updated"], "project = DEMO AND watchCount > 1"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    let id = results[0].clone().unwrap();
    let rejected = results[1].clone().unwrap_err();
    assert!(!rejected.messages.is_empty(), "{rejected}");

    let listed: Vec<_> = jira.webhooks().list().stream().try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].jql_filter.as_deref(), Some("project = DEMO"));
    let first_expiry = listed[0].expiration_date.unwrap();

    let refreshed = jira
        .webhooks()
        .refresh(std::slice::from_ref(&id))
        .await
        .unwrap()
        .unwrap();
    assert!(refreshed >= first_expiry);

    jira.webhooks()
        .delete(std::slice::from_ref(&id))
        .await
        .unwrap();
    let page = jira.webhooks().list().send().await.unwrap();
    assert!(page.values.is_empty());
}

#[tokio::test]
async fn a_second_delivery_url_is_refused_as_a_whole() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let entry = [WebhookDetails::new(["comment_created"], "project = OPS")];
    jira.webhooks().register(URL, &entry).await.unwrap();
    let error = jira
        .webhooks()
        .register("https://elsewhere.example/hook", &entry)
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");
}

#[tokio::test]
async fn ids_that_are_not_numbers_are_refused_before_sending() {
    let error = offline()
        .webhooks()
        .delete(&[WebhookId::new("abc")])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
}

#[test]
fn webhook_bodies_are_stable() {
    let jira = offline();
    let mut updated = WebhookDetails::new(
        ["jira:issue_created", "jira:issue_updated"],
        "project = DEMO",
    );
    updated.field_ids_filter = Some(vec!["summary".into(), "customfield_10016".into()]);
    let register = jira
        .webhooks()
        .register_request(
            URL,
            &[
                updated,
                WebhookDetails::new(["comment_created"], "project IN (DEMO, OPS)"),
            ],
        )
        .unwrap();
    insta::assert_json_snapshot!("register_webhooks_body", body_json(&register));
    assert_request_matches_spec(&register);
    let ids = [WebhookId::new("10001"), WebhookId::new("10002")];
    let delete = jira.webhooks().delete_request(&ids).unwrap();
    insta::assert_json_snapshot!("delete_webhooks_body", body_json(&delete));
    assert_request_matches_spec(&delete);
    let refresh = jira.webhooks().refresh_request(&ids).unwrap();
    assert_eq!(body_json(&refresh), json!({"webhookIds": [10001, 10002]}));
    assert_request_matches_spec(&refresh);
}

#[test]
fn webhook_details_reject_unknown_fields() {
    let bad = serde_json::from_value::<WebhookDetails>(json!({
        "events": ["jira:issue_created"], "jqlFilter": "project = X", "fieldIdFilter": []
    }));
    assert!(bad.is_err());
}
