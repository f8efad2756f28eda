//! The issue actions: `create_issue`, `update_issue`, `get_issues` and `test_connection`.
//!
//! Fields are addressed by name or id and coerced through the site's field catalogue
//! ([`FieldCatalog`](jiraflow_jira::fields::FieldCatalog)), so a flow can write `"Story Points": "5"` instead of
//! `"customfield_10016": 5`. Rich text (the description) is Markdown or ADF; people are account ids
//! or e-mail addresses, which are resolved through the user search before anything is written.

mod support;

use futures_util::{StreamExt, TryStreamExt};
use jiraflow_jira::adf::RichText;
use jiraflow_jira::ids::{IssueRef, ProjectRef};
use jiraflow_jira::ops::issues::CreateIssue;
use jiraflow_jira::wire::issue::IssueBean;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use super::people::{TaggedUser, UserInput};
use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, output, upserts};
use crate::flow::Action;
pub(crate) use support::{READ, WRITE, client_error, jira_error};
use support::{USER, coerce_fields, insert_unique};

/// Most issues one `get_issues` call returns.
pub const MAX_ISSUES: usize = 10_000;
/// Issues `get_issues` returns when the input sets no limit.
pub const DEFAULT_LIMIT: usize = 1_000;
/// Page size asked of Jira while streaming a search (Jira caps pages at 100 anyway).
const PAGE_SIZE: u32 = 100;

/// Input of `create_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CreateIssueInput {
    /// The project: its key (`DEMO`) or numeric id.
    pub project: String,
    /// The issue type: its name (`Task`) or numeric id.
    pub issue_type: String,
    /// The summary (one line).
    pub summary: String,
    /// The description: Markdown text or an ADF document.
    #[serde(default)]
    pub description: Option<Value>,
    /// Further fields by name or id (`"Story Points": 5`, `"customfield_10050": "bob@acme.example"`),
    /// coerced to the shape each field needs.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Labels (no spaces).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// The assignee: an account id or an e-mail address (a plain string, or `{account_id}` /
    /// `{email}`).
    #[serde(default)]
    pub assignee: Option<UserInput>,
}

/// Output of `create_issue`.
#[derive(Debug, Serialize)]
pub struct CreateIssueOutput {
    /// The new issue's numeric id.
    pub id: String,
    /// The new issue's key (`DEMO-42`).
    pub key: String,
    /// The REST link of the new issue.
    #[serde(rename = "self")]
    pub self_url: Option<String>,
}

/// Input of `update_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpdateIssueInput {
    /// The issue: its key (`DEMO-1`) or numeric id.
    pub issue: String,
    /// A new summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// A new description: Markdown text or an ADF document.
    #[serde(default)]
    pub description: Option<Value>,
    /// Further fields by name or id, coerced as in `create_issue` (`null` clears a field).
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// New labels (replacing the existing ones).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// A new assignee: an account id or an e-mail address (a plain string, or `{account_id}` /
    /// `{email}`).
    #[serde(default)]
    pub assignee: Option<UserInput>,
    /// The status the issue should end in (`Done`): reached through the transition leading there,
    /// nothing is done when the issue already has it.
    #[serde(default)]
    pub status: Option<String>,
}

/// Output of `update_issue`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIssueOutput {
    /// The issue's key.
    pub key: String,
    /// The ids of the fields that were sent (empty when only the status was asked for).
    pub changed_fields: Vec<String>,
    /// The issue's status after the update.
    pub status: Option<String>,
}

/// Input of `get_issues`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct GetIssuesInput {
    /// The JQL query; it must restrict the search (`project = DEMO`).
    pub jql: String,
    /// Fields to return: ids, `*all` or `*navigable` (default: summary, status, issue type,
    /// project, priority, assignee, reporter, labels, created, updated, resolution date, parent).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Most issues to return, 1 to 10 000 (default 1 000).
    #[serde(default)]
    #[schemars(range(min = 1, max = 10_000))]
    pub limit: Option<usize>,
}

/// Output of `get_issues`.
#[derive(Debug, Serialize)]
pub struct GetIssuesOutput {
    /// The issues, in the query's order.
    pub issues: Vec<IssueBean>,
    /// How many issues were returned.
    pub count: usize,
    /// Whether the query matched more issues than `limit`.
    pub truncated: bool,
}

/// Input of `test_connection` (no fields).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TestConnectionInput {}

/// Output of `test_connection`, in Jira's own names.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestConnectionOutput {
    /// The account the connection acts for.
    pub account_id: String,
    /// That account's display name.
    pub display_name: Option<String>,
    /// Jira's clock (RFC 3339), for skew checks.
    pub server_time: Option<String>,
    /// The site's base URL.
    pub base_url: String,
}

