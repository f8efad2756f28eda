//! `upsert_issue`, `upsert_comment` and the write-once creates (`create_issue` and
//! `create_comment` with a write key) against the in-process simulator, including dropped
//! responses after Jira applied the write.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiraflow_engine::actions::upserts::MARKER_PROPERTY;
use jiraflow_engine::actions::{self, ActionContext, ActionError, ActionOutput, Outcome};
use jiraflow_engine::flow::Action;
use jiraflow_jira::{JiraClient, RetryPolicy, StaticToken};
use jiraflow_sim::{RunningSim, SimConfig};
use jiraflow_store::{LedgerEntry, LedgerKey, SqliteStore, StoreFuture, WriteLedger};
use serde_json::{Value, json};

mod faults;

/// A write ledger in memory, as the store keeps it.
#[derive(Default)]
struct MemLedger {
    entries: Mutex<HashMap<LedgerKey, LedgerEntry>>,
}

impl WriteLedger for MemLedger {
    fn ledger_get<'a>(&'a self, key: &'a LedgerKey) -> StoreFuture<'a, Option<LedgerEntry>> {
        let entry = self.entries.lock().unwrap().get(key).cloned();
        Box::pin(async move { Ok(entry) })
    }
    fn ledger_pending<'a>(
        &'a self,
        key: &'a LedgerKey,
        attempt_started_at: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        self.entries
            .lock()
            .unwrap()
            .insert(key.clone(), LedgerEntry::Pending { attempt_started_at });
        Box::pin(async { Ok(()) })
    }
    fn ledger_commit<'a>(&'a self, key: &'a LedgerKey, jira_id: &'a str) -> StoreFuture<'a, ()> {
        self.entries.lock().unwrap().insert(
            key.clone(),
            LedgerEntry::Committed {
                jira_id: jira_id.to_owned(),
                recorded_at: Utc::now(),
            },
        );
        Box::pin(async { Ok(()) })
    }
    fn ledger_forget<'a>(&'a self, key: &'a LedgerKey) -> StoreFuture<'a, ()> {
        self.entries.lock().unwrap().remove(key);
        Box::pin(async { Ok(()) })
    }
}

