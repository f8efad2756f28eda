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
        Just(
            b"{\"fields\": {\"project\": {\"key\": 5}, \"summary\": [], \"issuetype\": \"Task\"}}"
                .to_vec()
        ),
        Just(b"{\"body\": \"plain string\"}".to_vec()),
        Just(b"{\"jql\": 12, \"maxResults\": 1e400}".to_vec()),
        Just(b"{\"maxResults\": 184467440737095516150, \"nextPageToken\": {}}".to_vec()),
        Just(
            b"{\"transition\": {\"id\": null}, \"update\": {\"comment\": [{\"add\": 7}]}}".to_vec()
        ),
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
    let api_path = (proptest::collection::vec(segment(), 0..5), query())
        .prop_map(move |(segs, q)| format!("/ex/jira/{cloud_id}/rest/api/3/{}{q}", segs.join("/")));
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
