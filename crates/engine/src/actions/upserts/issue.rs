//! `upsert_issue` (find the issue of an external id or a JQL, update it, or create it once), and
//! the marked, ledger-recorded create that `upsert_issue` and `create_issue` with a write key
//! share.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use jiraflow_jira::client::Idempotency;
use jiraflow_jira::ids::IssueRef;
use jiraflow_jira::ops::issues::CreateIssue;
use jiraflow_jira::wire::issue::{CreatedIssue, IssueBean};
use jiraflow_store::{LedgerEntry, LedgerKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::marker::{
    Ledger, MARKER_PROPERTY, MarkerCheck, certainly_not_written, find_marked_issue, ledger_key,
    lock_key, marker_value, span,
};
use crate::actions::issues::{
    CreateIssueInput, READ, UpdateIssueInput, UserInput, WRITE, apply_update, client_error,
    jira_error, prepare_create,
};
use crate::actions::{ActionContext, ActionError, ActionOutput, Outcome, decode_input, output};
use crate::flow::Action;

/// Most matches of `match_jql` listed in the error when there are several.
const LISTED_MATCHES: usize = 20;

/// Input of `upsert_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpsertIssueInput {
    /// The caller's id of the issue (a ticket number elsewhere); required unless `match_jql` is
    /// given. The write ledger maps it to the Jira issue.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The project for a create: key or numeric id.
    pub project: String,
    /// The issue type for a create: name or numeric id.
    pub issue_type: String,
    /// The summary.
    pub summary: String,
    /// The description: Markdown text or an ADF document.
    #[serde(default)]
    pub description: Option<Value>,
    /// Further fields by name or id, coerced as in `create_issue`.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Labels (replacing the existing ones on update).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// The assignee: an account id or an e-mail address.
    #[serde(default)]
    pub assignee: Option<UserInput>,
    /// JQL finding the issue when the ledger does not know it: one match is updated, none
    /// creates, several are an error.
    #[serde(default)]
    pub match_jql: Option<String>,
}

/// Output of `upsert_issue`.
#[derive(Debug, Serialize)]
pub struct UpsertIssueOutput {
    /// The issue's numeric id.
    pub id: String,
    /// The issue's key.
    pub key: String,
    /// The REST link of the issue.
    #[serde(rename = "self")]
    pub self_url: Option<String>,
    /// The issue's page on the site (`https://site/browse/KEY`), when the REST link shows the
    /// site.
    pub url: Option<String>,
    /// Whether this upsert created the issue (false: it updated an existing one).
    pub created: bool,
}

