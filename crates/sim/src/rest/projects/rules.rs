//! The rules behind the project endpoints: reading `CreateProjectDetails` and
//! `UpdateProjectDetails`, validating keys, names, leads, types and templates with Jira's
//! messages, and re-keying a project's issues. The filters and orders of `project/search` live in
//! `search.rs`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult, INVALID_PAYLOAD};
use crate::world::{Site, World};

/// Longest project key Jira accepts.
const MAX_KEY_LEN: usize = 10;
/// Longest project name Jira accepts.
const MAX_NAME_LEN: usize = 80;

/// Schemes that cannot be combined with a project template on create.
pub const TEMPLATE_EXCLUSIVE_SCHEMES: &[&str] = &[
    "workflowScheme",
    "issueTypeScheme",
    "issueTypeScreenScheme",
    "fieldConfigurationScheme",
];

/// Schemes an update may change (each needs "Administer Jira").
const UPDATE_SCHEMES: &[&str] = &[
    "permissionScheme",
    "notificationScheme",
    "issueSecurityScheme",
];

/// Project templates by project type, from the spec's `createProject` table and the
/// `projectTemplateKey` enum (which cuts the last business template short; both spellings pass).
const TEMPLATES: &[(&str, &[&str])] = &[
    (
        "software",
        &[
            "com.pyxis.greenhopper.jira:gh-simplified-agility-kanban",
            "com.pyxis.greenhopper.jira:gh-simplified-agility-scrum",
            "com.pyxis.greenhopper.jira:gh-simplified-basic",
            "com.pyxis.greenhopper.jira:gh-simplified-kanban-classic",
            "com.pyxis.greenhopper.jira:gh-simplified-scrum-classic",
            "com.pyxis.greenhopper.jira:gh-cross-team-template",
            "com.pyxis.greenhopper.jira:gh-cross-team-planning-template",
        ],
    ),
    (
        "business",
        &[
            "com.atlassian.jira-core-project-templates:jira-core-simplified-content-management",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-document-approval",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-lead-tracking",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-process-control",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-procurement",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-project-management",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-recruitment",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-task-tracking",
            "com.atlassian.jira-core-project-templates:jira-core-simplified-task-",
        ],
    ),
    (
        "service_desk",
        &[
            "com.atlassian.servicedesk:simplified-it-service-management",
            "com.atlassian.servicedesk:simplified-it-service-management-basic",
            "com.atlassian.servicedesk:simplified-it-service-management-operations",
            "com.atlassian.servicedesk:simplified-general-service-desk",
            "com.atlassian.servicedesk:simplified-internal-service-desk",
            "com.atlassian.servicedesk:simplified-external-service-desk",
            "com.atlassian.servicedesk:simplified-hr-service-desk",
            "com.atlassian.servicedesk:simplified-facilities-service-desk",
            "com.atlassian.servicedesk:simplified-legal-service-desk",
            "com.atlassian.servicedesk:simplified-marketing-service-desk",
            "com.atlassian.servicedesk:simplified-finance-service-desk",
            "com.atlassian.servicedesk:simplified-analytics-service-desk",
            "com.atlassian.servicedesk:simplified-design-service-desk",
            "com.atlassian.servicedesk:simplified-sales-service-desk",
            "com.atlassian.servicedesk:simplified-halp-service-desk",
            "com.atlassian.servicedesk:company-managed-blank-service-project",
            "com.atlassian.servicedesk:company-managed-general-service-project",
            "com.atlassian.servicedesk:team-managed-general-service-project",
            "com.atlassian.servicedesk:next-gen-it-service-desk",
            "com.atlassian.servicedesk:next-gen-hr-service-desk",
            "com.atlassian.servicedesk:next-gen-legal-service-desk",
            "com.atlassian.servicedesk:next-gen-marketing-service-desk",
            "com.atlassian.servicedesk:next-gen-facilities-service-desk",
            "com.atlassian.servicedesk:next-gen-general-service-desk",
            "com.atlassian.servicedesk:next-gen-analytics-service-desk",
            "com.atlassian.servicedesk:next-gen-finance-service-desk",
            "com.atlassian.servicedesk:next-gen-design-service-desk",
            "com.atlassian.servicedesk:next-gen-sales-service-desk",
        ],
    ),
];

/// The fields of a create or update body, type-checked.
#[derive(Debug, Default)]
pub struct Draft {
    /// `key`.
    pub key: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `leadAccountId`.
    pub lead: Option<String>,
    /// `projectTypeKey`.
    pub project_type_key: Option<String>,
    /// `projectTemplateKey`.
    pub template_key: Option<String>,
    /// `assigneeType`.
    pub assignee_type: Option<String>,
    /// `url`.
    pub url: Option<String>,
    /// `categoryId`.
    pub category_id: Option<i64>,
    /// One of [`TEMPLATE_EXCLUSIVE_SCHEMES`] was given.
    pub has_exclusive_scheme: bool,
    /// A scheme an update may change was given.
    pub has_scheme: bool,
    /// `releasedProjectKeys`.
    pub released_keys: Vec<String>,
}

