//! The harness the CLI test targets share (each includes it with `#[path]`): a
//! simulator child process (demo seed, auto-consent), a temp data directory with the admin `ada`,
//! the sandbox app `sim` and the connection `acme` made through the real commands, and helpers
//! to run `jiraflow`, write flow files and read the simulator's counters.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_jiraflow");
pub const CLIENT_SECRET: &str = "cli-harness-client-secret-Qp8wL3";

/// A running simulator child process, killed on drop.
pub struct Sim {
    child: Child,
    pub info: Value,
}

impl Sim {
    /// Starts `jiraflow sim` with the demo seed (projects DEMO, OPS, SEC with issues), approving
    /// consents at once and accepting `redirect_uri(redirect_port)`.
    pub fn start(redirect_port: u16) -> Self {
        let mut child = Command::new(BIN)
            .args([
                "sim",
                "--listen",
                "127.0.0.1:0",
                "--auto-consent",
                "--seed",
                "demo",
            ])
            .arg("--redirect-uri")
            .arg(redirect_uri(redirect_port))
            .arg("--client-secret")
            .arg(CLIENT_SECRET)
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
            .expect("ready line field")
            .to_owned()
    }

    /// The admin API's counters (`world.issues`, `world.comments`, ...).
    pub fn stats(&self) -> Value {
        let url = format!("{}/stats", self.field("sim_admin_url"));
        block_on(async move {
            reqwest::get(&url)
                .await
                .expect("GET stats")
                .json()
                .await
                .expect("stats JSON")
        })
    }

    /// How many issues the simulated world holds.
    pub fn issues(&self) -> u64 {
        self.stats()["world"]["issues"]
            .as_u64()
            .expect("issue count")
    }

    /// Creates `count` issues in project `project` (created on the way) reported by `reporter`,
    /// created a day ago and indexed at once; returns the admin API's answer.
    pub fn bulk_issues(&self, project: &str, count: u64, reporter: &str) -> Value {
        let url = format!("{}/issues/bulk", self.field("sim_admin_url"));
        let body = serde_json::json!({
            "projectKey": project,
            "count": count,
            "reporter": reporter,
            "updatedWithinMs": 60_000,
        });
        block_on(async move {
            let response = reqwest::Client::new()
                .post(&url)
                .json(&body)
                .send()
                .await
                .expect("POST issues/bulk");
            assert_eq!(response.status().as_u16(), 201, "bulk create refused");
            response.json().await.expect("bulk JSON")
        })
    }

    /// How many comments the simulated world holds.
    pub fn comments(&self) -> u64 {
        self.stats()["world"]["comments"]
            .as_u64()
            .expect("comment count")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/oauth/callback")
}

/// A temp data directory, removed on drop.
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jiraflow-cli-{label}-{}-{}",
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
        let _ = std::fs::remove_dir_all(&self.0);
    }
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

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// A simulator and a data directory with the admin `ada`, the app `sim` and the active
/// connection `acme` to the simulator's first site.
pub struct Env {
    pub sim: Sim,
    pub data: DataDir,
}

impl Env {
    pub fn start(label: &str) -> Self {
        let port = free_port();
        let sim = Sim::start(port);
        let data = DataDir::new(label);
        let env = Self { sim, data };
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
    pub fn connect(&self, name: &str, port: u16) {
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
        let (status, location) = get(url.trim());
        assert_eq!(status, 302, "authorize answered {status}");
        let (status, _) = get(&location.expect("a Location to the callback"));
        assert_eq!(status, 200, "the callback listener answered {status}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).expect("rest of stdout");
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "connection create failed: {rest}{}",
            stderr(&output)
        );
    }

    /// Runs `jiraflow ARGS`.
    pub fn jf(&self, args: &[&str]) -> Output {
        command(&self.data.0, args).output().expect("run jiraflow")
    }

    /// Runs `jiraflow ARGS` and returns stdout; panics with the output if it failed.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.jf(args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            text(&output)
        );
        stdout(&output)
    }

    /// Runs `jiraflow ARGS --as ada` and returns stdout; panics if it failed.
    pub fn ada(&self, args: &[&str]) -> String {
        let mut all = args.to_vec();
        all.extend(["--as", "ada"]);
        self.ok(&all)
    }

    /// Runs `jiraflow ARGS --as ada --output json` and parses stdout.
    pub fn ada_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.ada(&all);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    /// Runs `jiraflow ARGS` expecting exit status 1; returns the output.
    pub fn fails(&self, args: &[&str]) -> Output {
        let output = self.jf(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?} should exit 1: {}",
            text(&output)
        );
        output
    }

    /// Writes `text` to `name` in the data directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.data.0.join(name);
        std::fs::write(&path, text).expect("write file");
        path.to_string_lossy().into_owned()
    }
}

/// GET without following redirects: (status, Location).
pub fn get(url: &str) -> (u16, Option<String>) {
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
