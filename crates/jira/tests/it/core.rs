//! The choke point: auth, retries, Retry-After, rate-limit pause scopes, token refresh, error
//! mapping, timeouts, redirects and metrics (wiremock), plus Test Connection against the simulator.
//! Also hosts the test support the issue and search modules share.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use jiraflow_jira::client::RetryCheck;
use jiraflow_jira::error::TransportKind;
use jiraflow_jira::{
    ApiRequest, BearerToken, Error, Idempotency, JiraClient, RetryPolicy, StaticToken,
    TokenProvider,
};
use jiraflow_sim::{RunningSim, SimConfig};
use parking_lot::Mutex;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A started demo simulator.
pub async fn start_sim() -> RunningSim {
    let config = SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        media_listen: ([127, 0, 0, 1], 0).into(),
        ..SimConfig::default()
    };
    jiraflow_sim::start(config).await.unwrap()
}

/// A token for `account_id` with `scopes`, minted directly in the simulator.
pub fn token_for(sim: &RunningSim, account_id: &str, scopes: &[&str]) -> String {
    let now = sim.state.clock.now_ms();
    let mut world = sim.state.world.write();
    jiraflow_sim::oauth::issue_static_token(
        &mut world,
        account_id,
        &sim.info.client_id,
        scopes,
        now + 3_600_000,
    )
}

/// Retries with short backoff so tests stay fast.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
    }
}

/// A client for `base` with a fixed token and the fast policy.
pub fn client(base: &str, token: &str) -> JiraClient {
    JiraClient::builder(base)
        .token_provider(StaticToken::shared(token))
        .retry_policy(fast_policy())
        .build()
        .unwrap()
}

/// A client of the simulator acting as the site admin.
pub fn admin(sim: &RunningSim) -> JiraClient {
    client(&sim.info.jira_base_url, &sim.info.admin_token)
}

fn api(p: &str) -> String {
    format!("/rest/api/3{p}")
}

fn received(server_requests: &[Request], p: &str) -> usize {
    server_requests
        .iter()
        .filter(|r| r.url.path() == api(p))
        .count()
}

#[tokio::test]
async fn test_connection_returns_the_token_user_and_server_info() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let me = jira.myself().with_groups().send().await.unwrap();
    assert_eq!(me.account_id.as_str(), jiraflow_sim::seed::ADMIN_ACCOUNT);
    assert!(me.time_zone.is_some());
    let info = jira.server_info().send().await.unwrap();
    assert_eq!(info.deployment_type.as_deref(), Some("Cloud"));
    assert!(info.server_time.is_some());
}

#[tokio::test]
async fn an_unknown_token_needs_reauth_after_exactly_one_refresh_attempt() {
    let sim = start_sim().await;
    let jira = client(&sim.info.jira_base_url, "not-a-token");
    let error = jira.myself().send().await.unwrap_err();
    assert!(error.needs_reauth(), "{error}");
    assert_eq!(error.status(), Some(401));
    assert_eq!(jira.metrics().token_refreshes, 1);
    assert_eq!(jira.metrics().attempts, 2);
}

#[tokio::test]
async fn a_token_without_the_scope_is_a_scope_error_and_is_not_refreshed() {
    let sim = start_sim().await;
    let token = token_for(&sim, jiraflow_sim::seed::ADMIN_ACCOUNT, &["read:jira-work"]);
    let jira = client(&sim.info.jira_base_url, &token);
    let error = jira.myself().send().await.unwrap_err();
    assert!(error.is_scope_error(), "{error}");
    assert_eq!(jira.metrics().token_refreshes, 0);
}

