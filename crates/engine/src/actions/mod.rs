//! The actions a flow step can call, one module per family, dispatched by the explicit
//! [`Action`](crate::flow::Action) enum (no registry).
//!
//! Every action has a typed input (`#[serde(deny_unknown_fields)]`: the step's rendered `input`
//! is decoded into it, and a bad field is reported with its path), a typed output (serialised
//! into the step's output that later steps map from), and a `run` function that talks to Jira only
//! through [`jiraflow_jira::JiraClient`]. Outcomes say whether the world changed: adding a
//! watcher who already watches, or a member already in the group, succeeds as
//! [`Outcome::Unchanged`].

use chrono::{DateTime, Utc};
use jiraflow_files::Files;
use jiraflow_jira::JiraClient;
use jiraflow_store::{RunId, WriteLedger};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::flow::Action;

pub mod attachments;
pub mod comments;
pub mod files;
pub mod groups;
pub mod issues;
pub mod links;
pub mod people;
pub mod projects;
pub mod schema;
pub mod upserts;
pub mod watchers;

/// What an action run needs besides its input.
#[derive(Clone, Copy)]
pub struct ActionContext<'a> {
    /// The Jira client of the step's connection.
    pub jira: &'a JiraClient,
    /// The step id (for error messages).
    pub step_id: &'a str,
    /// The write ledger: where upserts keep external id → Jira id, and creates record that they
    /// are in flight. Without one, Upsert Issue needs a `match_jql`.
    pub ledger: Option<&'a dyn WriteLedger>,
    /// The step's write identity (`run-id/step-id`): creates mark what they write with it, so a
    /// repeat after a lost response finds the first attempt's object instead of writing twice.
    pub write_key: Option<&'a str>,
    /// Set when an earlier attempt of this step, started at this instant, may have written (its
    /// outcome was lost to a crash or a dropped response): reconcile before writing.
    pub maybe_written_since: Option<DateTime<Utc>>,
    /// jiraflow's file objects, for `get_file`, `attach_file` and `delete_file`; without it
    /// those actions fail with a clear error.
    pub files: Option<&'a Files>,
    /// The run this step belongs to: files the step makes are owned by it (and go when the run
    /// is purged). `None` outside a run: files are then owned by the system.
    pub run_id: Option<RunId>,
}

impl<'a> ActionContext<'a> {
    /// A context with no ledger and no write identity (one-off calls, tests).
    pub fn new(jira: &'a JiraClient, step_id: &'a str) -> Self {
        Self {
            jira,
            step_id,
            ledger: None,
            write_key: None,
            maybe_written_since: None,
            files: None,
            run_id: None,
        }
    }

    /// With the file objects service and, inside a run, the run that owns what the step makes.
    #[must_use]
    pub fn with_files(mut self, files: &'a Files, run_id: Option<RunId>) -> Self {
        self.files = Some(files);
        self.run_id = run_id;
        self
    }

    /// With a write ledger.
    #[must_use]
    pub fn with_ledger(mut self, ledger: &'a dyn WriteLedger) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// With the step's write identity and, when an earlier attempt may have written, when it
    /// started.
    #[must_use]
    pub fn with_write_key(
        mut self,
        key: &'a str,
        maybe_written_since: Option<DateTime<Utc>>,
    ) -> Self {
        self.write_key = Some(key);
        self.maybe_written_since = maybe_written_since;
        self
    }
}

impl std::fmt::Debug for ActionContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionContext")
            .field("step_id", &self.step_id)
            .field("write_key", &self.write_key)
            .field("maybe_written_since", &self.maybe_written_since)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// Whether an action changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Something was created, changed or deleted.
    Changed,
    /// The world already was as asked (idempotent success), or the action only reads.
    Unchanged,
}

/// The result of a successful action: its outcome and its typed output as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionOutput {
    /// Changed or unchanged.
    pub outcome: Outcome,
    /// The action's output (what `steps.<id>.output` holds).
    pub output: Value,
}

