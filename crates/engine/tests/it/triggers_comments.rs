//! The new-comment trigger against the in-process simulator: new comments found once each,
//! own comments skipped, and the cost of a poll proportional to the issues updated in the
//! window (read newest first, one page while it holds everything new), not to the issues of
//! the filter.

use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use jiraflow_jira::JiraClient;

use crate::executor::{BOB, Harness};
use crate::triggers_poll::{PAST_SETTLE, create, fast, keys, poll, runs, trigger, user_client};

async fn comment(jira: &JiraClient, issue: &str, text: &str) -> Result<String> {
    let added = jira.comments().add(issue, text).send().await?;
    Ok(added.id.as_str().to_owned())
}

/// The simulator's count of REST calls (`/_sim/stats` `counters.apiRequests`).
pub(crate) fn api_requests(h: &Harness) -> Result<u64> {
    h.sim.state.counters.snapshot()["apiRequests"]
        .as_u64()
        .context("apiRequests counter")
}

#[tokio::test]
async fn new_comments_are_found_by_reading_only_the_issues_updated_in_the_window() -> Result<()> {
    let h = Harness::new().await?;
    let bob = user_client(&h, BOB)?;
    // Plenty of issues in the filter that nobody touches during the test.
    let mut issues = Vec::new();
    for n in 0..15 {
        issues.push(create(&h.jira, &format!("quiet issue {n}")).await?);
    }
    // A busy issue: more old comments than fit on one page.
    let busy = issues[0].clone();
    for n in 0..55 {
        comment(&h.jira, &busy, &format!("old comment {n}")).await?;
    }
    // `start: now` places the cursor at Jira's now minus the settle time: let the setup age
    // past it (the overlap of later polls never reaches before the start).
    tokio::time::sleep(PAST_SETTLE).await;
    let t = trigger(&h, "comments", "new_comment", &["project: DEMO"], fast()).await?;
    poll(&t, &h.jira, &h).await?;

    let mut expected = vec![
        comment(&bob, &busy, "new on the busy issue").await?,
        comment(&bob, &issues[1], "first new").await?,
        comment(&bob, &issues[1], "second new").await?,
    ];
    // The connection's own comment: skipped (ignore_own_changes defaults to true).
    comment(&h.jira, &issues[2], "written by the flow itself").await?;
    tokio::time::sleep(PAST_SETTLE).await;

    let before = api_requests(&h)?;
    let report = poll(&t, &h.jira, &h).await?;
    let spent = api_requests(&h)? - before;
    ensure!(report.enqueued == 3 && report.filtered == 1, "{report:?}");
    // serverInfo, myself, one search page, one comment page per updated issue (3): the busy
    // issue's 56 comments took one page, and the 12 quiet issues none.
    ensure!(
        spent <= 6,
        "a poll over 3 updated issues made {spent} requests"
    );

    let runs = runs(&h, t.flow_name()).await?;
    let found = keys(&runs);
    expected.sort();
    let mut found_ids: Vec<String> = found
        .iter()
        .filter_map(|k| k.strip_prefix("comment:").map(str::to_owned))
        .collect();
    found_ids.sort();
    ensure!(found_ids == expected, "{found:?}");
    let payload = &runs[0].trigger;
    ensure!(payload["event"] == "comment_created", "{payload}");
    ensure!(payload["by"]["accountId"] == BOB, "{payload}");
    ensure!(payload["comment"]["id"].is_string(), "{payload}");
    ensure!(payload["issue"]["key"].is_string(), "{payload}");
    ensure!(payload["comment"]["body"]["type"] == "doc", "{payload}");

    // The next poll re-reads the overlap and drops what it already has.
    tokio::time::sleep(PAST_SETTLE).await;
    let again = poll(&t, &h.jira, &h).await?;
    ensure!(again.enqueued == 0 && again.duplicates == 3, "{again:?}");
    Ok(())
}

#[tokio::test]
async fn a_comment_event_built_for_a_webhook_matches_the_polled_one() -> Result<()> {
    let h = Harness::new().await?;
    let bob = user_client(&h, BOB)?;
    let issue = create(&h.jira, "commented").await?;
    let t = trigger(
        &h,
        "comment-hook",
        "new_comment",
        &["project: DEMO"],
        fast(),
    )
    .await?;
    let id = comment(&bob, &issue, "hello").await?;
    let event = t
        .comment_event(&h.jira, &issue, &id)
        .await?
        .context("an event")?;
    ensure!(event.dedupe_key == format!("comment:{id}"));
    ensure!(event.payload["event"] == "comment_created");
    let own = comment(&h.jira, &issue, "mine").await?;
    ensure!(t.comment_event(&h.jira, &issue, &own).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_comment_whose_issue_changed_again_after_the_window_is_not_missed() -> Result<()> {
    let h = Harness::new().await?;
    let bob = user_client(&h, BOB)?;
    let issue = create(&h.jira, "changes after its comment").await?;
    // No overlap: the window alone must find the comment.
    let settings = jiraflow_engine::triggers::TriggerSettings {
        overlap: Duration::ZERO,
        settle: Duration::from_millis(1_000),
        ..fast()
    };
    tokio::time::sleep(settings.settle).await;
    let t = trigger(
        &h,
        "late-change",
        "new_comment",
        &["project: DEMO"],
        settings,
    )
    .await?;
    poll(&t, &h.jira, &h).await?;
    let id = comment(&bob, &issue, "inside the window").await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Bumps `updated` past the upper bound of the next window.
    bob.issues()
        .edit(issue.as_str())
        .field("summary", "changed again")
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let report = poll(&t, &h.jira, &h).await?;
    ensure!(report.enqueued == 1, "{report:?}");
    ensure!(keys(&runs(&h, "late-change").await?) == [format!("comment:{id}")]);
    Ok(())
}
