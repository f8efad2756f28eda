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
    /// Records a change, visible to search from `visible_at`.
    pub fn on_event(&self, event: &IssueEvent, visible_at: EpochMs) {
        let change = match event.kind {
            IssueEventKind::Deleted => Change::Delete(event.issue.id),
            _ => Change::Upsert(Arc::new(Doc::from_issue(&event.issue))),
        };
        self.enqueue(&event.cloud_id, change, visible_at);
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
        self.pending.lock().push_back(Pending {
            visible_at,
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
            if pending.front().is_some_and(|p| p.visible_at <= now) {
                let mut indexes = self.indexes.write();
                // Changes apply in the order they happened; a later change never overtakes an
                // earlier one even when the lag setting shrank in between.
                while pending.front().is_some_and(|p| p.visible_at <= now) {
                    if let Some(p) = pending.pop_front() {
                        indexes.apply(&p.cloud_id, p.change);
                    }
                }
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
