//! JQL search: `search/jql` (fields, paging tokens, bounded JQL, permissions, lag and
//! reconciliation), `approximate-count`, `jql/parse` and `jql/match`. The evaluator's fields,
//! operators, functions and date semantics are in `search/evaluator.rs`.

mod evaluator;

use std::collections::{BTreeMap, BTreeSet};

use jiraflow_sim::events::{IssueEvent, IssueEventKind};
use jiraflow_sim::seed::{ACME_CLOUD_ID, ADMIN_ACCOUNT, MEMBER_ACCOUNT, SECURITY_ACCOUNT};
use jiraflow_sim::world::Issue;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::{assert_matches_component, assert_matches_spec};
use crate::support::{TestSim, send_json};

const SEARCH: &str = "/rest/api/3/search/jql";

/// 2026-01-17T12:34:00Z.
pub(super) const T_1234: i64 = 1_768_653_240_000;

/// Creates an empty project `key` (bulk seeding with no issues) so a test owns its data.
pub(super) fn project(sim: &TestSim, key: &str) {
    jiraflow_sim::search::bulk_seed(&sim.sim.state, ACME_CLOUD_ID, key, 0, 0).expect("project");
}

/// Adds an issue to `project_key` through the world, published like a REST create. `edit`
/// adjusts the issue before it is stored; timestamps default to now.
pub(super) fn add_issue(
    sim: &TestSim,
    project_key: &str,
    edit: impl FnOnce(&mut Issue),
) -> (u64, String) {
    let state = &sim.sim.state;
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let id = world.allocate_id();
    let site = world.site_mut(ACME_CLOUD_ID).expect("site");
    let project_id = site.jira.resolve_project(project_key).expect("project");
    let project = site.jira.projects.get_mut(&project_id).expect("project");
    let key = format!("{}-{}", project.key, project.next_issue_number);
    project.next_issue_number += 1;
    let mut issue = Issue {
        id,
        key: key.clone(),
        project_id,
        issue_type_id: "10001".to_owned(),
        summary: format!("Issue {key}"),
        description: None,
        environment: None,
        status_id: "10000".to_owned(),
        resolution: None,
        resolution_date: None,
        priority_id: Some("3".to_owned()),
        assignee: None,
        reporter: Some(ADMIN_ACCOUNT.to_owned()),
        creator: ADMIN_ACCOUNT.to_owned(),
        labels: Vec::new(),
        duedate: None,
        parent_id: None,
        created: now,
        updated: now,
        custom_fields: BTreeMap::new(),
        comments: Vec::new(),
        attachment_ids: Vec::new(),
        watchers: BTreeSet::new(),
        properties: BTreeMap::new(),
        changelog: Vec::new(),
    };
    edit(&mut issue);
    site.jira.issue_keys.insert(key.clone(), id);
    site.jira.issues.insert(id, issue.clone());
    state.publish(
        &mut world,
        IssueEvent {
            cloud_id: ACME_CLOUD_ID.to_owned(),
            issue,
            kind: IssueEventKind::Created,
            actor: ADMIN_ACCOUNT.to_owned(),
            at: now,
        },
    );
    (id, key)
}

