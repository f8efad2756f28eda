//! Watcher actions: `add_watcher` and `delete_watcher`. Users are given by account id or e-mail
//! address; both actions read the watcher list first so that a user already watching (or not
//! watching) is an idempotent success rather than a second request.

use jiraflow_jira::ids::AccountId;
use jiraflow_jira::wire::user::User;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::comments::{READ_SCOPE, WRITE_SCOPE, jira_error};
use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, output};
use crate::flow::Action;

const USER_SCOPE: &str = "read:jira-user";
const BROWSE_USERS: &str = "the Browse Users and Groups global permission";
const VIEW_WATCHERS: &str = "the View Voters and Watchers permission on the issue's project";
const MANAGE_WATCHERS: &str =
    "the Manage Watchers permission on the issue's project (needed to change who else watches)";

/// A user: an account id or e-mail address as a string (anything with an `@` is an address),
/// or an object `{account_id: ..}` / `{email: ..}` as the group actions take.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum WatcherUser {
    /// An account id, or an e-mail address.
    Text(String),
    /// `{account_id}` or `{email}`.
    Ref(UserRef),
}

/// A user named explicitly by account id or e-mail address.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum UserRef {
    /// The Atlassian account id.
    AccountId(String),
    /// An e-mail address; exactly one Jira user must match it.
    Email(String),
}

/// Input of `add_watcher` and `delete_watcher`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct WatcherInput {
    /// The issue key or id.
    pub issue: String,
    /// The user: an account id or e-mail address, or `{account_id}` / `{email}`.
    pub user: WatcherUser,
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

/// Resolves `user` (an account id, or an e-mail address) to an account id. An e-mail matches a
/// visible address exactly (ignoring case); when none does, the one found user whose address is
/// hidden is taken, since Jira matches hidden addresses server-side (several such users are
/// ambiguous and listed).
///
/// # Errors
/// [`ActionError::Resolve`] when no user or several users match; Jira's errors of the search.
pub async fn resolve_user(
    ctx: &ActionContext<'_>,
    action: Action,
    user: &WatcherUser,
) -> Result<AccountId, ActionError> {
    let (user, explicit_email) = match user {
        WatcherUser::Ref(UserRef::AccountId(id)) if !id.trim().is_empty() => {
            return Ok(AccountId::from(id.trim()));
        }
        WatcherUser::Ref(UserRef::AccountId(id)) => (id.trim(), false),
        WatcherUser::Ref(UserRef::Email(email)) => (email.trim(), true),
        WatcherUser::Text(text) => (text.trim(), false),
    };
    if user.is_empty() {
        return Err(ActionError::input(
            ctx,
            action,
            "input.user",
            "an account id or e-mail address is required",
        ));
    }
    // Account ids never contain `@`, so this cannot misread one as an address.
    if explicit_email && !user.contains('@') {
        return Err(ActionError::input(
            ctx,
            action,
            "input.user.email",
            format!("{user:?} is not an e-mail address"),
        ));
    }
    if !user.contains('@') {
        return Ok(AccountId::from(user));
    }
    let found = ctx
        .jira
        .users()
        .search(user)
        .max_results(50)
        .send()
        .await
        .map_err(|e| jira_error(ctx, action, BROWSE_USERS, USER_SCOPE, e))?;
    let exact: Vec<&User> = found
        .iter()
        .filter(|u| {
            u.email_address
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(user))
        })
        .collect();
    let candidates: Vec<&User> = if exact.is_empty() {
        found.iter().filter(|u| u.email_address.is_none()).collect()
    } else {
        exact
    };
    match candidates.as_slice() {
        [one] => Ok(one.account_id.clone()),
        [] => Err(ActionError::resolve(
            ctx,
            action,
            format!("no Jira user has the e-mail address {user:?}"),
        )),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|u| {
                    format!(
                        "{} ({})",
                        u.display_name.as_deref().unwrap_or("?"),
                        u.account_id
                    )
                })
                .collect();
            Err(ActionError::resolve(
                ctx,
                action,
                format!(
                    "{} Jira users match the e-mail address {user:?}: {}",
                    many.len(),
                    names.join(", ")
                ),
            ))
        }
    }
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
    let account = resolve_user(&ctx, action, &input.user).await?;
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
    let account = resolve_user(&ctx, action, &input.user).await?;
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
