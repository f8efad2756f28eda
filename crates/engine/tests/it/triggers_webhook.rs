//! Webhook and hybrid trigger modes against the in-process simulator (its webhook sender posting
//! to a small local receiver that calls `WebhookReceiver::accept`) and a SQLite store: runs from
//! deliveries with the payload a poll builds, forged / `alg: none` / expired tokens, replayed
//! identifiers, comment events, the JQL split with its residual checked by `jql/match`, lost
//! registrations, and a 31-day clock jump healed by the registrar and the reconciliation poll.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone as _, Utc};
use futures_util::TryStreamExt as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use http_body_util::BodyExt as _;
use jiraflow_engine::connections::FixedClients;
use jiraflow_engine::flow::{AnyConnection, TriggerSpec, load_flow};
use jiraflow_engine::triggers::webhook::receive::{Accepted, ReceiverConfig, WebhookReceiver};
use jiraflow_engine::triggers::webhook::register::{Ensured, RegisterReason, WebhookRegistrar};
use jiraflow_engine::triggers::webhook::verify::DeliveryError;
use jiraflow_engine::triggers::{PollTrigger, TriggerSettings};
use jiraflow_store::{
    AccessToken, ClientSecret, ConnectionSource, Environment, NewConnection, NewOAuthApp,
    NewTokens, RunQuery, RunRecord, Store,
};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::executor::Harness;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A harness with the simulator's app and an `acme` connection in the store, a receiver whose
/// worker runs, and a local endpoint the simulator delivers to.
struct Webhooks {
    h: Harness,
    receiver: Arc<WebhookReceiver>,
    registrar: WebhookRegistrar,
    url: String,
    /// HTTP statuses the endpoint answered, in order.
    answers: Arc<Mutex<Vec<u16>>>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Webhooks {
    async fn start() -> Result<Self> {
        let h = Harness::new().await?;
        let store = h.store();
        let app = store
            .create_oauth_app(NewOAuthApp {
                name: "sim".into(),
                client_id: h.sim.info.client_id.clone(),
                client_secret: ClientSecret::new(h.sim.info.client_secret.clone()),
                scopes: vec!["read:jira-work".into()],
                auth_base_url: h.sim.info.auth_url.clone(),
                api_base_url: h.sim.info.api_url.clone(),
                environment: Environment::Sandbox,
            })
            .await?;
        store
            .create_connection(NewConnection {
                name: "acme".into(),
                description: String::new(),
                source: ConnectionSource::OAuthApp {
                    oauth_app_id: app.id,
                    tokens: NewTokens {
                        access_token: AccessToken::new(h.sim.info.admin_token.clone()),
                        refresh_token: None,
                        expires_at: Utc::now() + chrono::Duration::hours(1),
                        scopes: vec!["read:jira-work".into()],
                    },
                },
                cloud_id: h.sim.info.cloud_id.clone(),
                site_url: Some(h.sim.info.site_url.clone()),
                created_by: None,
            })
            .await?;
        let clients = Arc::new(FixedClients::new().with("acme", Arc::clone(&h.jira)));
        let receiver = Arc::new(WebhookReceiver::new(
            Arc::clone(&store),
            clients.clone(),
            poll_settings(),
            ReceiverConfig {
                receiver_path: Some("/hook".to_owned()),
                ..ReceiverConfig::default()
            },
        ));
        let registrar = WebhookRegistrar::new(Arc::clone(&store), clients);
        let answers: Arc<Mutex<Vec<u16>>> = Arc::default();
        let url = serve(Arc::clone(&receiver), h.sim.state.clone(), answers.clone()).await?;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        receiver.spawn(&tracker, cancel.clone());
        Ok(Self {
            h,
            receiver,
            registrar,
            url,
            answers,
            cancel,
            tracker,
        })
    }

    fn store(&self) -> Arc<dyn Store> {
        self.h.store()
    }

    fn now(&self) -> DateTime<Utc> {
        sim_now(&self.h.sim.state)
    }

    /// Applies a flow and registers its webhook.
    async fn apply(&self, yaml: &str) -> Result<(String, TriggerSpec, i64)> {
        let name = self.h.apply(yaml).await?;
        let spec = load_flow(("test.yaml", yaml), &AnyConnection)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .spec
            .trigger;
        let ensured = self
            .registrar
            .ensure(&name, &spec, &self.h.jira, &self.url, self.now())
            .await?;
        let Ensured::Registered { webhook_id, .. } = ensured else {
            bail!("a new flow's webhook was not registered: {ensured:?}");
        };
        Ok((name, spec, webhook_id))
    }

    async fn runs(&self, flow: &str) -> Result<Vec<RunRecord>> {
        Ok(self
            .store()
            .list_runs(RunQuery {
                flow_name: Some(flow.to_owned()),
                ..RunQuery::default()
            })
            .await?)
    }

    /// Waits until the receiver has processed `n` (delivery, flow) pairs.
    async fn processed(&self, n: u64) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while self.receiver.stats().processed < n {
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{n} deliveries not processed within 15s: {:?}; answers {:?}",
                    self.receiver.stats(),
                    self.answers.lock().map(|a| a.clone())
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Creates a DEMO task; returns its id and key.
    async fn create_issue(&self, summary: &str, labels: &[&str]) -> Result<(String, String)> {
        let created = self
            .h
            .jira
            .issues()
            .create("DEMO", "Task", summary)
            .labels(labels.iter().copied())
            .send()
            .await?;
        Ok((
            created.id.as_str().to_owned(),
            created.key.as_str().to_owned(),
        ))
    }

    async fn stop(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

fn poll_settings() -> TriggerSettings {
    TriggerSettings {
        settle: Duration::ZERO,
        overlap: Duration::from_secs(5),
        ..TriggerSettings::default()
    }
}

fn sim_now(state: &jiraflow_sim::state::SimState) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(state.clock.now_ms())
        .single()
        .unwrap_or_else(Utc::now)
}

/// The local endpoint: every POST goes to `accept`, answered with its status.
async fn serve(
    receiver: Arc<WebhookReceiver>,
    sim: jiraflow_sim::state::SimState,
    answers: Arc<Mutex<Vec<u16>>>,
) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (receiver, sim, answers) = (receiver.clone(), sim.clone(), answers.clone());
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (receiver, sim, answers) = (receiver.clone(), sim.clone(), answers.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let bytes = body
                            .collect()
                            .await
                            .map(http_body_util::Collected::to_bytes)
                            .unwrap_or_default();
                        let status =
                            match receiver.accept(&parts.headers, &bytes, sim_now(&sim)).await {
                                Ok(_) => 200,
                                Err(e) => e.http_status(),
                            };
                        answers.lock().expect("answers").push(status);
                        let response = hyper::Response::builder()
                            .status(status)
                            .body(http_body_util::Empty::<bytes::Bytes>::new())
                            .expect("response");
                        Ok::<_, Infallible>(response)
                    }
                });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}/hook"))
}

