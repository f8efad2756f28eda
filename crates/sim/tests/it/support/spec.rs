//! Validation of response bodies against Atlassian's official OpenAPI spec
//! (`testdata/jira/jira-platform-v3.openapi.json`) and of ADF documents against Atlassian's ADF
//! JSON Schema (`testdata/jira/adf-full.schema.json`).
//!
//! OpenAPI 3.0 schemas are not JSON Schema, so the spec is converted once (see [`convert::convert_schema`])
//! and registered as one draft-04 resource; each check compiles a validator that `$ref`s the
//! operation's response schema inside that resource (cached per pointer). Every deliberate
//! deviation from a literal reading of the spec is listed in [`convert::QUIRKS`] and in `docs/fidelity.md`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

mod convert;

/// URI under which the converted spec is registered (never fetched: nothing is retrieved).
const SPEC_URI: &str = "https://spec.jiraflow.invalid/jira-platform-v3.json";
/// URI under which the ADF schema is registered.
const ADF_URI: &str = "https://spec.jiraflow.invalid/adf-full.json";

/// The converted spec, registered once.
static REGISTRY: LazyLock<Registry<'static>> = LazyLock::new(|| {
    let spec = convert::converted_spec();
    let adf = load_json("testdata/jira/adf-full.schema.json");
    Registry::new()
        .draft(Draft::Draft4)
        .add(SPEC_URI, Draft::Draft4.create_resource(spec))
        .and_then(|builder| builder.add(ADF_URI, Draft::Draft4.create_resource(adf)))
        .and_then(|builder| builder.prepare())
        .unwrap_or_else(|err| panic!("the spec registers as a JSON Schema resource: {err}"))
});

/// The raw (unconverted) spec, for looking up operations.
static SPEC: LazyLock<Value> =
    LazyLock::new(|| load_json("testdata/jira/jira-platform-v3.openapi.json"));

/// Compiled validators by schema URI.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<Validator>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The shape Atlassian's API gateway (not Jira) answers token and scope failures with. Jira's
/// spec documents `ErrorCollection` for 401s, but behind `api.atlassian.com` those never reach
/// Jira.
fn gateway_error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        "additionalProperties": false
    })
}

/// Panics with a readable list of violations unless `body` matches the response schema that
/// Atlassian's spec documents for `method path_template` answering `status` (falling back to the
/// operation's `default` response). `path_template` is the spec's key, e.g.
/// `/rest/api/3/issue/{issueIdOrKey}`. A response documented without content must have an empty
/// body (`Value::Null`).
#[track_caller]
pub fn assert_matches_spec(method: &str, path_template: &str, status: u16, body: &Value) {
    match spec_violations(method, path_template, status, body) {
        Ok(violations) if violations.is_empty() => {}
        Ok(violations) => panic!(
            "{method} {path_template} -> {status}: the body does not match Atlassian's spec:\n  {}\nbody: {}",
            violations.join("\n  "),
            abbreviated(body)
        ),
        Err(problem) => panic!("{method} {path_template} -> {status}: {problem}"),
    }
}

/// Panics unless `body` validates against `#/components/schemas/{name}` of the spec (for bodies
/// that are not an operation's response, such as webhook payload parts).
#[track_caller]
pub fn assert_matches_component(name: &str, body: &Value) {
    let uri = format!("{SPEC_URI}#/components/schemas/{name}");
    if SPEC
        .pointer(&format!("/components/schemas/{name}"))
        .is_none()
    {
        panic!("the spec has no component schema {name}");
    }
    let violations = violations_against(&uri, body);
    assert!(
        violations.is_empty(),
        "the body does not match the spec's {name}:\n  {}\nbody: {}",
        violations.join("\n  "),
        abbreviated(body)
    );
}

/// Panics unless `doc` is a valid Atlassian Document Format document (Atlassian's published
/// draft-04 schema, `testdata/jira/adf-full.schema.json`).
#[track_caller]
pub fn assert_valid_adf(doc: &Value) {
    let violations = adf_violations(doc);
    assert!(
        violations.is_empty(),
        "not a valid ADF document:\n  {}\ndoc: {}",
        violations.join("\n  "),
        abbreviated(doc)
    );
}

/// The ADF schema's violations for `doc` (empty when valid).
pub fn adf_violations(doc: &Value) -> Vec<String> {
    violations_against(&format!("{ADF_URI}#/definitions/doc_node"), doc)
}

