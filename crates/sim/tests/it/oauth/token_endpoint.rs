//! The token endpoint's grants and errors, refresh-token rotation with the reuse interval and
//! family revocation, access-token expiry at the gateway, and the discovery endpoints.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    ALL_SCOPES, CALLBACK, accessible_resources, auto_code, auto_sim, counter, exchange, myself,
    refresh, str_of, token_json, token_url,
};
use crate::support::{TestSim, send_json};

#[tokio::test]
async fn wrong_client_credentials_are_refused_with_401_access_denied() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (status, body) = token_json(
        &sim,
        json!({
            "grant_type": "authorization_code",
            "client_id": sim.sim.info.client_id,
            "client_secret": "wrong",
            "code": code,
            "redirect_uri": CALLBACK,
        }),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );
    // The code survives a failed client authentication; Basic credentials are a fallback.
    let response = sim
        .http
        .post(token_url(&sim))
        .basic_auth(&sim.sim.info.client_id, Some(&sim.sim.info.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_reused_code_is_invalid_grant_and_revokes_what_it_produced() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (status, first) = exchange(&sim, &code).await;
    assert_eq!(status, 200);
    let (status, again) = exchange(&sim, &code).await;
    assert_eq!(status, 403);
    assert_eq!(again["error"], "invalid_grant");
    let (status, _) = myself(
        &sim,
        jiraflow_sim::seed::ACME_CLOUD_ID,
        str_of(&first, "access_token"),
    )
    .await;
    assert_eq!(
        status, 401,
        "the access token from the first exchange is revoked"
    );
    let (status, _) = refresh(&sim, str_of(&first, "refresh_token")).await;
    assert_eq!(status, 403);
    assert!(counter(&sim, |c| &c.invalid_grants) >= 2);
}

#[tokio::test]
async fn an_expired_code_or_a_different_redirect_uri_is_invalid_grant() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (status, body) = token_json(
        &sim,
        json!({
            "grant_type": "authorization_code",
            "client_id": sim.sim.info.client_id,
            "client_secret": sim.sim.info.client_secret,
            "code": code,
            "redirect_uri": "http://localhost:8080/oauth/callback",
        }),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("invalid_grant"))
    );
    sim.sim.state.clock.advance_ms(301_000);
    let (status, body) = exchange(&sim, &code).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(counter(&sim, |c| &c.code_exchanges), 0);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_the_previous_one_is_reusable_inside_the_interval() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (_, first) = exchange(&sim, &code).await;
    let old = str_of(&first, "refresh_token").to_owned();
    let (status, second) = refresh(&sim, &old).await;
    assert_eq!(status, 200, "{second}");
    let newer = str_of(&second, "refresh_token");
    assert_ne!(newer, old, "rotated");
    assert_eq!(
        second["scope"],
        "offline_access read:jira-user read:jira-work write:jira-work"
    );
    let (status, _) = myself(
        &sim,
        jiraflow_sim::seed::ACME_CLOUD_ID,
        str_of(&second, "access_token"),
    )
    .await;
    assert_eq!(status, 200);
    // A retry with the old token (the response was "lost") is tolerated inside the interval.
    sim.sim.state.clock.advance_ms(60_000);
    let (status, retried) = refresh(&sim, &old).await;
    assert_eq!(status, 200);
    assert_eq!(counter(&sim, |c| &c.refresh_reuse_hits), 1);
    let (status, _) = refresh(&sim, str_of(&retried, "refresh_token")).await;
    assert_eq!(
        status, 200,
        "the pair minted by the reuse is the current one"
    );
    assert_eq!(counter(&sim, |c| &c.refreshes), 3);
}

#[tokio::test]
async fn reusing_a_rotated_out_token_after_the_interval_revokes_the_whole_family() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (_, first) = exchange(&sim, &code).await;
    let old = str_of(&first, "refresh_token").to_owned();
    let (_, second) = refresh(&sim, &old).await;
    let (_, third) = refresh(&sim, str_of(&second, "refresh_token")).await;
    sim.sim.state.clock.advance_ms(601_000);
    let (status, body) = refresh(&sim, &old).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
    );
    assert_eq!(counter(&sim, |c| &c.family_revocations), 1);
    let (status, _) = refresh(&sim, str_of(&third, "refresh_token")).await;
    assert_eq!(status, 403, "the newest refresh token died with the family");
    for tokens in [&first, &second, &third] {
        let (status, _) = myself(
            &sim,
            jiraflow_sim::seed::ACME_CLOUD_ID,
            str_of(tokens, "access_token"),
        )
        .await;
        assert_eq!(status, 401, "access tokens of the family are revoked");
    }
    let stats = jiraflow_sim::oauth::token_stats(&sim.sim.state.world.read(), 0);
    assert_eq!(stats["families"]["endedByReason"]["refreshReuse"], 1);
}

#[tokio::test]
async fn an_idle_refresh_token_expires_after_the_inactivity_window() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (_, first) = exchange(&sim, &code).await;
    sim.sim.state.clock.advance_ms(91 * 24 * 3600 * 1000);
    let (status, body) = refresh(&sim, str_of(&first, "refresh_token")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, "read:jira-work read:jira-user", &[]).await;
    let (status, tokens) = exchange(&sim, &code).await;
    assert_eq!(status, 200);
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(tokens["scope"], "read:jira-user read:jira-work");
}

#[tokio::test]
async fn expired_access_tokens_get_the_configured_status_at_the_gateway() {
    let sim = auto_sim().await;
    sim.sim.state.settings.write().access_token_ttl_secs = 1;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (_, tokens) = exchange(&sim, &code).await;
    assert_eq!(tokens["expires_in"], 1);
    let access = str_of(&tokens, "access_token").to_owned();
    let acme = jiraflow_sim::seed::ACME_CLOUD_ID;
    assert_eq!(myself(&sim, acme, &access).await.0, 200);
    sim.sim.state.clock.advance_ms(1_500);
    for status in [401u16, 403, 404] {
        sim.sim.state.settings.write().expired_token_status = status;
        let (answered, body) = myself(&sim, acme, &access).await;
        assert_eq!(answered, status, "{body}");
    }
    assert_eq!(accessible_resources(&sim, &access).await.0, 401);
}

#[tokio::test]
async fn the_token_endpoint_checks_grant_type_and_required_parameters() {
    let sim = auto_sim().await;
    let client_id = sim.sim.info.client_id.clone();
    let secret = sim.sim.info.client_secret.clone();
    let (status, body) = token_json(
        &sim,
        json!({"grant_type": "password", "client_id": client_id, "client_secret": secret}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = token_json(
        &sim,
        json!({"grant_type": "authorization_code", "client_id": client_id, "client_secret": secret}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = send_json(
        sim.http
            .post(token_url(&sim))
            .form(&[("client_id", client_id.as_str())]),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = refresh(&sim, "not-a-token").await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error_description"],
        "Unknown or invalid refresh token."
    );
}

#[tokio::test]
async fn tenant_info_maps_a_site_to_its_cloud_id_without_authentication() {
    let sim = TestSim::start().await;
    let url = format!("{}/_edge/tenant_info", sim.sim.info.site_url);
    let (status, body) = send_json(sim.http.get(url)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"cloudId": sim.sim.info.cloud_id}));
    let unknown = format!("{}/site/nowhere/_edge/tenant_info", sim.sim.info.api_url);
    assert_eq!(send_json(sim.http.get(unknown)).await.0, 404);
    let (status, _) = accessible_resources(&sim, "unknown").await;
    assert_eq!(status, 401);
}
