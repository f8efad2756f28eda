//! The simulator's admin API under `/_sim/`: settings, counters, clock, reset, users, sites.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use crate::state::SimState;

/// Routes under `/_sim`.
pub fn routes() -> Router<SimState> {
    Router::new().route("/stats", get(stats))
}

async fn stats(State(state): State<SimState>) -> Json<serde_json::Value> {
    Json(state.counters.snapshot())
}
