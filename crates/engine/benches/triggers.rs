//! Trigger throughput and latency against the in-process simulator and a SQLite store in a
//! temporary directory.
//!
//! - Seeding: N issues in project `TRIG` through `POST /_sim/issues/bulk`, their `updated`
//!   spread over the last ten minutes, and a flow with a `new_or_updated_issue` trigger
//!   (`project: TRIG`, poll mode) and one `create_comment` step.
//! - Phase A (raw): one client pages through the window the poll reads (same JQL, `*all`
//!   fields, same page size) with `JiraClient`'s search: issues per second.
//! - Phase B: `PollTrigger::poll_once` until all N events are in the inbox (the store's
//!   `enqueue_events`), then W workers `drain` the runs: events per second to the inbox and to
//!   run start, B/A, and the Jira requests the polls made per 100 events (the simulator's
//!   gateway counter). Every issue must end with exactly one comment, every run succeeded.
//! - Phase C: a webhook-mode flow on `DEMO` registered through `WebhookRegistrar`, deliveries
//!   received by `WebhookReceiver` on loopback, an executor `work` loop; M issues created one by
//!   one as Bob, each timed from the create's answer to its run's first step (p50 / p99).
//!
//! `cargo bench -p jiraflow-engine --bench triggers -- [--issues N] [--webhooks M]
//! [--workers W] [--max-per-poll K] [--json FILE]`

#![allow(missing_docs)]

mod support;

#[path = "support/hooks.rs"]
mod hooks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, TimeZone as _, Utc};
use futures_util::TryStreamExt as _;
use jiraflow_engine::executor::Executor;
use jiraflow_engine::flow::{AnyConnection, load_flow};
use jiraflow_engine::triggers::poll::time_field;
use jiraflow_engine::triggers::{PollTrigger, TriggerSettings};
use jiraflow_jira::jql::{Jql, window};
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_jql::{Direction, Query};
use jiraflow_sim::{RunningSim, SimConfig};
use jiraflow_store::{FlowStore as _, RunQuery, RunStatus, RunStore as _, SaveFlow, Store};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The bulk-seeded project the polling flow watches.
const PROJECT: &str = "TRIG";
/// The seeded project the webhook flow watches (Bob may create issues there).
const HOOK_PROJECT: &str = "DEMO";
/// The polling flow.
const POLL_FLOW: &str = "bench-poll";
/// The seeded issues' `updated` times spread over this stretch ending at seeding.
const SPREAD_MS: i64 = 600_000;
/// Issues per search page, for the raw walk and the poll alike.
const PAGE_SIZE: u32 = 100;

struct Options {
    issues: usize,
    webhooks: usize,
    workers: usize,
    max_per_poll: Option<usize>,
    json_path: Option<String>,
}

fn positive(name: &str, value: Option<String>) -> Result<usize> {
    let v = value.ok_or_else(|| anyhow!("{name} needs a value"))?;
    v.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| anyhow!("{name}: expected a positive integer, got {v:?}"))
}

fn options() -> Result<Options> {
    // Without `--bench` (`cargo test --benches`) a small run checks that everything works.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let mut options = Options {
        issues: if bench_mode { 10_000 } else { 300 },
        webhooks: if bench_mode { 200 } else { 10 },
        workers: 4,
        max_per_poll: None,
        json_path: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--issues" => options.issues = positive("--issues", args.next())?,
            "--webhooks" => options.webhooks = positive("--webhooks", args.next())?,
            "--workers" => options.workers = positive("--workers", args.next())?,
            "--max-per-poll" => {
                options.max_per_poll = Some(positive("--max-per-poll", args.next())?);
            }
            "--json" => {
                options.json_path =
                    Some(args.next().ok_or_else(|| anyhow!("--json needs a value"))?);
            }
            // `cargo bench` passes `--bench`; criterion-style filters mean nothing here.
            _ => {}
        }
    }
    Ok(options)
}

/// The polling flow: every new or updated TRIG issue gets one comment naming its event, so the
/// simulator's data shows afterwards that each event ran exactly once.
fn poll_flow_yaml(start_ms: i64) -> String {
    format!(
        "name: {POLL_FLOW}\ntrigger:\n  type: new_or_updated_issue\n  connection: {conn}\n  \
         options:\n    project: {PROJECT}\n    mode: poll\n    ignore_own_changes: false\n    \
         start: \"{start}\"\nsteps:\n  - id: note\n    action: create_comment\n    \
         connection: {conn}\n    input:\n      issue: \"{{{{ trigger.issue.key }}}}\"\n      \
         body: \"seen {{{{ trigger.issue.fields.updated }}}}\"\n",
        conn = support::CONNECTION,
        start = jiraflow_engine::triggers::window::rfc3339(start_ms),
    )
}

