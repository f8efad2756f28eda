//! Polling triggers against the in-process simulator and a SQLite store: new issues found once
//! each over overlapping polls, updates classified with their changes, `fields` narrowing, own
//! changes skipped, a lagging search index and a skewed Jira clock. Cursors, limits, replays
//! and shared reads are in `triggers_cursor`; the helpers here serve both.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use chrono::Utc;
use jiraflow_engine::triggers::{PollReport, PollTrigger, TriggerSettings};
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_store::{RunQuery, RunRecord, RunStore, TriggerStore};
use serde_json::Value;

use crate::executor::{BOB, Harness};

pub(crate) const ADA: &str = "5f1a00000000000000000a01";
pub(crate) const KIRI: &str = "5f1a00000000000000000c03";

/// Short windows so tests run in seconds: half a second of settle, five seconds of overlap.
pub(crate) fn fast() -> TriggerSettings {
    TriggerSettings {
        overlap: Duration::from_secs(5),
        settle: Duration::from_millis(500),
        page_size: 50,
        max_events_per_poll: 1_000,
    }
}

/// Long enough for an event to leave the settle stretch.
pub(crate) const PAST_SETTLE: Duration = Duration::from_millis(700);

/// A client of the seeded user `account` with every classic scope.
pub(crate) fn user_client(h: &Harness, account: &str) -> Result<JiraClient> {
    let now_ms = h.sim.state.clock.now_ms();
    let token = jiraflow_sim::oauth::issue_static_token(
        &mut h.sim.state.world.write(),
        account,
        &h.sim.info.client_id,
        jiraflow_sim::seed::CLASSIC_SCOPES,
        now_ms + 3_600_000,
    );
    Ok(JiraClient::builder(&h.sim.info.jira_base_url)
        .token_provider(StaticToken::shared(&token))
        .build()?)
}

