//! Connect, refresh and reconnect against the simulator, and every bad input leaving nothing
//! behind.

use std::time::Duration;

use jiraflow_oauth::OAuthError;
use jiraflow_oauth::connect::Callback;
use jiraflow_store::{
    ConnectionStatus, ConnectionStore, OAuthAppStore, StateRejection, TokenStore, UserStore,
};

use crate::support::{Env, REDIRECT, all_scopes, new_app};

#[tokio::test]
async fn a_headless_connect_creates_the_connection_with_its_instance_url() {
    let env = Env::start().await;
    let connected = env.connect(env.draft("acme"), &[]).await.unwrap();
    let c = &connected.connection;
    assert!(!connected.reconnected);
    assert_eq!(c.cloud_id, env.sim.info.cloud_id);
    assert_eq!(
        c.instance_url,
        format!("{}/ex/jira/{}", env.sim.info.api_url, env.sim.info.cloud_id)
    );
    assert_eq!(c.status, ConnectionStatus::Active);
    assert!(
        connected
            .granted_scopes
            .iter()
            .any(|s| s == "offline_access")
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_the_rotated_pair_persisted() {
    let env = Env::start().await;
    env.settings(serde_json::json!({"access_token_ttl_secs": 1}))
        .await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    let before = env.store.get_tokens(c.token_family_id).await.unwrap();
    let manager = env.manager(Duration::from_millis(200));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let token = manager.access_token(c.id).await.unwrap();
    let after = env.store.get_tokens(c.token_family_id).await.unwrap();
    assert_ne!(token.expose(), before.access_token.expose());
    assert_eq!(token.expose(), after.access_token.expose());
    assert!(after.version > before.version);
    assert_ne!(
        after.refresh_token.as_ref().unwrap().expose(),
        before.refresh_token.as_ref().unwrap().expose(),
        "the rotated refresh token must be stored"
    );
    // A fresh token is served from the store without another refresh.
    env.settings(serde_json::json!({"access_token_ttl_secs": 3600}))
        .await;
    let counters = env.counters().await;
    assert_eq!(counters["refreshes"], 1);
}

#[tokio::test]
async fn force_refresh_replaces_only_the_token_that_failed() {
    let env = Env::start().await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    let manager = env.manager(Duration::from_secs(1));
    let first = manager.access_token(c.id).await.unwrap();
    let second = manager.force_refresh(c.id, &first).await.unwrap();
    assert_ne!(first.expose(), second.expose());
    // A second report of the same stale token does not refresh again.
    let third = manager.force_refresh(c.id, &first).await.unwrap();
    assert_eq!(second.expose(), third.expose());
    assert_eq!(env.counters().await["refreshes"], 1);
}

#[tokio::test]
async fn a_revoked_family_marks_the_connection_reconnect_required_and_reconnect_repairs_it() {
    let env = Env::start().await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    // Rotate the stored refresh token twice behind the store's back, then present the original:
    // the simulator treats that as a breach and revokes the family.
    let stored = env.store.get_tokens(c.token_family_id).await.unwrap();
    let original = stored.refresh_token.clone().unwrap();
    let app = jiraflow_oauth::AppCredentials {
        client_id: env.sim.info.client_id.clone(),
        client_secret: jiraflow_store::ClientSecret::new(env.sim.info.client_secret.clone()),
        auth_base_url: env.sim.info.auth_url.parse().unwrap(),
        api_base_url: env.sim.info.api_url.parse().unwrap(),
    };
    let next = env.client.refresh(&app, &original).await.unwrap();
    env.client
        .refresh(&app, next.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    let err = env.client.refresh(&app, &original).await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");

    let manager = env.manager(Duration::from_secs(1));
    let err = manager
        .force_refresh(c.id, &stored.access_token)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::ReconnectRequired { .. }), "{err}");
    assert!(err.needs_reconsent());
    let marked = env.store.get_connection(c.id).await.unwrap().unwrap();
    assert_eq!(marked.status, ConnectionStatus::ReconnectRequired);
    assert!(marked.status_message.unwrap().contains("reconnect"));
    // Further calls fail fast without touching the token endpoint.
    let before = env.counters().await["refreshes"].clone();
    assert!(
        manager
            .access_token(c.id)
            .await
            .unwrap_err()
            .needs_reconsent()
    );
    assert_eq!(env.counters().await["refreshes"], before);

    let flow = env.flow();
    let started = flow
        .begin_reconnect(&env.user, c.id, REDIRECT)
        .await
        .unwrap();
    let callback = env.consent(&started.authorization_url, &[]).await;
    let done = flow
        .complete(&env.user, callback)
        .await
        .unwrap()
        .into_connection()
        .unwrap();
    assert!(done.reconnected);
    assert_eq!(done.connection.id, c.id);
    assert_eq!(done.connection.status, ConnectionStatus::Active);
    let fresh = manager.access_token(c.id).await.unwrap();
    let refreshed = manager.force_refresh(c.id, &fresh).await.unwrap();
    assert_ne!(fresh.expose(), refreshed.expose());
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_configuration_error_and_creates_nothing() {
    let env = Env::start().await;
    let bad = env
        .store
        .create_oauth_app(new_app(&env.sim, "bad", "not-the-secret", all_scopes()))
        .await
        .unwrap();
    let mut draft = env.draft("acme");
    draft.oauth_app_id = bad.id;
    let err = env.connect(draft, &[]).await.unwrap_err();
    assert!(
        matches!(err, OAuthError::ClientAuthentication { .. }),
        "{err}"
    );
    assert!(err.is_config_error() && !err.needs_reconsent());
    assert_eq!(env.connection_count().await, 0);
}

#[tokio::test]
async fn denied_consent_is_reported_and_creates_nothing() {
    let env = Env::start().await;
    // An unknown account makes the auto-consent answer with access_denied, as a Deny would.
    let err = env
        .connect(env.draft("acme"), &[("sim_user", "nobody@nowhere.example")])
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::ConsentDenied { .. }), "{err}");
    assert_eq!(env.connection_count().await, 0);
}