/// `POST {admin}/issues/bulk` over a plain HTTP/1.1 connection; returns the answer's body.
async fn bulk_seed(sim: &RunningSim, count: usize) -> Result<Value> {
    let url = format!("{}/issues/bulk", sim.info.sim_admin_url);
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("the admin URL {url:?} is not plain http"))?;
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a.to_owned(), format!("/{p}")))
        .ok_or_else(|| anyhow!("the admin URL {url:?} has no path"))?;
    let body = json!({
        "projectKey": PROJECT,
        "projectName": "Trigger bench",
        "count": count,
        "updatedWithinMs": SPREAD_MS,
    })
    .to_string();
    let mut stream = tokio::net::TcpStream::connect(&authority)
        .await
        .with_context(|| format!("connect to {authority}"))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let (head, payload) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("bulk seeding: no HTTP answer: {answer:?}"))?;
    if !head.starts_with("HTTP/1.1 201") {
        bail!("bulk seeding refused: {head} {payload}");
    }
    serde_json::from_str(payload).with_context(|| format!("bulk seeding answer {payload:?}"))
}

/// The window filter both phases use: `project = TRIG`, as the trigger builds it.
fn filter() -> Query {
    Query {
        clause: Some(Jql::field("project").eq(PROJECT)),
        order_by: Vec::new(),
    }
}

fn requests(sim: &RunningSim) -> u64 {
    sim.state
        .counters
        .api_requests
        .load(std::sync::atomic::Ordering::Relaxed)
}

fn sim_now(sim: &RunningSim) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(sim.state.clock.now_ms())
        .single()
        .unwrap_or_else(Utc::now)
}

/// Phase A: one client walks the window; returns (issues, elapsed, requests).
async fn raw_walk(
    sim: &RunningSim,
    jira: &JiraClient,
    from_ms: i64,
    n: usize,
) -> Result<(usize, Duration, u64)> {
    let kind = jiraflow_engine::flow::TriggerKind::NewOrUpdatedIssue;
    let jql = window(
        filter(),
        time_field(kind),
        from_ms,
        Some(sim.state.clock.now_ms()),
        Direction::Asc,
    )
    .to_string();
    let before = requests(sim);
    let started = Instant::now();
    let issues: Vec<_> = jira
        .search()
        .jql(jql)
        .fields(["*all"])
        .max_results(PAGE_SIZE)
        .issues()
        .try_collect()
        .await
        .context("phase A: search")?;
    let elapsed = started.elapsed();
    if issues.len() != n {
        bail!(
            "phase A: the window holds {} issues, expected {n}",
            issues.len()
        );
    }
    Ok((issues.len(), elapsed, requests(sim) - before))
}

/// What phase B measured.
struct PollPhase {
    polls: usize,
    enqueued: usize,
    duplicates: usize,
    to_inbox: Duration,
    to_last_start: Duration,
    to_all_done: Duration,
    poll_requests: u64,
}

async fn poll_phase(
    sim: &RunningSim,
    jira: &JiraClient,
    store: &support::TempStore,
    executor: &Arc<Executor>,
    trigger: &PollTrigger,
    n: usize,
    workers: usize,
) -> Result<PollPhase> {
    let dyn_store: &dyn Store = store.store.as_ref();
    let before = requests(sim);
    let wall_start = Utc::now();
    let started = Instant::now();
    let (mut polls, mut enqueued, mut duplicates, mut idle) = (0, 0, 0, 0);
    while enqueued < n {
        let report = trigger
            .poll_once(jira, dyn_store, sim_now(sim))
            .await
            .with_context(|| format!("phase B: poll {}", polls + 1))?;
        polls += 1;
        enqueued += report.enqueued;
        duplicates += report.duplicates;
        idle = if report.enqueued == 0 { idle + 1 } else { 0 };
        if idle >= 5 {
            bail!(
                "phase B: {enqueued} of {n} events enqueued, then 5 polls found nothing new: {report:?}"
            );
        }
    }
    let to_inbox = started.elapsed();
    let poll_requests = requests(sim) - before;
    if enqueued != n {
        bail!("phase B: the polls enqueued {enqueued} runs for {n} changed issues");
    }

    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let executor = Arc::clone(executor);
        tasks.push(tokio::spawn(
            async move { executor.drain(usize::MAX).await },
        ));
    }
    let mut ran = 0;
    for task in tasks {
        ran += task.await.context("a drain worker panicked")??;
    }
    let to_all_done = started.elapsed();
    if ran != n {
        bail!("phase B: the workers ran {ran} runs for {n} events");
    }
    for status in [RunStatus::Pending, RunStatus::Running, RunStatus::Failed] {
        let left = store
            .store
            .list_runs(RunQuery {
                flow_name: Some(POLL_FLOW.to_owned()),
                status: Some(status),
                limit: Some(5),
            })
            .await?;
        if !left.is_empty() {
            bail!(
                "phase B: runs left {status:?}: {:?}",
                left.iter().map(|r| (&r.id, &r.error)).collect::<Vec<_>>()
            );
        }
    }
    // Runs are claimed oldest first, so the newest ones hold the last start.
    let newest = store
        .store
        .list_runs(RunQuery {
            flow_name: Some(POLL_FLOW.to_owned()),
            status: None,
            limit: Some(1_000),
        })
        .await?;
    let last_start = newest
        .iter()
        .filter_map(|r| r.started_at)
        .max()
        .ok_or_else(|| anyhow!("phase B: no run has started"))?;
    let to_last_start = (last_start - wall_start).to_std().unwrap_or(to_all_done);
    Ok(PollPhase {
        polls,
        enqueued,
        duplicates,
        to_inbox,
        to_last_start,
        to_all_done,
        poll_requests,
    })
}

