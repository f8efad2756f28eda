//! Create-issue runs against the in-process simulator, compared in the same process with the
//! simulator's raw capacity for the same request.
//!
//! - Phase A: N `POST /issue` straight through `JiraClient`, C in flight, each with the body the
//!   flow's step renders for its trigger (rendered before the clock starts).
//! - Phase B: N runs of the one-step `create_issue` flow through the `Executor` with the SQLite
//!   store in a temporary directory: enqueue all N, then C workers call `execute` on them.
//!
//! It prints creates per second of each phase, the B/A ratio, p50/p99 per request (A) and per
//! run (B), a table and one JSON line, then checks the simulator holds exactly 2N new issues
//! and every run succeeded.
//!
//! `cargo bench -p jiraflow-engine --bench runs -- --runs 1000 --concurrency 8 [--json FILE]`

#![allow(missing_docs)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use jiraflow_engine::executor::Executor;
use jiraflow_engine::mapping::Mapper;
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_sim::{RunningSim, SimConfig};
use jiraflow_store::{RunId, RunOrigin};
use serde_json::{Value, json};

/// The seeded project the admin may create Tasks in.
const PROJECT: &str = "DEMO";

struct Options {
    runs: usize,
    concurrency: usize,
    json_path: Option<String>,
}

fn options() -> Result<Options> {
    // Without `--bench` (`cargo test --benches`) a small run checks that everything works.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let mut options = Options {
        runs: if bench_mode { 1_000 } else { 20 },
        concurrency: if bench_mode { 8 } else { 4 },
        json_path: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => {
                let v = value("--runs")?;
                options.runs = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow!("--runs: expected a positive integer, got {v:?}"))?;
            }
            "--concurrency" => {
                let v = value("--concurrency")?;
                options.concurrency = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    anyhow!("--concurrency: expected a positive integer, got {v:?}")
                })?;
            }
            "--json" => options.json_path = Some(value("--json")?),
            // `cargo bench` passes `--bench`; criterion-style filters mean nothing here.
            _ => {}
        }
    }
    Ok(options)
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    ok: usize,
    elapsed: Duration,
    /// Per request (A) or per run (B), sorted.
    latencies_us: Vec<u64>,
}

impl Phase {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn to_json(&self) -> Value {
        json!({
            "phase": self.name,
            "ok": self.ok,
            "seconds": self.elapsed.as_secs_f64(),
            "createsPerSecond": self.per_second(),
            "p50Ms": support::percentile_ms(&self.latencies_us, 0.50),
            "p99Ms": support::percentile_ms(&self.latencies_us, 0.99),
        })
    }
}

/// Runs `job(i)` for i in 0..n with `concurrency` workers; returns the phase with per-job
/// latencies. The first failure stops the phase with its reason.
async fn run_phase<F, Fut>(
    name: &'static str,
    n: usize,
    concurrency: usize,
    job: F,
) -> Result<Phase>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let job = job.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let t0 = Instant::now();
                job(i).await.with_context(|| format!("{name}: job {i}"))?;
                latencies.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
        }));
    }
    let mut latencies_us = Vec::with_capacity(n);
    for worker in workers {
        latencies_us.extend(worker.await.context("worker panicked")??);
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Ok(Phase {
        name,
        ok: latencies_us.len(),
        elapsed,
        latencies_us,
    })
}

fn issue_count(sim: &RunningSim) -> usize {
    let world = sim.state.world.read();
    world.sites.values().map(|s| s.jira.issues.len()).sum()
}

async fn bench(options: &Options) -> Result<Value> {
    let sim = jiraflow_sim::start(SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        media_listen: ([127, 0, 0, 1], 0).into(),
        ..SimConfig::default()
    })
    .await
    .context("start the simulator")?;
    let jira = JiraClient::builder(&sim.info.jira_base_url)
        .token_provider(StaticToken::shared(sim.info.admin_token.clone()))
        .build()?;
    let n = options.runs;
    let c = options.concurrency;
    let before = issue_count(&sim);

    // Phase A: the same bodies the runs will send, rendered up front.
    let mapper = Mapper::new();
    let template = support::step_input(PROJECT)?;
    let bodies: Arc<Vec<Value>> = Arc::new(
        (0..n as u64)
            .map(|i| support::rendered_input(&mapper, &template, i))
            .collect::<Result<_>>()?,
    );
    let raw = {
        let jira = jira.clone();
        let bodies = bodies.clone();
        run_phase("A: JiraClient POST /issue", n, c, move |i| {
            let jira = jira.clone();
            let bodies = bodies.clone();
            async move { support::raw_create(&jira, &bodies[i]).await }
        })
        .await?
    };

    // Phase B: N runs through the executor.
    let store = support::TempStore::open().await?;
    store.apply_flow(PROJECT).await?;
    let executor: Arc<Executor> = Arc::new(store.executor(jira.clone(), c));
    let enqueue_started = Instant::now();
    let mut ids: Vec<RunId> = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let run = executor
            .enqueue(
                support::FLOW_NAME,
                support::trigger(i),
                RunOrigin::Manual,
                None,
            )
            .await?;
        ids.push(run.id);
    }
    let enqueue = enqueue_started.elapsed();
    let ids = Arc::new(ids);
    let runs = {
        let executor = executor.clone();
        let ids = ids.clone();
        run_phase("B: Executor runs (execute)", n, c, move |i| {
            let executor = executor.clone();
            let ids = ids.clone();
            async move {
                let detail = executor.execute(ids[i]).await?;
                support::require_succeeded(&detail)
            }
        })
        .await?
    };

    let created = issue_count(&sim) - before;
    let store_dir = store.dir().display().to_string();
    drop(executor);
    drop(store);
    sim.shutdown().await;
    if created != 2 * n {
        bail!(
            "the simulator holds {created} new issues, expected exactly {}",
            2 * n
        );
    }

    let ratio = runs.per_second() / raw.per_second();
    let b_with_enqueue = n as f64 / (enqueue + runs.elapsed).as_secs_f64();
    println!();
    println!(
        "create_issue: {n} raw creates vs {n} one-step flow runs, {c} in flight, simulator in-process"
    );
    println!(
        "{:<30} {:>8} {:>9} {:>11} {:>9} {:>9}",
        "phase", "ok", "seconds", "creates/s", "p50 ms", "p99 ms"
    );
    for phase in [&raw, &runs] {
        println!(
            "{:<30} {:>8} {:>9.2} {:>11.0} {:>9.2} {:>9.2}",
            phase.name,
            phase.ok,
            phase.elapsed.as_secs_f64(),
            phase.per_second(),
            support::percentile_ms(&phase.latencies_us, 0.50),
            support::percentile_ms(&phase.latencies_us, 0.99),
        );
    }
    println!(
        "enqueue of {n} runs (sequential): {:.2} s ({:.0}/s); B including enqueue: {b_with_enqueue:.0} creates/s",
        enqueue.as_secs_f64(),
        n as f64 / enqueue.as_secs_f64()
    );
    println!(
        "B/A: {ratio:.2}; simulator issues created: {created} (expected {})",
        2 * n
    );
    println!("store: SQLite in {store_dir} (removed)");
    Ok(json!({
        "runs": n,
        "concurrency": c,
        "phases": [raw.to_json(), runs.to_json()],
        "enqueueSeconds": enqueue.as_secs_f64(),
        "bWithEnqueueCreatesPerSecond": b_with_enqueue,
        "ratioBOverA": ratio,
        "issuesCreated": created,
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
        eprintln!("runs benchmark failed: {err:#}");
        std::process::exit(1);
    }
}
