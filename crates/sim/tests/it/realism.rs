//! The realism layers: burst, per-issue and hourly limits with Atlassian's 429 headers, injected
//! 5xx, delays, dropped connections (before and after the write), targeted and seeded faults, and
//! Jira's JSON error bodies for malformed requests.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{set, sim_admin};
use crate::support::{TestSim, send_json};

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn is_reset_stamp(value: &str) -> bool {
    // yyyy-MM-ddTHH:mmZ
    value.len() == 17
        && value.as_bytes()[4] == b'-'
        && value.as_bytes()[10] == b'T'
        && value.ends_with('Z')
        && chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%MZ").is_ok()
}

async fn stats(sim: &TestSim) -> Value {
    send_json(sim_admin(sim, Method::GET, "/stats")).await.1
}

fn issue_id(sim: &TestSim, key: &str) -> u64 {
    let world = sim.sim.state.world.read();
    world.sites[&sim.sim.info.cloud_id]
        .jira
        .resolve_issue(key)
        .expect("seeded issue")
}

#[tokio::test]
async fn the_burst_limit_answers_429_with_jira_headers_once_an_endpoint_budget_is_spent() {
    let sim = TestSim::start().await;
    set(&sim, json!({"burst_per_second": 3})).await;
    for expected_remaining in ["2", "1", "0"] {
        let response = sim
            .admin(Method::GET, "/myself")
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-ratelimit-limit"), Some("3"));
        assert_eq!(
            header(&response, "x-ratelimit-remaining"),
            Some(expected_remaining)
        );
        let near = header(&response, "x-ratelimit-nearlimit");
        assert_eq!(near.is_some(), expected_remaining == "0", "{near:?}");
    }
    let response = sim
        .admin(Method::GET, "/myself")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), Some("1"));
    assert_eq!(
        header(&response, "ratelimit-reason"),
        Some("jira-burst-based")
    );
    assert_eq!(header(&response, "x-ratelimit-limit"), Some("3"));
    assert_eq!(header(&response, "x-ratelimit-remaining"), Some("0"));
    let reset = header(&response, "x-ratelimit-reset").unwrap_or_default();
    assert!(is_reset_stamp(reset), "{reset}");
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body["errorMessages"], json!(["Rate limit exceeded."]));

    let (status, _) = send_json(sim.admin(Method::GET, "/serverInfo")).await;
    assert_eq!(status, 200, "another endpoint has its own budget");
    assert!(stats(&sim).await["counters"]["rateLimited"].as_u64() >= Some(1));

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200, "the bucket refills");
}

#[tokio::test]
async fn put_and_delete_get_half_the_burst_of_get_and_post() {
    let sim = TestSim::start().await;
    set(&sim, json!({"burst_per_second": 10})).await;
    let response = sim
        .admin(Method::PUT, "/issue/DEMO-1/properties/sim.burst")
        .json(&json!({"n": 1}))
        .send()
        .await
        .expect("answer");
    assert_eq!(header(&response, "x-ratelimit-limit"), Some("5"));
    let response = sim
        .admin(Method::GET, "/myself")
        .send()
        .await
        .expect("answer");
    assert_eq!(header(&response, "x-ratelimit-limit"), Some("10"));
}

#[tokio::test]
async fn per_issue_write_limits_count_a_key_and_its_id_as_one_issue() {
    let sim = TestSim::start().await;
    set(&sim, json!({"issue_writes_per_2s": 2})).await;
    let id = issue_id(&sim, "DEMO-1");
    let write = |target: String| {
        sim.admin(
            Method::PUT,
            &format!("/issue/{target}/properties/sim.limit"),
        )
        .json(&json!({"n": 1}))
        .send()
    };
    for target in ["DEMO-1".to_owned(), "demo-1".to_owned()] {
        let response = write(target).await.expect("answer");
        assert_ne!(response.status(), 429);
    }
    let response = write(id.to_string()).await.expect("answer");
    assert_eq!(response.status(), 429, "the id shares the key's window");
    assert_eq!(
        header(&response, "ratelimit-reason"),
        Some("jira-per-issue-on-write")
    );
    let retry: u64 = header(&response, "retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(header(&response, "x-ratelimit-limit"), Some("2"));

    let response = write("DEMO-2".to_owned()).await.expect("answer");
    assert_ne!(response.status(), 429, "another issue is not limited");
    let (status, _) = send_json(sim.admin(Method::GET, "/issue/DEMO-1/properties")).await;
    assert_ne!(status, 429, "reads are not writes");
}

#[tokio::test]
async fn the_hourly_quota_stops_the_app_until_the_top_of_the_hour() {
    let sim = TestSim::start().await;
    // Start 10 minutes before an hour boundary of the simulated clock.
    let now = sim.sim.state.clock.now_ms();
    let to_boundary = 3_600_000 - now.rem_euclid(3_600_000);
    sim.sim.state.clock.advance_ms(to_boundary - 600_000);
    set(&sim, json!({"hourly_quota_points": 3})).await;
    for _ in 0..3 {
        let (status, _) = send_json(sim.admin(Method::GET, "/serverInfo")).await;
        assert_eq!(status, 200);
    }
    let response = sim
        .admin(Method::GET, "/myself")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 429);
    assert_eq!(
        header(&response, "ratelimit-reason"),
        Some("jira-quota-global-based")
    );
    let retry: i64 = header(&response, "retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!(
        (595..=600).contains(&retry),
        "to the top of the hour: {retry}"
    );
    let reset = header(&response, "x-ratelimit-reset").unwrap_or_default();
    assert!(reset.ends_with(":00Z") && is_reset_stamp(reset), "{reset}");

    sim.sim.state.clock.advance_ms(600_000);
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200, "a new hour, a new quota");
}

