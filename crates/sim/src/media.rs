//! The media origin (a second listener, so a different origin): serves attachment content at the
//! short-lived signed URLs that `attachment/content/{id}` redirects to.

use axum::Router;

use crate::state::SimState;

/// Routes of the media listener.
pub fn routes() -> Router<SimState> {
    Router::new()
}
