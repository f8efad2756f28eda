//! `create_issue_link`: links two issues (`outward` —type→ `inward`, e.g. `outward` blocks
//! `inward`). Jira answers a duplicate link as created and returns no link id, so the outward
//! issue's links are read before creating (a duplicate is Unchanged) and again after (to report
//! the new link's id).

use jiraflow_jira::ids::IssueLinkTypeId;
use jiraflow_jira::ops::links::LinkTypeRef;
use jiraflow_jira::wire::link::{IssueLink, LinkedIssue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::comments::{BROWSE, READ_SCOPE, WRITE_SCOPE, rich_text};
use super::jira_error;
use super::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, output};

const LINK_ISSUES: &str =
    "the Link Issues permission on the outward issue's project (and Browse Projects on both)";
use crate::flow::Action;

/// Input of `create_issue_link`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CreateIssueLinkInput {
    /// The link type's name (`Blocks`) or id (`10000`).
    #[serde(rename = "type")]
    pub link_type: String,
    /// The "from" issue (key or id): in `A blocks B`, A.
    pub outward: String,
    /// The "to" issue (key or id): in `A blocks B`, B.
    pub inward: String,
    /// A comment added to the outward issue with the link: Markdown (a string) or ADF (an
    /// object).
    #[serde(default)]
    pub comment: Option<Value>,
}

/// Output of `create_issue_link`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreateIssueLinkOutput {
    /// The link's id (absent only if Jira hides the new link from the caller).
    pub link_id: Option<String>,
    /// The link type's name.
    pub link_type: Option<String>,
    /// The outward issue as given.
    pub outward: String,
    /// The inward issue as given.
    pub inward: String,
}

/// Whether `linked` is the issue `reference` (a key, compared without case, or an id).
fn is_issue(linked: &LinkedIssue, reference: &str) -> bool {
    linked
        .key
        .as_ref()
        .is_some_and(|k| k.as_str().eq_ignore_ascii_case(reference))
        || linked
            .id
            .as_ref()
            .is_some_and(|id| id.as_str() == reference)
}

/// Whether `link` has the type `link_type` (name without case, or id).
fn has_type(link: &IssueLink, link_type: &str) -> bool {
    link.link_type.as_ref().is_some_and(|t| {
        t.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(link_type))
            || t.id.as_ref().is_some_and(|id| id.as_str() == link_type)
    })
}

/// The outward issue's links (from its `issuelinks` field).
async fn links_of(
    ctx: &ActionContext<'_>,
    action: Action,
    issue: &str,
) -> Result<Vec<IssueLink>, ActionError> {
    let bean = ctx
        .jira
        .issues()
        .get(issue)
        .fields(["issuelinks"])
        .send()
        .await
        .map_err(|e| jira_error(ctx, action, BROWSE, READ_SCOPE, e))?;
    let Some(raw) = bean.fields.get("issuelinks") else {
        return Ok(Vec::new());
    };
    // A link Jira sends in a shape this client does not know is skipped, not fatal: the worst
    // case is a duplicate request, which Jira deduplicates anyway.
    Ok(match raw {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| serde_json::from_value(item.clone()).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// The link `outward` —`link_type`→ `inward` among `links` of the outward issue, where Jira
/// shows the other side as `outwardIssue`.
fn find_link<'a>(links: &'a [IssueLink], link_type: &str, inward: &str) -> Option<&'a IssueLink> {
    links.iter().find(|l| {
        has_type(l, link_type)
            && l.outward_issue
                .as_ref()
                .is_some_and(|i| is_issue(i, inward))
    })
}

/// `create_issue_link`: links `outward` to `inward`; an existing identical link is Unchanged.
///
/// # Errors
/// Input errors; Jira's errors (404 unknown issue or link type, or linking disabled; 400 when the
/// comment is refused; missing scope or Link Issues permission).
pub async fn create_issue_link(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    let action = Action::CreateIssueLink;
    let input: CreateIssueLinkInput = decode_input(&ctx, action, input)?;
    let link_type = input.link_type.trim();
    if link_type.is_empty() {
        return Err(ActionError::input(
            &ctx,
            action,
            "input.type",
            "a link type name or id is required",
        ));
    }
    let report = |link: Option<&IssueLink>| CreateIssueLinkOutput {
        link_id: link.and_then(|l| l.id.as_ref()).map(|id| id.to_string()),
        link_type: link
            .and_then(|l| l.link_type.as_ref())
            .and_then(|t| t.name.clone()),
        outward: input.outward.clone(),
        inward: input.inward.clone(),
    };
    // Checked before anything is read, so a bad comment fails even when the link exists.
    let comment = match input.comment.clone().filter(|c| !c.is_null()) {
        Some(comment) => Some(rich_text(&ctx, action, "input.comment", comment)?),
        None => None,
    };
    let before = links_of(&ctx, action, &input.outward).await?;
    if let Some(existing) = find_link(&before, link_type, &input.inward) {
        return Ok(output(Outcome::Unchanged, &report(Some(existing))));
    }
    let type_ref = if link_type.bytes().all(|b| b.is_ascii_digit()) {
        LinkTypeRef::Id(IssueLinkTypeId::from(link_type))
    } else {
        LinkTypeRef::Name(link_type.to_owned())
    };
    let mut request =
        ctx.jira
            .issue_links()
            .create(type_ref, input.outward.as_str(), input.inward.as_str());
    if let Some(comment) = comment {
        request = request.comment(comment);
    }
    request
        .send()
        .await
        .map_err(|e| jira_error(&ctx, action, LINK_ISSUES, WRITE_SCOPE, e))?;
    let after = links_of(&ctx, action, &input.outward).await?;
    Ok(output(
        Outcome::Changed,
        &report(find_link(&after, link_type, &input.inward)),
    ))
}
