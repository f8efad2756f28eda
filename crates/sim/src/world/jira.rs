//! A site's Jira configuration and content: projects, issue types, workflow, priorities, fields,
//! link types, issues and their satellites (comments, attachments, links), and site settings.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{AccountId, Attachment, Issue, IssueLink, Webhook};

/// Per-site Jira data.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct JiraData {
    /// Projects by id.
    pub projects: BTreeMap<u64, Project>,
    /// Issue types (global to the site, like Jira's default scheme).
    pub issue_types: Vec<IssueType>,
    /// Statuses.
    pub statuses: Vec<Status>,
    /// Workflow transitions (one workflow for every project and issue type).
    pub transitions: Vec<Transition>,
    /// Priorities.
    pub priorities: Vec<Priority>,
    /// Custom field definitions by field id (`customfield_10010`). System fields are implied.
    pub custom_fields: BTreeMap<String, FieldDef>,
    /// Issue link types.
    pub link_types: Vec<LinkType>,
    /// Issues by id.
    pub issues: BTreeMap<u64, Issue>,
    /// Current and former keys (moved issues keep answering to the old key) to issue id.
    /// Keys are stored upper-case; lookups are case-insensitive like Jira's.
    pub issue_keys: HashMap<String, u64>,
    /// Attachments by id (metadata; content lives in [`JiraData::attachment_content`]).
    pub attachments: BTreeMap<u64, Attachment>,
    /// Attachment bytes by attachment id.
    #[serde(with = "crate::persist::bytes_map")]
    pub attachment_content: BTreeMap<u64, bytes::Bytes>,
    /// Issue links by id.
    pub links: BTreeMap<u64, IssueLink>,
    /// Dynamic webhooks by id.
    pub webhooks: BTreeMap<u64, Webhook>,
    /// Comment entity properties: comment id -> key -> value.
    pub comment_properties: BTreeMap<u64, BTreeMap<String, serde_json::Value>>,
    /// Site settings that change endpoint behaviour.
    pub settings: SiteSettings,
}

impl JiraData {
    /// Resolves an issue id or key (case-insensitive) to the issue id.
    pub fn resolve_issue(&self, id_or_key: &str) -> Option<u64> {
        if let Ok(id) = id_or_key.parse::<u64>() {
            return self.issues.contains_key(&id).then_some(id);
        }
        self.issue_keys
            .get(&id_or_key.to_ascii_uppercase())
            .copied()
            .filter(|id| self.issues.contains_key(id))
    }

    /// Resolves a project id or key (keys are case-sensitive in project endpoints, but JQL and
    /// issue bodies accept any case; callers pick).
    pub fn resolve_project(&self, id_or_key: &str) -> Option<u64> {
        if let Ok(id) = id_or_key.parse::<u64>() {
            return self.projects.contains_key(&id).then_some(id);
        }
        self.projects
            .values()
            .find(|p| p.key.eq_ignore_ascii_case(id_or_key))
            .map(|p| p.id)
    }

    /// The status with id `id`.
    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    /// The issue type with id `id`.
    pub fn issue_type(&self, id: &str) -> Option<&IssueType> {
        self.issue_types.iter().find(|t| t.id == id)
    }

    /// The priority with id `id`.
    pub fn priority(&self, id: &str) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.id == id)
    }
}

/// Behaviour switches of a site.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteSettings {
    /// Whether attachments are enabled (`attachment/meta.enabled`).
    pub attachments_enabled: bool,
    /// Upload limit in bytes (`attachment/meta.uploadLimit`); larger uploads get 413.
    pub attachment_upload_limit: u64,
    /// "Allow users to watch issues".
    pub watching_enabled: bool,
    /// Issue linking enabled.
    pub linking_enabled: bool,
    /// Time zone of the site ("system default user time zone"), IANA name.
    pub default_time_zone: String,
    /// Maximum comments per issue before 413 (Jira Cloud: 5000).
    pub max_comments_per_issue: usize,
    /// Maximum attachments per issue before 413 (Jira Cloud: 2000).
    pub max_attachments_per_issue: usize,
    /// Maximum issue links per issue before 413 (Jira Cloud: 2000).
    pub max_links_per_issue: usize,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            attachments_enabled: true,
            attachment_upload_limit: 10 * 1024 * 1024 * 1024,
            watching_enabled: true,
            linking_enabled: true,
            default_time_zone: "UTC".to_owned(),
            max_comments_per_issue: 5000,
            max_attachments_per_issue: 2000,
            max_links_per_issue: 2000,
        }
    }
}