async fn sim() -> RunningSim {
    jiraflow_sim::start(SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        media_listen: ([127, 0, 0, 1], 0).into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The admin's client, retrying quickly (the faults here are injected, not load).
fn admin(sim: &RunningSim) -> JiraClient {
    admin_with_attempts(sim, 4)
}

/// The admin's client making at most `attempts` attempts per request: with one, every lost
/// answer surfaces and the step is run again.
fn admin_with_attempts(sim: &RunningSim, attempts: u32) -> JiraClient {
    JiraClient::builder(&sim.info.jira_base_url)
        .token_provider(StaticToken::shared(&sim.info.admin_token))
        .retry_policy(RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(60),
        })
        .build()
        .unwrap()
}

async fn run(
    jira: &JiraClient,
    ledger: Option<&dyn WriteLedger>,
    action: Action,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let mut ctx = ActionContext::new(jira, "s1");
    ctx.ledger = ledger;
    actions::run(action, ctx, input).await
}

async fn ok(
    jira: &JiraClient,
    ledger: Option<&dyn WriteLedger>,
    action: Action,
    input: Value,
) -> ActionOutput {
    match run(jira, ledger, action, input).await {
        Ok(out) => out,
        Err(e) => panic!("{action} failed: {e}"),
    }
}

/// Runs `action` as the executor does: a retryable failure runs the step again, telling it when
/// the first attempt started (it may have written). Returns the output and the attempts made.
async fn run_step(
    jira: &JiraClient,
    ledger: &dyn WriteLedger,
    write_key: &str,
    action: Action,
    input: &Value,
) -> (ActionOutput, u32) {
    let mut first_started = None;
    for attempt in 1..=10 {
        let started = Utc::now();
        let ctx = ActionContext::new(jira, "s1")
            .with_ledger(ledger)
            .with_write_key(write_key, first_started);
        match actions::run(action, ctx, input.clone()).await {
            Ok(out) => return (out, attempt),
            Err(e) if e.is_retryable() => {
                first_started = first_started.or(Some(started));
            }
            Err(e) => panic!("{action} failed for good: {e}"),
        }
    }
    panic!("{action} still failing after 10 attempts");
}

fn issue_input(external_id: &str, summary: &str) -> Value {
    json!({
        "external_id": external_id,
        "project": "DEMO",
        "issue_type": "Task",
        "summary": summary,
    })
}

/// Issues in the simulator by the marker key they carry.
fn issues_by_marker(sim: &RunningSim) -> HashMap<String, Vec<String>> {
    let world = sim.state.world.read();
    let site = world.site(&sim.info.cloud_id).unwrap();
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for issue in site.jira.issues.values() {
        if let Some(key) = issue
            .properties
            .get(MARKER_PROPERTY)
            .and_then(|v| v["key"].as_str())
        {
            found
                .entry(key.to_owned())
                .or_default()
                .push(issue.key.clone());
        }
    }
    found
}

/// Comments in the simulator by (issue key, marker key).
fn comments_by_marker(sim: &RunningSim) -> HashMap<(String, String), usize> {
    let world = sim.state.world.read();
    let site = world.site(&sim.info.cloud_id).unwrap();
    let mut found = HashMap::new();
    for issue in site.jira.issues.values() {
        for comment in &issue.comments {
            let marker = site
                .jira
                .comment_properties
                .get(&comment.id)
                .and_then(|p| p.get(MARKER_PROPERTY))
                .and_then(|v| v["key"].as_str());
            if let Some(key) = marker {
                *found
                    .entry((issue.key.clone(), key.to_owned()))
                    .or_insert(0) += 1;
            }
        }
    }
    found
}

fn summary_of(sim: &RunningSim, key: &str) -> String {
    let world = sim.state.world.read();
    let site = world.site(&sim.info.cloud_id).unwrap();
    let id = site.jira.resolve_issue(key).unwrap();
    site.jira.issues[&id].summary.clone()
}

#[tokio::test]
async fn an_issue_upsert_creates_when_absent_and_updates_when_present() {
    let sim = sim().await;
    let jira = admin(&sim);
    let ledger = MemLedger::default();
    let first = ok(
        &jira,
        Some(&ledger),
        Action::UpsertIssue,
        issue_input("crm-1", "First"),
    )
    .await;
    assert_eq!(first.outcome, Outcome::Changed);
    assert_eq!(first.output["created"], json!(true));
    let key = first.output["key"].as_str().unwrap().to_owned();
    assert!(first.output["id"].as_str().is_some());
    assert!(
        first.output["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/browse/{key}"))),
        "{first:?}"
    );

    let second = ok(
        &jira,
        Some(&ledger),
        Action::UpsertIssue,
        issue_input("crm-1", "Second"),
    )
    .await;
    assert_eq!(second.output["created"], json!(false));
    assert_eq!(second.output["key"], json!(key));
    assert_eq!(summary_of(&sim, &key), "Second");
    assert_eq!(issues_by_marker(&sim)["crm-1"], vec![key]);
}

#[tokio::test]
async fn an_issue_upsert_by_match_jql_updates_the_one_match_and_creates_when_none() {
    let sim = sim().await;
    let jira = admin(&sim);
    let input = |summary: &str| {
        json!({
            "project": "DEMO",
            "issue_type": "Task",
            "summary": summary,
            "labels": ["ext-77"],
            "match_jql": "project = DEMO AND labels = ext-77",
        })
    };
    // No ledger: the JQL alone identifies the issue.
    let created = ok(&jira, None, Action::UpsertIssue, input("Made")).await;
    assert_eq!(created.output["created"], json!(true));
    let key = created.output["key"].as_str().unwrap().to_owned();
    let updated = ok(&jira, None, Action::UpsertIssue, input("Changed")).await;
    assert_eq!(updated.output["created"], json!(false));
    assert_eq!(updated.output["key"], json!(key));
    assert_eq!(summary_of(&sim, &key), "Changed");

    // With an external id and a ledger, the JQL match is recorded: the next upsert needs no JQL.
    let ledger = MemLedger::default();
    let mut by_both = input("Adopted");
    by_both["external_id"] = json!("legacy-9");
    let adopted = ok(&jira, Some(&ledger), Action::UpsertIssue, by_both).await;
    assert_eq!(adopted.output["key"], json!(key));
    let again = ok(
        &jira,
        Some(&ledger),
        Action::UpsertIssue,
        issue_input("legacy-9", "By ledger"),
    )
    .await;
    assert_eq!(again.output["key"], json!(key));
    assert_eq!(summary_of(&sim, &key), "By ledger");
}

