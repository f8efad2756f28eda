//! The issues this process wrote recently, per connection: polls pass them to search as
//! `reconcileIssues`, so an issue a flow just created or changed is seen at its live state even
//! while Jira's search index lags behind the write.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jiraflow_jira::ids::IssueId;
use jiraflow_jira::ops::search::MAX_RECONCILE;

/// How long a write is remembered: longer than any sensible settle + overlap, short enough that
/// the list stays well under Jira's 50 ids for normal write rates.
const DEFAULT_TTL: Duration = Duration::from_secs(600);

/// A registry of recent writes, shared by the executor (which notes them) and the pollers
/// (which reconcile them). Cheap to share as `Arc<RecentWrites>`.
#[derive(Debug)]
pub struct RecentWrites {
    ttl: Duration,
    by_connection: Mutex<HashMap<String, VecDeque<(Instant, String)>>>,
}

impl Default for RecentWrites {
    fn default() -> Self {
        Self::new(DEFAULT_TTL)
    }
}

impl RecentWrites {
    /// A registry remembering each write for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            by_connection: Mutex::new(HashMap::new()),
        }
    }

    /// A shared, empty registry.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records that `issue_id` (numeric) was written through `connection` just now. Keys are
    /// ignored: `reconcileIssues` only takes ids.
    pub fn note_write(&self, connection: &str, issue_id: &str) {
        let issue_id = issue_id.trim();
        if issue_id.is_empty() || !issue_id.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        let now = Instant::now();
        let mut map = self
            .by_connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let list = map.entry(connection.to_owned()).or_default();
        list.retain(|(_, id)| id != issue_id);
        list.push_back((now, issue_id.to_owned()));
        prune(list, now, self.ttl);
    }

    /// The most recent writes through `connection` still remembered, newest first, at most
    /// Jira's limit of 50.
    pub fn recent(&self, connection: &str) -> Vec<IssueId> {
        let now = Instant::now();
        let mut map = self
            .by_connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(list) = map.get_mut(connection) else {
            return Vec::new();
        };
        prune(list, now, self.ttl);
        list.iter()
            .rev()
            .take(MAX_RECONCILE)
            .map(|(_, id)| IssueId::new(id.clone()))
            .collect()
    }
}

fn prune(list: &mut VecDeque<(Instant, String)>, now: Instant, ttl: Duration) {
    while list
        .front()
        .is_some_and(|(at, _)| now.saturating_duration_since(*at) > ttl)
    {
        list.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_kept_per_connection_newest_first_without_repeats() {
        let recent = RecentWrites::default();
        recent.note_write("acme", "10001");
        recent.note_write("acme", "10002");
        recent.note_write("acme", "10001");
        recent.note_write("globex", "20001");
        recent.note_write("acme", "DEMO-1");
        let ids: Vec<String> = recent
            .recent("acme")
            .iter()
            .map(|i| i.as_str().to_owned())
            .collect();
        assert_eq!(ids, ["10001", "10002"]);
    }

    #[test]
    fn at_most_fifty_ids_are_reconciled() {
        let recent = RecentWrites::default();
        for n in 0..80 {
            recent.note_write("acme", &(10_000 + n).to_string());
        }
        assert_eq!(recent.recent("acme").len(), MAX_RECONCILE);
    }

    #[test]
    fn old_writes_are_forgotten() {
        let recent = RecentWrites::new(Duration::ZERO);
        recent.note_write("acme", "10001");
        std::thread::sleep(Duration::from_millis(2));
        assert!(recent.recent("acme").is_empty());
    }
}
