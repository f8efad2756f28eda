//! The worker under test: a `jiraflow up` child process (server, trigger scheduler and executor
//! on the data directory), killed with SIGKILL at random points and restarted, and finally
//! stopped with SIGTERM once it has drained. Each start logs to its own file in the data
//! directory, whose tail is printed when a start exits on its own.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::env::command;

/// The killable worker.
pub struct Worker {
    data: PathBuf,
    child: Option<Child>,
    starts: usize,
    /// SIGKILLs delivered.
    pub kills: usize,
    /// Starts that ended without being killed (crashes), with their log tails.
    pub unexpected_exits: Vec<String>,
}

impl Worker {
    pub fn new(data: &Path) -> Self {
        Self {
            data: data.to_owned(),
            child: None,
            starts: 0,
            kills: 0,
            unexpected_exits: Vec::new(),
        }
    }

    fn log_path(&self, start: usize) -> PathBuf {
        self.data.join(format!("worker-{start}.log"))
    }

    /// Starts `jiraflow up --listen 127.0.0.1:0` (no sandbox: it works against the connection
    /// in the store).
    pub fn start(&mut self) {
        self.check_alive();
        assert!(self.child.is_none(), "the worker is already running");
        self.starts += 1;
        let log = File::create(self.log_path(self.starts)).expect("worker log");
        let err = log.try_clone().expect("worker log");
        let child = command(&self.data, &["up", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start jiraflow up");
        self.child = Some(child);
    }

    /// Whether a start is running (as of the last look).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Records a start that exited on its own since the last look.
    pub fn check_alive(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if let Ok(Some(status)) = child.try_wait() {
            let tail = self.log_tail(self.starts);
            self.unexpected_exits.push(format!(
                "start {} exited with {status}: {tail}",
                self.starts
            ));
            self.child = None;
        }
    }

    /// SIGKILL: no shutdown hook runs, in-flight polls, claims and steps are cut wherever they
    /// are.
    pub fn kill(&mut self) {
        self.check_alive();
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the worker");
            let _ = child.wait();
            self.kills += 1;
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within ten seconds.
    pub fn stop(&mut self) {
        self.check_alive();
        let Some(mut child) = self.child.take() else {
            return;
        };
        // std only sends SIGKILL; SIGTERM goes through kill(1), to this child's pid only.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    fn log_tail(&self, start: usize) -> String {
        let text = std::fs::read_to_string(self.log_path(start)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
