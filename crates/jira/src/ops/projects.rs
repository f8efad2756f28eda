//! Projects: create (`POST /project`), get, update (`PUT /project/{idOrKey}`; paths are
//! case-sensitive) and search (`/project/search`, offset-paged, also as a stream). The create
//! and update inputs reject unknown fields when deserialized from a flow's configuration, so a
//! misspelt field fails at load time instead of being silently dropped.

use futures_util::Stream;
use serde::{Deserialize, Serialize};

use crate::client::{ApiRequest, JiraClient};
use crate::error::Result;
use crate::ids::{AccountId, ProjectKey, ProjectRef};
use crate::ops::pages::page_stream;
use crate::wire::page::PageBean;
use crate::wire::project::{Project, ProjectIdentifiers};

/// The kind of project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectTypeKey {
    /// Jira Software.
    Software,
    /// Jira Service Management.
    ServiceDesk,
    /// Jira Work Management.
    Business,
}

/// Who new issues are assigned to by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssigneeType {
    /// The project lead.
    ProjectLead,
    /// Nobody.
    Unassigned,
}

/// `CreateProjectDetails`: the body of `POST /project`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProject {
    /// The key: an uppercase letter then uppercase letters or digits, at most 10.
    pub key: ProjectKey,
    /// The name (unique, case-insensitively).
    pub name: String,
    /// The lead (effectively required: the user-name `lead` field is gone).
    pub lead_account_id: AccountId,
    /// The project type; implied by a template when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_type_key: Option<ProjectTypeKey>,
    /// The template (`com.pyxis.greenhopper.jira:gh-simplified-kanban-classic`, ...); it must
    /// match the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_template_key: Option<String>,
    /// Plain-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A URL for project information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Default assignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_type: Option<AssigneeType>,
    /// Avatar id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_id: Option<i64>,
    /// Project category id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<i64>,
    /// Permission scheme id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_scheme: Option<i64>,
    /// Notification scheme id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_scheme: Option<i64>,
    /// Issue security scheme id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_security_scheme: Option<i64>,
    /// Workflow scheme id (not with a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_scheme: Option<i64>,
    /// Issue type scheme id (not with a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type_scheme: Option<i64>,
    /// Issue type screen scheme id (not with a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type_screen_scheme: Option<i64>,
    /// Field configuration scheme id (not with a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_configuration_scheme: Option<i64>,
}

impl CreateProject {
    /// The required fields; set the rest directly on the struct.
    pub fn new(
        key: impl Into<ProjectKey>,
        name: impl Into<String>,
        lead: impl Into<AccountId>,
    ) -> Self {
        Self {
            key: key.into(),
            name: name.into(),
            lead_account_id: lead.into(),
            project_type_key: None,
            project_template_key: None,
            description: None,
            url: None,
            assignee_type: None,
            avatar_id: None,
            category_id: None,
            permission_scheme: None,
            notification_scheme: None,
            issue_security_scheme: None,
            workflow_scheme: None,
            issue_type_scheme: None,
            issue_type_screen_scheme: None,
            field_configuration_scheme: None,
        }
    }
}

/// `UpdateProjectDetails`: the body of `PUT /project/{idOrKey}`; absent fields stay unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProject {
    /// A new key (needs Administer Jira; re-keys every issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<ProjectKey>,
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A new URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A new lead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_account_id: Option<AccountId>,
    /// A new default assignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_type: Option<AssigneeType>,
    /// A new avatar id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_id: Option<i64>,
    /// A new category id (-1 removes the category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<i64>,
    /// A new permission scheme id (needs Administer Jira).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_scheme: Option<i64>,
    /// A new notification scheme id (needs Administer Jira).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_scheme: Option<i64>,
    /// A new issue security scheme id (needs Administer Jira).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_security_scheme: Option<i64>,
}

/// Project operations: `client.projects()`.
#[derive(Debug, Clone, Copy)]
pub struct Projects<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// Project operations.
    pub fn projects(&self) -> Projects<'_> {
        Projects { client: self }
    }
}

impl<'c> Projects<'c> {
    /// The request [`create`](Self::create) sends.
    ///
    /// # Errors
    /// Never in practice.
    pub fn create_request(self, details: &CreateProject) -> Result<ApiRequest> {
        // Default idempotency: a creating POST is not repeated after an ambiguous failure (a
        // repeat would fail on the now-taken key anyway).
        ApiRequest::post("/project").json(details)
    }

    /// `POST /project`.
    ///
    /// # Errors
    /// 400 for invalid details (key or name taken, bad lead, template and type mismatch); 403
    /// without Administer Jira.
    pub async fn create(self, details: &CreateProject) -> Result<ProjectIdentifiers> {
        let request = self.create_request(details)?;
        self.client.send(request).await?.json()
    }

