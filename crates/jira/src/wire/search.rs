//! Search and JQL answers: the `/search/jql` cursor page, approximate count, parsed JQL and
//! JQL match results.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::IssueId;
use crate::wire::issue::IssueBean;

/// One page of `POST /search/jql` (`SearchAndReconcileResults`). No `total`: loop on
/// `nextPageToken`/`isLast`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    /// Issues of this page.
    #[serde(default)]
    pub issues: Vec<IssueBean>,
    /// Cursor of the next page; absent or null on the last page.
    #[serde(default)]
    pub next_page_token: Option<String>,
    /// Whether this is the last page (not always present).
    #[serde(default)]
    pub is_last: Option<bool>,
    /// `expand=names`.
    #[serde(default)]
    pub names: Option<Map<String, Value>>,
    /// `expand=schema`.
    #[serde(default)]
    pub schema: Option<Map<String, Value>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SearchPage {
    /// The cursor to follow, or `None` when this page ends the result.
    pub fn next(&self) -> Option<&str> {
        if self.is_last == Some(true) {
            return None;
        }
        self.next_page_token.as_deref().filter(|t| !t.is_empty())
    }
}

/// `POST /search/approximate-count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct ApproximateCount {
    /// The approximate number of matching issues.
    pub count: u64,
}

/// `POST /jql/parse`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ParsedJqlQueries {
    /// One result per query, in order.
    #[serde(default)]
    pub queries: Vec<ParsedJqlQuery>,
}

/// One parsed query.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ParsedJqlQuery {
    /// The query as sent.
    #[serde(default)]
    pub query: Option<String>,
    /// The abstract syntax tree (absent when validation fails), raw.
    #[serde(default)]
    pub structure: Option<Value>,
    /// Validation errors.
    #[serde(default)]
    pub errors: Vec<String>,
    /// Validation warnings.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// `POST /jql/match`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct JqlMatches {
    /// One result per JQL, in order.
    #[serde(default)]
    pub matches: Vec<JqlMatch>,
}

/// The issues of the request that one JQL matched.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JqlMatch {
    /// Matched issue ids.
    #[serde(default)]
    pub matched_issues: Vec<IssueId>,
    /// Errors for this JQL.
    #[serde(default)]
    pub errors: Vec<String>,
}
