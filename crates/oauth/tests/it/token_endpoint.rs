//! The token manager against a scripted token endpoint (wiremock): transient failures retried
//! with the same refresh token, a missing refresh token keeping the stored one, `invalid_grant`
//! marking the connection, bad client credentials staying a configuration error.

use std::time::Duration;

use jiraflow_oauth::OAuthError;
use jiraflow_store::{
    AccessToken, ClientSecret, Connection, ConnectionSource, ConnectionStatus, ConnectionStore,
    Environment, NewConnection, NewOAuthApp, NewTokens, OAuthAppStore, RefreshToken, TokenStore,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Env, all_scopes};

const OLD_REFRESH: &str = "refresh-SECRET-old-0123456789";

/// A connection whose app points at `server` and whose access token has already expired.
async fn expired_connection(env: &Env, server: &MockServer) -> Connection {
    let app = env
        .store
        .create_oauth_app(NewOAuthApp {
            name: "scripted".into(),
            client_id: "cid".into(),
            client_secret: ClientSecret::new("client-SECRET-value"),
            scopes: all_scopes(),
            auth_base_url: server.uri(),
            api_base_url: server.uri(),
            environment: Environment::Sandbox,
        })
        .await
        .unwrap();
    env.store
        .create_connection(NewConnection {
            name: "scripted".into(),
            description: String::new(),
            source: ConnectionSource::OAuthApp {
                oauth_app_id: app.id,
                tokens: NewTokens {
                    access_token: AccessToken::new("access-SECRET-old"),
                    refresh_token: Some(RefreshToken::new(OLD_REFRESH)),
                    expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
                    scopes: all_scopes(),
                },
            },
            cloud_id: "cloud-1".into(),
            site_url: None,
            created_by: Some(env.user.id),
        })
        .await
        .unwrap()
}

fn token_answer(refresh: Option<&str>) -> ResponseTemplate {
    let mut body = serde_json::json!({
        "access_token": "access-SECRET-new",
        "expires_in": 3600,
        "token_type": "Bearer",
        "scope": all_scopes().join(" "),
    });
    if let Some(r) = refresh {
        body["refresh_token"] = r.into();
    }
    ResponseTemplate::new(200).set_body_json(body)
}

async fn presented_refresh_tokens(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            body["refresh_token"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn transient_failures_are_retried_with_the_same_refresh_token() {
    let env = Env::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token_answer(Some("refresh-SECRET-new")))
        .mount(&server)
        .await;
    let c = expired_connection(&env, &server).await;
    let token = env
        .manager(Duration::from_secs(60))
        .access_token(c.id)
        .await
        .unwrap();
    assert_eq!(token.expose(), "access-SECRET-new");
    assert_eq!(
        presented_refresh_tokens(&server).await,
        vec![OLD_REFRESH; 3]
    );
    let stored = env.store.get_tokens(c.token_family_id).await.unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-SECRET-new");
}

#[tokio::test]
async fn an_answer_without_a_refresh_token_keeps_the_stored_one() {
    let env = Env::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token_answer(None))
        .mount(&server)
        .await;
    let c = expired_connection(&env, &server).await;
    env.manager(Duration::from_secs(60))
        .access_token(c.id)
        .await
        .unwrap();
    let stored = env.store.get_tokens(c.token_family_id).await.unwrap();
    assert_eq!(stored.access_token.expose(), "access-SECRET-new");
    assert_eq!(stored.refresh_token.unwrap().expose(), OLD_REFRESH);
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_without_retrying() {
    let env = Env::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "error": "invalid_grant",
            "error_description": "Unknown or invalid refresh token."
        })))
        .mount(&server)
        .await;
    let c = expired_connection(&env, &server).await;
    let err = env
        .manager(Duration::from_secs(60))
        .access_token(c.id)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::ReconnectRequired { .. }), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let c = env.store.get_connection(c.id).await.unwrap().unwrap();
    assert_eq!(c.status, ConnectionStatus::ReconnectRequired);
    let message = c.status_message.unwrap();
    assert!(
        message.contains("Unknown or invalid refresh token"),
        "{message}"
    );
    assert!(!format!("{err} {err:?} {message}").contains("SECRET"));
}

#[tokio::test]
async fn rejected_client_credentials_leave_the_connection_active() {
    let env = Env::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "access_denied",
            "error_description": "Unauthorized"
        })))
        .mount(&server)
        .await;
    let c = expired_connection(&env, &server).await;
    let err = env
        .manager(Duration::from_secs(60))
        .access_token(c.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, OAuthError::ClientAuthentication { .. }),
        "{err}"
    );
    assert!(!err.needs_reconsent());
    let c = env.store.get_connection(c.id).await.unwrap().unwrap();
    assert_eq!(c.status, ConnectionStatus::Active);
    assert!(!format!("{err} {err:?}").contains("SECRET"));
}

#[tokio::test]
async fn a_reconnect_during_a_refresh_wins_and_the_stale_answer_is_dropped() {
    let env = Env::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            token_answer(Some("refresh-SECRET-new")).set_delay(Duration::from_millis(800)),
        )
        .mount(&server)
        .await;
    let c = expired_connection(&env, &server).await;
    let manager = env.manager(Duration::from_secs(60));
    let refreshing = tokio::spawn({
        let manager = manager.clone();
        async move { manager.access_token(c.id).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.store
        .replace_family(
            c.token_family_id,
            NewTokens {
                access_token: AccessToken::new("access-SECRET-reconnected"),
                refresh_token: Some(RefreshToken::new("refresh-SECRET-reconnected")),
                expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                scopes: all_scopes(),
            },
        )
        .await
        .unwrap();
    let token = refreshing.await.unwrap().unwrap();
    assert_eq!(token.expose(), "access-SECRET-reconnected");
    let stored = env.store.get_tokens(c.token_family_id).await.unwrap();
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        "refresh-SECRET-reconnected"
    );
}