/// Runs `create_issue`. With a write key the issue carries the step's marker, and a repeat after
/// a lost answer returns the issue the first attempt created (outcome `unchanged`).
///
/// # Errors
/// Input errors with their path, unresolvable users and fields, and Jira's refusals.
pub async fn create_issue(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    const ACTION: Action = Action::CreateIssue;
    let input: CreateIssueInput = decode_input(&ctx, ACTION, input)?;
    let project = input.project.clone();
    let request = prepare_create(&ctx, ACTION, input).await?;
    let map_err = |e| client_error(&ctx, ACTION, WRITE, "input", e);
    let (outcome, created) = match ctx.write_key {
        None => (Outcome::Changed, request.send().await.map_err(map_err)?),
        Some(write_key) => {
            upserts::issue::create_once(&ctx, ACTION, &project, write_key, request, map_err).await?
        }
    };
    let out = CreateIssueOutput {
        id: created.id.into_string(),
        key: created.key.into_string(),
        self_url: created.self_url,
    };
    Ok(output(outcome, &out))
}

/// The create request for `input`, fields coerced and people resolved, not yet sent (so a caller
/// can mark it and choose how it is retried).
pub(crate) async fn prepare_create<'c>(
    ctx: &ActionContext<'c>,
    action: Action,
    input: CreateIssueInput,
) -> Result<CreateIssue<'c>, ActionError> {
    // A field set by its own input as well as in `fields` would be overwritten silently.
    let mut reserved = vec!["project", "issuetype", "summary"];
    for (id, given) in [
        ("description", input.description.is_some()),
        ("labels", input.labels.is_some()),
        ("assignee", input.assignee.is_some()),
    ] {
        if given {
            reserved.push(id);
        }
    }
    let fields = coerce_fields(ctx, action, input.fields, &reserved).await?;
    let mut request = ctx.jira.issues().create(
        ProjectRef::new(input.project),
        input.issue_type,
        input.summary,
    );
    for (id, value) in fields {
        request = request.field(id, value);
    }
    if let Some(description) = input.description {
        request = request.description(RichText::from(description));
    }
    if let Some(labels) = input.labels {
        request = request.labels(labels);
    }
    if let Some(assignee) = input.assignee {
        request = request.assignee(&assignee.resolve(ctx, action).await?);
    }
    Ok(request)
}

/// Runs `update_issue`.
///
/// # Errors
/// As `create_issue`; 404 for an unknown issue; a resolve error listing the available transitions
/// when none leads to the asked status.
pub async fn update_issue(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    const ACTION: Action = Action::UpdateIssue;
    let input: UpdateIssueInput = decode_input(&ctx, ACTION, input)?;
    let (outcome, out) = apply_update(&ctx, ACTION, input).await?;
    Ok(output(outcome, &out))
}

/// Applies an update to an existing issue (`update_issue`, and the update half of upserts).
pub(crate) async fn apply_update(
    ctx: &ActionContext<'_>,
    action: Action,
    input: UpdateIssueInput,
) -> Result<(Outcome, UpdateIssueOutput), ActionError> {
    // Read first: an unknown issue fails before anything is resolved, and the key and status
    // are needed for the output and for skipping a transition to the current status.
    let current = ctx
        .jira
        .issues()
        .get(IssueRef::new(input.issue.clone()))
        .fields(["status"])
        .send()
        .await
        .map_err(|e| jira_error(ctx, action, READ, e))?;
    let key = current
        .key
        .as_ref()
        .map_or_else(|| input.issue.clone(), |k| k.as_str().to_owned());
    let issue = IssueRef::new(key.clone());
    let mut status = current.fields.status.and_then(|s| s.name);

    let mut fields = coerce_fields(ctx, action, input.fields, &[]).await?;
    if let Some(summary) = input.summary {
        insert_unique(ctx, action, &mut fields, "summary", Value::String(summary))?;
    }
    if let Some(description) = input.description {
        let doc = RichText::from(description)
            .into_adf()
            .map_err(|e| client_error(ctx, action, WRITE, "input.description", e))?;
        insert_unique(ctx, action, &mut fields, "description", doc)?;
    }
    if let Some(labels) = input.labels {
        insert_unique(ctx, action, &mut fields, "labels", json!(labels))?;
    }
    if let Some(assignee) = input.assignee {
        let account = assignee.resolve(ctx, action).await?;
        let value = json!({ "accountId": account });
        insert_unique(ctx, action, &mut fields, "assignee", value)?;
    }

    let changed_fields: Vec<String> = fields.keys().cloned().collect();
    let mut outcome = Outcome::Unchanged;
    if !fields.is_empty() {
        let mut request = ctx.jira.issues().edit(issue.clone());
        for (id, value) in fields {
            request = request.field(id, value);
        }
        request
            .send()
            .await
            .map_err(|e| client_error(ctx, action, WRITE, "input.fields", e))?;
        outcome = Outcome::Changed;
    }

    if let Some(target) = input.status {
        let already = status
            .as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(target.trim()));
        if !already {
            status = Some(transition_to(ctx, action, &issue, &target).await?);
            outcome = Outcome::Changed;
        }
    }

    let out = UpdateIssueOutput {
        key,
        changed_fields,
        status,
    };
    Ok((outcome, out))
}