#[tokio::test]
async fn an_issue_upsert_whose_jql_matches_several_issues_fails_naming_count_and_keys() {
    let sim = sim().await;
    let jira = admin(&sim);
    for summary in ["a", "b"] {
        ok(
            &jira,
            None,
            Action::CreateIssue,
            json!({"project": "DEMO", "issue_type": "Task", "summary": summary,
                   "labels": ["twin"]}),
        )
        .await;
    }
    let err = run(
        &jira,
        None,
        Action::UpsertIssue,
        json!({"project": "DEMO", "issue_type": "Task", "summary": "x",
               "match_jql": "project = DEMO AND labels = twin"}),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("upsert_issue") && err.contains("input.match_jql") && err.contains("2 issues"),
        "{err}"
    );
    assert!(err.matches("DEMO-").count() >= 2, "{err}");
}

#[tokio::test]
async fn an_upserted_issue_deleted_in_jira_is_created_again() {
    let sim = sim().await;
    let jira = admin(&sim);
    let ledger = MemLedger::default();
    let first = ok(
        &jira,
        Some(&ledger),
        Action::UpsertIssue,
        issue_input("gone-1", "Before"),
    )
    .await;
    let key = first.output["key"].as_str().unwrap().to_owned();
    jira.issues().delete(key.as_str()).send().await.unwrap();
    let again = ok(
        &jira,
        Some(&ledger),
        Action::UpsertIssue,
        issue_input("gone-1", "After"),
    )
    .await;
    assert_eq!(again.output["created"], json!(true));
    assert_ne!(again.output["key"], json!(key));
    assert_eq!(issues_by_marker(&sim)["gone-1"].len(), 1);
}

#[tokio::test]
async fn concurrent_upserts_of_one_external_id_create_one_issue() {
    let sim = sim().await;
    let jira = admin(&sim);
    let ledger = MemLedger::default();
    let outputs = futures_util::future::join_all((0..8).map(|i| {
        let (jira, ledger) = (&jira, &ledger);
        async move {
            ok(
                jira,
                Some(ledger),
                Action::UpsertIssue,
                issue_input("race-1", &format!("v{i}")),
            )
            .await
        }
    }))
    .await;
    let created = outputs
        .iter()
        .filter(|o| o.output["created"] == json!(true))
        .count();
    assert_eq!(created, 1);
    assert_eq!(issues_by_marker(&sim)["race-1"].len(), 1);
}

#[tokio::test]
async fn a_comment_upsert_creates_then_updates_the_marked_comment() {
    let sim = sim().await;
    let jira = admin(&sim);
    let input = |body: &str| json!({"issue": "DEMO-1", "external_id": "note-1", "body": body});
    // Without a ledger: the marker scan finds the comment.
    let first = ok(&jira, None, Action::UpsertComment, input("first **draft**")).await;
    assert_eq!(first.output["created"], json!(true));
    let id = first.output["id"].as_str().unwrap().to_owned();
    let same = ok(&jira, None, Action::UpsertComment, input("first **draft**")).await;
    assert_eq!(same.outcome, Outcome::Unchanged);
    assert_eq!(same.output["id"], json!(id));
    let ledger = MemLedger::default();
    let edited = ok(&jira, Some(&ledger), Action::UpsertComment, input("final")).await;
    assert_eq!(edited.outcome, Outcome::Changed);
    assert_eq!(edited.output["created"], json!(false));
    assert_eq!(edited.output["id"], json!(id));
    assert_eq!(edited.output["body_text"], json!("final"));
    assert_eq!(
        comments_by_marker(&sim)[&("DEMO-1".to_owned(), "note-1".to_owned())],
        1
    );
}

