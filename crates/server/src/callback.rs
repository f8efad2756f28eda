//! The OAuth redirect target, `GET /oauth/callback`: completes an authorization this server
//! started and shows a small HTML page naming the connection created, or what failed.
//!
//! The store keeps only a hash of each `state`, bound to the user who started it, and consumes it
//! only for that user. The server therefore remembers, in memory, which user started each
//! authorization it began (`begin_connect`), and completes the callback as that user. A callback
//! for a state this process did not start (another process, or before a restart) is refused
//! with a page saying so; nothing is consumed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use jiraflow_oauth::{Callback, Completed, ConnectDraft, ConnectFlow, StartedAuthorization};
use jiraflow_store::{User, UserId};

use crate::AppState;
use crate::error::ApiError;

/// Who started an authorization, and until when its state is valid.
type Started = (UserId, DateTime<Utc>);

/// Authorizations begun by this process, by state.
#[derive(Debug, Default, Clone)]
pub struct PendingConsents {
    inner: Arc<Mutex<HashMap<String, Started>>>,
}

impl PendingConsents {
    /// Remembers who started the authorization behind `started`.
    pub fn remember(&self, user: &User, started: &StartedAuthorization) {
        let Some(state) = started
            .authorization_url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
        else {
            return;
        };
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Utc::now();
        // Expired entries can never complete; dropping them here keeps the map small.
        map.retain(|_, (_, expires)| *expires > now);
        map.insert(state, (user.id, started.expires_at));
    }

    /// The user who started the authorization with this state (the entry is removed).
    fn take(&self, state: &str) -> Option<UserId> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(state)
            .map(|(user, _)| user)
    }
}

/// Starts a new connection as `user` with the callback on this server, remembering the state.
///
/// # Errors
/// As [`ConnectFlow::begin_connect`].
pub async fn begin_connect(
    state: &AppState,
    user: &User,
    draft: ConnectDraft,
) -> Result<StartedAuthorization, ApiError> {
    let flow = ConnectFlow::new(state.store().clone(), state.oauth_client().clone());
    let started = flow
        .begin_connect(user, draft, state.redirect_uri())
        .await?;
    state.consents().remember(user, &started);
    Ok(started)
}

/// `GET /oauth/callback?code&state` (or `?error&state`).
pub async fn oauth_callback(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let callback = Callback::from_query(query.as_deref().unwrap_or_default());
    let Some(token) = callback.state.clone().filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The callback has no state parameter; nothing was created.",
        );
    };
    let Some(user_id) = state.consents().take(&token) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This authorization was not started by this server (or it expired, or was already \
             used); nothing was created. Start the connection again.",
        );
    };
    let user = match state.store().get_user(user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "The user who started this authorization no longer exists; nothing was created.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the user of an OAuth callback");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error; see the log.",
            );
        }
    };
    let flow = ConnectFlow::new(state.store().clone(), state.oauth_client().clone());
    match flow.complete(&user, callback).await {
        Ok(Completed::Connection(done)) => {
            let verb = if done.reconnected {
                "reconnected"
            } else {
                "created"
            };
            page(
                StatusCode::OK,
                &format!(
                    "Connection \u{201c}{}\u{201d} {verb} (site {}). You can close this window.",
                    done.connection.name, done.connection.cloud_id
                ),
            )
        }
        Ok(Completed::NamedCredential { credential, .. }) => page(
            StatusCode::OK,
            &format!(
                "Named credential \u{201c}{}\u{201d} connected. You can close this window.",
                credential.name
            ),
        ),
        Err(e) => {
            let error = ApiError::from(e);
            page(
                error.status,
                &format!("The connection failed: {}", error.message),
            )
        }
    }
}

fn page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>jiraflow</title><p>{}</p>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
