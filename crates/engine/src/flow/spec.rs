//! The types of a flow file, as written in YAML. Every struct rejects unknown keys so a typo is a
//! load error instead of a silently ignored setting.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A flow file: a trigger and the steps that run when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// The flow's name, unique among the flows of one jiraflow instance.
    pub name: String,
    /// What the flow does, for people reading it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the trigger runs; a disabled flow still validates.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// What starts a run of the flow.
    pub trigger: TriggerSpec,
    /// The steps, run in order.
    pub steps: Vec<StepSpec>,
}

fn default_true() -> bool {
    true
}

/// The trigger block: which event, over which connection, with which options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    /// The trigger type.
    #[serde(rename = "type")]
    pub kind: TriggerKind,
    /// The name of the Jira connection the trigger watches.
    pub connection: String,
    /// Options; which ones apply depends on the trigger type (checked at load).
    #[serde(default)]
    pub options: TriggerOptions,
}

/// The five trigger types of the connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A comment was added to an issue.
    NewComment,
    /// An issue was created.
    NewIssue,
    /// An issue matching `options.jql` was created.
    NewIssueWithFilter,
    /// An issue was created or updated.
    NewOrUpdatedIssue,
    /// An issue matching `options.jql` was created or updated.
    NewOrUpdatedIssueWithFilter,
}

impl TriggerKind {
    /// Whether this trigger type filters with JQL (and so requires `options.jql`).
    pub fn is_filtered(self) -> bool {
        matches!(
            self,
            Self::NewIssueWithFilter | Self::NewOrUpdatedIssueWithFilter
        )
    }

    /// Whether this trigger type fires on updates (and so accepts `options.fields`).
    pub fn fires_on_update(self) -> bool {
        matches!(
            self,
            Self::NewOrUpdatedIssue | Self::NewOrUpdatedIssueWithFilter
        )
    }
}

/// Trigger options. One struct for all types so that positions survive deserialization; which
/// options a type accepts is checked after parsing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerOptions {
    /// The JQL filter: required for the `*_with_filter` types, rejected for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jql: Option<String>,
    /// A project key bounding the unfiltered types; rejected for the filtered ones (put
    /// `project = KEY` in the JQL instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// How events are detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TriggerMode>,
    /// How often to poll in `poll` and `hybrid` mode, e.g. `30s`, `5m` (default `1m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(ms|s|m|h)$"))]
    pub poll_interval: Option<String>,
    /// Where to start: `now` (the default) or an RFC 3339 timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Skip events caused by the connection's own user (default true), so a flow that updates
    /// issues does not trigger itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_own_changes: Option<bool>,
    /// For the update types: fire on updates only when one of these fields changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

impl TriggerOptions {
    /// The detection mode, `poll` when not given.
    pub fn mode(&self) -> TriggerMode {
        self.mode.unwrap_or(TriggerMode::Poll)
    }

    /// The poll interval in milliseconds, one minute when not given (a loaded flow's interval is
    /// known to parse).
    pub fn poll_interval_ms(&self) -> u64 {
        self.poll_interval
            .as_deref()
            .and_then(|d| super::check::parse_duration(d).ok())
            .unwrap_or(60_000)
    }

    /// Whether events caused by the connection's own user are skipped (default true).
    pub fn ignores_own_changes(&self) -> bool {
        self.ignore_own_changes.unwrap_or(true)
    }
}

/// How a trigger detects events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerMode {
    /// Poll Jira on an interval.
    Poll,
    /// Receive Jira webhooks.
    Webhook,
    /// Receive webhooks and poll as a safety net.
    Hybrid,
}

/// One step: an action called with templated inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// The step id (`[a-z0-9_]+`, unique in the flow); later steps read `steps.<id>.output`.
    #[schemars(regex(pattern = r"^[a-z0-9_]+$"))]
    pub id: String,
    /// The action to call.
    pub action: Action,
    /// The Jira connection to call it with (required except for `delete_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// The action's inputs: strings are templates over `trigger`, `steps.<id>.output` and
    /// `env`; other values are literals.
    #[serde(default)]
    pub input: serde_json::Map<String, serde_json::Value>,
    /// A condition expression; the step is skipped when it is false.
    #[serde(default, rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// How failed calls are retried.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// What a failure of this step does to the run.
    #[serde(default)]
    pub on_error: OnError,
}

