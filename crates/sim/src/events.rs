//! Issue events: what the REST handlers report after every change, so the search index can
//! (lazily) see it and dynamic webhooks can fire.

use crate::clock::EpochMs;
use crate::world::{AccountId, ChangeHistory, CloudId, Comment, Issue};

/// What happened to an issue.
#[derive(Debug, Clone)]
pub enum IssueEventKind {
    /// The issue was created (`jira:issue_created`).
    Created,
    /// Fields changed (`jira:issue_updated`), with the change history entry.
    Updated {
        /// The changelog entry describing the change.
        changelog: ChangeHistory,
    },
    /// The issue was deleted (`jira:issue_deleted`).
    Deleted,
    /// A comment was added (`comment_created`).
    CommentCreated(Comment),
    /// A comment was edited (`comment_updated`).
    CommentUpdated(Comment),
    /// A comment was deleted (`comment_deleted`).
    CommentDeleted(Comment),
    /// An issue property was set (`issue_property_set`).
    PropertySet {
        /// Property key.
        key: String,
    },
    /// An issue property was deleted (`issue_property_deleted`).
    PropertyDeleted {
        /// Property key.
        key: String,
    },
}

/// One change to one issue, as seen right after it was applied.
#[derive(Debug, Clone)]
pub struct IssueEvent {
    /// Site the issue lives on.
    pub cloud_id: CloudId,
    /// The issue after the change (before it, for deletions).
    pub issue: Issue,
    /// What happened.
    pub kind: IssueEventKind,
    /// Who did it.
    pub actor: AccountId,
    /// When (simulated clock).
    pub at: EpochMs,
}

impl IssueEvent {
    /// The webhook event name Jira uses for this change.
    pub fn webhook_event_name(&self) -> &'static str {
        match self.kind {
            IssueEventKind::Created => "jira:issue_created",
            IssueEventKind::Updated { .. } => "jira:issue_updated",
            IssueEventKind::Deleted => "jira:issue_deleted",
            IssueEventKind::CommentCreated(_) => "comment_created",
            IssueEventKind::CommentUpdated(_) => "comment_updated",
            IssueEventKind::CommentDeleted(_) => "comment_deleted",
            IssueEventKind::PropertySet { .. } => "issue_property_set",
            IssueEventKind::PropertyDeleted { .. } => "issue_property_deleted",
        }
    }
}
