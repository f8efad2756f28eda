//! Logs never carry a secret: connect and refresh with every event of this crate captured.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiraflow_store::TokenStore;

use crate::support::{Env, REDIRECT, contains};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn connecting_and_refreshing_log_no_code_state_token_or_secret() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("jiraflow_oauth=trace,reqwest=trace,hyper=trace")
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let env = Env::start().await;
    let flow = env.flow();
    let started = flow
        .begin_connect(&env.user, env.draft("acme"), REDIRECT)
        .await
        .unwrap();
    let callback = env.consent(&started.authorization_url, &[]).await;
    let (code, state) = (
        callback.code.clone().unwrap(),
        callback.state.clone().unwrap(),
    );
    let c = flow
        .complete(&env.user, callback)
        .await
        .unwrap()
        .into_connection()
        .unwrap()
        .connection;
    let first = env.store.get_tokens(c.token_family_id).await.unwrap();
    let manager = env.manager(Duration::from_secs(60));
    let second = manager
        .force_refresh(c.id, &first.access_token)
        .await
        .unwrap();
    let stored = env.store.get_tokens(c.token_family_id).await.unwrap();

    let logs = buffer.0.lock().unwrap().clone();
    assert!(
        contains(&logs, "connection created"),
        "{}",
        String::from_utf8_lossy(&logs)
    );
    for secret in [
        code.as_str(),
        state.as_str(),
        first.access_token.expose(),
        first.refresh_token.as_ref().unwrap().expose(),
        second.expose(),
        stored.refresh_token.as_ref().unwrap().expose(),
        env.sim.info.client_secret.as_str(),
    ] {
        assert!(!contains(&logs, secret), "a secret reached the logs");
    }
}
