//! Conformance checks for applied flows (versions, enablement, connection references), runs as
//! a claimable work queue (dedupe, leases, step history, listing, purging).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{DynStore, fixture_app, fixture_tokens};
use crate::error::{StoreError, StoreResult};
use crate::ids::{ConnectionId, RunId};
use crate::model::{ConnectionSource, NewConnection};
use crate::runs::{
    FlowRecord, NewRun, RunOrigin, RunQuery, RunRecord, RunStatus, SaveFlow, StepRecord, StepStatus,
};

const LONG_LEASE: Duration = Duration::from_secs(60);

fn flow_source(tag: &str) -> String {
    format!("name: flow\ntrigger:\n  manual: {{}}\nsteps:\n  - id: {tag}\n    action: log\n")
}

fn save(name: &str, source: &str, connections: Vec<ConnectionId>) -> SaveFlow {
    SaveFlow {
        name: name.to_owned(),
        source: source.to_owned(),
        file_name: format!("{name}.yaml"),
        enabled: true,
        applied_by: None,
        connections,
    }
}

async fn fixture_flow(store: &DynStore, name: &str) -> StoreResult<FlowRecord> {
    store
        .save_flow(save(name, &flow_source(name), vec![]))
        .await
}

async fn enqueue(store: &DynStore, flow: &FlowRecord, key: Option<&str>) -> StoreResult<RunRecord> {
    store
        .create_run(NewRun {
            flow_name: flow.name.clone(),
            flow_version: flow.version,
            origin: if key.is_some() {
                RunOrigin::Trigger
            } else {
                RunOrigin::Manual
            },
            trigger: json!({"issue": {"key": "OPS-1"}, "event": key}),
            dedupe_key: key.map(str::to_owned),
        })
        .await
}

/// An instant at the stores' millisecond precision, so round trips compare equal.
pub(super) fn now_at_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_else(Utc::now)
}

fn step(run_id: RunId, index: u32, status: StepStatus) -> StepRecord {
    StepRecord {
        run_id,
        index,
        step_id: format!("step-{index}"),
        action: "jira.create_issue".to_owned(),
        status,
        attempts: 1,
        input: Some(json!({"summary": format!("input {index}")})),
        output: None,
        error: None,
        started_at: Some(now_at_ms()),
        finished_at: None,
        duration_ms: None,
    }
}

async fn connection(store: &DynStore, name: &str) -> StoreResult<ConnectionId> {
    let app = fixture_app(store, &format!("app-{name}")).await?;
    Ok(store
        .create_connection(NewConnection {
            name: name.to_owned(),
            description: String::new(),
            source: ConnectionSource::OAuthApp {
                oauth_app_id: app,
                tokens: fixture_tokens(name),
            },
            cloud_id: "cloud-1".to_owned(),
            site_url: None,
            created_by: None,
        })
        .await?
        .id)
}

