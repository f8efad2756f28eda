//! Issue operations against the simulator: create, get, edit, transitions, edit and create
//! metadata, delete, and the documented failures (invisible issues, plain-text rich fields,
//! missing scopes); snapshots of every body the builders produce; fixtures decode.

#![allow(clippy::unwrap_used)]

use jiraflow_jira::Error;
use jiraflow_jira::fields::FieldMetadata;
use jiraflow_jira::ids::{IssueId, IssueKey};
use jiraflow_jira::wire::issue::{CreateMetaIssueType, IssueBean, Transitions};
use jiraflow_jira::wire::user::{ServerInfo, User};
use jiraflow_jira::{ApiRequest, JiraClient};
use jiraflow_sim::seed::{ADMIN_ACCOUNT, CLASSIC_SCOPES, MEMBER_ACCOUNT};
use serde_json::{Value, json};

use crate::core::{admin, client, start_sim, token_for};
use crate::support::{adf, offline};

async fn create(jira: &JiraClient, summary: &str) -> (IssueId, IssueKey) {
    let created = jira
        .issues()
        .create("DEMO", "Task", summary)
        .description(adf("Steps to reproduce"))
        .labels(["from-test"])
        .send()
        .await
        .unwrap();
    (created.id, created.key)
}

#[tokio::test]
async fn a_created_issue_reads_back_with_its_fields() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let (id, key) = create(&jira, "Printer on fire").await;
    assert!(key.as_str().starts_with("DEMO-"));
    let issue = jira
        .issues()
        .get(&key)
        .fields([
            "summary",
            "description",
            "labels",
            "status",
            "created",
            "updated",
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(issue.id, Some(id));
    assert_eq!(issue.fields.summary.as_deref(), Some("Printer on fire"));
    assert_eq!(issue.fields.description, Some(adf("Steps to reproduce")));
    assert_eq!(issue.fields.labels, Some(vec!["from-test".to_owned()]));
    assert!(issue.fields.status.is_some());
    assert!(issue.fields.updated >= issue.fields.created);
}

#[tokio::test]
async fn a_plain_string_description_is_refused_before_sending() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let error = jira
        .issues()
        .create("DEMO", "Task", "x")
        .field("description", "plain text")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    assert_eq!(jira.metrics().requests, 0);
}

#[tokio::test]
async fn a_markdown_description_is_converted_to_adf_and_a_broken_document_is_refused() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let created = jira
        .issues()
        .create("DEMO", "Task", "Markdown")
        .description("Some **bold** text")
        .send()
        .await
        .unwrap();
    let issue = jira.issues().get(&created.key).send().await.unwrap();
    let description = issue.fields.description.unwrap();
    assert_eq!(description["type"], "doc");
    assert!(description.to_string().contains("strong"));
    let error = jira
        .issues()
        .edit(&created.key)
        .description(json!({"type": "paragraph"}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
}

#[tokio::test]
async fn jira_rejects_a_plain_string_description_with_a_field_error() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    // Bypassing the builder shows what the builder protects against.
    let body = json!({"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"},
        "summary": "x", "description": "plain text"}});
    let error = jira
        .send(ApiRequest::post("/issue").json(&body).unwrap())
        .await
        .unwrap_err();
    assert!(error.is_bad_request());
    assert!(
        error.field_errors().unwrap().contains_key("description"),
        "{error}"
    );
}

#[tokio::test]
async fn a_create_without_a_summary_reports_the_field() {
    let sim = start_sim().await;
    let error = admin(&sim)
        .issues()
        .create("DEMO", "Task", "")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");
    assert!(
        error.field_errors().unwrap().contains_key("summary"),
        "{error}"
    );
}

#[tokio::test]
async fn a_restricted_issue_is_not_found_for_a_user_who_may_not_browse_it() {
    let sim = start_sim().await;
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob.issues().get("SEC-1").send().await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(!error.needs_reauth());
    // The admin sees it.
    admin(&sim).issues().get("SEC-1").send().await.unwrap();
}

#[tokio::test]
async fn a_write_without_write_scope_is_a_scope_error() {
    let sim = start_sim().await;
    let reader = client(
        &sim.info.jira_base_url,
        &token_for(&sim, ADMIN_ACCOUNT, &["read:jira-work", "read:jira-user"]),
    );
    let error = reader
        .issues()
        .create("DEMO", "Task", "x")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_scope_error(), "{error}");
}

#[tokio::test]
async fn edits_apply_fields_and_operations_and_can_return_the_issue() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let (_, key) = create(&jira, "Old title").await;
    let none = jira
        .issues()
        .edit(&key)
        .field("summary", "New title")
        .send()
        .await
        .unwrap();
    assert!(none.is_none());
    let returned = jira
        .issues()
        .edit(&key)
        .update(
            "labels",
            json!([{"add": "triaged"}, {"remove": "from-test"}]),
        )
        .return_issue()
        .send()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(returned.fields.summary.as_deref(), Some("New title"));
    assert_eq!(returned.fields.labels, Some(vec!["triaged".to_owned()]));
}

