//! Project actions: `create_project` and `update_project`. Creating needs the Administer Jira
//! global permission (scope `manage:jira-configuration`); editing needs Administer Projects on
//! the project (scope `manage:jira-project`), so refusals name those. An update whose values all
//! equal the project's current ones sends nothing and succeeds as [`Outcome::Unchanged`].

use jiraflow_jira::ids::{ProjectKey, ProjectRef};
use jiraflow_jira::ops::projects::{self as jira_projects, CreateProject, UpdateProject};
use jiraflow_jira::wire::project::Project;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jira_error;
use super::people::UserInput;
use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, output};
use crate::flow::Action;

/// What creating a project needs, named in refusals.
const CREATE_NEEDS: &str = "the Administer Jira global permission";
/// What editing a project needs, named in refusals.
const UPDATE_NEEDS: &str =
    "the Administer Projects permission on the project (Administer Jira to change its key)";

/// The kind of project.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectTypeInput {
    /// Jira Software.
    Software,
    /// Jira Service Management.
    ServiceDesk,
    /// Jira Work Management.
    Business,
}

impl From<ProjectTypeInput> for jira_projects::ProjectTypeKey {
    fn from(value: ProjectTypeInput) -> Self {
        match value {
            ProjectTypeInput::Software => Self::Software,
            ProjectTypeInput::ServiceDesk => Self::ServiceDesk,
            ProjectTypeInput::Business => Self::Business,
        }
    }
}

/// Who new issues are assigned to by default.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeTypeInput {
    /// The project lead.
    ProjectLead,
    /// Nobody.
    Unassigned,
}

impl AssigneeTypeInput {
    fn to_jira(self) -> jira_projects::AssigneeType {
        match self {
            Self::ProjectLead => jira_projects::AssigneeType::ProjectLead,
            Self::Unassigned => jira_projects::AssigneeType::Unassigned,
        }
    }

    fn wire_name(self) -> &'static str {
        match self {
            Self::ProjectLead => "PROJECT_LEAD",
            Self::Unassigned => "UNASSIGNED",
        }
    }
}

/// Input of `create_project`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CreateProjectInput {
    /// The key: an uppercase letter then uppercase letters or digits, at most 10.
    pub key: String,
    /// The name (unique, case-insensitively).
    pub name: String,
    /// `software`, `service_desk` or `business`; implied by `template` when absent.
    #[serde(default)]
    pub project_type: Option<ProjectTypeInput>,
    /// The lead: `{account_id: ...}` or `{email: ...}`.
    pub lead: UserInput,
    /// A project template key (`com.pyxis.greenhopper.jira:gh-simplified-kanban-classic`, ...);
    /// it must fit the project type.
    #[serde(default)]
    pub template: Option<String>,
    /// Plain-text description.
    #[serde(default)]
    pub description: Option<String>,
    /// A URL for project information.
    #[serde(default)]
    pub url: Option<String>,
    /// Default assignee: `project_lead` or `unassigned`.
    #[serde(default)]
    pub assignee_type: Option<AssigneeTypeInput>,
}

/// Output of `create_project`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProjectOutput {
    /// The new project's id.
    pub id: String,
    /// The new project's key.
    pub key: String,
}

/// `create_project`: creates a project. A taken key or name is an error (Jira's message).
///
/// # Errors
/// Input and resolution errors, Jira's 400 for invalid details, and a refusal naming the
/// Administer Jira permission.
pub async fn create_project(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::CreateProject;
    let input: CreateProjectInput = decode_input(&ctx, action, input)?;
    let lead = input.lead.resolve(&ctx, action).await?;
    let mut details = CreateProject::new(input.key.as_str(), input.name, lead);
    details.project_type_key = input.project_type.map(Into::into);
    details.project_template_key = input.template;
    details.description = input.description;
    details.url = input.url;
    details.assignee_type = input.assignee_type.map(AssigneeTypeInput::to_jira);
    let created =
        ctx.jira.projects().create(&details).await.map_err(|err| {
            jira_error(&ctx, action, CREATE_NEEDS, "manage:jira-configuration", err)
        })?;
    Ok(output(
        Outcome::Changed,
        &CreateProjectOutput {
            id: created.id.to_string(),
            key: created.key.to_string(),
        },
    ))
}

