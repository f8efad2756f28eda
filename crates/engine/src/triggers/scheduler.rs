//! The trigger scheduler: runs the triggers of every enabled flow on one worker.
//!
//! It owns which triggers run and when: on every reload (a timer, or
//! [`SchedulerHandle::notify_flows_changed`]) it reads the enabled flows, builds a
//! [`PollTrigger`] for each flow in `poll` or `hybrid` mode, groups the triggers that read the
//! same Jira data (equal [`PollTrigger::share_key`]) and runs each group on its own timer in a
//! tracked task. The polls of one connection draw from one budget (a token bucket of polls per
//! minute, held back further while Jira reports a rate limit), so many flows on a connection
//! stretch their intervals instead of bursting. A connection that cannot be used (it needs a
//! reconnect) pauses its flows with the connection's own reason until it can. Webhook and hybrid
//! flows are handed to a [`WebhookControl`] (registration, refresh, removal) when one is set.

mod budget;
mod group;
mod status;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use jiraflow_store::{FlowRecord, Store, StoreError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connections::ClientSource;
use crate::flow::{Flow, TriggerMode};
use crate::triggers::health::{TriggerHealth, trigger_health};
use crate::triggers::{PollGroup, PollReport, PollTrigger, RecentWrites, TriggerSettings};
use budget::Budget;
use group::{Group, GroupContext};
use status::load;
pub use status::{Plan, TriggerStatus, trigger_status};
pub use webhooks::{RegistrarWebhooks, WebhookControl, WebhookFuture};

/// Tuning of the scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How often the enabled flows are read again (changes are also picked up at once on
    /// [`SchedulerHandle::notify_flows_changed`]).
    pub reload: Duration,
    /// Settings every trigger is built with.
    pub trigger: TriggerSettings,
    /// Polls a minute each connection may spend, over all its flows.
    pub polls_per_minute: u32,
    /// Polls of one connection that may run back to back before the rate applies.
    pub burst: u32,
    /// The shortest interval a `poll` flow is polled at, whatever its file says.
    pub min_interval: Duration,
    /// Hybrid flows poll as a safety net at their interval times this factor...
    pub hybrid_factor: u32,
    /// ...and never more often than this.
    pub hybrid_min_interval: Duration,
    /// After failures a group's interval doubles per failure up to this many times the interval.
    pub max_backoff_factor: u32,
    /// How often webhook registrations are checked for a refresh.
    pub webhook_refresh: Duration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            reload: Duration::from_secs(30),
            trigger: TriggerSettings::default(),
            polls_per_minute: 60,
            burst: 5,
            min_interval: Duration::from_secs(5),
            hybrid_factor: 5,
            hybrid_min_interval: Duration::from_secs(300),
            max_backoff_factor: 10,
            webhook_refresh: Duration::from_secs(3600),
        }
    }
}

impl SchedulerSettings {
    /// The interval a flow in `mode` whose file asks for `asked` is polled at; `None` for
    /// webhook-only flows.
    pub fn effective_interval(&self, mode: TriggerMode, asked: Duration) -> Option<Duration> {
        match mode {
            TriggerMode::Poll => Some(asked.max(self.min_interval)),
            TriggerMode::Hybrid => Some(
                (asked * self.hybrid_factor.max(1))
                    .max(self.hybrid_min_interval)
                    .max(self.min_interval),
            ),
            TriggerMode::Webhook => None,
        }
    }
}

/// State shared by the scheduler, its group tasks and its handles.
pub(crate) struct Shared {
    store: Arc<dyn Store>,
    settings: SchedulerSettings,
    plans: Mutex<BTreeMap<String, Plan>>,
    changed: Notify,
}

impl Shared {
    fn plans(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Plan>> {
        self.plans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn update_plan(&self, flow: &str, change: impl FnOnce(&mut Plan)) {
        if let Some(plan) = self.plans().get_mut(flow) {
            change(plan);
        }
    }

    pub(crate) fn note_poll(&self, flow: &str, report: &PollReport) {
        self.update_plan(flow, |plan| plan.last_report = Some(report.clone()));
    }
}

/// A cheap handle on a scheduler: tell it flows changed, read its health.
#[derive(Clone)]
pub struct SchedulerHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SchedulerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerHandle").finish_non_exhaustive()
    }
}

