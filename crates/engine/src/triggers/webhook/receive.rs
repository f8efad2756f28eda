//! The receiving side of webhook and hybrid modes: [`WebhookReceiver::accept`] verifies a
//! delivery, drops replays by their identifier and queues it, so the HTTP layer answers at once;
//! the worker ([`WebhookReceiver::run`]) turns each queued delivery into runs.
//!
//! A delivery is matched to flows through its `matchedWebhookIds` and the registrations in the
//! store; the JWT must verify with the client secret of the OAuth app of the connection those
//! registrations were made through (and name that connection's site). The worker re-reads the
//! issue or comment through REST v3 with [`PollTrigger::issue_event`] / `comment_event`, so a
//! run's payload is the one a poll would build, never the v2-shaped delivery body; checks what
//! Jira's webhook filter could not with `POST /jql/match`; and enqueues the event under the dedupe
//! key a poll uses, so webhook and poll never start an event twice.
//!
//! The queue lives in memory. A delivery accepted but not yet processed when the process dies is
//! lost here (Jira will not redeliver an acknowledged delivery); hybrid mode's reconciliation
//! poll enqueues it from Jira's data. The durable inbox is the runs table.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use http::HeaderMap;
use jiraflow_jira::JiraClient;
use jiraflow_jira::ids::IssueId;
use jiraflow_store::{ConnectionId, OAuthAppId, Store, StoreError, WebhookRegistration};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::filter::split_trigger;
use super::verify::{DeliveryError, VerifiedDelivery, identifier, verify_delivery_at};
use crate::connections::{ClientSource, ConnectionError};
use crate::flow::{AnyConnection, TriggerKind, TriggerMode, TriggerSpec, load_flow};
use crate::triggers::{PollTrigger, TriggerError, TriggerSettings};

/// Receiver tuning.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Deliveries waiting for the worker; beyond it deliveries are answered 503 and Jira retries.
    pub queue_capacity: usize,
    /// The path (and query) Jira posts to, checked against the token's `qsh` when given.
    pub receiver_path: Option<String>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1_024,
            receiver_path: None,
        }
    }
}

/// What [`WebhookReceiver::accept`] did with a delivery (all answered 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Queued for these flows.
    Queued {
        /// The delivery identifier.
        identifier: String,
        /// The flows it will be processed for.
        flows: Vec<String>,
    },
    /// The identifier was seen before (a retry or a replay): nothing to do.
    Duplicate {
        /// The delivery identifier.
        identifier: String,
    },
    /// Verified, but no enabled webhook-mode flow wants it (or the event is not one triggers
    /// use).
    Ignored {
        /// The delivery identifier.
        identifier: String,
        /// Why.
        reason: String,
    },
}

/// What a delivery is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEvent {
    /// `jira:issue_created` / `jira:issue_updated`.
    Issue {
        /// The issue id.
        issue_id: String,
    },
    /// `comment_created`.
    Comment {
        /// The issue id.
        issue_id: String,
        /// The comment id.
        comment_id: String,
    },
}

impl DeliveryEvent {
    /// The event of a delivery body; `None` for events no trigger uses.
    pub fn from_body(body: &Value) -> Option<Self> {
        let issue_id = id_of(&body["issue"]["id"])?;
        match body["webhookEvent"].as_str()? {
            "jira:issue_created" | "jira:issue_updated" => Some(Self::Issue { issue_id }),
            "comment_created" => Some(Self::Comment {
                issue_id,
                comment_id: id_of(&body["comment"]["id"])?,
            }),
            _ => None,
        }
    }

    fn issue_id(&self) -> &str {
        match self {
            Self::Issue { issue_id } | Self::Comment { issue_id, .. } => issue_id,
        }
    }

    fn fits(&self, kind: TriggerKind) -> bool {
        matches!(
            (self, kind),
            (Self::Comment { .. }, TriggerKind::NewComment)
                | (Self::Issue { .. }, TriggerKind::NewIssue)
                | (Self::Issue { .. }, TriggerKind::NewIssueWithFilter)
                | (Self::Issue { .. }, TriggerKind::NewOrUpdatedIssue)
                | (Self::Issue { .. }, TriggerKind::NewOrUpdatedIssueWithFilter)
        )
    }
}

fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Counters of a receiver since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Deliveries queued.
    pub queued: u64,
    /// Deliveries dropped as replays.
    pub duplicates: u64,
    /// (delivery, flow) pairs processed.
    pub processed: u64,
    /// Runs enqueued.
    pub enqueued: u64,
    /// Events the flow's filters or residual JQL skipped, or a poll had already enqueued.
    pub skipped: u64,
    /// (delivery, flow) pairs that failed (left to the reconciliation poll).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    duplicates: AtomicU64,
    processed: AtomicU64,
    enqueued: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A flow a delivery is for.
#[derive(Debug, Clone)]
struct MatchedFlow {
    name: String,
    spec: TriggerSpec,
    /// JQL the issue must still match (see `WebhookFilter::residual_check`).
    check: Option<String>,
}

#[derive(Debug)]
struct Job {
    identifier: String,
    event: DeliveryEvent,
    flows: Vec<MatchedFlow>,
}

/// Why processing a delivery for one flow failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// No client for the flow's connection.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The event could not be built.
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    /// `jql/match` failed.
    #[error("jql/match for flow {flow:?}: {source}")]
    Jira {
        /// The flow.
        flow: String,
        /// The client's error.
        #[source]
        source: Box<jiraflow_jira::Error>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies, deduplicates and queues deliveries; its worker turns them into runs.
pub struct WebhookReceiver {
    store: Arc<dyn Store>,
    clients: Arc<dyn ClientSource>,
    settings: TriggerSettings,
    config: ReceiverConfig,
    tx: mpsc::Sender<Job>,
    rx: Mutex<mpsc::Receiver<Job>>,
    counters: Counters,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl WebhookReceiver {
    /// A receiver over `store`, reading Jira through `clients`.
    pub fn new(
        store: Arc<dyn Store>,
        clients: Arc<dyn ClientSource>,
        settings: TriggerSettings,
        config: ReceiverConfig,
    ) -> Self {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        Self {
            store,
            clients,
            settings,
            config,
            tx,
            rx: Mutex::new(rx),
            counters: Counters::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> ReceiverStats {
        let c = &self.counters;
        ReceiverStats {
            queued: c.queued.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            processed: c.processed.load(Ordering::Relaxed),
            enqueued: c.enqueued.load(Ordering::Relaxed),
            skipped: c.skipped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
    }

    /// Takes one delivery: verifies it, records its identifier and queues it. Does no Jira call,
    /// so Jira gets its answer well within its timeout.
    ///
    /// # Errors
    /// [`DeliveryError`]; map it with [`DeliveryError::http_status`].
    pub async fn accept(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Accepted, DeliveryError> {
        let id = identifier(headers)?;
        let unverified: Value = serde_json::from_slice(body)
            .map_err(|e| DeliveryError::Malformed(format!("the body is not JSON: {e}")))?;
        let webhook_ids = matched_ids(&unverified)?;
        let (verified, registrations) = self
            .verify_against_registrations(headers, body, now, &webhook_ids)
            .await?;
        let Some(event) = DeliveryEvent::from_body(&verified.body) else {
            return self
                .ignore(id, now, "the event is not one triggers use")
                .await;
        };
        let mut flows = Vec::new();
        for flow_name in registrations {
            if let Some(flow) = self.matched_flow(&flow_name).await?
                && event.fits(flow.spec.kind)
            {
                flows.push(flow);
            }
        }
        if flows.is_empty() {
            return self
                .ignore(id, now, "no enabled webhook-mode flow wants it")
                .await;
        }
        // Reserve the queue slot before recording the identifier: a delivery refused for a full
        // queue must not be dropped as a replay when Jira retries it.
        let permit = self.tx.try_reserve().map_err(|_| {
            DeliveryError::Unavailable("the webhook queue is full; retry later".to_owned())
        })?;
        if !self.record(&id, now).await? {
            bump(&self.counters.duplicates);
            return Ok(Accepted::Duplicate { identifier: id });
        }
        let names = flows.iter().map(|f| f.name.clone()).collect();
        permit.send(Job {
            identifier: id.clone(),
            event,
            flows,
        });
        bump(&self.counters.queued);
        Ok(Accepted::Queued {
            identifier: id,
            flows: names,
        })
    }

    async fn ignore(
        &self,
        id: String,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<Accepted, DeliveryError> {
        if !self.record(&id, now).await? {
            bump(&self.counters.duplicates);
            return Ok(Accepted::Duplicate { identifier: id });
        }
        Ok(Accepted::Ignored {
            identifier: id,
            reason: reason.to_owned(),
        })
    }

    async fn record(&self, id: &str, now: DateTime<Utc>) -> Result<bool, DeliveryError> {
        self.store
            .record_webhook_delivery(id, now)
            .await
            .map_err(|e| DeliveryError::Unavailable(e.to_string()))
    }

    /// Finds the registrations of `webhook_ids` and verifies the token with the client secret of
    /// their connections' apps; returns the delivery and the flows of the connections it verified
    /// for. Webhook ids are unique per site only, so a registration counts only when its
    /// connection's site is the token's issuer.
    async fn verify_against_registrations(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
        webhook_ids: &[i64],
    ) -> Result<(VerifiedDelivery, Vec<String>), DeliveryError> {
        let unavailable = |e: StoreError| DeliveryError::Unavailable(e.to_string());
        let states = self
            .store
            .list_trigger_states()
            .await
            .map_err(unavailable)?;
        let mut by_connection: BTreeMap<ConnectionId, Vec<String>> = BTreeMap::new();
        for state in states {
            if let Some(WebhookRegistration {
                webhook_id,
                connection_id,
                ..
            }) = &state.webhook
                && webhook_ids.contains(webhook_id)
            {
                by_connection
                    .entry(*connection_id)
                    .or_default()
                    .push(state.flow_name.clone());
            }
        }
        if by_connection.is_empty() {
            return Err(DeliveryError::Forged(format!(
                "no flow registered the webhook ids {webhook_ids:?}"
            )));
        }
        let mut verified: Option<VerifiedDelivery> = None;
        let mut flows = Vec::new();
        let mut first_error = None;
        let mut secrets: HashMap<OAuthAppId, Result<VerifiedDelivery, DeliveryError>> =
            HashMap::new();
        for (connection_id, names) in by_connection {
            let Some(connection) = self
                .store
                .get_connection(connection_id)
                .await
                .map_err(unavailable)?
            else {
                continue;
            };
            let outcome = match secrets.entry(connection.oauth_app_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => {
                    let secret = self
                        .store
                        .oauth_app_client_secret(connection.oauth_app_id)
                        .await
                        .map_err(unavailable)?;
                    slot.insert(verify_delivery_at(
                        headers,
                        body,
                        secret.expose(),
                        now,
                        self.config.receiver_path.as_deref(),
                    ))
                }
            };
            match outcome {
                Ok(delivery)
                    if delivery
                        .claims
                        .cloud_id()
                        .is_none_or(|c| c == connection.cloud_id) =>
                {
                    flows.extend(names);
                    verified.get_or_insert_with(|| delivery.clone());
                }
                Ok(_) => {}
                Err(e) => {
                    first_error.get_or_insert_with(|| e.clone());
                }
            }
        }
        match verified {
            Some(delivery) => Ok((delivery, flows)),
            None => Err(first_error.unwrap_or_else(|| {
                DeliveryError::Forged("the delivery's site has no matching registration".into())
            })),
        }
    }

    /// The flow `name` if it is enabled and in webhook or hybrid mode.
    async fn matched_flow(&self, name: &str) -> Result<Option<MatchedFlow>, DeliveryError> {
        let record = self
            .store
            .get_flow(name)
            .await
            .map_err(|e| DeliveryError::Unavailable(e.to_string()))?;
        let Some(record) = record.filter(|r| r.enabled) else {
            return Ok(None);
        };
        let Ok(flow) = load_flow(
            (record.file_name.as_str(), record.source.as_str()),
            &AnyConnection,
        ) else {
            tracing::warn!(flow = %name, "stored flow does not load; webhook delivery skipped");
            return Ok(None);
        };
        let spec = flow.spec.trigger;
        if spec.options.mode() == TriggerMode::Poll {
            return Ok(None);
        }
        let check = match split_trigger(&spec) {
            Ok(filter) => filter.residual_check(),
            Err(e) => {
                tracing::warn!(flow = %name, error = %e, "webhook delivery skipped");
                return Ok(None);
            }
        };
        Ok(Some(MatchedFlow {
            name: record.name,
            spec,
            check,
        }))
    }

    /// Spawns the worker on `tracker`; it stops when `cancel` fires.
    pub fn spawn(self: &Arc<Self>, tracker: &TaskTracker, cancel: CancellationToken) {
        let this = Arc::clone(self);
        tracker.spawn(async move { this.run(cancel).await });
    }

    /// Processes queued deliveries until `cancel` fires. One worker runs at a time (a second
    /// waits for the first to stop).
    pub async fn run(&self, cancel: CancellationToken) {
        let mut rx = tokio::select! {
            () = cancel.cancelled() => return,
            rx = self.rx.lock() => rx,
        };
        loop {
            let job = tokio::select! {
                () = cancel.cancelled() => return,
                job = rx.recv() => job,
            };
            let Some(job) = job else { return };
            self.process(job).await;
        }
    }

    async fn process(&self, job: Job) {
        for flow in &job.flows {
            match self.process_flow(flow, &job.event).await {
                Ok(true) => bump(&self.counters.enqueued),
                Ok(false) => bump(&self.counters.skipped),
                Err(error) => {
                    bump(&self.counters.failed);
                    tracing::warn!(
                        flow = %flow.name,
                        delivery = %job.identifier,
                        %error,
                        "webhook delivery not processed; the reconciliation poll will pick it up"
                    );
                }
            }
            // Counted last, so a reader seeing `processed` also sees the outcome's counter and
            // the run in the store.
            bump(&self.counters.processed);
        }
    }

    /// Whether a run was enqueued for `flow`.
    async fn process_flow(
        &self,
        flow: &MatchedFlow,
        event: &DeliveryEvent,
    ) -> Result<bool, ProcessError> {
        let jira = self.clients.client(&flow.spec.connection).await?;
        if let Some(check) = &flow.check
            && !residual_matches(&jira, &flow.name, event.issue_id(), check).await?
        {
            return Ok(false);
        }
        let trigger = PollTrigger::build(&flow.name, &flow.spec, self.settings.clone())?;
        let built = match event {
            DeliveryEvent::Issue { issue_id } => trigger.issue_event(&jira, issue_id).await?,
            DeliveryEvent::Comment {
                issue_id,
                comment_id,
            } => trigger.comment_event(&jira, issue_id, comment_id).await?,
        };
        let Some(built) = built else {
            return Ok(false);
        };
        let outcome = self
            .store
            .enqueue_events(&flow.name, vec![built], None)
            .await?;
        Ok(!outcome.enqueued.is_empty())
    }
}

fn matched_ids(body: &Value) -> Result<Vec<i64>, DeliveryError> {
    let ids: Vec<i64> = body["matchedWebhookIds"]
        .as_array()
        .ok_or_else(|| DeliveryError::Malformed("the body has no matchedWebhookIds".to_owned()))?
        .iter()
        .filter_map(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .collect();
    if ids.is_empty() {
        return Err(DeliveryError::Malformed(
            "matchedWebhookIds holds no webhook id".to_owned(),
        ));
    }
    Ok(ids)
}

/// Whether the issue matches `jql` now, by `POST /jql/match`.
async fn residual_matches(
    jira: &JiraClient,
    flow: &str,
    issue_id: &str,
    jql: &str,
) -> Result<bool, ProcessError> {
    let issue = IssueId::new(issue_id);
    let answer = jira
        .jql()
        .matches(std::slice::from_ref(&issue), &[jql.to_owned()])
        .await
        .map_err(|e| ProcessError::Jira {
            flow: flow.to_owned(),
            source: Box::new(e),
        })?;
    Ok(answer
        .matches
        .first()
        .is_some_and(|m| m.matched_issues.contains(&issue)))
}
