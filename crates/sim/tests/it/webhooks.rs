//! Dynamic webhooks: registration with per-entry errors (HTTP 200), listing, refresh and deletion
//! in the spec's shapes, the single-URL and count rules, and deliveries to a local receiver: HS256
//! JWT signed with the client secret, v2 payloads, field filters, retries with a stable
//! identifier, expiry and the private-app owner rule.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, send_json};
use jiraflow_sim::seed::{ADMIN_ACCOUNT, CLASSIC_SCOPES, MEMBER_ACCOUNT, adf_paragraph};

const WEBHOOK: &str = "/rest/api/3/webhook";

/// A local HTTP endpoint that records deliveries and answers with queued statuses (200 when the
/// queue is empty).
struct Receiver {
    url: String,
    deliveries: mpsc::UnboundedReceiver<(HeaderMap, Value)>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start() -> Self {
        let (tx, deliveries) = mpsc::unbounded_channel();
        let statuses: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let queued = statuses.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                let queued = queued.clone();
                async move {
                    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let _ = tx.send((headers, value));
                    let status = queued.lock().expect("lock").pop_front().unwrap_or(200);
                    StatusCode::from_u16(status).expect("status")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hook"),
            deliveries,
            statuses,
        }
    }

    async fn next(&mut self) -> (HeaderMap, Value) {
        tokio::time::timeout(Duration::from_secs(10), self.deliveries.recv())
            .await
            .expect("a delivery arrives")
            .expect("channel open")
    }

    async fn nothing_within(&mut self, ms: u64) {
        let got = tokio::time::timeout(Duration::from_millis(ms), self.deliveries.recv()).await;
        assert!(
            got.is_err(),
            "unexpected delivery: {:?}",
            got.ok().flatten().map(|d| d.1)
        );
    }
}

async fn register(sim: &TestSim, url: &str, webhooks: Value) -> (u16, Value) {
    send_json(
        sim.admin(Method::POST, "/webhook")
            .json(&json!({ "url": url, "webhooks": webhooks })),
    )
    .await
}

/// Uploads a small attachment to `key` (an `issue_updated` event with an `attachment` change).
async fn touch_with_attachment(sim: &TestSim, key: &str) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("t.txt"),
    );
    let (status, body) = send_json(
        sim.admin(Method::POST, &format!("/issue/{key}/attachments"))
            .header("X-Atlassian-Token", "no-check")
            .multipart(form),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Verifies an HS256 JWT with `secret` and returns its claims.
fn verify_jwt(token: &str, secret: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWT");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
    assert_eq!(header["alg"], "HS256");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("b64"))
        .expect("the signature verifies with the client secret");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json")
}

