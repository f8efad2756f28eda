//! What the engine adds to one `create_issue` call beyond the HTTP round trip, against a no-op
//! upstream that answers at once:
//!
//! - `a_raw_client`: `JiraClient::issues().create(..)` with the same fields the action sends
//!   (the Markdown description converted to ADF by the client, as the action has it done);
//! - `b_action`: `actions::run(Action::CreateIssue, ..)` with the rendered input (typed decode
//!   of the input, the request built from it, output serialisation);
//! - `c_executor_run`: a one-step flow run through the `Executor` with the SQLite store in a
//!   temporary directory (`enqueue` + `execute`: claim, flow load, rendering, step history, the
//!   write ledger around the create, finish);
//! - `d_enqueue_only`: the `enqueue` part of (c) alone;
//! - `render_input` and `load_flow`: rendering the step's input templates, and loading the flow
//!   from its YAML (which the executor does once per run).
//!
//! Criterion reports each. A closing summary then runs the four call paths interleaved, in
//! rounds of about equal wall time, so slow phases of a noisy machine hit all of them alike, and
//! prints (b)−(a) and (c)−(a) in µs per action, the ratios, and one JSON line.
//!
//! `cargo bench -p jiraflow-engine --bench executor`

#![allow(missing_docs)]

#[path = "support/noop.rs"]
mod noop;
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use criterion::Criterion;
use jiraflow_engine::actions::{self, ActionContext};
use jiraflow_engine::executor::Executor;
use jiraflow_engine::flow::{Action, AnyConnection, load_flow};
use jiraflow_engine::mapping::{Mapper, render_input};
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_store::RunOrigin;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// The target project of the benchmark flow (the no-op upstream accepts any).
const PROJECT: &str = "OPS";
/// Rounds of the interleaved summary.
const ROUNDS: usize = 20;

/// Everything the measured paths need, built once.
struct Fixture {
    runtime: Runtime,
    jira: JiraClient,
    executor: Executor,
    /// An executor over a second store, for (d): the runs it enqueues stay pending, and a
    /// backlog of pending runs must not slow down (c)'s claims.
    enqueuer: Executor,
    mapper: Mapper,
    /// The step input as written in the flow.
    template: Value,
    /// The same input rendered against the trigger.
    rendered: Value,
    upstream: noop::NoopUpstream,
    /// Keep the stores' directories until the end.
    _stores: [support::TempStore; 2],
    /// Numbers the executor runs so every trigger payload differs.
    next_run: std::cell::Cell<u64>,
}

fn fixture() -> Result<Fixture> {
    let upstream = noop::start()?;
    // One worker: the upstream has its own thread and SQLite its own, so the measured path
    // gets a core without contending with a second runtime worker.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let jira = JiraClient::builder(&upstream.base_url)
        .token_provider(StaticToken::shared("noop-token"))
        .build()?;
    let store = runtime.block_on(support::TempStore::open())?;
    runtime.block_on(store.apply_flow(PROJECT))?;
    let executor = store.executor(jira.clone(), 8);
    let backlog = runtime.block_on(support::TempStore::open())?;
    runtime.block_on(backlog.apply_flow(PROJECT))?;
    let enqueuer = backlog.executor(jira.clone(), 8);
    let mapper = Mapper::new();
    let template = support::step_input(PROJECT)?;
    let rendered = support::rendered_input(&mapper, &template, 0)?;
    Ok(Fixture {
        runtime,
        jira,
        executor,
        enqueuer,
        mapper,
        template,
        rendered,
        upstream,
        _stores: [store, backlog],
        next_run: std::cell::Cell::new(1),
    })
}

/// (b): the action layer with the rendered input.
async fn action_create(jira: &JiraClient, rendered: &Value) -> Result<()> {
    let ctx = ActionContext::new(jira, support::STEP_ID);
    let out = actions::run(Action::CreateIssue, ctx, rendered.clone()).await?;
    black_box(out);
    Ok(())
}

