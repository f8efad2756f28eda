//! The api.atlassian.com gateway in front of Jira: bearer tokens (missing, unknown, expired,
//! wrong scheme), the sites a grant covers, and the scope check.

use reqwest::Method;
use serde_json::json;

use crate::admin::set;
use crate::support::{TestSim, send_json};
use jiraflow_sim::seed::{ADMIN_ACCOUNT, GLOBEX_CLOUD_ID, MEMBER_PLUS13_ACCOUNT, SECURITY_ACCOUNT};

fn gateway_unauthorized(body: &serde_json::Value) {
    assert_eq!(body, &json!({"code": 401, "message": "Unauthorized"}));
}

#[tokio::test]
async fn a_request_without_a_token_gets_the_gateway_401() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(sim.http.get(sim.api("/myself"))).await;
    assert_eq!(status, 401);
    gateway_unauthorized(&body);
}

#[tokio::test]
async fn an_unknown_token_gets_the_gateway_401() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        sim.http
            .get(sim.api("/myself"))
            .bearer_auth("not-a-real-token"),
    )
    .await;
    assert_eq!(status, 401);
    gateway_unauthorized(&body);
    let (status, _) = send_json(
        sim.http
            .get(sim.api("/myself"))
            .header("authorization", "Bearer "),
    )
    .await;
    assert_eq!(status, 401, "an empty token");
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_without_regard_to_case_and_other_schemes_are_refused() {
    let sim = TestSim::start().await;
    let token = sim.admin_token().to_owned();
    for scheme in ["Bearer", "bearer"] {
        let (status, body) = send_json(
            sim.http
                .get(sim.api("/myself"))
                .header("authorization", format!("{scheme} {token}")),
        )
        .await;
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    let (status, _) = send_json(
        sim.http
            .get(sim.api("/myself"))
            .header("authorization", format!("Basic {token}")),
    )
    .await;
    assert_eq!(status, 401, "Basic is not the gateway's scheme");
    let (status, _) = send_json(
        sim.http
            .get(sim.api("/myself"))
            .header("authorization", token.clone()),
    )
    .await;
    assert_eq!(status, 401, "a token without a scheme");
}

#[tokio::test]
async fn an_expired_token_gets_the_configured_status() {
    let sim = TestSim::start().await;
    let token = sim.token_for(ADMIN_ACCOUNT, &["read:jira-user"]);
    let (status, _) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&token)).await;
    assert_eq!(status, 200);
    sim.sim.state.clock.advance_ms(3_600_001);
    let (status, body) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&token)).await;
    assert_eq!(status, 401);
    gateway_unauthorized(&body);

    set(&sim, json!({"expired_token_status": 403})).await;
    let (status, body) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&token)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], 403);
}

#[tokio::test]
async fn a_token_is_refused_on_a_site_outside_its_grant() {
    let sim = TestSim::start().await;
    // Kiri is a member of acme only, so her grant covers acme only.
    let token = sim.token_for(MEMBER_PLUS13_ACCOUNT, &["read:jira-user"]);
    let globex = |path: &str| {
        format!(
            "{}/ex/jira/{GLOBEX_CLOUD_ID}/rest/api/3{path}",
            sim.sim.info.api_url
        )
    };
    let (status, _) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&token)).await;
    assert_eq!(status, 200);
    let (status, body) = send_json(sim.http.get(globex("/myself")).bearer_auth(&token)).await;
    assert_eq!(status, 401);
    gateway_unauthorized(&body);

    let unknown = format!(
        "{}/ex/jira/00000000-0000-4000-8000-000000000000/rest/api/3/myself",
        sim.sim.info.api_url
    );
    let (status, _) = send_json(sim.http.get(unknown).bearer_auth(sim.admin_token())).await;
    assert_eq!(status, 401, "an unknown cloud id");

    let (status, _) = send_json(
        sim.http
            .get(globex("/myself"))
            .bearer_auth(sim.admin_token()),
    )
    .await;
    assert_eq!(status, 200, "the admin's grant covers both sites");
}

#[tokio::test]
async fn a_token_missing_the_operation_scope_gets_the_scope_401() {
    let sim = TestSim::start().await;
    let token = sim.token_for(SECURITY_ACCOUNT, &["read:jira-work"]);
    let (status, body) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&token)).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code": 401, "message": "Unauthorized; scope does not match"})
    );
}

#[tokio::test]
async fn requests_through_the_gateway_are_counted() {
    let sim = TestSim::start().await;
    for _ in 0..3 {
        let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
        assert_eq!(status, 200);
    }
    let (_, stats) = send_json(
        sim.http
            .get(format!("{}/stats", sim.sim.info.sim_admin_url)),
    )
    .await;
    assert!(
        stats["counters"]["apiRequests"]
            .as_u64()
            .is_some_and(|n| n >= 3),
        "{stats}"
    );
}