/// Saving creates version 1, an unchanged source keeps the version, a changed one bumps it and
/// keeps the old source; enable/disable and delete work, and deleting keeps the flow's runs.
pub async fn flows_are_versioned_enabled_and_deleted(store: DynStore) -> StoreResult<()> {
    let first = flow_source("one");
    let created = store.save_flow(save("Triage bugs", &first, vec![])).await?;
    assert_eq!(created.version, 1);
    assert!(created.enabled);
    assert_eq!(created.file_name, "Triage bugs.yaml");
    let found = store.get_flow("triage BUGS").await?;
    assert_eq!(found.as_ref(), Some(&created));

    let mut same = save("triage bugs", &first, vec![]);
    same.file_name = "renamed.yaml".to_owned();
    same.enabled = false;
    let reapplied = store.save_flow(same).await?;
    assert_eq!(
        reapplied.version, 1,
        "an unchanged source keeps its version"
    );
    assert_eq!(reapplied.file_name, "renamed.yaml");
    assert!(!reapplied.enabled);
    assert_eq!(reapplied.created_at, created.created_at);

    let second = flow_source("two");
    let bumped = store
        .save_flow(save("Triage bugs", &second, vec![]))
        .await?;
    assert_eq!(bumped.version, 2);
    assert_eq!(bumped.source, second);
    assert_eq!(
        store.flow_source("TRIAGE BUGS", 1).await?.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(
        store.flow_source("Triage bugs", 2).await?.as_deref(),
        Some(second.as_str())
    );
    assert_eq!(store.flow_source("Triage bugs", 3).await?, None);

    assert!(!store.set_flow_enabled("Triage bugs", false).await?.enabled);
    assert!(store.set_flow_enabled("triage bugs", true).await?.enabled);
    let unknown = store.set_flow_enabled("Nope", true).await;
    assert!(unknown.err().is_some_and(|e| e.is_not_found()));

    fixture_flow(&store, "Auto close").await?;
    let names: Vec<String> = store
        .list_flows()
        .await?
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(
        names,
        vec!["Auto close".to_owned(), "Triage bugs".to_owned()]
    );

    for bad in [save("  ", &first, vec![]), save("Empty", " \n", vec![])] {
        let refused = store.save_flow(bad).await;
        assert!(refused.err().is_some_and(|e| e.is_invalid()));
    }
    assert_eq!(store.list_flows().await?.len(), 2);
    assert_eq!(store.get_flow("Empty").await?, None);

    let run = enqueue(&store, &bumped, None).await?;
    store.delete_flow("TRIAGE bugs").await?;
    assert_eq!(store.get_flow("Triage bugs").await?, None);
    assert!(
        store.get_run(run.id).await?.is_some(),
        "runs outlive their flow"
    );
    assert_eq!(
        store.flow_source("Triage bugs", 2).await?.as_deref(),
        Some(second.as_str()),
        "a kept run can still read the source it executes"
    );
    let again = store.delete_flow("Triage bugs").await;
    assert!(again.err().is_some_and(|e| e.is_not_found()));
    let orphan = enqueue(&store, &bumped, None).await;
    assert!(orphan.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}

/// A flow's connection references are replaced on every save: a connection in use cannot be
/// deleted, and can once the flow drops it. An unknown connection leaves the flow unchanged.
pub async fn flow_saves_replace_connection_references(store: DynStore) -> StoreResult<()> {
    let jira = connection(&store, "Jira").await?;
    let sandbox = connection(&store, "Sandbox").await?;
    let source = flow_source("refs");
    store
        .save_flow(save("Sync", &source, vec![jira, sandbox]))
        .await?;
    assert_eq!(
        store.connection_in_use(jira).await?,
        vec!["Sync".to_owned()]
    );
    match store.delete_connection(jira).await {
        Err(StoreError::ConnectionInUse { flows, .. }) => {
            assert_eq!(flows, vec!["Sync".to_owned()]);
        }
        other => panic!("expected ConnectionInUse, got {other:?}"),
    }

    let missing = ConnectionId::new();
    let refused = store
        .save_flow(save(
            "Sync",
            &flow_source("changed"),
            vec![sandbox, missing],
        ))
        .await;
    assert!(refused.err().is_some_and(|e| e.is_not_found()));
    let kept = store.get_flow("Sync").await?;
    assert_eq!(
        kept.map(|f| (f.version, f.source)),
        Some((1, source.clone()))
    );
    assert_eq!(
        store.connection_in_use(jira).await?,
        vec!["Sync".to_owned()]
    );

    store
        .save_flow(save("sync", &source, vec![sandbox]))
        .await?;
    assert!(store.connection_in_use(jira).await?.is_empty());
    store.delete_connection(jira).await?;
    assert!(store.delete_connection(sandbox).await.is_err());
    store.delete_flow("Sync").await?;
    assert!(store.connection_in_use(sandbox).await?.is_empty());
    store.delete_connection(sandbox).await?;
    Ok(())
}

/// An event's dedupe key starts exactly one run of a flow: the second is refused and nothing is
/// written. Other flows and keyless runs are unaffected; unknown flows and versions are refused.
pub async fn a_dedupe_key_starts_exactly_one_run(store: DynStore) -> StoreResult<()> {
    let triage = fixture_flow(&store, "Triage").await?;
    let other = fixture_flow(&store, "Other").await?;
    let first = enqueue(&store, &triage, Some("issue_created:10001")).await?;
    assert_eq!(first.status, RunStatus::Pending);
    assert_eq!(first.claims, 0);
    assert_eq!(first.origin, RunOrigin::Trigger);
    assert_eq!(first.dedupe_key.as_deref(), Some("issue_created:10001"));
    assert_eq!(first.started_at, None);

    let twice = enqueue(&store, &triage, Some("issue_created:10001")).await;
    assert!(twice.err().is_some_and(|e| e.is_duplicate()));
    let listed = store
        .list_runs(RunQuery {
            flow_name: Some("Triage".to_owned()),
            ..RunQuery::default()
        })
        .await?;
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![first.id]
    );

    enqueue(&store, &other, Some("issue_created:10001")).await?;
    enqueue(&store, &triage, None).await?;
    enqueue(&store, &triage, None).await?;
    assert_eq!(store.list_runs(RunQuery::default()).await?.len(), 4);

    let mut ghost = triage.clone();
    ghost.name = "Ghost".to_owned();
    let unknown = enqueue(&store, &ghost, None).await;
    assert!(unknown.err().is_some_and(|e| e.is_not_found()));
    let mut future = triage.clone();
    future.version = 9;
    let bad_version = enqueue(&store, &future, None).await;
    assert!(bad_version.err().is_some_and(|e| e.is_invalid()));
    assert_eq!(store.list_runs(RunQuery::default()).await?.len(), 4);
    Ok(())
}

/// Claims take the oldest pending run; a live lease is not claimable (not even with `only`),
/// `only` claims just that run, and only the holder can renew.
pub async fn runs_are_claimed_oldest_first_under_live_leases(store: DynStore) -> StoreResult<()> {
    let flow = fixture_flow(&store, "Queue").await?;
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(enqueue(&store, &flow, None).await?.id);
    }
    let Some(first) = store.claim_run("w1", LONG_LEASE, None).await? else {
        panic!("a pending run must be claimable")
    };
    assert_eq!(first.run.id, runs[0]);
    assert_eq!(first.run.status, RunStatus::Running);
    assert_eq!(first.run.claims, 1);
    assert!(first.run.started_at.is_some());
    assert!(first.steps.is_empty());
    assert_eq!(first.owner, "w1");
    assert!(first.lease_expires_at > Utc::now());

    let held = store.claim_run("w2", LONG_LEASE, Some(runs[0])).await?;
    assert!(held.is_none(), "a live lease is not claimable");
    let only = store.claim_run("w2", LONG_LEASE, Some(runs[2])).await?;
    assert_eq!(
        only.map(|c| c.run.id),
        Some(runs[2]),
        "`only` skips older runs"
    );
    let next = store.claim_run("w3", LONG_LEASE, None).await?;
    assert_eq!(next.map(|c| c.run.id), Some(runs[1]));
    assert!(store.claim_run("w4", LONG_LEASE, None).await?.is_none());

    assert!(!store.renew_claim(runs[0], "w2", LONG_LEASE).await?);
    assert!(store.renew_claim(runs[0], "w1", LONG_LEASE).await?);
    assert!(!store.renew_claim(RunId::new(), "w1", LONG_LEASE).await?);
    Ok(())
}