fn string(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<String>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

fn integer(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<i64>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD)),
    }
}

impl Draft {
    /// Reads a `CreateProjectDetails` (unknown fields are rejected, as the bean does).
    pub fn from_create(obj: &Map<String, Value>) -> ApiResult<Self> {
        const KNOWN: &[&str] = &[
            "key",
            "name",
            "description",
            "lead",
            "leadAccountId",
            "projectTypeKey",
            "projectTemplateKey",
            "assigneeType",
            "avatarId",
            "categoryId",
            "url",
            "permissionScheme",
            "notificationScheme",
            "issueSecurityScheme",
            "workflowScheme",
            "issueTypeScheme",
            "issueTypeScreenScheme",
            "fieldConfigurationScheme",
        ];
        let mut draft = Self::common(obj, KNOWN)?;
        draft.project_type_key = string(obj, "projectTypeKey")?;
        draft.template_key = string(obj, "projectTemplateKey")?;
        for scheme in TEMPLATE_EXCLUSIVE_SCHEMES {
            if integer(obj, scheme)?.is_some() {
                draft.has_exclusive_scheme = true;
            }
        }
        for scheme in UPDATE_SCHEMES {
            integer(obj, scheme)?;
        }
        Ok(draft)
    }

    /// Reads an `UpdateProjectDetails`.
    pub fn from_update(obj: &Map<String, Value>) -> ApiResult<Self> {
        const KNOWN: &[&str] = &[
            "key",
            "name",
            "description",
            "lead",
            "leadAccountId",
            "assigneeType",
            "avatarId",
            "categoryId",
            "url",
            "permissionScheme",
            "notificationScheme",
            "issueSecurityScheme",
            "releasedProjectKeys",
        ];
        let mut draft = Self::common(obj, KNOWN)?;
        for scheme in UPDATE_SCHEMES {
            if integer(obj, scheme)?.is_some() {
                draft.has_scheme = true;
            }
        }
        draft.released_keys = match obj.get("releasedProjectKeys") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::bad_request(INVALID_PAYLOAD))
                })
                .collect::<ApiResult<_>>()?,
            Some(_) => return Err(ApiError::bad_request(INVALID_PAYLOAD)),
        };
        Ok(draft)
    }

    fn common(obj: &Map<String, Value>, known: &[&str]) -> ApiResult<Self> {
        if let Some(unknown) = obj.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!(
                "Unrecognized field \"{unknown}\". {INVALID_PAYLOAD}"
            )));
        }
        let assignee_type = string(obj, "assigneeType")?;
        if let Some(t) = &assignee_type
            && t != "PROJECT_LEAD"
            && t != "UNASSIGNED"
        {
            return Err(ApiError::bad_request(INVALID_PAYLOAD));
        }
        integer(obj, "avatarId")?;
        Ok(Self {
            key: string(obj, "key")?,
            name: string(obj, "name")?,
            description: string(obj, "description")?,
            // `lead` (a user name) is gone from Cloud; only `leadAccountId` identifies a lead.
            lead: string(obj, "leadAccountId")?,
            assignee_type,
            url: string(obj, "url")?,
            category_id: integer(obj, "categoryId")?,
            ..Self::default()
        })
    }
}

/// Checks a project key: present when `required`, well-formed, at most ten characters, and not
/// used by another project (deleted ones included: their keys stay reserved).
pub fn check_key(
    site: &Site,
    key: Option<&str>,
    own_id: Option<u64>,
    required: bool,
    errors: &mut BTreeMap<String, String>,
) {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        if required {
            errors.insert(
                "projectKey".to_owned(),
                "You must specify a valid project key.".to_owned(),
            );
        }
        return;
    };
    let message = if key.chars().count() > MAX_KEY_LEN {
        Some(format!(
            "The project key must not exceed {MAX_KEY_LEN} characters in length."
        ))
    } else if !is_valid_key(key) {
        Some(
            "Project keys must start with an uppercase letter, followed by one or more uppercase alphanumeric characters."
                .to_owned(),
        )
    } else {
        site.jira
            .projects
            .values()
            .find(|p| p.key == key && Some(p.id) != own_id)
            .map(|p| format!("Project '{}' uses this project key.", p.name))
    };
    if let Some(message) = message {
        errors.insert("projectKey".to_owned(), message);
    }
}

/// An upper-case ASCII letter followed by one or more upper-case letters or digits.
pub fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && key.len() >= 2
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Whether `key` can name a new project: [`is_valid_key`] and at most [`MAX_KEY_LEN`] characters.
pub(crate) fn is_acceptable_key(key: &str) -> bool {
    is_valid_key(key) && key.len() <= MAX_KEY_LEN
}

