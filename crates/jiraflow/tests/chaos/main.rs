//! The trigger chaos test: writers create, edit and comment on issues in a simulated Jira Cloud
//! that lags its search index per change, runs its clock five minutes off, answers 429s and
//! 5xx and drops connections, while the worker (`jiraflow up`) is SIGKILLed and restarted at
//! random points. Once the writes stop and the faults are switched off, the last worker drains,
//! and the tally compares what the world says should have fired with the runs in the store:
//! nothing missed, nothing duplicated, nothing left unfinished.
//!
//! Short form by default (CI, about a minute); the long form and the knobs are described in
//! `docs/triggers.md` ("Chaos test"). Every random choice derives from one printed seed
//! (`JIRAFLOW_CHAOS_SEED` replays it; thread timing still varies).

mod config;
mod env;
mod tally;
mod worker;
mod writers;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use config::{Config, Rng};
use env::{Env, PROJECT, WRITER_ACCOUNTS};
use tally::{FLOWS, FlowTally, HOT, IssueTruth, RunRow};
use worker::Worker;
use writers::{Writer, WriterLog};

/// One flow per trigger type under test, each with one cheap read step, polling every interval
/// from the instant the writers' project was created (on the simulated clock).
fn flow_yaml(kind: &str, start: &str, interval: &str) -> String {
    let scope = if kind.ends_with("_with_filter") {
        format!("jql: project = {PROJECT} AND labels = {HOT}")
    } else {
        format!("project: {PROJECT}")
    };
    format!(
        "name: {kind}
trigger:
  type: {kind}
  connection: acme
  options:
    {scope}
    poll_interval: {interval}
    start: \"{start}\"
steps:
  - id: look
    action: get_issues
    connection: acme
    input:
      jql: project = {PROJECT}
      fields: [updated]
      limit: 1
    retry: {{ max_attempts: 10, backoff: 200ms }}
"
    )
}

/// The triggers' default settle time: the newest stretch a poll leaves for the next.
const SETTLE_MS: i64 = 5_000;

fn counter(stats: &Value, name: &str) -> u64 {
    stats["counters"][name].as_u64().unwrap_or(0)
}

fn world_count(stats: &Value, name: &str) -> u64 {
    stats["world"][name].as_u64().unwrap_or(0)
}

