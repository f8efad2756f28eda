//! Comment actions: `create_comment`, `update_comment` and `get_comments`. Bodies are Markdown
//! (a JSON string) or an ADF document (a JSON object); the client always sends ADF, because
//! REST v3 refuses plain strings.

use futures_util::{StreamExt, TryStreamExt};
use jiraflow_jira::adf::{RichText, check_doc, to_text};
use jiraflow_jira::ops::comments::CommentOrder;
use jiraflow_jira::wire::comment::{Comment, Visibility, VisibilityKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    ActionContext, ActionError, ActionOutput, Outcome, decode_input, jira_error, output, upserts,
};
use crate::flow::Action;

/// The OAuth scope of reads.
pub(crate) const READ_SCOPE: &str = "read:jira-work";
/// The OAuth scope of writes.
pub(crate) const WRITE_SCOPE: &str = "write:jira-work";

/// What reading an issue needs.
pub(crate) const BROWSE: &str = "the Browse Projects permission on the issue's project";
pub(crate) const ADD_COMMENTS: &str = "the Add Comments permission on the issue's project";
pub(crate) const EDIT_COMMENTS: &str =
    "the Edit All Comments permission (or Edit Own Comments, for the caller's own comments)";

/// Most comments `get_comments` returns when no `limit` is given.
pub const DEFAULT_COMMENT_LIMIT: u64 = 100;

/// A restriction of who may see a comment.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct VisibilityInput {
    /// `group` or `role`.
    #[serde(rename = "type")]
    pub kind: VisibilityType,
    /// The group or project role name.
    #[serde(default)]
    pub value: Option<String>,
    /// The group id (groups only; preferred over the name, which can change).
    #[serde(default)]
    pub identifier: Option<String>,
}

/// The kind of a comment restriction.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisibilityType {
    /// Members of a group.
    Group,
    /// Members of a project role.
    Role,
}

impl VisibilityInput {
    pub(crate) fn to_wire(&self) -> Visibility {
        Visibility {
            kind: match self.kind {
                VisibilityType::Group => VisibilityKind::Group,
                VisibilityType::Role => VisibilityKind::Role,
            },
            value: self.value.clone(),
            identifier: self.identifier.clone(),
        }
    }

    /// Refuses a restriction that names nothing, before Jira answers with a vaguer 400.
    pub(crate) fn check(&self, ctx: &ActionContext<'_>, action: Action) -> Result<(), ActionError> {
        if self.value.is_none() && self.identifier.is_none() {
            return Err(ActionError::input(
                ctx,
                action,
                "input.visibility",
                "give `value` (a group or role name) or `identifier` (a group id)",
            ));
        }
        Ok(())
    }
}

/// Input of `create_comment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CreateCommentInput {
    /// The issue key or id.
    pub issue: String,
    /// The body: Markdown (a string) or an ADF document (an object).
    pub body: Value,
    /// Restricts the comment to a group or project role.
    #[serde(default)]
    pub visibility: Option<VisibilityInput>,
}

/// Input of `update_comment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpdateCommentInput {
    /// The issue key or id.
    pub issue: String,
    /// The comment id.
    pub comment_id: String,
    /// The new body: Markdown (a string) or an ADF document (an object).
    pub body: Value,
    /// A new restriction (left as it is when absent).
    #[serde(default)]
    pub visibility: Option<VisibilityInput>,
}

/// The order of `get_comments`.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommentListOrder {
    /// Newest first.
    NewestFirst,
    /// Oldest first (Jira's order).
    #[default]
    OldestFirst,
}

/// Input of `get_comments`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct GetCommentsInput {
    /// The issue key or id.
    pub issue: String,
    /// `newest_first` or `oldest_first` (default).
    #[serde(default)]
    pub order: CommentListOrder,
    /// Most comments returned (default 100).
    #[serde(default)]
    pub limit: Option<u64>,
}

/// A comment's author.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AuthorOutput {
    /// Account id.
    pub account_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// A comment as actions return it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CommentOutput {
    /// Comment id.
    pub id: String,
    /// The issue key or id as given.
    pub issue: String,
    /// Who wrote it.
    pub author: Option<AuthorOutput>,
    /// When it was written (RFC 3339).
    pub created: Option<String>,
    /// When it was last edited (RFC 3339).
    pub updated: Option<String>,
    /// The body as an ADF document.
    pub body: Value,
    /// The body as plain text.
    pub body_text: String,
}

impl CommentOutput {
    pub(crate) fn from_wire(issue: &str, comment: Comment) -> Self {
        let body = comment.body.unwrap_or(Value::Null);
        Self {
            id: comment.id.into_string(),
            issue: issue.to_owned(),
            author: comment.author.map(|a| AuthorOutput {
                account_id: a.account_id.map(|id| id.into_string()),
                display_name: a.display_name,
            }),
            created: comment.created.map(|t| t.to_rfc3339()),
            updated: comment.updated.map(|t| t.to_rfc3339()),
            body_text: to_text(&body),
            body,
        }
    }
}

/// Output of `get_comments`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GetCommentsOutput {
    /// The comments, in the order asked for.
    pub comments: Vec<CommentOutput>,
    /// How many were returned.
    pub count: usize,
}

