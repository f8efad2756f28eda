//! The issue actions (`create_issue`, `update_issue`, `get_issues`, `test_connection`) against
//! the in-process simulator.

use anyhow::Result;
use jiraflow_engine::actions::{ActionContext, ActionError, ActionOutput, Outcome, run};
use jiraflow_engine::flow::Action;
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_sim::{RunningSim, SimConfig};
use serde_json::{Value, json};

const BOB: &str = "5f1a00000000000000000b02";
const ADA: &str = "5f1a00000000000000000a01";

async fn sim() -> Result<RunningSim> {
    Ok(jiraflow_sim::start(SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        media_listen: ([127, 0, 0, 1], 0).into(),
        ..Default::default()
    })
    .await?)
}

fn client(sim: &RunningSim, token: &str) -> Result<JiraClient> {
    Ok(JiraClient::builder(&sim.info.jira_base_url)
        .token_provider(StaticToken::shared(token))
        .build()?)
}

fn admin(sim: &RunningSim) -> Result<JiraClient> {
    client(sim, &sim.info.admin_token)
}

/// A client acting as Bob with only `scopes`.
fn bob(sim: &RunningSim, scopes: &[&str]) -> Result<JiraClient> {
    let now_ms = sim.state.clock.now_ms();
    let token = jiraflow_sim::oauth::issue_static_token(
        &mut sim.state.world.write(),
        BOB,
        &sim.info.client_id,
        scopes,
        now_ms + 3_600_000,
    );
    client(sim, &token)
}

async fn call(
    jira: &JiraClient,
    action: Action,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let ctx = ActionContext::new(jira, "step1");
    run(action, ctx, input).await
}

