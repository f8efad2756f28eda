//! What the issue actions share: field coercion through the catalogue, resolving people by
//! e-mail address, and mapping client errors to action errors (with the missing OAuth scope named).

use jiraflow_jira::fields::{FieldCatalog, FieldError};
use jiraflow_jira::ids::AccountId;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::actions::{ActionContext, ActionError};
use crate::flow::Action;

/// The OAuth scope of writes to issues.
pub(super) const WRITE: &str = "write:jira-work";
/// The OAuth scope of reading issues, fields and transitions.
pub(super) const READ: &str = "read:jira-work";
/// The OAuth scope of reading users (`/myself`, the user search).
pub(super) const USER: &str = "read:jira-user";

/// A person: a plain string (an account id, or an e-mail address when it contains `@`), or
/// `{account_id: ..}` / `{email: ..}` as the other actions take them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UserRef {
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

impl UserRef {
    /// The account id given, or the one user with the given e-mail address.
    ///
    /// # Errors
    /// As [`resolve_user`].
    pub(super) async fn resolve(
        &self,
        ctx: &ActionContext<'_>,
        action: Action,
    ) -> Result<AccountId, ActionError> {
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

/// Coerces `fields` (name or id → plain value) through the site's field catalogue, resolving
/// e-mail addresses in user fields to account ids. A field resolving to one of `reserved` (set by
/// the action's own inputs) or named twice is an input error.
pub(super) async fn coerce_fields(
    ctx: &ActionContext<'_>,
    action: Action,
    fields: Map<String, Value>,
    reserved: &[&str],
) -> Result<Map<String, Value>, ActionError> {
    let mut coerced = Map::new();
    if fields.is_empty() {
        return Ok(coerced);
    }
    let catalog = FieldCatalog::fetch(ctx.jira)
        .await
        .map_err(|e| jira_error(ctx, action, READ, e))?;
    let mut sources: Map<String, Value> = Map::new();
    for (name, value) in fields {
        let path = format!("input.fields.{name}");
        let bad = |e: FieldError| ActionError::input(ctx, action, path.clone(), e.to_string());
        let (id, value) = match catalog.coerce(&name, value.clone()) {
            Ok(done) => done,
            Err(error) if error.needs_user_lookup() => {
                let mut value = value;
                for email in error.user_lookups() {
                    let account = resolve_user(ctx, action, email).await?;
                    replace_email(&mut value, email, account.as_str());
                }
                catalog.coerce(&name, value).map_err(bad)?
            }
            Err(error) => return Err(bad(error)),
        };
        if reserved.contains(&id.as_str()) {
            return Err(ActionError::input(
                ctx,
                action,
                path,
                format!(
                    "the field {id} has its own input in {}; set it once",
                    action.name()
                ),
            ));
        }
        if let Some(first) = sources.get(&id).and_then(Value::as_str) {
            return Err(ActionError::input(
                ctx,
                action,
                path,
                format!("'{first}' and '{name}' both name the field {id}"),
            ));
        }
        sources.insert(id.clone(), Value::String(name));
        coerced.insert(id, value);
    }
    Ok(coerced)
}

/// Adds a field set by an own input (`summary`, ...), refusing it when `fields` set it too.
pub(super) fn insert_unique(
    ctx: &ActionContext<'_>,
    action: Action,
    fields: &mut Map<String, Value>,
    id: &str,
    value: Value,
) -> Result<(), ActionError> {
    if fields.contains_key(id) {
        return Err(ActionError::input(
            ctx,
            action,
            format!("input.{id}"),
            format!("the field {id} is also set in `fields`; set it once"),
        ));
    }
    fields.insert(id.to_owned(), value);
    Ok(())
}

/// Replaces the e-mail address `email` by `account` wherever a user value can hold it: a string
/// (possibly a comma-separated list), an `{"emailAddress"}` object, or a list of those.
fn replace_email(value: &mut Value, email: &str, account: &str) {
    match value {
        Value::String(text) => {
            let parts: Vec<&str> = text.split(',').map(str::trim).collect();
            let replaced: Vec<&str> = parts
                .iter()
                .map(|p| {
                    if p.eq_ignore_ascii_case(email) {
                        account
                    } else {
                        p
                    }
                })
                .collect();
            *text = replaced.join(", ");
        }
        Value::Object(obj) => {
            let matches = obj
                .get("emailAddress")
                .and_then(Value::as_str)
                .is_some_and(|e| e.trim().eq_ignore_ascii_case(email));
            if matches && !obj.contains_key("accountId") {
                *value = json!({ "accountId": account });
            }
        }
        Value::Array(items) => {
            for item in items {
                replace_email(item, email, account);
            }
        }
        _ => {}
    }
}

/// An account id as given, or the one user whose e-mail address is `user`.
///
/// # Errors
/// A resolve error when nobody matches, or when several do (listing them).
pub(super) async fn resolve_user(
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
        .map_err(|e| jira_error(ctx, action, USER, e))?;
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

/// Maps a client error: what the client refused before sending is an input error at `path`,
/// everything else is Jira's answer.
pub(super) fn client_error(
    ctx: &ActionContext<'_>,
    action: Action,
    scope: &str,
    path: &str,
    error: jiraflow_jira::Error,
) -> ActionError {
    match error {
        jiraflow_jira::Error::InvalidInput(message) => {
            ActionError::input(ctx, action, path, message)
        }
        jiraflow_jira::Error::Field(field) => {
            ActionError::input(ctx, action, path, field.to_string())
        }
        other => jira_error(ctx, action, scope, other),
    }
}

/// Jira's refusal as an action error. Jira's scope errors do not say which scope is missing
/// ("Unauthorized; scope does not match"), so the scope the call needs is added to its messages.
pub(super) fn jira_error(
    ctx: &ActionContext<'_>,
    action: Action,
    scope: &str,
    mut error: jiraflow_jira::Error,
) -> ActionError {
    if error.is_scope_error()
        && let jiraflow_jira::Error::Api(api) = &mut error
    {
        api.messages.push(format!(
            "{action} needs the OAuth scope {scope}; reconnect granting it",
            action = action.name()
        ));
    }
    ActionError::jira(ctx, action, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_replaced_wherever_a_user_value_holds_them() {
        let mut value = json!([
            "a@x.example, b@x.example",
            {"emailAddress": "A@X.example"},
            {"accountId": "keep", "emailAddress": "a@x.example"},
            7
        ]);
        replace_email(&mut value, "a@x.example", "acc-a");
        assert_eq!(
            value,
            json!([
                "acc-a, b@x.example",
                {"accountId": "acc-a"},
                {"accountId": "keep", "emailAddress": "a@x.example"},
                7
            ])
        );
    }
}