/// Rich text from an input value at `path`: a string is Markdown, an object an ADF document.
/// A malformed document or another JSON type is an input error naming the path, rather than a
/// client error after the fact.
pub(crate) fn rich_text(
    ctx: &ActionContext<'_>,
    action: Action,
    path: &str,
    body: Value,
) -> Result<RichText, ActionError> {
    match body {
        Value::String(_) => Ok(RichText::from(body)),
        Value::Object(_) => match check_doc(&body) {
            Ok(()) => Ok(RichText::from(body)),
            Err(err) => Err(ActionError::input(ctx, action, path, err.to_string())),
        },
        _ => Err(ActionError::input(
            ctx,
            action,
            path,
            "expected Markdown (a string) or an ADF document (an object)",
        )),
    }
}

/// `create_comment`: comments on an issue. With a write key the comment carries the step's
/// marker, and a repeat after a lost answer returns the comment the first attempt wrote
/// (outcome `unchanged`).
///
/// # Errors
/// Input errors; Jira's errors (404 unknown issue, missing scope or permission).
pub async fn create_comment(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::CreateComment;
    let input: CreateCommentInput = decode_input(&ctx, action, input)?;
    let body = rich_text(&ctx, action, "input.body", input.body)?;
    let mut request = ctx.jira.comments().add(input.issue.as_str(), body);
    if let Some(visibility) = &input.visibility {
        visibility.check(&ctx, action)?;
        request = request.visibility(visibility.to_wire());
    }
    let map_err = |e| jira_error(&ctx, action, ADD_COMMENTS, WRITE_SCOPE, e);
    let (outcome, comment) = match ctx.write_key {
        None => (Outcome::Changed, request.send().await.map_err(map_err)?),
        Some(write_key) => {
            upserts::comment::create_once(&ctx, action, &input.issue, write_key, request, map_err)
                .await?
        }
    };
    Ok(output(
        outcome,
        &CommentOutput::from_wire(&input.issue, comment),
    ))
}

/// `update_comment`: replaces a comment's body; an identical body is left alone (Unchanged).
///
/// # Errors
/// Input errors; Jira's errors (404 unknown issue or comment, 400 not allowed to edit).
pub async fn update_comment(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::UpdateComment;
    let input: UpdateCommentInput = decode_input(&ctx, action, input)?;
    let body = rich_text(&ctx, action, "input.body", input.body)?;
    if let Some(visibility) = &input.visibility {
        visibility.check(&ctx, action)?;
    }
    // Read first: rewriting an identical body would notify every watcher for nothing.
    let current = ctx
        .jira
        .comments()
        .get(input.issue.as_str(), input.comment_id.as_str())
        .send()
        .await
        .map_err(|e| jira_error(&ctx, action, BROWSE, READ_SCOPE, e))?;
    let (outcome, comment) = update_existing(
        &ctx,
        action,
        &input.issue,
        current,
        body,
        input.visibility.as_ref(),
    )
    .await?;
    Ok(output(
        outcome,
        &CommentOutput::from_wire(&input.issue, comment),
    ))
}

/// Rewrites `current` (a comment of `issue`) with `body` and `visibility` unless it already has
/// them (then `Unchanged`, and no watcher is notified).
pub(crate) async fn update_existing(
    ctx: &ActionContext<'_>,
    action: Action,
    issue: &str,
    current: Comment,
    body: RichText,
    visibility: Option<&VisibilityInput>,
) -> Result<(Outcome, Comment), ActionError> {
    let adf = body
        .clone()
        .into_adf()
        .map_err(|e| ActionError::input(ctx, action, "input.body", e.to_string()))?;
    let same_visibility = match visibility {
        None => true,
        Some(v) => current.visibility.as_ref() == Some(&v.to_wire()),
    };
    if current.body.as_ref() == Some(&adf) && same_visibility {
        return Ok((Outcome::Unchanged, current));
    }
    let mut request = ctx.jira.comments().update(issue, current.id.clone(), body);
    if let Some(visibility) = visibility {
        request = request.visibility(visibility.to_wire());
    }
    let comment = request
        .send()
        .await
        .map_err(|e| jira_error(ctx, action, EDIT_COMMENTS, WRITE_SCOPE, e))?;
    Ok((Outcome::Changed, comment))
}

/// `get_comments`: an issue's comments, oldest or newest first, at most `limit`.
///
/// # Errors
/// Input errors; Jira's errors (404 unknown issue, missing scope).
pub async fn get_comments(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::GetComments;
    let input: GetCommentsInput = decode_input(&ctx, action, input)?;
    let limit = input.limit.unwrap_or(DEFAULT_COMMENT_LIMIT);
    let order = match input.order {
        CommentListOrder::NewestFirst => CommentOrder::NewestFirst,
        CommentListOrder::OldestFirst => CommentOrder::Created,
    };
    let comments: Vec<Comment> = ctx
        .jira
        .comments()
        .list(input.issue.as_str())
        .order_by(order)
        .max_results(limit.clamp(1, 100))
        .stream()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .try_collect()
        .await
        .map_err(|e| jira_error(&ctx, action, BROWSE, READ_SCOPE, e))?;
    let comments: Vec<CommentOutput> = comments
        .into_iter()
        .map(|c| CommentOutput::from_wire(&input.issue, c))
        .collect();
    Ok(output(
        Outcome::Unchanged,
        &GetCommentsOutput {
            count: comments.len(),
            comments,
        },
    ))
}
