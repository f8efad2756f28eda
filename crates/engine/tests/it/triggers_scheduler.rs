//! The trigger scheduler against the in-process simulator and a SQLite store: shared polls,
//! pauses while a connection needs a reconnect, disabled flows, backoff after failures, draining
//! on shutdown and the per-connection budget.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use jiraflow_engine::connections::{FixedClients, StoreClients};
use jiraflow_engine::flow::{AnyConnection, load_flow};
use jiraflow_engine::triggers::scheduler::{
    RegistrarWebhooks, Scheduler, SchedulerHandle, SchedulerSettings,
};
use jiraflow_engine::triggers::webhook::register::WebhookRegistrar;
use jiraflow_engine::triggers::{PollTrigger, TriggerSettings};
use jiraflow_jira::{JiraClient, RetryPolicy, StaticToken};
use jiraflow_oauth::{OAuthClient, TokenManager, TokenManagerConfig};
use jiraflow_store::{
    AccessToken, ClientSecret, ConnectionSource, ConnectionStatus, Environment, NewConnection,
    NewOAuthApp, NewTokens, SaveFlow, Store, TriggerState,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::executor::Harness;

/// A `new_issue_with_filter` flow on `acme` starting an hour back (so every poll searches),
/// whose step only reads (it never needs to run here).
fn filtered(name: &str, jql: &str, interval: &str) -> String {
    let start = (Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "name: {name}\ntrigger:\n  type: new_issue_with_filter\n  connection: acme\n  options:\n    \
         jql: \"{jql}\"\n    poll_interval: {interval}\n    start: \"{start}\"\n    \
         ignore_own_changes: false\nsteps:\n  - id: look\n    action: get_comments\n    \
         connection: acme\n    input:\n      issue: \"{{{{ trigger.issue.key }}}}\"\n"
    )
}

/// JQL over the seeded DEMO project, distinct per `label` (labels match nothing here).
fn demo(label: &str) -> String {
    format!("project = DEMO AND labels = {label}")
}

async fn save(store: &dyn Store, yaml: &str, enabled: bool) -> Result<String> {
    let flow = load_flow(("test.yaml", yaml), &AnyConnection)
        .map_err(|e| anyhow::anyhow!("flow does not load: {e}"))?;
    let name = flow.spec.name.clone();
    store
        .save_flow(SaveFlow {
            name: name.clone(),
            source: yaml.to_owned(),
            file_name: "test.yaml".to_owned(),
            enabled,
            applied_by: None,
            connections: Vec::new(),
        })
        .await?;
    Ok(name)
}

/// Settings for tests: short intervals allowed, a generous budget unless a test sets one.
fn settings() -> SchedulerSettings {
    SchedulerSettings {
        reload: Duration::from_millis(200),
        min_interval: Duration::from_millis(50),
        polls_per_minute: 6_000,
        burst: 50,
        ..SchedulerSettings::default()
    }
}

/// A fresh admin client (no caches shared with earlier scenarios), without client retries so
/// the scheduler's own backoff is what tests observe.
fn admin_client(h: &Harness) -> Result<Arc<JiraClient>> {
    Ok(Arc::new(
        JiraClient::builder(&h.sim.info.jira_base_url)
            .token_provider(StaticToken::shared(&h.sim.info.admin_token))
            .retry_policy(RetryPolicy::none())
            .build()?,
    ))
}

struct Running {
    handle: SchedulerHandle,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl Running {
    fn start(scheduler: Scheduler) -> Self {
        let handle = scheduler.handle();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(scheduler.run(cancel.clone()));
        Self {
            handle,
            cancel,
            task,
        }
    }

    async fn stop(self) -> Result<()> {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .context("the scheduler did not drain within 10s")??;
        Ok(())
    }
}

fn start(h: &Harness, settings: SchedulerSettings) -> Result<Running> {
    let clients = FixedClients::new().with("acme", admin_client(h)?);
    Ok(Running::start(Scheduler::new(
        h.store(),
        Arc::new(clients),
        settings,
    )))
}

async fn state(store: &dyn Store, flow: &str) -> Result<Option<TriggerState>> {
    Ok(store.trigger_state(flow).await?)
}

/// Waits (up to `within`) until the flow's trigger state satisfies `ready`.
async fn wait_for(
    store: &dyn Store,
    flow: &str,
    within: Duration,
    what: &str,
    ready: impl Fn(&TriggerState) -> bool,
) -> Result<TriggerState> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(s) = state(store, flow).await?
            && ready(&s)
        {
            return Ok(s);
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "flow {flow}: {what} did not happen within {within:?}; state: {:#?}",
                state(store, flow).await?
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn api_requests(h: &Harness) -> u64 {
    h.sim.state.counters.api_requests.load(Ordering::Relaxed)
}

fn polled(s: &TriggerState) -> bool {
    s.last_success_at.is_some()
}

#[tokio::test]
async fn two_flows_with_the_same_connection_and_jql_share_one_poll() -> Result<()> {
    let h = Harness::new().await?;
    let store = h.store();
    // Each group polls once (the interval is an hour), so the request counts compare one poll
    // of a lone flow with one poll of a pair.
    let alone = save(&*store, &filtered("alone", &demo("aln"), "1h"), true).await?;
    let before = api_requests(&h);
    let run = start(&h, settings())?;
    wait_for(&*store, &alone, Duration::from_secs(10), "a poll", polled).await?;
    run.stop().await?;
    let one_flow = api_requests(&h) - before;
    assert!(one_flow >= 1, "a poll reads Jira");

    store.set_flow_enabled(&alone, false).await?;
    let first = save(&*store, &filtered("first", &demo("shr"), "1h"), true).await?;
    let second = save(&*store, &filtered("second", &demo("shr"), "1h"), true).await?;
    let before = api_requests(&h);
    let run = start(&h, settings())?;
    wait_for(&*store, &first, Duration::from_secs(10), "a poll", polled).await?;
    wait_for(&*store, &second, Duration::from_secs(10), "a poll", polled).await?;
    let plans = run.handle.plans();
    run.stop().await?;
    let two_flows = api_requests(&h) - before;
    assert_eq!(
        two_flows, one_flow,
        "two flows reading the same data cost what one does"
    );
    let plan = plans
        .iter()
        .find(|p| p.flow_name == first)
        .context("first is planned")?;
    assert_eq!(plan.shared_with, vec![second.clone()]);
    Ok(())
}

/// A store connection `acme` to the simulator's site with the admin's token, and clients over it.
async fn store_connection(h: &Harness) -> Result<(jiraflow_store::Connection, Arc<StoreClients>)> {
    let store = h.store();
    let app = store
        .create_oauth_app(NewOAuthApp {
            name: "sim".into(),
            client_id: h.sim.info.client_id.clone(),
            client_secret: ClientSecret::new(h.sim.info.client_secret.clone()),
            scopes: vec!["read:jira-work".into()],
            auth_base_url: h.sim.info.auth_url.clone(),
            api_base_url: h.sim.info.api_url.clone(),
            environment: Environment::Sandbox,
        })
        .await?;
    let connection = store
        .create_connection(NewConnection {
            name: "acme".into(),
            description: String::new(),
            source: ConnectionSource::OAuthApp {
                oauth_app_id: app.id,
                tokens: NewTokens {
                    access_token: AccessToken::new(h.sim.info.admin_token.clone()),
                    refresh_token: None,
                    expires_at: Utc::now() + chrono::Duration::hours(1),
                    scopes: vec!["read:jira-work".into()],
                },
            },
            cloud_id: h.sim.info.cloud_id.clone(),
            site_url: Some(h.sim.info.site_url.clone()),
            created_by: None,
        })
        .await?;
    let manager = Arc::new(TokenManager::new(
        store.clone(),
        OAuthClient::new()?,
        TokenManagerConfig::default(),
    ));
    Ok((connection, Arc::new(StoreClients::new(store, manager))))
}

#[tokio::test]
async fn a_flow_on_a_connection_needing_a_reconnect_is_paused_with_its_reason_and_resumes_after()
-> Result<()> {
    let h = Harness::new().await?;
    let store = h.store();
    let (connection, clients) = store_connection(&h).await?;
    let reason =
        "the refresh token was revoked; reconnect with `jiraflow connection reconnect acme`";
    store
        .mark_reconnect_required(connection.id, reason.to_owned())
        .await?;
    let flow = save(&*store, &filtered("watch", &demo("demo"), "100ms"), true).await?;
    let run = Running::start(Scheduler::new(store.clone(), clients, settings()));

    let paused = wait_for(&*store, &flow, Duration::from_secs(10), "a pause", |s| {
        s.paused_reason.is_some()
    })
    .await?;
    assert_eq!(paused.paused_reason.as_deref(), Some(reason));
    assert_eq!(paused.last_poll_at, None, "nothing was polled while paused");

    store
        .set_connection_status(connection.id, ConnectionStatus::Active, None)
        .await?;
    let resumed = wait_for(&*store, &flow, Duration::from_secs(10), "a resume", |s| {
        s.paused_reason.is_none() && polled(s)
    })
    .await?;
    assert_eq!(resumed.last_error, None);
    run.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_disabled_flow_is_not_polled_and_disabling_a_running_one_stops_its_polls() -> Result<()> {
    let h = Harness::new().await?;
    let store = h.store();
    let off = save(&*store, &filtered("off", &demo("off"), "100ms"), false).await?;
    let on = save(&*store, &filtered("on", &demo("onn"), "100ms"), true).await?;
    let run = start(&h, settings())?;
    wait_for(&*store, &on, Duration::from_secs(10), "a poll", polled).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        state(&*store, &off)
            .await?
            .is_none_or(|s| s.last_poll_at.is_none()),
        "the disabled flow was polled"
    );

    store.set_flow_enabled(&on, false).await?;
    run.handle.notify_flows_changed();
    // Let a poll already in flight finish, then nothing moves.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let settled = state(&*store, &on).await?.context("state")?.last_poll_at;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = state(&*store, &on).await?.context("state")?.last_poll_at;
    assert_eq!(settled, later, "a disabled flow kept polling");
    assert!(run.handle.plans().iter().all(|p| p.flow_name != on));
    run.stop().await?;
    Ok(())
}

#[tokio::test]
async fn failing_polls_back_off_and_a_success_resets_the_pace() -> Result<()> {
    let h = Harness::new().await?;
    let store = h.store();
    {
        let mut settings = h.sim.state.settings.write();
        settings.fault_5xx_rate = 1.0;
        settings.fault_path_prefix = Some("/rest/api/3/search".to_owned());
    }
    let flow = save(&*store, &filtered("flaky", &demo("flk"), "200ms"), true).await?;
    let started = tokio::time::Instant::now();
    let run = start(&h, settings())?;
    // Failures at about 0 s, 0.4 s and 1.2 s: the interval doubles after each (unpaced, the
    // third would come at 0.4 s).
    wait_for(
        &*store,
        &flow,
        Duration::from_secs(10),
        "three failures",
        |s| s.consecutive_failures >= 3,
    )
    .await?;
    assert!(
        started.elapsed() >= Duration::from_millis(1_200),
        "three failed polls within {:?}: no backoff",
        started.elapsed()
    );
    // Unpaced, 3 s of a 200 ms interval is 15 polls; with the backoff (400, 800, 1600 ms, then
    // the 2 s cap) at most 5 fit.
    tokio::time::sleep_until(started + Duration::from_secs(3)).await;
    let failing = state(&*store, &flow).await?.context("state")?;
    assert!(
        failing.consecutive_failures <= 5,
        "{} failures in 3s despite the backoff",
        failing.consecutive_failures
    );
    assert!(failing.last_error.is_some());
    let plan = run
        .handle
        .plans()
        .into_iter()
        .find(|p| p.flow_name == flow)
        .context("planned")?;
    assert!(plan.consecutive_backoffs >= 3, "{plan:?}");

    h.sim.state.settings.write().fault_5xx_rate = 0.0;
    // The next attempt (at most the 2 s cap away) succeeds and clears the failure count.
    let healed = wait_for(&*store, &flow, Duration::from_secs(5), "a success", |s| {
        s.consecutive_failures == 0 && s.last_error.is_none()
    })
    .await?;
    assert!(polled(&healed));
    run.stop().await?;
    Ok(())
}

#[tokio::test]
async fn cancelling_the_scheduler_waits_for_the_poll_in_flight_to_finish() -> Result<()> {
    let h = Harness::new().await?;
    let store = h.store();
    const DELAY_MS: u64 = 800;
    {
        let mut settings = h.sim.state.settings.write();
        settings.fault_delay_rate = 1.0;
        settings.fault_delay_ms = DELAY_MS;
        settings.fault_path_prefix = Some("/rest/api/3/search".to_owned());
    }
    let flow = save(&*store, &filtered("slow", &demo("slw"), "1h"), true).await?;
    let before = api_requests(&h);
    let run = start(&h, settings())?;
    // The first poll starts at once; cancel while its search is held by the simulator.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while api_requests(&h) == before {
        if tokio::time::Instant::now() > deadline {
            bail!("no poll started");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = tokio::time::Instant::now();
    run.stop().await?;
    let s = state(&*store, &flow).await?.context("state")?;
    assert!(polled(&s), "the poll in flight was cut short: {s:#?}");
    assert!(
        started.elapsed() >= Duration::from_millis(DELAY_MS / 2),
        "the scheduler returned before its poll finished"
    );
    Ok(())
}

#[tokio::test]
async fn many_flows_on_one_connection_stretch_their_intervals_to_its_budget() -> Result<()> {
    let h = Harness::new().await?;
    let store = h.store();
    // What one poll costs, measured on a trigger of the same shape.
    let probe = load_flow(
        ("probe.yaml", filtered("probe", &demo("prb"), "1h").as_str()),
        &AnyConnection,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    save(&*store, &filtered("probe", &demo("prb"), "1h"), false).await?;
    let trigger = PollTrigger::build("probe", &probe.spec.trigger, TriggerSettings::default())?;
    let jira = admin_client(&h)?;
    let before = api_requests(&h);
    trigger.poll_once(&jira, &*store, Utc::now()).await?;
    let per_poll = api_requests(&h) - before;

    let mut names = Vec::new();
    for n in 1..=6 {
        let yaml = filtered(&format!("busy{n}"), &demo(&format!("bz{n}")), "100ms");
        names.push(save(&*store, &yaml, true).await?);
    }
    let budget = SchedulerSettings {
        polls_per_minute: 120,
        burst: 2,
        ..settings()
    };
    let before = api_requests(&h);
    let started = tokio::time::Instant::now();
    let run = start(&h, budget)?;
    // Every flow gets its turn: the slots are handed out in order.
    for name in &names {
        wait_for(&*store, name, Duration::from_secs(10), "a poll", polled).await?;
    }
    tokio::time::sleep_until(started + Duration::from_secs(3)).await;
    run.stop().await?;
    let spent = api_requests(&h) - before;
    let seconds = started.elapsed().as_secs() + 1;
    // Unpaced, six flows at 100 ms would poll about 180 times in 3 s; the budget allows the
    // burst of 2 plus 2 a second (and one slot may be in flight at the cut).
    let allowed = per_poll * (2 + 2 * seconds + 1);
    assert!(
        spent <= allowed,
        "{spent} requests in {seconds}s; the budget allows {allowed}"
    );
    Ok(())
}

fn sim_webhooks(h: &Harness) -> usize {
    let world = h.sim.state.world.read();
    world.sites.values().map(|s| s.jira.webhooks.len()).sum()
}

#[tokio::test]
async fn a_hybrid_flow_gets_a_webhook_and_a_slow_safety_poll_and_loses_the_webhook_when_disabled()
-> Result<()> {
    let h = Harness::new().await?;
    let store = h.store();
    let (_, clients) = store_connection(&h).await?;
    let registrar = Arc::new(WebhookRegistrar::new(store.clone(), clients.clone()));
    let webhooks = RegistrarWebhooks::new(
        registrar,
        clients.clone(),
        "https://jiraflow.example.com/hooks/jira",
    );
    let yaml = filtered("both", &demo("demo"), "100ms").replace(
        "    ignore_own_changes: false\n",
        "    ignore_own_changes: false\n    mode: hybrid\n",
    );
    let flow = save(&*store, &yaml, true).await?;
    let hooks_before = sim_webhooks(&h);
    let run = Running::start(
        Scheduler::new(store.clone(), clients, settings()).with_webhooks(Arc::new(webhooks)),
    );

    let registered = wait_for(&*store, &flow, Duration::from_secs(10), "a webhook", |s| {
        s.webhook.is_some() && polled(s)
    })
    .await?;
    assert_eq!(sim_webhooks(&h), hooks_before + 1);
    let webhook = registered.webhook.context("webhook")?;
    assert_eq!(
        webhook.events,
        vec!["jira:issue_created".to_owned()],
        "{webhook:?}"
    );
    let plan = run
        .handle
        .plans()
        .into_iter()
        .find(|p| p.flow_name == flow)
        .context("planned")?;
    // Hybrid polls heal gaps only: at max(interval x 5, 5 min), not every 100 ms.
    assert_eq!(plan.poll_interval_ms, Some(300_000));
    let health = run.handle.health().await?;
    let mine = health.iter().find(|t| t.flow == flow).context("health")?;
    assert_eq!(mine.webhook_id, Some(webhook.webhook_id));

    store.set_flow_enabled(&flow, false).await?;
    run.handle.notify_flows_changed();
    wait_for(
        &*store,
        &flow,
        Duration::from_secs(10),
        "the webhook's removal",
        |s| s.webhook.is_none(),
    )
    .await?;
    assert_eq!(sim_webhooks(&h), hooks_before);
    run.stop().await?;
    Ok(())
}
