//! Issue workflow and metadata: list and do transitions (`/issue/{key}/transitions`), edit
//! metadata (`/issue/{key}/editmeta`), and the paged create metadata
//! (`/issue/createmeta/{project}/issuetypes[/{issueTypeId}]`, the replacement of the deprecated
//! `GET /issue/createmeta`).

use futures_util::TryStreamExt;
use serde_json::Value;

use crate::client::{ApiRequest, JiraClient};
use crate::error::{Error, Result};
use crate::fields::{CreateMetaFieldsPage, EditMeta, FieldMetadata};
use crate::ids::{IssueRef, IssueTypeId, ProjectRef, TransitionId};
use crate::ops::issues::{
    EntityProperty, IssueHandler, IssueUpdateDetails, TransitionRef, update_details_setters,
};
use crate::ops::pages::{Fetched, offset_stream};
use crate::wire::issue::{CreateMetaIssueType, CreateMetaIssueTypesPage, Transition, Transitions};

/// Largest createmeta page Jira serves.
const CREATEMETA_MAX_PAGE: u32 = 200;

impl<'c> IssueHandler<'c> {
    /// `GET /issue/{issueIdOrKey}/transitions`.
    pub fn transitions(&self, issue: impl Into<IssueRef>) -> ListTransitions<'c> {
        ListTransitions {
            client: self.client,
            issue: issue.into(),
            with_fields: false,
            include_unavailable: false,
        }
    }

    /// `POST /issue/{issueIdOrKey}/transitions` with transition `id`.
    pub fn do_transition(
        &self,
        issue: impl Into<IssueRef>,
        id: impl Into<TransitionId>,
    ) -> DoTransition<'c> {
        let body = IssueUpdateDetails {
            transition: Some(TransitionRef { id: id.into() }),
            ..IssueUpdateDetails::default()
        };
        DoTransition {
            client: self.client,
            issue: issue.into(),
            body,
        }
    }

    /// `GET /issue/{issueIdOrKey}/editmeta`.
    pub async fn editmeta(&self, issue: impl Into<IssueRef>) -> Result<EditMeta> {
        let request = ApiRequest::get("/issue/{issueIdOrKey}/editmeta").param(issue.into());
        self.client.send(request).await?.json()
    }

    /// `GET /issue/createmeta/{projectIdOrKey}/issuetypes`: one page.
    pub async fn createmeta_issue_types_page(
        &self,
        project: impl Into<ProjectRef>,
        start_at: u64,
        max_results: u32,
    ) -> Result<CreateMetaIssueTypesPage> {
        let request = ApiRequest::get("/issue/createmeta/{projectIdOrKey}/issuetypes")
            .param(project.into())
            .query("startAt", start_at)
            .query("maxResults", max_results.clamp(1, CREATEMETA_MAX_PAGE));
        self.client.send(request).await?.json()
    }

    /// Every issue type creatable in `project`, across pages.
    ///
    /// # Errors
    /// Any page's error.
    pub async fn createmeta_issue_types(
        &self,
        project: impl Into<ProjectRef>,
    ) -> Result<Vec<CreateMetaIssueType>> {
        let project = &project.into();
        offset_stream(0, |start| async move {
            let page = self
                .createmeta_issue_types_page(project.clone(), start, CREATEMETA_MAX_PAGE)
                .await?;
            Ok(fetched(start, page.issue_types, page.total))
        })
        .try_collect()
        .await
    }

    /// `GET /issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}`: one page of fields.
    pub async fn createmeta_fields_page(
        &self,
        project: impl Into<ProjectRef>,
        issue_type: impl Into<IssueTypeId>,
        start_at: u64,
        max_results: u32,
    ) -> Result<CreateMetaFieldsPage> {
        let request =
            ApiRequest::get("/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}")
                .param(project.into())
                .param(issue_type.into())
                .query("startAt", start_at)
                .query("maxResults", max_results.clamp(1, CREATEMETA_MAX_PAGE));
        self.client.send(request).await?.json()
    }

    /// Every field of the create screen of `issue_type` in `project`, across pages.
    ///
    /// # Errors
    /// Any page's error.
    pub async fn createmeta_fields(
        &self,
        project: impl Into<ProjectRef>,
        issue_type: impl Into<IssueTypeId>,
    ) -> Result<Vec<FieldMetadata>> {
        let (project, issue_type) = (&project.into(), &issue_type.into());
        offset_stream(0, |start| async move {
            let page = self
                .createmeta_fields_page(
                    project.clone(),
                    issue_type.clone(),
                    start,
                    CREATEMETA_MAX_PAGE,
                )
                .await?;
            Ok(fetched(start, page.fields, page.total))
        })
        .try_collect()
        .await
    }
}

/// One createmeta page for [`offset_stream`]: these legacy pages carry `total` but no `isLast`,
/// so the last page is the one that reaches `total` (an empty page ends paging regardless).
fn fetched<T>(start: u64, items: Vec<T>, total: Option<u64>) -> Fetched<T> {
    let reached = start + items.len() as u64;
    Fetched {
        last: total.is_some_and(|t| reached >= t),
        items,
    }
}

/// `GET /issue/{issueIdOrKey}/transitions`.
#[must_use]
pub struct ListTransitions<'c> {
    client: &'c JiraClient,
    issue: IssueRef,
    with_fields: bool,
    include_unavailable: bool,
}

impl ListTransitions<'_> {
    /// `expand=transitions.fields`: the fields of each transition's screen.
    pub fn with_fields(mut self) -> Self {
        self.with_fields = true;
        self
    }

    /// Also list transitions whose conditions fail (`includeUnavailableTransitions`).
    pub fn include_unavailable(mut self) -> Self {
        self.include_unavailable = true;
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// 404 for an invisible issue.
    pub async fn send(self) -> Result<Vec<Transition>> {
        let request = ApiRequest::get("/issue/{issueIdOrKey}/transitions")
            .param(&self.issue)
            .query_opt("expand", self.with_fields.then_some("transitions.fields"))
            .query_opt(
                "includeUnavailableTransitions",
                self.include_unavailable.then_some(true),
            );
        Ok(self
            .client
            .send(request)
            .await?
            .json::<Transitions>()?
            .transitions)
    }
}

/// `POST /issue/{issueIdOrKey}/transitions`.
#[must_use]
pub struct DoTransition<'c> {
    client: &'c JiraClient,
    issue: IssueRef,
    body: IssueUpdateDetails,
}

impl DoTransition<'_> {
    update_details_setters!();

    /// Sends the request (not retried after an ambiguous failure: the issue may have moved).
    ///
    /// # Errors
    /// 400 (invalid transition or fields), 404, 409.
    pub async fn send(self) -> Result<()> {
        if self.body.transition.is_none() {
            return Err(Error::InvalidInput("a transition id is required".into()));
        }
        self.body.validate()?;
        let request = ApiRequest::post("/issue/{issueIdOrKey}/transitions")
            .param(&self.issue)
            .issue_scope(self.issue.clone())
            .json(&self.body)?;
        self.client.send(request).await.map(|_| ())
    }
}
