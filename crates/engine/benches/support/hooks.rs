//! Phase C of the trigger benchmark: webhook delivery to first step. It owns the in-process
//! receiver endpoint (hyper on loopback handing every POST to `WebhookReceiver::accept`), the
//! OAuth app and connection the registrar and the receiver need in the store, and the loop that
//! creates issues one by one as another user and times each one to its run's first step.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, TimeZone as _, Utc};
use http_body_util::BodyExt as _;
use jiraflow_engine::connections::FixedClients;
use jiraflow_engine::executor::Executor;
use jiraflow_engine::flow::{AnyConnection, load_flow};
use jiraflow_engine::triggers::TriggerSettings;
use jiraflow_engine::triggers::webhook::{
    Ensured, ReceiverConfig, WebhookReceiver, WebhookRegistrar,
};
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_sim::RunningSim;
use jiraflow_sim::state::SimState;
use jiraflow_store::{
    AccessToken, ClientSecret, ConnectionSource, Environment, NewConnection, NewOAuthApp,
    NewTokens, RunQuery, SaveFlow, Store,
};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The webhook-mode flow's name.
pub const FLOW: &str = "bench-webhook";
/// The seeded user who creates the issues (not the connection's account, so the flow's default
/// `ignore_own_changes` lets them through).
const BOB: &str = "5f1a00000000000000000b02";
/// How long the executor's worker sleeps when it finds nothing to claim.
pub const WORK_IDLE: Duration = Duration::from_millis(10);
/// How often the store is read while waiting for a step to start (the latency itself comes
/// from the step record's timestamp, not from this cadence).
const WATCH_EVERY: Duration = Duration::from_millis(2);
/// Longest wait for one issue's first step before the phase fails.
const PER_ISSUE_TIMEOUT: Duration = Duration::from_secs(15);

/// What phase C measured.
#[derive(Debug)]
pub struct HookPhase {
    /// Create response → first step started, per issue, microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// Create response → run claimed (`started_at` of the run), per issue, sorted.
    pub run_start_us: Vec<u64>,
    /// Deliveries the receiver queued / runs it enqueued / failures.
    pub queued: u64,
    /// Runs the receiver enqueued.
    pub enqueued: u64,
    /// Deliveries that failed to process.
    pub failed: u64,
}

fn flow_yaml(project: &str) -> String {
    let start = Utc::now() - chrono::Duration::minutes(1);
    format!(
        "name: {FLOW}\ntrigger:\n  type: new_issue\n  connection: {conn}\n  options:\n    \
         project: {project}\n    mode: webhook\n    start: \"{start}\"\n\
         steps:\n  - id: look\n    action: get_comments\n    connection: {conn}\n    input:\n      \
         issue: \"{{{{ trigger.issue.key }}}}\"\n",
        conn = crate::support::CONNECTION,
        start = start.to_rfc3339(),
    )
}

fn sim_now(state: &SimState) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(state.clock.now_ms())
        .single()
        .unwrap_or_else(Utc::now)
}

/// The receiver endpoint on a free loopback port; returns its URL.
async fn serve(receiver: Arc<WebhookReceiver>, sim: SimState) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("bind the webhook endpoint")?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (receiver, sim) = (receiver.clone(), sim.clone());
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (receiver, sim) = (receiver.clone(), sim.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let bytes = body
                            .collect()
                            .await
                            .map(http_body_util::Collected::to_bytes)
                            .unwrap_or_default();
                        let status =
                            match receiver.accept(&parts.headers, &bytes, sim_now(&sim)).await {
                                Ok(_) => 200,
                                Err(e) => {
                                    eprintln!("webhook delivery refused: {e}");
                                    e.http_status()
                                }
                            };
                        let mut response =
                            hyper::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
                        *response.status_mut() = hyper::StatusCode::from_u16(status)
                            .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
                        Ok::<_, Infallible>(response)
                    }
                });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                // A sender closing its connection ends this task; nothing to report.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}/hook"))
}

/// A client of the seeded user `account`, with every classic scope.
fn user_client(sim: &RunningSim, account: &str) -> Result<JiraClient> {
    let now_ms = sim.state.clock.now_ms();
    let token = jiraflow_sim::oauth::issue_static_token(
        &mut sim.state.world.write(),
        account,
        &sim.info.client_id,
        jiraflow_sim::seed::CLASSIC_SCOPES,
        now_ms + 3_600_000,
    );
    Ok(JiraClient::builder(&sim.info.jira_base_url)
        .token_provider(StaticToken::shared(&token))
        .build()?)
}

fn micros(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_microseconds().unwrap_or(0)).unwrap_or(0)
}

