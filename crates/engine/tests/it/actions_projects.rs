//! Project actions against the in-process simulator: create and update, unchanged updates,
//! unknown projects and fields, and refusals naming the missing permission.

#![allow(clippy::unwrap_used)]

use jiraflow_engine::actions::{ActionError, Outcome};
use jiraflow_engine::flow::Action;
use jiraflow_sim::seed::{JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT};
use serde_json::json;

use crate::actions_groups::{Env, run};

#[tokio::test]
async fn create_then_update_a_project() {
    let env = Env::start().await;
    // Jo administers Jira without being a site admin: enough to create projects.
    let jo = env.client_for(JIRA_ADMIN_ACCOUNT);
    let out = run(
        &jo,
        Action::CreateProject,
        json!({
            "key": "RELT",
            "name": "Release Train",
            "project_type": "software",
            "lead": {"email": "bob@acme.example"},
            "template": "com.pyxis.greenhopper.jira:gh-simplified-kanban-classic",
            "description": "Runbooks and incidents",
            "assignee_type": "unassigned",
        }),
    )
    .await
    .unwrap();
    assert_eq!(out.outcome, Outcome::Changed);
    assert_eq!(out.output["key"], "RELT");
    let id = out.output["id"].as_str().unwrap().to_owned();
    let project = env
        .admin
        .projects()
        .get("RELT")
        .expand("lead")
        .send()
        .await
        .unwrap();
    let lead = project.lead.and_then(|l| l.account_id).unwrap();
    assert_eq!(lead.as_str(), MEMBER_ACCOUNT);

    let taken = run(
        &jo,
        Action::CreateProject,
        json!({"key": "RELT", "name": "Other", "project_type": "software",
               "lead": {"account_id": MEMBER_ACCOUNT}}),
    )
    .await
    .unwrap_err();
    assert!(matches!(taken, ActionError::Jira { .. }), "{taken}");

    let out = run(
        &env.admin,
        Action::UpdateProject,
        json!({"project": id, "name": "Release Train", "description": "Runbooks and incidents",
               "lead": {"account_id": MEMBER_ACCOUNT}, "assignee_type": "unassigned"}),
    )
    .await
    .unwrap();
    assert_eq!(out.outcome, Outcome::Unchanged);
    assert_eq!(out.output["name"], "Release Train");

    let out = run(
        &env.admin,
        Action::UpdateProject,
        json!({"project": "RELT", "name": "Release Train & Hotfixes", "lead": {"email": "ada@acme.example"},
               "assignee_type": "project_lead"}),
    )
    .await
    .unwrap();
    assert_eq!(out.outcome, Outcome::Changed);
    assert_eq!(out.output["name"], "Release Train & Hotfixes");
    assert_eq!(out.output["id"], id.as_str());
    assert_eq!(out.output["key"], "RELT");
    let project = env
        .admin
        .projects()
        .get("RELT")
        .expand("lead")
        .send()
        .await
        .unwrap();
    assert_eq!(project.assignee_type.as_deref(), Some("PROJECT_LEAD"));
    let lead = project.lead.and_then(|l| l.account_id).unwrap();
    assert_eq!(lead.as_str(), env.sim.info.admin_account_id);
}

#[tokio::test]
async fn unknown_projects_and_fields_are_errors() {
    let env = Env::start().await;
    let err = run(
        &env.admin,
        Action::UpdateProject,
        json!({"project": "NOPE", "name": "x"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ActionError::Jira { ref source, .. } if source.is_not_found()),
        "{err}"
    );
    assert!(err.to_string().contains("update_project"), "{err}");

    let err = run(
        &env.admin,
        Action::UpdateProject,
        json!({"project": "DEMO", "title": "x"}),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ActionError::Input { .. }), "{text}");
    assert!(text.contains("title"), "{text}");

    let err = run(
        &env.admin,
        Action::CreateProject,
        json!({"key": "NEW", "name": "New", "project_type": "kanban",
               "lead": {"account_id": MEMBER_ACCOUNT}}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("input.project_type"), "{err}");

    let err = run(
        &env.admin,
        Action::CreateProject,
        json!({"key": "NEW", "name": "New", "project_type": "software",
               "lead": {"email": "ghost@acme.example"}}),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Resolve { .. }), "{err}");
}

#[tokio::test]
async fn refusals_name_the_missing_permission() {
    let env = Env::start().await;
    let bob = env.client_for(MEMBER_ACCOUNT);
    let err = run(
        &bob,
        Action::CreateProject,
        json!({"key": "BOB", "name": "Bob's", "project_type": "business",
               "lead": {"account_id": MEMBER_ACCOUNT}}),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ActionError::Denied { .. }), "{text}");
    assert!(text.contains("Administer Jira"), "{text}");
    assert!(text.contains("global administrator"), "{text}");

    let err = run(
        &bob,
        Action::UpdateProject,
        json!({"project": "DEMO", "name": "Mine"}),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ActionError::Denied { .. }), "{text}");
    assert!(text.contains("Administer Projects"), "{text}");
}
