//! Field metadata and coercion: catalog lookup by id, `cf[N]` and name (ambiguous, unknown),
//! the coerced shape of every field kind (snapshots), error messages, the cache, and issues
//! created in the simulator with coerced custom fields.

#![allow(clippy::unwrap_used)]

mod sim;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiraflow_jira::fields::{
    CreateMetaFieldsPage, EditMeta, FieldCache, FieldCatalog, FieldDetails, FieldError, FieldKind,
    FieldMeta, FieldSchema, FieldSource, coerce,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const CF: &str = "com.atlassian.jira.plugin.system.customfieldtypes";

fn custom(id: &str, name: &str, kind: &str, items: Option<&str>, key: &str) -> FieldMeta {
    FieldMeta::new(
        id,
        name,
        Some(FieldSchema {
            kind: kind.into(),
            items: items.map(Into::into),
            custom: Some(format!("{CF}:{key}")),
            ..FieldSchema::default()
        }),
    )
}

fn system(id: &str, name: &str, kind: &str, items: Option<&str>) -> FieldMeta {
    FieldMeta::new(
        id,
        name,
        Some(FieldSchema {
            kind: kind.into(),
            items: items.map(Into::into),
            system: Some(id.into()),
            ..FieldSchema::default()
        }),
    )
}

fn options(pairs: &[(&str, &str)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(id, value)| json!({"self": "https://x/option", "id": id, "value": value}))
        .collect()
}

/// A catalog shaped like the simulator's demo site, with allowed values from createmeta.
fn catalog() -> FieldCatalog {
    FieldCatalog::from_meta([
        system("summary", "Summary", "string", None),
        system("description", "Description", "string", None),
        system("duedate", "Due date", "date", None),
        system("labels", "Labels", "array", Some("string")),
        system("assignee", "Assignee", "user", None),
        system("priority", "Priority", "priority", None).with_allowed_values(vec![
            json!({"id": "1", "name": "Highest"}),
            json!({"id": "3", "name": "Medium"}),
        ]),
        system("issuetype", "Issue Type", "issuetype", None),
        system("project", "Project", "project", None),
        system("parent", "Parent", "issuelink", None),
        system("components", "Components", "array", Some("component")),
        custom("customfield_10016", "Story Points", "number", None, "float"),
        custom("customfield_10020", "Team", "option", None, "select").with_allowed_values(options(
            &[
                ("10100", "Platform"),
                ("10101", "Payments"),
                ("10102", "Mobile"),
            ],
        )),
        custom(
            "customfield_10022",
            "Components Affected",
            "array",
            Some("option"),
            "multiselect",
        )
        .with_allowed_values(options(&[("10120", "API"), ("10121", "Web")])),
        custom(
            "customfield_10030",
            "Acceptance Criteria",
            "string",
            None,
            "textarea",
        ),
        custom(
            "customfield_10040",
            "External Reference",
            "string",
            None,
            "textfield",
        ),
        custom("customfield_10050", "Reviewer", "user", None, "userpicker"),
        custom(
            "customfield_10051",
            "Approvers",
            "array",
            Some("user"),
            "multiuserpicker",
        ),
        custom(
            "customfield_10060",
            "Start Date",
            "date",
            None,
            "datepicker",
        ),
        custom(
            "customfield_10061",
            "Deployed At",
            "datetime",
            None,
            "datetime",
        ),
        custom(
            "customfield_10070",
            "Tags",
            "array",
            Some("string"),
            "labels",
        ),
        custom(
            "customfield_10080",
            "Region",
            "option-with-child",
            None,
            "cascadingselect",
        )
        .with_allowed_values(vec![
            json!({"id": "10130", "value": "Europe", "children": [
                    {"id": "10131", "value": "Berlin"}, {"id": "10132", "value": "Paris"}]}),
            json!({"id": "10133", "value": "Americas", "children": [
                    {"id": "10134", "value": "Toronto"}]}),
        ]),
        // No allowed values known: shapes are built without validation.
        custom("customfield_10090", "Channel", "option", None, "select"),
    ])
}

fn coerced(reference: &str, input: Value) -> Value {
    match catalog().coerce(reference, input) {
        Ok((_, value)) => value,
        Err(error) => panic!("{reference}: {error}"),
    }
}

fn error(reference: &str, input: Value) -> String {
    match catalog().coerce(reference, input) {
        Ok((_, value)) => panic!("{reference} accepted {value}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn lookup_finds_fields_by_id_cf_number_and_case_insensitive_name() {
    let catalog = catalog();
    let id = |r: &str| catalog.lookup(r).map(|f| f.id.clone()).ok();
    assert_eq!(
        id("customfield_10016").as_deref(),
        Some("customfield_10016")
    );
    assert_eq!(id("cf[10016]").as_deref(), Some("customfield_10016"));
    assert_eq!(id("Story Points").as_deref(), Some("customfield_10016"));
    assert_eq!(id("  story POINTS ").as_deref(), Some("customfield_10016"));
    assert_eq!(id("summary").as_deref(), Some("summary"));
    assert_eq!(id("Due date").as_deref(), Some("duedate"));
}

#[test]
fn an_unknown_name_lists_close_matches() {
    let error = catalog().lookup("Story Point").map(|f| f.id.clone());
    assert_eq!(
        error.map_err(|e| e.to_string()),
        Err("unknown field 'Story Point'; did you mean Story Points (customfield_10016)?".into())
    );
    let error = catalog().lookup("zzzzzzzz").map(|f| f.id.clone());
    assert_eq!(
        error.map_err(|e| e.to_string()),
        Err("unknown field 'zzzzzzzz'".into())
    );
}

#[test]
fn a_name_shared_by_two_fields_is_ambiguous_and_lists_both_ids() {
    let catalog = FieldCatalog::from_meta([
        custom("customfield_1", "Team", "option", None, "select"),
        custom("customfield_2", "team", "string", None, "textfield"),
    ]);
    let error = catalog.lookup("TEAM").map(|f| f.id.clone()).unwrap_err();
    assert!(error.is_ambiguous());
    assert_eq!(
        error.to_string(),
        "field name 'TEAM' is ambiguous: it names Team (customfield_1), team (customfield_2); \
         use the field id instead"
    );
    // The id still addresses each field.
    assert_eq!(
        catalog
            .lookup("customfield_2")
            .map(|f| f.name.as_str())
            .ok(),
        Some("team")
    );
}

#[test]
fn field_kinds_follow_the_schema_and_the_system_field_id() {
    let catalog = catalog();
    let kind = |r: &str| catalog.lookup(r).map(FieldMeta::kind).ok();
    assert_eq!(kind("Team"), Some(FieldKind::Select));
    assert_eq!(kind("Region"), Some(FieldKind::Cascading));
    assert_eq!(kind("Acceptance Criteria"), Some(FieldKind::RichText));
    assert_eq!(kind("description"), Some(FieldKind::RichText));
    assert_eq!(kind("summary"), Some(FieldKind::Text));
    assert_eq!(kind("Approvers"), Some(FieldKind::MultiUser));
    assert_eq!(kind("components"), Some(FieldKind::NamedList));
    let unknown = FieldMeta::new("customfield_1", "X", None);
    assert_eq!(unknown.kind(), FieldKind::Other);
    assert_eq!(
        coerce(&unknown, json!({"any": 1})).ok(),
        Some(json!({"any": 1}))
    );
}

#[test]
fn select_and_multi_select_shapes() {
    insta::assert_json_snapshot!(json!({
        "value": coerced("Team", json!("Platform")),
        "value_any_case": coerced("Team", json!("payments")),
        "option_id_as_text": coerced("Team", json!("10102")),
        "option_id_as_number": coerced("Team", json!(10100)),
        "object_with_value": coerced("Team", json!({"value": "Mobile", "self": "x"})),
        "unvalidated_value": coerced("Channel", json!("Email")),
        "unvalidated_id": coerced("Channel", json!({"id": 7})),
        "null_clears": coerced("Team", Value::Null),
        "multi_from_list": coerced("Components Affected", json!(["API", "Web"])),
        "multi_from_commas": coerced("Components Affected", json!("API, web")),
        "multi_one_value": coerced("Components Affected", json!("API")),
    }));
}

#[test]
fn cascading_select_shapes() {
    insta::assert_json_snapshot!(json!({
        "parent_and_child": coerced("Region", json!("Europe > Berlin")),
        "no_spaces": coerced("Region", json!("Americas>Toronto")),
        "parent_only": coerced("Region", json!("Europe")),
        "from_list": coerced("Region", json!(["Europe", "Paris"])),
        "from_jira_shape": coerced("Region", json!({"value": "Europe", "child": {"value": "Paris"}})),
        "from_parent_child_object": coerced("Region", json!({"parent": "Europe", "child": "Berlin"})),
        "by_ids": coerced("Region", json!({"id": "10130", "child": {"id": "10131"}})),
    }));
}

#[test]
fn user_date_number_label_and_text_shapes() {
    insta::assert_json_snapshot!(json!({
        "user": coerced("Reviewer", json!("5f1a00000000000000000b02")),
        "user_object": coerced("assignee", json!({"accountId": "5f1a00000000000000000a01", "displayName": "Ada"})),
        "users_from_commas": coerced("Approvers", json!("a1, b2")),
        "date": coerced("Start Date", json!("2026-01-17")),
        "date_from_datetime_keeps_written_day": coerced("Start Date", json!("2026-01-17T23:30:00-05:00")),
        "date_from_epoch_ms": coerced("duedate", json!(1768653240000_i64)),
        "datetime_jira_format": coerced("Deployed At", json!("2026-01-17T12:34:00.000+0000")),
        "datetime_from_rfc3339": coerced("Deployed At", json!("2026-01-17T12:34:00+01:00")),
        "datetime_from_date": coerced("Deployed At", json!("2026-01-17")),
        "datetime_from_epoch_ms_text": coerced("Deployed At", json!("1768653240000")),
        "datetime_without_offset_is_utc": coerced("Deployed At", json!("2026-01-17T12:34:56")),
        "number": coerced("Story Points", json!(3)),
        "number_from_text": coerced("Story Points", json!(" 5 ")),
        "decimal_from_text": coerced("Story Points", json!("2.5")),
        "labels_from_list": coerced("labels", json!(["b", "a", "b"])),
        "labels_from_commas": coerced("Tags", json!("ops,  urgent ,")),
        "text": coerced("External Reference", json!("EXT-42")),
        "text_from_number": coerced("External Reference", json!(42)),
        "summary": coerced("summary", json!("Printer on fire")),
    }));
}

#[test]
fn system_reference_and_rich_text_shapes() {
    insta::assert_json_snapshot!(json!({
        "priority_by_name": coerced("priority", json!("highest")),
        "priority_by_id": coerced("priority", json!("3")),
        "priority_object": coerced("priority", json!({"id": 1})),
        "issuetype_by_name": coerced("issuetype", json!("Bug")),
        "issuetype_by_id": coerced("issuetype", json!("10002")),
        "project_by_key": coerced("project", json!("DEMO")),
        "project_by_id": coerced("project", json!(10000)),
        "parent_by_key": coerced("parent", json!("DEMO-1")),
        "parent_by_id": coerced("parent", json!("10042")),
        "components": coerced("components", json!("Backend, 10500")),
        "description": coerced("description", json!("First line\nsecond line\n\nNext paragraph")),
        "textarea_keeps_adf": coerced("Acceptance Criteria", json!({"type": "doc", "version": 1, "content": []})),
    }));
}

#[test]
fn errors_name_the_field_and_say_what_was_expected() {
    assert_eq!(
        error("Team", json!("Infra")),
        "field 'Team' (customfield_10020) does not allow 'Infra'; allowed values: Platform, \
         Payments, Mobile"
    );
    assert_eq!(
        error("Components Affected", json!(["API", "Mobile"])),
        "field 'Components Affected' (customfield_10022) does not allow 'Mobile'; allowed \
         values: API, Web"
    );
    assert_eq!(
        error("Region", json!("Europe > Toronto")),
        "field 'Region' (customfield_10080) does not allow 'Toronto'; allowed values: Berlin, Paris"
    );
    assert_eq!(
        error("Story Points", json!("five")),
        "field 'Story Points' (customfield_10016) expects a number, but got 'five' (text)"
    );
    assert_eq!(
        error("Story Points", json!(true)),
        "field 'Story Points' (customfield_10016) expects a number, but got true (a boolean)"
    );
    assert_eq!(
        error("Start Date", json!("17/01/2026")),
        "field 'Start Date' (customfield_10060) expects a date (YYYY-MM-DD), a date-time or \
         epoch milliseconds, but got '17/01/2026' (text)"
    );
    assert_eq!(
        error("Tags", json!("needs triage")),
        "field 'Tags' (customfield_10070): the label 'needs triage' contains spaces, which Jira \
         does not allow"
    );
    assert_eq!(
        error("External Reference", json!("x".repeat(256))),
        "field 'External Reference' (customfield_10040) takes at most 255 characters, but got 256"
    );
    assert_eq!(
        error("priority", json!("Urgent")),
        "field 'Priority' (priority) does not allow 'Urgent'; allowed values: Highest, Medium"
    );
    assert_eq!(
        error("Acceptance Criteria", json!(["a"])),
        "field 'Acceptance Criteria' (customfield_10030) expects Markdown text or an ADF \
         document, but got a list of 1 items"
    );
    assert_eq!(
        error("parent", json!("not a key")),
        "field 'Parent' (parent) expects an issue key (DEMO-1), an issue id or {\"key\"}/{\"id\"}, \
         but got 'not a key' (text)"
    );
    assert_eq!(
        error("Reviewer", json!(12)),
        "field 'Reviewer' (customfield_10050) expects an Atlassian account id or \
         {\"accountId\"}, but got 12 (a number)"
    );
}

#[test]
fn e_mail_addresses_for_user_fields_ask_the_caller_to_look_them_up() {
    let error = catalog()
        .coerce(
            "Approvers",
            json!(["5f1a", "ada@acme.example", "bob@acme.example"]),
        )
        .unwrap_err();
    assert!(error.needs_user_lookup());
    assert_eq!(
        error.user_lookups(),
        ["ada@acme.example", "bob@acme.example"]
    );
    assert_eq!(error.field_id(), Some("customfield_10051"));
    assert!(matches!(error, FieldError::UserLookupNeeded { .. }));
}

#[test]
fn a_field_error_keeps_its_structure_inside_the_crate_error() {
    let field_error = catalog()
        .coerce("Approvers", json!(["ada@acme.example"]))
        .unwrap_err();
    let message = format!("invalid request: {field_error}");
    let error = jiraflow_jira::Error::from(field_error);
    assert_eq!(error.to_string(), message);
    let inner = error.field().unwrap();
    assert!(inner.needs_user_lookup());
    assert_eq!(inner.user_lookups(), ["ada@acme.example"]);
}

#[test]
fn coerce_all_builds_a_fields_object_keyed_by_id() {
    let fields = catalog()
        .coerce_all([
            ("Summary", json!("Checkout fails")),
            ("team", json!("Payments")),
            ("cf[10016]", json!("8")),
            ("Tags", json!("checkout,p1")),
        ])
        .unwrap();
    assert_eq!(
        Value::Object(fields),
        json!({
            "summary": "Checkout fails",
            "customfield_10020": {"value": "Payments"},
            "customfield_10016": 8,
            "customfield_10070": ["checkout", "p1"],
        })
    );
}

#[test]
fn coerce_all_reports_every_failure_and_duplicate_addresses() {
    let error = catalog()
        .coerce_all([
            ("Team", json!("Platform")),
            ("customfield_10020", json!("Mobile")),
            ("Story Pointz", json!(1)),
            ("Reviewer", json!("kiri@acme.example")),
        ])
        .unwrap_err();
    assert_eq!(error.errors().len(), 3);
    assert!(error.is_unknown_field());
    assert!(error.needs_user_lookup());
    assert_eq!(error.user_lookups(), ["kiri@acme.example"]);
    assert_eq!(
        error.to_string(),
        "3 fields are invalid: 'Team' and 'customfield_10020' both name the field \
         customfield_10020; unknown field 'Story Pointz'; did you mean Story Points \
         (customfield_10016)?; field 'Reviewer' (customfield_10050) needs Atlassian account ids; \
         look up kiri@acme.example first"
    );
}

#[test]
fn wire_types_read_createmeta_editmeta_and_field_lists_leniently() {
    let page: CreateMetaFieldsPage = serde_json::from_str(
        r#"{"fields":[{"fieldId":"assignee","hasDefaultValue":false,"key":"assignee",
            "name":"Assignee","operations":["set"],"required":true}],
            "maxResults":1,"startAt":0,"total":1}"#,
    )
    .unwrap();
    assert_eq!(page.fields[0].id(), Some("assignee"));
    assert!(page.fields[0].required);
    let results: CreateMetaFieldsPage =
        serde_json::from_value(json!({"results": [{"fieldId": "x", "name": "X"}]})).unwrap();
    assert_eq!(results.fields.len(), 1);
    let edit: EditMeta = serde_json::from_value(json!({"fields": {"labels": {
        "key": "labels", "name": "Labels", "required": false, "operations": null,
        "schema": {"type": "array", "items": "string", "system": "labels"}}}}))
    .unwrap();
    assert_eq!(edit.fields["labels"].id(), Some("labels"));
    let field: FieldDetails = serde_json::from_value(json!({
        "id": "customfield_10016", "name": "Story Points", "custom": true,
        "schema": {"type": "number", "custom": format!("{CF}:float"), "customId": "10016"},
        "clauseNames": ["cf[10016]", "Story Points"], "navigable": true, "untyped": {"a": 1}
    }))
    .unwrap();
    assert_eq!(field.schema.as_ref().and_then(|s| s.custom_id), Some(10016));
    assert_eq!(field.extra["untyped"], json!({"a": 1}));
}