#[tokio::test]
async fn an_edit_of_a_missing_issue_is_not_found() {
    let sim = start_sim().await;
    let error = admin(&sim)
        .issues()
        .edit("DEMO-9999")
        .field("summary", "x")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn transitions_are_listed_with_screen_fields_and_applied() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let (_, key) = create(&jira, "Move me").await;
    let transitions = jira
        .issues()
        .transitions(&key)
        .with_fields()
        .send()
        .await
        .unwrap();
    assert!(!transitions.is_empty());
    let before = jira
        .issues()
        .get(&key)
        .fields(["status"])
        .send()
        .await
        .unwrap();
    let target = transitions
        .iter()
        .find(|t| {
            t.to.as_ref().and_then(|s| s.name.as_ref())
                != before.fields.status.as_ref().and_then(|s| s.name.as_ref())
        })
        .unwrap();
    jira.issues()
        .do_transition(&key, target.id.clone())
        .send()
        .await
        .unwrap();
    let after = jira
        .issues()
        .get(&key)
        .fields(["status"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.fields.status.unwrap().name,
        target.to.as_ref().unwrap().name
    );
}

#[tokio::test]
async fn an_unknown_transition_is_a_bad_request() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let (_, key) = create(&jira, "Stay").await;
    let error = jira
        .issues()
        .do_transition(&key, "999999")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");
}

#[tokio::test]
async fn edit_and_create_metadata_describe_the_screens() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let (_, key) = create(&jira, "Meta").await;
    let editmeta = jira.issues().editmeta(&key).await.unwrap();
    let summary = editmeta.field("summary").unwrap();
    assert!(summary.operations.iter().any(|o| o == "set"));
    let types = jira.issues().createmeta_issue_types("DEMO").await.unwrap();
    let task = types
        .iter()
        .find(|t| t.name.as_deref() == Some("Task"))
        .unwrap();
    let fields = jira
        .issues()
        .createmeta_fields("DEMO", task.id.clone())
        .await
        .unwrap();
    let summary = fields
        .iter()
        .find(|f| f.field_id.as_deref() == Some("summary"))
        .unwrap();
    assert!(summary.required);
    let page = jira
        .issues()
        .createmeta_issue_types_page("DEMO", 0, 2)
        .await
        .unwrap();
    assert!(page.issue_types.len() <= 2);
}

#[tokio::test]
async fn createmeta_of_an_unknown_project_is_not_found() {
    let sim = start_sim().await;
    let error = admin(&sim)
        .issues()
        .createmeta_issue_types("NOPE")
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_deleted_issue_is_gone() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let (_, key) = create(&jira, "Delete me").await;
    jira.issues().delete(&key).send().await.unwrap();
    let error = jira.issues().get(&key).send().await.unwrap_err();
    assert!(error.is_not_found());
}

