//! Test Connection: `GET /myself` (who the token acts for) and `GET /serverInfo`.

use crate::client::{ApiRequest, JiraClient};
use crate::error::Result;
use crate::wire::user::{ServerInfo, User};

/// `GET /myself`.
#[must_use]
pub struct GetMyself<'c> {
    client: &'c JiraClient,
    expand: Vec<&'static str>,
}

impl<'c> GetMyself<'c> {
    pub(crate) fn new(client: &'c JiraClient) -> Self {
        Self {
            client,
            expand: Vec::new(),
        }
    }

    /// Adds the user's groups (`expand=groups`).
    pub fn with_groups(mut self) -> Self {
        self.expand.push("groups");
        self
    }

    /// Adds the user's application roles (`expand=applicationRoles`).
    pub fn with_application_roles(mut self) -> Self {
        self.expand.push("applicationRoles");
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// 401 (`needs_reauth`) for a bad token; a scope error without `read:jira-user`.
    pub async fn send(self) -> Result<User> {
        let mut request = ApiRequest::get("/myself");
        if !self.expand.is_empty() {
            request = request.query("expand", self.expand.join(","));
        }
        self.client.send(request).await?.json()
    }
}

/// `GET /serverInfo`.
#[must_use]
pub struct GetServerInfo<'c> {
    client: &'c JiraClient,
}

impl<'c> GetServerInfo<'c> {
    pub(crate) fn new(client: &'c JiraClient) -> Self {
        Self { client }
    }

    /// Sends the request.
    ///
    /// # Errors
    /// Transport and API errors.
    pub async fn send(self) -> Result<ServerInfo> {
        self.client
            .send(ApiRequest::get("/serverInfo"))
            .await?
            .json()
    }
}