#[test]
fn with_metadata_merges_allowed_values_into_the_catalog() {
    let edit: EditMeta = serde_json::from_value(json!({"fields": {"customfield_10090": {
        "key": "customfield_10090", "name": "Channel", "required": true, "operations": ["set"],
        "allowedValues": [{"id": "1", "value": "Email"}]}}}))
    .unwrap();
    let catalog = catalog().with_metadata(edit.fields.values());
    let field = catalog.lookup("Channel").unwrap();
    assert!(field.required);
    assert!(catalog.coerce("Channel", json!("Phone")).is_err());
    assert_eq!(
        catalog.coerce("Channel", json!("email")).unwrap().1,
        json!({"value": "Email"})
    );
}

struct CountingSource(AtomicUsize);

impl FieldSource for CountingSource {
    type Error = std::convert::Infallible;

    async fn fetch_fields(&self) -> Result<Vec<FieldDetails>, Self::Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(vec![
            serde_json::from_value(json!({"id": "summary", "name": "Summary"})).unwrap(),
        ])
    }
}

#[tokio::test]
async fn the_cache_fetches_once_per_key_until_the_ttl_passes_or_it_is_invalidated() {
    let source = CountingSource(AtomicUsize::new(0));
    let cache = FieldCache::new(Duration::from_secs(60));
    let a = cache.get_or_fetch("cloud-a", &source).await.unwrap();
    let again = cache.get_or_fetch("cloud-a", &source).await.unwrap();
    assert!(Arc::ptr_eq(&a, &again));
    assert_eq!(source.0.load(Ordering::SeqCst), 1);
    cache.get_or_fetch("cloud-b", &source).await.unwrap();
    assert_eq!(source.0.load(Ordering::SeqCst), 2);
    cache.invalidate("cloud-a");
    cache.get_or_fetch("cloud-a", &source).await.unwrap();
    assert_eq!(source.0.load(Ordering::SeqCst), 3);

    let expired = FieldCache::new(Duration::ZERO);
    expired.get_or_fetch("k", &source).await.unwrap();
    expired.get_or_fetch("k", &source).await.unwrap();
    assert_eq!(source.0.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_failed_fetch_is_not_cached() {
    let cache = FieldCache::default();
    let failed = cache
        .get_or_fetch_with("k", || async { Err::<Vec<FieldDetails>, _>("boom") })
        .await;
    assert_eq!(failed.err(), Some("boom"));
    assert!(cache.get("k").is_none());
}

proptest! {
    #[test]
    fn integers_written_as_text_become_the_same_json_number(n in any::<i64>()) {
        prop_assert_eq!(coerced("Story Points", json!(n.to_string())), json!(n));
    }

    #[test]
    fn coerced_labels_never_contain_whitespace(input in "[a-z ,\t]{0,40}") {
        if let Ok((_, Value::Array(labels))) = catalog().coerce("labels", json!(input)) {
            for label in labels {
                let label = label.as_str().unwrap_or_default().to_owned();
                prop_assert!(!label.is_empty() && !label.chars().any(char::is_whitespace));
            }
        }
    }

    #[test]
    fn epoch_milliseconds_round_trip_through_datetime(ms in 0_i64..4_102_444_800_000) {
        let text = coerced("Deployed At", json!(ms));
        let parsed = chrono::DateTime::parse_from_str(
            text.as_str().unwrap_or_default(), "%Y-%m-%dT%H:%M:%S%.3f%z");
        prop_assert_eq!(parsed.map(|d| d.timestamp_millis()).ok(), Some(ms));
    }
}
