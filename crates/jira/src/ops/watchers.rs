//! Watchers of an issue: list, add, remove. Adding takes a bare JSON string (`"accountId"`,
//! quotes included) as its body; an object is rejected by Jira, so the body is never one.

use crate::client::{ApiRequest, Idempotency, JiraClient};
use crate::error::Result;
use crate::ids::{AccountId, IssueRef};
use crate::wire::watcher::Watchers;

/// Watcher operations of one issue: `client.watchers(issue)`.
#[derive(Debug, Clone)]
pub struct WatcherOps<'c> {
    client: &'c JiraClient,
    issue: IssueRef,
}

impl JiraClient {
    /// Watcher operations of `issue`.
    pub fn watchers(&self, issue: impl Into<IssueRef>) -> WatcherOps<'_> {
        WatcherOps {
            client: self,
            issue: issue.into(),
        }
    }
}

impl WatcherOps<'_> {
    /// `GET /issue/{issue}/watchers`.
    ///
    /// # Errors
    /// 404 for a missing or hidden issue.
    pub async fn list(&self) -> Result<Watchers> {
        let request = ApiRequest::get("/issue/{issueIdOrKey}/watchers").param(&self.issue);
        self.client.send(request).await?.json()
    }

    /// The request [`add`](Self::add) sends.
    ///
    /// # Errors
    /// Never in practice (a string always serializes).
    pub fn add_request(&self, account: &AccountId) -> Result<ApiRequest> {
        // Adding a watcher twice leaves one watcher: safe to repeat.
        ApiRequest::post("/issue/{issueIdOrKey}/watchers")
            .param(&self.issue)
            .issue_scope(self.issue.clone())
            .idempotency(Idempotency::RetrySafe)
            .json(account.as_str())
    }

    /// `POST /issue/{issue}/watchers`: adds `account` as a watcher.
    ///
    /// # Errors
    /// 403 without Manage Watcher List (for others); 404 for a hidden issue or unknown user.
    pub async fn add(&self, account: impl Into<AccountId>) -> Result<()> {
        let request = self.add_request(&account.into())?;
        self.client.send(request).await?;
        Ok(())
    }

    /// `DELETE /issue/{issue}/watchers?accountId=`: removes `account`.
    ///
    /// # Errors
    /// 403 without permission; 404 for a hidden issue or unknown user.
    pub async fn remove(&self, account: impl Into<AccountId>) -> Result<()> {
        let request = ApiRequest::delete("/issue/{issueIdOrKey}/watchers")
            .param(&self.issue)
            .query("accountId", account.into())
            .issue_scope(self.issue.clone());
        self.client.send(request).await?;
        Ok(())
    }
}
