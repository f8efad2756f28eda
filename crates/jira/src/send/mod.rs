//! The one choke point between jiraflow and Jira: [`JiraClient::send`]. Every request gets its
//! bearer token from the provider, waits for any rate-limit pause that covers it, runs under the
//! per-attempt timeout in a tracing span (method, path template, attempt, status, wait; never
//! bodies or tokens), and fails with a mapped [`Error`]. Retries follow [`policy`]; a rejected
//! token is invalidated and the request retried once with a fresh one.

pub mod metrics;
pub mod policy;
pub mod request;

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use tokio::time::Instant;
use tracing::Instrument;

use crate::client::JiraClient;
use crate::error::{ApiError, Error, Result, TransportKind};
use policy::{GateKey, PauseScope, has_beta_rate_limit, parse_reset, rate_limit_info};
use request::{ApiRequest, ApiResponse, Idempotency, RequestBody};

/// What one attempt produced.
enum Attempt {
    Done(reqwest::Response),
    Failed(Error),
}

/// What to do after a failed attempt.
enum Next {
    Retry(Duration),
    Verify(Duration),
    Fail,
}

/// The span both send paths run in; `attempt` and `status` are filled in per try, so one request
/// reads as one span however often it is retried.
fn request_span(request: &ApiRequest) -> tracing::Span {
    tracing::debug_span!(
        "jira.request",
        method = %request.method,
        path = request.template,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
    )
}

impl JiraClient {
    /// Sends `request` and reads the whole body.
    ///
    /// # Errors
    /// Any [`Error`]: API errors after retries are exhausted, transport failures, pauses longer
    /// than the policy allows, token failures.
    pub async fn send(&self, request: ApiRequest) -> Result<ApiResponse> {
        let span = request_span(&request);
        self.run(&request, true)
            .instrument(span)
            .await
            .map(|outcome| match outcome {
                Outcome::Buffered(response) => response,
                Outcome::Streaming(response) => ApiResponse {
                    // Unreachable in practice: buffered runs never yield a stream.
                    method: request.method.clone(),
                    path: request.path.clone(),
                    status: response.status(),
                    headers: response.headers().clone(),
                    body: Bytes::new(),
                },
            })
    }