/// A lapsed lease hands the run to a new worker with the steps saved so far; the old worker can
/// no longer save steps, renew or finish it.
pub async fn a_lapsed_lease_hands_the_run_over_with_its_steps(store: DynStore) -> StoreResult<()> {
    let flow = fixture_flow(&store, "Resume").await?;
    let run = enqueue(&store, &flow, None).await?;
    let Some(first) = store
        .claim_run("w1", Duration::from_millis(300), None)
        .await?
    else {
        panic!("a pending run must be claimable")
    };
    let mut done = step(run.id, 0, StepStatus::Succeeded);
    done.output = Some(json!({"outcome": "created", "output": {"key": "OPS-2"}}));
    store.save_step("w1", done.clone()).await?;
    let started = step(run.id, 1, StepStatus::Started);
    store.save_step("w1", started.clone()).await?;
    assert!(store.claim_run("w2", LONG_LEASE, None).await?.is_none());

    tokio::time::sleep(Duration::from_millis(400)).await;
    let Some(second) = store.claim_run("w2", LONG_LEASE, None).await? else {
        panic!("a lapsed lease must be claimable")
    };
    assert_eq!(second.run.id, run.id);
    assert_eq!(second.run.claims, 2);
    assert_eq!(
        second.run.started_at, first.run.started_at,
        "started on the first claim"
    );
    assert_eq!(second.steps, vec![done, started]);

    let stale = store
        .save_step("w1", step(run.id, 1, StepStatus::Failed))
        .await;
    assert!(stale.err().is_some_and(|e| e.is_invalid()));
    assert!(!store.renew_claim(run.id, "w1", LONG_LEASE).await?);
    let stale_finish = store
        .finish_run(run.id, "w1", RunStatus::Failed, None)
        .await;
    match stale_finish {
        Err(e @ StoreError::Invalid { .. }) => {
            assert!(e.to_string().contains(&run.id.to_string()), "{e}");
        }
        other => panic!("expected Invalid naming the run, got {other:?}"),
    }

    let finished = store
        .finish_run(run.id, "w2", RunStatus::Succeeded, None)
        .await?;
    assert_eq!(finished.status, RunStatus::Succeeded);
    assert!(finished.finished_at.is_some());
    assert!(store.claim_run("w3", LONG_LEASE, None).await?.is_none());
    let twice = store
        .finish_run(run.id, "w2", RunStatus::Failed, None)
        .await;
    assert!(twice.err().is_some_and(|e| e.is_invalid()));
    let unknown = store
        .save_step("w2", step(RunId::new(), 0, StepStatus::Started))
        .await;
    assert!(unknown.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}

/// Steps are inserted or replaced by index and come back in flow order with their JSON intact;
/// a failed run keeps its error; a non-final status cannot finish a run.
pub async fn steps_are_replaced_by_index_and_returned_in_order(store: DynStore) -> StoreResult<()> {
    let flow = fixture_flow(&store, "Steps").await?;
    let run = enqueue(&store, &flow, None).await?;
    assert!(store.claim_run("w", LONG_LEASE, None).await?.is_some());
    for index in [2, 0, 1] {
        store
            .save_step("w", step(run.id, index, StepStatus::Started))
            .await?;
    }
    let mut retried = step(run.id, 1, StepStatus::Failed);
    retried.attempts = 3;
    retried.error = Some(json!({"message": "Jira answered 503", "retryable": true}));
    retried.finished_at = Some(now_at_ms());
    retried.duration_ms = Some(1_250);
    store.save_step("w", retried.clone()).await?;

    let not_final = store
        .finish_run(run.id, "w", RunStatus::Pending, None)
        .await;
    assert!(not_final.err().is_some_and(|e| e.is_invalid()));
    let failed = store
        .finish_run(
            run.id,
            "w",
            RunStatus::Failed,
            Some("step step-1 failed".to_owned()),
        )
        .await?;
    assert_eq!(failed.error.as_deref(), Some("step step-1 failed"));

    let Some(detail) = store.get_run(run.id).await? else {
        panic!("the run must exist")
    };
    assert_eq!(detail.run, failed);
    let indexes: Vec<u32> = detail.steps.iter().map(|s| s.index).collect();
    assert_eq!(indexes, vec![0, 1, 2]);
    assert_eq!(detail.steps[1], retried);
    assert_eq!(detail.steps[0].status, StepStatus::Started);
    assert_eq!(store.get_run(RunId::new()).await?, None);
    Ok(())
}

/// Runs list newest first, filtered by flow (case-insensitively) and status and limited;
/// purging removes only final runs finished before the cut-off, with their steps.
pub async fn runs_are_listed_newest_first_and_purged(store: DynStore) -> StoreResult<()> {
    let alpha = fixture_flow(&store, "Alpha").await?;
    let beta = fixture_flow(&store, "Beta").await?;
    let mut alpha_runs = Vec::new();
    for _ in 0..5 {
        alpha_runs.push(enqueue(&store, &alpha, None).await?.id);
    }
    let beta_run = enqueue(&store, &beta, None).await?.id;

    let all: Vec<RunId> = store
        .list_runs(RunQuery::default())
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut expected = alpha_runs.clone();
    expected.push(beta_run);
    expected.reverse();
    assert_eq!(all, expected, "newest first");

    let alpha_only = store
        .list_runs(RunQuery {
            flow_name: Some("ALPHA".to_owned()),
            limit: Some(2),
            ..RunQuery::default()
        })
        .await?;
    assert_eq!(
        alpha_only.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![alpha_runs[4], alpha_runs[3]]
    );
    let huge = store
        .list_runs(RunQuery {
            limit: Some(u32::MAX),
            ..RunQuery::default()
        })
        .await?;
    assert_eq!(huge.len(), 6);

    // Finish the two oldest alpha runs; leave one running and the rest pending.
    for owner in ["w0", "w1", "w2"] {
        assert!(store.claim_run(owner, LONG_LEASE, None).await?.is_some());
    }
    store
        .save_step("w0", step(alpha_runs[0], 0, StepStatus::Succeeded))
        .await?;
    store
        .finish_run(alpha_runs[0], "w0", RunStatus::Succeeded, None)
        .await?;
    store
        .finish_run(
            alpha_runs[1],
            "w1",
            RunStatus::Failed,
            Some("no".to_owned()),
        )
        .await?;
    let running = store
        .list_runs(RunQuery {
            status: Some(RunStatus::Running),
            ..RunQuery::default()
        })
        .await?;
    assert_eq!(
        running.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![alpha_runs[2]]
    );
    let failed_beta = store
        .list_runs(RunQuery {
            flow_name: Some("Beta".to_owned()),
            status: Some(RunStatus::Failed),
            limit: None,
        })
        .await?;
    assert!(failed_beta.is_empty());

    let hour = chrono::Duration::hours(1);
    assert_eq!(store.purge_runs(Utc::now() - hour).await?, 0);
    assert_eq!(store.purge_runs(Utc::now() + hour).await?, 2);
    assert_eq!(store.get_run(alpha_runs[0]).await?, None);
    assert_eq!(store.get_run(alpha_runs[1]).await?, None);
    assert_eq!(store.list_runs(RunQuery::default()).await?.len(), 4);
    assert!(store.get_run(alpha_runs[2]).await?.is_some());
    Ok(())
}

/// Two handles on one database (like two processes) race 50 claims each over 100 runs: every
/// run is claimed exactly once.
pub async fn claims_across_handles_hand_each_run_out_once(
    a: DynStore,
    b: DynStore,
) -> StoreResult<()> {
    const RUNS: usize = 100;
    const TASKS_PER_HANDLE: usize = 5;
    const CLAIMS_PER_TASK: usize = 10;
    let flow = fixture_flow(&a, "Race").await?;
    for _ in 0..RUNS {
        enqueue(&a, &flow, None).await?;
    }
    let mut tasks = Vec::new();
    for (h, store) in [a.clone(), b].into_iter().enumerate() {
        for t in 0..TASKS_PER_HANDLE {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let owner = format!("handle-{h}-task-{t}");
                let mut claimed = Vec::new();
                for _ in 0..CLAIMS_PER_TASK {
                    if let Some(c) = store.claim_run(&owner, LONG_LEASE, None).await? {
                        claimed.push(c.run.id);
                    }
                }
                StoreResult::Ok(claimed)
            }));
        }
    }
    let mut all = Vec::new();
    for task in tasks {
        match task.await {
            Ok(claimed) => all.extend(claimed?),
            Err(join) => panic!("claim task failed: {join}"),
        }
    }
    assert_eq!(all.len(), RUNS, "every claim found a run");
    let distinct: HashSet<RunId> = all.iter().copied().collect();
    assert_eq!(distinct.len(), RUNS, "no run was handed out twice");
    let runs = a
        .list_runs(RunQuery {
            limit: Some(1_000),
            ..RunQuery::default()
        })
        .await?;
    assert_eq!(runs.len(), RUNS);
    assert!(
        runs.iter()
            .all(|r| r.claims == 1 && r.status == RunStatus::Running)
    );
    Ok(())
}
