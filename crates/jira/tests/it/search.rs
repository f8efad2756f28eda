//! JQL search and the JQL endpoints: cursor paging against the simulator, fields always sent and
//! identical across pages, a repeated cursor stopped, reconcile limits, approximate count,
//! `jql/parse` and `jql/match`, and webhook fixtures decoding.

#![allow(clippy::unwrap_used)]

use futures_util::TryStreamExt;
use jiraflow_jira::Error;
use jiraflow_jira::ids::IssueId;
use jiraflow_jira::ops::jql::JqlValidation;
use jiraflow_jira::wire::search::SearchPage;
use jiraflow_jira::wire::webhook_event::WebhookEvent;
use jiraflow_sim::seed::{CLASSIC_SCOPES, MEMBER_ACCOUNT};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::core::{admin, client, start_sim, token_for};
use crate::support::offline;

#[tokio::test]
async fn search_follows_the_cursor_across_pages_with_fields() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let jql = "project = DEMO ORDER BY key ASC";
    let count = jira.search().approximate_count(jql).await.unwrap();
    assert!(count > 2, "the demo project has a few issues");
    let pages: Vec<SearchPage> = jira
        .search()
        .jql(jql)
        .max_results(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert!(pages.len() > 1);
    let issues: Vec<_> = pages.iter().flat_map(|p| p.issues.iter()).collect();
    assert_eq!(issues.len() as u64, count);
    assert!(
        issues
            .iter()
            .all(|i| i.fields.summary.is_some() && i.key.is_some())
    );
    let streamed = jira
        .search()
        .jql(jql)
        .max_results(3)
        .collect()
        .await
        .unwrap();
    assert_eq!(streamed.len() as u64, count);
}

#[tokio::test]
async fn search_silently_omits_issues_the_user_may_not_browse() {
    let sim = start_sim().await;
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let seen = bob.search().jql("project = SEC").collect().await;
    // Jira answers an empty result (or a 400 for an unknown project): never the issues.
    match seen {
        Ok(issues) => assert!(issues.is_empty()),
        Err(error) => assert!(error.is_bad_request(), "{error}"),
    }
}

#[tokio::test]
async fn malformed_and_unbounded_jql_is_refused_before_sending() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let error = jira.search().jql("project = ").collect().await.unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    let error = jira
        .search()
        .jql("ORDER BY key")
        .collect()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("unbounded"), "{error}");
    assert_eq!(jira.metrics().requests, 0);
}

#[tokio::test]
async fn jira_reports_jql_its_own_validation_rejects() {
    let sim = start_sim().await;
    let error = admin(&sim)
        .search()
        .jql("nosuchfield = 1")
        .collect()
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");
    assert!(!error.messages().is_empty());
}

#[tokio::test]
async fn reconcile_takes_at_most_fifty_numeric_ids() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let many = (0..51).map(|n| IssueId::new((10_000 + n).to_string()));
    let error = jira
        .search()
        .jql("project = DEMO")
        .reconcile(many)
        .collect()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)));
    let error = jira
        .search()
        .jql("project = DEMO")
        .reconcile([IssueId::new("DEMO-1")])
        .collect()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)));
    let created = jira
        .issues()
        .create("DEMO", "Task", "fresh")
        .send()
        .await
        .unwrap();
    let found = jira
        .search()
        .jql("project = DEMO AND summary ~ fresh")
        .reconcile([created.id.clone()])
        .collect()
        .await
        .unwrap();
    assert!(found.iter().any(|i| i.id.as_ref() == Some(&created.id)));
}

fn page(token: Option<&str>, key: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "issues": [{"id": "1", "key": key, "fields": {"summary": "s"}}],
        "nextPageToken": token,
        "isLast": token.is_none(),
    }))
}

#[tokio::test]
async fn a_repeated_next_page_token_stops_the_stream_with_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .and(body_partial_json(json!({"nextPageToken": "B"})))
        .respond_with(page(Some("B"), "P-2"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(page(Some("B"), "P-1"))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let mut pages = Box::pin(
        jira.search()
            .jql("project = P")
            .expand("names")
            .expand("changelog")
            .pages(),
    );
    assert!(pages.try_next().await.unwrap().is_some());
    assert!(pages.try_next().await.unwrap().is_some());
    let error = pages.try_next().await.unwrap_err();
    assert!(matches!(error, Error::Pagination { .. }), "{error}");
    // Every page carried the same query, fields and expand; only the cursor changed.
    let bodies: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_eq!(body["jql"], "project = P");
        assert_eq!(body["expand"], "names,changelog");
        assert_eq!(body["fields"], bodies[0]["fields"]);
        assert!(body["fields"].as_array().unwrap().len() > 1);
    }
    assert!(bodies[0].get("nextPageToken").is_none());
    assert_eq!(bodies[1]["nextPageToken"], "B");
}

#[tokio::test]
async fn a_page_without_a_token_ends_the_search_even_if_is_last_is_false() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"issues": [], "isLast": false})),
        )
        .mount(&server)
        .await;
    let issues = client(&server.uri(), "t")
        .search()
        .jql("project = P")
        .collect()
        .await
        .unwrap();
    assert!(issues.is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn jql_parse_and_match_answer_per_query() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let parsed = jira
        .jql()
        .parse(
            &["project = DEMO".to_owned(), "project = ".to_owned()],
            JqlValidation::Strict,
        )
        .await
        .unwrap();
    assert_eq!(parsed.queries.len(), 2);
    assert!(parsed.queries[0].errors.is_empty());
    assert!(parsed.queries[0].structure.is_some());
    assert!(!parsed.queries[1].errors.is_empty());
    let created = jira
        .issues()
        .create("DEMO", "Task", "match me")
        .send()
        .await
        .unwrap();
    let matches = jira
        .jql()
        .matches(
            std::slice::from_ref(&created.id),
            &["project = DEMO".to_owned(), "project = OPS".to_owned()],
        )
        .await
        .unwrap();
    assert_eq!(matches.matches[0].matched_issues, vec![created.id]);
    assert!(matches.matches[1].matched_issues.is_empty());
}

#[test]
fn the_search_body_is_stable() {
    let jira = offline();
    let body = jira
        .search()
        .jql("project = DEMO AND updated >= -15m ORDER BY updated ASC, key ASC")
        .expand("names")
        .expand("changelog")
        .property("jiraflow.external-id")
        .max_results(100)
        .reconcile([IssueId::new("10001"), IssueId::new("10002")])
        .body()
        .unwrap();
    insta::assert_json_snapshot!("search_jql_body", body);
    let default = jira.search().jql("project = DEMO").body().unwrap();
    insta::assert_json_snapshot!("search_jql_default_body", default);
}

#[test]
fn every_webhook_fixture_decodes() {
    let dir = format!(
        "{}/../../testdata/jira/fixtures/mattermost-plugin-jira/webhooks",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut decoded = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let event: WebhookEvent =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!event.event().is_empty(), "{}", path.display());
        assert!(event.timestamp.is_some());
        decoded += 1;
    }
    assert!(decoded >= 20);
}

#[test]
fn the_captured_search_page_decodes() {
    let path = format!(
        "{}/../../testdata/jira/fixtures/jira-cli/rest-v3/search.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let page: SearchPage = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(page.is_last, Some(true));
    assert!(page.next().is_none());
    assert!(!page.issues.is_empty());
}
