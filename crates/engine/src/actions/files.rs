//! File object actions: `get_file` (a Jira attachment copied into a jiraflow file object),
//! `attach_file` (a file object attached to an issue) and `delete_file` (a file object removed).
//!
//! The bytes never pass through the step's input or output: steps hand each other the
//! `file_id`, and the content is streamed between Jira and the file store by
//! [`jiraflow_files::Files`]. Files a run makes are owned by that run (see
//! [`ActionContext::run_id`]), so they go when the run is purged, and expire in any case.

use chrono::{DateTime, Utc};
use jiraflow_files::{FileId, FileOwner, Files, FilesError};
use jiraflow_jira::wire::attachment::Attachment;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::comments::{BROWSE, READ_SCOPE, WRITE_SCOPE};
use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, jira_error, output};
use crate::flow::Action;

const CREATE_ATTACHMENTS: &str = "the Create Attachments permission on the issue's project";

/// Input of `get_file`: an attachment by id, or by issue and exact file name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct GetFileInput {
    /// The attachment id. Either this, or `issue` and `filename`.
    #[serde(default)]
    pub attachment_id: Option<String>,
    /// The issue key or id whose attachment to read (with `filename`).
    #[serde(default)]
    pub issue: Option<String>,
    /// The attachment's exact file name on `issue` (case and spaces count).
    #[serde(default)]
    pub filename: Option<String>,
}

/// Output of `get_file`: the new file object.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileOutput {
    /// The file object's id (what `attach_file` and `delete_file` take).
    pub file_id: String,
    /// The file name, as Jira had it.
    pub name: String,
    /// The media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
    /// When the file object expires (it is deleted then, if not before), RFC 3339.
    #[schemars(with = "Option<String>")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Input of `attach_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AttachFileInput {
    /// The file object's id.
    pub file_id: String,
    /// The issue key or id to attach it to.
    pub issue: String,
    /// The attachment's name in Jira; the file object's name when absent.
    #[serde(default)]
    pub filename: Option<String>,
}

/// Output of `attach_file`: the attachment Jira created.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttachFileOutput {
    /// The attachment id.
    pub id: String,
    /// The file name as stored.
    pub filename: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// The media type Jira recorded.
    pub mime_type: Option<String>,
    /// The attachment's metadata URL.
    #[serde(rename = "self")]
    pub self_url: Option<String>,
}

/// Input of `delete_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DeleteFileInput {
    /// The file object's id.
    pub file_id: String,
}

/// Output of `delete_file`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeleteFileOutput {
    /// Whether there was a file to delete.
    pub deleted: bool,
}

/// `get_file`: copies a Jira attachment (by id, or by issue and exact file name) into a new file
/// object, streamed. Changed: a file object now exists.
///
/// # Errors
/// Input errors (neither or both ways of naming the attachment, an unknown or ambiguous file
/// name); the 15 MiB limit (naming size and limit); Jira's errors; no file store.
pub async fn get_file(ctx: ActionContext<'_>, input: Value) -> Result<ActionOutput, ActionError> {
    let action = Action::GetFile;
    let files = require_files(&ctx, action)?;
    let input: GetFileInput = decode_input(&ctx, action, input)?;
    let (attachment_id, path) = match (input.attachment_id, input.issue, input.filename) {
        (Some(id), None, None) => (id, "input.attachment_id"),
        (None, Some(issue), Some(filename)) => (
            find_by_name(&ctx, action, &issue, &filename).await?,
            "input.filename",
        ),
        (Some(_), _, _) => {
            return Err(ActionError::input(
                &ctx,
                action,
                "input",
                "give either `attachment_id`, or `issue` and `filename`, not both",
            ));
        }
        (None, Some(_), None) => {
            return Err(ActionError::input(
                &ctx,
                action,
                "input.filename",
                "`filename` is required with `issue`",
            ));
        }
        (None, None, _) => {
            return Err(ActionError::input(
                &ctx,
                action,
                "input",
                "`attachment_id`, or `issue` and `filename`, is required",
            ));
        }
    };
    let owner = ctx.run_id.map_or(FileOwner::System, FileOwner::Run);
    let object = files
        .download_attachment(ctx.jira, attachment_id.as_str(), owner)
        .await
        .map_err(|e| files_error(&ctx, action, Some(path), BROWSE, READ_SCOPE, e))?;
    Ok(output(
        Outcome::Changed,
        &FileOutput {
            file_id: object.id.to_string(),
            name: object.name,
            media_type: object.media_type,
            size: object.size,
            sha256: object.sha256,
            expires_at: object.expires_at,
        },
    ))
}

/// `attach_file`: attaches a file object to an issue, streamed, and checks Jira's copy (size
/// and SHA-256). Always Changed: Jira keeps every upload.
///
/// # Errors
/// Input errors (a malformed file id or file name); an unknown file; the 15 MiB limit; Jira's
/// errors (unknown issue, missing permission or scope, the site's upload limit); no file store.
pub async fn attach_file(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::AttachFile;
    let files = require_files(&ctx, action)?;
    let input: AttachFileInput = decode_input(&ctx, action, input)?;
    let file_id = parse_file_id(ctx.step_id, action, &input.file_id)?;
    if let Some(name) = &input.filename {
        jiraflow_store::files::validate_file_name(name)
            .map_err(|e| ActionError::input(&ctx, action, "input.filename", e.to_string()))?;
    }
    let attachment: Attachment = files
        .upload_to_issue_as(
            ctx.jira,
            input.issue.as_str(),
            file_id,
            input.filename.as_deref(),
        )
        .await
        .map_err(|e| {
            let path = e.is_not_found().then_some("input.file_id");
            files_error(&ctx, action, path, CREATE_ATTACHMENTS, WRITE_SCOPE, e)
        })?;
    Ok(output(
        Outcome::Changed,
        &AttachFileOutput {
            id: attachment.id.into_string(),
            filename: attachment.filename,
            size: attachment.size,
            mime_type: attachment.mime_type,
            self_url: attachment.self_url,
        },
    ))
}

