//! `jiraflow up`: the first start sets the sandbox up through the real OAuth flow, serves the
//! API, stops cleanly on SIGTERM, and a second start reuses everything.

use crate::support::{DataDir, FREE_PORTS, Up, command, http};

#[test]
fn a_first_up_connects_the_sandbox_and_a_second_start_reuses_everything() {
    let data = DataDir::new("up");
    let mut args = vec!["--sandbox", "--exit-after", "120"];
    args.extend(FREE_PORTS);
    let mut up = Up::start(&data.0, &args);
    let api = up.field("API");
    let key = up.field("API key");
    assert!(key.starts_with("jf_"), "{}", up.text());
    assert!(up.field("simulator").starts_with("http://127.0.0.1:"));
    assert!(up.field("metrics").ends_with("/metrics"));
    assert!(
        up.text().contains("connected now through OAuth"),
        "{}",
        up.text()
    );

    let (status, health) = http("GET", &up.field("health"), None);
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");

    let (status, connections) = http("GET", &format!("{api}/connections"), Some(&key));
    assert_eq!(status, 200, "{connections}");
    assert_eq!(
        connections.as_array().map(Vec::len),
        Some(1),
        "{connections}"
    );
    assert_eq!(connections[0]["name"], "sandbox");
    assert_eq!(connections[0]["environment"], "sandbox");
    let (status, tested) = http(
        "POST",
        &format!("{api}/connections/sandbox/test"),
        Some(&key),
    );
    assert_eq!(status, 200);
    assert_eq!(tested["ok"], true, "{tested}");

    let (_, flows) = http("GET", &format!("{api}/flows"), Some(&key));
    let mut names: Vec<&str> = flows
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "demo-escalate-urgent-comments",
            "demo-label-bugs",
            "demo-welcome-new-issues"
        ]
    );
    let (status, metrics) = http("GET", &up.field("metrics"), None);
    assert_eq!(status, 200);
    assert!(
        metrics
            .as_str()
            .is_some_and(|m| m.contains("jiraflow_runs{status=\"pending\"}"))
    );

    // SIGTERM drains and exits 0.
    let status = up.terminate();
    assert!(status.success(), "up exited with {status}");

    // The second start: no new key, the same connection, the flows kept.
    let mut again = Up::start(&data.0, &[FREE_PORTS.as_slice(), &["--once"]].concat());
    assert!(
        again.text().contains("sandbox (reused)"),
        "{}",
        again.text()
    );
    assert!(
        again.text().contains("demo-label-bugs (kept)"),
        "{}",
        again.text()
    );
    assert!(
        again
            .field("API key")
            .starts_with("shown on the first start")
    );
    assert!(again.wait(std::time::Duration::from_secs(30)).success());

    let listed = command(
        &data.0,
        &["connection", "list", "--as", "admin", "--output", "json"],
    )
    .output()
    .expect("connection list");
    assert!(listed.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}

#[test]
fn up_refuses_a_listen_address_that_is_taken() {
    let data = DataDir::new("taken");
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("addr").to_string();
    let output = command(
        &data.0,
        &["up", "--listen", &taken, "--no-sandbox", "--once"],
    )
    .output()
    .expect("run up");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {taken}")),
        "{stderr}"
    );
}