/// Every seeded issue must hold exactly one comment: one run per event, each run's step once.
fn check_one_comment_each(sim: &RunningSim, project_id: u64, n: usize) -> Result<()> {
    let world = sim.state.world.read();
    let counts: Vec<usize> = world
        .sites
        .values()
        .flat_map(|s| s.jira.issues.values())
        .filter(|i| i.project_id == project_id)
        .map(|i| i.comments.len())
        .collect();
    let wrong = counts.iter().filter(|c| **c != 1).count();
    if counts.len() != n || wrong != 0 {
        bail!(
            "phase B: {} issues in {PROJECT}, {wrong} of them without exactly one comment",
            counts.len()
        );
    }
    Ok(())
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

async fn bench(options: &Options) -> Result<Value> {
    let sim = jiraflow_sim::start(SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        media_listen: ([127, 0, 0, 1], 0).into(),
        ..SimConfig::default()
    })
    .await
    .context("start the simulator")?;
    let jira = Arc::new(
        JiraClient::builder(&sim.info.jira_base_url)
            .token_provider(StaticToken::shared(sim.info.admin_token.clone()))
            .build()?,
    );
    let n = options.issues;
    let seed_started = Instant::now();
    let seeded = bulk_seed(&sim, n).await?;
    let seed_secs = seed_started.elapsed().as_secs_f64();
    let project_id: u64 = seeded["projectId"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bulk seeding answered no projectId: {seeded}"))?;
    let start_ms = sim.state.clock.now_ms() - SPREAD_MS - 1_000;

    let store = support::TempStore::open().await?;
    let yaml = poll_flow_yaml(start_ms);
    store
        .store
        .save_flow(SaveFlow {
            name: POLL_FLOW.to_owned(),
            source: yaml.clone(),
            file_name: format!("{POLL_FLOW}.yaml"),
            enabled: true,
            applied_by: None,
            connections: Vec::new(),
        })
        .await
        .context("apply the polling flow")?;
    let spec = load_flow((POLL_FLOW, yaml.as_str()), &AnyConnection)
        .map_err(|e| anyhow!("the polling flow does not load: {e}"))?
        .spec
        .trigger;
    let max_per_poll = options.max_per_poll.unwrap_or(n);
    let trigger = PollTrigger::build(
        POLL_FLOW,
        &spec,
        TriggerSettings {
            overlap: Duration::from_secs(5),
            settle: Duration::ZERO,
            page_size: PAGE_SIZE,
            max_events_per_poll: max_per_poll,
        },
    )?;

    let (raw_issues, raw_elapsed, raw_requests) = raw_walk(&sim, &jira, start_ms, n).await?;
    let executor = Arc::new(store.executor((*jira).clone(), options.workers));
    let b = poll_phase(&sim, &jira, &store, &executor, &trigger, n, options.workers).await?;
    check_one_comment_each(&sim, project_id, n)?;

    let dyn_store: Arc<dyn Store> = store.store.clone();
    let hooks = hooks::run(
        &sim,
        dyn_store,
        Arc::clone(&jira),
        Arc::clone(&executor),
        HOOK_PROJECT,
        options.webhooks,
    )
    .await?;
    drop(executor);
    drop(store);
    sim.shutdown().await;

    let raw_rate = per_second(raw_issues, raw_elapsed);
    let inbox_rate = per_second(b.enqueued, b.to_inbox);
    let start_rate = per_second(b.enqueued, b.to_last_start);
    let done_rate = per_second(b.enqueued, b.to_all_done);
    let per_100 = b.poll_requests as f64 * 100.0 / b.enqueued as f64;
    let p = |v: &[u64], q: f64| support::percentile_ms(v, q);
    println!();
    println!(
        "triggers: {n} changed issues (seeded in {seed_secs:.2} s), {} drain workers, {} webhook probes, simulator in-process",
        options.workers, options.webhooks
    );
    println!(
        "{:<44} {:>9} {:>10} {:>8}",
        "phase", "seconds", "events/s", "vs A"
    );
    println!(
        "{:<44} {:>9.2} {:>10.0} {:>8}",
        "A: raw search walk (issues/s)",
        raw_elapsed.as_secs_f64(),
        raw_rate,
        "1.00"
    );
    for (name, elapsed, rate) in [
        ("B: poll -> inbox", b.to_inbox, inbox_rate),
        (
            "B: poll -> inbox -> last run start",
            b.to_last_start,
            start_rate,
        ),
        (
            "B: poll -> inbox -> all runs finished",
            b.to_all_done,
            done_rate,
        ),
    ] {
        println!(
            "{name:<44} {:>9.2} {rate:>10.0} {:>8.2}",
            elapsed.as_secs_f64(),
            rate / raw_rate
        );
    }
    println!(
        "B: {} polls (max {max_per_poll} events each), {} enqueued, {} duplicates; Jira requests: {} ({per_100:.2} per 100 events); A made {raw_requests}",
        b.polls, b.enqueued, b.duplicates, b.poll_requests
    );
    println!(
        "C: webhook create -> first step started over {} issues: p50 {:.1} ms, p99 {:.1} ms (run claimed: p50 {:.1} ms, p99 {:.1} ms); worker idle sleep {} ms",
        hooks.latencies_us.len(),
        p(&hooks.latencies_us, 0.50),
        p(&hooks.latencies_us, 0.99),
        p(&hooks.run_start_us, 0.50),
        p(&hooks.run_start_us, 0.99),
        hooks::WORK_IDLE.as_millis()
    );
    println!(
        "checks: {n} events -> {n} runs succeeded, one comment per issue; {} webhook issues -> {} runs",
        hooks.latencies_us.len(),
        hooks.enqueued
    );
    Ok(json!({
        "issues": n,
        "workers": options.workers,
        "maxEventsPerPoll": max_per_poll,
        "seedSeconds": seed_secs,
        "rawSearch": {"seconds": raw_elapsed.as_secs_f64(), "issuesPerSecond": raw_rate, "requests": raw_requests},
        "poll": {
            "polls": b.polls,
            "enqueued": b.enqueued,
            "duplicates": b.duplicates,
            "toInboxSeconds": b.to_inbox.as_secs_f64(),
            "toInboxEventsPerSecond": inbox_rate,
            "toLastRunStartSeconds": b.to_last_start.as_secs_f64(),
            "toRunStartEventsPerSecond": start_rate,
            "toAllFinishedSeconds": b.to_all_done.as_secs_f64(),
            "allFinishedEventsPerSecond": done_rate,
            "ratioInboxOverRaw": inbox_rate / raw_rate,
            "ratioRunStartOverRaw": start_rate / raw_rate,
            "jiraRequests": b.poll_requests,
            "jiraRequestsPer100Events": per_100,
        },
        "webhook": {
            "issues": hooks.latencies_us.len(),
            "queued": hooks.queued,
            "enqueued": hooks.enqueued,
            "failed": hooks.failed,
            "firstStepP50Ms": p(&hooks.latencies_us, 0.50),
            "firstStepP99Ms": p(&hooks.latencies_us, 0.99),
            "runClaimedP50Ms": p(&hooks.run_start_us, 0.50),
            "runClaimedP99Ms": p(&hooks.run_start_us, 0.99),
            "workerIdleMs": hooks::WORK_IDLE.as_millis(),
        },
        "cores": std::thread::available_parallelism().map(usize::from).unwrap_or(0),
    }))
}

fn main() {
    let result = options().and_then(|options| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("start the runtime")?;
        let report = runtime.block_on(bench(&options))?;
        println!("{report}");
        if let Some(path) = &options.json_path {
            std::fs::write(path, report.to_string()).with_context(|| format!("write {path}"))?;
        }
        Ok(())
    });
    if let Err(err) = result {
        eprintln!("triggers benchmark failed: {err:#}");
        std::process::exit(1);
    }
}
