//! Throughput of the simulator over loopback: simple GETs per second, JQL search pages per second
//! against a 100,000-issue project, and one client walking the whole result set.
//!
//! Run with `cargo bench -p jiraflow-sim --bench throughput` (release build). Options after `--`:
//! `--duration-secs N` (per phase, default 8), `--concurrency N` (in-flight requests, default 64),
//! `--issues N` (default 100000), `--json FILE` (also write the results there), `--serve-secs N`
//! (after the phases, keep serving for N seconds and print the URLs and token, for an external
//! load generator such as `wrk`), `--limits` (turn on every rate limiter with budgets too large
//! to trip, to measure what the limiters cost). The client shares the machine with the simulator, so the
//! figures are a lower bound of what the simulator alone sustains.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiraflow_sim::{SeedKind, SimConfig};
use serde_json::{Value, json};

struct Options {
    duration: Duration,
    concurrency: usize,
    issues: u64,
    json_path: Option<String>,
    serve_secs: u64,
    limits: bool,
}

fn options() -> Options {
    let mut options = Options {
        duration: Duration::from_secs(8),
        concurrency: 64,
        issues: 100_000,
        json_path: None,
        serve_secs: 0,
        limits: false,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--duration-secs" => {
                options.duration = Duration::from_secs(value.parse().unwrap_or(8));
                i += 1;
            }
            "--concurrency" => {
                options.concurrency = value.parse().unwrap_or(64).max(1);
                i += 1;
            }
            "--issues" => {
                options.issues = value.parse().unwrap_or(100_000).max(1);
                i += 1;
            }
            "--json" => {
                options.json_path = Some(value);
                i += 1;
            }
            "--serve-secs" => {
                options.serve_secs = value.parse().unwrap_or(0);
                i += 1;
            }
            "--limits" => options.limits = true,
            // `cargo bench` passes `--bench`; anything else unknown is ignored too.
            _ => {}
        }
        i += 1;
    }
    options
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    ok: u64,
    errors: u64,
    items: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

impl Phase {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let idx = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[idx]) / 1000.0
    }

    fn to_json(&self) -> Value {
        json!({
            "phase": self.name,
            "ok": self.ok,
            "errors": self.errors,
            "items": self.items,
            "seconds": self.elapsed.as_secs_f64(),
            "perSecond": self.per_second(),
            "itemsPerSecond": self.items as f64 / self.elapsed.as_secs_f64(),
            "p50Ms": self.percentile_ms(0.50),
            "p99Ms": self.percentile_ms(0.99),
            "firstError": self.first_error,
        })
    }
}

/// One request of a worker loop, given the previous page's cursor: returns (success, items,
/// next cursor, error text).
type Step = Arc<
    dyn Fn(
            reqwest::Client,
            Option<String>,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = (bool, u64, Option<String>, Option<String>)>
                    + Send,
            >,
        > + Send
        + Sync,
>;

async fn run_phase(
    name: &'static str,
    client: &reqwest::Client,
    options: &Options,
    step: Step,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let client = client.clone();
        let stop = stop.clone();
        let step = step.clone();
        workers.push(tokio::spawn(async move {
            let mut ok = 0u64;
            let mut errors = 0u64;
            let mut items = 0u64;
            let mut latencies = Vec::new();
            let mut cursor: Option<String> = None;
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let (success, n, next, error) = step(client.clone(), cursor.take()).await;
                latencies.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if success {
                    ok += 1;
                    items += n;
                    cursor = next;
                } else {
                    errors += 1;
                    if first_error.is_none() {
                        first_error = error;
                    }
                }
            }
            (ok, errors, items, latencies, first_error)
        }));
    }
    tokio::time::sleep(options.duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut phase = Phase {
        name,
        ok: 0,
        errors: 0,
        items: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        first_error: None,
    };
    for worker in workers {
        if let Ok((ok, errors, items, latencies, first_error)) = worker.await {
            phase.ok += ok;
            phase.errors += errors;
            phase.items += items;
            phase.latencies_us.extend(latencies);
            if phase.first_error.is_none() {
                phase.first_error = first_error;
            }
        }
    }
    phase.elapsed = started.elapsed();
    phase.latencies_us.sort_unstable();
    phase
}

fn get_step(url: String, token: String) -> Step {
    Arc::new(move |client: reqwest::Client, _cursor| {
        let url = url.clone();
        let token = token.clone();
        Box::pin(async move {
            match client.get(&url).bearer_auth(&token).send().await {
                Ok(response) => {
                    let status = response.status();
                    match response.bytes().await {
                        Ok(_) if status.is_success() => (true, 1, None, None),
                        Ok(body) => (
                            false,
                            0,
                            None,
                            Some(format!("{status}: {}", String::from_utf8_lossy(&body))),
                        ),
                        Err(err) => (false, 0, None, Some(err.to_string())),
                    }
                }
                Err(err) => (false, 0, None, Some(err.to_string())),
            }
        })
    })
}

