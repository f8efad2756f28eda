//! JQL search: `POST /search/jql` (the cursor-paged replacement of the removed `/search`) as a
//! stream of pages or issues, and `POST /search/approximate-count`.
//!
//! # Invariants
//! - `fields` is always sent: the endpoint's default is ids only, which silently breaks callers
//!   that read fields ([`DEFAULT_FIELDS`] unless the caller chooses).
//! - `jql`, `fields`, `expand`, `properties` and `reconcileIssues` are identical on every page; only
//!   `nextPageToken` changes.
//! - A `nextPageToken` seen before ends the stream with [`Error::Pagination`] instead of looping.
//! - `expand` is a comma-separated string, as the POST body requires.

use std::collections::HashSet;

use futures_util::{Stream, TryStreamExt, stream};
use serde::Serialize;

use crate::client::{ApiRequest, Idempotency, JiraClient};
use crate::error::{Error, Result};
use crate::ids::IssueId;
use crate::wire::issue::IssueBean;
use crate::wire::search::{ApproximateCount, SearchPage};

/// Fields requested when the caller names none: what triggers and actions read.
pub const DEFAULT_FIELDS: &[&str] = &[
    "summary",
    "status",
    "issuetype",
    "project",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "created",
    "updated",
    "resolutiondate",
    "parent",
];

/// Most issue ids `reconcileIssues` accepts.
pub const MAX_RECONCILE: usize = 50;
/// Most entity properties a search may return.
pub const MAX_PROPERTIES: usize = 5;
/// Most ORDER BY keys Jira accepts on this endpoint.
pub const MAX_ORDER_BY: usize = 7;

/// Search operations (`client.search()`).
#[derive(Debug, Clone, Copy)]
pub struct SearchHandler<'c> {
    pub(crate) client: &'c JiraClient,
}

impl<'c> SearchHandler<'c> {
    /// A search for `jql`.
    pub fn jql(&self, jql: impl Into<String>) -> SearchIssues<'c> {
        SearchIssues {
            client: self.client,
            body: SearchBody {
                jql: jql.into(),
                next_page_token: None,
                max_results: None,
                fields: DEFAULT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
                expand: None,
                properties: Vec::new(),
                fields_by_keys: None,
                reconcile_issues: Vec::new(),
            },
            reconcile: Vec::new(),
            validate: true,
        }
    }

    /// `POST /search/approximate-count`: an approximate, eventually consistent count.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for JQL that does not parse or is unbounded; 400 from Jira.
    pub async fn approximate_count(&self, jql: &str) -> Result<u64> {
        validate_jql(jql)?;
        let request = ApiRequest::post("/search/approximate-count")
            .json(&serde_json::json!({ "jql": jql }))?
            .idempotency(Idempotency::RetrySafe);
        Ok(self
            .client
            .send(request)
            .await?
            .json::<ApproximateCount>()?
            .count)
    }
}

/// Checks JQL client-side before sending: it must parse, have a condition (Jira rejects
/// unbounded queries) and at most seven ORDER BY keys.
///
/// # Errors
/// [`Error::InvalidInput`] with the parser's message and position.
pub fn validate_jql(jql: &str) -> Result<()> {
    let query = jiraflow_jql::parse(jql).map_err(|e| Error::InvalidInput(format!("JQL: {e}")))?;
    if query.clause.is_none() {
        return Err(Error::InvalidInput(
            "JQL must restrict the search (e.g. `project = X` or `updated >= -30d`); \
             Jira rejects unbounded queries"
                .into(),
        ));
    }
    if query.order_by.len() > MAX_ORDER_BY {
        return Err(Error::InvalidInput(format!(
            "JQL orders by {} fields; Jira allows {MAX_ORDER_BY}",
            query.order_by.len()
        )));
    }
    Ok(())
}

/// The `SearchAndReconcileRequestBean` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchBody {
    /// The query.
    pub jql: String,
    /// Cursor of the page to fetch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// Page size wish (the server may return fewer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
    /// Fields to return (never empty).
    pub fields: Vec<String>,
    /// Comma-separated expansions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    /// Entity properties to return (≤ 5).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    /// Reference fields by key instead of id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields_by_keys: Option<bool>,
    /// Issue ids written just before, for read-after-write consistency (≤ 50).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reconcile_issues: Vec<i64>,
}

/// `POST /search/jql`.
#[must_use]
#[derive(Debug, Clone)]
pub struct SearchIssues<'c> {
    client: &'c JiraClient,
    body: SearchBody,
    reconcile: Vec<IssueId>,
    validate: bool,
}

