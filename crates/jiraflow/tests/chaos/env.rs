//! The stage: a `jiraflow sim` child process with a skewed clock, a temp data directory with the
//! admin `ada`, the sandbox app `sim` and the connection `acme` made through the real OAuth
//! commands, the `CHAOS` project the writers fill, and the admin API calls that switch faults on
//! and off and read the simulator's counters.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

use crate::config::Config;

pub const BIN: &str = env!("CARGO_BIN_EXE_jiraflow");
const CLIENT_SECRET: &str = "chaos-client-secret-Vq8mZ2";
/// The project every writer works in, created fresh so that the world's content of it is
/// exactly what the writers wrote.
pub const PROJECT: &str = "CHAOS";
/// Bob and Kiri: plain members, not the connection's user (Ada), so their changes are not the
/// connection's own and every trigger must see them.
pub const WRITER_ACCOUNTS: [&str; 2] = ["5f1a00000000000000000b02", "5f1a00000000000000000c03"];

/// A running simulator child process, killed on drop.
pub struct Sim {
    child: Child,
    info: Value,
}

impl Sim {
    fn start(redirect_port: u16, config: &Config) -> Self {
        let mut child = Command::new(BIN)
            .args(["sim", "--listen", "127.0.0.1:0", "--auto-consent"])
            .args(["--seed", "demo", "--client-secret", CLIENT_SECRET])
            .arg("--redirect-uri")
            .arg(redirect_uri(redirect_port))
            .arg("--clock-offset")
            .arg(config.clock_offset_secs.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator");
        let stdout = child.stdout.take().expect("sim stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the ready line");
        let info = serde_json::from_str(&line).expect("ready line is JSON");
        Self { child, info }
    }

    pub fn field(&self, name: &str) -> String {
        self.info[name]
            .as_str()
            .unwrap_or_else(|| panic!("ready line field {name}"))
            .to_owned()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temp data directory, removed on drop unless `JIRAFLOW_CHAOS_KEEP` is set (to inspect the
/// store and the worker logs of a failed run).
pub struct DataDir(pub PathBuf);

impl DataDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jiraflow-chaos-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("data dir");
        Self(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if std::env::var_os("JIRAFLOW_CHAOS_KEEP").is_some() {
            eprintln!("chaos: kept the data directory {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/oauth/callback")
}

/// A `jiraflow` command over `data`, with none of the caller's jiraflow settings leaking in.
pub fn command(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("JIRAFLOW_DATA_DIR", data)
        .env_remove("JIRAFLOW_MASTER_KEY")
        .env_remove("JIRAFLOW_API_KEY")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG");
    cmd
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The simulator, the data directory with the connection `acme`, and the admin's view of both.
pub struct Env {
    pub sim: Sim,
    pub data: DataDir,
    pub http: reqwest::Client,
}

impl Env {
    pub fn start(config: &Config) -> Self {
        let port = free_port();
        let env = Self {
            sim: Sim::start(port, config),
            data: DataDir::new(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
        };
        env.ok(&["user", "create", "ada", "--manage-connections"]);
        let secret_file = env.data.0.join("client-secret.txt");
        std::fs::write(&secret_file, CLIENT_SECRET).expect("write secret");
        let secret_file = secret_file.to_string_lossy().into_owned();
        env.ok(&[
            "app",
            "create",
            "--as",
            "ada",
            "--name",
            "sim",
            "--client-id",
            &env.sim.field("client_id"),
            "--client-secret-file",
            &secret_file,
            "--environment",
            "sandbox",
            "--auth-url",
            &env.sim.field("auth_url"),
            "--api-url",
            &env.sim.field("api_url"),
        ]);
        std::fs::remove_file(&secret_file).expect("remove secret file");
        env.connect("acme", port);
        env
    }

    /// Creates the connection `name` as `ada`, driving the consent redirect headlessly.
    fn connect(&self, name: &str, port: u16) {
        let redirect = redirect_uri(port);
        let site = self.sim.field("site_url");
        let mut child = command(
            &self.data.0,
            &[
                "connection",
                "create",
                "--as",
                "ada",
                "--name",
                name,
                "--app",
                "sim",
                "--site",
                &site,
                "--redirect-uri",
                &redirect,
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jiraflow");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut url = String::new();
        out.read_line(&mut url).expect("read the URL line");
        let no_redirects = get_no_redirect(url.trim());
        assert_eq!(no_redirects.0, 302, "authorize answered {}", no_redirects.0);
        let location = no_redirects.1.expect("a Location to the callback");
        let (status, _) = get_no_redirect(&location);
        assert_eq!(status, 200, "the callback listener answered {status}");
        let mut rest = String::new();
        out.read_to_string(&mut rest).expect("rest of stdout");
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "connection create failed: {rest}{}",
            text(&output)
        );
    }

    /// Runs `jiraflow ARGS` and returns stdout; panics with the output if it failed.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = command(&self.data.0, args).output().expect("run jiraflow");
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            text(&output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn jira_url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.field("jira_base_url"))
    }

    fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.field("sim_admin_url"))
    }

    /// `GET /_sim/stats`.
    pub async fn stats(&self) -> Value {
        self.http
            .get(self.admin_url("/stats"))
            .send()
            .await
            .expect("GET stats")
            .json()
            .await
            .expect("stats JSON")
    }

    /// The simulated clock, epoch ms.
    pub async fn sim_now_ms(&self) -> i64 {
        let clock: Value = self
            .http
            .get(self.admin_url("/clock"))
            .send()
            .await
            .expect("GET clock")
            .json()
            .await
            .expect("clock JSON");
        clock["nowMs"].as_i64().expect("nowMs")
    }

    /// `PUT /_sim/settings` with a partial settings object.
    pub async fn settings(&self, patch: Value) {
        let response = self
            .http
            .put(self.admin_url("/settings"))
            .json(&patch)
            .send()
            .await
            .expect("PUT settings");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "settings {patch} refused: {body}");
    }

    /// An access token for `account_id` with every classic scope (no consent flow).
    pub async fn token_for(&self, account_id: &str) -> String {
        let body: Value = self
            .http
            .post(self.admin_url("/tokens"))
            .json(&json!({ "accountId": account_id, "ttlSecs": 86_400 }))
            .send()
            .await
            .expect("POST tokens")
            .json()
            .await
            .expect("token JSON");
        body["accessToken"]
            .as_str()
            .expect("accessToken")
            .to_owned()
    }

    /// Creates the writers' project as Ada (before faults are on).
    pub async fn create_project(&self) {
        let response = self
            .http
            .post(self.jira_url("/rest/api/3/project"))
            .bearer_auth(self.sim.field("admin_token"))
            .json(&json!({
                "key": PROJECT,
                "name": "Chaos",
                "projectTypeKey": "software",
                "leadAccountId": self.sim.field("admin_account_id"),
            }))
            .send()
            .await
            .expect("POST project");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "creating {PROJECT} failed: {body}");
    }
}

/// GET without following redirects, on a thread with its own runtime (so it works inside or
/// outside the harness's runtime): (status, Location).
fn get_no_redirect(url: &str) -> (u16, Option<String>) {
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("client");
                let response = client.get(&url).send().await.expect("GET");
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                (response.status().as_u16(), location)
            })
    })
    .join()
    .expect("GET thread")
}
