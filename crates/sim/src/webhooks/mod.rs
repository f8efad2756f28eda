//! Dynamic webhooks: registration endpoints (`/rest/api/3/webhook*`), JQL-subset filters, signed
//! deliveries (HS256 JWT with the app's client secret) and retries.

use axum::Router;

use crate::events::IssueEvent;
use crate::state::SimState;
use crate::world::World;

/// Queues deliveries for every webhook that matches `event`.
pub fn on_event(_state: &SimState, _world: &mut World, _event: &IssueEvent) {}

/// Routes under `/rest/api/3` for webhook registration.
pub fn routes() -> Router<SimState> {
    Router::new()
}

/// Starts the background task that sends queued deliveries.
pub fn spawn_sender(_state: &SimState) {}
