//! Issue operations: create, get, edit, delete (`/issue`, `/issue/{issueIdOrKey}`), and the
//! [`IssueUpdateDetails`] body that create, edit and do-transition share. Rich-text fields Jira
//! requires as ADF (`description`, `environment`) are converted (`description(markdown)`) or
//! checked before sending, so a plain string never reaches Jira, which would answer 400
//! "Operation value must be an Atlassian Document".

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::adf::RichText;
use crate::client::{ApiRequest, Idempotency, JiraClient};
use crate::error::{Error, Result};
use crate::ids::{AccountId, IssueRef, ProjectRef, TransitionId};
use crate::wire::issue::{CreatedIssue, IssueBean};

/// System fields whose value must be an ADF document in REST v3.
const ADF_SYSTEM_FIELDS: &[&str] = &["description", "environment"];

/// The body of create, edit and do-transition. Our own input type: unknown members are rejected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueUpdateDetails {
    /// Plain field values by field id.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    /// Field operations by field id (`{"labels": [{"add": "x"}]}`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub update: Map<String, Value>,
    /// Entity properties to set in the same call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<EntityProperty>,
    /// A transition to apply (create and do-transition only; edit ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<TransitionRef>,
}

/// An entity property `{key, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityProperty {
    /// Property key (≤ 255 chars).
    pub key: String,
    /// Any non-empty JSON (≤ 32 768 chars serialized).
    pub value: Value,
}

/// `{"id": ..}` of a transition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRef {
    /// Transition id.
    pub id: TransitionId,
}

/// Whether `value` looks like an ADF document (`{"type":"doc","version":1,"content":[..]}`).
pub fn is_adf_doc(value: &Value) -> bool {
    value.get("type").and_then(Value::as_str) == Some("doc")
        && value.get("content").is_some_and(Value::is_array)
}

impl IssueUpdateDetails {
    /// Checks what Jira would reject: a field in both `fields` and `update`, non-ADF rich text,
    /// oversized properties.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if let Some(both) = self.fields.keys().find(|k| self.update.contains_key(*k)) {
            return Err(Error::InvalidInput(format!(
                "field {both:?} appears in both `fields` and `update`"
            )));
        }
        for field in ADF_SYSTEM_FIELDS {
            match self.fields.get(*field) {
                Some(Value::Null) | None => {}
                Some(value) if is_adf_doc(value) => {}
                Some(_) => {
                    return Err(Error::InvalidInput(format!(
                        "field {field:?} must be an Atlassian Document (ADF), not a plain value"
                    )));
                }
            }
        }
        for property in &self.properties {
            if property.key.is_empty() || property.key.chars().count() > 255 {
                return Err(Error::InvalidInput(format!(
                    "property key {:?} must have 1 to 255 characters",
                    property.key
                )));
            }
            let size = serde_json::to_string(&property.value).map_or(0, |s| s.chars().count());
            if size > 32_768 {
                return Err(Error::InvalidInput(format!(
                    "property {:?} is {size} characters; Jira allows 32768",
                    property.key
                )));
            }
        }
        Ok(())
    }
}

/// Issue operations (`client.issues()`).
#[derive(Debug, Clone, Copy)]
pub struct IssueHandler<'c> {
    pub(crate) client: &'c JiraClient,
}

impl<'c> IssueHandler<'c> {
    /// `POST /issue`: a new issue in `project` (id or key) of `issue_type` (id, or name when not
    /// numeric) with `summary`.
    pub fn create(
        &self,
        project: impl Into<ProjectRef>,
        issue_type: impl Into<String>,
        summary: impl Into<String>,
    ) -> CreateIssue<'c> {
        let project = project.into();
        let issue_type = issue_type.into();
        let mut body = IssueUpdateDetails::default();
        body.fields
            .insert("project".into(), id_or(project.as_str(), "key"));
        body.fields
            .insert("issuetype".into(), id_or(&issue_type, "name"));
        body.fields
            .insert("summary".into(), Value::String(summary.into()));
        CreateIssue {
            client: self.client,
            body,
            invalid: None,
            update_history: None,
            idempotency: Idempotency::Never,
        }
    }

    /// `GET /issue/{issueIdOrKey}`.
    pub fn get(&self, issue: impl Into<IssueRef>) -> GetIssue<'c> {
        GetIssue {
            client: self.client,
            issue: issue.into(),
            fields: Vec::new(),
            expand: Vec::new(),
            properties: Vec::new(),
        }
    }

    /// `PUT /issue/{issueIdOrKey}`.
    pub fn edit(&self, issue: impl Into<IssueRef>) -> EditIssue<'c> {
        EditIssue {
            client: self.client,
            issue: issue.into(),
            body: IssueUpdateDetails::default(),
            invalid: None,
            notify_users: None,
            return_issue: false,
            expand: Vec::new(),
        }
    }

    /// `DELETE /issue/{issueIdOrKey}`.
    pub fn delete(&self, issue: impl Into<IssueRef>) -> DeleteIssue<'c> {
        DeleteIssue {
            client: self.client,
            issue: issue.into(),
            delete_subtasks: false,
        }
    }
}