#[tokio::test]
async fn retry_after_zero_retries_at_once_and_counts_the_reason() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(api("/myself")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .insert_header("RateLimit-Reason", "jira-burst-based")
                .set_body_json(json!({"errorMessages":["Rate limit exceeded."],"errors":{}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("/myself")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accountId":"a1"})))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let started = Instant::now();
    let me = jira.myself().send().await.unwrap();
    assert_eq!(me.account_id.as_str(), "a1");
    assert!(started.elapsed() < Duration::from_secs(2));
    let metrics = jira.metrics();
    assert_eq!(metrics.retries, 1);
    assert_eq!(metrics.rate_limited_by_reason["jira-burst-based"], 1);
}

#[tokio::test]
async fn retry_after_is_honoured_as_a_minimum_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "2"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"baseUrl":"x"})))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let started = Instant::now();
    jira.server_info().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(jira.metrics().wait_ms >= 2000);
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_for_a_get() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accountId":"a1"})))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let started = Instant::now();
    jira.myself().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_create_post_is_not_retried_on_503_without_a_strategy() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let error = jira
        .issues()
        .create("DEMO", "Task", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(error.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

struct FoundIt(AtomicUsize);

impl RetryCheck for FoundIt {
    fn check<'a>(
        &'a self,
        _client: &'a JiraClient,
    ) -> BoxFuture<'a, jiraflow_jira::Result<Option<Value>>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(Some(json!({"id":"10100","key":"DEMO-99","self":"x"}))) })
    }
}

#[tokio::test]
async fn a_create_with_a_verify_strategy_asks_the_check_instead_of_duplicating() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let check = Arc::new(FoundIt(AtomicUsize::new(0)));
    let created = jira
        .issues()
        .create("DEMO", "Task", "x")
        .idempotency(Idempotency::Verify(check.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(created.key.as_str(), "DEMO-99");
    assert_eq!(check.0.load(Ordering::SeqCst), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_read_only_post_marked_retry_safe_is_retried_on_503() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 7})))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let count = jira
        .search()
        .approximate_count("project = DEMO")
        .await
        .unwrap();
    assert_eq!(count, 7);
}

#[tokio::test]
async fn garbage_error_bodies_are_kept_as_a_truncated_excerpt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string(format!("<html>{}</html>", "x".repeat(2000))),
        )
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let error = jira.issues().get("DEMO-1").send().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("GET /issue/DEMO-1: HTTP 500: <html>xxx"),
        "{text}"
    );
    assert!(text.len() < 500);
    // 500 is not retried: Jira's 500s are deterministic.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_success_with_a_non_json_body_is_a_decode_error_naming_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    let error = client(&server.uri(), "t")
        .myself()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Decode { .. }));
    assert!(error.to_string().contains("GET /myself"));
}

#[tokio::test]
async fn a_slow_response_times_out_and_an_idempotent_get_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let jira = JiraClient::builder(server.uri())
        .token_provider(StaticToken::shared("t"))
        .timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy {
            max_attempts: 2,
            ..fast_policy()
        })
        .build()
        .unwrap();
    let error = jira.myself().send().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(jira.metrics().attempts, 2);
}

#[tokio::test]
async fn a_cross_origin_redirect_does_not_carry_the_bearer_token() {
    let media = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/file"))
        .respond_with(ResponseTemplate::new(200).set_body_string("content"))
        .mount(&media)
        .await;
    let jira_site = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(api("/attachment/content/1")))
        .respond_with(
            ResponseTemplate::new(303).insert_header("Location", format!("{}/file", media.uri())),
        )
        .mount(&jira_site)
        .await;
    let jira = client(&jira_site.uri(), "secret-token");
    let response = jira
        .send_streaming(ApiRequest::get("/attachment/content/{id}").param("1"))
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "content");
    let first = &jira_site.received_requests().await.unwrap()[0];
    assert_eq!(first.headers["authorization"], "Bearer secret-token");
    let hop = &media.received_requests().await.unwrap()[0];
    assert!(hop.headers.get("authorization").is_none());
}

fn limited(reason: &str, retry_after: u64) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("Retry-After", retry_after.to_string().as_str())
        .insert_header("RateLimit-Reason", reason)
        .set_body_json(json!({"errorMessages":["Rate limit exceeded."],"errors":{}}))
}

