//! [`JiraClient`]: the handle every action and trigger uses to talk to one Jira site, and its
//! builder. The client is cheap to clone (an `Arc`); clones share the HTTP connection pool, the
//! token provider, the rate-limit pause gates and the metrics.
//!
//! # Writing an operation
//!
//! Operations live in `ops/<area>.rs`. A handler (`client.issues()`) groups them; each operation
//! is a builder that takes its required arguments in the constructor, optional ones through
//! setters, and ends with `send()`. The builder turns itself into an [`ApiRequest`] and hands it
//! to the one choke point, [`JiraClient::send`], which owns auth, retries, rate limits, tracing
//! and error mapping. Operations never touch reqwest directly.
//!
//! ```ignore
//! pub struct GetIssue<'c> { client: &'c JiraClient, issue: IssueRef, fields: Vec<String> }
//!
//! impl GetIssue<'_> {
//!     pub fn field(mut self, field: impl Into<String>) -> Self { self.fields.push(field.into()); self }
//!
//!     pub async fn send(self) -> Result<IssueBean> {
//!         let request = ApiRequest::get("/issue/{issueIdOrKey}")   // template: traces + burst key
//!             .param(&self.issue)                                  // percent-encoded segment
//!             .query("fields", self.fields.join(","));
//!         self.client.send(request).await?.json()                  // Error::Decode names the path
//!     }
//! }
//! ```
//!
//! Rules of thumb:
//! - POSTs that only read get `.idempotency(Idempotency::RetrySafe)`; creating POSTs keep the
//!   default (not retried after an ambiguous failure) or take `Idempotency::Verify(check)`.
//! - Writes to one issue call `.issue_scope(issue)` so per-issue 429s pause only that issue.
//! - JSON bodies are `#[derive(Serialize)]` structs with `#[serde(deny_unknown_fields)]` when they
//!   are also deserialized from our own inputs; every builder body gets an insta snapshot test.
//! - Rich text is ADF (`serde_json::Value` documents); never send a plain string where Jira wants
//!   ADF.
//! - Streaming downloads use [`JiraClient::send_streaming`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect;
use url::Url;

use crate::auth::TokenProvider;
use crate::error::{Error, Result};
use crate::send::metrics::{Metrics, MetricsSnapshot};
use crate::send::policy::{Gates, RetryPolicy};

pub use crate::send::request::{ApiRequest, ApiResponse, Idempotency, RequestBody, RetryCheck};

/// Redirect hops the API client follows (attachment content answers with one).
const MAX_REDIRECTS: usize = 5;

/// A Jira Cloud REST v3 client for one site.
#[derive(Clone)]
pub struct JiraClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// `{base}/rest/api/3`, without a trailing slash.
    pub(crate) api_base: String,
    pub(crate) tokens: Arc<dyn TokenProvider>,
    pub(crate) timeout: Duration,
    pub(crate) policy: RetryPolicy,
    pub(crate) gates: Gates,
    pub(crate) metrics: Metrics,
}

impl std::fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraClient")
            .field("api_base", &self.inner.api_base)
            .finish_non_exhaustive()
    }
}

impl JiraClient {
    /// Starts a builder for the site at `base_url`: `https://api.atlassian.com/ex/jira/{cloudId}`
    /// for OAuth 2.0 (3LO) tokens, or the simulator's `jira_base_url`.
    pub fn builder(base_url: impl Into<String>) -> JiraClientBuilder {
        JiraClientBuilder {
            base_url: base_url.into(),
            tokens: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            policy: RetryPolicy::default(),
            user_agent: concat!("jiraflow/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// `{base}/rest/api/3`.
    pub fn api_base(&self) -> &str {
        &self.inner.api_base
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// A copy of the rate-limit and retry counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }
}

/// Builder of a [`JiraClient`].
#[must_use]
pub struct JiraClientBuilder {
    base_url: String,
    tokens: Option<Arc<dyn TokenProvider>>,
    timeout: Duration,
    connect_timeout: Duration,
    policy: RetryPolicy,
    user_agent: String,
}

impl JiraClientBuilder {
    /// Where access tokens come from (required).
    pub fn token_provider(mut self, tokens: Arc<dyn TokenProvider>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Total time per attempt, reading the body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retry and backoff settings (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] without a token provider, with a base URL that is not http(s), or when
    /// the HTTP client cannot be built.
    pub fn build(self) -> Result<JiraClient> {
        let tokens = self
            .tokens
            .ok_or_else(|| Error::Config("a token provider is required".into()))?;
        let url = Url::parse(&self.base_url)
            .map_err(|e| Error::Config(format!("base URL {:?}: {e}", self.base_url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(Error::Config(format!(
                "base URL {:?} must be http(s) without a query",
                self.base_url
            )));
        }
        let trimmed = url.as_str().trim_end_matches('/');
        let trimmed = trimmed.strip_suffix("/rest/api/3").unwrap_or(trimmed);
        let api_base = format!("{trimmed}/rest/api/3");
        // The read timeout bounds every wait for bytes, including inside long streamed bodies
        // (attachments), which the per-attempt total timeout must not cut off.
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.timeout)
            .redirect(redirect_policy())
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(JiraClient {
            inner: Arc::new(Inner {
                http,
                api_base,
                tokens,
                timeout: self.timeout,
                policy: self.policy,
                gates: Gates::default(),
                metrics: Metrics::default(),
            }),
        })
    }
}

/// Follows a few hops and never downgrades https to http. reqwest itself drops `Authorization`
/// (and cookies) whenever a hop changes scheme, host or port, so the bearer token never reaches
/// the media host an attachment download redirects to.
fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        let downgrade = attempt.url().scheme() == "http"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if downgrade {
            return attempt.error("refusing a redirect from https to http");
        }
        attempt.follow()
    })
}