/// Input of `update_project`; absent fields stay as they are.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpdateProjectInput {
    /// The project's key or id (keys are case-sensitive).
    pub project: String,
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new plain-text description.
    #[serde(default)]
    pub description: Option<String>,
    /// A new lead: `{account_id: ...}` or `{email: ...}`.
    #[serde(default)]
    pub lead: Option<UserInput>,
    /// A new URL for project information.
    #[serde(default)]
    pub url: Option<String>,
    /// A new default assignee: `project_lead` or `unassigned`.
    #[serde(default)]
    pub assignee_type: Option<AssigneeTypeInput>,
    /// A new key (needs Administer Jira; every issue is re-keyed).
    #[serde(default)]
    pub key: Option<String>,
}

/// Output of `update_project`: the project after the update.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProjectOutput {
    /// The project id.
    pub id: Option<String>,
    /// The project key (the new one after a re-key).
    pub key: String,
    /// The project name.
    pub name: Option<String>,
}

impl From<&Project> for UpdateProjectOutput {
    fn from(project: &Project) -> Self {
        Self {
            id: project.id.as_ref().map(ToString::to_string),
            key: project.key.to_string(),
            name: project.name.clone(),
        }
    }
}

/// `update_project`: edits a project. Values equal to the current ones change nothing; when
/// all are, no request is sent and the outcome is [`Outcome::Unchanged`].
///
/// # Errors
/// Input and resolution errors (at least one field to change is required), 404 for an unknown
/// project, Jira's 400 for invalid values, and a refusal naming the missing permission.
pub async fn update_project(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::UpdateProject;
    let input: UpdateProjectInput = decode_input(&ctx, action, input)?;
    let denied = |err| jira_error(&ctx, action, UPDATE_NEEDS, "manage:jira-project", err);
    let lead = match &input.lead {
        Some(user) => Some(user.resolve(&ctx, action).await?),
        None => None,
    };
    let project_ref = ProjectRef::from(input.project.as_str());
    let current = ctx
        .jira
        .projects()
        .get(project_ref.clone())
        .expand("description")
        .expand("lead")
        .expand("url")
        .send()
        .await
        .map_err(denied)?;
    // Only send what differs, so re-running a flow does not rewrite (and re-notify) anything.
    let mut details = UpdateProject::default();
    if let Some(name) = input.name.filter(|n| current.name.as_ref() != Some(n)) {
        details.name = Some(name);
    }
    if let Some(text) = input
        .description
        .filter(|d| current.description.as_ref() != Some(d))
    {
        details.description = Some(text);
    }
    let current_lead = current
        .lead
        .as_ref()
        .and_then(|l| l.account_id.as_ref())
        .map(ToString::to_string);
    if let Some(lead) = lead.filter(|l| current_lead.as_deref() != Some(l.as_str())) {
        details.lead_account_id = Some(lead);
    }
    let current_url = current.extra.get("url").and_then(Value::as_str);
    if let Some(url) = input.url.filter(|u| current_url != Some(u.as_str())) {
        details.url = Some(url);
    }
    if let Some(kind) = input
        .assignee_type
        .filter(|a| current.assignee_type.as_deref() != Some(a.wire_name()))
    {
        details.assignee_type = Some(kind.to_jira());
    }
    if let Some(key) = input.key.filter(|k| current.key.as_str() != k) {
        details.key = Some(ProjectKey::from(key.as_str()));
    }
    if details == UpdateProject::default() {
        return Ok(output(
            Outcome::Unchanged,
            &UpdateProjectOutput::from(&current),
        ));
    }
    let updated = ctx
        .jira
        .projects()
        .update(project_ref, &details)
        .await
        .map_err(denied)?;
    Ok(output(
        Outcome::Changed,
        &UpdateProjectOutput::from(&updated),
    ))
}