fn new_issue_flow(name: &str, mode: &str) -> String {
    let start = Utc::now() - chrono::Duration::minutes(1);
    format!(
        "name: {name}\ntrigger:\n  type: new_issue\n  connection: acme\n  options:\n    \
         project: DEMO\n    mode: {mode}\n    ignore_own_changes: false\n    start: \"{}\"\n\
         steps:\n  - id: look\n    action: get_comments\n    connection: acme\n    input:\n      \
         issue: \"{{{{ trigger.issue.key }}}}\"\n",
        start.to_rfc3339()
    )
}

fn token(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn delivery_headers(token: &str, identifier: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    headers.insert(
        "X-Atlassian-Webhook-Identifier",
        identifier.parse().expect("header"),
    );
    headers
}

#[tokio::test]
async fn a_delivery_becomes_exactly_one_run_with_the_payload_a_poll_builds() -> Result<()> {
    let w = Webhooks::start().await?;
    let (flow, spec, _) = w.apply(&new_issue_flow("hooked", "webhook")).await?;
    let (issue_id, _) = w.create_issue("from a webhook", &[]).await?;
    w.processed(1).await?;
    let runs = w.runs(&flow).await?;
    assert_eq!(runs.len(), 1, "{:?}", w.receiver.stats());
    let polled = PollTrigger::build(&flow, &spec, poll_settings())?
        .issue_event(&w.h.jira, &issue_id)
        .await?
        .context("a poll builds the event too")?;
    assert_eq!(runs[0].trigger, polled.payload);
    assert_eq!(
        runs[0].dedupe_key.as_deref(),
        Some(polled.dedupe_key.as_str())
    );
    // A poll over the same window finds the event already in the inbox.
    let report = PollTrigger::build(&flow, &spec, poll_settings())?
        .poll_once(&w.h.jira, w.store().as_ref(), w.now())
        .await?;
    assert_eq!(report.enqueued, 0, "{report:?}");
    assert_eq!(w.runs(&flow).await?.len(), 1);
    w.stop().await;
    Ok(())
}

#[tokio::test]
async fn forged_unsigned_and_expired_tokens_are_refused_and_enqueue_nothing() -> Result<()> {
    let w = Webhooks::start().await?;
    let (flow, _, webhook_id) = w.apply(&new_issue_flow("guarded", "webhook")).await?;
    let now = w.now();
    let body = json!({
        "webhookEvent": "jira:issue_created",
        "issue": {"id": "10000"},
        "matchedWebhookIds": [webhook_id],
    })
    .to_string();
    let claims = |iat: i64| {
        json!({
            "iss": format!("jira:{}", w.h.sim.info.cloud_id),
            "iat": iat,
            "exp": iat + 180,
        })
    };
    let secret = w.h.sim.info.client_secret.clone();
    let wrong = token(
        &json!({"alg": "HS256"}),
        &claims(now.timestamp()),
        "not-the-secret",
    );
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims(now.timestamp()).to_string())
    );
    let expired = token(
        &json!({"alg": "HS256"}),
        &claims(now.timestamp() - 3600),
        &secret,
    );
    for (what, t) in [
        ("wrong secret", wrong),
        ("alg none", none),
        ("expired", expired),
    ] {
        let error = w
            .receiver
            .accept(&delivery_headers(&t, what), body.as_bytes(), now)
            .await
            .expect_err(what);
        assert!(
            matches!(error, DeliveryError::Forged(_) | DeliveryError::Expired(_)),
            "{what}: {error}"
        );
        assert_eq!(error.http_status(), 401, "{what}");
    }
    assert_eq!(w.receiver.stats().queued, 0);
    assert!(w.runs(&flow).await?.is_empty());
    w.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_replayed_identifier_is_dropped_without_work() -> Result<()> {
    let w = Webhooks::start().await?;
    let (flow, _, webhook_id) = w.apply(&new_issue_flow("replayed", "webhook")).await?;
    // Stop the worker so the queued delivery stays a delivery (this test is about acceptance).
    w.cancel.cancel();
    let now = w.now();
    let body = json!({
        "webhookEvent": "jira:issue_created",
        "issue": {"id": "10000"},
        "matchedWebhookIds": [webhook_id],
    })
    .to_string();
    let t = token(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"iat": now.timestamp(), "exp": now.timestamp() + 180}),
        &w.h.sim.info.client_secret,
    );
    let headers = delivery_headers(&t, "delivery-1");
    let first = w.receiver.accept(&headers, body.as_bytes(), now).await?;
    assert_eq!(
        first,
        Accepted::Queued {
            identifier: "delivery-1".into(),
            flows: vec![flow]
        }
    );
    let again = w.receiver.accept(&headers, body.as_bytes(), now).await?;
    assert_eq!(
        again,
        Accepted::Duplicate {
            identifier: "delivery-1".into()
        }
    );
    assert_eq!(
        (w.receiver.stats().queued, w.receiver.stats().duplicates),
        (1, 1)
    );
    w.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_unsupported_clause_is_registered_without_and_checked_with_jql_match() -> Result<()> {
    let w = Webhooks::start().await?;
    let yaml = "name: urgent\ntrigger:\n  type: new_issue_with_filter\n  connection: acme\n  \
                options:\n    jql: \"project = DEMO AND labels = urgent\"\n    mode: webhook\n    \
                ignore_own_changes: false\nsteps:\n  - id: look\n    action: get_comments\n    \
                connection: acme\n    input:\n      issue: \"{{ trigger.issue.key }}\"\n";
    let (flow, _, webhook_id) = w.apply(yaml).await?;
    let listed: Vec<_> = w.h.jira.webhooks().list().stream().try_collect().await?;
    let registered = listed
        .iter()
        .find(|l| l.id.as_str() == webhook_id.to_string())
        .context("the webhook is listed")?;
    assert_eq!(registered.jql_filter.as_deref(), Some("project = DEMO"));
    let (_, urgent) = w.create_issue("urgent one", &["urgent"]).await?;
    w.create_issue("calm one", &["calm"]).await?;
    w.processed(2).await?;
    let runs = w.runs(&flow).await?;
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        runs[0].trigger["issue"]["key"].as_str(),
        Some(urgent.as_str())
    );
    assert_eq!(w.receiver.stats().skipped, 1);
    w.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_expired_registration_is_recreated_by_ensure_and_by_refresh_due() -> Result<()> {
    let w = Webhooks::start().await?;
    let (flow, spec, first) = w.apply(&new_issue_flow("expiring", "webhook")).await?;
    // Still alive: nothing to do.
    let again = w
        .registrar
        .ensure(&flow, &spec, &w.h.jira, &w.url, w.now())
        .await?;
    assert_eq!(again, Ensured::Unchanged { webhook_id: first });
    w.h.sim.state.clock.advance_ms(30 * DAY_MS + 3_600_000);
    let ensured = w
        .registrar
        .ensure(&flow, &spec, &w.h.jira, &w.url, w.now())
        .await?;
    let Ensured::Registered {
        webhook_id: second,
        reason,
        ..
    } = ensured
    else {
        bail!("an expired webhook was kept: {ensured:?}");
    };
    assert_eq!(reason, RegisterReason::Lost);
    assert_ne!(second, first);
    w.h.sim.state.clock.advance_ms(30 * DAY_MS + 3_600_000);
    let report = w.registrar.refresh_due(w.now(), &w.url).await?;
    assert_eq!(report.recreated, vec![flow.clone()], "{report:?}");
    let state = w.store().trigger_state(&flow).await?.context("state")?;
    let reg = state.webhook.context("a registration is stored")?;
    assert_ne!(reg.webhook_id, second);
    assert!(reg.expires_at > w.now() + chrono::Duration::days(29));
    w.stop().await;
    Ok(())
}

