//! Polling triggers, the cursor and its company: a restart between polls, truncation at the
//! per-poll limit, replays, a user's filter with its own ORDER BY, polls shared by several flows,
//! and the keys webhook-built events carry.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result, ensure};
use chrono::Utc;
use jiraflow_engine::triggers::{PollGroup, TriggerSettings};
use jiraflow_store::TriggerStore;

use crate::executor::{BOB, Harness};
use crate::triggers_comments::api_requests;
use crate::triggers_poll::{
    PAST_SETTLE, create, created_keys, edit, fast, keys, poll, runs, trigger, user_client,
};

#[tokio::test]
async fn a_new_trigger_over_the_same_store_continues_exactly_where_the_last_stopped() -> Result<()>
{
    let h = Harness::new().await?;
    let options = ["project: DEMO", "ignore_own_changes: false"];
    let before = trigger(&h, "restarted", "new_issue", &options, fast()).await?;
    poll(&before, &h.jira, &h).await?;
    let mut ids = vec![create(&h.jira, "before the restart").await?];
    tokio::time::sleep(PAST_SETTLE).await;
    ensure!(poll(&before, &h.jira, &h).await?.enqueued == 1);
    let cursor = h
        .store
        .trigger_state("restarted")
        .await?
        .and_then(|s| s.cursor_ms);
    drop(before);

    // Written while no poller runs.
    ids.push(create(&h.jira, "while down 1").await?);
    ids.push(create(&h.jira, "while down 2").await?);
    tokio::time::sleep(PAST_SETTLE).await;
    let after = trigger(&h, "restarted", "new_issue", &options, fast()).await?;
    let report = poll(&after, &h.jira, &h).await?;
    ensure!(report.enqueued == 2, "{report:?}");
    ensure!(report.cursor_ms > cursor, "{report:?} after {cursor:?}");
    let found = keys(&runs(&h, "restarted").await?);
    ensure!(found.into_iter().collect::<BTreeSet<_>>() == created_keys(&ids));
    Ok(())
}

#[tokio::test]
async fn truncation_at_the_per_poll_limit_never_moves_the_cursor_past_an_event_left_out()
-> Result<()> {
    let h = Harness::new().await?;
    let settings = TriggerSettings {
        max_events_per_poll: 2,
        ..fast()
    };
    let t = trigger(
        &h,
        "limited",
        "new_issue",
        &["project: DEMO", "ignore_own_changes: false"],
        settings,
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(create(&h.jira, &format!("limited {n}")).await?);
    }
    tokio::time::sleep(PAST_SETTLE).await;
    let first = poll(&t, &h.jira, &h).await?;
    ensure!(first.enqueued == 2, "{first:?}");
    let taken = runs(&h, "limited").await?;
    let second_created = jiraflow_jira::time::parse(
        taken[1].trigger["issue"]["fields"]["created"]
            .as_str()
            .context("created")?,
    )
    .context("created parses")?
    .timestamp_millis();
    // The read stops after the second event's instant: the cursor may move up to the first
    // instant it did not read, never beyond (the polls below find the other three).
    ensure!(
        first.cursor_ms.is_some_and(|c| c >= second_created),
        "{first:?} vs {second_created}"
    );
    let mut enqueued: Vec<usize> = Vec::new();
    for _ in 0..3 {
        enqueued.push(poll(&t, &h.jira, &h).await?.enqueued);
    }
    // Never more than the limit per poll; how the three left are split over the polls depends
    // on which of them share a millisecond (a slice ends between two instants).
    ensure!(
        enqueued.iter().all(|&n| n <= 2) && enqueued.iter().sum::<usize>() == 3,
        "{enqueued:?}"
    );
    let found = keys(&runs(&h, "limited").await?);
    ensure!(found.len() == 5);
    ensure!(found.into_iter().collect::<BTreeSet<_>>() == created_keys(&ids));
    Ok(())
}

