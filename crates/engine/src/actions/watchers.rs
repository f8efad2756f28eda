//! Watcher actions: `add_watcher` and `delete_watcher`. Users are given by account id or e-mail
//! address; both actions read the watcher list first so that a user already watching (or not
//! watching) is an idempotent success rather than a second request.

use jiraflow_jira::ids::AccountId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::comments::{READ_SCOPE, WRITE_SCOPE};
use super::jira_error;
use super::people::UserInput;
use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, output};
use crate::flow::Action;

const VIEW_WATCHERS: &str = "the View Voters and Watchers permission on the issue's project";
const MANAGE_WATCHERS: &str =
    "the Manage Watchers permission on the issue's project (needed to change who else watches)";

/// Input of `add_watcher` and `delete_watcher`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct WatcherInput {
    /// The issue key or id.
    pub issue: String,
    /// The user: an account id or e-mail address, or `{account_id}` / `{email}`.
    pub user: UserInput,
}

/// Output of `add_watcher` and `delete_watcher`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WatcherOutput {
    /// The issue key or id as given.
    pub issue: String,
    /// The user's account id.
    pub account_id: String,
    /// Whether the user watches the issue after the action.
    pub watching: bool,
}

/// Whether `account` is among the issue's watchers.
async fn is_watching(
    ctx: &ActionContext<'_>,
    action: Action,
    issue: &str,
    account: &AccountId,
) -> Result<bool, ActionError> {
    let watchers = ctx
        .jira
        .watchers(issue)
        .list()
        .await
        .map_err(|e| jira_error(ctx, action, VIEW_WATCHERS, READ_SCOPE, e))?;
    Ok(watchers
        .watchers
        .iter()
        .any(|w| w.account_id.as_ref() == Some(account)))
}

/// `add_watcher`: makes a user watch an issue; already watching is Unchanged.
///
/// # Errors
/// Input errors; resolve errors for the e-mail; Jira's errors (404 unknown issue or user, 403
/// without the Manage Watchers permission, missing scope).
pub async fn add_watcher(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::AddWatcher;
    let input: WatcherInput = decode_input(&ctx, action, input)?;
    let account = input.user.resolve(&ctx, action).await?;
    let outcome = if is_watching(&ctx, action, &input.issue, &account).await? {
        Outcome::Unchanged
    } else {
        ctx.jira
            .watchers(input.issue.as_str())
            .add(account.clone())
            .await
            .map_err(|e| jira_error(&ctx, action, MANAGE_WATCHERS, WRITE_SCOPE, e))?;
        Outcome::Changed
    };
    Ok(output(
        outcome,
        &WatcherOutput {
            issue: input.issue,
            account_id: account.into_string(),
            watching: true,
        },
    ))
}

/// `delete_watcher`: stops a user watching an issue; not watching is Unchanged.
///
/// # Errors
/// Input errors; resolve errors for the e-mail; Jira's errors (404 unknown issue, 403 without
/// the Manage Watchers permission, missing scope).
pub async fn delete_watcher(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::DeleteWatcher;
    let input: WatcherInput = decode_input(&ctx, action, input)?;
    let account = input.user.resolve(&ctx, action).await?;
    let outcome = if is_watching(&ctx, action, &input.issue, &account).await? {
        ctx.jira
            .watchers(input.issue.as_str())
            .remove(account.clone())
            .await
            .map_err(|e| jira_error(&ctx, action, MANAGE_WATCHERS, WRITE_SCOPE, e))?;
        Outcome::Changed
    } else {
        Outcome::Unchanged
    };
    Ok(output(
        outcome,
        &WatcherOutput {
            issue: input.issue,
            account_id: account.into_string(),
            watching: false,
        },
    ))
}
