//! The simulator's whole state: registered OAuth apps, Atlassian accounts, sites and the Jira data
//! of each site, token families. One `World` sits behind one lock in [`crate::SimState`]; handlers
//! take the lock briefly, never across an await.
//!
//! These types are the simulator's own model. Response bodies are rendered from them by the REST
//! modules following the official spec's shapes; they are deliberately not shared with the client
//! crate, so a wrong field name on either side shows up in tests instead of cancelling out.

mod bulk;
mod directory;
mod issue;
mod jira;
mod webhook;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) use bulk::BulkProject;
pub use directory::{AccountId, App, CloudId, Group, Site, SiteRole, User};
pub use issue::{Attachment, ChangeHistory, ChangeItem, Comment, Issue, IssueLink, Visibility};
pub use jira::{
    FieldDef, FieldKind, FieldOption, IssueType, JiraData, LinkType, Priority, Project,
    SiteSettings, Status, StatusCategory, Transition,
};
pub use webhook::{Webhook, WebhookDelivery};

/// Everything the simulator knows. Serialisable so `--state FILE` can persist it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct World {
    /// Registered OAuth 2.0 (3LO) apps by client id.
    pub apps: BTreeMap<String, App>,
    /// Atlassian accounts by account id.
    pub users: BTreeMap<AccountId, User>,
    /// Customer sites by cloud id, each with its Jira data.
    pub sites: BTreeMap<CloudId, Site>,
    /// Authorization codes, access tokens and refresh-token families.
    pub oauth: crate::oauth::OAuthState,
    /// Source of numeric ids (issues, comments, attachments, links, projects, webhooks ...).
    /// Jira's ids are unique per site; one global counter keeps them unique everywhere, which is
    /// allowed and simpler.
    pub next_id: u64,
    /// Webhook deliveries queued by issue events and not yet picked up by the sender (which
    /// keeps its own retry schedule once it holds them).
    #[serde(default)]
    pub webhook_queue: std::collections::VecDeque<WebhookDelivery>,
}

impl World {
    /// Hands out the next numeric id. Starts at 10000 like Jira's.
    pub fn allocate_id(&mut self) -> u64 {
        if self.next_id < 10_000 {
            self.next_id = 10_000;
        }
        self.next_id += 1;
        self.next_id
    }

    /// The site with `cloud_id`, if any.
    pub fn site(&self, cloud_id: &str) -> Option<&Site> {
        self.sites.get(cloud_id)
    }

    /// The site with `cloud_id`, mutably.
    pub fn site_mut(&mut self, cloud_id: &str) -> Option<&mut Site> {
        self.sites.get_mut(cloud_id)
    }

    /// The account with `account_id`.
    pub fn user(&self, account_id: &str) -> Option<&User> {
        self.users.get(account_id)
    }
}