/// Why an action failed. The message names the action, the step, the input path where one
/// applies, and Jira's own messages.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The rendered input does not fit the action's input type.
    #[error("step {step:?} ({action}): input {path}: {message}")]
    Input {
        /// Step id.
        step: String,
        /// Action name.
        action: &'static str,
        /// Path inside the input (`input.fields.summary`).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Jira (or the client before sending) refused the request.
    #[error("step {step:?} ({action}): {source}")]
    Jira {
        /// Step id.
        step: String,
        /// Action name.
        action: &'static str,
        /// The client's error (boxed: it carries Jira's whole answer).
        #[source]
        source: Box<jiraflow_jira::Error>,
    },
    /// A lookup found no match or several (user by e-mail, group by name, ...).
    #[error("step {step:?} ({action}): {message}")]
    Resolve {
        /// Step id.
        step: String,
        /// Action name.
        action: &'static str,
        /// What could not be resolved.
        message: String,
    },
    /// Jira refused for lack of a permission or an OAuth scope; `needed` names what is missing.
    #[error("step {step:?} ({action}): {source} (this needs {needed})")]
    Denied {
        /// Step id.
        step: String,
        /// Action name.
        action: &'static str,
        /// The missing permission or scope (`site administrator`, `scope manage:jira-project`).
        needed: String,
        /// The client's error, with Jira's own message.
        #[source]
        source: Box<jiraflow_jira::Error>,
    },
    /// The write ledger could not be read or written; nothing is known to be lost (a create is
    /// marked in Jira, so a retry finds it), hence retryable.
    #[error("step {step:?} ({action}): the write ledger failed: {source}")]
    Ledger {
        /// Step id.
        step: String,
        /// Action name.
        action: &'static str,
        /// The store's error (boxed: errors stay small on the happy path).
        #[source]
        source: Box<jiraflow_store::StoreError>,
    },
    /// jiraflow's file objects refused or failed (the 15 MiB limit names the size and the
    /// limit; an unknown file names its id); `path` is the input field involved, if any.
    #[error("step {step:?} ({action}): {}{source}", path.as_deref().map(|p| format!("{p}: ")).unwrap_or_default())]
    Files {
        /// Step id.
        step: String,
        /// Action name.
        action: &'static str,
        /// Path inside the input (`input.file_id`), when one field is to blame.
        path: Option<String>,
        /// The file service's error (boxed: it can carry Jira's whole answer).
        #[source]
        source: Box<jiraflow_files::FilesError>,
    },
    /// The action is declared in the flow format but not implemented by this engine yet.
    #[error("step {step:?}: the action {action} is not available yet")]
    Unavailable {
        /// Step id.
        step: String,
        /// Action name.
        action: &'static str,
    },
}

impl ActionError {
    /// Whether retrying the step may succeed (rate limits, transient Jira failures).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Jira { source, .. } => source.is_retryable(),
            Self::Ledger { .. } => true,
            Self::Files { source, .. } => match source.as_ref() {
                jiraflow_files::FilesError::Jira { source, .. } => source.is_retryable(),
                jiraflow_files::FilesError::Io { .. } => true,
                jiraflow_files::FilesError::Store(e) => e.is_retryable(),
                _ => false,
            },
            _ => false,
        }
    }

    /// An error for `source` from Jira in `action` of `ctx`'s step.
    pub fn jira(ctx: &ActionContext<'_>, action: Action, source: jiraflow_jira::Error) -> Self {
        Self::Jira {
            step: ctx.step_id.to_owned(),
            action: action.name(),
            source: Box::new(source),
        }
    }

    /// An input error at `path` (relative to the step's `input`).
    pub fn input(
        ctx: &ActionContext<'_>,
        action: Action,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Input {
            step: ctx.step_id.to_owned(),
            action: action.name(),
            path: path.into(),
            message: message.into(),
        }
    }

    /// A refusal for lack of `needed` (a permission or an OAuth scope).
    pub fn denied(
        ctx: &ActionContext<'_>,
        action: Action,
        needed: impl Into<String>,
        source: jiraflow_jira::Error,
    ) -> Self {
        Self::Denied {
            step: ctx.step_id.to_owned(),
            action: action.name(),
            needed: needed.into(),
            source: Box::new(source),
        }
    }

    /// A resolution error (no or several matches).
    pub fn resolve(ctx: &ActionContext<'_>, action: Action, message: impl Into<String>) -> Self {
        Self::Resolve {
            step: ctx.step_id.to_owned(),
            action: action.name(),
            message: message.into(),
        }
    }
}