#[tokio::test]
async fn webhooks_are_registered_listed_refreshed_and_deleted_in_the_specs_shapes() {
    let sim = TestSim::start().await;
    let now = sim.sim.state.clock.now_ms();
    let (status, body) = register(
        &sim,
        "https://hooks.example/jira",
        json!([
            { "events": ["jira:issue_created", "jira:issue_updated"], "jqlFilter": "project = DEMO", "fieldIdsFilter": ["summary"] },
            { "events": ["jira:issue_updated"], "jqlFilter": "watchCount = 1" },
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("POST", WEBHOOK, 200, &body);
    let results = body["webhookRegistrationResult"]
        .as_array()
        .expect("results");
    let id = results[0]["createdWebhookId"].as_u64().expect("an id");
    assert_eq!(
        results[1]["errors"],
        json!(["The clause watchCount is unsupported"])
    );
    let (status, page) = send_json(sim.admin(Method::GET, "/webhook")).await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", WEBHOOK, 200, &page);
    assert_eq!(page["total"], 1);
    let listed = &page["values"][0];
    assert_eq!(listed["id"], id);
    assert_eq!(listed["fieldIdsFilter"], json!(["summary"]));
    let expires = listed["expirationDate"].as_i64().expect("epoch millis");
    let thirty_days = 30 * 24 * 3600 * 1000;
    assert!((expires - (now + thirty_days)).abs() < 60_000, "{expires}");
    sim.sim.state.clock.advance_ms(24 * 3600 * 1000);
    let (status, refreshed) = send_json(
        sim.admin(Method::PUT, "/webhook/refresh")
            .json(&json!({ "webhookIds": [id, 424242] })),
    )
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("PUT", "/rest/api/3/webhook/refresh", 200, &refreshed);
    assert!(refreshed["expirationDate"].as_i64().expect("millis") > expires);
    let (status, _) = send_json(
        sim.admin(Method::DELETE, "/webhook")
            .json(&json!({ "webhookIds": [id, 424242] })),
    )
    .await;
    assert_eq!(status, 202);
    let (_, page) = send_json(sim.admin(Method::GET, "/webhook")).await;
    assert_eq!(page["total"], 0);
    let (status, _) = send_json(sim.admin(Method::DELETE, "/webhook").json(&json!({}))).await;
    assert_eq!(status, 400, "webhookIds is required");
}

#[tokio::test]
async fn unsupported_filters_events_and_bad_jql_are_per_entry_errors_with_http_200() {
    let sim = TestSim::start().await;
    let (status, body) = register(
        &sim,
        "https://hooks.example/jira",
        json!([
            { "events": ["jira:issue_created"], "jqlFilter": "project = DEMO AND labels = x" },
            { "events": ["jira:issue_created"], "jqlFilter": "status ~ Done" },
            { "events": ["jira:issue_created"], "jqlFilter": "project = " },
            { "events": ["jira:issue_exploded"], "jqlFilter": "project = DEMO" },
            { "events": ["jira:issue_created"] },
            { "events": ["comment_created"], "jqlFilter": "project IN (DEMO, OPS) AND issuetype != Bug" },
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("POST", WEBHOOK, 200, &body);
    let results = body["webhookRegistrationResult"]
        .as_array()
        .expect("results");
    assert_eq!(results.len(), 6, "one result per entry, in order");
    assert_eq!(
        results[0]["errors"],
        json!(["The clause labels is unsupported"])
    );
    assert_eq!(
        results[1]["errors"],
        json!(["The operator ~ is unsupported"])
    );
    for r in &results[2..5] {
        assert!(r["errors"].as_array().is_some_and(|e| !e.is_empty()), "{r}");
    }
    assert!(results[5]["createdWebhookId"].is_u64());
}

#[tokio::test]
async fn an_app_has_one_url_and_a_user_a_bounded_number_of_webhooks() {
    let sim = TestSim::start().await;
    let entry = json!({ "events": ["jira:issue_created"], "jqlFilter": "project = DEMO" });
    let (status, _) = register(&sim, "https://a.example/hook", json!([entry])).await;
    assert_eq!(status, 200);
    let (status, body) = register(&sim, "https://b.example/hook", json!([entry])).await;
    assert_eq!(status, 400, "{body}");
    let (_, body) = register(
        &sim,
        "https://a.example/hook",
        json!([entry, entry, entry, entry, entry]),
    )
    .await;
    let results = body["webhookRegistrationResult"]
        .as_array()
        .expect("results");
    assert_eq!(
        results
            .iter()
            .filter(|r| r["createdWebhookId"].is_u64())
            .count(),
        4,
        "five active webhooks per app and user"
    );
    assert!(results[4]["errors"].is_array());
    let (status, _) = send_json(
        sim.admin(Method::POST, "/webhook")
            .json(&json!({ "webhooks": [entry] })),
    )
    .await;
    assert_eq!(status, 400, "url is required");
}

#[tokio::test]
async fn a_matching_event_is_delivered_signed_with_the_client_secret_in_the_v2_shape() {
    let sim = TestSim::start().await;
    let mut receiver = Receiver::start().await;
    let (_, body) = register(
        &sim,
        &receiver.url,
        json!([{ "events": ["jira:issue_updated"], "jqlFilter": "project = DEMO AND status != Done", "fieldIdsFilter": ["attachment"] }]),
    )
    .await;
    let id = body["webhookRegistrationResult"][0]["createdWebhookId"]
        .as_u64()
        .expect("created");
    // A link changes `issuelinks`, which the field filter leaves out.
    let (status, _) = send_json(sim.admin(Method::POST, "/issueLink").json(&json!({
        "type": {"name": "Relates"}, "inwardIssue": {"key": "DEMO-1"}, "outwardIssue": {"key": "DEMO-5"}
    })))
    .await;
    assert_eq!(status, 201);
    receiver.nothing_within(300).await;
    touch_with_attachment(&sim, "DEMO-1").await;
    let (headers, payload) = receiver.next().await;
    let token = headers["authorization"]
        .to_str()
        .expect("ascii")
        .strip_prefix("Bearer ")
        .expect("a bearer JWT")
        .to_owned();
    let claims = verify_jwt(&token, &sim.sim.info.client_secret);
    assert!(claims["exp"].as_i64() > claims["iat"].as_i64());
    assert_eq!(claims["iss"], format!("jira:{}", sim.sim.info.cloud_id));
    assert!(headers.contains_key("x-atlassian-webhook-identifier"));
    assert_eq!(headers["x-atlassian-webhook-flow"], "Primary");
    assert!(!headers.contains_key("x-atlassian-webhook-retry"));
    assert_eq!(payload["webhookEvent"], "jira:issue_updated");
    assert_eq!(payload["issue_event_type_name"], "issue_updated");
    assert_eq!(payload["matchedWebhookIds"], json!([id]));
    assert_eq!(payload["user"]["accountId"], ADMIN_ACCOUNT);
    assert_eq!(payload["issue"]["key"], "DEMO-1");
    let issue_self = payload["issue"]["self"].as_str().expect("self");
    assert!(issue_self.contains("/rest/api/2/issue/"), "{issue_self}");
    assert!(
        payload["issue"]["fields"]["description"].is_string(),
        "plain text, not ADF"
    );
    assert_eq!(payload["changelog"]["items"][0]["field"], "Attachment");
    assert!(payload["timestamp"].is_i64());
}

#[tokio::test]
async fn comment_events_carry_the_comment_and_a_short_issue() {
    let sim = TestSim::start().await;
    let mut receiver = Receiver::start().await;
    register(
        &sim,
        &receiver.url,
        json!([{ "events": ["comment_created"], "jqlFilter": "issuekey = DEMO-3" }]),
    )
    .await;
    let (status, _) = send_json(sim.admin(Method::POST, "/issueLink").json(&json!({
        "type": {"name": "Blocks"}, "inwardIssue": {"key": "DEMO-2"}, "outwardIssue": {"key": "DEMO-3"},
        "comment": {"body": adf_paragraph("Blocked on the outage.")}
    })))
    .await;
    assert_eq!(status, 201);
    let (_, payload) = receiver.next().await;
    assert_eq!(payload["webhookEvent"], "comment_created");
    assert_eq!(
        payload["comment"]["body"].as_str().map(str::trim),
        Some("Blocked on the outage.")
    );
    assert!(payload["issue"]["fields"]["description"].is_null());
    assert!(payload["issue"]["fields"]["status"].is_object());
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_identifier() {
    let sim = TestSim::start().await;
    sim.sim.state.settings.write().webhook_retry_base_ms = 50;
    let mut receiver = Receiver::start().await;
    receiver.statuses.lock().expect("lock").extend([500, 429]);
    register(
        &sim,
        &receiver.url,
        json!([{ "events": ["jira:issue_updated"], "jqlFilter": "project = DEMO" }]),
    )
    .await;
    touch_with_attachment(&sim, "DEMO-2").await;
    let (first, _) = receiver.next().await;
    let (second, _) = receiver.next().await;
    let (third, _) = receiver.next().await;
    let id = &first["x-atlassian-webhook-identifier"];
    assert_eq!(&second["x-atlassian-webhook-identifier"], id);
    assert_eq!(&third["x-atlassian-webhook-identifier"], id);
    assert_eq!(second["x-atlassian-webhook-retry"], "1");
    assert_eq!(third["x-atlassian-webhook-retry"], "2");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stats = sim.sim.state.counters.snapshot();
    assert_eq!(stats["webhookAttempts"], 3);
    assert_eq!(stats["webhookDelivered"], 1);
}

#[tokio::test]
async fn deliveries_are_abandoned_after_the_last_attempt() {
    let sim = TestSim::start().await;
    {
        let mut settings = sim.sim.state.settings.write();
        settings.webhook_retry_base_ms = 10;
        settings.webhook_max_attempts = 2;
    }
    let mut receiver = Receiver::start().await;
    receiver
        .statuses
        .lock()
        .expect("lock")
        .extend([503, 503, 503]);
    register(
        &sim,
        &receiver.url,
        json!([{ "events": ["jira:issue_updated"], "jqlFilter": "project = DEMO" }]),
    )
    .await;
    touch_with_attachment(&sim, "DEMO-2").await;
    receiver.next().await;
    receiver.next().await;
    receiver.nothing_within(300).await;
    assert_eq!(sim.sim.state.counters.snapshot()["webhookAbandoned"], 1);
}

#[tokio::test]
async fn expired_webhooks_stay_silent_until_refreshed() {
    let sim = TestSim::start().await;
    let mut receiver = Receiver::start().await;
    let (_, body) = register(
        &sim,
        &receiver.url,
        json!([{ "events": ["jira:issue_updated"], "jqlFilter": "project = DEMO" }]),
    )
    .await;
    let id = body["webhookRegistrationResult"][0]["createdWebhookId"].clone();
    sim.sim.state.clock.advance_ms(31 * 24 * 3600 * 1000);
    touch_with_attachment(&sim, "DEMO-4").await;
    receiver.nothing_within(400).await;
    let (status, _) = send_json(
        sim.admin(Method::PUT, "/webhook/refresh")
            .json(&json!({ "webhookIds": [id] })),
    )
    .await;
    assert_eq!(status, 200);
    touch_with_attachment(&sim, "DEMO-4").await;
    let (_, payload) = receiver.next().await;
    assert_eq!(payload["matchedWebhookIds"], json!([id]));
}

#[tokio::test]
async fn a_private_apps_webhooks_registered_by_someone_else_than_the_owner_are_not_delivered() {
    let sim = TestSim::start().await;
    let mut receiver = Receiver::start().await;
    let bob = sim.token_for(MEMBER_ACCOUNT, CLASSIC_SCOPES);
    let (status, body) = send_json(sim.http.post(sim.api("/webhook")).bearer_auth(&bob).json(
        &json!({
            "url": receiver.url,
            "webhooks": [{ "events": ["jira:issue_updated"], "jqlFilter": "project = DEMO" }],
        }),
    ))
    .await;
    assert_eq!(status, 200);
    assert!(body["webhookRegistrationResult"][0]["createdWebhookId"].is_u64());
    touch_with_attachment(&sim, "DEMO-4").await;
    receiver.nothing_within(400).await;
}

#[tokio::test]
async fn webhook_endpoints_need_the_webhook_scope() {
    let sim = TestSim::start().await;
    let token = sim.token_for(ADMIN_ACCOUNT, &["read:jira-work"]);
    let (status, _) = send_json(sim.http.get(sim.api("/webhook")).bearer_auth(token)).await;
    assert_eq!(status, 401);
}