/// Applies a flow `name` with a trigger of `kind` and the given option lines, and builds its
/// polling trigger.
pub(crate) async fn trigger(
    h: &Harness,
    name: &str,
    kind: &str,
    options: &[&str],
    settings: TriggerSettings,
) -> Result<PollTrigger> {
    let options: String = options.iter().map(|o| format!("    {o}\n")).collect();
    let yaml = format!(
        "name: {name}\ntrigger:\n  type: {kind}\n  connection: acme\n  options:\n{options}\
         steps:\n  - id: look\n    action: get_comments\n    connection: acme\n    input:\n      \
         issue: \"{{{{ trigger.issue.key }}}}\"\n"
    );
    let flow = h.apply(&yaml).await?;
    let loaded = jiraflow_engine::flow::load_flow(
        ("test.yaml", yaml.as_str()),
        &jiraflow_engine::flow::AnyConnection,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(PollTrigger::build(&flow, &loaded.spec.trigger, settings)?)
}

pub(crate) async fn poll(t: &PollTrigger, jira: &JiraClient, h: &Harness) -> Result<PollReport> {
    Ok(t.poll_once(jira, &*h.store, Utc::now()).await?)
}

/// The flow's runs, oldest first.
pub(crate) async fn runs(h: &Harness, flow: &str) -> Result<Vec<RunRecord>> {
    let mut list = h
        .store
        .list_runs(RunQuery {
            flow_name: Some(flow.to_owned()),
            status: None,
            limit: Some(1_000),
        })
        .await?;
    list.reverse();
    Ok(list)
}

pub(crate) fn keys(runs: &[RunRecord]) -> Vec<String> {
    runs.iter()
        .map(|r| r.dedupe_key.clone().unwrap_or_default())
        .collect()
}

/// Creates a DEMO task; returns its id.
pub(crate) async fn create(jira: &JiraClient, summary: &str) -> Result<String> {
    let created = jira.issues().create("DEMO", "Task", summary).send().await?;
    Ok(created.id.as_str().to_owned())
}

pub(crate) async fn edit(jira: &JiraClient, id: &str, field: &str, value: Value) -> Result<()> {
    jira.issues().edit(id).field(field, value).send().await?;
    Ok(())
}

pub(crate) fn created_keys(ids: &[String]) -> BTreeSet<String> {
    ids.iter().map(|id| format!("issue:{id}:created")).collect()
}

#[tokio::test]
async fn new_issues_are_enqueued_once_each_over_many_overlapping_polls() -> Result<()> {
    let h = Harness::new().await?;
    let t = trigger(
        &h,
        "new-issues",
        "new_issue",
        &["project: DEMO", "ignore_own_changes: false"],
        fast(),
    )
    .await?;
    let first = poll(&t, &h.jira, &h).await?;
    ensure!(
        first.enqueued == 0 && first.cursor_ms.is_some(),
        "{first:?}"
    );
    let mut ids = Vec::new();
    let mut duplicates = 0;
    for round in 0..4 {
        for n in 0..3 {
            ids.push(create(&h.jira, &format!("round {round} issue {n}")).await?);
        }
        tokio::time::sleep(PAST_SETTLE).await;
        duplicates += poll(&t, &h.jira, &h).await?.duplicates;
    }
    for _ in 0..2 {
        duplicates += poll(&t, &h.jira, &h).await?.duplicates;
    }
    let runs = runs(&h, t.flow_name()).await?;
    let found: Vec<String> = keys(&runs);
    ensure!(found.len() == ids.len(), "{found:?}");
    ensure!(
        found.iter().cloned().collect::<BTreeSet<_>>() == created_keys(&ids),
        "{found:?}"
    );
    // The overlap re-read earlier issues; the inbox dropped them.
    ensure!(duplicates > 0, "no poll re-read the overlap");
    let payload = &runs[0].trigger;
    ensure!(payload["event"] == "issue_created", "{payload}");
    ensure!(payload["issue"]["id"] == ids[0].as_str(), "{payload}");
    ensure!(payload["issue"]["fields"]["summary"] == "round 0 issue 0");
    ensure!(payload["by"]["accountId"] == ADA, "{payload}");
    ensure!(payload["changes"] == serde_json::json!([]), "{payload}");
    ensure!(
        payload["at"].as_str().is_some_and(|at| at.ends_with('Z')),
        "{payload}"
    );
    Ok(())
}

#[tokio::test]
async fn updates_are_classified_with_their_changes_from_and_to() -> Result<()> {
    let h = Harness::new().await?;
    let bob = user_client(&h, BOB)?;
    let t = trigger(
        &h,
        "changes",
        "new_or_updated_issue",
        &["project: DEMO"],
        fast(),
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let id = create(&bob, "Draft title").await?;
    tokio::time::sleep(PAST_SETTLE).await;
    let report = poll(&t, &h.jira, &h).await?;
    ensure!(report.enqueued == 1, "{report:?}");
    edit(&bob, &id, "summary", "Final title".into()).await?;
    tokio::time::sleep(PAST_SETTLE).await;
    let report = poll(&t, &h.jira, &h).await?;
    ensure!(report.enqueued == 1, "{report:?}");

    let runs = runs(&h, t.flow_name()).await?;
    ensure!(runs.len() == 2, "{:?}", keys(&runs));
    ensure!(runs[0].trigger["event"] == "issue_created");
    // Update types key events by the issue version, the creation included.
    let first_version = jiraflow_jira::time::parse(
        runs[0].trigger["issue"]["fields"]["updated"]
            .as_str()
            .context("updated")?,
    )
    .context("updated parses")?
    .timestamp_millis();
    ensure!(
        runs[0].dedupe_key.as_deref() == Some(&*format!("issue:{id}:{first_version}")),
        "{:?}",
        runs[0].dedupe_key
    );
    let updated = &runs[1].trigger;
    ensure!(updated["event"] == "issue_updated", "{updated}");
    ensure!(updated["by"]["accountId"] == BOB, "{updated}");
    ensure!(updated["issue"]["fields"]["summary"] == "Final title");
    let changes = updated["changes"].as_array().context("changes")?;
    let summary = changes
        .iter()
        .find(|c| c["field_id"] == "summary")
        .with_context(|| format!("no summary change in {updated}"))?;
    ensure!(summary["from_string"] == "Draft title", "{summary}");
    ensure!(summary["to_string"] == "Final title", "{summary}");
    let updated_ms = jiraflow_jira::time::parse(
        updated["issue"]["fields"]["updated"]
            .as_str()
            .context("updated")?,
    )
    .context("updated parses")?
    .timestamp_millis();
    ensure!(runs[1].dedupe_key.as_deref() == Some(&*format!("issue:{id}:{updated_ms}")));
    Ok(())
}

#[tokio::test]
async fn fields_narrow_updates_to_changes_of_the_watched_fields() -> Result<()> {
    let h = Harness::new().await?;
    let bob = user_client(&h, BOB)?;
    let t = trigger(
        &h,
        "labels-only",
        "new_or_updated_issue",
        &["project: DEMO", "fields: [labels]"],
        fast(),
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let id = create(&bob, "Watch my labels").await?;
    tokio::time::sleep(PAST_SETTLE).await;
    ensure!(
        poll(&t, &h.jira, &h).await?.enqueued == 1,
        "new issues always fire"
    );

    edit(&bob, &id, "summary", "Renamed".into()).await?;
    tokio::time::sleep(PAST_SETTLE).await;
    let report = poll(&t, &h.jira, &h).await?;
    ensure!(report.enqueued == 0 && report.filtered == 1, "{report:?}");

    edit(&bob, &id, "labels", serde_json::json!(["urgent"])).await?;
    tokio::time::sleep(PAST_SETTLE).await;
    let report = poll(&t, &h.jira, &h).await?;
    ensure!(report.enqueued == 1, "{report:?}");
    let runs = runs(&h, t.flow_name()).await?;
    let last = &runs.last().context("a run")?.trigger;
    ensure!(
        last["changes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["field"] == "labels")),
        "{last}"
    );
    Ok(())
}

#[tokio::test]
async fn own_changes_are_skipped_unless_the_flow_asks_for_them() -> Result<()> {
    let h = Harness::new().await?;
    let skip = trigger(
        &h,
        "skip-own",
        "new_or_updated_issue",
        &["project: DEMO"],
        fast(),
    )
    .await?;
    let keep = trigger(
        &h,
        "keep-own",
        "new_or_updated_issue",
        &["project: DEMO", "ignore_own_changes: false"],
        fast(),
    )
    .await?;
    for t in [&skip, &keep] {
        poll(t, &h.jira, &h).await?;
    }
    // The connection's own account (the admin) creates, then edits.
    let id = create(&h.jira, "Written by the flow itself").await?;
    tokio::time::sleep(PAST_SETTLE).await;
    for t in [&skip, &keep] {
        poll(t, &h.jira, &h).await?;
    }
    edit(&h.jira, &id, "summary", "Still the flow".into()).await?;
    tokio::time::sleep(PAST_SETTLE).await;
    let skipped = poll(&skip, &h.jira, &h).await?;
    poll(&keep, &h.jira, &h).await?;
    ensure!(skipped.filtered == 1, "{skipped:?}");
    ensure!(runs(&h, "skip-own").await?.is_empty());
    ensure!(runs(&h, "keep-own").await?.len() == 2);
    Ok(())
}

#[tokio::test]
async fn a_search_index_lagging_seconds_behind_misses_nothing_and_repeats_nothing() -> Result<()> {
    let h = Harness::new().await?;
    {
        let mut settings = h.sim.state.settings.write();
        settings.search_lag_ms = 1_500;
        settings.search_lag_jitter_ms = 1_000;
    }
    let t = trigger(
        &h,
        "lagging",
        "new_issue",
        &["project: DEMO", "ignore_own_changes: false"],
        fast(),
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let mut ids = Vec::new();
    let mut early = 0;
    for round in 0..6 {
        ids.push(create(&h.jira, &format!("lagging {round}a")).await?);
        ids.push(create(&h.jira, &format!("lagging {round}b")).await?);
        tokio::time::sleep(PAST_SETTLE).await;
        early += poll(&t, &h.jira, &h).await?.enqueued;
    }
    // The index hid some of them from the polls right after their writes.
    ensure!(early < ids.len(), "the index did not lag");
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    for _ in 0..2 {
        poll(&t, &h.jira, &h).await?;
    }
    let found = keys(&runs(&h, t.flow_name()).await?);
    ensure!(
        found.len() == ids.len(),
        "{} of {}: {found:?}",
        found.len(),
        ids.len()
    );
    ensure!(found.into_iter().collect::<BTreeSet<_>>() == created_keys(&ids));
    Ok(())
}

#[tokio::test]
async fn a_jira_clock_five_minutes_off_misses_nothing() -> Result<()> {
    let h = Harness::new().await?;
    for (name, offset_ms) in [("jira-ahead", 300_000), ("jira-behind", -300_000)] {
        h.sim.state.clock.set_offset_ms(offset_ms);
        let t = trigger(
            &h,
            name,
            "new_issue",
            &["project: DEMO", "ignore_own_changes: false"],
            fast(),
        )
        .await?;
        poll(&t, &h.jira, &h).await?;
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(create(&h.jira, &format!("{name} {n}")).await?);
            tokio::time::sleep(PAST_SETTLE).await;
            poll(&t, &h.jira, &h).await?;
        }
        let found = keys(&runs(&h, name).await?);
        ensure!(
            found.into_iter().collect::<BTreeSet<_>>() == created_keys(&ids),
            "{name}"
        );
        // The cursor follows Jira's clock, not ours.
        let cursor = h
            .store
            .trigger_state(name)
            .await?
            .and_then(|s| s.cursor_ms)
            .context("cursor")?;
        let jira_now = h.sim.state.clock.now_ms();
        ensure!(
            cursor <= jira_now && cursor > jira_now - 5_000,
            "{name}: {cursor} vs {jira_now}"
        );
    }
    Ok(())
}
