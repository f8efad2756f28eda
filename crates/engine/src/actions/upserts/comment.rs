//! `upsert_comment` (find the comment of an external id on an issue by its marker, update it, or
//! create it once), and the marked create that `upsert_comment` and `create_comment` with a
//! write key share.

use std::sync::Arc;

use chrono::Utc;
use jiraflow_jira::client::Idempotency;
use jiraflow_jira::ops::comments::AddComment;
use jiraflow_jira::wire::comment::Comment;
use jiraflow_store::{LedgerEntry, LedgerKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::marker::{
    Ledger, MARKER_PROPERTY, MarkerCheck, certainly_not_written, find_marked_comment, ledger_key,
    lock_key, marker_value,
};
use crate::actions::comments::{
    ADD_COMMENTS, BROWSE, CommentOutput, READ_SCOPE, VisibilityInput, WRITE_SCOPE, rich_text,
    update_existing,
};
use crate::actions::{
    ActionContext, ActionError, ActionOutput, Outcome, decode_input, jira_error, output,
};
use crate::flow::Action;

/// Input of `upsert_comment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpsertCommentInput {
    /// The issue key or id.
    pub issue: String,
    /// The caller's id of the comment; the comment carries it as a marker.
    pub external_id: String,
    /// The body: Markdown (a string) or an ADF document (an object).
    pub body: Value,
    /// Restricts the comment to a group or project role.
    #[serde(default)]
    pub visibility: Option<VisibilityInput>,
}

/// Output of `upsert_comment`: the comment as `create_comment` returns it, and whether this
/// upsert created it.
#[derive(Debug, Serialize)]
pub struct UpsertCommentOutput {
    /// The comment.
    #[serde(flatten)]
    pub comment: CommentOutput,
    /// Whether this upsert created the comment (false: it updated or kept an existing one).
    pub created: bool,
}

/// Runs `upsert_comment`.
///
/// # Errors
/// Input errors (empty `external_id`, a body neither Markdown nor ADF); Jira's errors (404
/// unknown issue, missing scope or permission).
pub async fn upsert_comment(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    const ACTION: Action = Action::UpsertComment;
    let input: UpsertCommentInput = decode_input(&ctx, ACTION, input)?;
    if input.external_id.trim().is_empty() {
        return Err(ActionError::input(
            &ctx,
            ACTION,
            "input.external_id",
            "must not be empty",
        ));
    }
    let body = rich_text(&ctx, ACTION, "input.body", input.body)?;
    if let Some(visibility) = &input.visibility {
        visibility.check(&ctx, ACTION)?;
    }
    let ledger = Ledger::of(&ctx, ACTION);
    let key = ledger_key(ctx.jira, "comment", &input.issue, &input.external_id);
    let _serialised = lock_key(&key).await;
    let read_err = |e| jira_error(&ctx, ACTION, BROWSE, READ_SCOPE, e);

    let mut current = None;
    if let Some(LedgerEntry::Committed { jira_id, .. }) = ledger.get(&key).await? {
        match ctx
            .jira
            .comments()
            .get(input.issue.as_str(), jira_id.as_str())
            .send()
            .await
        {
            Ok(comment) => current = Some(comment),
            // Deleted in Jira: the external id is free again.
            Err(error) if error.is_not_found() => ledger.forget(&key).await?,
            Err(error) => return Err(read_err(error)),
        }
    }
    if current.is_none() {
        // The marker scan is exact, so it also covers a create whose answer was lost.
        current = find_marked_comment(ctx.jira, &input.issue, &input.external_id)
            .await
            .map_err(read_err)?;
        if let Some(found) = &current {
            ledger.commit(&key, found.id.as_str()).await?;
        }
    }

    let (outcome, comment, created) = match current {
        Some(current) => {
            let (outcome, comment) = update_existing(
                &ctx,
                ACTION,
                &input.issue,
                current,
                body,
                input.visibility.as_ref(),
            )
            .await?;
            (outcome, comment, false)
        }
        None => {
            let mut request = ctx.jira.comments().add(input.issue.as_str(), body);
            if let Some(visibility) = &input.visibility {
                request = request.visibility(visibility.to_wire());
            }
            let comment = send_marked_create(
                &ctx,
                ACTION,
                Some(&key),
                &input.issue,
                &input.external_id,
                request,
                |e| jira_error(&ctx, ACTION, ADD_COMMENTS, WRITE_SCOPE, e),
            )
            .await?;
            (Outcome::Changed, comment, true)
        }
    };
    Ok(output(
        outcome,
        &UpsertCommentOutput {
            comment: CommentOutput::from_wire(&input.issue, comment),
            created,
        },
    ))
}

