//! JQL search: a lagging index of issues (eventual consistency), the evaluator, and the
//! `search/jql`, `search/approximate-count`, `jql/parse` and `jql/match` endpoints.
//!
//! Every change to an issue reaches [`SearchIndex::on_event`] (through `SimState::publish`) with
//! the instant it becomes visible (`now + settings.search_lag_ms`). Changes wait in a queue, in
//! the order they happened; each search first applies every queued change that is due. Matching
//! and ordering read the index's copies, results are rendered from the live world, as Jira
//! hydrates search hits from its database. See `docs/simulator-search.md`.
//!
//! Lock order: world, then the queue, then the index.

mod api;
mod bulk;
mod compile;
mod dates;
mod eval;
mod exec;
mod fields;
mod functions;
mod index;
mod jql_api;
mod order;
mod structure;
mod text;
mod token;

use std::collections::VecDeque;
use std::sync::Arc;

use axum::Router;
use parking_lot::{Mutex, RwLock, RwLockReadGuard};

pub use bulk::bulk_seed;
pub use index::Doc;

use crate::clock::EpochMs;
use crate::events::{IssueEvent, IssueEventKind};
use crate::state::SimState;
use crate::world::{Issue, World};
use index::{Change, Indexes, Pending};

/// The search index: what JQL search sees, which trails the world by the configured lag.
#[derive(Debug, Default)]
pub struct SearchIndex {
    pending: Mutex<VecDeque<Pending>>,
    indexes: RwLock<Indexes>,
}

impl SearchIndex {
    /// Records a change, visible to search from `visible_at`. With `out_of_order`, it may become
    /// visible before earlier changes of other issues (never before an earlier change of its
    /// own issue); without, after every earlier change.
    pub fn on_event(&self, event: &IssueEvent, visible_at: EpochMs, out_of_order: bool) {
        let change = match event.kind {
            IssueEventKind::Deleted => Change::Delete(event.issue.id),
            _ => Change::Upsert(Arc::new(Doc::from_issue(&event.issue))),
        };
        if out_of_order {
            self.enqueue_per_issue(&event.cloud_id, event.issue.id, change, visible_at);
        } else {
            self.enqueue(&event.cloud_id, change, visible_at);
        }
    }

    /// Queues a change no earlier than the queued changes of the same issue, so an issue's
    /// versions still reach the index in order while other issues' changes may overtake it.
    fn enqueue_per_issue(
        &self,
        cloud_id: &str,
        issue_id: u64,
        change: Change,
        visible_at: EpochMs,
    ) {
        let mut pending = self.pending.lock();
        let floor = pending
            .iter()
            .filter(|p| p.cloud_id == cloud_id && p.change.issue_id() == issue_id)
            .map(|p| p.visible_at)
            .max();
        pending.push_back(Pending {
            visible_at: floor.map_or(visible_at, |f| f.max(visible_at)),
            cloud_id: cloud_id.to_owned(),
            change,
        });
    }

    /// Re-indexes an issue without an event (for changes that fire no webhook, such as
    /// watchers), visible from `visible_at`.
    pub fn touch(&self, cloud_id: &str, issue: &Issue, visible_at: EpochMs) {
        self.enqueue(
            cloud_id,
            Change::Upsert(Arc::new(Doc::from_issue(issue))),
            visible_at,
        );
    }

    fn enqueue(&self, cloud_id: &str, change: Change, visible_at: EpochMs) {
        let mut pending = self.pending.lock();
        // In order: never before any queued change (one of them may be of this issue).
        let floor = pending
            .iter()
            .map(|p| p.visible_at)
            .max()
            .unwrap_or(visible_at);
        pending.push_back(Pending {
            visible_at: visible_at.max(floor),
            cloud_id: cloud_id.to_owned(),
            change,
        });
    }

    /// Rebuilds the index from the world (start-up, reset, state load); everything is visible at
    /// once.
    pub fn rebuild(&self, world: &World, _now: EpochMs) {
        let mut pending = self.pending.lock();
        let mut indexes = self.indexes.write();
        pending.clear();
        *indexes = Indexes::default();
        for (cloud_id, site) in &world.sites {
            let entry = indexes.sites.entry(cloud_id.clone()).or_default();
            for issue in site.jira.issues.values() {
                entry.upsert(Arc::new(Doc::from_issue(issue)));
            }
        }
    }

    /// Applies every queued change due at `now` and returns a read view of the index.
    fn view(&self, now: EpochMs) -> RwLockReadGuard<'_, Indexes> {
        {
            let mut pending = self.pending.lock();
            // Enqueueing keeps every issue's changes in order of `visible_at` (and, without
            // jitter, the whole queue), so applying every due change in queue order never lets a
            // later change of an issue overtake an earlier one, even when the lag shrank.
            if pending.iter().any(|p| p.visible_at <= now) {
                let mut indexes = self.indexes.write();
                let mut waiting = VecDeque::with_capacity(pending.len());
                for p in pending.drain(..) {
                    if p.visible_at <= now {
                        indexes.apply(&p.cloud_id, p.change);
                    } else {
                        waiting.push_back(p);
                    }
                }
                *pending = waiting;
            }
        }
        self.indexes.read()
    }

    /// Inserts copies directly, visible at once (bulk seeding).
    fn insert_now(&self, cloud_id: &str, docs: Vec<Arc<Doc>>) {
        let _pending = self.pending.lock();
        let mut indexes = self.indexes.write();
        let site = indexes.sites.entry(cloud_id.to_owned()).or_default();
        for doc in docs {
            site.upsert(doc);
        }
    }

    /// Number of changes not yet visible (for the admin API and tests).
    pub fn pending_len(&self) -> usize {
        self.pending.lock().len()
    }
}

/// Re-indexes `issue` after a change that publishes no event (adding or removing a watcher), so
/// `watcher = ...` sees it after the configured lag like any other change. Call it while holding
/// the world's write lock, right after the change.
pub fn reindex(state: &SimState, cloud_id: &str, issue: &Issue) {
    let lag = state.settings.read().search_lag_ms;
    let visible_at = state.clock.now_ms() + i64::try_from(lag).unwrap_or(i64::MAX / 2);
    state.search.touch(cloud_id, issue, visible_at);
}

/// Routes under `/rest/api/3` for search and JQL.
pub fn routes() -> Router<SimState> {
    api::routes().merge(jql_api::routes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due_after(index: &SearchIndex, now: EpochMs) -> usize {
        drop(index.view(now));
        index.pending_len()
    }

    #[test]
    fn jittered_changes_of_other_issues_overtake_but_an_issues_own_changes_stay_in_order() {
        let index = SearchIndex::default();
        index.enqueue_per_issue("c", 1, Change::Delete(1), 100);
        index.enqueue_per_issue("c", 2, Change::Delete(2), 10);
        // Issue 1's second change would be due first; it waits for its first.
        index.enqueue_per_issue("c", 1, Change::Delete(1), 5);
        assert_eq!(due_after(&index, 50), 2);
        assert_eq!(due_after(&index, 100), 0);
    }

    #[test]
    fn without_jitter_no_change_overtakes_an_earlier_one_even_when_the_lag_shrinks() {
        let index = SearchIndex::default();
        index.enqueue("c", Change::Delete(1), 100);
        index.enqueue("c", Change::Delete(2), 10);
        assert_eq!(due_after(&index, 50), 2);
        assert_eq!(due_after(&index, 100), 0);
    }
}