/// `delete_file`: deletes a file object. Unchanged when it was already gone.
///
/// # Errors
/// A malformed file id; file store failures; no file store.
pub async fn delete_file(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    delete_file_in(ctx.files, ctx.step_id, input).await
}

/// `delete_file` without a Jira client: the action works on jiraflow's own file store alone, so
/// a flow step running it names no connection.
///
/// # Errors
/// As [`delete_file`].
pub async fn delete_file_in(
    files: Option<&Files>,
    step_id: &str,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::DeleteFile;
    let Some(files) = files else {
        return Err(no_files(step_id, action));
    };
    let input: DeleteFileInput = decode_step_input(step_id, action, input)?;
    let file_id = parse_file_id(step_id, action, &input.file_id)?;
    let deleted = files
        .delete(file_id)
        .await
        .map_err(|e| ActionError::Files {
            step: step_id.to_owned(),
            action: action.name(),
            path: Some("input.file_id".to_owned()),
            source: Box::new(e),
        })?;
    let outcome = if deleted {
        Outcome::Changed
    } else {
        Outcome::Unchanged
    };
    Ok(output(outcome, &DeleteFileOutput { deleted }))
}

fn require_files<'a>(ctx: &ActionContext<'a>, action: Action) -> Result<&'a Files, ActionError> {
    ctx.files.ok_or_else(|| no_files(ctx.step_id, action))
}

fn no_files(step_id: &str, action: Action) -> ActionError {
    ActionError::Resolve {
        step: step_id.to_owned(),
        action: action.name(),
        message: "no file store is available here: file actions need jiraflow's file objects \
                  service (the executor and the command line give it from the data directory)"
            .to_owned(),
    }
}

/// [`decode_input`] for callers without an [`ActionContext`].
fn decode_step_input<T: serde::de::DeserializeOwned>(
    step_id: &str,
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
        ActionError::Input {
            step: step_id.to_owned(),
            action: action.name(),
            path,
            message: err.inner().to_string(),
        }
    })
}

fn parse_file_id(step_id: &str, action: Action, text: &str) -> Result<FileId, ActionError> {
    text.trim().parse().map_err(|_| ActionError::Input {
        step: step_id.to_owned(),
        action: action.name(),
        path: "input.file_id".to_owned(),
        message: format!("{text:?} is not a file id (a UUID, as `get_file` returns)"),
    })
}

/// The id of the one attachment named exactly `filename` on `issue`.
async fn find_by_name(
    ctx: &ActionContext<'_>,
    action: Action,
    issue: &str,
    filename: &str,
) -> Result<String, ActionError> {
    let bean = ctx
        .jira
        .issues()
        .get(issue)
        .fields(["attachment"])
        .send()
        .await
        .map_err(|e| jira_error(ctx, action, BROWSE, READ_SCOPE, e))?;
    let attachments: Vec<Attachment> = bean
        .fields
        .get("attachment")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let matching: Vec<&Attachment> = attachments
        .iter()
        .filter(|a| a.filename.as_deref() == Some(filename))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.id.to_string()),
        [] => {
            let names: Vec<String> = attachments
                .iter()
                .filter_map(|a| a.filename.as_deref().map(|n| format!("{n:?}")))
                .collect();
            let has = if names.is_empty() {
                "it has no attachments".to_owned()
            } else {
                format!("it has {}", names.join(", "))
            };
            Err(ActionError::input(
                ctx,
                action,
                "input.filename",
                format!("issue {issue} has no attachment named {filename:?} ({has})"),
            ))
        }
        several => {
            let ids: Vec<String> = several.iter().map(|a| a.id.to_string()).collect();
            Err(ActionError::input(
                ctx,
                action,
                "input.filename",
                format!(
                    "issue {issue} has {} attachments named {filename:?} (ids {}); give \
                     `attachment_id` instead",
                    ids.len(),
                    ids.join(", ")
                ),
            ))
        }
    }
}

/// Maps a file service error: Jira's refusals for lack of a scope or permission name what is
/// missing (as the other actions do); anything else keeps the service's message.
fn files_error(
    ctx: &ActionContext<'_>,
    action: Action,
    path: Option<&str>,
    permission: &str,
    scope: &str,
    err: FilesError,
) -> ActionError {
    match err {
        FilesError::Jira { source, .. }
            if source.is_scope_error() || source.is_permission_denied() =>
        {
            jira_error(ctx, action, permission, scope, *source)
        }
        // The limit and Jira's other answers are about the file, not one input field.
        err @ (FilesError::TooLarge { .. } | FilesError::Jira { .. }) => ActionError::Files {
            step: ctx.step_id.to_owned(),
            action: action.name(),
            path: None,
            source: Box::new(err),
        },
        err => ActionError::Files {
            step: ctx.step_id.to_owned(),
            action: action.name(),
            path: path.map(str::to_owned),
            source: Box::new(err),
        },
    }
}