#[tokio::test]
async fn a_replayed_forged_or_foreign_state_is_rejected() {
    let env = Env::start().await;
    let flow = env.flow();
    let started = flow
        .begin_connect(&env.user, env.draft("acme"), REDIRECT)
        .await
        .unwrap();
    let callback = env.consent(&started.authorization_url, &[]).await;

    let forged = Callback {
        state: Some("forged-state".into()),
        ..callback.clone()
    };
    let err = flow.complete(&env.user, forged).await.unwrap_err();
    assert!(err.is_state_rejected(), "{err}");

    let other = env
        .store
        .create_user(jiraflow_store::NewUser {
            name: "mallory".into(),
            permissions: vec![],
        })
        .await
        .unwrap();
    let err = flow.complete(&other, callback.clone()).await.unwrap_err();
    assert!(err.is_state_rejected(), "{err}");

    flow.complete(&env.user, callback.clone()).await.unwrap();
    let err = flow.complete(&env.user, callback).await.unwrap_err();
    assert!(err.is_state_rejected(), "{err}");
    assert!(matches!(
        err,
        OAuthError::Store(ref e) if e.state_rejection() == Some(StateRejection::AlreadyUsed)
    ));
    assert_eq!(env.connection_count().await, 1);
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant_and_creates_nothing() {
    let env = Env::start().await;
    let flow = env.flow();
    let started = flow
        .begin_connect(&env.user, env.draft("acme"), REDIRECT)
        .await
        .unwrap();
    let callback = env.consent(&started.authorization_url, &[]).await;
    env.advance_clock(301_000).await;
    let err = flow.complete(&env.user, callback).await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
    assert_eq!(env.connection_count().await, 0);
}

#[tokio::test]
async fn missing_scopes_are_named_and_create_nothing() {
    let env = Env::start().await;
    let narrow = env
        .store
        .create_oauth_app(new_app(
            &env.sim,
            "narrow",
            &env.sim.info.client_secret,
            vec!["read:jira-work".into(), "read:jira-user".into()],
        ))
        .await
        .unwrap();
    let mut draft = env.draft("acme");
    draft.oauth_app_id = narrow.id;
    let err = env.connect(draft, &[]).await.unwrap_err();
    let OAuthError::MissingScopes { missing } = &err else {
        panic!("{err}");
    };
    assert!(missing.contains(&"write:jira-work".to_owned()), "{err}");
    assert!(
        err.to_string().contains("manage:jira-configuration"),
        "{err}"
    );
    assert_eq!(env.connection_count().await, 0);
}

#[tokio::test]
async fn a_non_atlassian_site_url_is_rejected_before_anything_starts() {
    let env = Env::start().await;
    let mut draft = env.draft("acme");
    draft.site_url = Some("https://evil.example.com".into());
    let err = env
        .flow()
        .begin_connect(&env.user, draft, REDIRECT)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::InvalidUrl { .. }), "{err}");
    assert!(err.to_string().contains("atlassian.net"), "{err}");
}

#[tokio::test]
async fn an_unknown_site_url_is_reported_and_creates_nothing() {
    let env = Env::start().await;
    let mut draft = env.draft("acme");
    draft.site_url = Some(format!("{}/site/no-such-site", env.sim.info.api_url));
    let err = env.connect(draft, &[]).await.unwrap_err();
    assert!(matches!(err, OAuthError::UnknownSite { .. }), "{err}");
    assert_eq!(env.connection_count().await, 0);
}

#[tokio::test]
async fn a_taken_or_empty_name_is_rejected_before_consent() {
    let env = Env::start().await;
    env.connect(env.draft("acme"), &[]).await.unwrap();
    let flow = env.flow();
    let err = flow
        .begin_connect(&env.user, env.draft("ACME"), REDIRECT)
        .await
        .unwrap_err();
    assert!(
        matches!(err, OAuthError::Store(ref e) if e.is_duplicate()),
        "{err}"
    );
    let err = flow
        .begin_connect(&env.user, env.draft("  "), REDIRECT)
        .await
        .unwrap_err();
    assert!(
        matches!(err, OAuthError::Invalid { field: "name", .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_grant_covering_several_sites_asks_for_a_choice_and_a_site_url_settles_it() {
    let env = Env::start().await;
    env.connect(env.draft("acme"), &[]).await.unwrap();
    // Consenting to globex too makes the grant cover both sites.
    let err = env
        .connect(env.draft("globex"), &[("sim_site", "globex")])
        .await
        .unwrap_err();
    let OAuthError::SiteChoiceRequired { sites } = &err else {
        panic!("{err}");
    };
    assert_eq!(sites.len(), 2, "{err}");
    let globex = sites
        .iter()
        .find(|s| s.name.contains("globex"))
        .unwrap()
        .clone();

    let mut draft = env.draft("globex");
    draft.site_url = Some(globex.url.clone());
    let c = env
        .connect(draft, &[("sim_site", "globex")])
        .await
        .unwrap()
        .connection;
    assert_eq!(c.cloud_id, globex.cloud_id);
    assert_eq!(env.connection_count().await, 2);
}
