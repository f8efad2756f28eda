//! `POST /webhooks/jira`: hands each delivery to the webhook receiver and answers Jira at once
//! (200 for an accepted or duplicate delivery, 401 for a forged or expired signature, 400 for a
//! malformed one, 503 when it cannot be taken now, so Jira retries). The receiver sits behind
//! [`WebhookSink`] (implemented for the engine's [`WebhookReceiver`]); without one, the route
//! answers 503. [`ServerWebhooks`] lets the scheduler register the flows' webhooks with this
//! server's URL as the target.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use jiraflow_engine::connections::ClientSource;
use jiraflow_engine::flow::Flow;
use jiraflow_engine::triggers::scheduler::{WebhookControl, WebhookFuture};
use jiraflow_engine::triggers::webhook::{Accepted, WebhookReceiver, WebhookRegistrar};

use crate::AppState;
use crate::error::ApiError;

/// Largest delivery accepted; Jira's issue payloads are far below it.
pub const MAX_DELIVERY_BYTES: usize = 2 * 1024 * 1024;

/// What the receiver made of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookVerdict {
    /// Verified and queued.
    Accepted,
    /// Verified, but seen before (a replay or redelivery): acknowledged, nothing queued.
    Duplicate,
    /// The signature is forged, expired or missing.
    Unauthorized(String),
    /// The body or headers are malformed.
    Malformed(String),
    /// It cannot be taken now (full queue, store failure); Jira should retry.
    Unavailable(String),
}

/// The future [`WebhookSink::accept`] returns.
pub type VerdictFuture<'a> = Pin<Box<dyn Future<Output = WebhookVerdict> + Send + 'a>>;

/// Verifies and queues webhook deliveries.
pub trait WebhookSink: Send + Sync {
    /// Judges one delivery received at `now`; must return quickly (queue, do not process).
    fn accept<'a>(
        &'a self,
        headers: &'a HeaderMap,
        body: Bytes,
        now: DateTime<Utc>,
    ) -> VerdictFuture<'a>;
}

/// `POST /webhooks/jira`.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(sink) = state.webhooks() else {
        return ApiError::unavailable("webhooks are not received by this server").into_response();
    };
    let metrics = state.metrics();
    match sink.accept(&headers, body, Utc::now()).await {
        WebhookVerdict::Accepted => {
            metrics.webhooks_accepted.fetch_add(1, Ordering::Relaxed);
            StatusCode::OK.into_response()
        }
        WebhookVerdict::Duplicate => {
            metrics.webhooks_duplicate.fetch_add(1, Ordering::Relaxed);
            StatusCode::OK.into_response()
        }
        WebhookVerdict::Unauthorized(message) => {
            metrics.webhooks_rejected.fetch_add(1, Ordering::Relaxed);
            ApiError::unauthorized(message).into_response()
        }
        WebhookVerdict::Malformed(message) => {
            metrics.webhooks_rejected.fetch_add(1, Ordering::Relaxed);
            ApiError::invalid(message).into_response()
        }
        WebhookVerdict::Unavailable(message) => ApiError::unavailable(message).into_response(),
    }
}

impl WebhookSink for WebhookReceiver {
    fn accept<'a>(
        &'a self,
        headers: &'a HeaderMap,
        body: Bytes,
        now: DateTime<Utc>,
    ) -> VerdictFuture<'a> {
        Box::pin(async move {
            match WebhookReceiver::accept(self, headers, &body, now).await {
                Ok(Accepted::Duplicate { .. }) => WebhookVerdict::Duplicate,
                // An ignored delivery is still a good one: Jira must not retry it.
                Ok(Accepted::Queued { .. } | Accepted::Ignored { .. }) => WebhookVerdict::Accepted,
                Err(e) => match e.http_status() {
                    401 => WebhookVerdict::Unauthorized(e.to_string()),
                    400 => WebhookVerdict::Malformed(e.to_string()),
                    _ => WebhookVerdict::Unavailable(e.to_string()),
                },
            }
        })
    }
}

/// The scheduler's hands on Jira's dynamic webhooks: registrations target this server's
/// `/webhooks/jira`.
pub struct ServerWebhooks {
    registrar: WebhookRegistrar,
    clients: Arc<dyn ClientSource>,
    receiver_url: String,
}

impl std::fmt::Debug for ServerWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerWebhooks")
            .field("receiver_url", &self.receiver_url)
            .finish_non_exhaustive()
    }
}

impl ServerWebhooks {
    /// Registrations over `store`, reaching Jira through `clients`, delivering to
    /// `receiver_url` (this server's `/webhooks/jira`, as Jira can reach it).
    pub fn new(
        store: Arc<dyn jiraflow_store::Store>,
        clients: Arc<dyn ClientSource>,
        receiver_url: String,
    ) -> Self {
        Self {
            registrar: WebhookRegistrar::new(store, clients.clone()),
            clients,
            receiver_url,
        }
    }
}

impl WebhookControl for ServerWebhooks {
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
            self.registrar
                .refresh_due(Utc::now(), &self.receiver_url)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
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
