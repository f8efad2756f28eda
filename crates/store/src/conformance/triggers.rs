//! Conformance checks for trigger state: events enqueued as runs exactly once per dedupe key,
//! the cursor and poll health, pausing, webhook registrations and delivery identifiers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use serde_json::json;

use super::DynStore;
use super::workflow::now_at_ms;
use crate::error::StoreResult;
use crate::ids::ConnectionId;
use crate::runs::{FlowRecord, RunOrigin, RunQuery, RunStatus, SaveFlow};
use crate::triggers::{TriggerEvent, WebhookRegistration};

async fn flow(store: &DynStore, name: &str, tag: &str) -> StoreResult<FlowRecord> {
    store
        .save_flow(SaveFlow {
            name: name.to_owned(),
            source: format!(
                "name: {name}\ntrigger:\n  jira.issue_created: {{}}\nsteps:\n  - id: {tag}\n    \
                 action: log\n"
            ),
            file_name: format!("{name}.yaml"),
            enabled: true,
            applied_by: None,
            connections: vec![],
        })
        .await
}

fn event(key: &str) -> TriggerEvent {
    TriggerEvent {
        dedupe_key: key.to_owned(),
        payload: json!({"issue": {"key": key}}),
    }
}

fn events(keys: &[&str]) -> Vec<TriggerEvent> {
    keys.iter().map(|k| event(k)).collect()
}

async fn runs_of(store: &DynStore, flow_name: &str) -> StoreResult<usize> {
    Ok(store
        .list_runs(RunQuery {
            flow_name: Some(flow_name.to_owned()),
            limit: Some(1_000),
            ..RunQuery::default()
        })
        .await?
        .len())
}

fn registration(webhook_id: i64) -> WebhookRegistration {
    let now = now_at_ms();
    WebhookRegistration {
        webhook_id,
        connection_id: ConnectionId::new(),
        jql: "project = OPS".to_owned(),
        events: vec![
            "jira:issue_created".to_owned(),
            "jira:issue_updated".to_owned(),
        ],
        expires_at: now + Span::days(30),
        refreshed_at: now,
    }
}

/// Each event becomes one pending trigger run of the flow's current version carrying its
/// payload; a dedupe key seen before (in an earlier call or the same one) only counts as a
/// duplicate, and the counters add up across calls.
pub async fn events_become_runs_once_per_dedupe_key(store: DynStore) -> StoreResult<()> {
    flow(&store, "Triage", "one").await?;
    let current = flow(&store, "Triage", "two").await?;
    let other = flow(&store, "Other", "one").await?;
    assert_eq!(store.trigger_state("Triage").await?, None);

    let first = store
        .enqueue_events(
            "triage",
            events(&["issue:1:100", "issue:2:100", "issue:1:100"]),
            None,
        )
        .await?;
    assert_eq!(first.enqueued.len(), 2);
    assert_eq!(
        first.duplicates, 1,
        "a key repeated within one call counts once"
    );
    let Some(detail) = store.get_run(first.enqueued[0]).await? else {
        panic!("an enqueued run must exist")
    };
    let run = detail.run;
    assert_eq!(run.flow_name, "Triage");
    assert_eq!(run.flow_version, current.version);
    assert_eq!(run.origin, RunOrigin::Trigger);
    assert_eq!(run.status, RunStatus::Pending);
    assert_eq!(run.dedupe_key.as_deref(), Some("issue:1:100"));
    assert_eq!(run.trigger, json!({"issue": {"key": "issue:1:100"}}));
    let Some(second_run) = store.get_run(first.enqueued[1]).await? else {
        panic!("an enqueued run must exist")
    };
    assert_eq!(second_run.run.dedupe_key.as_deref(), Some("issue:2:100"));

    let second = store
        .enqueue_events("Triage", events(&["issue:2:100", "issue:3:100"]), None)
        .await?;
    assert_eq!(second.enqueued.len(), 1);
    assert_eq!(second.duplicates, 1);
    let replay = store
        .enqueue_events("Triage", events(&["issue:1:100", "issue:3:100"]), None)
        .await?;
    assert!(replay.enqueued.is_empty());
    assert_eq!(replay.duplicates, 2);
    assert_eq!(runs_of(&store, "Triage").await?, 3);

    let elsewhere = store
        .enqueue_events(&other.name, events(&["issue:1:100"]), None)
        .await?;
    assert_eq!(elsewhere.enqueued.len(), 1, "dedupe keys are per flow");

    let Some(state) = store.trigger_state("TRIAGE").await? else {
        panic!("enqueueing creates the trigger state")
    };
    assert_eq!(state.flow_name, "Triage");
    assert_eq!(state.events_enqueued, 3);
    assert_eq!(state.duplicates_dropped, 4);
    assert!(state.last_event_at.is_some());
    assert_eq!(state.cursor_ms, None, "no advance was asked for");
    assert_eq!(state.last_poll_at, None);
    let names: Vec<String> = store
        .list_trigger_states()
        .await?
        .into_iter()
        .map(|s| s.flow_name)
        .collect();
    assert_eq!(names, vec!["Other".to_owned(), "Triage".to_owned()]);

    let empty = store.enqueue_events("Other", vec![], None).await?;
    assert!(empty.enqueued.is_empty() && empty.duplicates == 0);
    let blank = store.enqueue_events("Other", events(&[" "]), None).await;
    assert!(blank.err().is_some_and(|e| e.is_invalid()));
    assert_eq!(runs_of(&store, "Other").await?, 1);
    Ok(())
}

