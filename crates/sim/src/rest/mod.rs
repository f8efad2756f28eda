//! Jira Cloud platform REST v3 (`/rest/api/3/...`), as served behind the gateway. Each submodule
//! owns one family of endpoints and returns its routes; [`jira_router`] puts them together with the
//! realism layers (rate limits, faults).

pub mod access;
pub mod adf;
pub mod field_defs;
pub mod render;

mod attachments;
mod bulk;
mod catalog;
mod changelog;
mod comments;
mod groups;
pub mod issue_bean;
mod issue_fields;
mod issue_fields_custom;
mod issue_options;
mod issue_values;
mod issues;
mod links;
mod meta;
mod misc;
pub(crate) mod params;
mod permissions;
pub(crate) mod projects;
mod properties;
mod system;
mod users;
mod watchers;

use axum::Router;

use crate::state::SimState;

/// The Jira router: every REST v3 endpoint, with state applied. Paths are relative to the site's
/// API base (`/ex/jira/{cloudId}` is stripped by the gateway).
pub fn jira_router(state: SimState) -> Router {
    let api = Router::new()
        .merge(system::routes())
        .merge(catalog::routes())
        .merge(issues::routes())
        .merge(meta::routes())
        .merge(properties::routes())
        .merge(comments::routes())
        .merge(projects::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(attachments::routes())
        .merge(watchers::routes())
        .merge(links::routes())
        .merge(changelog::routes())
        .merge(bulk::routes())
        .merge(misc::routes())
        .merge(permissions::routes())
        .merge(crate::search::routes())
        .merge(crate::webhooks::routes());
    let router = Router::new().nest("/rest/api/3", api);
    crate::realism::layer(router, state.clone()).with_state(state)
}
