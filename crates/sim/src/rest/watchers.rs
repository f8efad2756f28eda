//! REST v3 endpoints: watchers.

use axum::Router;

use crate::state::SimState;

/// Routes of this module.
pub fn routes() -> Router<SimState> {
    Router::new()
}
