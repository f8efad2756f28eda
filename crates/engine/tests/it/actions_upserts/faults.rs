//! Upserts under dropped responses: the simulator loses answers to writes after (and before)
//! applying them, steps are run again as the executor would, and every external id still ends
//! with exactly one object.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jiraflow_engine::actions::upserts::set_search_settle;
use jiraflow_engine::flow::Action;
use jiraflow_sim::RunningSim;
use serde_json::json;

use super::{
    MemLedger, admin, admin_with_attempts, comments_by_marker, issue_input, issues_by_marker,
    run_step, sim,
};

/// Drops the connection of writes to issues and comments (POST and PUT under `/issue`) after
/// Jira applied them at `after_commit`, and before at `before`. Searches are spared: a client
/// that gives up at the first failure could not page through them.
fn drop_responses(sim: &RunningSim, after_commit: f64, before: f64) {
    let mut settings = sim.state.settings.write();
    settings.fault_drop_after_commit_rate = after_commit;
    settings.fault_drop_rate = before;
    settings.fault_methods = vec!["POST".into(), "PUT".into()];
    settings.fault_path_prefix = Some("/rest/api/3/issue".into());
    settings.search_lag_ms = 100;
}

#[tokio::test]
async fn a_thousand_issue_upserts_under_dropped_responses_leave_one_issue_per_external_id() {
    let sim = sim().await;
    // Even ids: the client checks a lost create by its marker and answers with what it finds.
    // Odd ids: the client gives up at once and the step is run again, finding the pending
    // create through the ledger.
    let clients = [admin(&sim), admin_with_attempts(&sim, 1)];
    let ledger = MemLedger::default();
    set_search_settle(Duration::from_secs(1));
    drop_responses(&sim, 0.10, 0.02);
    let faults_before = sim.state.counters.faults_injected.load(Ordering::Relaxed);
    let started = Instant::now();

    const IDS: usize = 500;
    // Each id twice, next to each other, so its two upserts often run at the same time.
    let jobs: Vec<(usize, u32)> = (0..IDS).flat_map(|i| [(i, 1), (i, 2)]).collect();
    let results: Vec<(bool, u32)> = futures_util::stream::iter(jobs)
        .map(|(i, round)| {
            let (jira, ledger) = (&clients[i % 2], &ledger);
            async move {
                let input = issue_input(&format!("ext-{i}"), &format!("Issue {i} round {round}"));
                let (out, attempts) = run_step(
                    jira,
                    ledger,
                    &format!("run-{round}/s{i}"),
                    Action::UpsertIssue,
                    &input,
                )
                .await;
                (out.output["created"] == json!(true), attempts)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let dropped = sim.state.counters.faults_injected.load(Ordering::Relaxed) - faults_before;
    drop_responses(&sim, 0.0, 0.0);
    let by_marker = issues_by_marker(&sim);
    let duplicates: usize = by_marker.values().map(|keys| keys.len() - 1).sum();
    let creates = results.iter().filter(|(created, _)| *created).count();
    let step_retries: u32 = results.iter().map(|(_, attempts)| attempts - 1).sum();
    println!(
        "upserts: {}, responses dropped: {dropped}, step retries: {step_retries}, \
         creates reported: {creates}, issues: {}, duplicates: {duplicates}, took {:?}",
        results.len(),
        by_marker.values().map(Vec::len).sum::<usize>(),
        started.elapsed()
    );
    for (marker, keys) in by_marker.iter().filter(|(_, k)| k.len() > 1) {
        eprintln!("duplicate: {marker} → {keys:?}");
    }
    assert!(dropped > 0, "no response was dropped");
    assert_eq!(duplicates, 0);
    assert_eq!(by_marker.len(), IDS);
    assert!((0..IDS).all(|i| by_marker[&format!("ext-{i}")].len() == 1));
    // `created` describes one attempt: a step that created, then failed on the update and was
    // run again, reports the update.
    assert!(creates <= IDS);
}

#[tokio::test]
async fn two_hundred_comment_upserts_under_dropped_responses_leave_one_comment_per_external_id() {
    let sim = sim().await;
    let clients = [admin(&sim), admin_with_attempts(&sim, 1)];
    let ledger = MemLedger::default();
    drop_responses(&sim, 0.10, 0.02);
    let faults_before = sim.state.counters.faults_injected.load(Ordering::Relaxed);

    // 10 issues × 10 external ids, each upserted twice.
    let jobs: Vec<(usize, usize, u32)> = (1..=10)
        .flat_map(|issue| (0..10).flat_map(move |n| [(issue, n, 1), (issue, n, 2)]))
        .collect();
    let results: Vec<u32> = futures_util::stream::iter(jobs)
        .map(|(issue, n, round)| {
            let (jira, ledger) = (&clients[n % 2], &ledger);
            async move {
                let input = json!({
                    "issue": format!("DEMO-{issue}"),
                    "external_id": format!("note-{n}"),
                    "body": format!("note {n} round {round}"),
                });
                let key = format!("run-{round}/c{issue}-{n}");
                run_step(jira, ledger, &key, Action::UpsertComment, &input)
                    .await
                    .1
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let dropped = sim.state.counters.faults_injected.load(Ordering::Relaxed) - faults_before;
    drop_responses(&sim, 0.0, 0.0);
    let by_marker = comments_by_marker(&sim);
    let duplicates: usize = by_marker.values().map(|n| n - 1).sum();
    println!(
        "comment upserts: {}, responses dropped: {dropped}, step retries: {}, comments: {}, \
         duplicates: {duplicates}",
        results.len(),
        results.iter().map(|a| a - 1).sum::<u32>(),
        by_marker.values().sum::<usize>()
    );
    assert!(dropped > 0, "no response was dropped");
    assert_eq!(duplicates, 0);
    assert_eq!(by_marker.len(), 100);
}
