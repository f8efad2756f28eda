//! Atlassian OAuth 2.0 (3LO) for jiraflow: the authorization URL and its single-use state, the
//! code exchange, rotating refresh tokens refreshed single-flight per connection (inside a process
//! and across processes), accessible resources and cloud id discovery.
