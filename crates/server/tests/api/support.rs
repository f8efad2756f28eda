//! The harness: a store in a temp directory with the admin `ada` and the member `bob` (each with
//! an API key), the server's state and router over it, and an in-process simulator whose OAuth
//! app is registered as `sim` and whose consent redirects to this server's callback.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use jiraflow_engine::connections::{ClientSource, StoreClients};
use jiraflow_engine::executor::{Executor, ExecutorConfig};
use jiraflow_engine::triggers::TriggerSettings;
use jiraflow_engine::triggers::webhook::{ReceiverConfig, WebhookReceiver};
use jiraflow_files::{Files, FilesConfig, LocalFileStore};
use jiraflow_oauth::{OAuthClient, REQUIRED_SCOPES, TokenManager, TokenManagerConfig};
use jiraflow_server::{AppState, MeteredClients, Services};
use jiraflow_sim::{RunningSim, SimConfig};
use jiraflow_store::{
    ClientSecret, Environment, NewOAuthApp, NewUser, Permission, SqliteStore, Store,
};
use serde_json::Value;
use tower::ServiceExt;

/// Registered with the simulator and used by the server; nothing listens there, because the
/// harness plays the browser and hands the redirect to the router itself.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth/callback";

pub struct Harness {
    pub dir: PathBuf,
    pub sqlite: Arc<SqliteStore>,
    pub state: AppState,
    pub router: Router,
    pub admin_key: String,
    pub member_key: String,
    pub sim: RunningSim,
}

/// An answer: status, headers and body bytes.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The API error's code, message and field.
    pub fn error(&self) -> (String, String, Option<String>) {
        let v = self.json();
        let e = &v["error"];
        (
            e["code"].as_str().expect("error.code").to_owned(),
            e["message"].as_str().expect("error.message").to_owned(),
            e["field"].as_str().map(str::to_owned),
        )
    }
}

impl Harness {
    pub async fn start(label: &str) -> Self {
        Self::start_with(label, false).await
    }

    /// With `webhooks`, `POST /webhooks/jira` goes to the engine's webhook receiver.
    pub async fn start_with(label: &str, webhooks: bool) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jiraflow-server-{label}-{}-{}",
            std::process::id(),
            uuid_like()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (sqlite, _) = SqliteStore::open_data_dir(&dir).await.unwrap();
        let sqlite = Arc::new(sqlite);
        let store: Arc<dyn Store> = sqlite.clone();
        let ada = store
            .create_user(NewUser {
                name: "ada".into(),
                permissions: vec![Permission::ManageIntegrationConnections],
            })
            .await
            .unwrap();
        let bob = store
            .create_user(NewUser {
                name: "bob".into(),
                permissions: vec![],
            })
            .await
            .unwrap();
        let admin_key = store
            .create_api_key(ada.id, "test".into())
            .await
            .unwrap()
            .key
            .expose()
            .to_owned();
        let member_key = store
            .create_api_key(bob.id, "test".into())
            .await
            .unwrap()
            .key
            .expose()
            .to_owned();
        let sim = jiraflow_sim::start(SimConfig {
            auto_consent: true,
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            ..SimConfig::default()
        })
        .await
        .unwrap();
        store
            .create_oauth_app(NewOAuthApp {
                name: "sim".into(),
                client_id: sim.info.client_id.clone(),
                client_secret: ClientSecret::new(sim.info.client_secret.clone()),
                scopes: REQUIRED_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                auth_base_url: sim.info.auth_url.clone(),
                api_base_url: sim.info.api_url.clone(),
                environment: Environment::Sandbox,
            })
            .await
            .unwrap();
        let oauth = OAuthClient::new().unwrap();
        let tokens = Arc::new(TokenManager::new(
            store.clone(),
            oauth.clone(),
            TokenManagerConfig::default(),
        ));
        let clients = Arc::new(MeteredClients::new(Arc::new(StoreClients::new(
            store.clone(),
            tokens.clone(),
        ))));
        let content = LocalFileStore::open(&dir).await.unwrap();
        let files =
            Arc::new(Files::new(store.clone(), Arc::new(content), FilesConfig::default()).unwrap());
        let executor = Arc::new(
            Executor::new(
                store.clone(),
                clients.clone() as Arc<dyn ClientSource>,
                ExecutorConfig::default(),
            )
            .with_files(files.clone()),
        );
        let receiver = Arc::new(WebhookReceiver::new(
            store.clone(),
            clients.clone() as Arc<dyn ClientSource>,
            TriggerSettings::default(),
            ReceiverConfig::default(),
        ));
        let services = Services {
            store,
            executor,
            files,
            clients,
            tokens,
            oauth,
            redirect_uri: REDIRECT_URI.to_owned(),
            scheduler: None,
        };
        let state = if webhooks {
            AppState::with_webhooks(services, receiver)
        } else {
            AppState::new(services)
        };
        let router = jiraflow_server::router(state.clone());
        Self {
            dir,
            sqlite,
            state,
            router,
            admin_key,
            member_key,
            sim,
        }
    }

    pub async fn stop(self) {
        self.sim.shutdown().await;
        self.sqlite.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Sends a request through the router.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `method path` with `key` as the Bearer API key and an optional body and content type.
    pub async fn call(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            builder = builder.header("authorization", format!("Bearer {key}"));
        }
        let request = match body {
            Some((content_type, bytes)) => builder
                .header("content-type", content_type)
                .header("content-length", bytes.len())
                .body(Body::from(bytes)),
            None => builder.body(Body::empty()),
        }
        .unwrap();
        self.send(request).await
    }

    /// As the admin `ada`.
    pub async fn admin(&self, method: Method, path: &str) -> Answer {
        self.call(Some(&self.admin_key), method, path, None).await
    }

    /// As the admin, with a JSON body.
    pub async fn admin_json(&self, method: Method, path: &str, body: &Value) -> Answer {
        self.call(
            Some(&self.admin_key),
            method,
            path,
            Some(("application/json", serde_json::to_vec(body).unwrap())),
        )
        .await
    }

    /// Creates the connection `name` as `ada` through the API and the real consent: the
    /// simulator approves at once and redirects to the callback, which the router completes.
    pub async fn connect(&self, name: &str) {
        let started = self
            .admin_json(
                Method::POST,
                "/api/v1/connections",
                &serde_json::json!({"name": name, "app": "sim", "site": self.sim.info.site_url}),
            )
            .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.text());
        let url = started.json()["authorization_url"]
            .as_str()
            .unwrap()
            .to_owned();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let consent = http.get(&url).send().await.unwrap();
        assert_eq!(consent.status().as_u16(), 302);
        let location = consent.headers()["location"].to_str().unwrap().to_owned();
        let path = location
            .strip_prefix("http://127.0.0.1:9")
            .unwrap()
            .to_owned();
        let page = self
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        assert!(page.text().contains(name), "{}", page.text());
    }

    /// Applies `yaml` as flow `name` as the admin.
    pub async fn put_flow(&self, name: &str, yaml: &str) -> Answer {
        self.call(
            Some(&self.admin_key),
            Method::PUT,
            &format!("/api/v1/flows/{name}"),
            Some(("application/yaml", yaml.as_bytes().to_vec())),
        )
        .await
    }
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