/// An advance moves the cursor forward only and records a successful poll; without one the
/// cursor and poll times stay. `set_trigger_cursor` sets or clears it outright.
pub async fn the_cursor_never_moves_backwards(store: DynStore) -> StoreResult<()> {
    flow(&store, "Poller", "one").await?;
    store
        .enqueue_events("Poller", events(&["a"]), Some(1_000))
        .await?;
    let Some(advanced) = store.trigger_state("Poller").await? else {
        panic!("an advance creates the trigger state")
    };
    assert_eq!(advanced.cursor_ms, Some(1_000));
    assert!(advanced.last_poll_at.is_some());
    assert_eq!(advanced.last_poll_at, advanced.last_success_at);

    store.enqueue_events("Poller", vec![], Some(400)).await?;
    let Some(behind) = store.trigger_state("Poller").await? else {
        panic!("state kept")
    };
    assert_eq!(behind.cursor_ms, Some(1_000), "an older advance is ignored");
    assert!(behind.last_success_at >= advanced.last_success_at);

    store.enqueue_events("Poller", events(&["b"]), None).await?;
    let Some(still) = store.trigger_state("Poller").await? else {
        panic!("state kept")
    };
    assert_eq!(still.cursor_ms, Some(1_000));
    assert_eq!(still.last_poll_at, behind.last_poll_at);
    assert_eq!(still.events_enqueued, 2);

    store.enqueue_events("Poller", vec![], Some(2_500)).await?;
    assert_eq!(
        store
            .trigger_state("Poller")
            .await?
            .and_then(|s| s.cursor_ms),
        Some(2_500)
    );

    store.set_trigger_cursor("poller", Some(10)).await?;
    assert_eq!(
        store
            .trigger_state("Poller")
            .await?
            .and_then(|s| s.cursor_ms),
        Some(10),
        "a reset may move it back"
    );
    store.set_trigger_cursor("Poller", None).await?;
    let Some(cleared) = store.trigger_state("Poller").await? else {
        panic!("state kept")
    };
    assert_eq!(cleared.cursor_ms, None);
    assert_eq!(cleared.events_enqueued, 2, "a reset keeps the counters");
    store.enqueue_events("Poller", vec![], Some(5)).await?;
    assert_eq!(
        store
            .trigger_state("Poller")
            .await?
            .and_then(|s| s.cursor_ms),
        Some(5),
        "a cleared cursor takes the next advance"
    );
    Ok(())
}

