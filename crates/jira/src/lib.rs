//! A typed client for the Jira Cloud platform REST API v3, as jiraflow uses it.
//!
//! Every request goes through one choke point ([`JiraClient::send`](client::JiraClient)) that owns
//! bearer auth, timeouts, the rate-limit and retry policy, tracing and error mapping. Operations are
//! builders in the octocrab style: required arguments in the constructor, optional setters, then
//! `.send()`. Wire types tolerate what Jira sends; rich text goes through [`adf`]; JQL is validated
//! and composed through `jiraflow-jql`; custom field values are coerced by [`fields`].

pub mod adf;
pub mod auth;
pub mod client;
pub mod error;
pub mod fields;
pub mod ids;
pub mod jql;
pub mod ops;
pub mod send;
pub mod time;
pub mod wire;

pub use auth::{BearerToken, StaticToken, TokenProvider};
pub use client::{
    ApiRequest, ApiResponse, Idempotency, JiraClient, JiraClientBuilder, RequestBody,
};
pub use error::{Error, Result};
pub use send::metrics::MetricsSnapshot;
pub use send::policy::RetryPolicy;
