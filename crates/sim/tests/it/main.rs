//! Integration tests of the simulator: each module drives one area over real HTTP against an
//! in-process simulator, and checks response shapes against Atlassian's official spec.

mod support;

mod admin;
mod attachments;
mod bulk_changelog;
mod comments;
mod fidelity;
mod gateway;
mod groups_users;
mod issues;
mod links_watchers;
mod oauth;
mod projects;
mod realism;
mod search;
mod webhooks;
