//! Jira Cloud platform REST v3 (`/rest/api/3/...`), as served behind the gateway. Each submodule
//! owns one family of endpoints and returns its routes; [`jira_router`] puts them together with the
//! realism layers (rate limits, faults).

pub mod render;
mod system;

use axum::Router;

use crate::state::SimState;

/// The Jira router: every REST v3 endpoint, with state applied. Paths are relative to the site's
/// API base (`/ex/jira/{cloudId}` is stripped by the gateway).
pub fn jira_router(state: SimState) -> Router {
    let api = Router::new()
        .merge(system::routes())
        .merge(crate::search::routes())
        .merge(crate::webhooks::routes());
    let router = Router::new().nest("/rest/api/3", api);
    crate::realism::layer(router, state.clone()).with_state(state)
}
