//! Health, metrics, the OAuth callback, connections and the webhook route.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::support::Harness;

#[tokio::test]
async fn healthz_answers_ok_while_the_store_is_reachable() {
    let h = Harness::start("health").await;
    let answer = h
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["status"], "ok");
    h.stop().await;
}

#[tokio::test]
async fn metrics_expose_every_series_in_prometheus_text() {
    let h = Harness::start("metrics").await;
    h.connect("acme").await;
    // One Jira call through the shared clients, so the per-connection counters exist.
    let tested = h.admin(Method::POST, "/api/v1/connections/acme/test").await;
    assert_eq!(tested.status, StatusCode::OK);
    let key = h.admin_key.clone();
    h.call(
        Some(&key),
        Method::POST,
        "/api/v1/files?name=a.txt",
        Some(("text/plain", b"abc".to_vec())),
    )
    .await;
    use jiraflow_engine::connections::ClientSource;
    h.state.clients().client("acme").await.unwrap();
    let answer = h
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = answer.text();
    for series in [
        "jiraflow_uptime_seconds ",
        "jiraflow_runs{status=\"pending\"} 0",
        "jiraflow_runs{status=\"succeeded\"} 0",
        "jiraflow_steps_retried_total 0",
        "# TYPE jiraflow_trigger_lag_seconds gauge",
        "# TYPE jiraflow_trigger_events_enqueued_total counter",
        "# TYPE jiraflow_trigger_duplicates_dropped_total counter",
        "jiraflow_file_objects 1",
        "jiraflow_file_bytes 3",
        "jiraflow_jira_requests_total{connection=\"acme\"}",
        "jiraflow_jira_retries_total{connection=\"acme\"}",
        "jiraflow_jira_rate_limited_total{connection=\"acme\"}",
        "jiraflow_webhook_deliveries_total{outcome=\"rejected\"} 0",
    ] {
        assert!(text.contains(series), "missing {series:?} in:\n{text}");
    }
    h.stop().await;
}

#[tokio::test]
async fn a_connection_made_through_the_callback_is_shown_without_secrets_and_tests_ok() {
    let h = Harness::start("conn").await;
    h.connect("acme").await;
    let listed = h.admin(Method::GET, "/api/v1/connections").await;
    let text = listed.text();
    let v = listed.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "acme");
    assert_eq!(v[0]["status"], "active");
    assert_eq!(v[0]["oauth_app"], "sim");
    assert!(
        v[0]["tokens"]["scopes"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(
        !text.contains("access_token\":\"") && !text.contains("refresh_token"),
        "{text}"
    );
    let tested = h
        .admin(Method::POST, "/api/v1/connections/acme/test")
        .await
        .json();
    assert_eq!(tested["ok"], true, "{tested}");
    h.stop().await;
}

#[tokio::test]
async fn a_callback_for_a_state_this_server_did_not_start_creates_nothing() {
    let h = Harness::start("callback").await;
    let answer = h
        .send(
            Request::get("/oauth/callback?code=abc&state=forged-state")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.text().contains("nothing was created"),
        "{}",
        answer.text()
    );
    let missing = h
        .send(Request::get("/oauth/callback").body(Body::empty()).unwrap())
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        h.admin(Method::GET, "/api/v1/connections").await.json(),
        serde_json::json!([])
    );
    h.stop().await;
}

#[tokio::test]
async fn the_webhook_route_answers_unavailable_without_a_receiver() {
    let h = Harness::start("hook").await;
    let answer = h
        .send(
            Request::post("/webhooks/jira")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.error().0, "unavailable");
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_api_route_answers_a_json_not_found() {
    let h = Harness::start("route").await;
    let answer = h.admin(Method::GET, "/api/v1/nothing-here").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error().0, "not_found");
    let triggers = h.admin(Method::GET, "/api/v1/triggers").await;
    assert_eq!(triggers.json(), serde_json::json!([]));
    h.stop().await;
}

#[tokio::test]
async fn the_webhook_route_refuses_forged_and_malformed_deliveries() {
    let h = Harness::start_with("forged", true).await;
    let delivery = |authorization: &str, body: &str| {
        Request::post("/webhooks/jira")
            .header("content-type", "application/json")
            .header("x-atlassian-webhook-identifier", "delivery-1")
            .header("authorization", authorization)
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let body = r#"{"matchedWebhookIds":[10001],"webhookEvent":"jira:issue_created","issue":{"id":"10001"}}"#;
    let forged = h
        .send(delivery(
            "JWT eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqaXJhIn0.Zm9yZ2Vk",
            body,
        ))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.text());
    assert_eq!(forged.error().0, "unauthorized");

    let malformed = h
        .send(delivery(
            "JWT x.y.z",
            r#"{"webhookEvent":"jira:issue_created"}"#,
        ))
        .await;
    assert_eq!(
        malformed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        malformed.text()
    );

    let metrics = h
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert!(
        metrics
            .text()
            .contains("jiraflow_webhook_deliveries_total{outcome=\"rejected\"} 2"),
        "{}",
        metrics.text()
    );
    // Nothing was enqueued.
    assert_eq!(
        h.admin(Method::GET, "/api/v1/runs").await.json(),
        serde_json::json!([])
    );
    h.stop().await;
}