#[tokio::test]
async fn random_429s_carry_the_configured_retry_after() {
    let sim = TestSim::start().await;
    set(&sim, json!({"random_429_rate": 1.0, "retry_after_secs": 7})).await;
    let response = sim
        .admin(Method::GET, "/myself")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), Some("7"));
    assert_eq!(
        header(&response, "ratelimit-reason"),
        Some("jira-burst-based")
    );
    let counters = stats(&sim).await["counters"].clone();
    assert!(counters["rateLimited"].as_u64() >= Some(1));
    assert!(counters["faultsInjected"].as_u64() >= Some(1));
}

#[tokio::test]
async fn injected_server_errors_cover_500_to_504_and_503_may_carry_retry_after() {
    let sim = TestSim::start().await;
    set(
        &sim,
        json!({"fault_5xx_rate": 1.0, "fault_seed": 11, "retry_after_secs": 4}),
    )
    .await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let response = sim
            .admin(Method::GET, "/myself")
            .send()
            .await
            .expect("answer");
        let status = response.status().as_u16();
        assert!([500, 502, 503, 504].contains(&status), "{status}");
        if let Some(retry) = header(&response, "retry-after") {
            assert_eq!((status, retry), (503, "4"));
        }
        seen.insert(status);
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(stats(&sim).await["counters"]["faultsInjected"].as_u64() >= Some(60));
}

#[tokio::test]
async fn faults_can_target_a_method_and_path_prefix() {
    let sim = TestSim::start().await;
    set(
        &sim,
        json!({"fault_5xx_rate": 1.0, "fault_methods": ["post"], "fault_path_prefix": "/rest/api/3/issue"}),
    )
    .await;
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200);
    let (status, _) = send_json(sim.admin(Method::GET, "/issue/DEMO-1")).await;
    assert!(status < 500, "GET is not targeted: {status}");
    let (status, _) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-1/comment")
            .json(&json!({})),
    )
    .await;
    assert!(status >= 500, "POST under the prefix is targeted: {status}");
}

#[tokio::test]
async fn a_seed_replays_the_same_faults() {
    let sim = TestSim::start().await;
    let run = || async {
        set(&sim, json!({"fault_5xx_rate": 0.5, "fault_seed": 42})).await;
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(send_json(sim.admin(Method::GET, "/serverInfo")).await.0);
        }
        statuses
    };
    let first = run().await;
    let second = run().await;
    assert_eq!(first, second);
    assert!(first.contains(&200) && first.iter().any(|s| *s >= 500));
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_not_an_http_status() {
    let sim = TestSim::start().await;
    set(&sim, json!({"fault_drop_rate": 1.0})).await;
    let result = sim.admin(Method::GET, "/myself").send().await;
    let err = match result {
        Ok(response) => match response.bytes().await {
            Ok(bytes) => panic!("a dropped request produced a complete answer: {bytes:?}"),
            Err(err) => err,
        },
        Err(err) => err,
    };
    assert!(err.status().is_none(), "{err:?}");
    set(&sim, json!({"fault_drop_rate": 0.0})).await;
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200, "the next request is served normally");
}

#[tokio::test]
async fn a_drop_after_commit_loses_the_response_but_keeps_the_write() {
    let sim = TestSim::start().await;
    set(
        &sim,
        json!({"fault_drop_after_commit_rate": 1.0, "fault_methods": ["PUT"]}),
    )
    .await;
    let result = sim
        .admin(Method::PUT, "/issue/DEMO-3/properties/sim.commit")
        .json(&json!({"written": true}))
        .send()
        .await;
    let lost = match result {
        Ok(response) => response.bytes().await.is_err(),
        Err(_) => true,
    };
    assert!(lost, "the client must not see the answer");
    let id = issue_id(&sim, "DEMO-3");
    let stored = {
        let world = sim.sim.state.world.read();
        world.sites[&sim.sim.info.cloud_id].jira.issues[&id]
            .properties
            .get("sim.commit")
            .cloned()
    };
    assert_eq!(stored, Some(json!({"written": true})), "the write happened");
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200, "GET is not targeted");
}

