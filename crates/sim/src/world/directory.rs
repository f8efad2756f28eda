//! Accounts, apps, sites and groups: who exists, who may log in where, and who administers what.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::JiraData;

/// An Atlassian account id (e.g. `5b10ac8d82e05b22cc7d4ef5`).
pub type AccountId = String;
/// A site's cloud id (a UUID string).
pub type CloudId = String;

/// A registered OAuth 2.0 (3LO) app, as configured in Atlassian's developer console.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret: also the HS256 key for its webhook JWTs.
    pub client_secret: String,
    /// Display name on the consent page.
    pub name: String,
    /// Callback URLs. `redirect_uri` must equal one of them exactly.
    pub redirect_uris: Vec<String>,
    /// Scopes the app has been configured with; `/authorize` rejects others.
    pub scopes: BTreeSet<String>,
    /// The account that owns the app (private apps only get webhooks registered by the owner).
    pub owner: Option<AccountId>,
}

/// An Atlassian account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// Account id.
    pub account_id: AccountId,
    /// Display name.
    pub display_name: String,
    /// E-mail address; `None` when hidden by the user's privacy settings.
    pub email: Option<String>,
    /// The login name on the consent page (usually the e-mail).
    pub login: String,
    /// Password for the consent page's login form.
    pub password: String,
    /// IANA time zone of the user's profile, e.g. `Pacific/Honolulu`. JQL absolute dates and
    /// `startOfDay()` are read in it.
    pub time_zone: String,
    /// Locale, e.g. `en_US`.
    pub locale: String,
    /// `atlassian` for people, `app` for bots.
    pub account_type: String,
    /// Whether the account is active.
    pub active: bool,
}

/// How an account relates to a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SiteRole {
    /// A licensed Jira user.
    Member,
    /// Member with the "Administer Jira" global permission (create project, ...).
    JiraAdmin,
    /// Organisation/site admin: everything a Jira admin can do plus group management.
    SiteAdmin,
}

impl SiteRole {
    /// Holds the "Administer Jira" global permission.
    pub fn administers_jira(self) -> bool {
        matches!(self, SiteRole::JiraAdmin | SiteRole::SiteAdmin)
    }

    /// Is a site admin (required for group management).
    pub fn is_site_admin(self) -> bool {
        matches!(self, SiteRole::SiteAdmin)
    }
}

/// A Jira Cloud site (`https://<name>.atlassian.net` in the real world).
#[derive(Debug, Serialize, Deserialize)]
pub struct Site {
    /// Cloud id.
    pub cloud_id: CloudId,
    /// Short name (`acme`).
    pub name: String,
    /// The site's own URL. In the simulator: `{base}/site/{name}`.
    pub url: String,
    /// Accounts with access to the site, and their role.
    pub members: BTreeMap<AccountId, SiteRole>,
    /// Groups by group id.
    pub groups: BTreeMap<String, Group>,
    /// The Jira data of the site.
    pub jira: JiraData,
}

impl Site {
    /// The role of `account_id` on this site, if it has access.
    pub fn role(&self, account_id: &str) -> Option<SiteRole> {
        self.members.get(account_id).copied()
    }

    /// The group called `name` (group names are case-insensitive in Jira).
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups
            .values()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// Whether `account_id` belongs to the group with id `group_id`.
    pub fn in_group(&self, account_id: &str, group_id: &str) -> bool {
        self.groups
            .get(group_id)
            .is_some_and(|g| g.members.contains(account_id))
    }
}

/// A user group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// Group id (UUID).
    pub group_id: String,
    /// Name (unique per site, case-insensitive).
    pub name: String,
    /// Member account ids.
    pub members: BTreeSet<AccountId>,
}
