//! Resuming runs a dead worker left behind: finished steps are kept with their outputs, and a
//! step that was in flight is reconciled by its write key instead of being written twice.

use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::Utc;
use jiraflow_engine::actions::{self, ActionContext};
use jiraflow_engine::flow::Action;
use jiraflow_store::{RunId, RunOrigin, RunStatus, RunStore, StepRecord, StepStatus, WriteLedger};
use serde_json::{Value, json};

use crate::executor::{Harness, flow, step};

const DEAD: &str = "dead-worker";
const SHORT_LEASE: Duration = Duration::from_millis(300);

const STEPS: &str = r#"  - id: create
    action: create_issue
    connection: acme
    input: { project: DEMO, issue_type: Task, summary: "{{ trigger.summary }}" }
  - id: comment
    action: create_comment
    connection: acme
    input: { issue: "{{ steps.create.output.key }}", body: "Tracking {{ steps.create.output.key }}" }
  - id: label
    action: update_issue
    connection: acme
    input: { issue: "{{ steps.create.output.key }}", labels: ["resumed"] }
"#;

fn record(run_id: RunId, index: u32, id: &str, action: Action, status: StepStatus) -> StepRecord {
    let now = Utc::now();
    StepRecord {
        run_id,
        index,
        step_id: id.to_owned(),
        action: action.name().to_owned(),
        status,
        attempts: 1,
        input: None,
        output: None,
        error: None,
        started_at: Some(now),
        finished_at: (status == StepStatus::Succeeded).then_some(now),
        duration_ms: Some(1),
    }
}

/// A worker claims the run with a short lease, creates the issue of step 0 (recorded as
/// succeeded), and, with `comment_written`, also sends step 1's comment with its write key
/// after recording the step as started; then it dies. Returns the run and the issue key.
async fn die_mid_run(h: &Harness, summary: &str, comment_written: bool) -> Result<(RunId, String)> {
    let exec = h.executor(|_| {});
    let name = h.apply(&flow("resume", STEPS)).await?;
    let run = exec
        .enqueue(&name, json!({"summary": summary}), RunOrigin::Trigger, None)
        .await?;
    let store = h.store();
    let claimed = store
        .claim_run(DEAD, SHORT_LEASE, Some(run.id))
        .await?
        .context("run not claimable")?;
    assert!(claimed.steps.is_empty());
    let ledger: &dyn WriteLedger = store.as_ref();

    let key0 = format!("{}/create", run.id);
    let ctx = ActionContext::new(&h.jira, "create")
        .with_ledger(ledger)
        .with_write_key(&key0, None);
    let created = actions::run(
        Action::CreateIssue,
        ctx,
        json!({"project": "DEMO", "issue_type": "Task", "summary": summary}),
    )
    .await?;
    let issue = created.output["key"].as_str().context("no key")?.to_owned();
    let mut done = record(
        run.id,
        0,
        "create",
        Action::CreateIssue,
        StepStatus::Succeeded,
    );
    done.output = Some(json!({"outcome": "changed", "output": created.output}));
    store.save_step(DEAD, done).await?;

    if comment_written {
        let started = record(
            run.id,
            1,
            "comment",
            Action::CreateComment,
            StepStatus::Started,
        );
        store.save_step(DEAD, started).await?;
        let key1 = format!("{}/comment", run.id);
        // No ledger here: the pending entry the ledger would keep is a second signal, and this
        // leaves the step's Started record as the only clue that the comment may exist.
        let ctx = ActionContext::new(&h.jira, "comment").with_write_key(&key1, None);
        // The write happens; the worker dies before recording its outcome.
        actions::run(
            Action::CreateComment,
            ctx,
            json!({"issue": issue, "body": format!("Tracking {issue}")}),
        )
        .await?;
    }
    tokio::time::sleep(SHORT_LEASE + Duration::from_millis(200)).await;
    Ok((run.id, issue))
}

/// How many DEMO issues have exactly this summary.
async fn issues_with_summary(h: &Harness, summary: &str) -> Result<usize> {
    let out: Value = h
        .act(
            Action::GetIssues,
            json!({"jql": "project = DEMO", "fields": ["summary"], "limit": 500}),
        )
        .await?;
    Ok(out["issues"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .filter(|i| i["fields"]["summary"] == summary)
                .count()
        })
        .unwrap_or(0))
}

