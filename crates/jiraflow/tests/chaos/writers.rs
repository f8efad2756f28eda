//! The writers: concurrent users (Bob and Kiri, not the connection's user) creating issues,
//! editing them (summary and the `hot` label the filtered flow watches) and commenting, through
//! the faulty Jira API. Every request is repeated until it succeeds, so each operation happens
//! at least once; a repeat after a lost response may apply it twice (a second issue or comment),
//! which is why the tally takes the expected events from the simulated world, and uses these logs
//! only to check that world against what the writers saw acknowledged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::config::{Config, Rng};
use crate::env::PROJECT;

/// What one writer did.
#[derive(Debug, Default, Clone)]
pub struct WriterLog {
    /// Issues whose create was acknowledged.
    pub created: Vec<String>,
    /// Comments whose create was acknowledged.
    pub comments: Vec<String>,
    /// Acknowledged edits.
    pub updates: usize,
    /// Answers that were faults (429, 5xx) and connections that broke, all retried.
    pub faults: usize,
    /// Of those, broken connections on a write: it may or may not have been applied.
    pub ambiguous: usize,
}

/// Issue ids every writer picks from (writers edit and comment each other's issues).
pub type Pool = Arc<Mutex<Vec<String>>>;

/// One writer's identity and pacing.
pub struct Writer {
    pub index: usize,
    pub token: String,
    pub jira_base_url: String,
    pub http: reqwest::Client,
    pub pool: Pool,
    pub rng: Rng,
}

impl Writer {
    /// Performs `config.ops` operations spread over about `config.write_for`.
    pub async fn run(mut self, config: Config) -> WriterLog {
        let mut log = WriterLog::default();
        let mean_gap = config.write_for.as_millis() as u64 / config.ops.max(1) as u64;
        for op in 0..config.ops {
            let gap = Duration::from_millis(self.rng.below(2 * mean_gap + 1));
            tokio::time::sleep(gap).await;
            let target = self.pick_issue();
            let roll = self.rng.below(100);
            match target {
                Some(issue) if roll < 40 => self.update(&issue, op, &mut log).await,
                Some(issue) if roll < 65 => self.comment(&issue, op, &mut log).await,
                _ => self.create(op, &mut log).await,
            }
        }
        log
    }

    fn pick_issue(&mut self) -> Option<String> {
        let pool = self.pool.lock().expect("pool lock");
        if pool.is_empty() {
            return None;
        }
        let i = self.rng.below(pool.len() as u64) as usize;
        Some(pool[i].clone())
    }

    fn labels(&mut self) -> Value {
        if self.rng.chance(0.4) {
            json!(["hot", "chaos"])
        } else {
            json!(["chaos"])
        }
    }

    async fn create(&mut self, op: usize, log: &mut WriterLog) {
        let body = json!({
            "fields": {
                "project": { "key": PROJECT },
                "issuetype": { "name": "Task" },
                "summary": format!("writer {} op {op}", self.index),
                "labels": self.labels(),
            }
        });
        let created = self
            .send(Method::POST, "/rest/api/3/issue", body, log)
            .await;
        let id = created["id"].as_str().expect("created issue id").to_owned();
        self.pool.lock().expect("pool lock").push(id.clone());
        log.created.push(id);
    }

    async fn update(&mut self, issue: &str, op: usize, log: &mut WriterLog) {
        let body = json!({
            "fields": {
                "summary": format!("writer {} op {op} edited", self.index),
                "labels": self.labels(),
            }
        });
        let path = format!("/rest/api/3/issue/{issue}");
        self.send(Method::PUT, &path, body, log).await;
        log.updates += 1;
    }

    async fn comment(&mut self, issue: &str, op: usize, log: &mut WriterLog) {
        let text = format!("writer {} op {op}", self.index);
        let body = json!({
            "body": {
                "type": "doc",
                "version": 1,
                "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": text }] }],
            }
        });
        let path = format!("/rest/api/3/issue/{issue}/comment");
        let created = self.send(Method::POST, &path, body, log).await;
        let id = created["id"]
            .as_str()
            .expect("created comment id")
            .to_owned();
        log.comments.push(id);
    }

    /// Sends until Jira answers with a success; returns its JSON body (`null` for 204).
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Value,
        log: &mut WriterLog,
    ) -> Value {
        let url = format!("{}{path}", self.jira_base_url);
        for attempt in 0u32.. {
            assert!(
                attempt < 200,
                "writer {}: {method} {path} kept failing",
                self.index
            );
            let sent = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(_) => {
                    // The connection broke: the write may have been applied (a lost response).
                    log.faults += 1;
                    log.ambiguous += 1;
                    self.pause(None).await;
                    continue;
                }
            };
            let status = response.status();
            if status.is_success() {
                if status == StatusCode::NO_CONTENT {
                    return Value::Null;
                }
                match response.json().await {
                    Ok(value) => return value,
                    Err(_) => {
                        // The body broke off: the write happened, its id is unknown; repeat it
                        // (the world, not this log, is the tally's truth).
                        log.faults += 1;
                        log.ambiguous += 1;
                        continue;
                    }
                }
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                log.faults += 1;
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                self.pause(retry_after).await;
                continue;
            }
            let text = response.text().await.unwrap_or_default();
            panic!(
                "writer {}: {method} {path} answered {status}: {text}",
                self.index
            );
        }
        unreachable!("the loop above returns or panics")
    }

    async fn pause(&mut self, retry_after_secs: Option<u64>) {
        // The writers are the load, not a client under test: they wait a little less than
        // Retry-After asks, so that the writes stay spread over the planned time.
        let wait = match retry_after_secs {
            Some(secs) => Duration::from_millis((secs * 1000).min(250)),
            None => self
                .rng
                .between(Duration::from_millis(20), Duration::from_millis(200)),
        };
        tokio::time::sleep(wait).await;
    }
}
