//! Named credentials: an administrator's consent creates the credential and its principal; users
//! with a grant build connections on it that share the principal's token family; without a grant
//! a connection stays inactive and Test Connection names the missing grant.

use std::time::Duration;

use jiraflow_oauth::{Completed, ConnectionChecker, NamedCredentialDraft, OAuthError};
use jiraflow_store::{
    ConnectionKind, ConnectionStatus, ConnectionStore, NamedCredentialStore, NewUser, TokenStore,
    UserStore,
};

use crate::support::{Env, REDIRECT};

#[tokio::test]
async fn a_granted_user_connects_through_a_named_credential_sharing_its_principal() {
    let env = Env::start().await;
    let flow = env.flow();
    let started = flow
        .begin_named_credential(
            &env.user,
            NamedCredentialDraft {
                name: "acme-principal".into(),
                oauth_app_id: env.app.id,
                url: None,
            },
            REDIRECT,
        )
        .await
        .unwrap();
    let callback = env.consent(&started.authorization_url, &[]).await;
    let Completed::NamedCredential { credential, .. } =
        flow.complete(&env.user, callback).await.unwrap()
    else {
        panic!("expected a named credential");
    };
    assert_eq!(
        credential.url,
        format!("{}/ex/jira/{}", env.sim.info.api_url, env.sim.info.cloud_id)
    );

    let bob = env
        .store
        .create_user(NewUser {
            name: "bob".into(),
            permissions: vec![],
        })
        .await
        .unwrap();
    // Without a grant the connection exists but stays inactive, and Test Connection names why.
    let waiting = flow
        .connect_named_credential(&bob, "bob-acme", "via the credential", credential.id)
        .await
        .unwrap();
    assert_eq!(waiting.status, ConnectionStatus::Inactive);
    assert!(
        waiting
            .status_message
            .as_deref()
            .is_some_and(|m| m.contains("no grant")),
        "{:?}",
        waiting.status_message
    );
    let checker = ConnectionChecker::new(
        env.dyn_store(),
        env.manager(Duration::from_secs(60)),
        env.client.clone(),
    );
    let report = checker.check(waiting.id).await.unwrap();
    assert!(!report.ok());
    assert!(
        report.problems[0].contains("no grant"),
        "{:?}",
        report.problems
    );
    assert_eq!(report.myself_status, None);
    assert!(
        env.manager(Duration::from_secs(60))
            .access_token(waiting.id)
            .await
            .is_err(),
        "an inactive connection hands out no token"
    );
    let err = flow
        .begin_named_credential(
            &bob,
            NamedCredentialDraft {
                name: "nope".into(),
                oauth_app_id: env.app.id,
                url: None,
            },
            REDIRECT,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::Forbidden(_)), "{err}");

    env.store
        .grant_principal(credential.id, bob.id)
        .await
        .unwrap();
    // Once granted, Test Connection passes and activates the connection.
    let report = checker.check(waiting.id).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let c = env.store.get_connection(waiting.id).await.unwrap().unwrap();
    assert_eq!(c.status, ConnectionStatus::Active);
    assert_eq!(c.status_message, None);
    assert_eq!(c.kind, ConnectionKind::NamedCredential);
    assert_eq!(c.token_family_id, credential.principal_family_id);
    assert_eq!(c.cloud_id, env.sim.info.cloud_id);

    let manager = env.manager(Duration::from_secs(60));
    let token = manager.access_token(c.id).await.unwrap();
    let refreshed = manager.force_refresh(c.id, &token).await.unwrap();
    let principal = env
        .store
        .get_tokens(credential.principal_family_id)
        .await
        .unwrap();
    assert_eq!(principal.access_token.expose(), refreshed.expose());

    // Reconnecting a connection on a named credential goes through the credential.
    let err = flow
        .begin_reconnect(&env.user, c.id, REDIRECT)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::Invalid { .. }), "{err}");
    let started = flow
        .begin_reconnect_named_credential(&env.user, credential.id, REDIRECT)
        .await
        .unwrap();
    let callback = env.consent(&started.authorization_url, &[]).await;
    let done = flow.complete(&env.user, callback).await.unwrap();
    assert!(matches!(
        done,
        Completed::NamedCredential {
            reconnected: true,
            ..
        }
    ));
    assert!(manager.access_token(c.id).await.is_ok());

    env.store.delete_connection(c.id).await.unwrap();
    assert!(
        env.store
            .get_named_credential(credential.id)
            .await
            .unwrap()
            .is_some()
    );
}