/// `create_comment` with a write key: returns the comment an earlier attempt of the step wrote
/// (from the ledger, or found by its marker) as `Unchanged`, or adds it marked and recorded.
pub(crate) async fn create_once(
    ctx: &ActionContext<'_>,
    action: Action,
    issue: &str,
    write_key: &str,
    request: AddComment<'_>,
    map_err: impl Fn(jiraflow_jira::Error) -> ActionError,
) -> Result<(Outcome, Comment), ActionError> {
    let ledger = Ledger::of(ctx, action);
    let key = ledger_key(ctx.jira, "step", &format!("comment:{issue}"), write_key);
    let _serialised = lock_key(&key).await;
    let read_err = |e| jira_error(ctx, action, BROWSE, READ_SCOPE, e);
    let entry = ledger.get(&key).await?;
    if let Some(LedgerEntry::Committed { jira_id, .. }) = &entry {
        match ctx
            .jira
            .comments()
            .get(issue, jira_id.as_str())
            .send()
            .await
        {
            Ok(comment) => return Ok((Outcome::Unchanged, comment)),
            Err(error) if error.is_not_found() => ledger.forget(&key).await?,
            Err(error) => return Err(read_err(error)),
        }
    }
    let may_have_written =
        matches!(entry, Some(LedgerEntry::Pending { .. })) || ctx.maybe_written_since.is_some();
    if may_have_written
        && let Some(found) = find_marked_comment(ctx.jira, issue, write_key)
            .await
            .map_err(read_err)?
    {
        ledger.commit(&key, found.id.as_str()).await?;
        return Ok((Outcome::Unchanged, found));
    }
    let comment =
        send_marked_create(ctx, action, Some(&key), issue, write_key, request, map_err).await?;
    Ok((Outcome::Changed, comment))
}

/// Adds a comment carrying the marker of `marker`: recorded as pending first (when a ledger is
/// present), checked by a marker scan (not blindly repeated) after an ambiguous failure,
/// committed once answered.
async fn send_marked_create(
    ctx: &ActionContext<'_>,
    action: Action,
    ledger_entry: Option<&LedgerKey>,
    issue: &str,
    marker: &str,
    request: AddComment<'_>,
    map_err: impl Fn(jiraflow_jira::Error) -> ActionError,
) -> Result<Comment, ActionError> {
    let ledger = Ledger::of(ctx, action);
    if let Some(key) = ledger_entry {
        ledger.pending(key, Utc::now()).await?;
    }
    let check = MarkerCheck::Comment {
        issue: issue.to_owned(),
        key: marker.to_owned(),
    };
    let sent = send_checked(
        ctx,
        request.property(MARKER_PROPERTY, marker_value(marker)),
        check,
    )
    .await;
    match sent {
        Ok(comment) => {
            if let Some(key) = ledger_entry {
                ledger.commit(key, comment.id.as_str()).await?;
            }
            Ok(comment)
        }
        Err(error) => {
            if let Some(key) = ledger_entry
                && certainly_not_written(&error)
            {
                ledger.forget(key).await?;
            }
            Err(map_err(error))
        }
    }
}

/// Sends `request` with `check` deciding, after an ambiguous failure, whether it took effect
/// (the builder itself never repeats a comment create).
async fn send_checked(
    ctx: &ActionContext<'_>,
    request: AddComment<'_>,
    check: MarkerCheck,
) -> jiraflow_jira::Result<Comment> {
    let request = request
        .request()?
        .idempotency(Idempotency::Verify(Arc::new(check)));
    ctx.jira.send(request).await?.json()
}
