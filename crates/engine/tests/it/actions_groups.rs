//! Group actions against the in-process simulator: create, remove, add and remove members,
//! idempotent membership changes, and refusals naming the missing permission.

#![allow(clippy::unwrap_used)]

use jiraflow_engine::actions::{self, ActionContext, ActionError, ActionOutput, Outcome};
use jiraflow_engine::flow::Action;
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_sim::seed::{CLASSIC_SCOPES, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT};
use jiraflow_sim::{RunningSim, SimConfig};
use serde_json::{Value, json};

/// A running simulator and a client for its site admin (Ada).
pub struct Env {
    pub sim: RunningSim,
    pub admin: JiraClient,
}

impl Env {
    pub async fn start() -> Env {
        let sim = jiraflow_sim::start(SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            media_listen: ([127, 0, 0, 1], 0).into(),
            ..Default::default()
        })
        .await
        .unwrap();
        let admin = client(&sim, &sim.info.admin_token);
        Env { sim, admin }
    }

    /// A client acting as `account` with every classic scope.
    pub fn client_for(&self, account: &str) -> JiraClient {
        let now = self.sim.state.clock.now_ms();
        let token = jiraflow_sim::oauth::issue_static_token(
            &mut self.sim.state.world.write(),
            account,
            &self.sim.info.client_id,
            CLASSIC_SCOPES,
            now + 3_600_000,
        );
        client(&self.sim, &token)
    }
}

fn client(sim: &RunningSim, token: &str) -> JiraClient {
    JiraClient::builder(&sim.info.jira_base_url)
        .token_provider(StaticToken::shared(token))
        .build()
        .unwrap()
}

/// Runs `action` as step `step`.
pub async fn run(
    jira: &JiraClient,
    action: Action,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let ctx = ActionContext::new(jira, "step1");
    actions::run(action, ctx, input).await
}

async fn members(jira: &JiraClient, group: &str) -> Vec<String> {
    let page = jira
        .groups()
        .members(jiraflow_jira::ops::groups::GroupRef::Name(group.to_owned()))
        .send()
        .await
        .unwrap();
    page.values
        .into_iter()
        .filter_map(|u| u.account_id.map(|a| a.to_string()))
        .collect()
}

#[tokio::test]
async fn create_then_remove_a_group() {
    let env = Env::start().await;
    let out = run(
        &env.admin,
        Action::CreateGroup,
        json!({"name": "release-managers"}),
    )
    .await
    .unwrap();
    assert_eq!(out.outcome, Outcome::Changed);
    assert_eq!(out.output["name"], "release-managers");
    let id = out.output["groupId"].as_str().unwrap().to_owned();

    let again = run(
        &env.admin,
        Action::CreateGroup,
        json!({"name": "release-managers"}),
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    let out = run(
        &env.admin,
        Action::RemoveGroup,
        json!({"group": {"id": id}, "swap_group": {"name": "developers"}}),
    )
    .await
    .unwrap();
    assert_eq!(out.outcome, Outcome::Changed);

    let gone = run(
        &env.admin,
        Action::RemoveGroup,
        json!({"group": {"name": "release-managers"}}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(gone, ActionError::Jira { ref source, .. } if source.is_not_found()),
        "{gone}"
    );
    assert!(gone.to_string().contains("remove_group"), "{gone}");
}

#[tokio::test]
async fn add_and_remove_members_idempotently() {
    let env = Env::start().await;
    let input = json!({"group": {"name": "developers"}, "user": {"email": "ada@acme.example"}});
    let out = run(&env.admin, Action::AddUserToGroup, input.clone())
        .await
        .unwrap();
    assert_eq!(out.outcome, Outcome::Changed);
    assert_eq!(
        out.output["accountId"],
        env.sim.info.admin_account_id.as_str()
    );
    assert!(
        members(&env.admin, "developers")
            .await
            .contains(&env.sim.info.admin_account_id)
    );

    let out = run(&env.admin, Action::AddUserToGroup, input.clone())
        .await
        .unwrap();
    assert_eq!(out.outcome, Outcome::Unchanged);

    let out = run(&env.admin, Action::RemoveUserFromGroup, input.clone())
        .await
        .unwrap();
    assert_eq!(out.outcome, Outcome::Changed);
    assert!(
        !members(&env.admin, "developers")
            .await
            .contains(&env.sim.info.admin_account_id)
    );

    let out = run(&env.admin, Action::RemoveUserFromGroup, input)
        .await
        .unwrap();
    assert_eq!(out.outcome, Outcome::Unchanged);
    assert_eq!(out.output["member"], false);

    // By account id: Bob already is a developer.
    let out = run(
        &env.admin,
        Action::AddUserToGroup,
        json!({"group": {"name": "developers"}, "user": {"account_id": MEMBER_ACCOUNT}}),
    )
    .await
    .unwrap();
    assert_eq!(out.outcome, Outcome::Unchanged);
}

#[tokio::test]
async fn input_and_resolution_errors_name_the_path_and_the_address() {
    let env = Env::start().await;
    let err = run(
        &env.admin,
        Action::AddUserToGroup,
        json!({"group": {"name": "developers"}, "user": {"account_id": "x"}, "role": "admin"}),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ActionError::Input { .. }), "{text}");
    assert!(
        text.contains("add_user_to_group") && text.contains("role"),
        "{text}"
    );

    let err = run(
        &env.admin,
        Action::AddUserToGroup,
        json!({"group": {"nam": "developers"}, "user": {"account_id": "x"}}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("input.group"), "{err}");

    let err = run(
        &env.admin,
        Action::AddUserToGroup,
        json!({"group": {"name": "developers"}, "user": {"email": "nobody@acme.example"}}),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Resolve { .. }), "{err}");
    assert!(err.to_string().contains("nobody@acme.example"), "{err}");

    let err = run(
        &env.admin,
        Action::AddUserToGroup,
        json!({"group": {"name": "no-such-group"}, "user": {"account_id": MEMBER_ACCOUNT}}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no-such-group"), "{err}");
}

#[tokio::test]
async fn refusals_name_site_admin_rights() {
    let env = Env::start().await;
    for account in [MEMBER_ACCOUNT, JIRA_ADMIN_ACCOUNT] {
        let jira = env.client_for(account);
        let err = run(&jira, Action::CreateGroup, json!({"name": "mine"}))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ActionError::Denied { .. }), "{text}");
        assert!(text.contains("site administrator rights"), "{text}");
        assert!(text.contains("contact your site administrator"), "{text}");

        let err = run(
            &jira,
            Action::RemoveUserFromGroup,
            json!({"group": {"name": "developers"}, "user": {"account_id": MEMBER_ACCOUNT}}),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ActionError::Denied { .. }), "{err}");
    }
    assert!(
        members(&env.admin, "developers")
            .await
            .contains(&MEMBER_ACCOUNT.to_owned())
    );
}

#[tokio::test]
async fn a_missing_scope_is_named() {
    let env = Env::start().await;
    let now = env.sim.state.clock.now_ms();
    let token = jiraflow_sim::oauth::issue_static_token(
        &mut env.sim.state.world.write(),
        &env.sim.info.admin_account_id,
        &env.sim.info.client_id,
        &["read:jira-user", "read:jira-work"],
        now + 3_600_000,
    );
    let jira = client(&env.sim, &token);
    let err = run(&jira, Action::CreateGroup, json!({"name": "scoped"}))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ActionError::Denied { .. }), "{text}");
    assert!(text.contains("manage:jira-configuration"), "{text}");
}
