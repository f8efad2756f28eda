//! The searchable copies of issues and the ordered indexes over them, per site.
//!
//! Search never reads the live world to decide what matches or in which order: it reads these
//! copies, which are updated only when a queued change becomes visible (see [`super::SearchIndex`]).
//! That is how the simulator reproduces Jira's eventually consistent search.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::clock::EpochMs;
use crate::world::{AccountId, Issue};

/// The searchable state of one issue, as of the moment its change became visible to search.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Issue id.
    pub id: u64,
    /// Current key.
    pub key: String,
    /// The number part of the key (`12` in `DEMO-12`).
    pub number: u64,
    /// Project id.
    pub project_id: u64,
    /// Issue type id.
    pub issue_type_id: String,
    /// Status id.
    pub status_id: String,
    /// Priority id.
    pub priority_id: Option<String>,
    /// Resolution name.
    pub resolution: Option<String>,
    /// Resolution instant.
    pub resolution_date: Option<EpochMs>,
    /// Assignee.
    pub assignee: Option<AccountId>,
    /// Reporter.
    pub reporter: Option<AccountId>,
    /// Creator.
    pub creator: AccountId,
    /// Labels.
    pub labels: Vec<String>,
    /// Due date `YYYY-MM-DD`.
    pub duedate: Option<String>,
    /// Parent issue id.
    pub parent_id: Option<u64>,
    /// Created instant.
    pub created: EpochMs,
    /// Updated instant.
    pub updated: EpochMs,
    /// Custom field values in response shape.
    pub custom_fields: BTreeMap<String, Value>,
    /// Watchers.
    pub watchers: BTreeSet<AccountId>,
    /// Summary as written.
    pub summary: String,
    /// Tokens of the summary.
    pub summary_tokens: Vec<String>,
    /// Tokens of the description's text.
    pub description_tokens: Vec<String>,
    /// Tokens of the environment's text.
    pub environment_tokens: Vec<String>,
    /// Tokens of every comment's text.
    pub comment_tokens: Vec<String>,
}

impl Doc {
    /// The searchable copy of `issue`.
    pub fn from_issue(issue: &Issue) -> Self {
        let adf_tokens = |doc: &Option<Value>| {
            doc.as_ref()
                .map(|d| super::text::tokens(&crate::rest::adf::plain_text(d)))
                .unwrap_or_default()
        };
        let mut comment_tokens = Vec::new();
        for comment in &issue.comments {
            comment_tokens.extend(super::text::tokens(&crate::rest::adf::plain_text(
                &comment.body,
            )));
        }
        Self {
            id: issue.id,
            key: issue.key.clone(),
            number: key_number(&issue.key),
            project_id: issue.project_id,
            issue_type_id: issue.issue_type_id.clone(),
            status_id: issue.status_id.clone(),
            priority_id: issue.priority_id.clone(),
            resolution: issue.resolution.clone(),
            resolution_date: issue.resolution_date,
            assignee: issue.assignee.clone(),
            reporter: issue.reporter.clone(),
            creator: issue.creator.clone(),
            labels: issue.labels.clone(),
            duedate: issue.duedate.clone(),
            parent_id: issue.parent_id,
            created: issue.created,
            updated: issue.updated,
            custom_fields: issue.custom_fields.clone(),
            watchers: issue.watchers.clone(),
            summary: issue.summary.clone(),
            summary_tokens: super::text::tokens(&issue.summary),
            description_tokens: adf_tokens(&issue.description),
            environment_tokens: adf_tokens(&issue.environment),
            comment_tokens,
        }
    }

    /// The project key part of the issue key (`DEMO` in `DEMO-12`).
    pub fn project_key(&self) -> &str {
        self.key.rsplit_once('-').map_or(&self.key, |(p, _)| p)
    }
}

/// The number after the last dash of an issue key, 0 when there is none.
pub fn key_number(key: &str) -> u64 {
    key.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// Issues of one scope (a project, or a whole site) in the orders the planner can walk.
#[derive(Debug, Default)]
pub struct Ordered {
    /// `(updated, id)`.
    pub by_updated: BTreeSet<(EpochMs, u64)>,
    /// `(created, id)`.
    pub by_created: BTreeSet<(EpochMs, u64)>,
    /// `id`.
    pub by_id: BTreeSet<u64>,
    /// `(key number, id)`: key order within one project.
    pub by_number: BTreeSet<(u64, u64)>,
}

impl Ordered {
    fn insert(&mut self, doc: &Doc) {
        self.by_updated.insert((doc.updated, doc.id));
        self.by_created.insert((doc.created, doc.id));
        self.by_id.insert(doc.id);
        self.by_number.insert((doc.number, doc.id));
    }

    fn remove(&mut self, doc: &Doc) {
        self.by_updated.remove(&(doc.updated, doc.id));
        self.by_created.remove(&(doc.created, doc.id));
        self.by_id.remove(&doc.id);
        self.by_number.remove(&(doc.number, doc.id));
    }
}

/// The searchable copies of one site's issues.
#[derive(Debug, Default)]
pub struct SiteIndex {
    /// Copies by issue id.
    pub docs: HashMap<u64, Arc<Doc>>,
    /// Every issue of the site.
    pub all: Ordered,
    /// Issues per project id.
    pub projects: HashMap<u64, Ordered>,
}

impl SiteIndex {
    /// Inserts or replaces the copy of an issue.
    pub fn upsert(&mut self, doc: Arc<Doc>) {
        self.delete(doc.id);
        self.all.insert(&doc);
        self.projects
            .entry(doc.project_id)
            .or_default()
            .insert(&doc);
        self.docs.insert(doc.id, doc);
    }

    /// Forgets an issue.
    pub fn delete(&mut self, id: u64) {
        if let Some(old) = self.docs.remove(&id) {
            self.all.remove(&old);
            if let Some(project) = self.projects.get_mut(&old.project_id) {
                project.remove(&old);
            }
        }
    }
}

/// A change waiting to become visible to search.
#[derive(Debug, Clone)]
pub enum Change {
    /// The issue now looks like this.
    Upsert(Arc<Doc>),
    /// The issue is gone.
    Delete(u64),
}

impl Change {
    /// The issue it changes.
    pub fn issue_id(&self) -> u64 {
        match self {
            Self::Upsert(doc) => doc.id,
            Self::Delete(id) => *id,
        }
    }
}

/// A queued change with the instant it becomes visible.
#[derive(Debug, Clone)]
pub struct Pending {
    /// When search starts seeing it.
    pub visible_at: EpochMs,
    /// Site.
    pub cloud_id: String,
    /// What changed.
    pub change: Change,
}

/// Every site's index.
#[derive(Debug, Default)]
pub struct Indexes {
    /// By cloud id.
    pub sites: HashMap<String, SiteIndex>,
}

impl Indexes {
    /// Applies one change.
    pub fn apply(&mut self, cloud_id: &str, change: Change) {
        match change {
            Change::Upsert(doc) => self
                .sites
                .entry(cloud_id.to_owned())
                .or_default()
                .upsert(doc),
            Change::Delete(id) => {
                if let Some(site) = self.sites.get_mut(cloud_id) {
                    site.delete(id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_numbers_come_from_the_last_dash() {
        assert_eq!(key_number("DEMO-12"), 12);
        assert_eq!(key_number("A1-B-3"), 3);
        assert_eq!(key_number("nope"), 0);
    }
}