/// Registers the webhook-mode flow on `project` through the registrar, runs the receiver's
/// worker and an executor `work` loop, then creates `m` issues one after another as Bob and
/// times each from the create's answer to its run's first step. Fails unless every issue got
/// exactly one run.
///
/// # Errors
/// Setup failures, a step not starting within the timeout, or a wrong number of runs.
pub async fn run(
    sim: &RunningSim,
    store: Arc<dyn Store>,
    jira: Arc<JiraClient>,
    executor: Arc<Executor>,
    project: &str,
    m: usize,
) -> Result<HookPhase> {
    let app = store
        .create_oauth_app(NewOAuthApp {
            name: "sim".into(),
            client_id: sim.info.client_id.clone(),
            client_secret: ClientSecret::new(sim.info.client_secret.clone()),
            scopes: vec!["read:jira-work".into()],
            auth_base_url: sim.info.auth_url.clone(),
            api_base_url: sim.info.api_url.clone(),
            environment: Environment::Sandbox,
        })
        .await
        .context("store the simulator's OAuth app")?;
    store
        .create_connection(NewConnection {
            name: crate::support::CONNECTION.into(),
            description: String::new(),
            source: ConnectionSource::OAuthApp {
                oauth_app_id: app.id,
                tokens: NewTokens {
                    access_token: AccessToken::new(sim.info.admin_token.clone()),
                    refresh_token: None,
                    expires_at: Utc::now() + chrono::Duration::hours(1),
                    scopes: vec!["read:jira-work".into()],
                },
            },
            cloud_id: sim.info.cloud_id.clone(),
            site_url: Some(sim.info.site_url.clone()),
            created_by: None,
        })
        .await
        .context("store the connection")?;
    let yaml = flow_yaml(project);
    let spec = load_flow(("bench-webhook.yaml", yaml.as_str()), &AnyConnection)
        .map_err(|e| anyhow!("the webhook flow does not load: {e}"))?
        .spec
        .trigger;
    store
        .save_flow(SaveFlow {
            name: FLOW.to_owned(),
            source: yaml.clone(),
            file_name: "bench-webhook.yaml".to_owned(),
            enabled: true,
            applied_by: None,
            connections: Vec::new(),
        })
        .await
        .context("apply the webhook flow")?;

    let clients = Arc::new(FixedClients::new().with(crate::support::CONNECTION, Arc::clone(&jira)));
    let receiver = Arc::new(WebhookReceiver::new(
        Arc::clone(&store),
        clients.clone(),
        TriggerSettings::default(),
        ReceiverConfig {
            receiver_path: Some("/hook".to_owned()),
            ..ReceiverConfig::default()
        },
    ));
    let url = serve(Arc::clone(&receiver), sim.state.clone()).await?;
    let registrar = WebhookRegistrar::new(Arc::clone(&store), clients);
    let ensured = registrar
        .ensure(FLOW, &spec, &jira, &url, sim_now(&sim.state))
        .await
        .context("register the flow's webhook")?;
    if !matches!(ensured, Ensured::Registered { .. }) {
        bail!("the webhook flow's webhook was not registered: {ensured:?}");
    }

    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    receiver.spawn(&tracker, cancel.clone());
    {
        let (executor, cancel) = (Arc::clone(&executor), cancel.clone());
        tracker.spawn(async move { executor.work(cancel, WORK_IDLE).await });
    }

    let bob = user_client(sim, BOB)?;
    let measured = measure(&bob, store.as_ref(), project, m).await;
    cancel.cancel();
    tracker.close();
    tracker.wait().await;
    let (mut latencies_us, mut run_start_us) = measured?;

    let runs = store
        .list_runs(RunQuery {
            flow_name: Some(FLOW.to_owned()),
            status: None,
            limit: Some(1_000),
        })
        .await?;
    let mut keys: Vec<_> = runs.iter().filter_map(|r| r.dedupe_key.clone()).collect();
    keys.sort();
    keys.dedup();
    let stats = receiver.stats();
    if runs.len() != m || keys.len() != m || stats.enqueued != m as u64 || stats.failed != 0 {
        bail!(
            "phase C: {} runs ({} distinct events) for {m} created issues; receiver {stats:?}",
            runs.len(),
            keys.len()
        );
    }
    latencies_us.sort_unstable();
    run_start_us.sort_unstable();
    Ok(HookPhase {
        latencies_us,
        run_start_us,
        queued: stats.queued,
        enqueued: stats.enqueued,
        failed: stats.failed,
    })
}

/// Creates the issues one by one; for each, waits until its run's first step has started.
async fn measure(
    bob: &JiraClient,
    store: &dyn Store,
    project: &str,
    m: usize,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let mut step_us = Vec::with_capacity(m);
    let mut run_us = Vec::with_capacity(m);
    for i in 0..m {
        let created = bob
            .issues()
            .create(project, "Task", format!("webhook latency probe {i}"))
            .send()
            .await
            .with_context(|| format!("phase C: create issue {i}"))?;
        let answered = Utc::now();
        let key = format!("issue:{}:created", created.id.as_str());
        let deadline = Instant::now() + PER_ISSUE_TIMEOUT;
        let (run_started, step_started) = loop {
            if Instant::now() > deadline {
                bail!(
                    "phase C: no first step for {} ({key}) within {PER_ISSUE_TIMEOUT:?}",
                    created.key.as_str()
                );
            }
            tokio::time::sleep(WATCH_EVERY).await;
            let recent = store
                .list_runs(RunQuery {
                    flow_name: Some(FLOW.to_owned()),
                    status: None,
                    limit: Some(4),
                })
                .await?;
            let Some(run) = recent
                .into_iter()
                .find(|r| r.dedupe_key.as_deref() == Some(key.as_str()))
            else {
                continue;
            };
            let Some(detail) = store.get_run(run.id).await? else {
                continue;
            };
            if let (Some(run_at), Some(step_at)) = (
                detail.run.started_at,
                detail.steps.first().and_then(|s| s.started_at),
            ) {
                break (run_at, step_at);
            }
        };
        step_us.push(micros(answered, step_started));
        run_us.push(micros(answered, run_started));
    }
    Ok((step_us, run_us))
}
