//! People in action inputs: a user given as an account id or an e-mail address (a string, or
//! `{account_id}` / `{email}`), resolved to an account id through Jira's user search. Every action
//! that names a user takes this one type, so they all accept the same forms and report the same
//! errors.

use jiraflow_jira::ids::AccountId;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::actions::{ActionContext, ActionError};
use crate::flow::Action;

/// A person: a plain string (an account id, or an e-mail address when it contains `@`), or
/// `{account_id: ..}` / `{email: ..}` as the other actions take them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UserInput {
    /// An account id, or an e-mail address when it contains `@`.
    Text(String),
    /// `{account_id}` or `{email}`.
    Tagged(TaggedUser),
}

/// `{account_id: ..}` or `{email: ..}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum TaggedUser {
    /// The Atlassian account id.
    AccountId(String),
    /// An e-mail address; exactly one Jira user must match it.
    Email(String),
}

impl UserInput {
    /// The account id given, or the one user with the given e-mail address.
    ///
    /// # Errors
    /// As [`resolve_user`].
    pub async fn resolve(
        &self,
        ctx: &ActionContext<'_>,
        action: Action,
    ) -> Result<AccountId, ActionError> {
        let given = match self {
            Self::Text(text) => text,
            Self::Tagged(TaggedUser::AccountId(id) | TaggedUser::Email(id)) => id,
        };
        if given.trim().is_empty() {
            return Err(ActionError::resolve(
                ctx,
                action,
                "a user is required: an account id or an e-mail address",
            ));
        }
        match self {
            Self::Text(text) => resolve_user(ctx, action, text).await,
            Self::Tagged(TaggedUser::AccountId(id)) => Ok(AccountId::new(id.trim())),
            Self::Tagged(TaggedUser::Email(email)) if !email.contains('@') => Err(
                ActionError::resolve(ctx, action, format!("{email:?} is not an e-mail address")),
            ),
            Self::Tagged(TaggedUser::Email(email)) => resolve_user(ctx, action, email).await,
        }
    }
}

/// An account id as given, or the one user whose e-mail address is `user`.
///
/// # Errors
/// A resolve error when nobody matches, or when several do (listing them).
async fn resolve_user(
    ctx: &ActionContext<'_>,
    action: Action,
    user: &str,
) -> Result<AccountId, ActionError> {
    let user = user.trim();
    if !user.contains('@') {
        return Ok(AccountId::new(user));
    }
    let found = ctx
        .jira
        .users()
        .search(user)
        .max_results(50)
        .send()
        .await
        .map_err(|e| {
            super::jira_error(
                ctx,
                action,
                "the Browse users and groups global permission",
                "read:jira-user",
                e,
            )
        })?;
    let exact: Vec<_> = found
        .iter()
        .filter(|u| {
            u.email_address
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(user))
        })
        .collect();
    // Privacy settings may hide every address; Jira still matches hidden ones server-side, so a
    // search answering exactly one user with a hidden address is that user.
    let candidates = if exact.is_empty() && found.len() == 1 && found[0].email_address.is_none() {
        found.iter().collect()
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
            let listed: Vec<String> = many
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
                    "{} Jira users match the e-mail address {user:?}: {}; use an account id",
                    many.len(),
                    listed.join(", ")
                ),
            ))
        }
    }
}
