//! Retries and limits of the executor: retryable failures retried with backoff up to the
//! step's attempts, others not retried, and the per-connection bound on calls in flight.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use jiraflow_store::{RunOrigin, RunStatus, StepStatus};
use serde_json::json;

use crate::executor::{Harness, flow, run_once, step};

/// A seed with which the simulator's first roll at `rate` injects a retryable 5xx (502, 504,
/// or 503 without `Retry-After`) and the second roll injects nothing.
fn seed_failing_once(rate: f64) -> Option<u64> {
    (0..10_000).find(|&seed| {
        let dice = jiraflow_sim::realism::Dice::default();
        dice.roll(rate, Some(seed))
            && matches!(dice.pick(5, Some(seed)), 1..=3)
            && !dice.roll(rate, Some(seed))
    })
}

#[tokio::test]
async fn a_retryable_failure_is_retried_with_backoff_and_then_succeeds() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow(
            "retry",
            r#"  - id: note
    action: create_comment
    connection: acme
    retry: { max_attempts: 4, backoff: 50ms }
    input: { issue: DEMO-3, body: "after a hiccup" }
"#,
        ))
        .await?;
    let seed = seed_failing_once(0.5).context("no seed fails exactly once")?;
    {
        let mut settings = h.sim.state.settings.write();
        settings.fault_5xx_rate = 0.5;
        settings.fault_seed = Some(seed);
        settings.fault_methods = vec!["POST".to_owned()];
        settings.fault_path_prefix = Some("/rest/api/3/issue/DEMO-3/comment".to_owned());
    }
    let started = Instant::now();
    let detail = run_once(&h, &exec, &name, json!({})).await?;
    assert_eq!(detail.run.status, RunStatus::Succeeded, "{detail:#?}");
    let note = step(&detail, "note")?;
    assert_eq!(note.status, StepStatus::Succeeded);
    assert_eq!(note.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "backoff slept"
    );
    // The first attempt's error stays visible until the step ends; it is cleared on success.
    assert!(note.error.is_none());
    let comments = h.comments("DEMO-3").await?;
    assert_eq!(
        comments.iter().filter(|c| *c == "after a hiccup").count(),
        1
    );
    Ok(())
}

#[tokio::test]
async fn a_non_retryable_failure_is_not_retried() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow(
            "noretry",
            r#"  - id: note
    action: create_comment
    connection: acme
    retry: { max_attempts: 5, backoff: 10ms }
    input: { issue: NOPE-9, body: "nowhere" }
"#,
        ))
        .await?;
    let detail = run_once(&h, &exec, &name, json!({})).await?;
    assert_eq!(detail.run.status, RunStatus::Failed);
    let note = step(&detail, "note")?;
    assert_eq!(note.status, StepStatus::Failed);
    assert_eq!(note.attempts, 1);
    let error = note.error.clone().unwrap_or_default();
    assert_eq!(error["retryable"], json!(false));
    assert_eq!(error["kind"], json!("jira"));
    Ok(())
}

#[tokio::test]
async fn the_per_connection_limit_bounds_calls_in_flight() -> Result<()> {
    const RUNS: u32 = 6;
    const DELAY_MS: u64 = 150;
    let h = Harness::new().await?;
    let exec = h.executor(|c| c.per_connection_concurrency = 2);
    let name = h
        .apply(&flow(
            "limited",
            r#"  - id: note
    action: create_comment
    connection: acme
    input: { issue: DEMO-5, body: "run {{ trigger.n }}" }
"#,
        ))
        .await?;
    let mut ids = Vec::new();
    for n in 0..RUNS {
        let run = exec
            .enqueue(&name, json!({"n": n}), RunOrigin::Manual, None)
            .await?;
        ids.push(run.id);
    }
    {
        let mut settings = h.sim.state.settings.write();
        settings.fault_delay_rate = 1.0;
        settings.fault_delay_ms = DELAY_MS;
        settings.fault_methods = vec!["POST".to_owned()];
    }
    let started = Instant::now();
    let results = futures_util::future::join_all(ids.iter().map(|id| exec.execute(*id))).await;
    let elapsed = started.elapsed();
    for result in results {
        assert_eq!(result?.run.status, RunStatus::Succeeded);
    }
    // Six delayed calls two at a time take at least three delays; unbounded they take one.
    let floor = Duration::from_millis(DELAY_MS * u64::from(RUNS / 2));
    assert!(elapsed >= floor, "{elapsed:?} < {floor:?}");
    assert_eq!(
        h.comments("DEMO-5")
            .await?
            .iter()
            .filter(|c| c.starts_with("run "))
            .count(),
        RUNS as usize
    );
    Ok(())
}

#[tokio::test]
async fn retries_stop_after_the_steps_max_attempts() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow(
            "exhaust",
            r#"  - id: note
    action: create_comment
    connection: acme
    retry: { max_attempts: 3, backoff: 10ms }
    input: { issue: DEMO-8, body: "never" }
"#,
        ))
        .await?;
    {
        let mut settings = h.sim.state.settings.write();
        settings.random_429_rate = 1.0;
        settings.fault_methods = vec!["POST".to_owned()];
        settings.fault_path_prefix = Some("/rest/api/3/issue/DEMO-8/comment".to_owned());
    }
    let detail = run_once(&h, &exec, &name, json!({})).await?;
    assert_eq!(detail.run.status, RunStatus::Failed);
    let note = step(&detail, "note")?;
    assert_eq!(note.status, StepStatus::Failed);
    assert_eq!(note.attempts, 3);
    let error = note.error.clone().unwrap_or_default();
    assert_eq!(error["retryable"], json!(true), "{error}");
    Ok(())
}
