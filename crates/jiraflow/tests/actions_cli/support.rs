//! The shared fixture of this binary: one `jiraflow sim --auto-consent` child (demo seed), one
//! temp data directory with the admin `ada`, the app `sim` and two connections made through the
//! real commands (`acme` acts for Ada, the site admin; `bob` for Bob, a plain member), plus the
//! functions that run `jiraflow action`, apply and run flows, and read the simulator back.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

pub use jiraflow_sim::seed::{
    ADMIN_ACCOUNT as ADA, JIRA_ADMIN_ACCOUNT as JO, MEMBER_ACCOUNT as BOB,
    MEMBER_PLUS13_ACCOUNT as KIRI, SECURITY_ACCOUNT as SAM,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_jiraflow");
const CLIENT_SECRET: &str = "actions-cli-client-secret-Hq4pX9";

/// Jira's answer for an issue that is missing or hidden.
pub const NO_ISSUE: &str = "Issue does not exist or you do not have permission to see it.";

/// The simulator and the connected data directory every test of this binary shares.
pub struct Fixture {
    /// The simulator's ready line.
    pub sim: Value,
    /// The data directory (`JIRAFLOW_DATA_DIR`).
    pub data: PathBuf,
    // The watchdog shell: it kills the simulator and removes the data directory when this
    // process exits and the pipe closes (statics are never dropped, so Drop cannot do it).
    _watchdog: (Child, ChildStdin),
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();
static UNIQUE: AtomicU32 = AtomicU32::new(1);

/// The shared fixture, started by the first test that asks.
pub fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(Fixture::start)
}

/// A number unique in this process, for names that must not collide between tests.
pub fn unique() -> u32 {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Fixture {
    fn start() -> Self {
        let port = free_port();
        let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
        let data = std::env::temp_dir().join(format!(
            "jiraflow-actions-cli-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&data);
        let script = r#""$@" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"; rm -rf "$JIRAFLOW_TEST_DATA""#;
        let mut child = Command::new("sh")
            .args(["-c", script, "watchdog", BIN])
            .args([
                "sim",
                "--listen",
                "127.0.0.1:0",
                "--auto-consent",
                "--seed",
                "demo",
                "--redirect-uri",
                &redirect,
                "--client-secret",
                CLIENT_SECRET,
            ])
            .env("JIRAFLOW_TEST_DATA", &data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator");
        let stdin = child.stdin.take().expect("watchdog stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("sim stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the ready line");
        // Keep draining, so a late line from the simulator never meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let sim: Value = serde_json::from_str(&line).expect("ready line is JSON");
        let fixture = Self {
            sim,
            data,
            _watchdog: (child, stdin),
        };
        fixture.connect(&redirect);
        fixture
    }

    fn field(&self, name: &str) -> String {
        self.sim[name]
            .as_str()
            .expect("ready line field")
            .to_owned()
    }

    /// Admin `ada`, app `sim`, connection `acme` (Ada) and `bob` (Bob) through the commands.
    fn connect(&self, redirect: &str) {
        ok(
            &self.data,
            &["user", "create", "ada", "--manage-connections"],
        );
        std::fs::create_dir_all(&self.data).expect("data dir");
        let secret_file = self.data.join("client-secret.txt");
        std::fs::write(&secret_file, CLIENT_SECRET).expect("write secret");
        let secret_file = secret_file.to_string_lossy().into_owned();
        ok(
            &self.data,
            &[
                "app",
                "create",
                "--as",
                "ada",
                "--name",
                "sim",
                "--client-id",
                &self.field("client_id"),
                "--client-secret-file",
                &secret_file,
                "--environment",
                "sandbox",
                "--auth-url",
                &self.field("auth_url"),
                "--api-url",
                &self.field("api_url"),
            ],
        );
        std::fs::remove_file(&secret_file).expect("remove secret file");
        for (name, user) in [("acme", "ada@acme.example"), ("bob", "bob@acme.example")] {
            let output = consent(
                &self.data,
                &[
                    "connection",
                    "create",
                    "--as",
                    "ada",
                    "--name",
                    name,
                    "--app",
                    "sim",
                    "--redirect-uri",
                    redirect,
                ],
                &format!("&sim_user={user}"),
            );
            assert!(
                output.status.success(),
                "connection {name}: {}",
                text(&output)
            );
        }
    }
}

fn command(data: &Path, args: &[&str]) -> Command {
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

fn ok(data: &Path, args: &[&str]) -> String {
    let output = command(data, args).output().expect("run jiraflow");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// GET without following redirects: (status, Location).
fn get_location(url: &str) -> (u16, Option<String>) {
    block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let response = client.get(url).send().await.expect("GET");
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status().as_u16(), location)
    })
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// Runs a consent command: reads the authorize URL line, GETs it (plus `suffix`, which picks the
/// simulator account), follows the redirect to the CLI's listener and waits for the CLI.
fn consent(data: &Path, args: &[&str], suffix: &str) -> Output {
    let mut child = command(data, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jiraflow");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    stdout.read_line(&mut url).expect("read the URL line");
    let url = format!("{}{suffix}", url.trim());
    assert!(url.starts_with("http"), "not a URL: {url:?}");
    let (status, location) = get_location(&url);
    assert_eq!(status, 302, "authorize answered {status}");
    let (status, _) = get_location(&location.expect("a Location to the callback"));
    assert_eq!(status, 200, "the CLI's callback listener answered {status}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("rest of stdout");
    let mut output = child.wait_with_output().expect("wait");
    output.stdout = rest.into_bytes();
    output
}

/// Runs `jiraflow ARGS --as ada` in the shared data directory.
pub fn jiraflow(args: &[&str]) -> Output {
    command(&fixture().data, args)
        .args(["--as", "ada"])
        .output()
        .expect("run jiraflow")
}

/// `jiraflow action NAME --connection CONN --input INPUT`: (exit status, stdout as JSON).
pub fn action_as(conn: &str, name: &str, input: &Value) -> (Option<i32>, Value) {
    let input = input.to_string();
    let output = jiraflow(&["action", name, "--connection", conn, "--input", &input]);
    (output.status.code(), stdout_json(&output))
}

/// Stdout parsed as one JSON document (what `action` and `--output json` print).
pub fn stdout_json(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", text(output)))
}

/// A successful action through connection `acme`: `{"outcome", "output"}`.
pub fn action(name: &str, input: Value) -> Value {
    action_ok("acme", name, input)
}

/// A successful action through `conn`.
pub fn action_ok(conn: &str, name: &str, input: Value) -> Value {
    let (status, json) = action_as(conn, name, &input);
    assert_eq!(status, Some(0), "action {name} {input} failed: {json}");
    assert!(
        json["outcome"] == "changed" || json["outcome"] == "unchanged",
        "{json}"
    );
    json
}

/// A failing action through `conn`: checks exit 1 and the error's shape, returns the error.
pub fn action_err(conn: &str, name: &str, input: Value) -> Value {
    let (status, json) = action_as(conn, name, &input);
    assert_eq!(status, Some(1), "action {name} {input}: {json}");
    let error = json["error"].clone();
    assert_eq!(error["action"], name, "{json}");
    assert!(error["message"].is_string(), "{json}");
    assert!(error["retryable"].is_boolean(), "{json}");
    assert!(error["kind"].is_string(), "{json}");
    error
}

/// The error message, for `contains` checks.
pub fn message(error: &Value) -> &str {
    error["message"].as_str().unwrap_or_default()
}

/// Writes `yaml` as `NAME.yaml` into the data directory and applies it with `flow apply`.
pub fn apply_flow(name: &str, yaml: &str) {
    let dir = fixture().data.join("flows");
    std::fs::create_dir_all(&dir).expect("flows dir");
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).expect("write flow");
    let file = file.to_string_lossy().into_owned();
    let output = jiraflow(&["flow", "apply", &file]);
    assert!(
        output.status.success(),
        "flow apply {name}: {}",
        text(&output)
    );
}

/// `flow run NAME --payload PAYLOAD --output json`: (exit status, the run with its steps).
pub fn run_flow_raw(name: &str, payload: &Value) -> (Option<i32>, Value) {
    let payload = payload.to_string();
    let output = jiraflow(&[
        "flow",
        "run",
        name,
        "--payload",
        &payload,
        "--output",
        "json",
    ]);
    (output.status.code(), stdout_json(&output))
}

/// Runs flow `name` and checks that the run and every step succeeded; returns the run.
pub fn run_flow(name: &str, payload: Value) -> Value {
    let (status, run) = run_flow_raw(name, &payload);
    assert_eq!(status, Some(0), "flow run {name} failed: {run:#}");
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let steps = run["steps"].as_array().expect("steps");
    assert!(!steps.is_empty(), "{run:#}");
    for step in steps {
        assert_eq!(step["status"], "succeeded", "step of {name}: {step:#}");
    }
    run
}

/// The recorded `{"outcome", "output"}` of step `id`.
pub fn step<'r>(run: &'r Value, id: &str) -> &'r Value {
    let found = run["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["step_id"] == id))
        .unwrap_or_else(|| panic!("no step {id} in {run:#}"));
    &found["output"]
}

/// A Jira REST v3 GET as the site admin (the ready line's token): (status, body).
pub fn jira_get(path: &str) -> (u16, Value) {
    let fixture = fixture();
    let url = format!(
        "{}/rest/api/3{path}",
        fixture.sim["jira_base_url"]
            .as_str()
            .expect("jira_base_url")
    );
    let token = fixture.sim["admin_token"]
        .as_str()
        .expect("admin_token")
        .to_owned();
    block_on(async move {
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    })
}

/// The issue as Jira returns it (`GET /issue/{key}`).
pub fn jira_issue(key: &str) -> Value {
    let (status, body) = jira_get(&format!("/issue/{key}"));
    assert_eq!(status, 200, "GET issue {key}: {body}");
    body
}

/// Account ids watching `key`.
pub fn watchers(key: &str) -> Vec<String> {
    let (status, body) = jira_get(&format!("/issue/{key}/watchers"));
    assert_eq!(status, 200, "GET watchers of {key}: {body}");
    body["watchers"]
        .as_array()
        .expect("watchers")
        .iter()
        .map(|w| w["accountId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Creates a fresh DEMO task through the CLI and returns its key.
pub fn new_issue(summary: &str) -> String {
    let created = action(
        "create_issue",
        json!({"project": "DEMO", "issue_type": "Task", "summary": summary}),
    );
    created["output"]["key"].as_str().expect("key").to_owned()
}

/// Writes `value` into a file of the data directory and returns `@PATH` for `--input @file`.
pub fn input_file(name: &str, value: &Value) -> String {
    let dir = fixture().data.join("inputs");
    std::fs::create_dir_all(&dir).expect("inputs dir");
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write input");
    format!("@{}", path.to_string_lossy())
}