impl SchedulerHandle {
    /// Makes the scheduler read the flows again now (after an apply, enable, disable, delete).
    pub fn notify_flows_changed(&self) {
        // `notify_one` keeps a permit when the scheduler is busy, so no change is missed.
        self.shared.changed.notify_one();
    }

    /// The running plan of every scheduled flow.
    pub fn plans(&self) -> Vec<Plan> {
        self.shared.plans().values().cloned().collect()
    }

    /// The health of every flow's trigger, from the store.
    ///
    /// # Errors
    /// Store failures.
    pub async fn health(&self) -> Result<Vec<TriggerHealth>, StoreError> {
        trigger_health(&*self.shared.store, Utc::now()).await
    }

    /// The health of every flow's trigger with the running plan.
    ///
    /// # Errors
    /// Store failures.
    pub async fn status(&self) -> Result<Vec<TriggerStatus>, StoreError> {
        let mut all = trigger_status(&*self.shared.store, &self.shared.settings, None).await?;
        let plans = self.shared.plans();
        for status in &mut all {
            status.plan = plans.get(&status.health.flow).cloned();
        }
        Ok(all)
    }
}

/// Runs the triggers of every enabled flow until cancelled.
pub struct Scheduler {
    store: Arc<dyn Store>,
    clients: Arc<dyn ClientSource>,
    webhooks: Option<Arc<dyn WebhookControl>>,
    recent: Option<Arc<RecentWrites>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

/// The members of one poll group: each flow's record, effective interval and trigger.
type Members = Vec<(FlowRecord, Duration, PollTrigger)>;

/// A group task and what it was started from.
struct Running {
    fingerprint: String,
    cancel: CancellationToken,
}

/// What the reload loop remembers between reloads.
#[derive(Default)]
struct Live {
    /// Group tasks by share key.
    running: HashMap<String, Running>,
    /// Budgets by lowercased connection name, kept across reloads so a reload cannot refill one.
    budgets: HashMap<String, Arc<Budget>>,
    /// Webhook flows whose registration was ensured, with the version it was ensured for.
    hooked: HashMap<String, i64>,
    /// Flows that could not be scheduled, with the version already reported.
    broken: HashMap<String, i64>,
}

impl Scheduler {
    /// A scheduler over the flows in `store`, polling with clients from `clients`.
    pub fn new(
        store: Arc<dyn Store>,
        clients: Arc<dyn ClientSource>,
        settings: SchedulerSettings,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                store: store.clone(),
                settings,
                plans: Mutex::new(BTreeMap::new()),
                changed: Notify::new(),
            }),
            store,
            clients,
            webhooks: None,
            recent: None,
        }
    }

    /// Hands webhook and hybrid flows to `webhooks` for registration, refresh and removal.
    #[must_use]
    pub fn with_webhooks(mut self, webhooks: Arc<dyn WebhookControl>) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// Lets polls reconcile the issues the executor just wrote (search may not show them yet).
    #[must_use]
    pub fn with_recent_writes(mut self, recent: Arc<RecentWrites>) -> Self {
        self.recent = Some(recent);
        self
    }

    /// A handle that outlives [`Scheduler::run`]'s move of the scheduler.
    pub fn handle(&self) -> SchedulerHandle {
        SchedulerHandle {
            shared: self.shared.clone(),
        }
    }

    /// Makes the scheduler read the flows again now.
    pub fn notify_flows_changed(&self) {
        self.handle().notify_flows_changed();
    }

    /// The health of every flow's trigger, from the store.
    ///
    /// # Errors
    /// Store failures.
    pub async fn health(&self) -> Result<Vec<TriggerHealth>, StoreError> {
        self.handle().health().await
    }

    fn settings(&self) -> &SchedulerSettings {
        &self.shared.settings
    }

    /// Schedules until `cancel` fires, then stops every group and waits for them: a poll in
    /// flight finishes (its events and cursor are written together) before this returns.
    pub async fn run(self, cancel: CancellationToken) {
        let tracker = TaskTracker::new();
        let mut live = Live::default();
        let refresh_every = self.settings().webhook_refresh.max(Duration::from_secs(1));
        let mut refresh =
            tokio::time::interval_at(tokio::time::Instant::now() + refresh_every, refresh_every);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.reload(&cancel, &tracker, &mut live).await;
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(self.settings().reload) => {}
                () = self.shared.changed.notified() => {}
                _ = refresh.tick() => self.refresh_webhooks().await,
            }
        }
        for running in live.running.values() {
            running.cancel.cancel();
        }
        tracker.close();
        tracker.wait().await;
    }

    async fn refresh_webhooks(&self) {
        if let Some(webhooks) = &self.webhooks
            && let Err(error) = webhooks.refresh_due().await
        {
            tracing::warn!(%error, "refreshing webhooks failed; trying again at the next refresh");
        }
    }

    /// Reads the flows and brings the running groups and webhooks in line with them.
    async fn reload(&self, cancel: &CancellationToken, tracker: &TaskTracker, live: &mut Live) {
        let flows = match self.store.list_flows().await {
            Ok(flows) => flows,
            Err(error) => {
                tracing::warn!(%error, "could not read the flows; keeping the current schedule");
                return;
            }
        };
        let mut groups: BTreeMap<String, Members> = BTreeMap::new();
        let mut plans: BTreeMap<String, Plan> = BTreeMap::new();
        let mut webhook_flows: Vec<(FlowRecord, Flow)> = Vec::new();
        for record in flows.into_iter().filter(|f| f.enabled) {
            let flow = match load(&record) {
                Ok(flow) => flow,
                Err(problem) => {
                    self.report_broken(live, &record, problem).await;
                    continue;
                }
            };
            let spec = &flow.spec.trigger;
            let mode = spec.options.mode();
            let mut plan = Plan {
                flow_name: record.name.clone(),
                connection: spec.connection.clone(),
                mode,
                poll_interval_ms: None,
                shared_with: Vec::new(),
                next_poll_at: None,
                consecutive_backoffs: 0,
                last_report: None,
            };
            let asked = Duration::from_millis(spec.options.poll_interval_ms());
            if let Some(interval) = self.settings().effective_interval(mode, asked) {
                match PollTrigger::build(&record.name, spec, self.settings().trigger.clone()) {
                    Ok(trigger) => {
                        let trigger = match &self.recent {
                            Some(recent) => trigger.with_recent_writes(recent.clone()),
                            None => trigger,
                        };
                        plan.poll_interval_ms = u64::try_from(interval.as_millis()).ok();
                        let key = trigger.share_key();
                        groups
                            .entry(key)
                            .or_default()
                            .push((record.clone(), interval, trigger));
                    }
                    Err(error) => {
                        self.report_broken(live, &record, error.to_string()).await;
                        continue;
                    }
                }
            }
            if mode != TriggerMode::Poll {
                webhook_flows.push((record.clone(), flow));
            }
            plans.insert(record.name.clone(), plan);
        }
        self.publish_plans(&groups, plans);
        self.start_groups(cancel, tracker, live, groups);
        self.sync_webhooks(live, webhook_flows).await;
    }

    /// Records once per flow version why a flow cannot be scheduled, where health shows it.
    async fn report_broken(&self, live: &mut Live, record: &FlowRecord, problem: String) {
        if live.broken.get(&record.name) == Some(&record.version) {
            return;
        }
        tracing::warn!(flow = %record.name, %problem, "flow's trigger cannot be scheduled");
        if let Err(error) = self
            .store
            .record_poll_failure(&record.name, problem.clone())
            .await
        {
            tracing::warn!(flow = %record.name, %error, "could not record the trigger's problem");
        }
        live.broken.insert(record.name.clone(), record.version);
    }

    fn publish_plans(&self, groups: &BTreeMap<String, Members>, mut plans: BTreeMap<String, Plan>) {
        for members in groups.values() {
            let names: Vec<&str> = members.iter().map(|(r, _, _)| r.name.as_str()).collect();
            for name in &names {
                if let Some(plan) = plans.get_mut(*name) {
                    plan.shared_with = names
                        .iter()
                        .filter(|n| *n != name)
                        .map(|n| (*n).to_owned())
                        .collect();
                }
            }
        }
        let mut current = self.shared.plans();
        for (name, plan) in &mut plans {
            if let Some(old) = current.get(name) {
                plan.next_poll_at = old.next_poll_at;
                plan.consecutive_backoffs = old.consecutive_backoffs;
                plan.last_report.clone_from(&old.last_report);
            }
        }
        *current = plans;
    }

    /// Stops the groups that changed or went away and starts the new ones.
    fn start_groups(
        &self,
        cancel: &CancellationToken,
        tracker: &TaskTracker,
        live: &mut Live,
        groups: BTreeMap<String, Members>,
    ) {
        let mut wanted: HashMap<String, (String, Members)> = groups
            .into_iter()
            .map(|(key, members)| {
                let mut parts: Vec<String> = members
                    .iter()
                    .map(|(r, interval, _)| {
                        format!("{}@{}/{}", r.name, r.version, interval.as_millis())
                    })
                    .collect();
                parts.sort();
                (key, (parts.join(","), members))
            })
            .collect();
        live.running.retain(|key, running| {
            let keep = wanted
                .get(key)
                .is_some_and(|(fingerprint, _)| *fingerprint == running.fingerprint);
            if !keep {
                // The task finishes a poll in flight, then ends; a replacement may start now
                // because the store serialises the two polls' transactions.
                running.cancel.cancel();
            }
            keep
        });
        for (key, (fingerprint, members)) in wanted.drain() {
            if live.running.contains_key(&key) {
                continue;
            }
            let Some(connection) = members.first().map(|(_, _, t)| t.connection().to_owned())
            else {
                continue;
            };
            let interval = members
                .iter()
                .map(|(_, interval, _)| *interval)
                .min()
                .unwrap_or(self.settings().min_interval);
            let budget = live
                .budgets
                .entry(connection.to_lowercase())
                .or_insert_with(|| {
                    Arc::new(Budget::new(
                        self.settings().polls_per_minute,
                        self.settings().burst,
                    ))
                })
                .clone();
            let poll = match PollGroup::new(members.into_iter().map(|(_, _, t)| t).collect()) {
                Ok(poll) => poll,
                Err(error) => {
                    // Grouping is by share key, so this cannot happen; say so if it does.
                    tracing::error!(group = %key, %error, "poll group refused its members");
                    continue;
                }
            };
            let group = Group {
                key: key.clone(),
                connection,
                interval,
                max_backoff_factor: self.settings().max_backoff_factor,
                poll,
            };
            let ctx = GroupContext {
                store: self.store.clone(),
                clients: self.clients.clone(),
                budget,
                shared: self.shared.clone(),
            };
            let token = cancel.child_token();
            tracker.spawn(group.run(ctx, token.clone()));
            live.running.insert(
                key,
                Running {
                    fingerprint,
                    cancel: token,
                },
            );
        }
    }

    /// Ensures the webhooks of webhook and hybrid flows and removes those of flows that left.
    async fn sync_webhooks(&self, live: &mut Live, flows: Vec<(FlowRecord, Flow)>) {
        let Some(webhooks) = &self.webhooks else {
            return;
        };
        let mut wanted: HashMap<String, i64> = HashMap::new();
        for (record, flow) in &flows {
            wanted.insert(record.name.to_lowercase(), record.version);
            if live.hooked.get(&record.name.to_lowercase()) == Some(&record.version) {
                continue;
            }
            match webhooks.ensure(flow).await {
                Ok(()) => {
                    live.hooked
                        .insert(record.name.to_lowercase(), record.version);
                }
                Err(error) => tracing::warn!(
                    flow = %record.name, %error,
                    "registering the flow's webhook failed; trying again at the next reload"
                ),
            }
        }
        // Registrations left by flows that are gone, disabled or back to `poll`, including
        // those a previous process registered.
        let mut stale: Vec<String> = live
            .hooked
            .keys()
            .filter(|name| !wanted.contains_key(*name))
            .cloned()
            .collect();
        if let Ok(states) = self.store.list_trigger_states().await {
            stale.extend(
                states
                    .into_iter()
                    .filter(|s| s.webhook.is_some())
                    .map(|s| s.flow_name)
                    .filter(|name| !wanted.contains_key(&name.to_lowercase())),
            );
        }
        stale.sort();
        stale.dedup();
        for name in stale {
            match webhooks.remove(&name).await {
                Ok(()) => {
                    live.hooked.remove(&name.to_lowercase());
                }
                Err(error) => tracing::warn!(
                    flow = %name, %error,
                    "removing the flow's webhook failed; trying again at the next reload"
                ),
            }
        }
    }
}
