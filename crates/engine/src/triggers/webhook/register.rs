//! Dynamic webhook registrations of webhook- and hybrid-mode flows: one webhook per flow,
//! registered through the flow's connection (an OAuth 2.0 app) with the part of its filter Jira
//! accepts, re-registered when lost or changed, refreshed before Jira's 30-day expiry, and
//! deleted when the flow stops using it. Jira silently ignores refreshes of unknown ids, so what
//! is still alive is always read back from `GET /webhook`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::TryStreamExt;
use jiraflow_jira::JiraClient;
use jiraflow_jira::ids::WebhookId;
use jiraflow_jira::ops::webhooks::WebhookDetails;
use jiraflow_jira::wire::webhook::Webhook;
use jiraflow_store::{ConnectionId, Store, StoreError, WebhookRegistration};

use super::filter::{FilterError, split_trigger};
use crate::connections::{ClientSource, ConnectionError};
use crate::flow::{AnyConnection, TriggerKind, TriggerMode, TriggerSpec, load_flow};

/// How long Jira keeps a webhook after registration or refresh.
pub const WEBHOOK_LIFETIME: Duration = Duration::days(30);

/// Registrations expiring within this are refreshed by [`WebhookRegistrar::refresh_due`].
pub const REFRESH_AHEAD: Duration = Duration::days(7);

/// Why a registration could not be made, refreshed or removed.
#[derive(Debug, thiserror::Error)]
pub enum RegistrarError {
    /// The trigger's filter cannot be registered.
    #[error("webhook of flow {flow:?}: {source}")]
    Filter {
        /// The flow.
        flow: String,
        /// Why.
        #[source]
        source: FilterError,
    },
    /// Jira refused the registration entry.
    #[error("webhook of flow {flow:?} refused by Jira: {}", messages.join("; "))]
    Rejected {
        /// The flow.
        flow: String,
        /// Jira's messages.
        messages: Vec<String>,
    },
    /// A Jira call failed.
    #[error("webhook of flow {flow:?}: {source}")]
    Jira {
        /// The flow (or connection) concerned.
        flow: String,
        /// The client's error.
        #[source]
        source: Box<jiraflow_jira::Error>,
    },
    /// The flow or its connection is unknown.
    #[error("webhook of flow {flow:?}: {message}")]
    Unknown {
        /// The flow.
        flow: String,
        /// What is missing.
        message: String,
    },
    /// No client for the connection.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`WebhookRegistrar::ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// The stored registration is alive and current.
    Unchanged {
        /// Its id.
        webhook_id: i64,
    },
    /// A webhook was registered.
    Registered {
        /// The new id.
        webhook_id: i64,
        /// The stale registration deleted, if any.
        replaced: Option<i64>,
        /// Why.
        reason: RegisterReason,
    },
}

/// Why a webhook was (re-)registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterReason {
    /// None was stored.
    New,
    /// Jira no longer lists the stored one (expired or deleted).
    Lost,
    /// The filter, events or connection changed.
    Changed,
}

/// What [`WebhookRegistrar::refresh_due`] did, by flow name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Registrations extended.
    pub refreshed: Vec<String>,
    /// Registrations Jira had lost, registered again.
    pub recreated: Vec<String>,
    /// Flows whose registration could not be refreshed or re-created, with the error.
    pub failed: Vec<(String, String)>,
}

/// The events a trigger type registers.
pub fn events_for(kind: TriggerKind) -> Vec<String> {
    let events: &[&str] = match kind {
        TriggerKind::NewComment => &["comment_created"],
        TriggerKind::NewIssue | TriggerKind::NewIssueWithFilter => &["jira:issue_created"],
        TriggerKind::NewOrUpdatedIssue | TriggerKind::NewOrUpdatedIssueWithFilter => {
            &["jira:issue_created", "jira:issue_updated"]
        }
    };
    events.iter().map(|e| (*e).to_owned()).collect()
}

/// Keeps the webhooks of flows registered in Jira.
pub struct WebhookRegistrar {
    store: Arc<dyn Store>,
    clients: Arc<dyn ClientSource>,
}

impl std::fmt::Debug for WebhookRegistrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRegistrar").finish_non_exhaustive()
    }
}

fn jira_error(flow: &str) -> impl FnOnce(jiraflow_jira::Error) -> RegistrarError + '_ {
    move |e| RegistrarError::Jira {
        flow: flow.to_owned(),
        source: Box::new(e),
    }
}