#[tokio::test]
async fn a_replay_is_deduplicated_unless_forced() -> Result<()> {
    let h = Harness::new().await?;
    let t = trigger(
        &h,
        "replayed",
        "new_issue",
        &["project: DEMO", "ignore_own_changes: false"],
        fast(),
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let from = h.sim.state.clock.now();
    for n in 0..3 {
        create(&h.jira, &format!("replayed {n}")).await?;
    }
    tokio::time::sleep(PAST_SETTLE).await;
    ensure!(poll(&t, &h.jira, &h).await?.enqueued == 3);
    let cursor = h
        .store
        .trigger_state("replayed")
        .await?
        .and_then(|s| s.cursor_ms);
    let to = h.sim.state.clock.now();

    let again = t.replay(&h.jira, &*h.store, from, to, false).await?;
    ensure!(again.enqueued == 0 && again.duplicates == 3, "{again:?}");
    let forced = t.replay(&h.jira, &*h.store, from, to, true).await?;
    ensure!(forced.enqueued == 3, "{forced:?}");
    let runs = runs(&h, "replayed").await?;
    ensure!(runs.len() == 6);
    let mut per_issue: BTreeMap<String, usize> = BTreeMap::new();
    for key in keys(&runs) {
        let base = key.split("#replay-").next().unwrap_or_default().to_owned();
        *per_issue.entry(base).or_default() += 1;
    }
    ensure!(per_issue.values().all(|n| *n == 2), "{per_issue:?}");
    // A replay never moves the cursor.
    let after = h
        .store
        .trigger_state("replayed")
        .await?
        .and_then(|s| s.cursor_ms);
    ensure!(after == cursor);
    Ok(())
}

#[tokio::test]
async fn a_filter_with_or_and_its_own_order_by_is_wrapped_whole_and_reordered() -> Result<()> {
    let h = Harness::new().await?;
    let t = trigger(
        &h,
        "filtered",
        "new_issue_with_filter",
        &[
            "jql: \"project = DEMO AND labels = alpha OR labels = beta ORDER BY priority DESC\"",
            "ignore_own_changes: false",
        ],
        fast(),
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let mut wanted = Vec::new();
    for (summary, label) in [
        ("a", "alpha"),
        ("b", "beta"),
        ("c", "gamma"),
        ("d", "alpha"),
    ] {
        let created = h
            .jira
            .issues()
            .create("DEMO", "Task", summary)
            .field("labels", serde_json::json!([label]))
            .send()
            .await?;
        if label != "gamma" {
            wanted.push(created.id.as_str().to_owned());
        }
    }
    tokio::time::sleep(PAST_SETTLE).await;
    poll(&t, &h.jira, &h).await?;
    let found = keys(&runs(&h, "filtered").await?);
    // Ascending by creation then id, whatever the user's ORDER BY said.
    let expected: Vec<String> = wanted
        .iter()
        .map(|id| format!("issue:{id}:created"))
        .collect();
    ensure!(found == expected, "{found:?} vs {expected:?}");
    Ok(())
}

#[tokio::test]
async fn triggers_with_one_share_key_read_jira_once_and_enqueue_per_flow() -> Result<()> {
    let h = Harness::new().await?;
    let options = ["project: DEMO", "ignore_own_changes: false"];
    let one = trigger(&h, "shared-one", "new_issue", &options, fast()).await?;
    let two = trigger(&h, "shared-two", "new_issue", &options, fast()).await?;
    ensure!(one.share_key() == two.share_key(), "{}", one.share_key());
    let other = trigger(&h, "not-shared", "new_or_updated_issue", &options, fast()).await?;
    ensure!(one.share_key() != other.share_key());
    ensure!(PollGroup::new(vec![one.clone(), other]).is_err());

    let group = PollGroup::new(vec![one, two])?;
    group.poll_once(&h.jira, &*h.store, Utc::now()).await?;
    let ids = [
        create(&h.jira, "shared 1").await?,
        create(&h.jira, "shared 2").await?,
    ];
    tokio::time::sleep(PAST_SETTLE).await;
    let before = h.sim.state.counters.snapshot()["apiRequests"].as_u64();
    let results = group.poll_once(&h.jira, &*h.store, Utc::now()).await?;
    let after = h.sim.state.counters.snapshot()["apiRequests"].as_u64();
    // serverInfo and one search page, for both flows.
    ensure!(
        after.zip(before).map(|(a, b)| a - b) == Some(2),
        "{before:?} -> {after:?}"
    );
    for (flow, result) in results {
        ensure!(result?.enqueued == 2, "{flow}");
        ensure!(
            keys(&runs(&h, &flow).await?)
                .into_iter()
                .collect::<BTreeSet<_>>()
                == created_keys(&ids)
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_issue_event_built_for_a_webhook_carries_the_key_a_poll_would_use() -> Result<()> {
    let h = Harness::new().await?;
    let bob = user_client(&h, BOB)?;
    let t = trigger(
        &h,
        "hooked",
        "new_or_updated_issue",
        &["project: DEMO"],
        fast(),
    )
    .await?;
    let id = create(&bob, "hooked").await?;
    let created = t.issue_event(&h.jira, &id).await?.context("an event")?;
    let version = jiraflow_jira::time::parse(
        created.payload["issue"]["fields"]["updated"]
            .as_str()
            .context("updated")?,
    )
    .context("updated parses")?
    .timestamp_millis();
    ensure!(created.payload["event"] == "issue_created");
    ensure!(created.dedupe_key == format!("issue:{id}:{version}"));
    edit(&bob, &id, "summary", "hooked again".into()).await?;
    let updated = t.issue_event(&h.jira, &id).await?.context("an event")?;
    ensure!(
        updated.payload["event"] == "issue_updated",
        "{}",
        updated.payload
    );
    ensure!(updated.dedupe_key.starts_with(&format!("issue:{id}:")));
    ensure!(updated.payload["changes"][0]["to_string"] == "hooked again");
    // The connection's own edit is skipped.
    edit(&h.jira, &id, "summary", "by the flow".into()).await?;
    ensure!(t.issue_event(&h.jira, &id).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_backlog_beyond_the_poll_limit_is_read_one_slice_at_a_time() -> Result<()> {
    let h = Harness::new().await?;
    let settings = TriggerSettings {
        max_events_per_poll: 3,
        page_size: 3,
        ..fast()
    };
    let t = trigger(
        &h,
        "sliced",
        "new_issue",
        &["project: DEMO", "ignore_own_changes: false"],
        settings,
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let mut ids = Vec::new();
    for n in 0..15 {
        ids.push(create(&h.jira, &format!("sliced {n}")).await?);
    }
    tokio::time::sleep(PAST_SETTLE).await;
    let before = api_requests(&h)?;
    let first = poll(&t, &h.jira, &h).await?;
    let spent = api_requests(&h)? - before;
    ensure!(first.enqueued == 3, "{first:?}");
    // Jira's time and the pages holding the slice (three issues and the next instant): reading
    // the whole window would take five pages of three.
    ensure!(spent <= 4, "a capped poll made {spent} requests");
    for _ in 0..10 {
        if poll(&t, &h.jira, &h).await?.enqueued == 0 {
            break;
        }
    }
    let found = keys(&runs(&h, "sliced").await?);
    ensure!(found.len() == 15, "{found:?}");
    ensure!(found.into_iter().collect::<BTreeSet<_>>() == created_keys(&ids));
    Ok(())
}
