//! The client side of field metadata: [`JiraClient`] as a [`FieldSource`], catalogs fetched from
//! `GET /field` (plus createmeta for one project and issue type).

use std::future::Future;
use std::sync::Arc;

use crate::client::JiraClient;
use crate::error::{Error, Result};
use crate::ids::{IssueTypeId, ProjectRef};

use super::FieldCatalog;
use super::meta::{FieldCache, FieldDetails, FieldSource};

impl FieldSource for JiraClient {
    type Error = Error;

    fn fetch_fields(&self) -> impl Future<Output = Result<Vec<FieldDetails>>> + Send {
        self.fields().list()
    }
}

impl FieldCatalog {
    /// The site's catalog: `GET /field`.
    ///
    /// # Errors
    /// Transport and API errors of the request.
    pub async fn fetch(client: &JiraClient) -> Result<FieldCatalog> {
        Ok(FieldCatalog::from_fields(client.fields().list().await?))
    }

    /// The site's catalog with the create screen of `issue_type` in `project` merged in (required
    /// flags and allowed values, so options are checked before the create is sent).
    ///
    /// # Errors
    /// Transport and API errors of either request (404 for an unknown project).
    pub async fn fetch_for_create(
        client: &JiraClient,
        project: impl Into<ProjectRef>,
        issue_type: impl Into<IssueTypeId>,
    ) -> Result<FieldCatalog> {
        let fields = client.fields().list().await?;
        let screen = client
            .issues()
            .createmeta_fields(project, issue_type)
            .await?;
        Ok(FieldCatalog::from_fields(fields).with_metadata(&screen))
    }
}

impl FieldCache {
    /// The catalog of `client`'s site, keyed by its API base URL (which carries the cloud id).
    ///
    /// # Errors
    /// The fetch error when the cache has no fresh entry.
    pub async fn catalog(&self, client: &JiraClient) -> Result<Arc<FieldCatalog>> {
        self.get_or_fetch(client.api_base(), client).await
    }
}
