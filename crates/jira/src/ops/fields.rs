//! The field catalog source: `GET /field`, every system and custom field the caller can see.
//! The field metadata cache ([`crate::fields`]) loads through this operation.

use crate::client::{ApiRequest, JiraClient};
use crate::error::Result;
use crate::fields::meta::FieldDetails;

/// Field operations: `client.fields()`.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// Field operations.
    pub fn fields(&self) -> Fields<'_> {
        Fields { client: self }
    }
}

impl Fields<'_> {
    /// `GET /field`: system fields, then custom fields.
    ///
    /// # Errors
    /// Transport and API errors.
    pub async fn list(self) -> Result<Vec<FieldDetails>> {
        self.client.send(ApiRequest::get("/field")).await?.json()
    }
}
