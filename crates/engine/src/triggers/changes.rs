//! What changed in an update, from the changelog: the histories inside
//! (previous seen update, this update], flattened to `{field, field_id, from, from_string, to,
//! to_string}`, who made them, and the trigger's own-change and `fields` filters over them.

use jiraflow_jira::ops::changelog::ChangeHistory;
use serde::Serialize;
use serde_json::{Value, json};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The account id.
    pub account_id: String,
    /// The display name, when Jira shows it.
    pub display_name: Option<String>,
}

impl Actor {
    /// From a v3 user object (`accountId`, `displayName`); `None` without an account id.
    pub fn from_user(user: Option<&jiraflow_jira::wire::user::UserDetails>) -> Option<Self> {
        let user = user?;
        Some(Self {
            account_id: user.account_id.as_ref()?.as_str().to_owned(),
            display_name: user.display_name.clone(),
        })
    }

    /// The payload's `by`.
    pub fn to_json(actor: Option<&Self>) -> Value {
        match actor {
            Some(a) => json!({ "accountId": a.account_id, "displayName": a.display_name }),
            None => Value::Null,
        }
    }
}

/// One changed field of an update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Field name (`status`, `Story Points`).
    pub field: String,
    /// Field id (`status`, `customfield_10016`).
    pub field_id: String,
    /// Old raw value.
    pub from: Value,
    /// Old display value.
    pub from_string: Value,
    /// New raw value.
    pub to: Value,
    /// New display value.
    pub to_string: Value,
}

/// A history's time in epoch ms (`i64::MIN` without one, so it never falls in a window).
pub fn history_ms(history: &ChangeHistory) -> i64 {
    history.created.map_or(i64::MIN, |t| t.timestamp_millis())
}

/// The histories in `(after_ms, until_ms]`, oldest first.
pub fn in_range(histories: &[ChangeHistory], after_ms: i64, until_ms: i64) -> Vec<&ChangeHistory> {
    let mut out: Vec<&ChangeHistory> = histories
        .iter()
        .filter(|h| {
            let at = history_ms(h);
            at > after_ms && at <= until_ms
        })
        .collect();
    out.sort_by_key(|h| history_ms(h));
    out
}

/// The changes of `histories`, in order.
pub fn flatten(histories: &[&ChangeHistory]) -> Vec<Change> {
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    histories
        .iter()
        .flat_map(|h| h.items.iter())
        .map(|item| {
            let field = item.field.clone().unwrap_or_default();
            Change {
                field_id: item.field_id.clone().unwrap_or_else(|| field.clone()),
                field,
                from: item.from.clone().unwrap_or(Value::Null),
                from_string: text(&item.from_string),
                to: item.to.clone().unwrap_or(Value::Null),
                to_string: text(&item.to_string),
            }
        })
        .collect()
}

/// Whether a change touches one of `fields` (ids or names, case-insensitive).
pub fn touches(change: &Change, fields: &[String]) -> bool {
    fields
        .iter()
        .any(|f| f.eq_ignore_ascii_case(&change.field_id) || f.eq_ignore_ascii_case(&change.field))
}

/// How an update is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It fires, with these changes, caused by this actor (when known).
    Fire {
        /// The changes reported.
        changes: Vec<Change>,
        /// Who made the latest relevant change.
        by: Option<Actor>,
    },
    /// Only the connection's own account changed the issue.
    OwnChange,
    /// None of the trigger's `fields` changed.
    NoWatchedField,
}

/// Judges an update from its histories in range. `own` is the connection's account when own
/// changes are ignored; `fields` narrows which changes count; `fallback_by` is who caused an
/// update that left no history (a comment, typically).
pub fn judge(
    histories: &[&ChangeHistory],
    own: Option<&str>,
    fields: Option<&[String]>,
    fallback_by: Option<Actor>,
) -> Verdict {
    let is_own =
        |a: &Option<Actor>| own.is_some_and(|o| a.as_ref().is_some_and(|a| a.account_id == o));
    if histories.is_empty() {
        if is_own(&fallback_by) {
            return Verdict::OwnChange;
        }
        if fields.is_some() {
            return Verdict::NoWatchedField;
        }
        return Verdict::Fire {
            changes: Vec::new(),
            by: fallback_by,
        };
    }
    let relevant: Vec<&ChangeHistory> = histories
        .iter()
        .copied()
        .filter(|h| !is_own(&Actor::from_user(h.author.as_ref())))
        .collect();
    if relevant.is_empty() {
        return Verdict::OwnChange;
    }
    let relevant_changes = flatten(&relevant);
    if let Some(fields) = fields
        && !relevant_changes.iter().any(|c| touches(c, fields))
    {
        return Verdict::NoWatchedField;
    }
    let by = relevant
        .last()
        .and_then(|h| Actor::from_user(h.author.as_ref()));
    Verdict::Fire {
        changes: flatten(histories),
        by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(at_ms: i64, author: &str, field: &str) -> Result<ChangeHistory, serde_json::Error> {
        serde_json::from_value(json!({
            "id": at_ms.to_string(),
            "author": {"accountId": author, "displayName": author},
            "created": at_ms,
            "items": [{"field": field, "fieldId": field, "fromString": "a", "toString": "b"}],
        }))
    }

    #[test]
    fn only_histories_inside_the_range_count() -> Result<(), serde_json::Error> {
        let all = vec![
            history(1_000, "bob", "status")?,
            history(2_000, "bob", "summary")?,
            history(3_000, "bob", "labels")?,
        ];
        let picked = in_range(&all, 1_000, 2_000);
        assert_eq!(picked.len(), 1);
        assert_eq!(flatten(&picked)[0].field, "summary");
        Ok(())
    }

    #[test]
    fn an_update_only_by_the_connection_itself_is_skipped() -> Result<(), serde_json::Error> {
        let all = [history(1_000, "me", "status")?];
        let refs: Vec<&ChangeHistory> = all.iter().collect();
        assert_eq!(judge(&refs, Some("me"), None, None), Verdict::OwnChange);
        assert!(matches!(
            judge(&refs, None, None, None),
            Verdict::Fire { .. }
        ));
        Ok(())
    }

    #[test]
    fn fields_narrow_updates_to_the_watched_ones() -> Result<(), serde_json::Error> {
        let all = [history(1_000, "bob", "summary")?];
        let refs: Vec<&ChangeHistory> = all.iter().collect();
        let watched = ["Status".to_owned()];
        assert_eq!(
            judge(&refs, None, Some(&watched), None),
            Verdict::NoWatchedField
        );
        let watched = ["SUMMARY".to_owned()];
        assert!(matches!(
            judge(&refs, None, Some(&watched), None),
            Verdict::Fire { .. }
        ));
        Ok(())
    }
}
