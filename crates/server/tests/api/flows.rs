//! Flows and runs over the API: apply with PUT, errors with positions, manual runs.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::Harness;

const COMMENT_FLOW: &str = "\
name: greet
trigger:
  type: new_issue
  connection: acme
  options:
    project: DEMO
steps:
  - id: hello
    action: create_comment
    connection: acme
    input:
      issue: \"{{ trigger.issue.key }}\"
      body: \"Hello from the API\"
";

#[tokio::test]
async fn a_flow_file_with_a_yaml_error_is_refused_naming_its_line_and_column() {
    let h = Harness::start("yaml").await;
    h.connect("acme").await;
    let broken = COMMENT_FLOW.replace("    action: create_comment", "    acton: create_comment");
    let answer = h.put_flow("greet", &broken).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    let (code, message, field) = answer.error();
    assert_eq!(code, "invalid");
    assert!(message.starts_with("greet.yaml:9:"), "{message}");
    assert!(message.contains("acton"), "{message}");
    assert!(field.is_some_and(|f| f.starts_with("steps[0]")));
    // Nothing was saved.
    assert_eq!(
        h.admin(Method::GET, "/api/v1/flows").await.json(),
        json!([])
    );

    let unknown_connection = COMMENT_FLOW.replace(
        "connection: acme\n  options",
        "connection: globex\n  options",
    );
    let answer = h.put_flow("greet", &unknown_connection).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.error().1.contains("greet.yaml:4:"),
        "{}",
        answer.text()
    );

    let renamed = h.put_flow("other", COMMENT_FLOW).await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    assert_eq!(renamed.error().2.as_deref(), Some("name"));
    h.stop().await;
}

#[tokio::test]
async fn a_flow_applied_with_put_runs_by_hand_and_its_run_is_listed() {
    let h = Harness::start("run").await;
    h.connect("acme").await;
    let created = h.put_flow("greet", COMMENT_FLOW).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["version"], 1);
    let again = h.put_flow("greet", COMMENT_FLOW).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["result"], "unchanged");

    let shown = h.admin(Method::GET, "/api/v1/flows/greet").await.json();
    assert_eq!(shown["trigger"], "new_issue");
    assert_eq!(shown["connections"], json!(["acme"]));

    let run = h
        .admin_json(
            Method::POST,
            "/api/v1/flows/greet/runs",
            &json!({"payload": {"issue": {"key": "DEMO-1"}}}),
        )
        .await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{}", run.text());
    let run_id = run.json()["run_id"].as_str().unwrap().to_owned();

    let pending = h
        .admin(Method::GET, "/api/v1/runs?flow=greet&status=pending")
        .await;
    let listed = pending.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], run_id.as_str());
    assert_eq!(listed[0]["origin"], "manual");

    // A worker picks it up and the comment lands in Jira.
    assert_eq!(h.state.executor().drain(10).await.unwrap(), 1);
    let detail = h
        .admin(Method::GET, &format!("/api/v1/runs/{run_id}"))
        .await
        .json();
    assert_eq!(detail["status"], "succeeded", "{detail}");
    assert_eq!(
        detail["steps"][0]["output"]["output"]["body_text"],
        "Hello from the API"
    );
    assert_eq!(detail["steps"][0]["status"], "succeeded");

    let disabled = h.admin(Method::POST, "/api/v1/flows/greet/disable").await;
    assert_eq!(disabled.json()["enabled"], false);
    let deleted = h.admin(Method::DELETE, "/api/v1/flows/greet").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = h.admin(Method::GET, "/api/v1/flows/greet").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.error().0, "not_found");
    h.stop().await;
}

#[tokio::test]
async fn a_member_may_not_run_a_flow_on_someone_elses_connection() {
    let h = Harness::start("runperm").await;
    h.connect("acme").await;
    assert_eq!(
        h.put_flow("greet", COMMENT_FLOW).await.status,
        StatusCode::CREATED
    );
    let member = h.member_key.clone();
    let answer = h
        .call(
            Some(&member),
            Method::POST,
            "/api/v1/flows/greet/runs",
            Some(("application/json", br#"{"payload":{}}"#.to_vec())),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    let runs = h.admin(Method::GET, "/api/v1/runs").await.json();
    assert_eq!(runs, json!([]));
    h.stop().await;
}
