//! Conversion of Atlassian's OpenAPI 3.0 spec to draft-04 JSON Schema for the response checks in
//! the parent module, and the table of quirks where a literal reading of the spec is wrong.

use serde_json::{Map, Value, json};

use super::SPEC;

/// Where a literal reading of Atlassian's spec is wrong about real Jira Cloud, and what this
/// validator does about it: `(JSON pointer into the spec, replacement schema, why)`. The same list,
/// with sources, is in `docs/fidelity.md`.
pub const QUIRKS: &[(&str, &str, &str)] = &[
    (
        "/components/schemas/ServerInformation/properties/defaultLocale",
        r#"{"type":"object","properties":{"locale":{"type":"string"}},"additionalProperties":false}"#,
        "real Jira Cloud returns defaultLocale from /serverInfo; the spec's schema omits it and forbids additional properties",
    ),
    (
        "/components/schemas/SearchResults/properties/isLast",
        r#"{"type":"boolean"}"#,
        "the deprecated /search returns isLast (captured in fixtures/jira-cli/rest-v3/search.json); the schema omits it and forbids additional properties",
    ),
    (
        "/components/schemas/Webhook/properties/expirationDate",
        r#"{"anyOf":[{"type":"integer"},{"type":"string","format":"date-time"}]}"#,
        "schema says int64, the spec's own examples show a Jira timestamp string; accept both",
    ),
    (
        "/components/schemas/WebhooksExpirationDate/properties/expirationDate",
        r#"{"anyOf":[{"type":"integer"},{"type":"string","format":"date-time"}]}"#,
        "schema says int64, the spec's own examples show a Jira timestamp string; accept both",
    ),
    (
        "/components/schemas/JqlQueryClause/additionalProperties",
        "true",
        "JqlQueryClause is an anyOf of clause kinds with additionalProperties: false and no properties, which rejects every clause jql/parse returns; the concrete clause schemas still apply",
    ),
    (
        "/components/schemas/ChangeDetails/properties/from",
        r#"{"type":["string","null"]}"#,
        "changelog items carry null for an absent old or new value (the spec's own changelog example, fixtures/mattermost-plugin-jira/webhooks/webhook-issue-updated-assigned-nobody.json); the schema types them as plain strings",
    ),
    (
        "/components/schemas/ChangeDetails/properties/fromString",
        r#"{"type":["string","null"]}"#,
        "changelog items carry null for an absent old or new value (the spec's own changelog example, fixtures/mattermost-plugin-jira/webhooks/webhook-issue-updated-assigned-nobody.json); the schema types them as plain strings",
    ),
    (
        "/components/schemas/ChangeDetails/properties/to",
        r#"{"type":["string","null"]}"#,
        "changelog items carry null for an absent old or new value (the spec's own changelog example, fixtures/mattermost-plugin-jira/webhooks/webhook-issue-updated-assigned-nobody.json); the schema types them as plain strings",
    ),
    (
        "/components/schemas/ChangeDetails/properties/toString",
        r#"{"type":["string","null"]}"#,
        "changelog items carry null for an absent old or new value (the spec's own changelog example, fixtures/mattermost-plugin-jira/webhooks/webhook-issue-updated-assigned-nobody.json); the schema types them as plain strings",
    ),
];

/// The spec with every response and component schema converted to JSON Schema and the quirks
/// applied.
pub(super) fn converted_spec() -> Value {
    let mut spec = SPEC.clone();
    if let Some(Value::Object(schemas)) = spec.pointer_mut("/components/schemas") {
        for schema in schemas.values_mut() {
            convert_schema(schema);
        }
    }
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        for item in paths.values_mut() {
            let Value::Object(ops) = item else { continue };
            for op in ops.values_mut() {
                let Some(Value::Object(responses)) = op.get_mut("responses") else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(Value::Object(content)) = response.get_mut("content") else {
                        continue;
                    };
                    for media in content.values_mut() {
                        if let Some(schema) = media.get_mut("schema") {
                            convert_schema(schema);
                        }
                    }
                }
            }
        }
    }
    for (pointer, replacement, why) in QUIRKS {
        let replacement: Value = serde_json::from_str(replacement)
            .unwrap_or_else(|err| panic!("quirk {pointer} is JSON: {err}"));
        let (parent, key) = pointer
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("quirk pointer {pointer} has a parent"));
        match spec.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.insert(key.to_owned(), replacement);
            }
            _ => panic!("quirk {pointer} ({why}) no longer applies: the spec changed"),
        }
    }
    spec
}

/// Converts one OpenAPI 3.0 schema object (recursively) to draft-04 JSON Schema:
/// - `nullable: true` becomes `anyOf: [{"type": "null"}, <schema>]` (works with `$ref`, `enum`
///   and `allOf`, unlike adding `"null"` to `type`);
/// - `writeOnly` properties are dropped from `required` (they are never in responses);
/// - annotations with no validation meaning in responses (`example`, `xml`, `discriminator`,
///   `readOnly`, `writeOnly`, `externalDocs`, `deprecated`) are removed.
pub fn convert_schema(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    let write_only: Vec<String> = map
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter(|(_, p)| p.get("writeOnly") == Some(&Value::Bool(true)))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    if !write_only.is_empty()
        && let Some(Value::Array(required)) = map.get_mut("required")
    {
        required.retain(|r| {
            !r.as_str()
                .is_some_and(|r| write_only.iter().any(|w| w == r))
        });
        if required.is_empty() {
            map.remove("required");
        }
    }
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        props.values_mut().for_each(convert_schema);
    }
    for key in ["items", "not", "additionalProperties"] {
        if let Some(sub) = map.get_mut(key) {
            convert_schema(sub);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = map.get_mut(key) {
            subs.iter_mut().for_each(convert_schema);
        }
    }
    for key in [
        "example",
        "xml",
        "discriminator",
        "readOnly",
        "writeOnly",
        "externalDocs",
        "deprecated",
    ] {
        map.remove(key);
    }
    if map.remove("nullable") == Some(Value::Bool(true)) {
        let inner = Value::Object(std::mem::take(map));
        let mut wrapped = Map::new();
        wrapped.insert("anyOf".to_owned(), json!([{"type": "null"}, inner]));
        *map = wrapped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_becomes_a_null_alternative() {
        let mut schema = json!({"type": "string", "nullable": true, "example": "x"});
        convert_schema(&mut schema);
        assert_eq!(
            schema,
            json!({"anyOf": [{"type": "null"}, {"type": "string"}]})
        );
    }

    #[test]
    fn write_only_properties_are_not_required_in_responses() {
        let mut schema = json!({
            "type": "object",
            "required": ["password", "name"],
            "properties": {"password": {"type": "string", "writeOnly": true}, "name": {"type": "string"}}
        });
        convert_schema(&mut schema);
        assert_eq!(schema["required"], json!(["name"]));
    }

    #[test]
    fn a_property_named_like_an_annotation_survives_conversion() {
        let mut schema = json!({"type": "object", "properties": {"example": {"type": "string"}}});
        convert_schema(&mut schema);
        assert!(schema["properties"].get("example").is_some());
    }

    #[test]
    fn every_quirk_still_points_at_something_in_the_spec() {
        for (pointer, _, _) in QUIRKS {
            let (parent, _) = pointer.rsplit_once('/').expect("pointer has a parent");
            assert!(SPEC.pointer(parent).is_some(), "{pointer}");
        }
    }
}