/// `{"id": s}` when `s` is numeric, else `{other: s}`.
fn id_or(value: &str, other: &str) -> Value {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "id": value })
    } else {
        json!({ other: value })
    }
}

/// The setters of every builder whose body is an [`IssueUpdateDetails`] (create, edit and
/// do-transition): raw fields, field operations, properties, and the body for snapshots.
macro_rules! update_details_setters {
    () => {
        /// Sets a field's plain value (custom fields by `customfield_NNNNN`).
        pub fn field(mut self, field_id: impl Into<String>, value: impl Into<Value>) -> Self {
            self.body.fields.insert(field_id.into(), value.into());
            self
        }

        /// Adds field operations (`[{"add": "x"}]`) for `field_id`.
        pub fn update(mut self, field_id: impl Into<String>, operations: Value) -> Self {
            self.body.update.insert(field_id.into(), operations);
            self
        }

        /// Sets an entity property in the same call.
        pub fn property(mut self, key: impl Into<String>, value: Value) -> Self {
            self.body.properties.push(EntityProperty {
                key: key.into(),
                value,
            });
            self
        }

        /// The body as it will be sent (for snapshots and logs of shapes, never of values).
        pub fn body(&self) -> &IssueUpdateDetails {
            &self.body
        }
    };
}
pub(crate) use update_details_setters;

/// The create and edit setters: [`update_details_setters`] plus the description (checked or
/// converted to ADF, so these builders carry an `invalid` slot), people, labels and a whole body.
macro_rules! body_setters {
    () => {
        update_details_setters!();

        /// Sets the description: Markdown or plain text is converted to ADF, an ADF document is
        /// checked (an invalid one fails `send` before anything is sent).
        pub fn description(mut self, text: impl Into<RichText>) -> Self {
            match text.into().into_adf() {
                Ok(doc) => self.field("description", doc),
                Err(error) => {
                    self.invalid.get_or_insert(error);
                    self
                }
            }
        }

        /// Sets the assignee.
        pub fn assignee(self, account: &AccountId) -> Self {
            self.field("assignee", json!({ "accountId": account }))
        }

        /// Sets the labels (replacing existing ones).
        pub fn labels<I, S>(self, labels: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            let labels: Vec<Value> = labels.into_iter().map(|l| Value::String(l.into())).collect();
            self.field("labels", Value::Array(labels))
        }

        /// Replaces the whole body.
        pub fn details(mut self, details: IssueUpdateDetails) -> Self {
            self.body = details;
            self
        }
    };
}

/// `POST /issue`.
#[must_use]
pub struct CreateIssue<'c> {
    client: &'c JiraClient,
    body: IssueUpdateDetails,
    invalid: Option<Error>,
    update_history: Option<bool>,
    idempotency: Idempotency,
}

impl CreateIssue<'_> {
    body_setters!();

    /// Applies a transition right after create (its outcome is in `CreatedIssue::transition`).
    pub fn transition(mut self, id: impl Into<TransitionId>) -> Self {
        self.body.transition = Some(TransitionRef { id: id.into() });
        self
    }

    /// `updateHistory`: add the project to the user's recently viewed list.
    pub fn update_history(mut self, update: bool) -> Self {
        self.update_history = Some(update);
        self
    }

    /// How to retry after an ambiguous failure (default: never, as a blind retry can create a
    /// duplicate). Pass `Idempotency::Verify(check)` with a lookup of the issue to allow retries.
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before sending; 400 with `field_errors()` for rejected fields.
    pub async fn send(self) -> Result<CreatedIssue> {
        if let Some(error) = self.invalid {
            return Err(error);
        }
        self.body.validate()?;
        let request = ApiRequest::post("/issue")
            .query_opt("updateHistory", self.update_history)
            .json(&self.body)?
            .idempotency(self.idempotency);
        self.client.send(request).await?.json()
    }
}

/// `GET /issue/{issueIdOrKey}`.
#[must_use]
pub struct GetIssue<'c> {
    client: &'c JiraClient,
    issue: IssueRef,
    fields: Vec<String>,
    expand: Vec<String>,
    properties: Vec<String>,
}