/// (c): a whole run of the one-step flow: enqueue, then execute to the end.
async fn executor_run(executor: &Executor, n: u64) -> Result<()> {
    let run = executor
        .enqueue(
            support::FLOW_NAME,
            support::trigger(n),
            RunOrigin::Manual,
            None,
        )
        .await?;
    let detail = executor.execute(run.id).await?;
    support::require_succeeded(&detail)?;
    Ok(())
}

/// (d): only the enqueue of (c): the flow lookup and the run's insert, into a store of its own
/// (the runs it leaves pending are never claimed).
async fn enqueue_only(executor: &Executor, n: u64) -> Result<()> {
    let run = executor
        .enqueue(
            support::FLOW_NAME,
            support::trigger(n),
            RunOrigin::Manual,
            None,
        )
        .await?;
    black_box(run);
    Ok(())
}

impl Fixture {
    fn run_number(&self) -> u64 {
        let n = self.next_run.get();
        self.next_run.set(n + 1);
        n
    }

    /// Runs `iters` calls of `path` and returns the time they took.
    fn time(&self, path: Path, iters: u64) -> Result<Duration> {
        let first = self.run_number();
        self.next_run.set(first + iters);
        self.runtime.block_on(async {
            let started = Instant::now();
            for i in 0..iters {
                match path {
                    Path::Raw => support::raw_create(&self.jira, &self.rendered).await?,
                    Path::Action => action_create(&self.jira, &self.rendered).await?,
                    Path::Executor => executor_run(&self.executor, first + i).await?,
                    Path::Enqueue => enqueue_only(&self.enqueuer, first + i).await?,
                }
            }
            Ok(started.elapsed())
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Raw,
    Action,
    Executor,
    Enqueue,
}

impl Path {
    const ALL: [Path; 4] = [Path::Raw, Path::Action, Path::Executor, Path::Enqueue];

    fn id(self) -> &'static str {
        match self {
            Path::Raw => "a_raw_client",
            Path::Action => "b_action",
            Path::Executor => "c_executor_run",
            Path::Enqueue => "d_enqueue_only",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Path::Raw => "(a) JiraClient create",
            Path::Action => "(b) actions::run(CreateIssue)",
            Path::Executor => "(c) Executor enqueue + execute",
            Path::Enqueue => "(d) Executor enqueue alone",
        }
    }

    /// Calls per round of the summary: about the same wall time for every path, so a slow
    /// phase of the machine weighs on each alike.
    fn calls_per_round(self) -> u64 {
        match self {
            Path::Raw | Path::Action => 400,
            Path::Executor => 25,
            Path::Enqueue => 80,
        }
    }
}

/// A benchmark that cannot run its path stops the binary with the reason: a figure measured
/// over failing calls would be meaningless.
fn fail(err: &anyhow::Error) -> ! {
    eprintln!("executor benchmark failed: {err:#}");
    std::process::exit(1)
}

fn criterion_benches(c: &mut Criterion, fx: &Fixture) {
    let mut group = c.benchmark_group("create_issue");
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(6));
    for path in Path::ALL {
        group.bench_function(path.id(), |b| {
            b.iter_custom(|iters| fx.time(path, iters).unwrap_or_else(|e| fail(&e)));
        });
    }
    group.finish();

    let context = support::context(support::trigger(7));
    c.bench_function("render_input", |b| {
        b.iter(|| {
            render_input(&fx.mapper, black_box(&fx.template), &context)
                .unwrap_or_else(|e| fail(&anyhow!("render: {e}")))
        });
    });
    // The executor loads the run's flow version from its YAML for every run.
    let source = support::flow_source(PROJECT);
    c.bench_function("load_flow", |b| {
        b.iter(|| {
            load_flow(
                (support::FLOW_NAME, black_box(source.as_str())),
                &AnyConnection,
            )
            .unwrap_or_else(|e| fail(&anyhow!("load_flow: {e}")))
        });
    });
}

/// Median µs per call of `f` over `calls` calls, in batches of 100.
fn micro_us<T>(calls: u32, mut f: impl FnMut() -> Result<T>) -> Result<f64> {
    let mut batches = Vec::new();
    for _ in 0..calls.div_ceil(100) {
        let started = Instant::now();
        for _ in 0..100 {
            black_box(f()?);
        }
        batches.push(started.elapsed().as_secs_f64() * 1e6 / 100.0);
    }
    Ok(median(&mut batches))
}

/// The interleaved side-by-side summary: median µs per call of each path over `ROUNDS` rounds.
/// Each round starts with the next path, so no path always follows the executor's run (whose
/// SQLite checkpoints and lease tasks may still be busy) or always runs first.
fn summary(fx: &Fixture) -> Result<Value> {
    let mut per_call: [Vec<f64>; 4] = Default::default();
    for round in 0..ROUNDS {
        for k in 0..Path::ALL.len() {
            let slot = (round + k) % Path::ALL.len();
            let path = Path::ALL[slot];
            let calls = path.calls_per_round();
            let took = fx.time(path, calls)?;
            per_call[slot].push(took.as_secs_f64() * 1e6 / calls as f64);
        }
    }
    let medians = per_call.map(|mut v| median(&mut v));
    let [raw, action, run, enqueue] = medians;

    let context = support::context(support::trigger(7));
    let render_us = micro_us(5_000, || {
        render_input(&fx.mapper, &fx.template, &context).map_err(|e| anyhow!("render: {e}"))
    })?;
    let source = support::flow_source(PROJECT);
    let load_us = micro_us(2_000, || {
        load_flow((support::FLOW_NAME, source.as_str()), &AnyConnection)
            .map_err(|e| anyhow!("load_flow: {e}"))
    })?;

    let routes = fx.upstream.tally.routes();
    if fx.upstream.tally.unexpected() > 0 {
        bail!("the upstream got requests it has no answer for: {routes:?}");
    }
    println!();
    println!(
        "create_issue against a no-op upstream, interleaved: {ROUNDS} rounds, medians of per-round means"
    );
    println!(
        "{:<34} {:>12} {:>14} {:>10}",
        "path", "µs/call", "minus (a) µs", "ratio"
    );
    for (path, us) in Path::ALL.into_iter().zip(medians) {
        println!(
            "{:<34} {us:>12.1} {:>14.1} {:>10.2}",
            path.label(),
            us - raw,
            us / raw
        );
    }
    println!("{:<34} {render_us:>12.1}", "render_input (templates alone)");
    println!("{:<34} {load_us:>12.1}", "load_flow (parse + checks)");
    println!("upstream requests by route: {routes:?}");
    Ok(json!({
        "rounds": ROUNDS,
        "callsPerRound": Path::ALL.map(|p| json!({p.id(): p.calls_per_round()})),
        "rawUs": raw,
        "actionUs": action,
        "executorRunUs": run,
        "enqueueUs": enqueue,
        "actionOverheadUs": action - raw,
        "executorOverheadUs": run - raw,
        "actionRatio": action / raw,
        "executorRatio": run / raw,
        "renderInputUs": render_us,
        "loadFlowUs": load_us,
        "upstreamRequests": fx.upstream.tally.total(),
        "cores": std::thread::available_parallelism().map(usize::from).unwrap_or(0),
    }))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let fx = fixture().unwrap_or_else(|e| fail(&e));
    // One call of each path first: a broken path fails here with its reason, not inside
    // criterion's warm-up.
    for path in Path::ALL {
        if let Err(err) = fx.time(path, 1) {
            fail(&err.context(format!("{} does not work", path.id())));
        }
    }
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion, &fx);
    criterion.final_summary();
    // `cargo test --benches` runs the binary without `--bench`: criterion then only checks that
    // each routine runs once, and the summary is skipped the same way.
    if std::env::args().any(|a| a == "--bench") {
        match summary(&fx) {
            Ok(report) => println!("{report}"),
            Err(err) => fail(&err),
        }
    }
}
