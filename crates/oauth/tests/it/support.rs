//! Shared harness: a simulator with auto-consent, a SQLite store in a fresh file, a user and a
//! sandbox OAuth app pointing at the simulator, and a headless consent helper.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiraflow_oauth::connect::Callback;
use jiraflow_oauth::{
    ConnectDraft, ConnectFlow, Connected, OAuthClient, OAuthResult, TokenManager,
    TokenManagerConfig,
};
use jiraflow_sim::{RunningSim, SimConfig};
use jiraflow_store::{
    ClientSecret, ConnectionStore, Environment, MasterKey, NewOAuthApp, NewUser, OAuthApp,
    OAuthAppStore, Permission, SqliteStore, Store, User, UserStore,
};
use secrecy::ExposeSecret;
use url::Url;

/// The seeded app's default callback.
pub const REDIRECT: &str = "http://127.0.0.1:8080/oauth/callback";

/// Every scope jiraflow asks for.
pub fn all_scopes() -> Vec<String> {
    [
        "read:jira-user",
        "read:jira-work",
        "write:jira-work",
        "manage:jira-project",
        "manage:jira-configuration",
        "offline_access",
    ]
    .map(str::to_owned)
    .to_vec()
}

pub struct Env {
    pub sim: RunningSim,
    pub store: Arc<SqliteStore>,
    pub dir: PathBuf,
    pub key: MasterKey,
    pub user: User,
    pub app: OAuthApp,
    pub client: OAuthClient,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Env {
        let sim = jiraflow_sim::start(SimConfig {
            auto_consent: true,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let dir =
            std::env::temp_dir().join(format!("jiraflow-oauth-it-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = MasterKey::generate();
        let store = Arc::new(
            SqliteStore::open(&dir.join("jiraflow.db"), clone_key(&key))
                .await
                .unwrap(),
        );
        let user = store
            .create_user(NewUser {
                name: "ada".into(),
                permissions: vec![Permission::ManageIntegrationConnections],
            })
            .await
            .unwrap();
        let app = store
            .create_oauth_app(new_app(&sim, "sim", &sim.info.client_secret, all_scopes()))
            .await
            .unwrap();
        let client = OAuthClient::new().unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Env {
            sim,
            store,
            dir,
            key,
            user,
            app,
            client,
            http,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("jiraflow.db")
    }

    pub fn dyn_store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub fn flow(&self) -> ConnectFlow {
        ConnectFlow::new(self.dyn_store(), self.client.clone())
    }

    pub fn manager(&self, skew: Duration) -> Arc<TokenManager> {
        manager_over(self.dyn_store(), skew)
    }

    /// A second, independent store handle on the same file (own pools), as another process has.
    pub async fn second_handle(&self) -> Arc<SqliteStore> {
        Arc::new(
            SqliteStore::open(&self.db_path(), clone_key(&self.key))
                .await
                .unwrap(),
        )
    }

    pub fn draft(&self, name: &str) -> ConnectDraft {
        ConnectDraft {
            name: name.into(),
            description: format!("{name} test connection"),
            oauth_app_id: self.app.id,
            site_url: None,
        }
    }

    /// Opens the authorization URL without following redirects (auto-consent answers at once)
    /// and reads the callback from the `Location` header.
    pub async fn consent(&self, url: &Url, extra: &[(&str, &str)]) -> Callback {
        let mut url = url.clone();
        for (k, v) in extra {
            url.query_pairs_mut().append_pair(k, v);
        }
        let response = self.http.get(url).send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            302,
            "authorize did not redirect"
        );
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(location.starts_with(REDIRECT), "{location}");
        Callback::from_query(&location)
    }

    /// begin → consent → complete.
    pub async fn connect(
        &self,
        draft: ConnectDraft,
        extra: &[(&str, &str)],
    ) -> OAuthResult<Connected> {
        let flow = self.flow();
        let started = flow.begin_connect(&self.user, draft, REDIRECT).await?;
        let callback = self.consent(&started.authorization_url, extra).await;
        let completed = flow.complete(&self.user, callback).await?;
        Ok(completed
            .into_connection()
            .expect("the flow was started for a connection"))
    }

    pub async fn settings(&self, body: serde_json::Value) {
        let response = self
            .http
            .put(format!("{}/settings", self.sim.info.sim_admin_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    pub async fn advance_clock(&self, ms: u64) {
        let response = self
            .http
            .post(format!("{}/clock", self.sim.info.sim_admin_url))
            .json(&serde_json::json!({"advanceMs": ms}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    pub async fn counters(&self) -> serde_json::Value {
        let stats: serde_json::Value = self
            .http
            .get(format!("{}/stats", self.sim.info.sim_admin_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["counters"].clone()
    }

    pub async fn connection_count(&self) -> usize {
        self.store.list_connections().await.unwrap().len()
    }

    /// Every byte of the database files (main, WAL, shared memory).
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", self.db_path().display());
            if let Ok(bytes) = std::fs::read(Path::new(&path)) {
                all.extend(bytes);
            }
        }
        all
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn manager_over(store: Arc<dyn Store>, skew: Duration) -> Arc<TokenManager> {
    Arc::new(TokenManager::new(
        store,
        OAuthClient::new().unwrap(),
        TokenManagerConfig {
            skew,
            retry_base: Duration::from_millis(100),
            ..TokenManagerConfig::default()
        },
    ))
}

pub fn clone_key(key: &MasterKey) -> MasterKey {
    MasterKey::from_base64(key.to_base64().expose_secret()).unwrap()
}

pub fn new_app(sim: &RunningSim, name: &str, secret: &str, scopes: Vec<String>) -> NewOAuthApp {
    NewOAuthApp {
        name: name.into(),
        client_id: sim.info.client_id.clone(),
        client_secret: ClientSecret::new(secret),
        scopes,
        auth_base_url: sim.info.auth_url.clone(),
        api_base_url: sim.info.api_url.clone(),
        environment: Environment::Sandbox,
    }
}

/// Contains `needle` as a byte substring.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}
