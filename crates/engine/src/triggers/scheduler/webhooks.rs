//! The scheduler's seam to webhook registration: [`WebhookControl`], which the scheduler calls
//! when webhook and hybrid flows appear, change or leave and on its refresh timer, and
//! [`RegistrarWebhooks`], its implementation over the [`WebhookRegistrar`] for a receiver URL.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::Utc;

use crate::connections::ClientSource;
use crate::flow::Flow;
use crate::triggers::webhook::register::WebhookRegistrar;

/// The future a [`WebhookControl`] returns; the error says what failed, for the log.
pub type WebhookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Registers, refreshes and removes the Jira webhooks of webhook and hybrid flows.
pub trait WebhookControl: Send + Sync {
    /// Makes sure `flow`'s webhook is registered as its current version needs (called when the
    /// flow appears, is enabled or changes; must be idempotent).
    fn ensure<'a>(&'a self, flow: &'a Flow) -> WebhookFuture<'a>;
    /// Refreshes the registrations that expire soon.
    fn refresh_due(&self) -> WebhookFuture<'_>;
    /// Removes the webhook of a flow that was deleted, disabled or switched to `poll`.
    fn remove<'a>(&'a self, flow_name: &'a str) -> WebhookFuture<'a>;
}

/// [`WebhookControl`] over the registrar, registering webhooks that deliver to `receiver_url`.
pub struct RegistrarWebhooks {
    registrar: Arc<WebhookRegistrar>,
    clients: Arc<dyn ClientSource>,
    receiver_url: String,
}

impl std::fmt::Debug for RegistrarWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrarWebhooks")
            .field("receiver_url", &self.receiver_url)
            .finish_non_exhaustive()
    }
}

impl RegistrarWebhooks {
    /// Registrations through `registrar`, with clients from `clients`, for deliveries to
    /// `receiver_url` (the public URL of the webhook receiver).
    pub fn new(
        registrar: Arc<WebhookRegistrar>,
        clients: Arc<dyn ClientSource>,
        receiver_url: impl Into<String>,
    ) -> Self {
        Self {
            registrar,
            clients,
            receiver_url: receiver_url.into(),
        }
    }
}

impl WebhookControl for RegistrarWebhooks {
    fn ensure<'a>(&'a self, flow: &'a Flow) -> WebhookFuture<'a> {
        Box::pin(async move {
            let trigger = &flow.spec.trigger;
            let jira = self
                .clients
                .client(&trigger.connection)
                .await
                .map_err(|e| e.to_string())?;
            self.registrar
                .ensure(
                    &flow.spec.name,
                    trigger,
                    &jira,
                    &self.receiver_url,
                    Utc::now(),
                )
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    fn refresh_due(&self) -> WebhookFuture<'_> {
        Box::pin(async move {
            let report = self
                .registrar
                .refresh_due(Utc::now(), &self.receiver_url)
                .await
                .map_err(|e| e.to_string())?;
            if report.failed.is_empty() {
                Ok(())
            } else {
                Err(report
                    .failed
                    .iter()
                    .map(|(flow, error)| format!("{flow}: {error}"))
                    .collect::<Vec<_>>()
                    .join("; "))
            }
        })
    }

    fn remove<'a>(&'a self, flow_name: &'a str) -> WebhookFuture<'a> {
        Box::pin(async move {
            self.registrar
                .remove(flow_name)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