#[tokio::test]
async fn a_quota_429_pauses_every_endpoint_of_the_client() {
    let server = MockServer::start().await;
    Mock::given(path(api("/myself")))
        .respond_with(limited("jira-quota-global-based", 1800))
        .mount(&server)
        .await;
    Mock::given(path(api("/serverInfo")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let error = jira.myself().send().await.unwrap_err();
    assert!(matches!(error, Error::Paused { .. }), "{error:?}");
    assert!(error.retry_after().unwrap() >= Duration::from_secs(1800));
    let other = jira.server_info().send().await.unwrap_err();
    assert!(other.is_rate_limited(), "{other:?}");
    assert_eq!(other.rate_limit_reason(), Some("jira-quota-global-based"));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        received(&requests, "/serverInfo"),
        0,
        "the paused request was sent"
    );
}

#[tokio::test]
async fn a_burst_429_pauses_only_its_endpoint() {
    let server = MockServer::start().await;
    Mock::given(path(api("/myself")))
        .respond_with(limited("jira-burst-based", 600))
        .mount(&server)
        .await;
    Mock::given(path(api("/serverInfo")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    assert!(jira.myself().send().await.unwrap_err().is_rate_limited());
    jira.server_info().send().await.unwrap();
    assert!(matches!(
        jira.myself().send().await,
        Err(Error::Paused { .. })
    ));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(received(&requests, "/myself"), 1);
}

#[tokio::test]
async fn a_per_issue_429_pauses_only_writes_to_that_issue() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(api("/issue/DEMO-1")))
        .respond_with(limited("jira-per-issue-on-write", 600))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(api("/issue/DEMO-2")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id":"1","key":"DEMO-1","fields":{}})),
        )
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    let edit = |key: &'static str| jira.issues().edit(key).field("summary", "s").send();
    assert!(edit("DEMO-1").await.unwrap_err().is_rate_limited());
    assert!(matches!(edit("DEMO-1").await, Err(Error::Paused { .. })));
    edit("DEMO-2").await.unwrap();
    jira.issues().get("DEMO-1").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        received(&requests, "/issue/DEMO-1"),
        2,
        "one PUT and one GET"
    );
}

/// Serves "old" until invalidated, then "new".
struct Rotating {
    current: Mutex<String>,
}

impl TokenProvider for Rotating {
    fn token(&self) -> BoxFuture<'_, jiraflow_jira::Result<BearerToken>> {
        let token = BearerToken::new(self.current.lock().clone());
        Box::pin(async move { Ok(token) })
    }

    fn invalidate(&self, seen: &BearerToken) {
        let mut current = self.current.lock();
        if current.as_str() == seen.expose_secret() {
            *current = "new".into();
        }
    }
}

/// A token rejected with `status` (Jira's 401, or the gateway's expired-token 404) is refreshed
/// once and the request retried with the new one.
async fn refreshes_once_after(status: u16) {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer old"))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_json(json!({"code":status,"message":"Unauthorized"})),
        )
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accountId":"a1"})))
        .mount(&server)
        .await;
    let jira = JiraClient::builder(server.uri())
        .token_provider(Arc::new(Rotating {
            current: Mutex::new("old".into()),
        }))
        .build()
        .unwrap();
    jira.myself().send().await.unwrap();
    assert_eq!(jira.metrics().token_refreshes, 1);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries() {
    refreshes_once_after(401).await;
}

#[tokio::test]
async fn the_gateways_expired_token_404_also_triggers_a_refresh() {
    refreshes_once_after(404).await;
}

#[tokio::test]
async fn near_limit_and_remaining_headers_are_counted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-RateLimit-NearLimit", "true")
                .insert_header("X-RateLimit-Remaining", "42")
                .insert_header("Beta-RateLimit", "\"tenant-app-quota\";r=42;t=100")
                .set_body_json(json!({"accountId":"a1"})),
        )
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "t");
    jira.myself().send().await.unwrap();
    let m = jira.metrics();
    assert_eq!(m.near_limit_observations, 1);
    assert_eq!(m.beta_rate_limit_observations, 1);
    assert_eq!(m.last_remaining, Some(42));
}

#[tokio::test]
async fn errors_never_show_query_values_or_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"errorMessages":["bad"],"errors":{}})),
        )
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "tok-123");
    let error = jira
        .send(ApiRequest::get("/user/search").query("query", "secret@example.com"))
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("secret@example.com"));
    assert!(!shown.contains("tok-123"));
    assert!(shown.contains("GET /user/search: HTTP 400: bad"));
}

mod invariants;
