//! JQL search: a lagging index of issues (eventual consistency), the evaluator, and the
//! `search/jql`, `search/approximate-count`, `jql/parse` and `jql/match` endpoints.

use axum::Router;

use crate::clock::EpochMs;
use crate::events::IssueEvent;
use crate::state::SimState;

/// The search index: what JQL search sees, which trails the world by the configured lag.
#[derive(Debug, Default)]
pub struct SearchIndex {}

impl SearchIndex {
    /// Records a change, visible to search from `visible_at`.
    pub fn on_event(&self, _event: &IssueEvent, _visible_at: EpochMs) {}

    /// Rebuilds the index from the world (start-up, reset, state load); everything is visible at
    /// once.
    pub fn rebuild(&self, _world: &crate::world::World, _now: EpochMs) {}
}

/// Routes under `/rest/api/3` for search and JQL.
pub fn routes() -> Router<SimState> {
    Router::new()
}