#[tokio::test]
async fn upsert_errors_name_the_step_the_action_and_the_input_path() {
    let sim = sim().await;
    let jira = admin(&sim);
    let ledger = MemLedger::default();
    let no_id = run(
        &jira,
        Some(&ledger),
        Action::UpsertIssue,
        json!({"project": "DEMO", "issue_type": "Task", "summary": "x"}),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        no_id.contains("\"s1\"")
            && no_id.contains("upsert_issue")
            && no_id.contains("input.external_id"),
        "{no_id}"
    );
    let no_ledger = run(&jira, None, Action::UpsertIssue, issue_input("e-1", "x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        no_ledger.contains("input.match_jql") && no_ledger.contains("ledger"),
        "{no_ledger}"
    );
    let bad_body = run(
        &jira,
        None,
        Action::UpsertComment,
        json!({"issue": "DEMO-1", "external_id": "c", "body": 7}),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        bad_body.contains("upsert_comment") && bad_body.contains("input.body"),
        "{bad_body}"
    );
    let bad_field = run(
        &jira,
        Some(&ledger),
        Action::UpsertIssue,
        json!({"external_id": "e-2", "project": "DEMO", "issue_type": "Task", "summary": "x",
               "fields": {"Story Pointz": 3}}),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        bad_field.contains("upsert_issue") && bad_field.contains("input.fields.Story Pointz"),
        "{bad_field}"
    );
}

#[tokio::test]
async fn a_create_repeated_after_a_lost_response_returns_the_first_attempts_object() {
    let sim = sim().await;
    let jira = admin(&sim);
    let before = Utc::now();
    let input = json!({"project": "DEMO", "issue_type": "Task", "summary": "once"});
    let step = |since: Option<DateTime<Utc>>| {
        ActionContext::new(&jira, "s1").with_write_key("run-1/s1", since)
    };
    let first = actions::run(Action::CreateIssue, step(None), input.clone())
        .await
        .unwrap();
    assert_eq!(first.outcome, Outcome::Changed);
    // No ledger: the repeat finds the issue by its marker.
    let repeat = actions::run(Action::CreateIssue, step(Some(before)), input.clone())
        .await
        .unwrap();
    assert_eq!(repeat.outcome, Outcome::Unchanged);
    assert_eq!(repeat.output["key"], first.output["key"]);
    assert_eq!(issues_by_marker(&sim)["run-1/s1"].len(), 1);

    let comment = json!({"issue": "DEMO-2", "body": "hello"});
    let first = actions::run(Action::CreateComment, step(None), comment.clone())
        .await
        .unwrap();
    let repeat = actions::run(Action::CreateComment, step(Some(before)), comment.clone())
        .await
        .unwrap();
    assert_eq!(repeat.outcome, Outcome::Unchanged);
    assert_eq!(repeat.output["id"], first.output["id"]);

    // With a ledger, the committed entry answers without a search.
    let ledger = MemLedger::default();
    let with_ledger = |since| {
        ActionContext::new(&jira, "s1")
            .with_write_key("run-2/s1", since)
            .with_ledger(&ledger)
    };
    let first = actions::run(Action::CreateIssue, with_ledger(None), input.clone())
        .await
        .unwrap();
    let repeat = actions::run(Action::CreateIssue, with_ledger(Some(before)), input)
        .await
        .unwrap();
    assert_eq!(repeat.outcome, Outcome::Unchanged);
    assert_eq!(repeat.output["key"], first.output["key"]);
    assert_eq!(issues_by_marker(&sim)["run-2/s1"].len(), 1);
}

#[tokio::test]
async fn upserts_keep_their_mapping_in_the_sqlite_ledger_across_store_reopens() {
    let sim = sim().await;
    let jira = admin(&sim);
    let dir = std::env::temp_dir().join(format!("jiraflow-upserts-{}", uuid::Uuid::new_v4()));
    let key = {
        let (store, _) = SqliteStore::open_data_dir(&dir).await.unwrap();
        let out = ok(
            &jira,
            Some(&store),
            Action::UpsertIssue,
            issue_input("sql-1", "Stored"),
        )
        .await;
        assert_eq!(out.output["created"], json!(true));
        out.output["key"].as_str().unwrap().to_owned()
    };
    // A new process: the mapping comes from the database, not from memory.
    let (store, _) = SqliteStore::open_data_dir(&dir).await.unwrap();
    let again = ok(
        &jira,
        Some(&store),
        Action::UpsertIssue,
        issue_input("sql-1", "Restored"),
    )
    .await;
    assert_eq!(again.output["created"], json!(false));
    assert_eq!(again.output["key"], json!(key));
    assert_eq!(summary_of(&sim, &key), "Restored");
    let comment = json!({"issue": "DEMO-3", "external_id": "sql-note", "body": "one"});
    let first = ok(&jira, Some(&store), Action::UpsertComment, comment.clone()).await;
    let mut edited = comment;
    edited["body"] = json!("two");
    let second = ok(&jira, Some(&store), Action::UpsertComment, edited).await;
    assert_eq!(second.output["id"], first.output["id"]);
    assert_eq!(second.output["created"], json!(false));
    drop(store);
    std::fs::remove_dir_all(&dir).ok();
}
