//! Shared test support: start a simulator in-process and talk to it over HTTP.

#![allow(dead_code)]

pub mod spec;

use jiraflow_sim::{RunningSim, SimConfig};
use serde_json::Value;

/// A started simulator plus an HTTP client and the ready information.
pub struct TestSim {
    /// The running simulator (its state is reachable for white-box checks).
    pub sim: RunningSim,
    /// A client that does not follow redirects.
    pub http: reqwest::Client,
}

impl TestSim {
    /// Starts a demo-seeded simulator on free loopback ports.
    pub async fn start() -> Self {
        Self::start_with(SimConfig::default()).await
    }

    /// Starts a simulator with `config` (listen addresses are forced to free loopback ports).
    pub async fn start_with(mut config: SimConfig) -> Self {
        config.listen = ([127, 0, 0, 1], 0).into();
        config.media_listen = ([127, 0, 0, 1], 0).into();
        let sim = jiraflow_sim::start(config).await.expect("simulator starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds");
        Self { sim, http }
    }

    /// `{jira_base_url}/rest/api/3{path}` for the first site.
    pub fn api(&self, path: &str) -> String {
        format!("{}/rest/api/3{path}", self.sim.info.jira_base_url)
    }

    /// The site admin's bearer token (every classic scope).
    pub fn admin_token(&self) -> &str {
        &self.sim.info.admin_token
    }

    /// A request with the admin's bearer token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.api(path))
            .bearer_auth(self.admin_token())
    }

    /// Issues a token for `account_id` with `scopes` directly in the world (no consent), valid for
    /// an hour of simulated time.
    pub fn token_for(&self, account_id: &str, scopes: &[&str]) -> String {
        let now = self.sim.state.clock.now_ms();
        let mut world = self.sim.state.world.write();
        let client_id = self.sim.info.client_id.clone();
        jiraflow_sim::oauth::issue_static_token(
            &mut world,
            account_id,
            &client_id,
            scopes,
            now + 3_600_000,
        )
    }
}

/// Sends `request`, returns status and JSON body (`Value::Null` for an empty body).
pub async fn send_json(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request is answered");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body is read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, body)
}