/// Maps a client error: a refusal for lack of an OAuth scope names `scope`, a refusal for lack of
/// a permission names `permission` (Jira's own messages do not say what is missing), anything else
/// keeps Jira's answer as it is.
pub(crate) fn jira_error(
    ctx: &ActionContext<'_>,
    action: Action,
    permission: &str,
    scope: &str,
    err: jiraflow_jira::Error,
) -> ActionError {
    if err.is_scope_error() {
        ActionError::denied(ctx, action, format!("the OAuth scope {scope}"), err)
    } else if err.is_permission_denied() {
        ActionError::denied(ctx, action, permission, err)
    } else {
        ActionError::jira(ctx, action, err)
    }
}

/// Decodes a step's rendered input into the action's input type, naming the failing path.
pub fn decode_input<T: DeserializeOwned>(
    ctx: &ActionContext<'_>,
    action: Action,
    input: Value,
) -> Result<T, ActionError> {
    serde_path_to_error::deserialize(input).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." {
            "input".to_owned()
        } else {
            format!("input.{path}")
        };
        ActionError::input(ctx, action, path, err.inner().to_string())
    })
}

/// Wraps a typed output.
pub fn output<T: Serialize>(outcome: Outcome, value: &T) -> ActionOutput {
    ActionOutput {
        outcome,
        output: serde_json::to_value(value).unwrap_or(Value::Null),
    }
}

/// Runs `action` with its rendered `input`.
///
/// # Errors
/// [`ActionError`] naming the action, the step, the input path and Jira's messages.
pub async fn run(
    action: Action,
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    #[allow(clippy::match_single_binding)]
    match action {
        Action::CreateGroup => groups::create_group(ctx, input).await,
        Action::RemoveGroup => groups::remove_group(ctx, input).await,
        Action::AddUserToGroup => groups::add_user_to_group(ctx, input).await,
        Action::RemoveUserFromGroup => groups::remove_user_from_group(ctx, input).await,
        Action::CreateProject => projects::create_project(ctx, input).await,
        Action::UpdateProject => projects::update_project(ctx, input).await,
        Action::CreateIssue => issues::create_issue(ctx, input).await,
        Action::UpdateIssue => issues::update_issue(ctx, input).await,
        Action::GetIssues => issues::get_issues(ctx, input).await,
        Action::TestConnection => issues::test_connection(ctx, input).await,
        Action::CreateComment => comments::create_comment(ctx, input).await,
        Action::UpdateComment => comments::update_comment(ctx, input).await,
        Action::GetComments => comments::get_comments(ctx, input).await,
        Action::AddWatcher => watchers::add_watcher(ctx, input).await,
        Action::DeleteWatcher => watchers::delete_watcher(ctx, input).await,
        Action::CreateIssueLink => links::create_issue_link(ctx, input).await,
        Action::AddAttachment => attachments::add_attachment(ctx, input).await,
        Action::GetAttachmentContent => attachments::get_attachment_content(ctx, input).await,
        Action::UpsertIssue => upserts::upsert_issue(ctx, input).await,
        Action::UpsertComment => upserts::upsert_comment(ctx, input).await,
        Action::GetFile => files::get_file(ctx, input).await,
        Action::AttachFile => files::attach_file(ctx, input).await,
        Action::DeleteFile => files::delete_file(ctx, input).await,
    }
}
