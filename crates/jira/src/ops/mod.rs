//! Operations, one module per area, each a handler of octocrab-style builders on [`JiraClient`]
//! (`client.issues().create(..).send()`). See [`crate::client`] for how an operation is written.

pub mod attachments;
pub mod changelog;
pub mod comments;
pub mod fields;
pub mod groups;
pub mod issue_meta;
pub mod issues;
pub mod jql;
pub mod links;
pub mod myself;
pub(crate) mod pages;
pub mod projects;
pub mod properties;
pub mod search;
pub mod users;
pub mod watchers;
pub mod webhooks;

use crate::client::JiraClient;

impl JiraClient {
    /// Issue operations.
    pub fn issues(&self) -> issues::IssueHandler<'_> {
        issues::IssueHandler { client: self }
    }

    /// JQL search (`/search/jql`, `/search/approximate-count`).
    pub fn search(&self) -> search::SearchHandler<'_> {
        search::SearchHandler { client: self }
    }

    /// JQL parsing and matching (`/jql/parse`, `/jql/match`).
    pub fn jql(&self) -> jql::JqlHandler<'_> {
        jql::JqlHandler { client: self }
    }

    /// `GET /myself`: the user the token acts for (the Test Connection call).
    pub fn myself(&self) -> myself::GetMyself<'_> {
        myself::GetMyself::new(self)
    }

    /// `GET /serverInfo`: site base URL, version and server time (for clock-skew checks).
    pub fn server_info(&self) -> myself::GetServerInfo<'_> {
        myself::GetServerInfo::new(self)
    }
}
