//! Attachment content actions: `add_attachment` (inline content, as text or base64) and
//! `get_attachment_content` (inline download, bounded by `max_bytes` so a flow run never holds
//! an unexpectedly large file in memory).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiraflow_jira::ops::attachments::AttachmentFile;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::comments::{BROWSE, READ_SCOPE, WRITE_SCOPE};
use super::jira_error;
use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, output};

const CREATE_ATTACHMENTS: &str = "the Create Attachments permission on the issue's project";
use crate::flow::Action;

/// The default `max_bytes` of `get_attachment_content`: 1 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;

/// Input of `add_attachment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AddAttachmentInput {
    /// The issue key or id.
    pub issue: String,
    /// The file name shown in Jira.
    pub filename: String,
    /// The content as text (sent as UTF-8). Exactly one of `content` and `content_base64`.
    #[serde(default)]
    pub content: Option<String>,
    /// The content as standard base64 (binary files).
    #[serde(default)]
    pub content_base64: Option<String>,
    /// The media type (`text/csv`); Jira guesses from the name when absent.
    #[serde(default)]
    pub media_type: Option<String>,
}

/// Output of `add_attachment`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AddAttachmentOutput {
    /// The attachment id.
    pub attachment_id: String,
    /// The file name as stored.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// The media type Jira recorded.
    pub media_type: Option<String>,
}

/// Input of `get_attachment_content`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct GetAttachmentContentInput {
    /// The attachment id.
    pub attachment_id: String,
    /// Largest content accepted, in bytes (default 1 MiB); a larger attachment is an error.
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

/// Output of `get_attachment_content`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GetAttachmentContentOutput {
    /// The attachment id.
    pub attachment_id: String,
    /// The file name.
    pub filename: Option<String>,
    /// The media type.
    pub media_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// The content as text, when it is valid UTF-8.
    pub content: Option<String>,
    /// The content as base64, when it is not valid UTF-8.
    pub content_base64: Option<String>,
}

/// `add_attachment`: attaches inline content to an issue. Always Changed: Jira keeps every
/// upload, even of a file with the same name.
///
/// # Errors
/// Input errors (both or neither content field, bad base64); Jira's errors (404 unknown issue,
/// 403 without the Create Attachments permission, file over the site's limit, missing scope).
pub async fn add_attachment(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::AddAttachment;
    let input: AddAttachmentInput = decode_input(&ctx, action, input)?;
    let bytes: Vec<u8> = match (input.content, input.content_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => {
            // Whitespace is dropped because encoders often wrap base64 at 76 columns.
            let compact: String = encoded.split_whitespace().collect();
            STANDARD.decode(compact).map_err(|e| {
                ActionError::input(
                    &ctx,
                    action,
                    "input.content_base64",
                    format!("not valid base64: {e}"),
                )
            })?
        }
        (Some(_), Some(_)) => {
            return Err(ActionError::input(
                &ctx,
                action,
                "input",
                "give either `content` or `content_base64`, not both",
            ));
        }
        (None, None) => {
            return Err(ActionError::input(
                &ctx,
                action,
                "input",
                "`content` (text) or `content_base64` is required",
            ));
        }
    };
    let mut file = AttachmentFile::from_bytes(input.filename.clone(), bytes);
    if let Some(media_type) = input.media_type {
        file = file.mime_type(media_type);
    }
    let size = file.len();
    let attached = ctx
        .jira
        .attachments()
        .add(input.issue.as_str(), file)
        .send()
        .await
        .map_err(|e| jira_error(&ctx, action, CREATE_ATTACHMENTS, WRITE_SCOPE, e))?;
    let Some(first) = attached.into_iter().next() else {
        return Err(ActionError::resolve(
            &ctx,
            action,
            "Jira accepted the upload but returned no attachment",
        ));
    };
    Ok(output(
        Outcome::Changed,
        &AddAttachmentOutput {
            attachment_id: first.id.into_string(),
            filename: first.filename.unwrap_or(input.filename),
            size: first.size.unwrap_or(size),
            media_type: first.mime_type,
        },
    ))
}

/// `get_attachment_content`: downloads an attachment inline, refusing one above `max_bytes`.
///
/// # Errors
/// Input errors (the attachment is larger than `max_bytes`); Jira's errors (404 unknown
/// attachment, missing scope).
pub async fn get_attachment_content(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::GetAttachmentContent;
    let input: GetAttachmentContentInput = decode_input(&ctx, action, input)?;
    let max = input.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    let too_large = |size: u64| {
        ActionError::input(
            &ctx,
            action,
            "input.max_bytes",
            format!(
                "attachment {} is {size} bytes, more than max_bytes ({max}); raise max_bytes or \
                 attach the file elsewhere",
                input.attachment_id
            ),
        )
    };
    // The metadata names the size, so an oversized file is refused before any byte moves.
    let meta = ctx
        .jira
        .attachments()
        .metadata(input.attachment_id.as_str())
        .await
        .map_err(|e| jira_error(&ctx, action, BROWSE, READ_SCOPE, e))?;
    if let Some(size) = meta.size
        && size > max
    {
        return Err(too_large(size));
    }
    let download = ctx
        .jira
        .attachments()
        .content(input.attachment_id.as_str())
        .max_bytes(max)
        .send()
        .await
        .map_err(|e| jira_error(&ctx, action, BROWSE, READ_SCOPE, e))?;
    let content_type = download.content_type.clone();
    let bytes = download
        .bytes()
        .await
        .map_err(|e| jira_error(&ctx, action, BROWSE, READ_SCOPE, e))?;
    let size = bytes.len() as u64;
    if size > max {
        return Err(too_large(size));
    }
    let (content, content_base64) = match std::str::from_utf8(&bytes) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (None, Some(STANDARD.encode(&bytes))),
    };
    Ok(output(
        Outcome::Unchanged,
        &GetAttachmentContentOutput {
            attachment_id: input.attachment_id,
            filename: meta.filename,
            media_type: meta.mime_type.or(content_type),
            size,
            content,
            content_base64,
        },
    ))
}
