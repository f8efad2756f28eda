//! The OAuth 2.0 (3LO) server over HTTP: the consent pages and auto-consent here; the token
//! endpoint, refresh-token rotation, access-token expiry and discovery in `token_endpoint`.

use std::sync::atomic::Ordering;

use jiraflow_sim::SimConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestSim, send_json};

mod token_endpoint;

const CALLBACK: &str = "http://127.0.0.1:8080/oauth/callback";
const ALL_SCOPES: &str = "read:jira-user read:jira-work write:jira-work offline_access";

async fn auto_sim() -> TestSim {
    TestSim::start_with(SimConfig {
        auto_consent: true,
        ..SimConfig::default()
    })
    .await
}

/// `/authorize?...` with the documented parameters, overridden or extended by `extra`.
fn authorize_url(sim: &TestSim, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("audience", "api.atlassian.com"),
        ("client_id", &sim.sim.info.client_id),
        ("scope", scope),
        ("redirect_uri", CALLBACK),
        ("state", "st-123"),
        ("response_type", "code"),
        ("prompt", "consent"),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        params.push((k, v));
    }
    let mut url = url::Url::parse(&format!("{}/authorize", sim.sim.info.auth_url)).expect("url");
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// The query parameters of a redirect's `Location`.
fn location_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header");
    assert!(
        location.starts_with(CALLBACK),
        "redirects to the callback: {location}"
    );
    url::Url::parse(location)
        .expect("absolute location")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("hidden field present") + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

/// Runs `/authorize` on an auto-consent simulator and returns the code.
async fn auto_code(sim: &TestSim, scope: &str, extra: &[(&str, &str)]) -> String {
    let response = sim
        .http
        .get(authorize_url(sim, scope, extra))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = location_params(&response);
    assert_eq!(param(&params, "state"), Some("st-123"));
    param(&params, "code").expect("a code").to_owned()
}

fn token_url(sim: &TestSim) -> String {
    format!("{}/oauth/token", sim.sim.info.auth_url)
}

/// POSTs a JSON body to the token endpoint.
async fn token_json(sim: &TestSim, body: Value) -> (u16, Value) {
    send_json(sim.http.post(token_url(sim)).json(&body)).await
}

async fn exchange(sim: &TestSim, code: &str) -> (u16, Value) {
    token_json(
        sim,
        json!({
            "grant_type": "authorization_code",
            "client_id": sim.sim.info.client_id,
            "client_secret": sim.sim.info.client_secret,
            "code": code,
            "redirect_uri": CALLBACK,
        }),
    )
    .await
}

async fn refresh(sim: &TestSim, refresh_token: &str) -> (u16, Value) {
    send_json(sim.http.post(token_url(sim)).form(&[
        ("grant_type", "refresh_token"),
        ("client_id", sim.sim.info.client_id.as_str()),
        ("client_secret", sim.sim.info.client_secret.as_str()),
        ("refresh_token", refresh_token),
    ]))
    .await
}

fn str_of<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {body}"))
}

/// GET /myself on `cloud_id` with `token`.
async fn myself(sim: &TestSim, cloud_id: &str, token: &str) -> (u16, Value) {
    let url = format!(
        "{}/ex/jira/{cloud_id}/rest/api/3/myself",
        sim.sim.info.api_url
    );
    send_json(sim.http.get(url).bearer_auth(token)).await
}

async fn accessible_resources(sim: &TestSim, token: &str) -> (u16, Value) {
    let url = format!("{}/oauth/token/accessible-resources", sim.sim.info.api_url);
    send_json(sim.http.get(url).bearer_auth(token)).await
}

fn counter(
    sim: &TestSim,
    pick: fn(&jiraflow_sim::state::Counters) -> &std::sync::atomic::AtomicU64,
) -> u64 {
    pick(&sim.sim.state.counters).load(Ordering::Relaxed)
}

