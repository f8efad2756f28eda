//! Dynamic webhooks of OAuth 2.0 apps (`/webhook`). Registration reports per-item results with
//! HTTP 200 even when an item failed; `expirationDate` is epoch ms in the schema but a Jira
//! timestamp string in the examples, so both decode.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::WebhookId;
use crate::time::Timestamp;

/// A registered webhook (`GET /webhook` values).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// The id (numeric; unique per site only).
    pub id: WebhookId,
    /// The events it fires on.
    #[serde(default)]
    pub events: Vec<String>,
    /// The JQL filter.
    #[serde(default)]
    pub jql_filter: Option<String>,
    /// Fields whose change fires `jira:issue_updated`.
    #[serde(default)]
    pub field_ids_filter: Option<Vec<String>>,
    /// Issue property keys whose change fires property events.
    #[serde(default)]
    pub issue_property_keys_filter: Option<Vec<String>>,
    /// The delivery URL (one per app).
    #[serde(default)]
    pub url: Option<String>,
    /// When it expires unless refreshed (30 days after registration or refresh).
    #[serde(default, with = "crate::time::option")]
    pub expiration_date: Option<Timestamp>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One element of `webhookRegistrationResult`: a created id, or errors.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResult {
    /// The id of the created webhook, on success.
    #[serde(default)]
    pub created_webhook_id: Option<WebhookId>,
    /// Why the webhook was not created.
    #[serde(default)]
    pub errors: Option<Vec<String>>,
}

/// `POST /webhook` answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponse {
    /// One result per requested webhook, in request order.
    #[serde(default)]
    pub webhook_registration_result: Vec<RegistrationResult>,
}

/// `PUT /webhook/refresh` answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhooksExpirationDate {
    /// The new expiry of the refreshed webhooks.
    #[serde(default, with = "crate::time::option")]
    pub expiration_date: Option<Timestamp>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn expiration_dates_decode_from_epoch_ms_and_from_jira_strings() {
        let a: WebhooksExpirationDate =
            serde_json::from_str(r#"{"expirationDate":1559392950000}"#).unwrap();
        let b: WebhooksExpirationDate =
            serde_json::from_str(r#"{"expirationDate":"2019-06-01T12:42:30.000+0000"}"#).unwrap();
        assert_eq!(a.expiration_date, b.expiration_date);
    }

    #[test]
    fn registration_results_keep_errors_per_item() {
        let r: RegistrationResponse = serde_json::from_str(
            r#"{"webhookRegistrationResult":[{"createdWebhookId":1000},{"errors":["The clause watchCount is unsupported"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            r.webhook_registration_result[0]
                .created_webhook_id
                .as_ref()
                .unwrap()
                .as_str(),
            "1000"
        );
        assert!(r.webhook_registration_result[1].errors.is_some());
    }
}