#[test]
fn create_edit_and_transition_bodies_are_stable() {
    let jira = offline();
    let create = jira
        .issues()
        .create("10000", "Bug", "Printer on fire")
        .description(adf("It smokes"))
        .assignee(&ADMIN_ACCOUNT.into())
        .labels(["hardware", "urgent"])
        .field("customfield_10016", 5)
        .property("jiraflow.external-id", json!({"id": "ext-1"}))
        .transition("21");
    insta::assert_json_snapshot!("create_issue_body", create.body());
    let edit = jira
        .issues()
        .edit("DEMO-1")
        .field("summary", "New")
        .update("labels", json!([{"add": "triaged"}]));
    insta::assert_json_snapshot!("edit_issue_body", edit.body());
    let transition = jira
        .issues()
        .do_transition("DEMO-1", "31")
        .field("resolution", json!({"name": "Done"}));
    insta::assert_json_snapshot!("do_transition_body", transition.body());
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../testdata/jira/fixtures/jira-cli/rest-v3/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn captured_rest_payloads_decode_into_the_wire_types() {
    let issue: IssueBean = serde_json::from_value(fixture("issue.json")).unwrap();
    assert_eq!(issue.key.unwrap().as_str(), "TEST-1");
    assert!(issue.fields.created.is_some());
    assert!(issue.fields.extra.contains_key("issuelinks"));
    let transitions: Transitions = serde_json::from_value(fixture("transitions.json")).unwrap();
    assert_eq!(transitions.transitions.len(), 3);
    let info: ServerInfo = serde_json::from_value(fixture("serverinfo.json")).unwrap();
    assert!(info.server_time.is_some());
    let users: Vec<User> = serde_json::from_value(fixture("users.json")).unwrap();
    assert_eq!(users.len(), 2);
    let link_types: jiraflow_jira::wire::link::IssueLinkTypes =
        serde_json::from_value(fixture("issue-link-types.json")).unwrap();
    assert_eq!(link_types.issue_link_types.len(), 3);
    // The legacy createmeta shape nests the same issue types and field metadata.
    let legacy = fixture("createmeta.json");
    let types: Vec<CreateMetaIssueType> =
        serde_json::from_value(legacy["projects"][0]["issuetypes"].clone()).unwrap();
    assert_eq!(types[0].name.as_deref(), Some("Epic"));
    for meta in legacy["projects"][0]["issuetypes"][0]["fields"]
        .as_object()
        .unwrap()
        .values()
    {
        let _: FieldMetadata = serde_json::from_value(meta.clone()).unwrap();
    }
}

mod against_limits_and_faults {
    use jiraflow_sim::SimConfig;

    use super::*;
    use crate::core::fast_policy;

    async fn sim_with(tune: impl FnOnce(&mut SimConfig)) -> jiraflow_sim::RunningSim {
        let mut config = SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            media_listen: ([127, 0, 0, 1], 0).into(),
            ..SimConfig::default()
        };
        tune(&mut config);
        jiraflow_sim::start(config).await.unwrap()
    }

    #[tokio::test]
    async fn per_issue_write_limits_are_waited_out_and_counted() {
        let sim = sim_with(|c| c.settings.issue_writes_per_2s = 2).await;
        let jira = JiraClient::builder(&sim.info.jira_base_url)
            .token_provider(jiraflow_jira::StaticToken::shared(&sim.info.admin_token))
            .retry_policy(jiraflow_jira::RetryPolicy {
                max_attempts: 4,
                ..fast_policy()
            })
            .build()
            .unwrap();
        let (_, key) = create(&jira, "Busy issue").await;
        for n in 0..4 {
            jira.issues()
                .edit(&key)
                .field("summary", format!("edit {n}"))
                .send()
                .await
                .unwrap();
        }
        let metrics = jira.metrics();
        assert!(
            metrics
                .rate_limited_by_reason
                .get("jira-per-issue-on-write")
                .copied()
                .unwrap_or(0)
                >= 1,
            "{metrics:?}"
        );
    }

    #[tokio::test]
    async fn injected_5xx_are_retried_for_reads_but_not_for_creates() {
        let sim = sim_with(|c| {
            c.settings.fault_5xx_rate = 1.0;
            c.settings.fault_methods = vec!["POST".into()];
            c.settings.fault_path_prefix = Some("/rest/api/3/issue".into());
        })
        .await;
        let jira = admin(&sim);
        let error = jira
            .issues()
            .create("DEMO", "Task", "x")
            .send()
            .await
            .unwrap_err();
        assert!(error.status().is_some_and(|s| s >= 500), "{error}");
        assert_eq!(jira.metrics().attempts, 1);
        // Reads are not faulted here and go through.
        jira.issues().get("DEMO-1").send().await.unwrap();
    }

    /// Looks the issue up by its external-id label: the create's effect is visible in search.
    struct ByLabel(&'static str);

    impl jiraflow_jira::client::RetryCheck for ByLabel {
        fn check<'a>(
            &'a self,
            client: &'a JiraClient,
        ) -> futures_util::future::BoxFuture<'a, jiraflow_jira::Result<Option<Value>>> {
            Box::pin(async move {
                let found = client
                    .search()
                    .jql(format!("project = DEMO AND labels = {}", self.0))
                    .fields(["summary"])
                    .collect()
                    .await?;
                Ok(found
                    .first()
                    .map(|issue| json!({"id": issue.id, "key": issue.key, "self": issue.self_url})))
            })
        }
    }

    #[tokio::test]
    async fn a_create_whose_answer_is_lost_is_found_by_the_verify_check_not_duplicated() {
        let sim = sim_with(|c| {
            c.settings.fault_drop_after_commit_rate = 1.0;
            c.settings.fault_methods = vec!["POST".into()];
            c.settings.fault_path_prefix = Some("/rest/api/3/issue".into());
        })
        .await;
        let jira = admin(&sim);
        let created = jira
            .issues()
            .create("DEMO", "Task", "exactly once")
            .labels(["ext-42"])
            .idempotency(jiraflow_jira::Idempotency::Verify(std::sync::Arc::new(
                ByLabel("ext-42"),
            )))
            .send()
            .await
            .unwrap();
        assert!(created.key.as_str().starts_with("DEMO-"));
        let all = jira
            .search()
            .jql("project = DEMO AND labels = ext-42")
            .collect()
            .await
            .unwrap();
        assert_eq!(all.len(), 1, "the create ran once");
        assert_eq!(jira.metrics().retries, 1, "the lost answer was noticed");
    }
}