/// The violations of `body` against the documented response, or why no response schema applies.
pub fn spec_violations(
    method: &str,
    path_template: &str,
    status: u16,
    body: &Value,
) -> Result<Vec<String>, String> {
    let method = method.to_ascii_lowercase();
    let Some(path_item) = SPEC.pointer(&format!("/paths/{}", escape(path_template))) else {
        return Err(format!(
            "the spec has no path {path_template}{}",
            similar_paths(path_template)
        ));
    };
    let Some(operation) = path_item.get(&method) else {
        return Err(format!("the spec has no {method} operation on this path"));
    };
    let responses = operation.get("responses").and_then(Value::as_object);
    let status_key = status.to_string();
    let (key, response) = match responses.and_then(|r| {
        r.get(&status_key)
            .map(|v| (status_key.clone(), v))
            .or_else(|| r.get("default").map(|v| ("default".to_owned(), v)))
    }) {
        Some(found) => found,
        None => {
            let documented: Vec<&String> =
                responses.map(|r| r.keys().collect()).unwrap_or_default();
            return Err(format!(
                "status {status} is not documented (documented: {documented:?})"
            ));
        }
    };
    if is_gateway_error(status, body) {
        return Ok(violations_of(&gateway_error_schema(), body));
    }
    if status == 204 {
        // HTTP 204 carries no body, whatever the spec's `content` says (Jira's spec gives most
        // 204s an `application/json` content with an empty schema).
        return Ok(if body.is_null() {
            Vec::new()
        } else {
            vec!["a 204 response must have an empty body".to_owned()]
        });
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        if body.is_null() {
            return Ok(Vec::new());
        }
        if status >= 400 {
            // Most error responses in Jira's spec have no `content`, yet Jira answers them with
            // an ErrorCollection: hold undocumented error bodies to that shape.
            return Ok(violations_against(
                &format!("{SPEC_URI}#/components/schemas/ErrorCollection"),
                body,
            ));
        }
        return Ok(vec![format!(
            "the spec documents no body for {key}, but one was returned"
        )]);
    };
    let media = ["application/json", "*/*"]
        .into_iter()
        .find(|m| content.contains_key(*m))
        .or_else(|| content.keys().next().map(String::as_str))
        .ok_or_else(|| "the response has an empty content map".to_owned())?;
    if content[media].get("schema").is_none() {
        return Ok(Vec::new());
    }
    let pointer = format!(
        "/paths/{}/{method}/responses/{key}/content/{}/schema",
        escape(path_template),
        escape(media)
    );
    Ok(violations_against(
        &format!("{SPEC_URI}#{}", percent_encode_fragment(&pointer)),
        body,
    ))
}

/// Percent-encodes what may not appear in a URI fragment (the spec's path templates have `{}`).
fn percent_encode_fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Gateway-shaped auth failures (`{"code":401,"message":..}`) in front of Jira.
fn is_gateway_error(status: u16, body: &Value) -> bool {
    matches!(status, 401 | 403 | 404)
        && body.get("code").is_some()
        && body.get("errorMessages").is_none()
}

/// Violations of `instance` against the schema at `uri` (compiled once).
fn violations_against(uri: &str, instance: &Value) -> Vec<String> {
    let validator = {
        let mut cache = VALIDATORS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match cache.get(uri) {
            Some(v) => Arc::clone(v),
            None => {
                let compiled = Arc::new(
                    options()
                        .with_registry(&REGISTRY)
                        .build(&json!({ "$ref": uri }))
                        .unwrap_or_else(|err| panic!("the schema {uri} compiles: {err}")),
                );
                cache.insert(uri.to_owned(), Arc::clone(&compiled));
                compiled
            }
        }
    };
    collect(&validator, instance)
}

/// Violations of `instance` against a standalone schema.
fn violations_of(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = options()
        .build(schema)
        .unwrap_or_else(|err| panic!("the schema compiles: {err}"));
    collect(&validator, instance)
}

fn collect(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|err| {
            let at = err.instance_path().to_string();
            let at = if at.is_empty() {
                "(root)".to_owned()
            } else {
                at
            };
            format!("at {at}: {err}")
        })
        .collect()
}

/// Validation options: draft 04 semantics (OpenAPI 3.0's base: boolean `exclusiveMinimum`,
/// `$ref` siblings ignored) with formats checked, Jira's timestamp accepted as `date-time`.
fn options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .with_format("date-time", is_jira_date_time)
        .with_format("date", |s: &str| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        })
        .with_format("uuid", |s: &str| uuid::Uuid::parse_str(s).is_ok())
}

/// `date-time` as Jira writes it (`2026-01-17T12:34:00.000+0000`: no colon in the offset, which
/// strict RFC 3339 rejects) or as RFC 3339.
pub fn is_jira_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok()
        || chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Loads a JSON file relative to the workspace root.
fn load_json(relative: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} is JSON: {err}", path.display()))
}

/// RFC 6901 escaping of one pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A hint listing spec paths that share the last segment with `path`.
fn similar_paths(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    let candidates: Vec<&String> = SPEC
        .get("paths")
        .and_then(Value::as_object)
        .map(|paths| paths.keys().filter(|k| k.ends_with(last)).take(8).collect())
        .unwrap_or_default();
    if candidates.is_empty() {
        String::new()
    } else {
        format!(" (did you mean one of {candidates:?}?)")
    }
}

