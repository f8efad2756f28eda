//! Receiving the OAuth callback on the command line: a one-shot HTTP listener on the redirect
//! URI's host and port, or (headless without a reachable port) the redirect URL pasted on stdin.
//!
//! The listener is bound *before* the authorization URL is printed, so a browser (or a script)
//! that completes consent at once always finds it. It answers the first request on the redirect
//! path and then stops; the code and state never reach a log or the terminal.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use jiraflow_oauth::Callback;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The default redirect URI (registered for the simulator's seeded app, too).
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8080/oauth/callback";

/// The page the browser shows once the callback has been received.
const DONE_PAGE: &str = "<!doctype html><title>jiraflow</title><p>Authorization received. \
                         You can close this window and return to the terminal.</p>";

type Slot = Arc<Mutex<Option<oneshot::Sender<String>>>>;

/// A bound, not yet serving, callback listener.
pub struct CallbackListener {
    listener: TcpListener,
    path: String,
}

impl CallbackListener {
    /// Binds the host and port of `redirect_uri` (an `http://` URI on this machine).
    pub async fn bind(redirect_uri: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(redirect_uri)
            .with_context(|| format!("invalid redirect URI {redirect_uri:?}"))?;
        if url.scheme() != "http" {
            bail!(
                "cannot listen for the callback on {redirect_uri:?} (only http:// redirect URIs \
                 can be served locally); use --no-listen and paste the redirect URL"
            );
        }
        let host = match url.host_str() {
            Some("localhost") | None => "127.0.0.1".to_owned(),
            Some(h) => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let listener = TcpListener::bind((host.as_str(), port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {host}:{port} for the OAuth callback; free the port, pass \
                     another --redirect-uri registered for the app, or use --no-listen"
                )
            })?;
        Ok(Self {
            listener,
            path: url.path().to_owned(),
        })
    }

    /// Serves until the first request on the redirect path arrives (or `timeout` passes) and
    /// returns its parameters.
    pub async fn wait(self, timeout: Duration) -> anyhow::Result<Callback> {
        let (tx, rx) = oneshot::channel::<String>();
        let slot: Slot = Arc::new(Mutex::new(Some(tx)));
        let path = self.path.clone();
        let app = Router::new()
            .fallback(move |state, uri| handle(state, uri, path.clone()))
            .with_state(slot);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await
        });
        let received = tokio::time::timeout(timeout, rx).await;
        let _ = stop_tx.send(());
        // The browser's answer has been written by now; do not wait on idle keep-alives.
        let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        match received {
            Ok(Ok(query)) => Ok(Callback::from_query(&query)),
            Ok(Err(_)) => bail!("the callback listener stopped unexpectedly"),
            Err(_) => bail!(
                "no OAuth callback arrived within {} seconds; nothing was created — start again",
                timeout.as_secs()
            ),
        }
    }
}

async fn handle(
    State(slot): State<Slot>,
    OriginalUri(uri): OriginalUri,
    path: String,
) -> impl IntoResponse {
    if uri.path() != path {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let sender = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    match sender {
        Some(sender) => {
            let _ = sender.send(uri.query().unwrap_or_default().to_owned());
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CONNECTION, "close"),
                ],
                DONE_PAGE,
            )
                .into_response()
        }
        None => (StatusCode::GONE, "this callback was already received").into_response(),
    }
}

/// Reads the redirect URL the user pastes on stdin (one line).
pub async fn read_pasted(timeout: Duration) -> anyhow::Result<Callback> {
    eprintln!("After consenting, paste the full URL your browser was redirected to, then Enter:");
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    });
    let line = match tokio::time::timeout(timeout, read).await {
        Ok(joined) => joined.context("reading stdin")?.context("reading stdin")?,
        Err(_) => bail!(
            "no redirect URL was pasted within {} seconds; nothing was created — start again",
            timeout.as_secs()
        ),
    };
    let line = line.trim();
    if line.is_empty() {
        bail!("no redirect URL was pasted; nothing was created — start again");
    }
    Ok(Callback::from_query(line))
}

/// Waits for the callback: on the bound listener, or pasted on stdin when there is none.
pub async fn receive(
    listener: Option<CallbackListener>,
    timeout: Duration,
) -> anyhow::Result<Callback> {
    match listener {
        Some(listener) => listener.wait(timeout).await,
        None => read_pasted(timeout).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_https_redirect_uri_cannot_be_served_locally() {
        let Err(e) = CallbackListener::bind("https://example.com/cb").await else {
            panic!("bound an https redirect URI");
        };
        assert!(e.to_string().contains("--no-listen"), "{e}");
    }
}