/// A failed poll records its error and counts; a successful one clears both.
pub async fn poll_failures_are_recorded_until_a_success_clears_them(
    store: DynStore,
) -> StoreResult<()> {
    flow(&store, "Flaky", "one").await?;
    store
        .record_poll_failure("Flaky", "search returned 503".to_owned())
        .await?;
    store
        .record_poll_failure("flaky", "search returned 429".to_owned())
        .await?;
    let Some(failing) = store.trigger_state("Flaky").await? else {
        panic!("a failure creates the trigger state")
    };
    assert_eq!(failing.consecutive_failures, 2);
    assert_eq!(failing.last_error.as_deref(), Some("search returned 429"));
    assert!(failing.last_poll_at.is_some());
    assert_eq!(failing.last_success_at, None);
    assert_eq!(failing.cursor_ms, None);

    store.enqueue_events("Flaky", vec![], None).await?;
    let Some(unpolled) = store.trigger_state("Flaky").await? else {
        panic!("state kept")
    };
    assert_eq!(
        unpolled.consecutive_failures, 2,
        "enqueueing without an advance is not a successful poll"
    );

    store
        .enqueue_events("Flaky", events(&["x"]), Some(77))
        .await?;
    let Some(healthy) = store.trigger_state("Flaky").await? else {
        panic!("state kept")
    };
    assert_eq!(healthy.consecutive_failures, 0);
    assert_eq!(healthy.last_error, None);
    assert!(healthy.last_success_at.is_some());
    assert_eq!(healthy.cursor_ms, Some(77));
    Ok(())
}

/// A trigger is paused with a reason and resumed with none; the rest of its state is kept.
pub async fn triggers_are_paused_and_resumed(store: DynStore) -> StoreResult<()> {
    flow(&store, "Sleepy", "one").await?;
    store.set_trigger_cursor("Sleepy", Some(42)).await?;
    store
        .set_trigger_paused("Sleepy", Some("connection needs a reconnect".to_owned()))
        .await?;
    let Some(paused) = store.trigger_state("Sleepy").await? else {
        panic!("state kept")
    };
    assert_eq!(
        paused.paused_reason.as_deref(),
        Some("connection needs a reconnect")
    );
    assert_eq!(paused.cursor_ms, Some(42));

    let blank = store
        .set_trigger_paused("Sleepy", Some("  ".to_owned()))
        .await;
    assert!(blank.err().is_some_and(|e| e.is_invalid()));
    store.set_trigger_paused("SLEEPY", None).await?;
    let Some(resumed) = store.trigger_state("Sleepy").await? else {
        panic!("state kept")
    };
    assert_eq!(resumed.paused_reason, None);
    assert_eq!(resumed.cursor_ms, Some(42));
    Ok(())
}

/// A webhook registration round-trips, is replaced by a refresh, and is forgotten with `None`;
/// a registration without events or JQL is refused.
pub async fn webhook_registrations_are_saved_and_forgotten(store: DynStore) -> StoreResult<()> {
    flow(&store, "Hooked", "one").await?;
    store.enqueue_events("Hooked", vec![], Some(9)).await?;
    let registered = registration(7);
    store
        .save_webhook_registration("Hooked", Some(registered.clone()))
        .await?;
    let Some(state) = store.trigger_state("Hooked").await? else {
        panic!("state kept")
    };
    assert_eq!(state.webhook.as_ref(), Some(&registered));
    assert_eq!(state.cursor_ms, Some(9), "a registration keeps the cursor");

    let mut refreshed = registered.clone();
    refreshed.refreshed_at = registered.refreshed_at + Span::days(1);
    refreshed.expires_at = refreshed.refreshed_at + Span::days(30);
    store
        .save_webhook_registration("hooked", Some(refreshed.clone()))
        .await?;
    assert_eq!(
        store.trigger_state("Hooked").await?.and_then(|s| s.webhook),
        Some(refreshed)
    );

    for bad in [
        WebhookRegistration {
            events: vec![],
            ..registration(8)
        },
        WebhookRegistration {
            jql: " ".to_owned(),
            ..registration(8)
        },
    ] {
        let refused = store.save_webhook_registration("Hooked", Some(bad)).await;
        assert!(refused.err().is_some_and(|e| e.is_invalid()));
    }

    store.save_webhook_registration("Hooked", None).await?;
    let Some(forgotten) = store.trigger_state("Hooked").await? else {
        panic!("state kept")
    };
    assert_eq!(forgotten.webhook, None);
    assert_eq!(forgotten.cursor_ms, Some(9));
    Ok(())
}