#[tokio::test]
async fn delayed_requests_take_at_least_the_configured_delay() {
    let sim = TestSim::start().await;
    set(
        &sim,
        json!({"fault_delay_rate": 1.0, "fault_delay_ms": 300}),
    )
    .await;
    let started = Instant::now();
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn malformed_json_bodies_get_jira_style_json_errors() {
    let sim = TestSim::start().await;
    let response = sim
        .admin(Method::POST, "/issue")
        .header("content-type", "application/json")
        .body("{\"fields\": {\"summary\": ")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    assert!(header(&response, "content-type").is_some_and(|c| c.starts_with("application/json")));
    let body: Value = response.json().await.expect("json");
    assert!(body["errorMessages"][0].is_string(), "{body}");
    assert!(body["errors"].is_object());

    let (status, body) = send_json(sim.admin(Method::GET, "/no/such/endpoint")).await;
    assert_eq!(status, 404);
    assert!(body["errorMessages"].is_array(), "{body}");
}

#[tokio::test]
async fn deeply_nested_json_is_refused_with_a_400_not_a_crash() {
    let sim = TestSim::start().await;
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    for body in [arrays, objects] {
        for (method, url) in [
            (Method::POST, sim.api("/issue")),
            (Method::POST, sim.api("/search/jql")),
            (
                Method::PUT,
                format!("{}/settings", sim.sim.info.sim_admin_url),
            ),
        ] {
            let response = sim
                .http
                .request(method.clone(), &url)
                .bearer_auth(sim.admin_token())
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("answered, not dropped");
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{method} {url}: {status}");
            let json: Value = response.json().await.expect("json error body");
            assert!(json.is_object());
        }
    }
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200, "still serving");
}

mod fuzz {
    //! Random requests into the main router in-process: every request is answered (no panic, no
    //! hang) and every 4xx from the API gateway or the admin API has a JSON body.

    use std::time::Duration;

    use axum::body::Body;
    use http::Request;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    use tower::ServiceExt;

    use crate::support::TestSim;