fn search_step(url: String, token: String, jql: String) -> Step {
    Arc::new(move |client: reqwest::Client, cursor: Option<String>| {
        let url = url.clone();
        let token = token.clone();
        let mut body = json!({
            "jql": jql,
            "fields": ["summary", "status", "updated"],
            "maxResults": 100,
        });
        if let (Some(token), Some(obj)) = (cursor, body.as_object_mut()) {
            obj.insert("nextPageToken".to_owned(), json!(token));
        }
        Box::pin(async move {
            let response = match client
                .post(&url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
            {
                Ok(response) => response,
                Err(err) => return (false, 0, None, Some(err.to_string())),
            };
            let status = response.status();
            let bytes = match response.bytes().await {
                Ok(bytes) => bytes,
                Err(err) => return (false, 0, None, Some(err.to_string())),
            };
            if !status.is_success() {
                let text: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
                return (false, 0, None, Some(format!("{status}: {text}")));
            }
            let page: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let n = page["issues"].as_array().map_or(0, Vec::len) as u64;
            let next = page["nextPageToken"].as_str().map(str::to_owned);
            (true, n, next, None)
        })
    })
}

/// One client pages through the whole result set, as a connector's first sync does: shows whether
/// late pages cost more than early ones.
async fn full_walk(client: &reqwest::Client, url: String, token: &str, jql: &str) -> Phase {
    let step = search_step(url, token.to_owned(), jql.to_owned());
    let started = Instant::now();
    let mut phase = Phase {
        name: "full walk (1 client)",
        ok: 0,
        errors: 0,
        items: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        first_error: None,
    };
    let mut cursor = None;
    loop {
        let t0 = Instant::now();
        let (success, n, next, error) = step(client.clone(), cursor.take()).await;
        phase
            .latencies_us
            .push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        if !success {
            phase.errors += 1;
            phase.first_error = error;
            break;
        }
        phase.ok += 1;
        phase.items += n;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    phase.elapsed = started.elapsed();
    phase.latencies_us.sort_unstable();
    phase
}

fn print_table(phases: &[Phase], setup: &Value) {
    println!();
    println!("simulator throughput (loopback, client in the same process)");
    println!("setup: {setup}");
    println!(
        "{:<28} {:>10} {:>8} {:>12} {:>12} {:>9} {:>9}",
        "phase", "ok", "errors", "req/s", "items/s", "p50 ms", "p99 ms"
    );
    for phase in phases {
        println!(
            "{:<28} {:>10} {:>8} {:>12.0} {:>12.0} {:>9.2} {:>9.2}",
            phase.name,
            phase.ok,
            phase.errors,
            phase.per_second(),
            phase.items as f64 / phase.elapsed.as_secs_f64(),
            phase.percentile_ms(0.50),
            phase.percentile_ms(0.99),
        );
        if let Some(err) = &phase.first_error {
            println!("    first error: {err}");
        }
    }
}

fn main() {
    let options = options();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the runtime: {err}");
            std::process::exit(1);
        }
    };
    runtime.block_on(bench(options));
}

async fn bench(options: Options) {
    let sim = match jiraflow_sim::start(SimConfig {
        seed: SeedKind::Empty,
        ..SimConfig::default()
    })
    .await
    {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("cannot start the simulator: {err}");
            std::process::exit(1);
        }
    };
    let client = match reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            eprintln!("cannot build the client: {err}");
            std::process::exit(1);
        }
    };
    let info = sim.info.clone();
    let seeded = Instant::now();
    let bulk = client
        .post(format!("{}/issues/bulk", info.sim_admin_url))
        .json(&json!({
            "projectKey": "BENCH",
            "count": options.issues,
            "updatedWithinMs": 30 * 60 * 1000,
            "statusIds": ["10000", "3", "10001", "10002"],
        }))
        .send()
        .await;
    let seed_secs = seeded.elapsed().as_secs_f64();
    match bulk {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => {
            eprintln!(
                "bulk seeding failed: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
            std::process::exit(1);
        }
        Err(err) => {
            eprintln!("bulk seeding failed: {err}");
            std::process::exit(1);
        }
    }
    if options.limits {
        let limits = client
            .put(format!("{}/settings", info.sim_admin_url))
            .json(&json!({
                "burst_per_second": 1_000_000,
                "issue_writes_per_2s": 1_000_000,
                "issue_writes_per_30s": 1_000_000,
                "hourly_quota_points": u32::MAX,
            }))
            .send()
            .await;
        if !limits.is_ok_and(|r| r.status().is_success()) {
            eprintln!("cannot turn the limiters on");
            std::process::exit(1);
        }
    }
    let api = |path: &str| format!("{}/rest/api/3{path}", info.jira_base_url);
    let token = info.admin_token.clone();
    let jql = "project = BENCH AND updated >= -60m ORDER BY updated ASC".to_owned();

    let mut phases = Vec::new();
    phases.push(
        run_phase(
            "GET /myself",
            &client,
            &options,
            get_step(api("/myself"), token.clone()),
        )
        .await,
    );
    phases.push(
        run_phase(
            "GET /issue/{key}",
            &client,
            &options,
            get_step(
                api(&format!(
                    "/issue/BENCH-{}?fields=summary,status,updated",
                    options.issues / 2
                )),
                token.clone(),
            ),
        )
        .await,
    );
    phases.push(
        run_phase(
            "POST /search/jql (100/page)",
            &client,
            &options,
            search_step(api("/search/jql"), token.clone(), jql.clone()),
        )
        .await,
    );
    phases.push(full_walk(&client, api("/search/jql"), &token, &jql).await);
    let setup = json!({
        "issues": options.issues,
        "bulkSeedSeconds": seed_secs,
        "concurrency": options.concurrency,
        "phaseSeconds": options.duration.as_secs(),
        "limiters": options.limits,
        "cores": std::thread::available_parallelism().map(usize::from).unwrap_or(0),
        "jql": jql,
    });
    print_table(&phases, &setup);
    let report = json!({
        "setup": setup,
        "phases": phases.iter().map(Phase::to_json).collect::<Vec<_>>(),
    });
    println!("{report}");
    if let Some(path) = &options.json_path
        && let Err(err) = std::fs::write(path, report.to_string())
    {
        eprintln!("cannot write {path}: {err}");
    }
    if options.serve_secs > 0 {
        println!(
            "serving for {} s: jira_base_url={} admin_token={}",
            options.serve_secs, info.jira_base_url, info.admin_token
        );
        tokio::time::sleep(Duration::from_secs(options.serve_secs)).await;
    }
    sim.shutdown().await;
}