/// A delivery identifier is recorded once (a replay gets `false`), and identifiers older than
/// the purge instant are forgotten so they could be recorded again.
pub async fn webhook_deliveries_are_recorded_once_and_purged(store: DynStore) -> StoreResult<()> {
    let now = now_at_ms();
    let old = now - Span::days(3);
    assert!(store.record_webhook_delivery("delivery-old", old).await?);
    assert!(store.record_webhook_delivery("delivery-new", now).await?);
    assert!(!store.record_webhook_delivery("delivery-old", now).await?);
    assert!(!store.record_webhook_delivery("delivery-new", now).await?);
    let blank = store.record_webhook_delivery(" ", now).await;
    assert!(blank.err().is_some_and(|e| e.is_invalid()));

    assert_eq!(
        store.purge_webhook_deliveries(now - Span::days(1)).await?,
        1
    );
    assert!(
        !store.record_webhook_delivery("delivery-new", now).await?,
        "a recent identifier survives the purge"
    );
    assert!(
        store.record_webhook_delivery("delivery-old", now).await?,
        "a purged identifier is new again"
    );
    assert_eq!(
        store.purge_webhook_deliveries(now - Span::days(1)).await?,
        0
    );
    Ok(())
}

/// The same delivery recorded concurrently through two handles on one database (like two
/// processes receiving a redelivery) is accepted exactly once.
pub async fn a_delivery_raced_across_handles_is_recorded_once(
    a: DynStore,
    b: DynStore,
) -> StoreResult<()> {
    const ROUNDS: usize = 20;
    const TASKS_PER_HANDLE: usize = 4;
    for round in 0..ROUNDS {
        let identifier = format!("delivery-race-{round}");
        let mut tasks = Vec::new();
        for store in [&a, &b] {
            for _ in 0..TASKS_PER_HANDLE {
                let store = Arc::clone(store);
                let identifier = identifier.clone();
                tasks.push(tokio::spawn(async move {
                    store
                        .record_webhook_delivery(&identifier, now_at_ms())
                        .await
                }));
            }
        }
        let mut accepted = 0;
        for task in tasks {
            match task.await {
                Ok(recorded) => accepted += usize::from(recorded?),
                Err(join) => panic!("delivery task failed: {join}"),
            }
        }
        assert_eq!(
            accepted, 1,
            "delivery {identifier} was accepted {accepted} times"
        );
    }
    Ok(())
}

/// Every trigger write names an existing flow: an unknown one is `NotFound` and writes nothing,
/// neither runs nor trigger state.
pub async fn an_unknown_flow_is_not_found_and_nothing_is_written(
    store: DynStore,
) -> StoreResult<()> {
    flow(&store, "Known", "one").await?;
    let enqueued = store
        .enqueue_events("Ghost", events(&["a", "b"]), Some(100))
        .await;
    assert!(enqueued.err().is_some_and(|e| e.is_not_found()));
    assert!(
        store
            .set_trigger_cursor("Ghost", Some(1))
            .await
            .err()
            .is_some_and(|e| e.is_not_found())
    );
    assert!(
        store
            .record_poll_failure("Ghost", "boom".to_owned())
            .await
            .err()
            .is_some_and(|e| e.is_not_found())
    );
    assert!(
        store
            .set_trigger_paused("Ghost", Some("why".to_owned()))
            .await
            .err()
            .is_some_and(|e| e.is_not_found())
    );
    assert!(
        store
            .save_webhook_registration("Ghost", Some(registration(1)))
            .await
            .err()
            .is_some_and(|e| e.is_not_found())
    );
    assert_eq!(store.trigger_state("Ghost").await?, None);
    assert!(store.list_trigger_states().await?.is_empty());
    assert!(store.list_runs(RunQuery::default()).await?.is_empty());
    Ok(())
}