impl GetIssue<'_> {
    /// Restricts the returned fields (`*all`, `*navigable`, ids; `-id` excludes).
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Adds an expansion (`renderedFields`, `names`, `schema`, `transitions`, `editmeta`,
    /// `changelog`, ...).
    pub fn expand(mut self, expand: impl Into<String>) -> Self {
        self.expand.push(expand.into());
        self
    }

    /// Returns the entity property `key` in `properties`.
    pub fn property(mut self, key: impl Into<String>) -> Self {
        self.properties.push(key.into());
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// `is_not_found()` when the issue does not exist or the user may not see it.
    pub async fn send(self) -> Result<IssueBean> {
        let join = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(","));
        let request = ApiRequest::get("/issue/{issueIdOrKey}")
            .param(&self.issue)
            .query_opt("fields", join(&self.fields))
            .query_opt("expand", join(&self.expand))
            .query_opt("properties", join(&self.properties));
        self.client.send(request).await?.json()
    }
}

/// `PUT /issue/{issueIdOrKey}`.
#[must_use]
pub struct EditIssue<'c> {
    client: &'c JiraClient,
    issue: IssueRef,
    body: IssueUpdateDetails,
    invalid: Option<Error>,
    notify_users: Option<bool>,
    return_issue: bool,
    expand: Vec<String>,
}

impl EditIssue<'_> {
    body_setters!();

    /// `notifyUsers=false` (silently ignored by Jira without admin rights).
    pub fn notify_users(mut self, notify: bool) -> Self {
        self.notify_users = Some(notify);
        self
    }

    /// `returnIssue=true`: the answer carries the edited issue (saves a GET).
    pub fn return_issue(mut self) -> Self {
        self.return_issue = true;
        self
    }

    /// Expansion of the returned issue.
    pub fn expand(mut self, expand: impl Into<String>) -> Self {
        self.expand.push(expand.into());
        self
    }

    /// Sends the request; `Some(issue)` with [`return_issue`](Self::return_issue).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or invalid body (a transition in an edit body is
    /// ignored by Jira, so it is refused here); 400/404/409 from Jira.
    pub async fn send(self) -> Result<Option<IssueBean>> {
        if let Some(error) = self.invalid {
            return Err(error);
        }
        if self.body.transition.is_some() {
            return Err(Error::InvalidInput(
                "edit ignores transitions; use issues().do_transition()".into(),
            ));
        }
        if self.body.fields.is_empty()
            && self.body.update.is_empty()
            && self.body.properties.is_empty()
        {
            return Err(Error::InvalidInput("nothing to edit".into()));
        }
        self.body.validate()?;
        let mut request = ApiRequest::put("/issue/{issueIdOrKey}")
            .param(&self.issue)
            .issue_scope(self.issue.clone())
            .query_opt("notifyUsers", self.notify_users)
            .json(&self.body)?;
        if self.return_issue {
            request = request.query("returnIssue", true);
            if !self.expand.is_empty() {
                request = request.query("expand", self.expand.join(","));
            }
        }
        let response = self.client.send(request).await?;
        if response.bytes().is_empty() {
            return Ok(None);
        }
        response.json().map(Some)
    }
}

/// `DELETE /issue/{issueIdOrKey}`.
#[must_use]
pub struct DeleteIssue<'c> {
    client: &'c JiraClient,
    issue: IssueRef,
    delete_subtasks: bool,
}

impl DeleteIssue<'_> {
    /// Also delete sub-tasks (otherwise an issue with sub-tasks is refused with 400).
    pub fn delete_subtasks(mut self) -> Self {
        self.delete_subtasks = true;
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// 400 (has sub-tasks), 403, 404.
    pub async fn send(self) -> Result<()> {
        let request = ApiRequest::delete("/issue/{issueIdOrKey}")
            .param(&self.issue)
            .issue_scope(self.issue.clone())
            .query_opt("deleteSubtasks", self.delete_subtasks.then_some(true));
        self.client.send(request).await.map(|_| ())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_are_refused_where_jira_requires_adf() {
        let mut body = IssueUpdateDetails::default();
        body.fields.insert("description".into(), json!("plain"));
        assert!(matches!(body.validate(), Err(Error::InvalidInput(_))));
        body.fields.insert(
            "description".into(),
            json!({"type":"doc","version":1,"content":[]}),
        );
        assert!(body.validate().is_ok());
    }

    #[test]
    fn a_field_may_not_be_both_set_and_updated() {
        let mut body = IssueUpdateDetails::default();
        body.fields.insert("labels".into(), json!(["a"]));
        body.update.insert("labels".into(), json!([{"add": "b"}]));
        assert!(body.validate().is_err());
    }

    #[test]
    fn our_input_type_rejects_unknown_members() {
        let parsed: std::result::Result<IssueUpdateDetails, _> =
            serde_json::from_value(json!({"fields": {}, "transitions": {"id": "1"}}));
        assert!(parsed.is_err());
    }

    #[test]
    fn numeric_references_become_ids_and_others_keys_or_names() {
        assert_eq!(id_or("10001", "name"), json!({"id": "10001"}));
        assert_eq!(id_or("Task", "name"), json!({"name": "Task"}));
    }
}
