//! Dynamic webhooks registered by OAuth apps, and the deliveries waiting to be sent.

use serde::{Deserialize, Serialize};

use super::AccountId;
use crate::clock::EpochMs;

/// A dynamic webhook registered through `POST /rest/api/3/webhook`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    /// Numeric id.
    pub id: u64,
    /// Client id of the app that registered it (webhooks are per app).
    pub client_id: String,
    /// The account that registered it.
    pub registered_by: AccountId,
    /// Callback URL (one per app).
    pub url: String,
    /// Events (`jira:issue_created`, `comment_created`, ...).
    pub events: Vec<String>,
    /// The JQL filter (restricted subset).
    pub jql_filter: String,
    /// Only send `jira:issue_updated` when one of these fields changed.
    pub field_ids_filter: Vec<String>,
    /// Only send `issue_property_*` for these keys.
    pub issue_property_keys_filter: Vec<String>,
    /// Expiry instant (30 days after registration or last refresh).
    pub expiration: EpochMs,
}

/// A delivery queued for sending (and re-sending on failure).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// `X-Atlassian-Webhook-Identifier`, stable across retries.
    pub identifier: String,
    /// Target URL.
    pub url: String,
    /// Client id whose secret signs the JWT.
    pub client_id: String,
    /// Site the event happened on (the JWT's issuer names it).
    #[serde(default)]
    pub cloud_id: String,
    /// The account that registered the matched webhooks (the JWT's subject).
    #[serde(default)]
    pub registered_by: AccountId,
    /// JSON body.
    pub body: serde_json::Value,
    /// Attempts made so far.
    pub attempts: u32,
    /// Earliest instant for the next attempt.
    pub next_attempt_at: EpochMs,
}