async fn create(jira: &JiraClient, summary: &str) -> Result<String> {
    let out = call(
        jira,
        Action::CreateIssue,
        json!({"project": "DEMO", "issue_type": "Task", "summary": summary}),
    )
    .await?;
    Ok(out.output["key"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn create_issue_coerces_fields_by_name_and_resolves_emails() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    let out = call(
        &jira,
        Action::CreateIssue,
        json!({
            "project": "DEMO",
            "issue_type": "Task",
            "summary": "Rotate keys",
            "description": "Rotate the **signing** keys",
            "fields": {"Story Points": "5", "Reviewer": "bob@acme.example"},
            "labels": ["security", "ops"],
            "assignee": "bob@acme.example"
        }),
    )
    .await?;
    assert_eq!(out.outcome, Outcome::Changed);
    let key = out.output["key"].as_str().unwrap_or_default();
    assert!(key.starts_with("DEMO-"), "{out:?}");
    assert!(out.output["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(out.output.get("self").is_some());

    let issue = jira.issues().get(key).fields(["*all"]).send().await?;
    let fields = serde_json::to_value(&issue.fields)?;
    assert_eq!(fields["customfield_10016"].as_f64(), Some(5.0));
    assert_eq!(fields["customfield_10050"]["accountId"], json!(BOB));
    assert_eq!(fields["assignee"]["accountId"], json!(BOB));
    // Jira keeps labels sorted.
    assert_eq!(fields["labels"], json!(["ops", "security"]));
    assert_eq!(fields["description"]["type"], json!("doc"));
    Ok(())
}

#[tokio::test]
async fn create_issue_reports_bad_inputs_with_their_path() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    let base = json!({"project": "DEMO", "issue_type": "Task", "summary": "x"});

    let mut unknown_input = base.clone();
    unknown_input["sumary"] = json!("typo");
    let err = call(&jira, Action::CreateIssue, unknown_input)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("create_issue") && err.contains("sumary"),
        "{err}"
    );

    let mut unknown_field = base.clone();
    unknown_field["fields"] = json!({"Story Pointz": 3});
    let err = call(&jira, Action::CreateIssue, unknown_field).await.err();
    assert!(
        matches!(&err, Some(ActionError::Input { path, message, .. })
            if path == "input.fields.Story Pointz" && message.contains("Story Points")),
        "{err:?}"
    );

    let mut twice = base.clone();
    twice["labels"] = json!(["a"]);
    twice["fields"] = json!({"Labels": ["b"]});
    let err = call(&jira, Action::CreateIssue, twice).await.err();
    assert!(
        matches!(&err, Some(ActionError::Input { path, .. }) if path == "input.fields.Labels"),
        "{err:?}"
    );

    let mut nobody = base.clone();
    nobody["assignee"] = json!("nobody@acme.example");
    let err = call(&jira, Action::CreateIssue, nobody).await.err();
    assert!(
        matches!(&err, Some(ActionError::Resolve { message, .. }) if message.contains("nobody@acme.example")),
        "{err:?}"
    );

    let mut not_adf = base;
    not_adf["description"] = json!({"type": "paragraph"});
    let err = call(&jira, Action::CreateIssue, not_adf).await.err();
    assert!(matches!(&err, Some(ActionError::Input { .. })), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn create_issue_without_the_write_scope_keeps_jiras_message() -> Result<()> {
    let sim = sim().await?;
    let jira = bob(&sim, &["read:jira-work", "read:jira-user"])?;
    let err = call(
        &jira,
        Action::CreateIssue,
        json!({"project": "DEMO", "issue_type": "Task", "summary": "x"}),
    )
    .await
    .err();
    let Some(ActionError::Denied { source, .. }) = &err else {
        anyhow::bail!("expected a refusal naming the scope, got {err:?}");
    };
    assert!(source.is_scope_error(), "{source}");
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("step1")
            && text.contains("scope does not match")
            && text.contains("write:jira-work"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn update_issue_edits_fields_and_moves_to_a_status_once() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    let key = create(&jira, "Before").await?;

    let out = call(
        &jira,
        Action::UpdateIssue,
        json!({"issue": key, "summary": "After", "fields": {"Story Points": 8}, "status": "In Progress", "assignee": {"email": "bob@acme.example"}}),
    )
    .await?;
    assert_eq!(out.outcome, Outcome::Changed);
    assert_eq!(out.output["key"], json!(key));
    assert_eq!(out.output["status"], json!("In Progress"));
    let changed = out.output["changedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(changed.contains(&json!("summary")) && changed.contains(&json!("customfield_10016")));

    let issue = jira.issues().get(key.as_str()).send().await?;
    assert_eq!(issue.fields.summary.as_deref(), Some("After"));
    assert_eq!(
        issue
            .fields
            .assignee
            .and_then(|a| a.account_id)
            .map(|a| a.into_string()),
        Some(BOB.to_owned())
    );
    assert_eq!(
        issue.fields.status.and_then(|s| s.name).as_deref(),
        Some("In Progress")
    );

    // Already there: nothing to do.
    let again = call(
        &jira,
        Action::UpdateIssue,
        json!({"issue": key, "status": "in progress"}),
    )
    .await?;
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert_eq!(again.output["changedFields"], json!([]));
    Ok(())
}

#[tokio::test]
async fn update_issue_lists_transitions_when_none_leads_to_the_status() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    let key = create(&jira, "Stuck").await?;
    let err = call(
        &jira,
        Action::UpdateIssue,
        json!({"issue": key, "status": "In Review"}),
    )
    .await
    .err();
    assert!(
        matches!(&err, Some(ActionError::Resolve { message, .. })
            if message.contains("In Review") && message.contains("Start Progress → In Progress")),
        "{err:?}"
    );
    Ok(())
}

#[tokio::test]
async fn update_issue_of_an_unknown_issue_is_not_found() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    let err = call(
        &jira,
        Action::UpdateIssue,
        json!({"issue": "DEMO-99999", "summary": "x"}),
    )
    .await
    .err();
    assert!(
        matches!(&err, Some(ActionError::Jira { source, .. }) if source.is_not_found()),
        "{err:?}"
    );
    let err = call(
        &jira,
        Action::UpdateIssue,
        json!({"issue": "DEMO-1", "labels": "x"}),
    )
    .await
    .err();
    assert!(
        matches!(&err, Some(ActionError::Input { path, .. }) if path == "input.labels"),
        "{err:?}"
    );
    Ok(())
}

#[tokio::test]
async fn get_issues_streams_pages_up_to_the_limit() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    let all = call(
        &jira,
        Action::GetIssues,
        json!({"jql": "project = DEMO ORDER BY key ASC", "fields": ["summary"]}),
    )
    .await?;
    assert_eq!(all.outcome, Outcome::Unchanged);
    let total = all.output["count"].as_u64().unwrap_or_default();
    assert!(total > 2, "{all:?}");
    assert_eq!(all.output["truncated"], json!(false));
    assert!(all.output["issues"][0]["fields"]["summary"].is_string());

    let some = call(
        &jira,
        Action::GetIssues,
        json!({"jql": "project = DEMO ORDER BY key ASC", "limit": 2}),
    )
    .await?;
    assert_eq!(some.output["count"], json!(2));
    assert_eq!(some.output["truncated"], json!(true));
    assert_eq!(
        some.output["issues"][0]["key"],
        all.output["issues"][0]["key"]
    );
    Ok(())
}

#[tokio::test]
async fn get_issues_refuses_bad_limits_and_jql() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    for limit in [0, 10_001] {
        let err = call(
            &jira,
            Action::GetIssues,
            json!({"jql": "project = DEMO", "limit": limit}),
        )
        .await
        .err();
        assert!(
            matches!(&err, Some(ActionError::Input { path, .. }) if path == "input.limit"),
            "{err:?}"
        );
    }
    let err = call(&jira, Action::GetIssues, json!({"jql": "project = "}))
        .await
        .err();
    assert!(
        matches!(&err, Some(ActionError::Input { path, .. }) if path == "input.jql"),
        "{err:?}"
    );
    Ok(())
}

#[tokio::test]
async fn test_connection_names_the_account_and_the_site() -> Result<()> {
    let sim = sim().await?;
    let jira = admin(&sim)?;
    let out = call(&jira, Action::TestConnection, json!({})).await?;
    assert_eq!(out.outcome, Outcome::Unchanged);
    assert_eq!(out.output["accountId"], json!(ADA));
    assert!(out.output["displayName"].is_string());
    assert!(out.output["serverTime"].is_string());
    assert!(out.output["baseUrl"].is_string());

    let err = call(&jira, Action::TestConnection, json!({"verbose": true}))
        .await
        .err();
    assert!(
        matches!(&err, Some(ActionError::Input { message, .. }) if message.contains("verbose")),
        "{err:?}"
    );

    let without_user_scope = bob(&sim, &["read:jira-work"])?;
    let err = call(&without_user_scope, Action::TestConnection, json!({}))
        .await
        .err();
    assert!(
        matches!(&err, Some(ActionError::Denied { source, needed, .. })
            if source.is_scope_error() && needed.contains("read:jira-user")),
        "{err:?}"
    );
    Ok(())
}