/// Deleting a flow removes its trigger state (a re-created flow starts from scratch) but keeps
/// its runs, whose dedupe keys still drop a replay into the re-created flow.
pub async fn deleting_a_flow_removes_its_trigger_state_but_keeps_its_runs(
    store: DynStore,
) -> StoreResult<()> {
    flow(&store, "Doomed", "one").await?;
    flow(&store, "Survivor", "one").await?;
    let outcome = store
        .enqueue_events("Doomed", events(&["e1", "e2"]), Some(500))
        .await?;
    store
        .save_webhook_registration("Doomed", Some(registration(3)))
        .await?;
    store.set_trigger_cursor("Survivor", Some(1)).await?;

    store.delete_flow("doomed").await?;
    assert_eq!(store.trigger_state("Doomed").await?, None);
    for id in &outcome.enqueued {
        assert!(
            store.get_run(*id).await?.is_some(),
            "runs outlive their flow"
        );
    }
    let survivors: Vec<String> = store
        .list_trigger_states()
        .await?
        .into_iter()
        .map(|s| s.flow_name)
        .collect();
    assert_eq!(survivors, vec!["Survivor".to_owned()]);

    flow(&store, "Doomed", "two").await?;
    assert_eq!(store.trigger_state("Doomed").await?, None);
    let again = store
        .enqueue_events("Doomed", events(&["e1", "e3"]), None)
        .await?;
    assert_eq!(again.enqueued.len(), 1);
    assert_eq!(again.duplicates, 1);
    let Some(fresh) = store.trigger_state("Doomed").await? else {
        panic!("enqueueing creates the trigger state")
    };
    assert_eq!(fresh.cursor_ms, None);
    assert_eq!(fresh.webhook, None);
    assert_eq!(fresh.events_enqueued, 1);
    Ok(())
}

/// A thousand new events go in one call, all enqueued and counted; returns how long the call
/// took so a backend's tests can report it.
pub async fn a_thousand_events_enqueue_in_one_call(store: DynStore) -> StoreResult<Duration> {
    const EVENTS: usize = 1_000;
    flow(&store, "Bulk", "one").await?;
    let batch: Vec<TriggerEvent> = (0..EVENTS)
        .map(|i| TriggerEvent {
            dedupe_key: format!("issue:{i}:1700000000000"),
            payload: json!({"issue": {"id": i.to_string(), "key": format!("OPS-{i}"),
                "fields": {"summary": format!("Issue number {i}"), "labels": ["bulk"]}}}),
        })
        .collect();
    let started = Instant::now();
    let outcome = store
        .enqueue_events("Bulk", batch.clone(), Some(1_700_000_000_000))
        .await?;
    let took = started.elapsed();
    assert_eq!(outcome.enqueued.len(), EVENTS);
    assert_eq!(outcome.duplicates, 0);
    let replayed = store.enqueue_events("Bulk", batch, None).await?;
    assert_eq!(usize::try_from(replayed.duplicates).ok(), Some(EVENTS));
    assert_eq!(runs_of(&store, "Bulk").await?, EVENTS);
    let Some(state) = store.trigger_state("Bulk").await? else {
        panic!("state written")
    };
    assert_eq!(state.events_enqueued, 1_000);
    assert_eq!(state.duplicates_dropped, 1_000);
    // Generous for a loaded machine; one transaction with a reused statement takes far less.
    assert!(
        took < Duration::from_secs(5),
        "enqueueing {EVENTS} events took {took:?}"
    );
    Ok(took)
}