impl<'c> SearchIssues<'c> {
    /// Replaces the field list (`*all`, `*navigable`, ids; an empty list keeps the default).
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let fields: Vec<String> = fields.into_iter().map(Into::into).collect();
        if !fields.is_empty() {
            self.body.fields = fields;
        }
        self
    }

    /// Adds an expansion (`renderedFields`, `names`, `schema`, `transitions`, `operations`,
    /// `editmeta`, `changelog`, `versionedRepresentations`).
    pub fn expand(mut self, expand: impl Into<String>) -> Self {
        let expand = expand.into();
        self.body.expand = Some(match self.body.expand.take() {
            Some(existing) => format!("{existing},{expand}"),
            None => expand,
        });
        self
    }

    /// Returns the entity property `key` of each issue (at most five).
    pub fn property(mut self, key: impl Into<String>) -> Self {
        self.body.properties.push(key.into());
        self
    }

    /// Page size wish (Jira returns fewer when many fields are requested).
    pub fn max_results(mut self, max: u32) -> Self {
        self.body.max_results = Some(max);
        self
    }

    /// `fieldsByKeys=true`.
    pub fn fields_by_keys(mut self) -> Self {
        self.body.fields_by_keys = Some(true);
        self
    }

    /// Asks Jira to include these just-written issues even if its index lags (at most 50).
    pub fn reconcile<I>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = IssueId>,
    {
        self.reconcile.extend(ids);
        self
    }

    /// Skips the client-side JQL check (for JQL this crate's parser does not know).
    pub fn skip_validation(mut self) -> Self {
        self.validate = false;
        self
    }

    /// The first page's body as it will be sent (after validation).
    ///
    /// # Errors
    /// As [`pages`](Self::pages) before the first request.
    pub fn body(&self) -> Result<SearchBody> {
        if self.validate {
            validate_jql(&self.body.jql)?;
        }
        if self.body.properties.len() > MAX_PROPERTIES {
            return Err(Error::InvalidInput(format!(
                "a search returns at most {MAX_PROPERTIES} properties"
            )));
        }
        if self.reconcile.len() > MAX_RECONCILE {
            return Err(Error::InvalidInput(format!(
                "reconcileIssues takes at most {MAX_RECONCILE} issue ids, got {}",
                self.reconcile.len()
            )));
        }
        let mut body = self.body.clone();
        body.reconcile_issues = self
            .reconcile
            .iter()
            .map(|id| {
                id.as_str().parse::<i64>().map_err(|_| {
                    Error::InvalidInput(format!(
                        "reconcileIssues needs numeric issue ids, got {id}"
                    ))
                })
            })
            .collect::<Result<_>>()?;
        Ok(body)
    }

    /// One page (`token` from the previous page, `None` for the first).
    ///
    /// # Errors
    /// Validation errors; Jira's 400 for bad JQL; transport errors.
    pub async fn page(&self, token: Option<&str>) -> Result<SearchPage> {
        let mut body = self.body()?;
        body.next_page_token = token.map(str::to_owned);
        fetch(self.client, &body).await
    }

    /// Every page in order, following `nextPageToken`.
    pub fn pages(self) -> impl Stream<Item = Result<SearchPage>> + 'c {
        let client = self.client;
        let start = self.body().map(|body| Cursor {
            body,
            seen: HashSet::new(),
            repeated: None,
            done: false,
        });
        stream::try_unfold(Some(start), move |state| async move {
            let mut cursor = match state {
                None => return Ok(None),
                Some(Err(error)) => return Err(error),
                Some(Ok(cursor)) if cursor.done => return Ok(None),
                Some(Ok(cursor)) => cursor,
            };
            if let Some(token) = cursor.repeated.take() {
                // Following it would fetch the same pages forever.
                return Err(Error::Pagination {
                    path: "/search/jql".into(),
                    message: format!(
                        "Jira repeated the nextPageToken {token:?} after {} pages; stopping",
                        cursor.seen.len() + 1
                    ),
                });
            }
            let page = fetch(client, &cursor.body).await?;
            match page.next().map(str::to_owned) {
                Some(token) if cursor.seen.contains(&token) => cursor.repeated = Some(token),
                Some(token) => {
                    cursor.seen.insert(token.clone());
                    cursor.body.next_page_token = Some(token);
                }
                None => cursor.done = true,
            }
            Ok(Some((page, Some(Ok(cursor)))))
        })
    }

    /// Every issue of every page, in order.
    pub fn issues(self) -> impl Stream<Item = Result<IssueBean>> + 'c {
        self.pages()
            .map_ok(|page| stream::iter(page.issues.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Collects every issue.
    ///
    /// # Errors
    /// The first page error.
    pub async fn collect(self) -> Result<Vec<IssueBean>> {
        self.issues().try_collect().await
    }
}

struct Cursor {
    body: SearchBody,
    seen: HashSet<String>,
    /// A token seen before: the page that carried it is yielded, then the stream fails.
    repeated: Option<String>,
    done: bool,
}

async fn fetch(client: &JiraClient, body: &SearchBody) -> Result<SearchPage> {
    let request = ApiRequest::post("/search/jql")
        .json(body)?
        .idempotency(Idempotency::RetrySafe);
    client.send(request).await?.json()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unbounded_or_malformed_jql_is_refused_before_sending() {
        assert!(validate_jql("ORDER BY key DESC").is_err());
        assert!(validate_jql("project = ").is_err());
        assert!(validate_jql("project = DEMO ORDER BY a, b, c, d, e, f, g, h").is_err());
        assert!(validate_jql("project = DEMO ORDER BY updated").is_ok());
    }
}
