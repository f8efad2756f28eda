//! Conformance checks for users, API keys, OAuth apps and pending authorizations.

use std::sync::Arc;
use std::time::Duration;

use super::{DynStore, fixture_app, fixture_scopes, fixture_user};
use crate::error::{StateRejection, StoreResult};
use crate::model::{Environment, NewOAuthApp, NewPendingAuthorization, NewUser, PendingPurpose};
use crate::secret::{ApiKeySecret, ClientSecret};

/// User names are unique case-insensitively, permissions round-trip, bad names are refused.
pub async fn users_have_unique_names_and_permissions(store: DynStore) -> StoreResult<()> {
    let alice = store
        .create_user(NewUser {
            name: " alice ".to_owned(),
            permissions: vec![],
        })
        .await?;
    assert_eq!(alice.name, "alice");
    assert!(alice.permissions.is_empty());
    let dup = store
        .create_user(NewUser {
            name: "ALICE".to_owned(),
            permissions: vec![],
        })
        .await;
    assert!(
        dup.as_ref().err().is_some_and(|e| e.is_duplicate()),
        "{dup:?}"
    );
    let empty = store
        .create_user(NewUser {
            name: "  ".to_owned(),
            permissions: vec![],
        })
        .await;
    assert!(
        empty.as_ref().err().is_some_and(|e| e.is_invalid()),
        "{empty:?}"
    );
    let admin = store
        .set_permissions(
            alice.id,
            vec![crate::model::Permission::ManageIntegrationConnections],
        )
        .await?;
    assert!(admin.has(crate::model::Permission::ManageIntegrationConnections));
    let found = store.find_user_by_name("Alice").await?;
    assert_eq!(found.as_ref().map(|u| u.id), Some(alice.id));
    assert_eq!(store.get_user(alice.id).await?, Some(admin));
    assert_eq!(store.list_users().await?.len(), 1);
    let missing = store
        .set_permissions(crate::ids::UserId::new(), vec![])
        .await;
    assert!(missing.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}

/// An API key is shown once, authenticates its user, and stops working once revoked.
pub async fn api_keys_authenticate_by_hash_and_can_be_revoked(store: DynStore) -> StoreResult<()> {
    let user = fixture_user(&store, "bob").await?;
    let created = store.create_api_key(user, "ci".to_owned()).await?;
    assert!(created.key.expose().starts_with(&created.record.prefix));
    assert!(
        created.key.expose().len() >= 40,
        "the key carries at least 256 bits"
    );
    assert!(!format!("{created:?}").contains(created.key.expose()));
    let who = store.authenticate_api_key(&created.key).await?;
    assert_eq!(who.map(|u| u.id), Some(user));
    let wrong = ApiKeySecret::new(format!("{}x", created.key.expose()));
    assert!(store.authenticate_api_key(&wrong).await?.is_none());
    let listed = store.list_api_keys(user).await?;
    assert_eq!(listed, vec![created.record.clone()]);
    store.revoke_api_key(created.record.id).await?;
    assert!(store.authenticate_api_key(&created.key).await?.is_none());
    let again = store.revoke_api_key(created.record.id).await;
    assert!(again.err().is_some_and(|e| e.is_not_found()));
    let orphan = store
        .create_api_key(crate::ids::UserId::new(), "x".to_owned())
        .await;
    assert!(orphan.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}

/// An app's record never carries its secret; the secret is readable only on purpose.
pub async fn oauth_apps_keep_their_secret_write_only(store: DynStore) -> StoreResult<()> {
    let app = store
        .create_oauth_app(NewOAuthApp::production(
            "Atlassian",
            "cid",
            ClientSecret::new("s3cr3t-client-SENTINEL"),
            fixture_scopes(),
        ))
        .await?;
    assert_eq!(app.auth_base_url, crate::model::PRODUCTION_AUTH_BASE_URL);
    assert_eq!(app.api_base_url, crate::model::PRODUCTION_API_BASE_URL);
    assert_eq!(app.environment, Environment::Production);
    assert!(!format!("{app:?}").contains("SENTINEL"));
    let secret = store.oauth_app_client_secret(app.id).await?;
    assert_eq!(secret.expose(), "s3cr3t-client-SENTINEL");
    store
        .set_oauth_app_client_secret(app.id, ClientSecret::new("rotated-SENTINEL"))
        .await?;
    assert_eq!(
        store.oauth_app_client_secret(app.id).await?.expose(),
        "rotated-SENTINEL"
    );
    let dup = store
        .create_oauth_app(NewOAuthApp::production(
            "atlassian",
            "cid2",
            ClientSecret::new("x"),
            vec![],
        ))
        .await;
    assert!(dup.err().is_some_and(|e| e.is_duplicate()));
    let mut bad = NewOAuthApp::production("bad", "cid", ClientSecret::new("x"), vec![]);
    bad.api_base_url = "api.atlassian.com".to_owned();
    let bad = store.create_oauth_app(bad).await;
    assert!(bad.err().is_some_and(|e| e.is_invalid()));
    let empty_secret = store
        .create_oauth_app(NewOAuthApp::production(
            "empty",
            "cid",
            ClientSecret::new(""),
            vec![],
        ))
        .await;
    assert!(empty_secret.err().is_some_and(|e| e.is_invalid()));
    assert_eq!(store.list_oauth_apps().await?.len(), 1);
    assert_eq!(
        store
            .find_oauth_app_by_name("ATLASSIAN")
            .await?
            .map(|a| a.id),
        Some(app.id)
    );
    store.delete_oauth_app(app.id).await?;
    assert!(store.get_oauth_app(app.id).await?.is_none());
    Ok(())
}

fn new_pending(
    user_id: crate::ids::UserId,
    app: crate::ids::OAuthAppId,
    ttl: Duration,
) -> NewPendingAuthorization {
    NewPendingAuthorization {
        user_id,
        oauth_app_id: app,
        purpose: PendingPurpose::NewConnection {
            name: "Jira".to_owned(),
            description: String::new(),
            site_url: None,
        },
        redirect_uri: "http://127.0.0.1:8080/oauth/callback".to_owned(),
        scopes: fixture_scopes(),
        ttl,
    }
}

/// A state is taken once, only by its user, only before it expires, with a clear reason.
pub async fn pending_states_are_single_use_and_bound(store: DynStore) -> StoreResult<()> {
    let alice = fixture_user(&store, "alice").await?;
    let mallory = fixture_user(&store, "mallory").await?;
    let app = fixture_app(&store, "app").await?;
    let (state, record) = store
        .create_pending(new_pending(alice, app, Duration::from_secs(600)))
        .await?;
    assert!(state.expose().len() >= 22, "at least 128 bits of state");
    assert!(!format!("{state:?}").contains(state.expose()));
    let other = store.take_pending(&state, mallory).await;
    assert_eq!(
        other.err().and_then(|e| e.state_rejection()),
        Some(StateRejection::OtherUser)
    );
    let taken = store.take_pending(&state, alice).await?;
    assert_eq!(taken, record);
    assert_eq!(taken.redirect_uri, "http://127.0.0.1:8080/oauth/callback");
    let again = store.take_pending(&state, alice).await;
    assert_eq!(
        again.err().and_then(|e| e.state_rejection()),
        Some(StateRejection::AlreadyUsed)
    );
    let unknown = store
        .take_pending(&crate::secret::StateToken::new("nope"), alice)
        .await;
    assert_eq!(
        unknown.err().and_then(|e| e.state_rejection()),
        Some(StateRejection::Unknown)
    );
    let (short, _) = store
        .create_pending(new_pending(alice, app, Duration::from_secs(1)))
        .await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = store.take_pending(&short, alice).await;
    assert_eq!(
        expired.err().and_then(|e| e.state_rejection()),
        Some(StateRejection::Expired)
    );
    let bad_ttl = store
        .create_pending(new_pending(alice, app, Duration::from_secs(0)))
        .await;
    assert!(bad_ttl.err().is_some_and(|e| e.is_invalid()));
    let mut bad_redirect = new_pending(alice, app, Duration::from_secs(60));
    bad_redirect.redirect_uri = "not a url".to_owned();
    assert!(
        store
            .create_pending(bad_redirect)
            .await
            .err()
            .is_some_and(|e| e.is_invalid())
    );
    assert_eq!(store.purge_pending().await?, 2);
    Ok(())
}

/// Many concurrent callbacks with one state: exactly one wins.
pub async fn pending_state_is_single_use_under_concurrency(store: DynStore) -> StoreResult<()> {
    let alice = fixture_user(&store, "alice").await?;
    let app = fixture_app(&store, "app").await?;
    let (state, _) = store
        .create_pending(new_pending(alice, app, Duration::from_secs(600)))
        .await?;
    let state = Arc::new(state);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        let state = Arc::clone(&state);
        tasks.push(tokio::spawn(async move {
            store.take_pending(&state, alice).await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(_)) => wins += 1,
            Ok(Err(e)) => assert_eq!(e.state_rejection(), Some(StateRejection::AlreadyUsed)),
            Err(join) => panic!("task failed: {join}"),
        }
    }
    assert_eq!(wins, 1);
    Ok(())
}
