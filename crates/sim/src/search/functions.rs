//! JQL functions: `currentUser()`, `membersOf()`, the date functions, `standardIssueTypes()` and
//! `subTaskIssueTypes()`. Jira's other functions (issue history, sprints, links, votes ...) are
//! reported as unsupported rather than silently matching nothing.

use super::compile::Env;
use super::fields::{Field, Kind, V};
use crate::world::FieldKind;

/// Jira functions the simulator knows by name but does not evaluate.
const UNSUPPORTED: &[&str] = &[
    "issuehistory",
    "linkedissues",
    "updatedby",
    "opensprints",
    "closedsprints",
    "futuresprints",
    "watchedissues",
    "votedissues",
    "lastlogin",
    "currentlogin",
    "projectswhereuserhaspermission",
    "projectswhereuserhasrole",
    "issuesWithRemoteLinksByGlobalId",
    "componentsleadbyuser",
    "projectsleadbyuser",
    "releasedversions",
    "unreleasedversions",
    "latestreleasedversion",
    "earliestunreleasedversion",
    "parentepic",
    "epicsof",
    "issuekeys",
];

fn is_user_field(field: &Field) -> bool {
    match field {
        Field::Assignee | Field::Reporter | Field::Creator | Field::Watcher => true,
        Field::Custom(def) => def.kind == FieldKind::User,
        _ => false,
    }
}

/// The values a function produces for `field`. Problems are pushed to `errors`.
pub fn function_items(
    function: &str,
    args: &[String],
    field: &Field,
    name: &str,
    env: &Env<'_>,
    errors: &mut Vec<String>,
) -> Vec<V> {
    let lower = function.to_ascii_lowercase();
    let invalid_for_field = || {
        format!("A value provided by the function '{function}' is invalid for the field '{name}'.")
    };
    match lower.as_str() {
        "currentuser" => {
            if !is_user_field(field) {
                errors.push(invalid_for_field());
                return Vec::new();
            }
            if !args.is_empty() {
                errors.push(format!(
                    "Function '{function}' expected '0' arguments but received '{}'.",
                    args.len()
                ));
                return Vec::new();
            }
            vec![V::Str(env.account_id.to_owned())]
        }
        "membersof" => {
            if !is_user_field(field) {
                errors.push(invalid_for_field());
                return Vec::new();
            }
            let [group] = args else {
                errors.push(format!(
                    "Function '{function}' expected '1' arguments but received '{}'.",
                    args.len()
                ));
                return Vec::new();
            };
            match env.site.group_by_name(group) {
                Some(g) => g.members.iter().map(|m| V::Str(m.clone())).collect(),
                None => {
                    errors.push(format!(
                        "Function '{function}' can not generate a list of users for group '{group}'; the group does not exist."
                    ));
                    Vec::new()
                }
            }
        }
        "standardissuetypes" | "subtaskissuetypes" => {
            if *field != Field::IssueType {
                errors.push(invalid_for_field());
                return Vec::new();
            }
            let subtask = lower == "subtaskissuetypes";
            env.site
                .jira
                .issue_types
                .iter()
                .filter(|t| t.subtask == subtask)
                .map(|t| V::Str(t.id.clone()))
                .collect()
        }
        _ => match env.dates.function(function, args) {
            Ok(Some(ms)) => {
                if field.kind() != Kind::Date {
                    errors.push(invalid_for_field());
                    return Vec::new();
                }
                vec![V::Int(ms)]
            }
            Err(message) => {
                errors.push(message);
                Vec::new()
            }
            Ok(None) => {
                if UNSUPPORTED.iter().any(|u| u.eq_ignore_ascii_case(&lower)) {
                    errors.push(format!(
                        "The JQL function '{function}()' is not supported by the simulator."
                    ));
                } else {
                    errors.push(format!("Unable to find JQL function '{function}()'."));
                }
                Vec::new()
            }
        },
    }
}