/// Runs `upsert_issue`.
///
/// # Errors
/// Input errors (no `external_id` and no `match_jql`; an external id without a write ledger);
/// a resolve error when `match_jql` matches several issues; `create_issue`'s and
/// `update_issue`'s errors.
pub async fn upsert_issue(
    ctx: ActionContext<'_>,
    input: Value,
) -> Result<ActionOutput, ActionError> {
    const ACTION: Action = Action::UpsertIssue;
    let input: UpsertIssueInput = decode_input(&ctx, ACTION, input)?;
    let ledger = Ledger::of(&ctx, ACTION);
    if let Some(id) = &input.external_id
        && id.trim().is_empty()
    {
        return Err(ActionError::input(
            &ctx,
            ACTION,
            "input.external_id",
            "must not be empty",
        ));
    }
    match (&input.external_id, &input.match_jql) {
        (None, None) => {
            return Err(ActionError::input(
                &ctx,
                ACTION,
                "input.external_id",
                "give `external_id` (or `match_jql` to find the issue by JQL)",
            ));
        }
        (Some(_), None) if !ledger.present() => {
            return Err(ActionError::input(
                &ctx,
                ACTION,
                "input.match_jql",
                "required here: JQL cannot search our marker (issue properties are not \
                 searchable from an OAuth app), and without a write ledger nothing else maps \
                 the external id to its issue",
            ));
        }
        _ => {}
    }

    let lock_scope = match &input.external_id {
        Some(id) => ledger_key(ctx.jira, "issue", &input.project, id),
        None => ledger_key(
            ctx.jira,
            "issue-jql",
            &input.project,
            input.match_jql.as_deref().unwrap_or_default(),
        ),
    };
    let _serialised = lock_key(&lock_scope).await;
    let ledger_entry = input.external_id.as_ref().map(|_| &lock_scope);
    // The marker names the external id, or the step when only a JQL identifies the issue.
    let marker = input
        .external_id
        .clone()
        .or_else(|| ctx.write_key.map(str::to_owned));

    // (1) The ledger's mapping.
    let mut pending_since = None;
    if let Some(key) = ledger_entry {
        match ledger.get(key).await? {
            Some(LedgerEntry::Committed { jira_id, .. }) => {
                match get_issue(&ctx, ACTION, &jira_id).await? {
                    Some(issue) => return update(&ctx, ACTION, input, issue, false).await,
                    // Deleted in Jira: the external id is free again.
                    None => ledger.forget(key).await?,
                }
            }
            Some(LedgerEntry::Pending { attempt_started_at }) => {
                pending_since = Some(attempt_started_at);
            }
            None => {}
        }
    }

    // (2) The JQL.
    if let Some(jql) = input.match_jql.clone()
        && let Some(issue) = match_one(&ctx, ACTION, &jql).await?
    {
        if let (Some(key), Some(id)) = (ledger_entry, &issue.id) {
            ledger.commit(key, id.as_str()).await?;
        }
        return update(&ctx, ACTION, input, issue, false).await;
    }

    // (3) A create whose answer was lost, here or in an earlier attempt of the step.
    if let (Some(marker), Some((since, last_sent))) =
        (&marker, span(pending_since, ctx.maybe_written_since))
    {
        let found = find_marked_issue(ctx.jira, &input.project, marker, since, last_sent)
            .await
            .map_err(|e| jira_error(&ctx, ACTION, READ, e))?;
        if let Some(issue) = found {
            if let (Some(key), Some(id)) = (ledger_entry, &issue.id) {
                ledger.commit(key, id.as_str()).await?;
            }
            return update(&ctx, ACTION, input, issue, true).await;
        }
    }

    // (4) Create.
    let project = input.project.clone();
    let request = prepare_create(
        &ctx,
        ACTION,
        CreateIssueInput {
            project: input.project,
            issue_type: input.issue_type,
            summary: input.summary,
            description: input.description,
            fields: input.fields,
            labels: input.labels,
            assignee: input.assignee,
        },
    )
    .await?;
    let map_err = |e| client_error(&ctx, ACTION, WRITE, "input", e);
    let created = match &marker {
        Some(marker) => {
            send_marked_create(
                &ctx,
                ACTION,
                ledger_entry,
                &project,
                marker,
                request,
                map_err,
            )
            .await?
        }
        None => request.send().await.map_err(map_err)?,
    };
    let out = UpsertIssueOutput {
        url: browse_url(created.self_url.as_deref(), created.key.as_str()),
        id: created.id.into_string(),
        key: created.key.into_string(),
        self_url: created.self_url,
        created: true,
    };
    Ok(output(Outcome::Changed, &out))
}

/// `create_issue` with a write key: returns the issue an earlier attempt of the step created
/// (from the ledger, or found by its marker when that attempt's answer was lost) as
/// `Unchanged`, or creates it marked and recorded.
pub(crate) async fn create_once(
    ctx: &ActionContext<'_>,
    action: Action,
    project: &str,
    write_key: &str,
    request: CreateIssue<'_>,
    map_err: impl Fn(jiraflow_jira::Error) -> ActionError,
) -> Result<(Outcome, CreatedIssue), ActionError> {
    let ledger = Ledger::of(ctx, action);
    let key = ledger_key(ctx.jira, "step", &format!("issue:{project}"), write_key);
    let _serialised = lock_key(&key).await;
    let mut pending_since = None;
    match ledger.get(&key).await? {
        Some(LedgerEntry::Committed { jira_id, .. }) => {
            if let Some(issue) = get_issue(ctx, action, &jira_id).await?
                && let Some(created) = as_created(issue)
            {
                return Ok((Outcome::Unchanged, created));
            }
            ledger.forget(&key).await?;
        }
        Some(LedgerEntry::Pending { attempt_started_at }) => {
            pending_since = Some(attempt_started_at);
        }
        None => {}
    }
    if let Some((since, last_sent)) = span(pending_since, ctx.maybe_written_since) {
        let found = find_marked_issue(ctx.jira, project, write_key, since, last_sent)
            .await
            .map_err(|e| jira_error(ctx, action, READ, e))?;
        if let Some(created) = found.and_then(as_created) {
            ledger.commit(&key, created.id.as_str()).await?;
            return Ok((Outcome::Unchanged, created));
        }
    }
    let created = send_marked_create(
        ctx,
        action,
        Some(&key),
        project,
        write_key,
        request,
        map_err,
    )
    .await?;
    Ok((Outcome::Changed, created))
}