/// Retry policy of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (1 to 10).
    #[serde(default = "default_attempts")]
    #[schemars(range(min = 1, max = 10))]
    pub max_attempts: u32,
    /// The delay before the first retry, doubled for each further one, e.g. `1s`.
    #[serde(default = "default_backoff")]
    #[schemars(regex(pattern = r"^[0-9]+(ms|s|m|h)$"))]
    pub backoff: String,
}

fn default_attempts() -> u32 {
    3
}

fn default_backoff() -> String {
    "1s".to_owned()
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: default_attempts(),
            backoff: default_backoff(),
        }
    }
}

impl RetryPolicy {
    /// The delay before the first retry in milliseconds (a loaded flow's backoff is known to
    /// parse; one second otherwise).
    pub fn backoff_ms(&self) -> u64 {
        super::check::parse_duration(&self.backoff).unwrap_or(1_000)
    }
}

/// What a step failure does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Stop the run and mark it failed.
    #[default]
    Fail,
    /// Record the error as the step's output and go on.
    Continue,
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// The actions a step can call.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
        pub enum Action {
            $(
                #[doc = $doc]
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl Action {
            /// Every action, in the order of the documentation.
            pub const ALL: &[Action] = &[$(Action::$variant),*];

            /// The action's name in flow files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    AddAttachment => "add_attachment", "Attach content to an issue.";
    AddUserToGroup => "add_user_to_group", "Add a user to a group.";
    AddWatcher => "add_watcher", "Add a watcher to an issue.";
    CreateComment => "create_comment", "Comment on an issue.";
    CreateGroup => "create_group", "Create a group.";
    CreateIssue => "create_issue", "Create an issue.";
    CreateIssueLink => "create_issue_link", "Link two issues.";
    CreateProject => "create_project", "Create a project.";
    DeleteWatcher => "delete_watcher", "Remove a watcher from an issue.";
    GetAttachmentContent => "get_attachment_content", "Download an attachment's content.";
    GetComments => "get_comments", "List an issue's comments.";
    GetIssues => "get_issues", "Search issues with JQL.";
    RemoveGroup => "remove_group", "Delete a group.";
    RemoveUserFromGroup => "remove_user_from_group", "Remove a user from a group.";
    UpdateComment => "update_comment", "Edit a comment.";
    UpdateIssue => "update_issue", "Edit an issue.";
    UpdateProject => "update_project", "Edit a project.";
    UpsertComment => "upsert_comment", "Update a comment matching a marker, or create it.";
    UpsertIssue => "upsert_issue", "Update the issue matching a JQL, or create it.";
    TestConnection => "test_connection", "Check that the connection works.";
    GetFile => "get_file", "Read a file from jiraflow's file store.";
    AttachFile => "attach_file", "Attach a stored file to an issue.";
    DeleteFile => "delete_file", "Delete a file from jiraflow's file store.";
}

impl Action {
    /// Looks an action up by its flow-file name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// Whether the action calls Jira and so needs a connection. Only `delete_file` works on
    /// jiraflow's own file store alone.
    pub fn needs_connection(self) -> bool {
        self != Self::DeleteFile
    }

    /// The valid action name closest to `name` (by edit distance), if any is close enough to
    /// be a plausible typo.
    pub fn closest(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .map(|a| (edit_distance(name, a.name()), a))
            .filter(|(d, a)| *d <= a.name().len().max(4) / 3 + 1)
            .min_by_key(|(d, _)| *d)
            .map(|(_, a)| a)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

// Hand-written so an unknown action names the closest valid one; the error is raised while the
// deserializer sits on the value, so it carries the value's line and column.
impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Action::from_name(&name).ok_or_else(|| serde::de::Error::custom(unknown_action(&name)))
    }
}

/// The message for an unknown action name: the closest match and the valid names.
pub fn unknown_action(name: &str) -> String {
    let valid: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
    let hint = match Action::closest(name) {
        Some(a) => format!(" (did you mean `{a}`?)"),
        None => String::new(),
    };
    format!(
        "unknown action `{name}`{hint}; valid actions: {}",
        valid.join(", ")
    )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_name_round_trips_through_from_name() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
        }
        assert_eq!(Action::ALL.len(), 23);
    }

    #[test]
    fn a_typo_suggests_the_closest_action() {
        assert_eq!(
            Action::closest("create_coment"),
            Some(Action::CreateComment)
        );
        assert_eq!(Action::closest("frobnicate_everything"), None);
    }
}