/// Runs `get_issues`: streams the search's pages until `limit` issues are read.
///
/// # Errors
/// An input error for a limit out of range or JQL that does not parse; Jira's refusals.
pub async fn get_issues(ctx: ActionContext<'_>, input: Value) -> Result<ActionOutput, ActionError> {
    const ACTION: Action = Action::GetIssues;
    let input: GetIssuesInput = decode_input(&ctx, ACTION, input)?;
    let limit = input.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_ISSUES).contains(&limit) {
        return Err(ActionError::input(
            &ctx,
            ACTION,
            "input.limit",
            format!("must be between 1 and {MAX_ISSUES}, got {limit}"),
        ));
    }
    let page_size = u32::try_from(limit + 1).map_or(PAGE_SIZE, |n| n.min(PAGE_SIZE));
    // One issue more than asked tells whether the result was cut off.
    let mut issues: Vec<IssueBean> = ctx
        .jira
        .search()
        .jql(input.jql)
        .fields(input.fields)
        .max_results(page_size)
        .issues()
        .take(limit + 1)
        .try_collect()
        .await
        .map_err(|e| client_error(&ctx, ACTION, READ, "input.jql", e))?;
    let truncated = issues.len() > limit;
    issues.truncate(limit);
    let out = GetIssuesOutput {
        count: issues.len(),
        issues,
        truncated,
    };
    Ok(output(Outcome::Unchanged, &out))
}

/// Runs `test_connection`: who the token acts for, and the site's clock and base URL.
///
/// # Errors
/// Jira's refusals (a revoked token, a missing `read:jira-user` scope).
pub async fn test_connection(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    const ACTION: Action = Action::TestConnection;
    // A step without input renders to `null` or `{}`; both mean "no fields".
    let input = if input.is_null() { json!({}) } else { input };
    let TestConnectionInput {} = decode_input(&ctx, ACTION, input)?;
    let me = ctx
        .jira
        .myself()
        .send()
        .await
        .map_err(|e| jira_error(&ctx, ACTION, USER, e))?;
    let info = ctx
        .jira
        .server_info()
        .send()
        .await
        .map_err(|e| ActionError::jira(&ctx, ACTION, e))?;
    let out = TestConnectionOutput {
        account_id: me.account_id.into_string(),
        display_name: me.display_name,
        server_time: info.server_time.map(|t| t.to_rfc3339()),
        base_url: info
            .base_url
            .unwrap_or_else(|| ctx.jira.api_base().to_owned()),
    };
    Ok(output(Outcome::Unchanged, &out))
}

/// Moves `issue` to the status named `target` through the transition leading there; returns the
/// status name as Jira spells it.
async fn transition_to(
    ctx: &ActionContext<'_>,
    action: Action,
    issue: &IssueRef,
    target: &str,
) -> Result<String, ActionError> {
    let transitions = ctx
        .jira
        .issues()
        .transitions(issue.clone())
        .send()
        .await
        .map_err(|e| jira_error(ctx, action, READ, e))?;
    let wanted = target.trim();
    let leads_there = |t: &&jiraflow_jira::wire::issue::Transition| {
        t.is_available != Some(false)
            && t.to
                .as_ref()
                .and_then(|s| s.name.as_deref())
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(wanted))
    };
    let Some(transition) = transitions.iter().find(leads_there) else {
        let available: Vec<String> = transitions
            .iter()
            .filter(|t| t.is_available != Some(false))
            .map(|t| {
                let to = t.to.as_ref().and_then(|s| s.name.as_deref()).unwrap_or("?");
                format!("{} → {to}", t.name.as_deref().unwrap_or(t.id.as_str()))
            })
            .collect();
        let listed = if available.is_empty() {
            "none".to_owned()
        } else {
            available.join(", ")
        };
        return Err(ActionError::resolve(
            ctx,
            action,
            format!(
                "input.status: no transition of {issue} leads to the status {wanted:?}; \
                 available transitions: {listed}"
            ),
        ));
    };
    ctx.jira
        .issues()
        .do_transition(issue.clone(), transition.id.clone())
        .send()
        .await
        .map_err(|e| jira_error(ctx, action, WRITE, e))?;
    Ok(transition
        .to
        .as_ref()
        .and_then(|s| s.name.clone())
        .unwrap_or_else(|| wanted.to_owned()))
}
