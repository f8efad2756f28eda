//! Helpers the client-operation test modules share: building requests offline, reading their
//! JSON bodies, checking them against the official request-body schemas, and a minimal ADF
//! document.

#![allow(clippy::unwrap_used)]

use jiraflow_jira::client::RequestBody;
use jiraflow_jira::{ApiRequest, JiraClient};
use serde_json::{Value, json};

/// The JSON body of `request` (`Null` without one).
pub fn body_json(request: &ApiRequest) -> Value {
    match request.request_body() {
        RequestBody::Json(bytes) => serde_json::from_slice(bytes).unwrap(),
        RequestBody::None => Value::Null,
        other => panic!("not a JSON body: {other:?}"),
    }
}

/// A client that is never used to send, for building requests.
pub fn offline() -> JiraClient {
    JiraClient::builder("https://api.atlassian.com/ex/jira/cloud")
        .token_provider(jiraflow_jira::StaticToken::shared("t"))
        .build()
        .unwrap()
}

/// URI the spec is registered under (never fetched).
const SPEC_URI: &str = "https://spec.jiraflow.invalid/jira-platform-v3.json";

static SPEC: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    let path = format!(
        "{}/../../testdata/jira/jira-platform-v3.openapi.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
});

static REGISTRY: std::sync::LazyLock<jsonschema::Registry<'static>> =
    std::sync::LazyLock::new(|| {
        use jsonschema::Draft;
        jsonschema::Registry::new()
            .draft(Draft::Draft4)
            .add(SPEC_URI, Draft::Draft4.create_resource(SPEC.clone()))
            .and_then(|builder| builder.prepare())
            .unwrap()
    });

/// Panics unless `request`'s JSON body matches the request-body schema the official spec gives
/// for its method and path template (OpenAPI-only keywords such as `nullable` are ignored, so
/// this checks shapes, names, types and required members).
#[track_caller]
pub fn assert_request_matches_spec(request: &ApiRequest) {
    let template = format!("/rest/api/3{}", request.template());
    let pointer = format!(
        "/paths/{}/{}/requestBody/content/application~1json/schema",
        template.replace('~', "~0").replace('/', "~1"),
        request.method().as_str().to_ascii_lowercase()
    );
    let schema = SPEC
        .pointer(&pointer)
        .unwrap_or_else(|| panic!("the spec has no JSON request body at {pointer}"));
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => json!({ "$ref": format!("{SPEC_URI}{reference}") }),
        None => schema.clone(),
    };
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(false)
        .with_registry(&REGISTRY)
        .build(&schema)
        .unwrap();
    let body = body_json(request);
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} {template}: the body does not match the spec:\n  {}\nbody: {body}",
        request.method(),
        errors.join("\n  ")
    );
}

/// A one-paragraph ADF document.
pub fn adf(text: &str) -> Value {
    json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":text}]}]})
}