async fn alive(
    jira: &JiraClient,
    flow: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Webhook>, RegistrarError> {
    let listed: Vec<Webhook> = jira
        .webhooks()
        .list()
        .stream()
        .try_collect()
        .await
        .map_err(jira_error(flow))?;
    Ok(listed
        .into_iter()
        .filter(|w| {
            w.expiration_date
                .is_none_or(|e| e.with_timezone(&Utc) > now)
        })
        .collect())
}

fn numeric(flow: &str, id: &WebhookId) -> Result<i64, RegistrarError> {
    id.as_str().parse().map_err(|_| RegistrarError::Unknown {
        flow: flow.to_owned(),
        message: format!("Jira answered a non-numeric webhook id {:?}", id.as_str()),
    })
}

impl WebhookRegistrar {
    /// A registrar over `store`, reaching Jira through `clients` (for refresh and removal).
    pub fn new(store: Arc<dyn Store>, clients: Arc<dyn ClientSource>) -> Self {
        Self { store, clients }
    }

    /// Makes sure the flow's webhook exists in Jira with its current filter and events,
    /// delivering to `receiver_url`: registers one when none is stored, when Jira no longer
    /// lists the stored one, or when the filter, events or connection changed (then deletes the
    /// stale one), and stores the registration.
    ///
    /// # Errors
    /// [`RegistrarError`]; nothing is stored when registration fails.
    pub async fn ensure(
        &self,
        flow_name: &str,
        trigger: &TriggerSpec,
        jira: &JiraClient,
        receiver_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Ensured, RegistrarError> {
        let filter = split_trigger(trigger).map_err(|source| RegistrarError::Filter {
            flow: flow_name.to_owned(),
            source,
        })?;
        let events = events_for(trigger.kind);
        let connection = self
            .store
            .find_connection_by_name(&trigger.connection)
            .await?
            .ok_or_else(|| RegistrarError::Unknown {
                flow: flow_name.to_owned(),
                message: format!("unknown connection {:?}", trigger.connection),
            })?;
        let stored = self
            .store
            .trigger_state(flow_name)
            .await?
            .and_then(|s| s.webhook);
        let listed = alive(jira, flow_name, now).await?;
        let reason = match &stored {
            None => RegisterReason::New,
            Some(r)
                if !listed
                    .iter()
                    .any(|w| w.id.as_str() == r.webhook_id.to_string()) =>
            {
                RegisterReason::Lost
            }
            Some(r)
                if r.jql != filter.registered_jql
                    || r.events != events
                    || r.connection_id != connection.id =>
            {
                RegisterReason::Changed
            }
            Some(r) => {
                return Ok(Ensured::Unchanged {
                    webhook_id: r.webhook_id,
                });
            }
        };
        let details = WebhookDetails::new(events.clone(), filter.registered_jql.clone());
        let mut results = jira
            .webhooks()
            .register(receiver_url, std::slice::from_ref(&details))
            .await
            .map_err(jira_error(flow_name))?;
        let id = match results.pop() {
            Some(Ok(id)) => id,
            Some(Err(rejected)) => {
                return Err(RegistrarError::Rejected {
                    flow: flow_name.to_owned(),
                    messages: rejected.messages,
                });
            }
            None => {
                return Err(RegistrarError::Rejected {
                    flow: flow_name.to_owned(),
                    messages: vec!["Jira answered no registration result".to_owned()],
                });
            }
        };
        let webhook_id = numeric(flow_name, &id)?;
        self.store
            .save_webhook_registration(
                flow_name,
                Some(WebhookRegistration {
                    webhook_id,
                    connection_id: connection.id,
                    jql: filter.registered_jql,
                    events,
                    expires_at: now + WEBHOOK_LIFETIME,
                    refreshed_at: now,
                }),
            )
            .await?;
        // Deleted after the new one is stored, so a crash in between leaves at worst a stale
        // webhook in Jira (which expires) rather than a flow without one.
        let replaced = match stored {
            Some(old) if old.webhook_id != webhook_id => {
                if reason != RegisterReason::Lost {
                    self.delete_with(jira, flow_name, old.webhook_id).await;
                }
                Some(old.webhook_id)
            }
            _ => None,
        };
        Ok(Ensured::Registered {
            webhook_id,
            replaced,
            reason,
        })
    }

    /// Deletes a webhook, logging rather than failing: a stale webhook only costs deliveries
    /// the receiver ignores, and Jira expires it.
    async fn delete_with(&self, jira: &JiraClient, flow: &str, webhook_id: i64) {
        let id = WebhookId::new(webhook_id.to_string());
        if let Err(error) = jira.webhooks().delete(std::slice::from_ref(&id)).await {
            tracing::warn!(%flow, webhook_id, %error, "stale webhook not deleted");
        }
    }

    /// Refreshes every stored registration expiring within [`REFRESH_AHEAD`] of `now` (one
    /// refresh call per connection with all its ids) and registers again, for `receiver_url`,
    /// those Jira no longer lists.
    ///
    /// # Errors
    /// Store failures; per-flow Jira failures are in the report.
    pub async fn refresh_due(
        &self,
        now: DateTime<Utc>,
        receiver_url: &str,
    ) -> Result<RefreshReport, RegistrarError> {
        let mut due: BTreeMap<ConnectionId, Vec<(String, WebhookRegistration)>> = BTreeMap::new();
        for state in self.store.list_trigger_states().await? {
            if let Some(reg) = state.webhook
                && reg.expires_at <= now + REFRESH_AHEAD
            {
                due.entry(reg.connection_id)
                    .or_default()
                    .push((state.flow_name, reg));
            }
        }
        let mut report = RefreshReport::default();
        for (connection_id, flows) in due {
            if let Err(error) = self
                .refresh_connection(connection_id, &flows, now, receiver_url, &mut report)
                .await
            {
                for (flow, _) in &flows {
                    if !report.refreshed.contains(flow) && !report.recreated.contains(flow) {
                        report.failed.push((flow.clone(), error.to_string()));
                    }
                }
            }
        }
        Ok(report)
    }

    async fn refresh_connection(
        &self,
        connection_id: ConnectionId,
        flows: &[(String, WebhookRegistration)],
        now: DateTime<Utc>,
        receiver_url: &str,
        report: &mut RefreshReport,
    ) -> Result<(), RegistrarError> {
        let first = flows.first().map_or("", |(f, _)| f.as_str());
        let connection = self
            .store
            .get_connection(connection_id)
            .await?
            .ok_or_else(|| RegistrarError::Unknown {
                flow: first.to_owned(),
                message: format!("connection {connection_id} no longer exists"),
            })?;
        let jira = self.clients.client(&connection.name).await?;
        let listed: HashSet<String> = alive(&jira, first, now)
            .await?
            .into_iter()
            .map(|w| w.id.as_str().to_owned())
            .collect();
        let (known, lost): (Vec<_>, Vec<_>) = flows
            .iter()
            .partition(|(_, r)| listed.contains(&r.webhook_id.to_string()));
        if !known.is_empty() {
            let ids: Vec<WebhookId> = known
                .iter()
                .map(|(_, r)| WebhookId::new(r.webhook_id.to_string()))
                .collect();
            let expiry = jira
                .webhooks()
                .refresh(&ids)
                .await
                .map_err(jira_error(first))?
                .map_or(now + WEBHOOK_LIFETIME, |e| e.with_timezone(&Utc));
            for (flow, reg) in known {
                let mut reg = reg.clone();
                reg.expires_at = expiry;
                reg.refreshed_at = now;
                self.store
                    .save_webhook_registration(flow, Some(reg))
                    .await?;
                report.refreshed.push(flow.clone());
            }
        }
        for (flow, _) in lost {
            match self.recreate(flow, &jira, receiver_url, now).await {
                Ok(()) => report.recreated.push(flow.clone()),
                Err(error) => report.failed.push((flow.clone(), error.to_string())),
            }
        }
        Ok(())
    }

    async fn recreate(
        &self,
        flow: &str,
        jira: &JiraClient,
        receiver_url: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RegistrarError> {
        let record = self
            .store
            .get_flow(flow)
            .await?
            .ok_or_else(|| RegistrarError::Unknown {
                flow: flow.to_owned(),
                message: "the flow no longer exists".to_owned(),
            })?;
        let loaded = load_flow(
            (record.file_name.as_str(), record.source.as_str()),
            &AnyConnection,
        )
        .map_err(|e| RegistrarError::Unknown {
            flow: flow.to_owned(),
            message: format!("the stored flow does not load: {e}"),
        })?;
        let trigger = loaded.spec.trigger;
        if !record.enabled || trigger.options.mode() == TriggerMode::Poll {
            self.store.save_webhook_registration(flow, None).await?;
            return Ok(());
        }
        self.ensure(flow, &trigger, jira, receiver_url, now).await?;
        Ok(())
    }

    /// Runs [`refresh_due`](Self::refresh_due) every `every` until `cancel` fires, logging what
    /// it did; the timer that keeps registrations ahead of Jira's 30-day expiry.
    pub async fn refresh_periodically(
        &self,
        every: std::time::Duration,
        receiver_url: &str,
        cancel: tokio_util::sync::CancellationToken,
    ) {
        loop {
            match self.refresh_due(Utc::now(), receiver_url).await {
                Ok(report) => {
                    for (flow, error) in &report.failed {
                        tracing::warn!(%flow, %error, "webhook not refreshed");
                    }
                    if !report.refreshed.is_empty() || !report.recreated.is_empty() {
                        tracing::info!(
                            refreshed = report.refreshed.len(),
                            recreated = report.recreated.len(),
                            "webhooks refreshed"
                        );
                    }
                }
                Err(error) => tracing::warn!(%error, "webhook refresh failed"),
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Deletes the flow's webhook from Jira and forgets it: for a flow disabled, deleted or
    /// switched to poll mode. Returns whether one was registered.
    ///
    /// # Errors
    /// Store failures, no client for the connection, or Jira refusing the deletion (the
    /// registration is kept then, so a later call retries).
    pub async fn remove(&self, flow_name: &str) -> Result<bool, RegistrarError> {
        let Some(reg) = self
            .store
            .trigger_state(flow_name)
            .await?
            .and_then(|s| s.webhook)
        else {
            return Ok(false);
        };
        if let Some(connection) = self.store.get_connection(reg.connection_id).await? {
            let jira = self.clients.client(&connection.name).await?;
            jira.webhooks()
                .delete(&[WebhookId::new(reg.webhook_id.to_string())])
                .await
                .map_err(jira_error(flow_name))?;
        }
        self.store
            .save_webhook_registration(flow_name, None)
            .await?;
        Ok(true)
    }
}
