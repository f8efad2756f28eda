//! Dynamic webhooks of an OAuth 2.0 app: register, list, delete, refresh. Registration answers
//! HTTP 200 even when an entry is refused (an unsupported JQL clause, say), so each entry comes
//! back as its own `Result`. Deleting and refreshing silently ignore unknown ids; confirm with
//! [`Webhooks::list`] when it matters. Webhooks expire 30 days after registration or refresh.

use futures_util::Stream;
use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, JiraClient};
use crate::error::{Error, Result};
use crate::ids::WebhookId;
use crate::ops::pages::page_stream;
use crate::time::Timestamp;
use crate::wire::page::PageBean;
use crate::wire::webhook::{RegistrationResponse, Webhook, WebhooksExpirationDate};

/// One webhook to register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookDetails {
    /// Events (`jira:issue_created`, `comment_created`, ...).
    pub events: Vec<String>,
    /// The JQL filter: only `issueKey, project, issuetype, status, assignee, reporter,
    /// issue.property, cf[id]` with `= != IN NOT IN` are supported.
    pub jql_filter: String,
    /// `jira:issue_updated` fires only when one of these fields changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ids_filter: Option<Vec<String>>,
    /// Property events fire only for these keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_property_keys_filter: Option<Vec<String>>,
}

impl WebhookDetails {
    /// A webhook for `events` on issues matching `jql_filter`.
    pub fn new(
        events: impl IntoIterator<Item = impl Into<String>>,
        jql_filter: impl Into<String>,
    ) -> Self {
        Self {
            events: events.into_iter().map(Into::into).collect(),
            jql_filter: jql_filter.into(),
            field_ids_filter: None,
            issue_property_keys_filter: None,
        }
    }
}

/// Why Jira refused to register one webhook entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook not registered: {}", messages.join("; "))]
pub struct WebhookRejected {
    /// Jira's messages.
    pub messages: Vec<String>,
}

#[derive(Serialize)]
struct RegisterBody<'a> {
    url: &'a str,
    webhooks: &'a [WebhookDetails],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IdsBody {
    webhook_ids: Vec<u64>,
}

fn ids_body(ids: &[WebhookId]) -> Result<IdsBody> {
    let webhook_ids = ids
        .iter()
        .map(|id| {
            id.as_str().parse::<u64>().map_err(|_| {
                Error::InvalidInput(format!("webhook id {:?} is not numeric", id.as_str()))
            })
        })
        .collect::<Result<Vec<u64>>>()?;
    Ok(IdsBody { webhook_ids })
}

/// Webhook operations: `client.webhooks()`.
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// Dynamic webhook operations (OAuth 2.0 apps only).
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { client: self }
    }
}

impl<'c> Webhooks<'c> {
    /// The request [`register`](Self::register) sends.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for no entries.
    pub fn register_request(self, url: &str, webhooks: &[WebhookDetails]) -> Result<ApiRequest> {
        if webhooks.is_empty() {
            return Err(Error::InvalidInput("register at least one webhook".into()));
        }
        // Default idempotency: a repeated registration would create duplicates.
        ApiRequest::post("/webhook").json(&RegisterBody { url, webhooks })
    }

    /// `POST /webhook`: one result per entry, in order.
    ///
    /// # Errors
    /// The outer error for the whole request (403 for non-app tokens, 400 for a second URL);
    /// per-entry refusals are inner [`WebhookRejected`]s.
    pub async fn register(
        self,
        url: &str,
        webhooks: &[WebhookDetails],
    ) -> Result<Vec<std::result::Result<WebhookId, WebhookRejected>>> {
        let request = self.register_request(url, webhooks)?;
        let response: RegistrationResponse = self.client.send(request).await?.json()?;
        if response.webhook_registration_result.len() != webhooks.len() {
            return Err(Error::InvalidInput(format!(
                "Jira answered {} registration results for {} webhooks",
                response.webhook_registration_result.len(),
                webhooks.len()
            )));
        }
        Ok(response
            .webhook_registration_result
            .into_iter()
            .map(|r| match (r.created_webhook_id, r.errors) {
                (Some(id), None) => Ok(id),
                (Some(id), Some(errors)) if errors.is_empty() => Ok(id),
                (_, errors) => Err(WebhookRejected {
                    messages: errors.unwrap_or_default(),
                }),
            })
            .collect())
    }

    /// `GET /webhook`: the app's webhooks on this site.
    pub fn list(self) -> ListWebhooks<'c> {
        ListWebhooks {
            client: self.client,
            start_at: None,
            max_results: None,
        }
    }

    /// The request [`delete`](Self::delete) sends.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a non-numeric id.
    pub fn delete_request(self, ids: &[WebhookId]) -> Result<ApiRequest> {
        ApiRequest::delete("/webhook").json(&ids_body(ids)?)
    }

    /// `DELETE /webhook`: answers 202; ids of other apps, and unknown ids, are ignored.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a non-numeric id; API errors.
    pub async fn delete(self, ids: &[WebhookId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let request = self.delete_request(ids)?;
        self.client.send(request).await?;
        Ok(())
    }

    /// The request [`refresh`](Self::refresh) sends.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a non-numeric id.
    pub fn refresh_request(self, ids: &[WebhookId]) -> Result<ApiRequest> {
        ApiRequest::put("/webhook/refresh").json(&ids_body(ids)?)
    }

    /// `PUT /webhook/refresh`: extends the webhooks' life; returns the new expiry.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a non-numeric id; API errors.
    pub async fn refresh(self, ids: &[WebhookId]) -> Result<Option<Timestamp>> {
        let request = self.refresh_request(ids)?;
        let answer: WebhooksExpirationDate = self.client.send(request).await?.json()?;
        Ok(answer.expiration_date)
    }
}

/// `GET /webhook`.
#[must_use]
#[derive(Debug, Clone)]
pub struct ListWebhooks<'c> {
    client: &'c JiraClient,
    start_at: Option<u64>,
    max_results: Option<u64>,
}

fn list_request(start_at: Option<u64>, max_results: Option<u64>) -> ApiRequest {
    ApiRequest::get("/webhook")
        .query_opt("startAt", start_at)
        .query_opt("maxResults", max_results)
}

impl ListWebhooks<'_> {
    /// Index of the first webhook.
    pub fn start_at(mut self, start_at: u64) -> Self {
        self.start_at = Some(start_at);
        self
    }

    /// Page size (Jira's default 100).
    pub fn max_results(mut self, max_results: u64) -> Self {
        self.max_results = Some(max_results);
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// 403 for tokens that are not an OAuth 2.0 app's.
    pub async fn send(self) -> Result<PageBean<Webhook>> {
        let request = list_request(self.start_at, self.max_results);
        self.client.send(request).await?.json()
    }

    /// Streams every webhook.
    pub fn stream(self) -> impl Stream<Item = Result<Webhook>> + Send + 'static {
        let max = self.max_results;
        page_stream(
            self.client.clone(),
            self.start_at.unwrap_or(0),
            move |start| list_request(Some(start), max),
        )
    }
}