/// Sends a create carrying the marker of `marker`: recorded as pending first, checked by a
/// marker search (not blindly repeated) after an ambiguous failure, committed once answered.
async fn send_marked_create(
    ctx: &ActionContext<'_>,
    action: Action,
    ledger_entry: Option<&LedgerKey>,
    project: &str,
    marker: &str,
    request: CreateIssue<'_>,
    map_err: impl Fn(jiraflow_jira::Error) -> ActionError,
) -> Result<CreatedIssue, ActionError> {
    let ledger = Ledger::of(ctx, action);
    let started: DateTime<Utc> = Utc::now();
    if let Some(key) = ledger_entry {
        ledger.pending(key, started).await?;
    }
    let check = MarkerCheck::Issue {
        project: project.to_owned(),
        key: marker.to_owned(),
        since: started,
    };
    let sent = request
        .property(MARKER_PROPERTY, marker_value(marker))
        .idempotency(Idempotency::Verify(Arc::new(check)))
        .send()
        .await;
    match sent {
        Ok(created) => {
            if let Some(key) = ledger_entry {
                ledger.commit(key, created.id.as_str()).await?;
            }
            Ok(created)
        }
        Err(error) => {
            // A refusal wrote nothing: no later attempt needs to look for it. Anything else
            // stays pending, so the next attempt searches before creating.
            if let Some(key) = ledger_entry
                && certainly_not_written(&error)
            {
                ledger.forget(key).await?;
            }
            Err(map_err(error))
        }
    }
}

/// The issue `id`, or `None` when it no longer exists.
async fn get_issue(
    ctx: &ActionContext<'_>,
    action: Action,
    id: &str,
) -> Result<Option<IssueBean>, ActionError> {
    match ctx
        .jira
        .issues()
        .get(IssueRef::new(id.to_owned()))
        .fields(["summary"])
        .send()
        .await
    {
        Ok(issue) => Ok(Some(issue)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(jira_error(ctx, action, READ, error)),
    }
}

/// The single issue `jql` matches; `None` for no match, a resolve error listing them for several.
async fn match_one(
    ctx: &ActionContext<'_>,
    action: Action,
    jql: &str,
) -> Result<Option<IssueBean>, ActionError> {
    let mut matches: Vec<IssueBean> = ctx
        .jira
        .search()
        .jql(jql)
        .fields(["summary"])
        .max_results(50)
        .issues()
        .take(LISTED_MATCHES + 1)
        .try_collect()
        .await
        .map_err(|e| client_error(ctx, action, READ, "input.match_jql", e))?;
    if matches.len() > 1 {
        let count = if matches.len() > LISTED_MATCHES {
            format!("more than {LISTED_MATCHES}")
        } else {
            matches.len().to_string()
        };
        let keys: Vec<&str> = matches
            .iter()
            .take(LISTED_MATCHES)
            .filter_map(|i| i.key.as_ref().map(|k| k.as_str()))
            .collect();
        return Err(ActionError::resolve(
            ctx,
            action,
            format!(
                "input.match_jql: matches {count} issues ({}); it must match one at most",
                keys.join(", ")
            ),
        ));
    }
    Ok(matches.pop())
}

/// Updates the found `issue` with the upsert's input.
async fn update(
    ctx: &ActionContext<'_>,
    action: Action,
    input: UpsertIssueInput,
    issue: IssueBean,
    created: bool,
) -> Result<ActionOutput, ActionError> {
    let id = issue.id.as_ref().map(|i| i.as_str().to_owned());
    let target = id
        .clone()
        .or_else(|| issue.key.as_ref().map(|k| k.as_str().to_owned()))
        .unwrap_or_default();
    let (_, updated) = apply_update(
        ctx,
        action,
        UpdateIssueInput {
            issue: target.clone(),
            summary: Some(input.summary),
            description: input.description,
            fields: input.fields,
            labels: input.labels,
            assignee: input.assignee,
            status: None,
        },
    )
    .await?;
    let out = UpsertIssueOutput {
        url: browse_url(issue.self_url.as_deref(), &updated.key),
        id: id.unwrap_or(target),
        key: updated.key,
        self_url: issue.self_url,
        created,
    };
    Ok(output(Outcome::Changed, &out))
}

/// A found issue in the shape of create's answer.
fn as_created(issue: IssueBean) -> Option<CreatedIssue> {
    Some(CreatedIssue {
        id: issue.id?,
        key: issue.key?,
        self_url: issue.self_url,
        transition: None,
        extra: Map::new(),
    })
}

/// `https://site/browse/KEY` from a REST link on the site (`https://site/rest/api/3/issue/1`).
fn browse_url(self_url: Option<&str>, key: &str) -> Option<String> {
    let (site, _) = self_url?.split_once("/rest/api/")?;
    (!site.is_empty() && site.starts_with("http")).then(|| format!("{site}/browse/{key}"))
}

#[cfg(test)]
mod tests {
    use super::browse_url;

    #[test]
    fn a_browse_link_is_made_only_from_a_rest_link_on_the_site() {
        assert_eq!(
            browse_url(
                Some("https://acme.atlassian.net/rest/api/3/issue/10001"),
                "DEMO-1"
            ),
            Some("https://acme.atlassian.net/browse/DEMO-1".to_owned())
        );
        assert_eq!(browse_url(Some("DEMO-1"), "DEMO-1"), None);
        assert_eq!(browse_url(None, "DEMO-1"), None);
    }
}
