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

mod fuzz;