#[tokio::test]
async fn after_a_31_day_jump_the_registrar_and_the_reconciliation_poll_heal_the_gap() -> Result<()>
{
    let w = Webhooks::start().await?;
    let (flow, spec, first) = w.apply(&new_issue_flow("healing", "hybrid")).await?;
    let (_, before) = w.create_issue("before the gap", &[]).await?;
    w.processed(1).await?;
    assert_eq!(w.runs(&flow).await?.len(), 1);

    // 31 days pass without a refresh: Jira drops the webhook and delivers nothing for the gap.
    w.h.sim.state.clock.advance_ms(31 * DAY_MS);
    let (_, during) = w.create_issue("during the gap", &[]).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        w.receiver.stats().processed,
        1,
        "an expired webhook delivered"
    );

    let report = w.registrar.refresh_due(w.now(), &w.url).await?;
    assert_eq!(report.recreated, vec![flow.clone()], "{report:?}");
    let reg = w
        .store()
        .trigger_state(&flow)
        .await?
        .and_then(|s| s.webhook)
        .context("registration")?;
    assert_ne!(reg.webhook_id, first);

    let polled = PollTrigger::build(&flow, &spec, poll_settings())?
        .poll_once(
            &w.h.jira,
            w.store().as_ref(),
            w.now() + chrono::Duration::seconds(1),
        )
        .await?;
    assert_eq!(polled.enqueued, 1, "{polled:?}");
    let runs = w.runs(&flow).await?;
    let keys: Vec<_> = runs
        .iter()
        .filter_map(|r| r.trigger["issue"]["key"].as_str())
        .collect();
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert!(
        keys.contains(&before.as_str()) && keys.contains(&during.as_str()),
        "{keys:?}"
    );

    // The re-created webhook delivers again.
    w.create_issue("after the gap", &[]).await?;
    w.processed(2).await?;
    assert_eq!(w.runs(&flow).await?.len(), 3);
    w.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_comment_delivery_becomes_one_run_of_a_comment_trigger() -> Result<()> {
    let w = Webhooks::start().await?;
    let yaml = "name: commented\ntrigger:\n  type: new_comment\n  connection: acme\n  \
                options:\n    project: DEMO\n    mode: webhook\n    ignore_own_changes: false\n\
                steps:\n  - id: look\n    action: get_comments\n    connection: acme\n    \
                input:\n      issue: \"{{ trigger.issue.key }}\"\n";
    let (flow, spec, _) = w.apply(yaml).await?;
    let (issue_id, _) = w.create_issue("to comment on", &[]).await?;
    let comment =
        w.h.jira
            .comments()
            .add(issue_id.as_str(), "a webhook comment")
            .send()
            .await?;
    w.processed(1).await?;
    let runs = w.runs(&flow).await?;
    assert_eq!(runs.len(), 1, "{:?}", w.receiver.stats());
    let polled = PollTrigger::build(&flow, &spec, poll_settings())?
        .comment_event(&w.h.jira, &issue_id, comment.id.as_str())
        .await?
        .context("a poll builds the comment event too")?;
    assert_eq!(runs[0].trigger, polled.payload);
    w.stop().await;
    Ok(())
}
