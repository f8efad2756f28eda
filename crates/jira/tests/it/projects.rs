//! Projects and the field catalog against the simulator, with snapshots of the create and update
//! bodies and a check that the create input rejects misspelt fields.

#![allow(clippy::unwrap_used)]

use futures_util::TryStreamExt;
use jiraflow_jira::ids::ProjectRef;
use jiraflow_jira::ops::projects::{AssigneeType, CreateProject, ProjectTypeKey, UpdateProject};
use jiraflow_sim::seed::{ADMIN_ACCOUNT, CLASSIC_SCOPES, MEMBER_ACCOUNT};
use serde_json::json;

use crate::core::{admin, client, start_sim, token_for};
use crate::support::{assert_request_matches_spec, body_json, offline};

fn new_project(key: &str, name: &str) -> CreateProject {
    let mut details = CreateProject::new(key, name, ADMIN_ACCOUNT);
    details.project_type_key = Some(ProjectTypeKey::Software);
    details.description = Some("Made by a flow".into());
    details.assignee_type = Some(AssigneeType::Unassigned);
    details
}

#[tokio::test]
async fn a_project_is_created_read_renamed_and_found_by_search() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let created = jira
        .projects()
        .create(&new_project("FLOW", "Flow Project"))
        .await
        .unwrap();
    assert_eq!(created.key.as_str(), "FLOW");
    assert!(!created.id.as_str().is_empty());

    let project = jira
        .projects()
        .get(ProjectRef::from(created.key.clone()))
        .expand("description")
        .send()
        .await
        .unwrap();
    assert_eq!(project.name.as_deref(), Some("Flow Project"));
    assert_eq!(project.description.as_deref(), Some("Made by a flow"));

    let update = UpdateProject {
        name: Some("Flow Renamed".into()),
        ..UpdateProject::default()
    };
    let updated = jira.projects().update("FLOW", &update).await.unwrap();
    assert_eq!(updated.name.as_deref(), Some("Flow Renamed"));
    // By id too.
    let by_id = jira
        .projects()
        .get(created.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.key.as_str(), "FLOW");

    let page = jira
        .projects()
        .search()
        .query("renamed")
        .send()
        .await
        .unwrap();
    assert_eq!(page.values.len(), 1);
    assert_eq!(page.values[0].key.as_str(), "FLOW");
}

#[tokio::test]
async fn a_taken_key_is_a_bad_request_naming_the_field() {
    let sim = start_sim().await;
    let error = admin(&sim)
        .projects()
        .create(&new_project("DEMO", "Another Demo"))
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");
    assert!(
        error.field_errors().unwrap().contains_key("projectKey"),
        "{error}"
    );
}

#[tokio::test]
async fn a_member_may_not_create_projects() {
    let sim = start_sim().await;
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob
        .projects()
        .create(&new_project("BOBS", "Bob's"))
        .await
        .unwrap_err();
    assert!(error.is_permission_denied(), "{error}");
}

#[tokio::test]
async fn project_paths_are_case_sensitive_and_hidden_projects_are_not_found() {
    let sim = start_sim().await;
    let error = admin(&sim).projects().get("demo").send().await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob.projects().get("SEC").send().await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn the_project_stream_pages_through_every_browsable_project() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let keys: Vec<String> = jira
        .projects()
        .search()
        .order_by("key")
        .max_results(1)
        .stream()
        .map_ok(|p| p.key.into_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, ["DEMO", "OPS", "SEC"]);
}

#[test]
fn the_create_input_rejects_unknown_fields() {
    let ok: CreateProject = serde_json::from_value(json!({
        "key": "ABC", "name": "Abc", "leadAccountId": "acc", "projectTypeKey": "business"
    }))
    .unwrap();
    assert_eq!(ok.project_type_key, Some(ProjectTypeKey::Business));
    let misspelt = serde_json::from_value::<CreateProject>(json!({
        "key": "ABC", "name": "Abc", "leadAccountId": "acc", "projectTypKey": "business"
    }));
    assert!(misspelt.is_err());
    let misspelt = serde_json::from_value::<UpdateProject>(json!({"nmae": "x"}));
    assert!(misspelt.is_err());
}