    /// Sends `request` and returns the response once its status is a success, without reading
    /// the body (attachment downloads). Failures are mapped and retried like [`send`](Self::send);
    /// errors while reading the stream are the caller's to handle.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_streaming(&self, request: ApiRequest) -> Result<reqwest::Response> {
        let span = request_span(&request);
        match self.run(&request, false).instrument(span).await? {
            Outcome::Streaming(response) => Ok(response),
            Outcome::Buffered(response) => Err(Error::InvalidInput(format!(
                "{} {}: expected a stream",
                response.method, response.path
            ))),
        }
    }

    async fn run(&self, request: &ApiRequest, buffer: bool) -> Result<Outcome> {
        if request.path.contains('{') {
            return Err(Error::InvalidInput(format!(
                "path {:?} has an unfilled placeholder",
                request.path
            )));
        }
        let inner = &self.inner;
        inner.metrics.request();
        let mut failures: u32 = 0;
        let mut refreshed = false;
        loop {
            self.wait_for_gates(request).await?;
            let token = inner.tokens.token().await?;
            inner.metrics.attempt();
            let attempt_no = failures + 1;
            tracing::Span::current().record("attempt", attempt_no);
            let error = match self.attempt(request, token.expose_secret(), buffer).await {
                Attempt::Failed(error) => error,
                Attempt::Done(response) if response.status().is_success() => {
                    tracing::Span::current().record("status", response.status().as_u16());
                    if !buffer {
                        return Ok(Outcome::Streaming(response));
                    }
                    match self.read(request, response).await {
                        Ok(response) => return Ok(Outcome::Buffered(response)),
                        Err(error) => error,
                    }
                }
                Attempt::Done(response) => {
                    tracing::Span::current().record("status", response.status().as_u16());
                    self.api_error(request, response).await
                }
            };
            // A rejected token: refresh once and retry, whatever the method (nothing was done).
            if error.needs_reauth() && !error.is_scope_error() && !refreshed {
                refreshed = true;
                inner.tokens.invalidate(&token);
                inner.metrics.token_refresh();
                tracing::debug!("token rejected; retrying once with a fresh token");
                continue;
            }
            failures += 1;
            let (wait, verify) = match self.next_step(request, &error, failures)? {
                Next::Fail => return Err(error),
                Next::Retry(wait) => (wait, false),
                Next::Verify(wait) => (wait, true),
            };
            tracing::debug!(wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            inner.metrics.retry();
            inner.metrics.waited(wait);
            tokio::time::sleep(wait).await;
            if verify
                && let Idempotency::Verify(check) = &request.idempotency
                && let Some(body) = check.check(self).await?
            {
                tracing::debug!("the retry check found the request already applied");
                let body = serde_json::to_vec(&body).map_err(|e| {
                    Error::InvalidInput(format!("verified body does not serialize: {e}"))
                })?;
                return Ok(Outcome::Buffered(ApiResponse {
                    method: request.method.clone(),
                    path: request.path.clone(),
                    status: StatusCode::OK,
                    headers: reqwest::header::HeaderMap::new(),
                    body: Bytes::from(body),
                }));
            }
        }
    }

    /// Decides whether and how long to wait after the `failures`-th failure, and closes the
    /// pause gate a 429's reason names.
    fn next_step(&self, request: &ApiRequest, error: &Error, failures: u32) -> Result<Next> {
        let policy = &self.inner.policy;
        let last = failures >= policy.max_attempts;
        let ambiguous = |wait: Duration| {
            if request.repeatable() {
                Next::Retry(wait)
            } else if matches!(request.idempotency, Idempotency::Verify(_)) {
                Next::Verify(wait)
            } else {
                Next::Fail
            }
        };
        match error {
            Error::Api(api) if api.status == 429 => {
                // Without Retry-After, a quota 429's reset time is the next best minimum.
                let server_wait = api.rate_limit.retry_after.or_else(|| {
                    api.rate_limit
                        .reset
                        .as_deref()
                        .and_then(|reset| parse_reset(reset, chrono::Utc::now()))
                });
                let wait = server_wait.map_or_else(
                    || policy.backoff(failures),
                    |ra| policy.after_retry_after(ra),
                );
                let reason = api.rate_limit.reason.as_deref();
                self.inner.metrics.rate_limited(reason);
                self.close_gate(request, reason, wait);
                if wait > policy.max_retry_after && !last {
                    return Err(Error::Paused {
                        method: request.method.to_string(),
                        path: request.path.clone(),
                        wait,
                        reason: api.rate_limit.reason.clone(),
                    });
                }
                Ok(if last { Next::Fail } else { Next::Retry(wait) })
            }
            Error::Api(api) if matches!(api.status, 502..=504) && !last => {
                let wait = api.rate_limit.retry_after.map_or_else(
                    || policy.backoff(failures),
                    |ra| policy.after_retry_after(ra),
                );
                if wait > policy.max_retry_after {
                    return Ok(Next::Fail);
                }
                Ok(ambiguous(wait))
            }
            Error::Transport { kind, .. } if !last => Ok(match kind {
                // Nothing reached the server: safe to repeat anything.
                TransportKind::Connect => Next::Retry(policy.backoff(failures)),
                TransportKind::Timeout | TransportKind::Interrupted => {
                    ambiguous(policy.backoff(failures))
                }
                TransportKind::Redirect | TransportKind::Other => Next::Fail,
            }),
            _ => Ok(Next::Fail),
        }
    }

    fn close_gate(&self, request: &ApiRequest, reason: Option<&str>, wait: Duration) {
        let key = match PauseScope::of_reason(reason) {
            PauseScope::Client => GateKey::Client,
            PauseScope::Endpoint => GateKey::Endpoint(request.method.to_string(), request.template),
            PauseScope::IssueWrites => match &request.issue {
                Some(issue) => GateKey::IssueWrites(issue.as_str().to_owned()),
                None => GateKey::Endpoint(request.method.to_string(), request.template),
            },
            PauseScope::Request => return,
        };
        self.inner.gates.close(key, Instant::now() + wait, reason);
    }

    /// Sleeps until every pause covering `request` has ended (or fails if that is too long).
    async fn wait_for_gates(&self, request: &ApiRequest) -> Result<()> {
        let mut keys = vec![
            GateKey::Client,
            GateKey::Endpoint(request.method.to_string(), request.template),
        ];
        if request.is_write()
            && let Some(issue) = &request.issue
        {
            keys.push(GateKey::IssueWrites(issue.as_str().to_owned()));
        }
        if let Some((deadline, reason)) = self.inner.gates.deadline(&keys) {
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait > self.inner.policy.max_retry_after {
                return Err(Error::Paused {
                    method: request.method.to_string(),
                    path: request.path.clone(),
                    wait,
                    reason,
                });
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "waiting for a rate-limit pause"
            );
            self.inner.metrics.waited(wait);
            tokio::time::sleep_until(deadline).await;
        }
        Ok(())
    }

    async fn attempt(&self, request: &ApiRequest, token: &str, buffer: bool) -> Attempt {
        let url = format!("{}{}", self.inner.api_base, request.path);
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), url)
            .bearer_auth(token)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .headers(request.headers.clone());
        // A total timeout suits small buffered exchanges; streamed uploads and downloads of files
        // up to the attachment limit are bounded by the client's read timeout instead, unless the
        // caller set an explicit one.
        let streamed = !buffer || matches!(request.body, RequestBody::Multipart(_));
        if let Some(timeout) = request
            .timeout
            .or((!streamed).then_some(self.inner.timeout))
        {
            builder = builder.timeout(timeout);
        }
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        builder = match &request.body {
            RequestBody::None => builder,
            RequestBody::Json(bytes) => builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(bytes.clone()),
            RequestBody::Bytes { content_type, data } => builder
                .header(CONTENT_TYPE, content_type.as_str())
                .body(data.clone()),
            RequestBody::Multipart(factory) => match factory() {
                Ok(form) => builder
                    .header("X-Atlassian-Token", HeaderValue::from_static("no-check"))
                    .multipart(form),
                Err(error) => return Attempt::Failed(error),
            },
        };
        match builder.send().await {
            Ok(response) => {
                self.observe(response.headers());
                Attempt::Done(response)
            }
            Err(source) => Attempt::Failed(self.transport(request, source)),
        }
    }

    fn observe(&self, headers: &reqwest::header::HeaderMap) {
        let info = rate_limit_info(headers);
        if let Some(remaining) = info.remaining {
            self.inner.metrics.remaining(remaining);
        }
        if info.near_limit {
            self.inner.metrics.near_limit();
            tracing::info!(remaining = info.remaining, "Jira rate limit nearly reached");
        }
        if has_beta_rate_limit(headers) {
            self.inner.metrics.beta_observation();
            tracing::info!("Jira reports beta rate-limit headers");
        }
    }

    fn transport(&self, request: &ApiRequest, source: reqwest::Error) -> Error {
        Error::Transport {
            method: request.method.to_string(),
            path: request.path.clone(),
            kind: TransportKind::of(&source),
            source: source.without_url(),
        }
    }

    async fn read(&self, request: &ApiRequest, response: reqwest::Response) -> Result<ApiResponse> {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|source| self.transport(request, source))?;
        Ok(ApiResponse {
            method: request.method.clone(),
            path: request.path.clone(),
            status,
            headers,
            body,
        })
    }

    async fn api_error(&self, request: &ApiRequest, response: reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let info = rate_limit_info(response.headers());
        // A body that fails to arrive still leaves a useful error: status, path, headers.
        let body = response.bytes().await.unwrap_or_default();
        ApiError::from_body(request.method.as_str(), &request.path, status, &body, info).into()
    }
}

/// A finished run: a buffered response, or (for [`JiraClient::send_streaming`]) an unread one.
enum Outcome {
    Buffered(ApiResponse),
    Streaming(reqwest::Response),
}