    /// `GET /project/{idOrKey}`.
    pub fn get(self, project: impl Into<ProjectRef>) -> GetProject<'c> {
        GetProject {
            client: self.client,
            project: project.into(),
            expand: Vec::new(),
        }
    }

    /// The request [`update`](Self::update) sends.
    ///
    /// # Errors
    /// Never in practice.
    pub fn update_request(
        self,
        project: &ProjectRef,
        details: &UpdateProject,
    ) -> Result<ApiRequest> {
        ApiRequest::put("/project/{projectIdOrKey}")
            .param(project)
            .json(details)
    }

    /// `PUT /project/{idOrKey}`.
    ///
    /// # Errors
    /// 400 for invalid details; 403 without permission; 404 for a missing or hidden project.
    pub async fn update(
        self,
        project: impl Into<ProjectRef>,
        details: &UpdateProject,
    ) -> Result<Project> {
        let request = self.update_request(&project.into(), details)?;
        self.client.send(request).await?.json()
    }

    /// `GET /project/search`.
    pub fn search(self) -> SearchProjects<'c> {
        SearchProjects {
            client: self.client,
            params: SearchParams::default(),
            start_at: None,
        }
    }
}

/// `GET /project/{idOrKey}`.
#[must_use]
#[derive(Debug, Clone)]
pub struct GetProject<'c> {
    client: &'c JiraClient,
    project: ProjectRef,
    expand: Vec<String>,
}

impl GetProject<'_> {
    /// Adds an expansion (`description`, `lead`, `issueTypes`, `url`, `insight`, ...).
    pub fn expand(mut self, what: impl Into<String>) -> Self {
        self.expand.push(what.into());
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// 404 for a missing or hidden project (the key is case-sensitive).
    pub async fn send(self) -> Result<Project> {
        let request = ApiRequest::get("/project/{projectIdOrKey}")
            .param(&self.project)
            .query_opt(
                "expand",
                (!self.expand.is_empty()).then(|| self.expand.join(",")),
            );
        self.client.send(request).await?.json()
    }
}

#[derive(Debug, Clone, Default)]
struct SearchParams {
    query: Option<String>,
    keys: Vec<String>,
    type_key: Option<String>,
    order_by: Option<String>,
    expand: Vec<String>,
    max_results: Option<u64>,
}

impl SearchParams {
    fn request(&self, start_at: Option<u64>) -> ApiRequest {
        let mut request = ApiRequest::get("/project/search")
            .query_opt("query", self.query.as_deref())
            .query_opt("typeKey", self.type_key.as_deref())
            .query_opt("orderBy", self.order_by.as_deref())
            .query_opt(
                "expand",
                (!self.expand.is_empty()).then(|| self.expand.join(",")),
            )
            .query_opt("startAt", start_at)
            .query_opt("maxResults", self.max_results);
        for key in &self.keys {
            request = request.query("keys", key);
        }
        request
    }
}

/// `GET /project/search`.
#[must_use]
#[derive(Debug, Clone)]
pub struct SearchProjects<'c> {
    client: &'c JiraClient,
    params: SearchParams,
    start_at: Option<u64>,
}

impl SearchProjects<'_> {
    /// Matches key or name, case-insensitively, by substring.
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.params.query = Some(query.into());
        self
    }

    /// Matches this project key (repeatable).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.params.keys.push(key.into());
        self
    }

    /// Matches this project type (`software`, `business`, `service_desk`).
    pub fn type_key(mut self, type_key: impl Into<String>) -> Self {
        self.params.type_key = Some(type_key.into());
        self
    }

    /// Sort order (`key`, `-name`, `lastIssueUpdatedTime`, ...).
    pub fn order_by(mut self, order: impl Into<String>) -> Self {
        self.params.order_by = Some(order.into());
        self
    }

    /// Adds an expansion (`description`, `lead`, `issueTypes`, `insight`, ...).
    pub fn expand(mut self, what: impl Into<String>) -> Self {
        self.params.expand.push(what.into());
        self
    }

    /// Index of the first project.
    pub fn start_at(mut self, start_at: u64) -> Self {
        self.start_at = Some(start_at);
        self
    }

    /// Page size (Jira's default 50, capped at 100).
    pub fn max_results(mut self, max_results: u64) -> Self {
        self.params.max_results = Some(max_results);
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// 400 for an unknown `orderBy`.
    pub async fn send(self) -> Result<PageBean<Project>> {
        let request = self.params.request(self.start_at);
        self.client.send(request).await?.json()
    }

    /// Streams every matching project.
    pub fn stream(self) -> impl Stream<Item = Result<Project>> + Send + 'static {
        let params = self.params;
        page_stream(
            self.client.clone(),
            self.start_at.unwrap_or(0),
            move |start| params.request(Some(start)),
        )
    }
}