/// A project.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    /// Numeric id.
    pub id: u64,
    /// Key (`DEMO`): an upper-case letter followed by upper-case letters or digits, at most 10.
    pub key: String,
    /// Name.
    pub name: String,
    /// Description (plain text, as the project endpoints use).
    pub description: String,
    /// Lead account.
    pub lead: AccountId,
    /// `software` | `service_desk` | `business`.
    pub project_type_key: String,
    /// Template the project was created from, if any.
    pub project_template_key: Option<String>,
    /// `PROJECT_LEAD` | `UNASSIGNED`.
    pub assignee_type: String,
    /// Project URL.
    pub url: Option<String>,
    /// When set, only members of this group (and Jira admins) may browse the project; everyone
    /// else gets 404 for its issues and does not find them in search.
    pub browse_group: Option<String>,
    /// Accounts holding "Administer Projects" on this project (besides Jira admins).
    pub admins: Vec<AccountId>,
    /// Issue number counter for keys.
    pub next_issue_number: u64,
    /// Issue type ids valid in the project.
    pub issue_type_ids: Vec<String>,
    /// Whether the project is archived/deleted (kept for key resolution).
    pub archived: bool,
}

/// An issue type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssueType {
    /// Id.
    pub id: String,
    /// Name (`Task`, `Bug`, `Story`, `Epic`, `Subtask`).
    pub name: String,
    /// Description.
    pub description: String,
    /// Whether issues of this type are subtasks (need a parent).
    pub subtask: bool,
    /// Hierarchy level (`-1` subtask, `0` standard, `1` epic).
    pub hierarchy_level: i32,
}

/// The category of a status, as Jira groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusCategory {
    /// `new` (To Do), id 2, colour blue-gray.
    ToDo,
    /// `indeterminate` (In Progress), id 4, colour yellow.
    InProgress,
    /// `done` (Done), id 3, colour green.
    Done,
}

/// A workflow status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: StatusCategory,
}

/// A workflow transition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transition {
    /// Id.
    pub id: String,
    /// Name (`Start Progress`).
    pub name: String,
    /// Statuses it may be taken from; empty means "from any status" (a global transition).
    pub from: Vec<String>,
    /// Status it leads to.
    pub to: String,
    /// Whether taking it sets a resolution.
    pub resolves: bool,
}

/// A priority.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Priority {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Colour, e.g. `#d04437`.
    pub status_color: String,
    /// Whether it is the default for new issues.
    pub is_default: bool,
}

/// The kind of a custom field: decides the shape of values it accepts and returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldKind {
    /// Single-line text: a string.
    TextField,
    /// Multi-line text: an ADF document.
    TextArea,
    /// Number: a JSON number.
    Number,
    /// Date: `YYYY-MM-DD`.
    Date,
    /// Date-time.
    DateTime,
    /// Single select: `{"value": ..}` or `{"id": ..}`.
    Select,
    /// Multi select: an array of options.
    MultiSelect,
    /// Cascading select: `{"value": .., "child": {"value": ..}}`.
    Cascading,
    /// User picker: `{"accountId": ..}`.
    User,
    /// Labels-like field: array of strings.
    Labels,
}

/// An option of a select field: (option id, value, children of a cascading select as
/// (id, value)).
pub type FieldOption = (String, String, Vec<(String, String)>);

/// A custom field definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldDef {
    /// Field id, `customfield_10010`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Kind of the field.
    pub kind: FieldKind,
    /// Options for select kinds: (option id, value, children for cascading selects).
    pub options: Vec<FieldOption>,
}

impl FieldDef {
    /// The numeric part of the field id (`10010`), used by `cf[10010]` in JQL.
    pub fn number(&self) -> Option<u64> {
        self.id.strip_prefix("customfield_")?.parse().ok()
    }
}

/// An issue link type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkType {
    /// Id.
    pub id: String,
    /// Name (`Blocks`).
    pub name: String,
    /// Inward description (`is blocked by`).
    pub inward: String,
    /// Outward description (`blocks`).
    pub outward: String,
}
