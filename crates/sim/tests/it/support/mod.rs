//! Shared test support: start a simulator in-process and talk to it over HTTP.

#![allow(dead_code)]

pub mod spec;

use jiraflow_sim::seed::{ACME_CLOUD_ID, CLASSIC_SCOPES};
use jiraflow_sim::world::SiteSettings;
use jiraflow_sim::{RunningSim, SimConfig};
use reqwest::Method;
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

/// `GET path` as the site admin: status and JSON body.
pub async fn admin_get(sim: &TestSim, path: &str) -> (u16, Value) {
    send_json(sim.admin(Method::GET, path)).await
}

/// `POST path` with a JSON `body` as the site admin: status and JSON body.
pub async fn admin_post(sim: &TestSim, path: &str, body: Value) -> (u16, Value) {
    send_json(sim.admin(Method::POST, path).json(&body)).await
}

/// A request to `path` under the first site's REST API as `account`, with a fresh token carrying
/// `scopes`.
pub fn as_user_with(
    sim: &TestSim,
    account: &str,
    scopes: &[&str],
    method: Method,
    path: &str,
) -> reqwest::RequestBuilder {
    let token = sim.token_for(account, scopes);
    sim.http.request(method, sim.api(path)).bearer_auth(token)
}

/// [`as_user_with`] with every classic scope.
pub fn as_user(
    sim: &TestSim,
    account: &str,
    method: Method,
    path: &str,
) -> reqwest::RequestBuilder {
    as_user_with(sim, account, CLASSIC_SCOPES, method, path)
}

/// The `updated` instant of issue `key` on the first site, read from the world.
pub fn issue_updated(sim: &TestSim, key: &str) -> i64 {
    let world = sim.sim.state.world.read();
    let site = world.site(ACME_CLOUD_ID).expect("site");
    let id = site.jira.resolve_issue(key).expect("issue");
    site.jira.issues[&id].updated
}

/// Changes the first site's settings directly in the world.
pub fn edit_site_settings(sim: &TestSim, edit: impl FnOnce(&mut SiteSettings)) {
    let mut world = sim.sim.state.world.write();
    edit(&mut world.site_mut(ACME_CLOUD_ID).expect("site").jira.settings);
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