async fn search_as(sim: &TestSim, token: &str, body: Value) -> (u16, Value) {
    send_json(
        sim.http
            .post(sim.api("/search/jql"))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

pub(super) async fn search(sim: &TestSim, body: Value) -> (u16, Value) {
    search_as(sim, sim.admin_token(), body).await
}

/// Keys found by `jql` (fields=key), in order, for the admin.
pub(super) async fn keys(sim: &TestSim, jql: &str) -> Vec<String> {
    keys_as(sim, sim.admin_token(), jql).await
}

pub(super) async fn keys_as(sim: &TestSim, token: &str, jql: &str) -> Vec<String> {
    let (status, body) = search_as(
        sim,
        token,
        json!({ "jql": jql, "fields": ["key"], "maxResults": 5000 }),
    )
    .await;
    assert_eq!(status, 200, "{jql}: {body}");
    body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| i["key"].as_str().expect("key").to_owned())
        .collect()
}

pub(super) async fn error_of(sim: &TestSim, jql: &str) -> Vec<String> {
    let (status, body) = search(sim, json!({ "jql": jql })).await;
    assert_eq!(status, 400, "{jql}: {body}");
    assert_eq!(body["errors"], json!({}));
    body["errorMessages"]
        .as_array()
        .expect("errorMessages")
        .iter()
        .map(|m| m.as_str().expect("message").to_owned())
        .collect()
}

#[tokio::test]
async fn search_returns_only_ids_by_default_and_the_last_page_has_no_token() {
    let sim = TestSim::start().await;
    project(&sim, "IDS");
    let (id, _) = add_issue(&sim, "IDS", |_| {});
    let (status, body) = search(&sim, json!({ "jql": "project = IDS" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "issues": [{ "id": id.to_string() }], "isLast": true })
    );
    assert_matches_spec("post", SEARCH, 200, &body);
}

#[tokio::test]
async fn requested_fields_are_rendered_from_the_live_issue() {
    let sim = TestSim::start().await;
    let (status, body) = search(
        &sim,
        json!({ "jql": "project = DEMO ORDER BY key ASC", "fields": ["summary", "status", "updated"], "maxResults": 2, "expand": "names" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first = &body["issues"][0];
    assert_eq!(first["key"], "DEMO-1");
    assert!(first["fields"]["summary"].is_string(), "{first}");
    assert!(first["fields"]["status"]["name"].is_string(), "{first}");
    assert!(first["fields"].get("description").is_none());
    assert!(body["names"]["summary"].is_string(), "{body}");
    assert_eq!(body["isLast"], false);
    assert!(body["nextPageToken"].is_string());
    assert_matches_spec("post", SEARCH, 200, &body);
}

#[tokio::test]
async fn get_search_takes_the_same_parameters_in_the_query_string() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(sim.admin(Method::GET, "/search/jql").query(&[
        ("jql", "project = OPS ORDER BY key DESC"),
        ("fields", "key,summary"),
        ("maxResults", "2"),
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issues"][0]["key"], "OPS-6");
    assert_eq!(body["issues"][1]["key"], "OPS-5");
    assert_matches_spec("get", SEARCH, 200, &body);
}

#[tokio::test]
async fn unbounded_queries_are_rejected_like_jira() {
    let sim = TestSim::start().await;
    for jql in ["", "order by key desc", "ORDER BY updated"] {
        let (status, body) = search(&sim, json!({ "jql": jql })).await;
        assert_eq!(status, 400, "{jql}");
        assert_eq!(
            body,
            json!({"errorMessages":["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."],"errors":{}})
        );
    }
    let (status, _) = send_json(
        sim.admin(Method::POST, "/search/approximate-count")
            .json(&json!({ "jql": "order by key" })),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        !keys(
            &sim,
            "assignee = currentUser() OR project = OPS order by key"
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn expand_must_be_a_string_and_unknown_body_properties_are_refused() {
    let sim = TestSim::start().await;
    let (status, body) = search(
        &sim,
        json!({ "jql": "project = DEMO", "expand": ["names"] }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errorMessages"][0].is_string());
    let (status, _) = search(
        &sim,
        json!({ "jql": "project = DEMO", "validateQuery": "strict" }),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = search(
        &sim,
        json!({ "jql": "project = DEMO", "expand": "names,schema" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = search(
        &sim,
        json!({ "jql": "project = DEMO", "properties": ["a", "b", "c", "d", "e", "f"] }),
    )
    .await;
    assert_eq!(status, 400);
    let ids: Vec<u64> = (1..=51).collect();
    let (status, _) = search(
        &sim,
        json!({ "jql": "project = DEMO", "reconcileIssues": ids }),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn paging_with_next_page_token_yields_every_issue_exactly_once_in_order() {
    let sim = TestSim::start().await;
    let ids =
        jiraflow_sim::search::bulk_seed(&sim.sim.state, ACME_CLOUD_ID, "PAGE", 537, 3_600_000)
            .expect("seeded");
    for (jql, expected) in [
        (
            "project = PAGE AND updated >= -2h ORDER BY updated ASC",
            ids.clone(),
        ),
        (
            "project = PAGE ORDER BY updated DESC",
            ids.iter().rev().copied().collect(),
        ),
        ("project = PAGE ORDER BY key ASC", ids.clone()),
        (
            "project = PAGE ORDER BY created DESC, key ASC",
            ids.iter().rev().copied().collect(),
        ),
    ] {
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut body = json!({ "jql": jql, "maxResults": 50 });
            if let Some(t) = &token {
                body["nextPageToken"] = json!(t);
            }
            let (status, page) = search(&sim, body).await;
            assert_eq!(status, 200, "{page}");
            pages += 1;
            for issue in page["issues"].as_array().expect("issues") {
                seen.push(
                    issue["id"]
                        .as_str()
                        .expect("id")
                        .parse::<u64>()
                        .expect("number"),
                );
            }
            if page["isLast"] == json!(true) {
                assert!(page.get("nextPageToken").is_none());
                break;
            }
            token = Some(page["nextPageToken"].as_str().expect("token").to_owned());
        }
        assert_eq!(pages, 11, "{jql}");
        assert_eq!(seen, expected, "{jql}");
    }
}

#[tokio::test]
async fn paging_by_an_unindexed_order_still_visits_each_issue_once() {
    let sim = TestSim::start().await;
    jiraflow_sim::search::bulk_seed(&sim.sim.state, ACME_CLOUD_ID, "PRIO", 120, 600_000)
        .expect("seeded");
    let all = keys(&sim, "project = PRIO ORDER BY priority DESC, key ASC").await;
    assert_eq!(all.len(), 120);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = PRIO ORDER BY priority DESC, key ASC", "fields": ["key"], "maxResults": 7 });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let (_, page) = search(&sim, body).await;
        seen.extend(
            page["issues"]
                .as_array()
                .expect("issues")
                .iter()
                .map(|i| i["key"].as_str().expect("key").to_owned()),
        );
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, all);
}

#[tokio::test]
async fn a_token_is_bound_to_its_jql_and_expires_after_seven_days() {
    let sim = TestSim::start().await;
    let (_, page) = search(&sim, json!({ "jql": "project = DEMO", "maxResults": 5 })).await;
    let token = page["nextPageToken"].as_str().expect("token").to_owned();
    // Fields may change between pages; the JQL may not.
    let (status, _) = search(
        &sim,
        json!({ "jql": "project = DEMO", "maxResults": 5, "fields": ["summary"], "nextPageToken": token }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = search(
        &sim,
        json!({ "jql": "project = OPS", "maxResults": 5, "nextPageToken": token }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errorMessages"], json!(["Invalid nextPageToken"]));
    let (status, _) = search(
        &sim,
        json!({ "jql": "project = DEMO", "maxResults": 5, "nextPageToken": "not-a-token" }),
    )
    .await;
    assert_eq!(status, 400);
    sim.sim.state.clock.advance_ms(7 * 24 * 3600 * 1000 + 1000);
    let (status, _) = search(
        &sim,
        json!({ "jql": "project = DEMO", "maxResults": 5, "nextPageToken": token }),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn issues_in_projects_the_caller_cannot_browse_are_silently_omitted() {
    let sim = TestSim::start().await;
    let bob = sim.token_for(MEMBER_ACCOUNT, &["read:jira-work"]);
    let sam = sim.token_for(SECURITY_ACCOUNT, &["read:jira-work"]);
    let everything = "project in (DEMO, OPS) OR updated >= -30d";
    let bob_keys = keys_as(&sim, &bob, everything).await;
    assert!(
        !bob_keys.iter().any(|k| k.starts_with("SEC-")),
        "{bob_keys:?}"
    );
    assert!(
        keys_as(&sim, &sam, everything)
            .await
            .iter()
            .any(|k| k.starts_with("SEC-"))
    );
    let (status, body) = search_as(&sim, &bob, json!({ "jql": "project = SEC" })).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errorMessages"],
        json!(["The value 'SEC' does not exist for the field 'project'."])
    );
    assert_eq!(keys_as(&sim, &sam, "project = SEC").await.len(), 3);
    let (status, _) = send_json(
        sim.http
            .post(sim.api("/search/jql"))
            .bearer_auth(sim.token_for(MEMBER_ACCOUNT, &["read:jira-user"]))
            .json(&json!({ "jql": "project = DEMO" })),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn writes_reach_search_only_after_the_lag_but_reconcile_sees_them_at_once() {
    let sim = TestSim::start().await;
    project(&sim, "LAG");
    sim.sim.state.settings.write().search_lag_ms = 60_000;
    let (id, _) = add_issue(&sim, "LAG", |_| {});
    assert!(keys(&sim, "project = LAG").await.is_empty());
    let (_, body) = search(
        &sim,
        json!({ "jql": "project = LAG", "reconcileIssues": [id] }),
    )
    .await;
    assert_eq!(body["issues"], json!([{ "id": id.to_string() }]));
    let (_, count) = send_json(
        sim.admin(Method::POST, "/search/approximate-count")
            .json(&json!({ "jql": "project = LAG" })),
    )
    .await;
    assert_eq!(count, json!({ "count": 0 }));
    sim.sim.state.clock.advance_ms(61_000);
    assert_eq!(keys(&sim, "project = LAG").await, ["LAG-1"]);
    let (status, count) = send_json(
        sim.admin(Method::POST, "/search/approximate-count")
            .json(&json!({ "jql": "project = LAG" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(count, json!({ "count": 1 }));
    assert_matches_spec("post", "/rest/api/3/search/approximate-count", 200, &count);
}

#[tokio::test]
async fn jql_parse_returns_structures_and_positioned_errors() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        sim.admin(Method::POST, "/jql/parse?validation=strict").json(&json!({
            "queries": [
                "summary ~ test AND (labels in (urgent, blocker) OR assignee = currentUser()) ORDER BY updated DESC",
                "invalid query",
                "universe = 42",
            ]
        })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("post", "/rest/api/3/jql/parse", 200, &body);
    let first = &body["queries"][0];
    assert_matches_component("CompoundClause", &first["structure"]["where"]);
    assert_matches_component(
        "FieldValueClause",
        &first["structure"]["where"]["clauses"][0],
    );
    assert_eq!(first["structure"]["where"]["operator"], "and");
    assert_eq!(
        first["structure"]["where"]["clauses"][0]["field"]["name"],
        "summary"
    );
    assert_eq!(
        first["structure"]["orderBy"]["fields"][0]["direction"],
        "desc"
    );
    assert!(first.get("errors").is_none());
    let syntax = body["queries"][1]["errors"][0].as_str().expect("error");
    assert!(syntax.contains("(line 1, character"), "{syntax}");
    assert!(body["queries"][1].get("structure").is_none());
    assert_eq!(
        body["queries"][2]["errors"],
        json!(["Field 'universe' does not exist or you do not have permission to view it."])
    );
    let (_, warn) = send_json(
        sim.admin(Method::POST, "/jql/parse?validation=warn")
            .json(&json!({ "queries": ["universe = 42"] })),
    )
    .await;
    assert!(
        warn["queries"][0]["structure"]["where"].is_object(),
        "{warn}"
    );
    assert!(warn["queries"][0]["errors"].is_array());
}

#[tokio::test]
async fn jql_match_reports_matches_and_errors_per_query() {
    let sim = TestSim::start().await;
    project(&sim, "MAT");
    let (a, _) = add_issue(&sim, "MAT", |i| i.labels = vec!["x".to_owned()]);
    let (b, _) = add_issue(&sim, "MAT", |_| {});
    let (status, body) = send_json(sim.admin(Method::POST, "/jql/match").json(&json!({
        "issueIds": [a, b, 1],
        "jqls": ["project = MAT", "labels = x", "nonsense =", "bogus = 1"],
    })))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("post", "/rest/api/3/jql/match", 200, &body);
    assert_eq!(
        body["matches"][0],
        json!({ "matchedIssues": [a, b], "errors": [] })
    );
    assert_eq!(
        body["matches"][1],
        json!({ "matchedIssues": [a], "errors": [] })
    );
    assert_eq!(body["matches"][2]["matchedIssues"], json!([]));
    assert_eq!(
        body["matches"][2]["errors"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        body["matches"][3]["errors"],
        json!(["Field 'bogus' does not exist or you do not have permission to view it."])
    );
    let many: Vec<u64> = (1..=1001).collect();
    let (status, _) = send_json(
        sim.admin(Method::POST, "/jql/match")
            .json(&json!({ "issueIds": many, "jqls": ["project = MAT"] })),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn bulk_seeding_a_hundred_thousand_issues_is_fast_and_pages_stay_cheap() {
    let sim = TestSim::start().await;
    let started = std::time::Instant::now();
    jiraflow_sim::search::bulk_seed(&sim.sim.state, ACME_CLOUD_ID, "BIG", 100_000, 7_200_000)
        .expect("seeded");
    let seeding = started.elapsed();
    assert!(
        seeding.as_secs_f64() < 10.0,
        "bulk seeding took {seeding:?}"
    );
    let started = std::time::Instant::now();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let mut body = json!({ "jql": "project = BIG AND updated >= -60m ORDER BY updated ASC", "fields": ["summary", "status", "updated"], "maxResults": 100 });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let (status, page) = search(&sim, body).await;
        assert_eq!(status, 200);
        assert_eq!(page["issues"].as_array().map(Vec::len), Some(100));
        token = page["nextPageToken"].as_str().map(str::to_owned);
    }
    let paging = started.elapsed();
    println!("bulk seeding 100k: {seeding:?}; 20 pages of 100: {paging:?}");
    assert!(paging.as_secs_f64() < 5.0, "20 pages took {paging:?}");
}
