//! What the issue actions share: field coercion through the catalogue, resolving people by
//! e-mail address, and mapping client errors to action errors (with the missing OAuth scope named).

use super::super::people::UserInput;
use jiraflow_jira::fields::{FieldCatalog, FieldError};
use serde_json::{Map, Value, json};

use crate::actions::{ActionContext, ActionError};
use crate::flow::Action;

/// The OAuth scope of writes to issues.
pub(crate) const WRITE: &str = "write:jira-work";
/// The OAuth scope of reading issues, fields and transitions.
pub(crate) const READ: &str = "read:jira-work";
/// The OAuth scope of reading users (`/myself`, the user search).
pub(super) const USER: &str = "read:jira-user";

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
                    let account = UserInput::Text(email.to_string())
                        .resolve(ctx, action)
                        .await?;
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

/// Maps a client error: what the client refused before sending is an input error at `path`,
/// everything else is Jira's answer.
pub(crate) fn client_error(
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

/// Jira's refusal as an action error, naming the missing scope or the permission that goes with
/// it (the issue actions' calls each need one scope).
pub(crate) fn jira_error(
    ctx: &ActionContext<'_>,
    action: Action,
    scope: &str,
    error: jiraflow_jira::Error,
) -> ActionError {
    let permission = match scope {
        WRITE => "the Create Issues or Edit Issues permission on the issue's project",
        USER => "the Browse users and groups global permission",
        _ => "the Browse Projects permission on the issue's project",
    };
    super::super::jira_error(ctx, action, permission, scope, error)
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
