//! Test Connection against the simulator.

use std::time::Duration;

use jiraflow_oauth::ConnectionChecker;

use jiraflow_store::{AccessToken, NewTokens, TokenStore};

use crate::support::Env;

#[tokio::test]
async fn a_healthy_connection_passes_every_check() {
    let env = Env::start().await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    let checker = ConnectionChecker::new(
        env.dyn_store(),
        env.manager(Duration::from_secs(60)),
        env.client.clone(),
    );
    let report = checker.check(c.id).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.site_accessible);
    assert_eq!(report.myself_status, Some(200));
    assert!(report.account_id.is_some());
    assert!(report.missing_scopes.is_empty());
}

#[tokio::test]
async fn the_report_names_missing_scopes() {
    let env = Env::start().await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    // Swap the family for a token granted only read:jira-user (minted by the simulator).
    let minted: serde_json::Value = env
        .http
        .post(format!("{}/tokens", env.sim.info.sim_admin_url))
        .json(&serde_json::json!({
            "accountId": env.sim.info.admin_account_id,
            "scopes": ["read:jira-user"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    env.store
        .replace_family(
            c.token_family_id,
            NewTokens {
                access_token: AccessToken::new(minted["accessToken"].as_str().unwrap()),
                refresh_token: None,
                expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                scopes: vec!["read:jira-user".into()],
            },
        )
        .await
        .unwrap();
    let checker = ConnectionChecker::new(
        env.dyn_store(),
        env.manager(Duration::from_secs(60)),
        env.client.clone(),
    );
    let report = checker.check(c.id).await.unwrap();
    assert!(!report.ok());
    assert_eq!(report.myself_status, Some(200));
    for scope in [
        "write:jira-work",
        "manage:jira-configuration",
        "offline_access",
    ] {
        assert!(
            report.missing_scopes.iter().any(|s| s == scope),
            "{report:?}"
        );
    }
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("manage:jira-project")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn the_jira_token_provider_refreshes_once_after_a_rejection() {
    use jiraflow_jira::TokenProvider;

    let env = Env::start().await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    let provider =
        jiraflow_oauth::JiraTokenProvider::new(env.manager(Duration::from_secs(60)), c.id);
    let first = provider.token().await.unwrap();
    assert_eq!(provider.token().await.unwrap(), first);
    provider.invalidate(&first);
    provider.invalidate(&first);
    let second = provider.token().await.unwrap();
    assert_ne!(second, first);
    assert_eq!(provider.token().await.unwrap(), second);
    assert_eq!(env.counters().await["refreshes"], 1);
}
