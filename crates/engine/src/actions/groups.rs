//! Group actions: `create_group`, `remove_group`, `add_user_to_group` and
//! `remove_user_from_group`. Jira lets only site administrators change groups (and needs the
//! `manage:jira-configuration` scope), so a refusal says so instead of only relaying Jira's
//! "contact your site administrator". Membership changes are idempotent: adding a member or
//! removing a non-member succeeds as [`Outcome::Unchanged`].

use jiraflow_jira::ids::GroupId;

use super::people::UserInput;
use jiraflow_jira::ops::groups::{GroupRef, Membership};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, jira_error, output};
use crate::flow::Action;

/// What changing groups needs, named in refusals.
const GROUP_ADMIN: &str = "site administrator rights (Jira lets only site admins manage groups)";

/// A group, by id (preferred: names can be renamed) or by name.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum GroupInput {
    /// The group id (a UUID).
    Id(String),
    /// The group name.
    Name(String),
}

impl GroupInput {
    fn to_ref(&self) -> GroupRef {
        match self {
            Self::Id(id) => GroupRef::Id(GroupId::from(id.as_str())),
            Self::Name(name) => GroupRef::Name(name.clone()),
        }
    }
}

fn group_error(ctx: &ActionContext<'_>, action: Action, err: jiraflow_jira::Error) -> ActionError {
    jira_error(ctx, action, GROUP_ADMIN, "manage:jira-configuration", err)
}

/// Input of `create_group`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CreateGroupInput {
    /// The new group's name (unique, at most 255 characters).
    pub name: String,
}

/// Output of `create_group` (and of the membership actions): the group.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupOutput {
    /// The group id.
    pub group_id: Option<String>,
    /// The group name.
    pub name: Option<String>,
}

/// `create_group`: creates a group. A name already in use is an error (Jira's message).
///
/// # Errors
/// Input errors, Jira's 400 for a taken or empty name, and a refusal naming site admin rights.
pub async fn create_group(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::CreateGroup;
    let input: CreateGroupInput = decode_input(&ctx, action, input)?;
    let group = ctx
        .jira
        .groups()
        .create(&input.name)
        .await
        .map_err(|err| group_error(&ctx, action, err))?;
    Ok(output(
        Outcome::Changed,
        &GroupOutput {
            group_id: group.group_id.map(|id| id.to_string()),
            name: group.name,
        },
    ))
}

/// Input of `remove_group`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RemoveGroupInput {
    /// The group to delete: `{id: ...}` or `{name: ...}`.
    pub group: GroupInput,
    /// A group to move comment and worklog restrictions to; without one, comments restricted
    /// to the deleted group become inaccessible.
    #[serde(default)]
    pub swap_group: Option<GroupInput>,
}

/// Output of `remove_group`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveGroupOutput {
    /// Always true on success.
    pub removed: bool,
}

/// `remove_group`: deletes a group. An unknown group is an error (404), not a silent success,
/// so a misspelt name is noticed.
///
/// # Errors
/// Input errors, 404 for an unknown group or swap group, and a refusal naming site admin rights.
pub async fn remove_group(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::RemoveGroup;
    let input: RemoveGroupInput = decode_input(&ctx, action, input)?;
    let mut request = ctx.jira.groups().delete(input.group.to_ref());
    if let Some(swap) = &input.swap_group {
        request = request.swap_to(swap.to_ref());
    }
    request
        .send()
        .await
        .map_err(|err| group_error(&ctx, action, err))?;
    Ok(output(
        Outcome::Changed,
        &RemoveGroupOutput { removed: true },
    ))
}

/// Input of `add_user_to_group` and `remove_user_from_group`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct MembershipInput {
    /// The group: `{id: ...}` or `{name: ...}`.
    pub group: GroupInput,
    /// The user: `{account_id: ...}` or `{email: ...}`.
    pub user: UserInput,
}

/// Output of the membership actions.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipOutput {
    /// The member's account id.
    pub account_id: String,
    /// Whether the user is a member after the action.
    pub member: bool,
}

/// `add_user_to_group`: adds a user; one already in the group is [`Outcome::Unchanged`].
///
/// # Errors
/// Input and resolution errors, 404 for an unknown group or account, and a refusal naming site
/// admin rights.
pub async fn add_user_to_group(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::AddUserToGroup;
    let input: MembershipInput = decode_input(&ctx, action, input)?;
    let account = input.user.resolve(&ctx, action).await?;
    let outcome = match ctx
        .jira
        .groups()
        .add_user(input.group.to_ref(), account.clone())
        .await
        .map_err(|err| group_error(&ctx, action, err))?
    {
        Membership::Added(_) => Outcome::Changed,
        Membership::AlreadyMember => Outcome::Unchanged,
    };
    Ok(output(
        outcome,
        &MembershipOutput {
            account_id: account.to_string(),
            member: true,
        },
    ))
}

/// `remove_user_from_group`: removes a user; one who is not a member is [`Outcome::Unchanged`].
///
/// # Errors
/// Input and resolution errors, 404 for an unknown group or account, and a refusal naming site
/// admin rights.
pub async fn remove_user_from_group(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::RemoveUserFromGroup;
    let input: MembershipInput = decode_input(&ctx, action, input)?;
    let account = input.user.resolve(&ctx, action).await?;
    let outcome = match ctx
        .jira
        .groups()
        .remove_user(input.group.to_ref(), account.clone())
        .await
    {
        Ok(()) => Outcome::Changed,
        // Jira answers 400 "User is not a member"; the world already is as asked.
        Err(err) if err.is_bad_request() && mentions_not_member(&err) => Outcome::Unchanged,
        Err(err) => return Err(group_error(&ctx, action, err)),
    };
    Ok(output(
        outcome,
        &MembershipOutput {
            account_id: account.to_string(),
            member: false,
        },
    ))
}

/// Whether a 400 says the user is not in the group (only the stable phrase is matched).
fn mentions_not_member(err: &jiraflow_jira::Error) -> bool {
    err.messages()
        .iter()
        .chain(err.field_errors().into_iter().flat_map(|m| m.values()))
        .any(|m| m.to_ascii_lowercase().contains("not a member"))
}
