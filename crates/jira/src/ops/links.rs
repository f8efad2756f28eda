//! Issue links and link types. Creating a link answers 201 with an empty body and no link id
//! (read the issue's `issuelinks` to find it); Jira reports a duplicate link as created. The
//! outward issue is the "from" side (`A blocks B`: A outward, B inward) and receives the
//! optional comment.

use serde::Serialize;
use serde_json::Value;

use crate::adf::RichText;
use crate::client::{ApiRequest, JiraClient};
use crate::error::Result;
use crate::ids::{IssueLinkId, IssueLinkTypeId, IssueRef};
use crate::wire::comment::Visibility;
use crate::wire::link::{IssueLink, IssueLinkType, IssueLinkTypes};

/// A link type named by name (`Blocks`) or id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LinkTypeRef {
    /// By name.
    #[serde(rename = "name")]
    Name(String),
    /// By id.
    #[serde(rename = "id")]
    Id(IssueLinkTypeId),
}

/// An issue in a link body: `{"id": ..}` for numeric references, `{"key": ..}` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
enum IssueSide {
    #[serde(rename = "id")]
    Id(String),
    #[serde(rename = "key")]
    Key(String),
}

impl From<&IssueRef> for IssueSide {
    fn from(issue: &IssueRef) -> Self {
        let text = issue.as_str();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            Self::Id(text.to_owned())
        } else {
            Self::Key(text.to_owned())
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct LinkComment {
    #[serde(skip)]
    text: RichText,
    body: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<Visibility>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkBody {
    #[serde(rename = "type")]
    link_type: LinkTypeRef,
    inward_issue: IssueSide,
    outward_issue: IssueSide,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<LinkComment>,
}

/// Issue link operations: `client.issue_links()`.
#[derive(Debug, Clone, Copy)]
pub struct IssueLinks<'c> {
    client: &'c JiraClient,
}

impl JiraClient {
    /// Issue link and link type operations.
    pub fn issue_links(&self) -> IssueLinks<'_> {
        IssueLinks { client: self }
    }
}

impl<'c> IssueLinks<'c> {
    /// `POST /issueLink`: `outward` —`link_type`→ `inward` (e.g. `outward` blocks `inward`).
    pub fn create(
        self,
        link_type: LinkTypeRef,
        outward: impl Into<IssueRef>,
        inward: impl Into<IssueRef>,
    ) -> CreateLink<'c> {
        CreateLink {
            client: self.client,
            link_type,
            outward: outward.into(),
            inward: inward.into(),
            comment: None,
        }
    }

    /// `GET /issueLink/{id}`.
    ///
    /// # Errors
    /// 404 for a missing link or one between hidden issues.
    pub async fn get(self, id: impl Into<IssueLinkId>) -> Result<IssueLink> {
        let request = ApiRequest::get("/issueLink/{linkId}").param(id.into());
        self.client.send(request).await?.json()
    }

    /// `DELETE /issueLink/{id}`.
    ///
    /// # Errors
    /// 404 for a missing link.
    pub async fn delete(self, id: impl Into<IssueLinkId>) -> Result<()> {
        let request = ApiRequest::delete("/issueLink/{linkId}").param(id.into());
        self.client.send(request).await?;
        Ok(())
    }

    /// `GET /issueLinkType`.
    ///
    /// # Errors
    /// 404 when linking is disabled.
    pub async fn types(self) -> Result<Vec<IssueLinkType>> {
        let types: IssueLinkTypes = self
            .client
            .send(ApiRequest::get("/issueLinkType"))
            .await?
            .json()?;
        Ok(types.issue_link_types)
    }

    /// `GET /issueLinkType/{id}`.
    ///
    /// # Errors
    /// 404 for an unknown type.
    pub async fn link_type(self, id: impl Into<IssueLinkTypeId>) -> Result<IssueLinkType> {
        let request = ApiRequest::get("/issueLinkType/{issueLinkTypeId}").param(id.into());
        self.client.send(request).await?.json()
    }
}

/// `POST /issueLink`.
#[must_use]
#[derive(Debug, Clone)]
pub struct CreateLink<'c> {
    client: &'c JiraClient,
    link_type: LinkTypeRef,
    outward: IssueRef,
    inward: IssueRef,
    comment: Option<LinkComment>,
}

impl CreateLink<'_> {
    /// Adds a comment (Markdown, plain text or ADF; sent as ADF) to the outward issue in the
    /// same request.
    pub fn comment(mut self, body: impl Into<RichText>) -> Self {
        self.comment = Some(LinkComment {
            text: body.into(),
            body: Value::Null,
            visibility: None,
        });
        self
    }

    /// Restricts the comment (ignored without [`comment`](Self::comment)).
    pub fn comment_visibility(mut self, visibility: Visibility) -> Self {
        if let Some(comment) = &mut self.comment {
            comment.visibility = Some(visibility);
        }
        self
    }

    /// The request this builder sends.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] for a malformed ADF comment.
    pub fn request(&self) -> Result<ApiRequest> {
        let comment = match &self.comment {
            Some(comment) => Some(LinkComment {
                body: comment.text.clone().into_adf()?,
                ..comment.clone()
            }),
            None => None,
        };
        let body = LinkBody {
            link_type: self.link_type.clone(),
            inward_issue: IssueSide::from(&self.inward),
            outward_issue: IssueSide::from(&self.outward),
            comment,
        };
        // Default idempotency (POST: not repeated after an ambiguous failure), because a repeated
        // request would add its comment twice even though the link itself is deduplicated.
        ApiRequest::post("/issueLink")
            .issue_scope(self.outward.clone())
            .json(&body)
    }

    /// Sends the request.
    ///
    /// # Errors
    /// 400 when the comment could not be created (no link is made then); 404 when linking is
    /// disabled, an issue or the type is unknown or hidden; 413 at the per-issue link limit.
    pub async fn send(self) -> Result<()> {
        self.client.send(self.request()?).await?;
        Ok(())
    }
}