#[tokio::test]
async fn the_code_flow_runs_through_login_consent_and_site_picker_to_the_callback() {
    let sim = TestSim::start().await;
    let page = sim
        .http
        .get(authorize_url(&sim, ALL_SCOPES, &[]))
        .send()
        .await
        .expect("answered");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("<form method=\"post\" action=\"/authorize/login\">"));
    let login = sim
        .http
        .post(format!("{}/authorize/login", sim.sim.info.auth_url))
        .form(&[
            ("pending", hidden(&html, "pending").as_str()),
            ("form_token", hidden(&html, "form_token").as_str()),
            ("login", "ada@acme.example"),
            ("password", jiraflow_sim::seed::SEED_PASSWORD),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let consent_path = login.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let consent = sim
        .http
        .get(format!("{}{consent_path}", sim.sim.info.auth_url))
        .send()
        .await
        .expect("answered");
    assert_eq!(consent.status(), StatusCode::OK);
    let html = consent.text().await.expect("html");
    assert!(html.contains("jiraflow"), "names the app");
    assert!(
        html.contains("<code>write:jira-work</code>"),
        "lists scopes"
    );
    assert!(
        html.contains("<select id=\"site\" name=\"site\""),
        "Ada picks a site"
    );
    assert!(html.contains(jiraflow_sim::seed::GLOBEX_CLOUD_ID));
    let answer = sim
        .http
        .post(format!("{}/authorize/consent", sim.sim.info.auth_url))
        .form(&[
            ("pending", hidden(&html, "pending").as_str()),
            ("form_token", hidden(&html, "form_token").as_str()),
            ("site", jiraflow_sim::seed::GLOBEX_CLOUD_ID),
            ("decision", "accept"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::FOUND);
    let params = location_params(&answer);
    assert_eq!(param(&params, "state"), Some("st-123"));
    let code = param(&params, "code").expect("code");

    let (status, tokens) = exchange(&sim, code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let access = str_of(&tokens, "access_token");
    let (status, sites) = accessible_resources(&sim, access).await;
    assert_eq!(status, 200);
    let sites = sites.as_array().expect("array");
    assert_eq!(sites.len(), 1, "only the picked site: {sites:?}");
    assert_eq!(sites[0]["id"], jiraflow_sim::seed::GLOBEX_CLOUD_ID);
    assert_eq!(sites[0]["name"], "globex");
    let (status, me) = myself(&sim, jiraflow_sim::seed::GLOBEX_CLOUD_ID, access).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["accountId"], jiraflow_sim::seed::ADMIN_ACCOUNT);
    let (status, _) = myself(&sim, jiraflow_sim::seed::ACME_CLOUD_ID, access).await;
    assert_eq!(
        status, 401,
        "the site that was not picked is not in the grant"
    );
}

/// Opens the login page and logs in as `login`, returning the consent page.
async fn log_in(sim: &TestSim, login: &str, password: &str) -> (StatusCode, String) {
    let html = sim
        .http
        .get(authorize_url(sim, ALL_SCOPES, &[]))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    let response = sim
        .http
        .post(format!("{}/authorize/login", sim.sim.info.auth_url))
        .form(&[
            ("pending", hidden(&html, "pending").as_str()),
            ("form_token", hidden(&html, "form_token").as_str()),
            ("login", login),
            ("password", password),
        ])
        .send()
        .await
        .expect("answered");
    if response.status() != StatusCode::SEE_OTHER {
        let status = response.status();
        return (status, response.text().await.expect("html"));
    }
    let path = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let consent = sim
        .http
        .get(format!("{}{path}", sim.sim.info.auth_url))
        .send()
        .await
        .expect("answered");
    (consent.status(), consent.text().await.expect("html"))
}

#[tokio::test]
async fn a_wrong_password_shows_the_login_form_again() {
    let sim = TestSim::start().await;
    let (status, html) = log_in(&sim, "bob@acme.example", "nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Incorrect email address and / or password."));
    assert!(html.contains("action=\"/authorize/login\""));
}

#[tokio::test]
async fn denying_consent_redirects_with_access_denied_and_the_state() {
    let sim = TestSim::start().await;
    let (status, html) = log_in(&sim, "kiri@acme.example", "sandbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<select"), "one site, no picker");
    let answer = sim
        .http
        .post(format!("{}/authorize/consent", sim.sim.info.auth_url))
        .form(&[
            ("pending", hidden(&html, "pending").as_str()),
            ("form_token", hidden(&html, "form_token").as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::FOUND);
    let params = location_params(&answer);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st-123"));
    assert_eq!(param(&params, "code"), None);
}

#[tokio::test]
async fn a_consent_form_with_a_foreign_form_token_is_refused() {
    let sim = TestSim::start().await;
    let (_, html) = log_in(&sim, "kiri@acme.example", "sandbox").await;
    let answer = sim
        .http
        .post(format!("{}/authorize/consent", sim.sim.info.auth_url))
        .form(&[
            ("pending", hidden(&html, "pending").as_str()),
            ("form_token", "forged"),
            ("site", jiraflow_sim::seed::ACME_CLOUD_ID),
            ("decision", "accept"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(answer.headers().get("location").is_none());
}

#[tokio::test]
async fn auto_consent_approves_as_the_site_admin_on_the_first_site_or_as_the_hinted_user() {
    let sim = auto_sim().await;
    let code = auto_code(&sim, ALL_SCOPES, &[]).await;
    let (_, tokens) = exchange(&sim, &code).await;
    let (status, sites) = accessible_resources(&sim, str_of(&tokens, "access_token")).await;
    assert_eq!(status, 200);
    assert_eq!(sites[0]["id"], jiraflow_sim::seed::ACME_CLOUD_ID);
    assert_eq!(
        sites[0]["scopes"],
        json!(["read:jira-user", "read:jira-work", "write:jira-work"]),
        "product scopes only"
    );
    assert!(sites[0]["avatarUrl"].is_string());
    assert!(
        sites[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/site/acme"))
    );

    let code = auto_code(&sim, ALL_SCOPES, &[("sim_user", "bob@acme.example")]).await;
    let (_, tokens) = exchange(&sim, &code).await;
    let (_, me) = myself(
        &sim,
        jiraflow_sim::seed::ACME_CLOUD_ID,
        str_of(&tokens, "access_token"),
    )
    .await;
    assert_eq!(me["accountId"], jiraflow_sim::seed::MEMBER_ACCOUNT);
}

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let sim = auto_sim().await;
    for extra in [
        [("redirect_uri", "http://evil.example/callback")],
        [("client_id", "nobody")],
    ] {
        let response = sim
            .http
            .get(authorize_url(&sim, ALL_SCOPES, &extra))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.expect("html");
        assert!(html.starts_with("<!doctype html>"));
    }
}

#[tokio::test]
async fn other_authorization_errors_are_redirected_back_with_the_state() {
    let sim = auto_sim().await;
    for (extra, error) in [
        (("response_type", "token"), "unsupported_response_type"),
        (
            ("scope", "read:jira-work delete:everything"),
            "invalid_scope",
        ),
        (("audience", "example.com"), "invalid_request"),
    ] {
        let response = sim
            .http
            .get(authorize_url(&sim, ALL_SCOPES, &[extra]))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::FOUND);
        let params = location_params(&response);
        assert_eq!(param(&params, "error"), Some(error), "{extra:?}");
        assert!(param(&params, "error_description").is_some());
        assert_eq!(param(&params, "state"), Some("st-123"));
    }
}
