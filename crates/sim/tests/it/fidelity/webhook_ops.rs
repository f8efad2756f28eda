//! Fidelity of dynamic webhooks: the registration operations answer in the spec's shapes, and
//! the deliveries the simulator sends have the shape of real Jira Cloud deliveries (the captured
//! payloads in testdata/jira/fixtures/mattermost-plugin-jira/webhooks).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Driver, testdata};

/// A local HTTP endpoint that records every webhook delivery it receives.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                |State(tx): State<mpsc::UnboundedSender<Value>>, Json(body): Json<Value>| async move {
                    let _ = tx.send(body);
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("receiver binds");
    let addr = listener.local_addr().expect("receiver has an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), rx)
}

/// The keys of an object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// Panics unless `delivery` has every key the real delivery `fixture` has, at the top level and
/// in its `issue`, `comment` and `changelog` objects, and the same JSON types for them. Account
/// keys that Jira Cloud has since removed for privacy (`key`, `name`) are not required.
fn assert_same_shape(event: &str, delivery: &Value, fixture: &Value) {
    for key in keys(fixture) {
        let (ours, theirs) = (&delivery[&key], &fixture[&key]);
        assert!(
            !ours.is_null() || theirs.is_null(),
            "{event}: the delivery lacks `{key}` that Jira sends; delivery keys: {:?}",
            keys(delivery)
        );
        assert_eq!(
            std::mem::discriminant(ours),
            std::mem::discriminant(theirs),
            "{event}: `{key}` has another JSON type than Jira's"
        );
    }
    for part in ["issue", "comment", "changelog", "user"] {
        if fixture[part].is_object() && delivery[part].is_object() {
            for key in keys(&fixture[part]) {
                if matches!(key.as_str(), "key" | "name" | "jsdPublic" | "emailAddress") {
                    continue;
                }
                assert!(
                    delivery[part].get(&key).is_some(),
                    "{event}: `{part}.{key}` is missing; the delivery's {part} has {:?}",
                    keys(&delivery[part])
                );
            }
        }
    }
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

#[tokio::test]
async fn webhook_operations_answer_in_the_shapes_of_the_spec_and_deliveries_look_like_jiras() {
    let mut d = Driver::start().await;
    let (url, mut deliveries) = receiver().await;
    let register = json!({
        "url": url,
        "webhooks": [
            {"events": ["jira:issue_created", "jira:issue_updated"], "jqlFilter": "project = DEMO"},
            {"events": ["comment_created"], "jqlFilter": "project = DEMO"},
            {"events": ["jira:issue_created"], "jqlFilter": "labels = unsupported"}
        ]
    });
    let registered = d
        .call(Method::POST, "/webhook", "/webhook", Some(&register), 200)
        .await;
    let Some(registered) = registered else {
        d.finish("webhooks");
        return;
    };
    let results = registered["webhookRegistrationResult"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(results.len(), 3, "one result per webhook, in order");
    assert!(
        results[2].get("errors").is_some(),
        "an unsupported clause is reported per item"
    );
    let ids: Vec<Value> = results
        .iter()
        .filter_map(|r| r.get("createdWebhookId").cloned())
        .collect();
    d.call(Method::GET, "/webhook", "/webhook", None, 200).await;
    d.call(
        Method::PUT,
        "/webhook/refresh",
        "/webhook/refresh",
        Some(&json!({ "webhookIds": ids })),
        200,
    )
    .await;

    // Changes that fire the three events.
    let (_, created) = crate::support::send_json(d.sim.admin(Method::POST, "/issue").json(&json!({
        "fields": {"project": {"key": "DEMO"}, "issuetype": {"id": "10001"}, "summary": "Webhook shape", "description": adf("x")}
    })))
    .await;
    let key = created["key"].as_str().unwrap_or("DEMO-1").to_owned();
    let _ = crate::support::send_json(
        d.sim
            .admin(Method::PUT, &format!("/issue/{key}"))
            .json(&json!({"fields": {"summary": "Webhook shape, edited"}})),
    )
    .await;
    let _ = crate::support::send_json(
        d.sim
            .admin(Method::POST, &format!("/issue/{key}/comment"))
            .json(&json!({"body": adf("hello")})),
    )
    .await;

    let fixtures = [
        ("jira:issue_created", "webhook-issue-created.json"),
        ("jira:issue_updated", "webhook-issue-updated-edited.json"),
        ("comment_created", "webhook-cloud-comment-created.json"),
    ];
    let mut seen = std::collections::BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while seen.len() < fixtures.len() {
        match tokio::time::timeout_at(deadline, deliveries.recv()).await {
            Ok(Some(body)) => {
                if let Some(event) = body["webhookEvent"].as_str() {
                    seen.entry(event.to_owned()).or_insert(body);
                }
            }
            _ => break,
        }
    }
    for (event, file) in fixtures {
        let delivery = seen
            .get(event)
            .unwrap_or_else(|| panic!("no {event} delivery within 15s; got {:?}", seen.keys()));
        let fixture = testdata(&format!("fixtures/mattermost-plugin-jira/webhooks/{file}"));
        assert_same_shape(event, delivery, &fixture);
        assert_eq!(delivery["issue"]["key"], key.as_str(), "{event}: the issue");
    }

    d.call(
        Method::DELETE,
        "/webhook",
        "/webhook",
        Some(&json!({ "webhookIds": ids })),
        202,
    )
    .await;
    d.finish("webhooks");
}
