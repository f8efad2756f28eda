//! The harness: temp data directories, `jiraflow` child processes with none of the caller's
//! settings, a running `up` read up to its banner, and blocking HTTP helpers.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_jiraflow");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A temp data directory, removed on drop.
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jiraflow-up-cli-{label}-{}-{}",
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
        .env_remove("JIRAFLOW_LISTEN")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG");
    cmd
}

/// The arguments that keep `up` on free ports.
pub const FREE_PORTS: [&str; 4] = ["--listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0"];

/// A running `jiraflow up`, its banner read; killed on drop.
pub struct Up {
    pub child: Child,
    pub banner: Vec<String>,
    pub fields: BTreeMap<String, String>,
    stdout: BufReader<ChildStdout>,
}

impl Up {
    /// Starts `jiraflow up ARGS` and reads its banner up to "Press Ctrl-C".
    pub fn start(data: &Path, args: &[&str]) -> Self {
        let mut all = vec!["up"];
        all.extend(args);
        let mut child = command(data, &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start jiraflow up");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut banner = Vec::new();
        let mut fields = BTreeMap::new();
        loop {
            let mut line = String::new();
            let n = stdout.read_line(&mut line).expect("read the banner");
            assert!(n > 0, "jiraflow up ended before its banner: {banner:?}");
            let line = line.trim_end().to_owned();
            if let Some((key, value)) = line.trim_start().split_once(": ") {
                fields
                    .entry(key.trim().to_owned())
                    .or_insert_with(|| value.trim().to_owned());
            }
            let done = line.starts_with("Press Ctrl-C");
            banner.push(line);
            if done {
                break;
            }
        }
        Self {
            child,
            banner,
            fields,
            stdout,
        }
    }

    pub fn field(&self, name: &str) -> String {
        self.fields
            .get(name)
            .unwrap_or_else(|| panic!("no {name:?} in the banner: {:#?}", self.banner))
            .clone()
    }

    pub fn text(&self) -> String {
        self.banner.join("\n")
    }

    /// Sends SIGTERM and waits (at most 30 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        self.wait(Duration::from_secs(30))
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "jiraflow up did not stop in time"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Up {
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

/// `method url` with an optional Bearer key: (status, body as JSON or a string).
pub fn http(method: &str, url: &str, key: Option<&str>) -> (u16, Value) {
    block_on(async {
        let client = reqwest::Client::new();
        let mut request = client.request(method.parse().expect("method"), url);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    })
}
