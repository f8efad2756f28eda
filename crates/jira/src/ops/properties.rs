//! Entity properties of issues and comments: list keys, get, set (`PUT`: 201 for a new key, 200
//! for a replaced one, reported as [`PropertyWrite`]) and delete. Keys longer than 255 characters
//! and values longer than 32,768 characters once serialized are refused before sending, as Jira
//! would refuse them with a 400.

use reqwest::StatusCode;
use serde_json::Value;

use crate::client::{ApiRequest, JiraClient};
use crate::error::{Error, Result};
use crate::ids::{CommentId, IssueRef};
use crate::wire::property::{EntityProperty, PropertyKeys, PropertyWrite};

/// Longest property key Jira accepts.
pub const MAX_KEY_CHARS: usize = 255;
/// Longest serialized property value Jira accepts.
pub const MAX_VALUE_CHARS: usize = 32_768;

/// Checks a property against Jira's limits.
pub(crate) fn check_property(key: &str, value: &Value) -> Result<()> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(Error::InvalidInput(format!(
            "a property key must have 1 to {MAX_KEY_CHARS} characters"
        )));
    }
    let serialized = serde_json::to_string(value)
        .map_err(|e| Error::InvalidInput(format!("property value does not serialize: {e}")))?;
    let chars = serialized.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Err(Error::InvalidInput(format!(
            "property {key:?} has {chars} characters; Jira accepts at most {MAX_VALUE_CHARS}"
        )));
    }
    Ok(())
}

/// Which entity the properties belong to.
#[derive(Debug, Clone)]
enum Entity {
    Issue(IssueRef),
    Comment(CommentId),
}

impl Entity {
    fn collection(&self) -> ApiRequest {
        match self {
            Self::Issue(issue) => ApiRequest::get("/issue/{issueIdOrKey}/properties").param(issue),
            Self::Comment(id) => ApiRequest::get("/comment/{commentId}/properties").param(id),
        }
    }

    fn item(&self, method: reqwest::Method, key: &str) -> ApiRequest {
        match self {
            Self::Issue(issue) => {
                ApiRequest::new(method, "/issue/{issueIdOrKey}/properties/{propertyKey}")
                    .param(issue)
                    .param(key)
                    .issue_scope(issue.clone())
            }
            Self::Comment(id) => {
                ApiRequest::new(method, "/comment/{commentId}/properties/{propertyKey}")
                    .param(id)
                    .param(key)
            }
        }
    }
}

/// Property operations of one issue or comment: `client.issue_properties(..)`,
/// `client.comment_properties(..)`.
#[derive(Debug, Clone)]
pub struct Properties<'c> {
    client: &'c JiraClient,
    entity: Entity,
}

impl JiraClient {
    /// Properties of an issue.
    pub fn issue_properties(&self, issue: impl Into<IssueRef>) -> Properties<'_> {
        Properties {
            client: self,
            entity: Entity::Issue(issue.into()),
        }
    }

    /// Properties of a comment.
    pub fn comment_properties(&self, comment: impl Into<CommentId>) -> Properties<'_> {
        Properties {
            client: self,
            entity: Entity::Comment(comment.into()),
        }
    }
}

impl Properties<'_> {
    /// `GET .../properties`: the keys set on the entity.
    ///
    /// # Errors
    /// 404 for a missing or hidden entity.
    pub async fn keys(&self) -> Result<Vec<String>> {
        let keys: PropertyKeys = self.client.send(self.entity.collection()).await?.json()?;
        Ok(keys.keys.into_iter().map(|k| k.key).collect())
    }

    /// `GET .../properties/{key}`.
    ///
    /// # Errors
    /// 404 (`is_not_found`) when the key is not set, or the entity is missing or hidden.
    pub async fn get(&self, key: &str) -> Result<EntityProperty> {
        let request = self.entity.item(reqwest::Method::GET, key);
        self.client.send(request).await?.json()
    }

    /// `GET .../properties/{key}`, with a missing key as `None`.
    ///
    /// # Errors
    /// As [`get`](Self::get), except a 404.
    pub async fn get_opt(&self, key: &str) -> Result<Option<EntityProperty>> {
        match self.get(key).await {
            Ok(property) => Ok(Some(property)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The `PUT` request [`set`](Self::set) sends.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the key or value exceeds Jira's limits.
    pub fn set_request(&self, key: &str, value: &Value) -> Result<ApiRequest> {
        check_property(key, value)?;
        self.entity.item(reqwest::Method::PUT, key).json(value)
    }

    /// `PUT .../properties/{key}`: sets the value (any JSON).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] over Jira's limits; 403 without edit permission; 404 for a
    /// missing or hidden entity.
    pub async fn set(&self, key: &str, value: &Value) -> Result<PropertyWrite> {
        let response = self.client.send(self.set_request(key, value)?).await?;
        Ok(if response.status() == StatusCode::CREATED {
            PropertyWrite::Created
        } else {
            PropertyWrite::Updated
        })
    }

    /// `DELETE .../properties/{key}`.
    ///
    /// # Errors
    /// 404 when the key is not set.
    pub async fn delete(&self, key: &str) -> Result<()> {
        let request = self.entity.item(reqwest::Method::DELETE, key);
        self.client.send(request).await?;
        Ok(())
    }
}
