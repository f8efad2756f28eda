//! Wire types: what Jira sends, decoded tolerantly (unknown members kept in `extra`, everything
//! the spec lets be absent or null is an `Option`, timestamps in any of Jira's forms, ids as
//! string or number).

pub mod attachment;
pub mod comment;
pub mod group;
pub mod issue;
pub mod link;
pub mod page;
pub mod project;
pub mod property;
pub mod search;
pub mod user;
pub mod watcher;
pub mod webhook;
pub mod webhook_event;
