//! Decoding a 100-issue `/search/jql` page into the typed `SearchPage`, against decoding the same
//! bytes into `serde_json::Value` (the floor any typed decode is measured against).

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiraflow_jira::wire::search::SearchPage;
use serde_json::{Value, json};

/// One issue shaped like a real Cloud answer with the default search fields plus custom fields.
fn issue(n: usize) -> Value {
    let user = |name: &str| {
        json!({
            "self": "https://acme.atlassian.net/rest/api/3/user?accountId=5f1a00000000000000000a01",
            "accountId": "5f1a00000000000000000a01",
            "displayName": name,
            "active": true,
            "timeZone": "Europe/Paris",
            "accountType": "atlassian",
            "avatarUrls": {
                "48x48": "https://avatar-management.example/48.png",
                "24x24": "https://avatar-management.example/24.png",
                "16x16": "https://avatar-management.example/16.png",
                "32x32": "https://avatar-management.example/32.png"
            }
        })
    };
    let mut fields = json!({
        "summary": format!("Login page times out under load #{n}"),
        "status": {"self": "https://acme.atlassian.net/rest/api/3/status/10001", "id": "10001",
            "name": "In Progress", "description": "",
            "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress", "colorName": "yellow"}},
        "issuetype": {"id": "10001", "name": "Task", "subtask": false, "hierarchyLevel": 0,
            "iconUrl": "https://acme.atlassian.net/images/icons/task.svg"},
        "project": {"id": "10000", "key": "DEMO", "name": "Demo Project", "projectTypeKey": "software"},
        "priority": {"id": "3", "name": "Medium", "iconUrl": "https://acme.atlassian.net/images/icons/medium.svg"},
        "assignee": user("Ada Admin"),
        "reporter": user("Bob Builder"),
        "labels": ["backend", "customer-reported"],
        "created": "2026-01-17T12:34:00.000+0000",
        "updated": "2026-01-18T09:15:27.431+0100",
        "resolutiondate": null,
        "parent": null,
        "description": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Steps to reproduce: open the login page with 500 users."}]},
            {"type": "bulletList", "content": [{"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "p95 above 3 s", "marks": [{"type": "strong"}]}]}]}]}
        ]}
    });
    for c in 0..15 {
        fields[format!("customfield_{}", 10_000 + c)] =
            if c % 3 == 0 { json!(c) } else { Value::Null };
    }
    json!({
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": (10_000 + n).to_string(),
        "self": format!("https://acme.atlassian.net/rest/api/3/issue/{}", 10_000 + n),
        "key": format!("DEMO-{n}"),
        "fields": fields
    })
}

fn page() -> Vec<u8> {
    let issues: Vec<Value> = (1..=100).map(issue).collect();
    serde_json::to_vec(&json!({
        "issues": issues,
        "nextPageToken": "CAEaAggD",
        "isLast": false
    }))
    .unwrap()
}

fn decode(c: &mut Criterion) {
    let bytes = page();
    let mut group = c.benchmark_group("search_page_100_issues");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("typed_SearchPage", |b| {
        b.iter(|| serde_json::from_slice::<SearchPage>(black_box(&bytes)).unwrap());
    });
    group.bench_function("serde_json_Value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&bytes)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