#[tokio::test]
async fn a_resumed_run_keeps_finished_steps_and_continues_with_their_outputs() -> Result<()> {
    let h = Harness::new().await?;
    let summary = "Resume after step zero";
    let (run_id, issue) = die_mid_run(&h, summary, false).await?;

    let exec = h.executor(|_| {});
    assert_eq!(exec.drain(10).await?, 1);
    let detail = h.store.get_run(run_id).await?.context("run gone")?;
    assert_eq!(detail.run.status, RunStatus::Succeeded, "{detail:#?}");
    assert_eq!(detail.run.claims, 2);
    let create = step(&detail, "create")?;
    assert_eq!(create.attempts, 1, "the finished step was not repeated");
    assert_eq!(h.comments(&issue).await?, [format!("Tracking {issue}")]);
    assert_eq!(issues_with_summary(&h, summary).await?, 1);
    assert_eq!(step(&detail, "label")?.status, StepStatus::Succeeded);
    Ok(())
}

#[tokio::test]
async fn a_step_in_flight_when_its_worker_died_is_reconciled_not_written_twice() -> Result<()> {
    let h = Harness::new().await?;
    let summary = "Resume mid comment";
    let (run_id, issue) = die_mid_run(&h, summary, true).await?;

    let exec = h.executor(|_| {});
    // The dead worker's lease lapsed: the run is claimable again.
    assert_eq!(exec.drain(10).await?, 1);
    let detail = h.store.get_run(run_id).await?.context("run gone")?;
    assert_eq!(detail.run.status, RunStatus::Succeeded, "{detail:#?}");
    let comment = step(&detail, "comment")?;
    assert_eq!(comment.status, StepStatus::Succeeded);
    assert_eq!(comment.attempts, 2, "the dead attempt counts");
    assert_eq!(
        h.comments(&issue).await?,
        [format!("Tracking {issue}")],
        "no duplicate comment"
    );
    assert_eq!(issues_with_summary(&h, summary).await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_claim_is_renewed_while_a_slow_step_runs_so_no_other_worker_takes_it() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|c| c.lease = Duration::from_millis(150));
    let name = h
        .apply(&flow(
            "slow",
            r#"  - id: note
    action: create_comment
    connection: acme
    input: { issue: DEMO-6, body: "slow" }
"#,
        ))
        .await?;
    let run = exec
        .enqueue(&name, json!({}), RunOrigin::Manual, None)
        .await?;
    {
        let mut settings = h.sim.state.settings.write();
        settings.fault_delay_rate = 1.0;
        settings.fault_delay_ms = 600;
        settings.fault_methods = vec!["POST".to_owned()];
    }
    let store = h.store();
    let thief = async {
        // Well past the lease: only renewals keep the run held.
        tokio::time::sleep(Duration::from_millis(400)).await;
        store.claim_run("thief", Duration::from_secs(5), None).await
    };
    let (detail, stolen) = tokio::join!(exec.execute(run.id), thief);
    assert_eq!(
        stolen?, None,
        "the run was claimable while its worker was busy"
    );
    let detail = detail?;
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    assert_eq!(detail.run.claims, 1);
    Ok(())
}

#[tokio::test]
async fn the_worker_loop_runs_what_is_enqueued_and_stops_when_cancelled() -> Result<()> {
    let h = Harness::new().await?;
    let exec = h.executor(|_| {});
    let name = h
        .apply(&flow(
            "looped",
            r#"  - id: note
    action: create_comment
    connection: acme
    input: { issue: DEMO-7, body: "loop {{ trigger.n }}" }
"#,
        ))
        .await?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let worker = exec.work(cancel.clone(), Duration::from_millis(20));
    let driver = async {
        let mut ids = Vec::new();
        for n in 0..3 {
            let run = exec
                .enqueue(&name, json!({"n": n}), RunOrigin::Manual, None)
                .await?;
            ids.push(run.id);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut finished = 0;
            for id in &ids {
                let detail = h.store.get_run(*id).await?.context("run gone")?;
                finished += usize::from(detail.run.status == RunStatus::Succeeded);
            }
            if finished == ids.len() {
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "runs did not finish"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        cancel.cancel();
        anyhow::Ok(())
    };
    let ((), driven) = tokio::time::timeout(Duration::from_secs(15), async {
        tokio::join!(worker, driver)
    })
    .await?;
    driven?;
    assert_eq!(
        h.comments("DEMO-7")
            .await?
            .iter()
            .filter(|c| c.starts_with("loop "))
            .count(),
        3
    );
    Ok(())
}