/// Checks a project name: present when `required`, 2 to 80 characters, unique (case-insensitive).
pub fn check_name(
    site: &Site,
    name: Option<&str>,
    own_id: Option<u64>,
    required: bool,
    errors: &mut BTreeMap<String, String>,
) {
    let Some(name) = name else {
        if required {
            errors.insert(
                "projectName".to_owned(),
                "You must specify a valid project name.".to_owned(),
            );
        }
        return;
    };
    let len = name.trim().chars().count();
    let message = if len == 0 {
        Some("You must specify a valid project name.".to_owned())
    } else if len < 2 {
        Some("The project name should be at least 2 characters in length.".to_owned())
    } else if len > MAX_NAME_LEN {
        Some(format!(
            "The project name must not exceed {MAX_NAME_LEN} characters in length."
        ))
    } else if site
        .jira
        .projects
        .values()
        .any(|p| p.name.eq_ignore_ascii_case(name.trim()) && Some(p.id) != own_id)
    {
        Some("A project with that name already exists.".to_owned())
    } else {
        None
    };
    if let Some(message) = message {
        errors.insert("projectName".to_owned(), message);
    }
}

/// Checks the lead: present when `required`, and an active account with access to the site.
pub fn check_lead(
    world: &World,
    site: &Site,
    lead: Option<&str>,
    required: bool,
    errors: &mut BTreeMap<String, String>,
) {
    let message = match lead.filter(|l| !l.is_empty()) {
        None if required => Some("You must specify a valid project lead."),
        None => None,
        Some(account) => {
            let known =
                site.members.contains_key(account) && world.user(account).is_some_and(|u| u.active);
            (!known).then_some("The user you have specified as project lead does not exist.")
        }
    };
    if let Some(message) = message {
        errors.insert("projectLead".to_owned(), message.to_owned());
    }
}

/// The project type a template belongs to.
fn template_type(template: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(_, list)| list.contains(&template))
        .map(|(kind, _)| *kind)
}

/// Checks type and template together; returns the resulting project type (the template's when
/// only a template is given).
pub fn check_type(
    type_key: Option<&str>,
    template: Option<&str>,
    errors: &mut BTreeMap<String, String>,
) -> String {
    let valid_type = |t: &str| TEMPLATES.iter().any(|(kind, _)| *kind == t);
    if let Some(t) = type_key
        && !valid_type(t)
    {
        errors.insert(
            "projectTypeKey".to_owned(),
            format!("Invalid project type key: '{t}'."),
        );
        return t.to_owned();
    }
    match (type_key, template) {
        (None, None) => {
            errors.insert(
                "projectTypeKey".to_owned(),
                "A project type or a project template must be specified.".to_owned(),
            );
            String::new()
        }
        (Some(t), None) => t.to_owned(),
        (t, Some(template)) => match template_type(template) {
            None => {
                errors.insert(
                    "projectTemplateKey".to_owned(),
                    format!("Invalid project template key: '{template}'."),
                );
                t.unwrap_or_default().to_owned()
            }
            Some(kind) if t.is_some_and(|t| t != kind) => {
                errors.insert(
                    "projectTemplateKey".to_owned(),
                    format!(
                        "The project template '{template}' does not match the project type '{}'.",
                        t.unwrap_or_default()
                    ),
                );
                kind.to_owned()
            }
            Some(kind) => kind.to_owned(),
        },
    }
}

/// Gives the project `new_key` and its issues matching keys. Former issue keys keep resolving,
/// as they do in Jira after a key change.
pub fn rekey(site: &mut Site, project_id: u64, new_key: &str) {
    let Some(project) = site.jira.projects.get_mut(&project_id) else {
        return;
    };
    project.key = new_key.to_owned();
    for issue in site
        .jira
        .issues
        .values_mut()
        .filter(|i| i.project_id == project_id)
    {
        let number = issue.key.rsplit('-').next().unwrap_or_default().to_owned();
        issue.key = format!("{new_key}-{number}");
        site.jira
            .issue_keys
            .insert(issue.key.to_ascii_uppercase(), issue.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_need_an_uppercase_letter_then_uppercase_alphanumerics() {
        assert!(is_valid_key("AB"));
        assert!(is_valid_key("A1B2"));
        assert!(!is_valid_key("A"));
        assert!(!is_valid_key("ab"));
        assert!(!is_valid_key("1AB"));
        assert!(!is_valid_key("A-B"));
    }

    #[test]
    fn a_template_decides_the_type_and_must_match_a_given_one() {
        let mut errors = BTreeMap::new();
        let kanban = "com.pyxis.greenhopper.jira:gh-simplified-kanban-classic";
        assert_eq!(check_type(None, Some(kanban), &mut errors), "software");
        assert!(errors.is_empty());
        check_type(Some("business"), Some(kanban), &mut errors);
        assert!(errors.contains_key("projectTemplateKey"));
    }
}