    #[derive(Debug, Clone)]
    struct Case {
        method: String,
        path: String,
        content_type: Option<&'static str>,
        authorized: bool,
        body: Vec<u8>,
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("issue".to_owned()),
            Just("DEMO-1".to_owned()),
            Just("SEC-1".to_owned()),
            Just("10001".to_owned()),
            Just("comment".to_owned()),
            Just("properties".to_owned()),
            Just("transitions".to_owned()),
            Just("attachments".to_owned()),
            Just("search".to_owned()),
            Just("jql".to_owned()),
            Just("project".to_owned()),
            Just("user".to_owned()),
            Just("group".to_owned()),
            Just("member".to_owned()),
            Just("watchers".to_owned()),
            Just("remotelink".to_owned()),
            Just("issueLink".to_owned()),
            Just("webhook".to_owned()),
            Just("field".to_owned()),
            Just("createmeta".to_owned()),
            Just("editmeta".to_owned()),
            Just("bulk".to_owned()),
            Just("%00".to_owned()),
            Just("%F0%9F%92%A9".to_owned()),
            Just("..".to_owned()),
            Just("99999999999999999999999".to_owned()),
            "[A-Za-z0-9._~-]{0,12}",
        ]
    }

    fn query() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("?jql=project%20%3D%20DEMO&maxResults=-1".to_owned()),
            Just("?maxResults=99999999999999999999&startAt=abc".to_owned()),
            Just("?expand=names,renderedFields,changelog&fields=*all".to_owned()),
            Just("?fields=summary&fields=%ZZ".to_owned()),
            "\\?[a-zA-Z]{1,6}=[a-zA-Z0-9%=&]{0,20}",
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        let nested = (1usize..400).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d)));
        prop_oneof![
            Just(Vec::new()),
            proptest::collection::vec(any::<u8>(), 0..256),
            Just(b"{\"fields\": {\"summary\": ".to_vec()),
            Just(b"{\"fields\": {\"project\": {\"key\": 5}, \"summary\": [], \"issuetype\": \"Task\"}}".to_vec()),
            Just(b"{\"body\": \"plain string\"}".to_vec()),
            Just(b"{\"jql\": 12, \"maxResults\": 1e400}".to_vec()),
            Just(b"{\"maxResults\": 184467440737095516150, \"nextPageToken\": {}}".to_vec()),
            Just(b"{\"transition\": {\"id\": null}, \"update\": {\"comment\": [{\"add\": 7}]}}".to_vec()),
            Just(b"[1, 2, 3]".to_vec()),
            Just(b"null".to_vec()),
            Just(b"\"\\ud800\"".to_vec()),
            nested.prop_map(String::into_bytes),
            "\\{\"[a-z]{1,8}\": (\"[a-z ]{0,10}\"|-?[0-9]{1,25}|true|null|\\[\\]|\\{\\})\\}"
                .prop_map(String::into_bytes),
        ]
    }

    fn case(cloud_id: String) -> impl Strategy<Value = Case> {
        let method = prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("PUT"),
            Just("DELETE"),
            Just("PATCH"),
            Just("HEAD"),
            Just("OPTIONS"),
            Just("BREW"),
        ];
        let api_path =
            (proptest::collection::vec(segment(), 0..5), query()).prop_map(move |(segs, q)| {
                format!("/ex/jira/{cloud_id}/rest/api/3/{}{q}", segs.join("/"))
            });
        let admin_path = prop_oneof![
            Just("/_sim/settings".to_owned()),
            Just("/_sim/clock".to_owned()),
            Just("/_sim/users".to_owned()),
            Just("/_sim/users/5f1a00000000000000000b02".to_owned()),
            Just("/_sim/sites".to_owned()),
            Just("/_sim/tokens".to_owned()),
            Just("/_sim/stats".to_owned()),
            Just("/_sim/nothing".to_owned()),
        ];
        let other_path = prop_oneof![
            Just("/ex/jira/not-a-cloud/rest/api/3/myself".to_owned()),
            Just("/ex/jira//".to_owned()),
            "/[a-z/%.]{0,30}",
        ];
        let path = prop_oneof![6 => api_path, 2 => admin_path, 1 => other_path];
        let content_type = prop_oneof![
            Just(Some("application/json")),
            Just(Some("application/json; charset=utf-8")),
            Just(Some("text/plain")),
            Just(Some("multipart/form-data; boundary=x")),
            Just(Some("application/x-www-form-urlencoded")),
            Just(None),
        ];
        (
            method,
            path,
            content_type,
            proptest::bool::weighted(0.85),
            body(),
        )
            .prop_map(|(method, path, content_type, authorized, body)| Case {
                method: method.to_owned(),
                path,
                content_type,
                authorized,
                body,
            })
    }

    async fn check(sim: &TestSim, case: Case) -> Result<(), String> {
        let mut builder = Request::builder()
            .method(case.method.as_str())
            .uri(&case.path);
        if case.authorized {
            builder = builder.header("authorization", format!("Bearer {}", sim.admin_token()));
        }
        if let Some(ct) = case.content_type {
            builder = builder.header("content-type", ct);
        }
        let Ok(request) = builder.body(Body::from(case.body.clone())) else {
            // Not a valid HTTP request (hyper would refuse it before the router).
            return Ok(());
        };
        let router = jiraflow_sim::server::main_router(sim.sim.state.clone());
        let call = tokio::spawn(async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((parts, bytes))
        });
        let (parts, bytes) = match tokio::time::timeout(Duration::from_secs(10), call).await {
            Err(_) => return Err("no answer within 10 s".to_owned()),
            Ok(Err(join)) => return Err(format!("the handler panicked: {join}")),
            Ok(Ok(Err(body))) => return Err(format!("the body failed: {body}")),
            Ok(Ok(Ok(answer))) => answer,
        };
        let status = parts.status.as_u16();
        let governed = case.path.starts_with("/ex/jira/") || case.path.starts_with("/_sim");
        if governed && status >= 500 {
            return Err(format!(
                "server error {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        if governed && (400..500).contains(&status) && case.method != "HEAD" {
            let json_type = parts
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("application/json"));
            let parsed = serde_json::from_slice::<serde_json::Value>(&bytes);
            if !json_type || !parsed.is_ok_and(|v| v.is_object()) {
                return Err(format!(
                    "{status} without a JSON object body: {:?}",
                    String::from_utf8_lossy(&bytes)
                ));
            }
        }
        Ok(())
    }

    #[test]
    fn random_requests_are_always_answered_and_4xx_bodies_are_json() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = runtime.block_on(TestSim::start());
        let cases: u32 = std::env::var("SIM_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(400);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = case(sim.sim.info.cloud_id.clone());
        let result = runner.run(&strategy, |case| {
            let described = format!("{} {}", case.method, case.path);
            runtime
                .block_on(check(&sim, case))
                .map_err(|why| TestCaseError::fail(format!("{described}: {why}")))
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    }
}
