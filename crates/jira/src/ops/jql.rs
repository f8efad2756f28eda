//! JQL endpoints: `POST /jql/parse` (Jira's own parser and validator, for JQL this crate's parser
//! accepts but Jira may not) and `POST /jql/match` (which of these issues match these queries:
//! the check a webhook or poll uses to apply a user filter to known issues).

use serde::Serialize;

use crate::client::{ApiRequest, Idempotency, JiraClient};
use crate::error::{Error, Result};
use crate::ids::IssueId;
use crate::wire::search::{JqlMatches, ParsedJqlQueries};

/// Most issue ids one `jql/match` call takes.
pub const MAX_MATCH_ISSUES: usize = 1000;

/// How strictly `jql/parse` validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JqlValidation {
    /// Every error; no structure when validation fails.
    #[default]
    Strict,
    /// Every error; the structure when the query is well formed.
    Warn,
    /// Syntax only.
    None,
}

impl JqlValidation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Warn => "warn",
            Self::None => "none",
        }
    }
}

/// JQL operations (`client.jql()`).
#[derive(Debug, Clone, Copy)]
pub struct JqlHandler<'c> {
    pub(crate) client: &'c JiraClient,
}

#[derive(Serialize)]
struct ParseBody<'a> {
    queries: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchBody<'a> {
    issue_ids: Vec<i64>,
    jqls: &'a [String],
}

impl JqlHandler<'_> {
    /// `POST /jql/parse?validation=..`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty list; 400 from Jira.
    pub async fn parse(
        &self,
        queries: &[String],
        validation: JqlValidation,
    ) -> Result<ParsedJqlQueries> {
        if queries.is_empty() {
            return Err(Error::InvalidInput("no queries to parse".into()));
        }
        let request = ApiRequest::post("/jql/parse")
            .query("validation", validation.as_str())
            .json(&ParseBody { queries })?
            .idempotency(Idempotency::RetrySafe);
        self.client.send(request).await?.json()
    }

    /// `POST /jql/match`: for each of `jqls`, which of `issues` it matches.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for non-numeric ids, more than 1000 issues, or JQL that does not
    /// parse; 400 from Jira.
    pub async fn matches(&self, issues: &[IssueId], jqls: &[String]) -> Result<JqlMatches> {
        if issues.len() > MAX_MATCH_ISSUES {
            return Err(Error::InvalidInput(format!(
                "jql/match takes at most {MAX_MATCH_ISSUES} issue ids"
            )));
        }
        for jql in jqls {
            jiraflow_jql::parse(jql).map_err(|e| Error::InvalidInput(format!("JQL: {e}")))?;
        }
        let issue_ids = issues
            .iter()
            .map(|id| {
                id.as_str().parse::<i64>().map_err(|_| {
                    Error::InvalidInput(format!("jql/match needs numeric issue ids, got {id}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let request = ApiRequest::post("/jql/match")
            .json(&MatchBody { issue_ids, jqls })?
            .idempotency(Idempotency::RetrySafe);
        self.client.send(request).await?.json()
    }
}