#[test]
fn project_bodies_are_stable() {
    let jira = offline();
    let mut details = new_project("FLOW", "Flow Project");
    details.project_template_key =
        Some("com.pyxis.greenhopper.jira:gh-simplified-kanban-classic".into());
    let create = jira.projects().create_request(&details).unwrap();
    insta::assert_json_snapshot!("create_project_body", body_json(&create));
    assert_request_matches_spec(&create);
    let update = UpdateProject {
        name: Some("New name".into()),
        lead_account_id: Some(ADMIN_ACCOUNT.into()),
        category_id: Some(-1),
        ..UpdateProject::default()
    };
    let request = jira
        .projects()
        .update_request(&"FLOW".into(), &update)
        .unwrap();
    assert_eq!(request.path(), "/project/FLOW");
    insta::assert_json_snapshot!("update_project_body", body_json(&request));
    assert_request_matches_spec(&request);
}

#[tokio::test]
async fn the_field_catalog_lists_system_and_custom_fields() {
    let sim = start_sim().await;
    let fields = admin(&sim).fields().list().await.unwrap();
    let summary = fields.iter().find(|f| f.id == "summary").unwrap();
    assert!(!summary.custom);
    assert!(
        fields
            .iter()
            .any(|f| f.custom && f.id.starts_with("customfield_"))
    );
}

fn captured(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/../../testdata/jira/fixtures/jira-cli/rest-v3/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn captured_projects_users_and_link_types_decode_into_the_wire_types() {
    let projects: Vec<jiraflow_jira::wire::project::Project> =
        serde_json::from_value(captured("projects.json")).unwrap();
    assert_eq!(projects[0].key.as_str(), "PRJ1");
    assert_eq!(
        projects[0].lead.as_ref().unwrap().display_name.as_deref(),
        Some("Person A")
    );
    let users: Vec<jiraflow_jira::wire::user::User> =
        serde_json::from_value(captured("users.json")).unwrap();
    assert_eq!(users[1].active, Some(false));
    // The removed `name` member is kept, not fatal.
    assert_eq!(users[0].extra["name"], "janedoe");
    let types: jiraflow_jira::wire::link::IssueLinkTypes =
        serde_json::from_value(captured("issue-link-types.json")).unwrap();
    assert_eq!(
        types.issue_link_types[0].inward.as_deref(),
        Some("is blocked by")
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    #[test]
    fn comment_list_chunks_cover_every_distinct_id_once_and_never_exceed_a_thousand(
        ids in proptest::collection::vec(1u64..5_000, 0..2_600)
    ) {
        let jira = offline();
        let requests = jira
            .comments()
            .by_ids(ids.iter().map(|n| jiraflow_jira::ids::CommentId::new(n.to_string())))
            .requests()
            .unwrap();
        let mut sent: Vec<u64> = Vec::new();
        for request in &requests {
            let chunk: Vec<u64> = serde_json::from_value(body_json(request)["ids"].clone()).unwrap();
            proptest::prop_assert!(!chunk.is_empty() && chunk.len() <= 1000);
            sent.extend(chunk);
        }
        let mut expected = ids.clone();
        expected.sort_unstable();
        expected.dedup();
        proptest::prop_assert_eq!(sent, expected);
    }

    #[test]
    fn any_json_property_value_within_the_limit_is_accepted_and_sent_verbatim(
        text in ".{0,200}", n in proptest::num::i64::ANY, flag in proptest::bool::ANY
    ) {
        let value = json!({"text": text, "n": n, "flag": flag});
        let request = offline().issue_properties("DEMO-1").set_request("k", &value).unwrap();
        proptest::prop_assert_eq!(body_json(&request), value);
    }
}
