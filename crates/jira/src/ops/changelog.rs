//! Issue change history in bulk: `POST /changelog/bulkfetch` (cursor paged, up to 1000 issues
//! and 10 field ids per request), merged per issue, oldest history first.
//!
//! # Invariants
//! - The issue list and field filter are identical on every page; only `nextPageToken` changes.
//! - A `nextPageToken` seen before ends with [`Error::Pagination`] instead of looping.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{ApiRequest, Idempotency, JiraClient};
use crate::error::{Error, Result};
use crate::time::Timestamp;
use crate::wire::user::UserDetails;
pub use crate::wire::webhook_event::ChangeItem;

/// Most issues one bulk fetch may name.
pub const BULK_MAX_ISSUES: usize = 1000;
/// Most field ids one bulk fetch may filter by.
pub const BULK_MAX_FIELDS: usize = 10;

/// Changelog operations: `client.changelogs()`.
#[derive(Debug, Clone, Copy)]
pub struct Changelogs<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// Changelog operations.
    pub fn changelogs(&self) -> Changelogs<'_> {
        Changelogs { client: self }
    }
}

impl<'c> Changelogs<'c> {
    /// `POST /changelog/bulkfetch` for these issues (ids or keys).
    pub fn bulk_fetch<I, S>(self, issues: I) -> BulkFetchChangelogs<'c>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        BulkFetchChangelogs {
            client: self.client,
            body: BulkBody {
                issue_ids_or_keys: issues.into_iter().map(Into::into).collect(),
                field_ids: Vec::new(),
                max_results: None,
                next_page_token: None,
            },
        }
    }
}

/// One change history: who changed what, when.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeHistory {
    /// History id (a string in v3; numbers are accepted).
    #[serde(default)]
    pub id: Option<Value>,
    /// Who made the change.
    #[serde(default)]
    pub author: Option<UserDetails>,
    /// When.
    #[serde(default, with = "crate::time::option")]
    pub created: Option<Timestamp>,
    /// The changed fields.
    #[serde(default)]
    pub items: Vec<ChangeItem>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One issue's histories in a bulk page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueChangelog {
    /// The issue id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub issue_id: String,
    /// Its histories on this page, oldest first.
    #[serde(default)]
    pub change_histories: Vec<ChangeHistory>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// A `BulkChangelogResponseBean` page.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkChangelogPage {
    /// Issues with histories on this page.
    #[serde(default)]
    pub issue_change_logs: Vec<IssueChangelog>,
    /// Cursor of the next page; absent on the last.
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// The `BulkChangelogRequestBean` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkBody {
    /// Issue ids or keys.
    pub issue_ids_or_keys: Vec<String>,
    /// Only histories touching these fields (their items reduced to them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub field_ids: Vec<String>,
    /// Histories per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
    /// Cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// `POST /changelog/bulkfetch`.
#[must_use]
#[derive(Debug, Clone)]
pub struct BulkFetchChangelogs<'c> {
    client: &'c JiraClient,
    body: BulkBody,
}

impl BulkFetchChangelogs<'_> {
    /// Keeps only histories (and their items) touching these field ids (at most ten).
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.body.field_ids = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Histories per page.
    pub fn max_results(mut self, max: u32) -> Self {
        self.body.max_results = Some(max);
        self
    }

    fn check(&self) -> Result<()> {
        if self.body.issue_ids_or_keys.is_empty() {
            return Err(Error::InvalidInput(
                "changelog bulk fetch needs at least one issue".into(),
            ));
        }
        if self.body.issue_ids_or_keys.len() > BULK_MAX_ISSUES {
            return Err(Error::InvalidInput(format!(
                "changelog bulk fetch takes at most {BULK_MAX_ISSUES} issues, got {}",
                self.body.issue_ids_or_keys.len()
            )));
        }
        if self.body.field_ids.len() > BULK_MAX_FIELDS {
            return Err(Error::InvalidInput(format!(
                "changelog bulk fetch filters by at most {BULK_MAX_FIELDS} fields, got {}",
                self.body.field_ids.len()
            )));
        }
        Ok(())
    }

    /// Follows every page and returns each issue's histories (oldest first), by issue id.
    /// Issues without histories (or hidden from the caller) are absent.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for too many issues or fields; Jira and transport errors;
    /// [`Error::Pagination`] when Jira repeats a cursor.
    pub async fn collect(self) -> Result<BTreeMap<String, Vec<ChangeHistory>>> {
        self.check()?;
        let mut body = self.body;
        let mut seen = HashSet::new();
        let mut out: BTreeMap<String, Vec<ChangeHistory>> = BTreeMap::new();
        loop {
            let request = ApiRequest::post("/changelog/bulkfetch")
                .json(&body)?
                .idempotency(Idempotency::RetrySafe);
            let page: BulkChangelogPage = self.client.send(request).await?.json()?;
            for log in page.issue_change_logs {
                out.entry(log.issue_id)
                    .or_default()
                    .extend(log.change_histories);
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                None => return Ok(out),
                Some(token) if !seen.insert(token.clone()) => {
                    return Err(Error::Pagination {
                        path: "/changelog/bulkfetch".into(),
                        message: format!("Jira repeated the nextPageToken {token:?}; stopping"),
                    });
                }
                Some(token) => body.next_page_token = Some(token),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Result<JiraClient> {
        JiraClient::builder("http://127.0.0.1:9/rest/api/3")
            .token_provider(crate::StaticToken::shared("t"))
            .build()
    }

    #[test]
    fn the_body_names_issues_and_fields_and_leaves_out_what_is_unset() -> Result<()> {
        let jira = client()?;
        let fetch = jira
            .changelogs()
            .bulk_fetch(["10001", "DEMO-2"])
            .fields(["status"])
            .max_results(500);
        let body =
            serde_json::to_value(&fetch.body).map_err(|e| Error::InvalidInput(e.to_string()))?;
        assert_eq!(
            body,
            serde_json::json!({
                "issueIdsOrKeys": ["10001", "DEMO-2"],
                "fieldIds": ["status"],
                "maxResults": 500,
            })
        );
        Ok(())
    }

    #[test]
    fn too_many_issues_or_fields_are_refused_before_sending() -> Result<()> {
        let jira = client()?;
        let ids: Vec<String> = (0..=BULK_MAX_ISSUES).map(|n| n.to_string()).collect();
        assert!(jira.changelogs().bulk_fetch(ids).check().is_err());
        let fields: Vec<String> = (0..=BULK_MAX_FIELDS).map(|n| format!("f{n}")).collect();
        assert!(
            jira.changelogs()
                .bulk_fetch(["1"])
                .fields(fields)
                .check()
                .is_err()
        );
        assert!(
            jira.changelogs()
                .bulk_fetch(Vec::<String>::new())
                .check()
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn a_page_accepts_numeric_issue_ids_and_epoch_times()
    -> std::result::Result<(), serde_json::Error> {
        let page: BulkChangelogPage = serde_json::from_value(serde_json::json!({
            "issueChangeLogs": [{"issueId": 10001, "changeHistories": [
                {"id": "5", "created": 1_768_653_240_000_i64, "items": [{"field": "status"}]}
            ]}],
        }))?;
        assert_eq!(page.issue_change_logs[0].issue_id, "10001");
        let created = page.issue_change_logs[0].change_histories[0].created;
        assert_eq!(
            created.map(|t| t.timestamp_millis()),
            Some(1_768_653_240_000)
        );
        assert!(page.next_page_token.is_none());
        Ok(())
    }
}