/// The body, cut to a readable length for panic messages.
fn abbreviated(body: &Value) -> String {
    let text = body.to_string();
    if text.len() > 2000 {
        let mut end = 2000;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} bytes)", &text[..end], text.len())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created_issue() -> Value {
        json!({"id": "10000", "key": "DEMO-1", "self": "https://demo.example/rest/api/3/issue/10000"})
    }

    #[test]
    fn a_body_shaped_like_the_spec_passes() {
        assert_matches_spec("POST", "/rest/api/3/issue", 201, &created_issue());
    }

    #[test]
    fn a_wrong_type_is_reported_with_its_location_and_reason() {
        let body = json!({"id": 10000, "key": "DEMO-1", "self": "x"});
        let violations =
            spec_violations("POST", "/rest/api/3/issue", 201, &body).expect("operation exists");
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(violations[0].contains("/id"), "{violations:?}");
        assert!(violations[0].contains("string"), "{violations:?}");
    }

    #[test]
    #[should_panic(expected = "does not match Atlassian's spec")]
    fn assert_matches_spec_panics_on_a_violation() {
        assert_matches_spec("POST", "/rest/api/3/issue", 201, &json!({"id": 1}));
    }

    #[test]
    fn properties_the_spec_does_not_list_are_rejected_where_it_forbids_them() {
        let mut body = created_issue();
        body["invented"] = json!(true);
        let violations =
            spec_violations("POST", "/rest/api/3/issue", 201, &body).expect("operation exists");
        assert!(
            violations.iter().any(|v| v.contains("invented")),
            "{violations:?}"
        );
    }

    #[test]
    fn error_collections_validate_against_the_documented_error_status() {
        let body = json!({"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}});
        assert_matches_spec("POST", "/rest/api/3/issue", 400, &body);
    }

    #[test]
    fn gateway_auth_failures_are_accepted_for_401() {
        let body = json!({"code": 401, "message": "Unauthorized"});
        assert_matches_spec("GET", "/rest/api/3/myself", 401, &body);
    }

    #[test]
    fn error_responses_documented_without_a_body_must_be_error_collections() {
        let jira = json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}});
        assert_matches_spec("GET", "/rest/api/3/issue/{issueIdOrKey}", 404, &jira);
        let invented = json!({"error": "not found"});
        let violations = spec_violations("GET", "/rest/api/3/issue/{issueIdOrKey}", 404, &invented)
            .expect("404 is documented");
        assert!(!violations.is_empty());
    }

    #[test]
    fn a_204_must_be_empty() {
        assert_matches_spec(
            "DELETE",
            "/rest/api/3/issue/{issueIdOrKey}",
            204,
            &Value::Null,
        );
        let violations =
            spec_violations("PUT", "/rest/api/3/issue/{issueIdOrKey}", 204, &json!({}))
                .expect("204 is documented");
        assert_eq!(violations.len(), 1, "{violations:?}");
    }

    #[test]
    fn an_undocumented_status_is_an_error() {
        let problem = spec_violations("GET", "/rest/api/3/myself", 418, &Value::Null)
            .expect_err("418 is not documented");
        assert!(problem.contains("not documented"), "{problem}");
    }

    #[test]
    fn an_unknown_path_is_an_error_with_suggestions() {
        let problem = spec_violations("GET", "/rest/api/3/issue/{key}", 200, &Value::Null)
            .expect_err("no such template");
        assert!(problem.contains("no path"), "{problem}");
    }

    #[test]
    fn jira_timestamps_and_rfc3339_are_date_times_but_other_strings_are_not() {
        assert!(is_jira_date_time("2026-01-17T12:34:00.000+0000"));
        assert!(is_jira_date_time("2026-01-17T12:34:00.000+13:00"));
        assert!(is_jira_date_time("2026-01-17T12:34:00Z"));
        assert!(!is_jira_date_time("2026-01-17 12:34"));
        assert!(!is_jira_date_time("yesterday"));
    }

    #[test]
    fn formats_are_checked_in_response_bodies() {
        let mut info = json!({"baseUrl": "https://demo.example", "serverTime": "not a time"});
        let violations =
            spec_violations("GET", "/rest/api/3/serverInfo", 200, &info).expect("operation exists");
        assert!(
            violations.iter().any(|v| v.contains("serverTime")),
            "{violations:?}"
        );
        info["serverTime"] = json!("2026-01-17T12:34:00.000+0000");
        info["defaultLocale"] = json!({"locale": "en_US"});
        assert_matches_spec("GET", "/rest/api/3/serverInfo", 200, &info);
    }

    #[test]
    fn the_adf_schema_accepts_a_document_and_rejects_a_plain_string() {
        assert_valid_adf(&json!({
            "type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]
        }));
        assert!(!adf_violations(&json!("plain text")).is_empty());
        assert!(!adf_violations(&json!({"type": "doc", "content": []})).is_empty());
    }
}