/// `jiraflow trigger status --output json` (`null` if it fails: the worker may hold the lock).
fn trigger_status(env: &Env) -> Value {
    let output = env::command(
        &env.data.0,
        &["trigger", "status", "--output", "json", "--as", "ada"],
    )
    .output()
    .expect("run jiraflow trigger status");
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// Whether every trigger's cursor is within the settle time and one interval of Jira's now.
/// Measured from `cursor_ms` against the simulated clock, not from the status's `lag_ms`, which
/// counts from the worker's host clock and so is off by the clock skew under test.
fn caught_up(status: &Value, jira_now_ms: i64) -> bool {
    status.as_array().is_some_and(|flows| {
        flows.iter().all(|f| {
            let interval = f["poll_interval_ms"].as_i64().unwrap_or(60_000);
            f["cursor_ms"]
                .as_i64()
                .is_some_and(|cursor| jira_now_ms - cursor <= SETTLE_MS + interval)
        })
    })
}

/// With the writes over and the faults off: waits for search to apply every change, reads the
/// world, then lets the worker run (restarting a start that died on its own) until everything
/// expected has a run, no run is pending or running and every cursor has caught up, or the drain
/// timeout passes; then a few intervals more, so that a late duplicate shows.
fn drain(
    env: &Env,
    rt: &tokio::runtime::Runtime,
    config: &Config,
    worker: &mut Worker,
) -> (Vec<IssueTruth>, Vec<RunRow>, Vec<FlowTally>) {
    let started = Instant::now();
    let db = env.data.0.join("jiraflow.db");
    let world = rt.block_on(async {
        while env.stats().await["search"]["pendingChanges"].as_u64() != Some(0) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tally::read_world(env).await
    });
    eprintln!(
        "chaos: search caught up after {:.1}s; the world holds {} issues",
        started.elapsed().as_secs_f64(),
        world.len()
    );
    loop {
        worker.check_alive();
        if !worker.is_running() {
            // Keep draining with a fresh start; the exit is reported and fails the test.
            worker.start();
        }
        let runs = rt.block_on(tally::read_runs(&db));
        let lines = tally::tally(&world, &runs);
        let done = tally::complete(&lines)
            && tally::unfinished(&runs) == 0
            && caught_up(&trigger_status(env), rt.block_on(env.sim_now_ms()));
        if done || started.elapsed() > config.drain_timeout {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    std::thread::sleep(Duration::from_secs(6));
    let runs = rt.block_on(tally::read_runs(&db));
    let lines = tally::tally(&world, &runs);
    (world, runs, lines)
}

#[test]
fn events_written_under_faults_search_lag_clock_skew_and_worker_kills_each_start_one_run() {
    let started = Instant::now();
    let config = Config::from_env();
    eprintln!(
        "chaos: seed {} (replay with JIRAFLOW_CHAOS_SEED={}), {} writers x {} ops over {:?}, \
         {} kills, search lag 0-{} ms, clock offset {:+} s, 429 {:.0}%, 5xx {:.0}%, drops {:.0}% \
         + {:.0}% after commit",
        config.seed,
        config.seed,
        config.writers,
        config.ops,
        config.write_for,
        config.kills,
        config.search_lag_max_ms,
        config.clock_offset_secs,
        config.rate_429 * 100.0,
        config.rate_5xx * 100.0,
        config.rate_drop * 100.0,
        config.rate_drop_after_commit * 100.0,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let env = Env::start(&config);
    let mut rng = Rng::new(config.seed);

    // Setup, fault-free: the project, the writers' tokens, the four flows.
    rt.block_on(env.create_project());
    let start_ms = rt.block_on(env.sim_now_ms());
    let start = chrono::DateTime::from_timestamp_millis(start_ms - 1_000)
        .expect("start instant")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for kind in FLOWS {
        let path = env.data.0.join(format!("{kind}.yaml"));
        std::fs::write(&path, flow_yaml(kind, &start, config.poll_interval)).expect("flow file");
        env.ok(&["flow", "apply", &path.to_string_lossy(), "--as", "ada"]);
    }
    let tokens: Vec<String> = WRITER_ACCOUNTS
        .iter()
        .map(|account| rt.block_on(env.token_for(account)))
        .collect();
    let baseline = rt.block_on(env.stats());

    // Chaos on.
    rt.block_on(env.settings(json!({
        "random_429_rate": config.rate_429,
        "fault_5xx_rate": config.rate_5xx,
        "fault_drop_rate": config.rate_drop,
        "fault_drop_after_commit_rate": config.rate_drop_after_commit,
        "fault_seed": config.seed,
        "retry_after_secs": 1,
        "search_lag_jitter_ms": config.search_lag_max_ms,
    })));
    let mut worker = Worker::new(&env.data.0);
    worker.start();
    let pool = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..config.writers)
        .map(|index| {
            let writer = Writer {
                index,
                token: tokens[index % tokens.len()].clone(),
                jira_base_url: env.sim.field("jira_base_url"),
                http: env.http.clone(),
                pool: Arc::clone(&pool),
                rng: Rng::new(rng.next_u64()),
            };
            rt.spawn(writer.run(config.clone()))
        })
        .collect();

    // Kill points spread over the planned write time, each followed by a short outage.
    let mut kill_at: Vec<Duration> = (0..config.kills)
        .map(|_| rng.between(Duration::from_secs(2), config.write_for))
        .collect();
    kill_at.sort();
    let writes_started = Instant::now();
    for at in kill_at {
        if let Some(wait) = at.checked_sub(writes_started.elapsed()) {
            std::thread::sleep(wait);
        }
        worker.kill();
        std::thread::sleep(rng.between(Duration::ZERO, Duration::from_millis(1_500)));
        worker.start();
    }
    let logs: Vec<WriterLog> = rt.block_on(async {
        let mut logs = Vec::new();
        for handle in handles {
            logs.push(handle.await.expect("writer"));
        }
        logs
    });
    let write_secs = writes_started.elapsed().as_secs_f64();
    eprintln!(
        "chaos: writes done after {write_secs:.1}s, {} kills",
        worker.kills
    );

    // Chaos off; the last worker drains.
    rt.block_on(env.settings(json!({
        "random_429_rate": 0.0,
        "fault_5xx_rate": 0.0,
        "fault_drop_rate": 0.0,
        "fault_drop_after_commit_rate": 0.0,
        "search_lag_jitter_ms": 0,
    })));
    let drain_started = Instant::now();
    let (world, runs, lines) = drain(&env, &rt, &config, &mut worker);
    let drain_secs = drain_started.elapsed().as_secs_f64();
    let status = trigger_status(&env);
    worker.stop();
    let stats = rt.block_on(env.stats());

    // Report.
    let writer_faults: usize = logs.iter().map(|l| l.faults).sum();
    let ambiguous: usize = logs.iter().map(|l| l.ambiguous).sum();
    let faults = counter(&stats, "faultsInjected");
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!("\n{}", tally::table(&lines, worker.kills, faults, elapsed));
    eprintln!(
        "chaos: writes {:.1}s, drain {drain_secs:.1}s; {} issues, {} comments, {} edits acknowledged; \
         API requests {}, faults {faults} ({} rate limited), {writer_faults} of them hit writers \
         ({ambiguous} with an unknown outcome); runs failed {}, unfinished {}",
        write_secs,
        logs.iter().map(|l| l.created.len()).sum::<usize>(),
        logs.iter().map(|l| l.comments.len()).sum::<usize>(),
        logs.iter().map(|l| l.updates).sum::<usize>(),
        counter(&stats, "apiRequests"),
        counter(&stats, "rateLimited"),
        tally::failed(&runs),
        tally::unfinished(&runs),
    );
    for flow in status.as_array().into_iter().flatten() {
        eprintln!(
            "chaos: trigger {}: lag {} ms (by the host clock), enqueued {}, duplicates dropped {}, failures in a row {}, \
             last error {}",
            flow["flow"],
            flow["lag_ms"],
            flow["events_enqueued"],
            flow["duplicates_dropped"],
            flow["consecutive_failures"],
            flow["last_error"]
        );
    }
    for line in lines.iter().filter(|l| l.missed + l.duplicated > 0) {
        eprintln!(
            "chaos: {} missed e.g. {:?}, duplicated e.g. {:?}",
            line.flow, line.missed_sample, line.duplicated_sample
        );
    }

    // The world holds what the writers were told they wrote (and possibly more: repeats).
    let issues: BTreeSet<&str> = world.iter().map(|i| i.id.as_str()).collect();
    let comments: BTreeSet<&str> = world
        .iter()
        .flat_map(|i| i.comments.iter().map(String::as_str))
        .collect();
    for log in &logs {
        assert!(log.created.iter().all(|id| issues.contains(&id.as_str())));
        assert!(
            log.comments
                .iter()
                .all(|id| comments.contains(&id.as_str()))
        );
    }
    assert_eq!(
        issues.len() as u64,
        world_count(&stats, "issues") - world_count(&baseline, "issues"),
        "search found every issue the world holds"
    );
    assert_eq!(
        comments.len() as u64,
        world_count(&stats, "comments") - world_count(&baseline, "comments"),
        "every comment the world holds was read"
    );
    assert!(faults > 0, "the run saw no faults at all");
    assert!(
        worker.unexpected_exits.is_empty(),
        "the worker exited on its own: {:#?}",
        worker.unexpected_exits
    );
    assert_eq!(worker.kills, config.kills, "every planned kill landed");
    for line in &lines {
        assert_eq!(
            (line.missed, line.duplicated, line.unexpected),
            (0, 0, 0),
            "{}: missed {:?}, duplicated {:?}",
            line.flow,
            line.missed_sample,
            line.duplicated_sample
        );
    }
    assert_eq!(tally::unfinished(&runs), 0, "runs left pending or running");
}
