//! Upserts and write-once creates: `upsert_issue` and `upsert_comment`, and the protection
//! `create_issue` and `create_comment` get from a step's write key.
//!
//! Everything our creates write carries the entity property `jiraflow.write` =
//! `{"key": <external id or write key>}`, set in the create itself. The write ledger maps keys
//! to what was created, and records a create as pending before it is sent, so a lost answer
//! (here or in a crashed earlier run) is looked up by its marker instead of written again. See
//! docs/actions.md, "Upserts and retries".

pub mod comment;
pub mod issue;
pub mod marker;

pub use comment::{UpsertCommentInput, UpsertCommentOutput, upsert_comment};
pub use issue::{UpsertIssueInput, UpsertIssueOutput, upsert_issue};
pub use marker::{DEFAULT_SEARCH_SETTLE, MARKER_PROPERTY, search_settle, set_search_settle};
