//! The write marker and what finds it again: the `jiraflow.write` entity property every create
//! of ours carries, the reconcile lookups (a bounded JQL window for issues, a newest-first scan
//! for comments), the retry check the client runs after an ambiguous failure of a create, the
//! in-process lock that serialises writes of one key, and the write ledger's plumbing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, TryStreamExt};
use jiraflow_jira::JiraClient;
use jiraflow_jira::client::RetryCheck;
use jiraflow_jira::ids::CommentId;
use jiraflow_jira::ops::comments::CommentOrder;
use jiraflow_jira::wire::comment::Comment;
use jiraflow_jira::wire::issue::IssueBean;
use jiraflow_store::{LedgerEntry, LedgerKey};
use serde_json::{Value, json};
use tokio::sync::OwnedMutexGuard;

use crate::actions::{ActionContext, ActionError};
use crate::flow::Action;

/// The entity property our creates set on what they write.
pub const MARKER_PROPERTY: &str = "jiraflow.write";

/// How long after a create JQL search may still miss it, unless changed with
/// [`set_search_settle`]. Jira Cloud's index usually catches up within a second or two.
pub const DEFAULT_SEARCH_SETTLE: Duration = Duration::from_millis(DEFAULT_SETTLE_MS);
const DEFAULT_SETTLE_MS: u64 = 3_000;

/// Pause between two searches while waiting for the index to settle.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Margin before an attempt's start when searching for what it created: covers clock skew
/// between us and Jira and the minute precision of JQL dates.
const WINDOW_MARGIN_MINUTES: i64 = 1;

/// The longest a create can go on being resent by the client after it was first sent (attempt
/// timeouts, backoff and retry checks included): a lookup this long after a pending create's
/// start needs no settle wait beyond one search.
const ATTEMPT_SPAN: chrono::Duration = chrono::Duration::minutes(10);

/// Comments read per page while scanning for a marker.
const COMMENT_PAGE: u64 = 100;

static SEARCH_SETTLE_MS: AtomicU64 = AtomicU64::new(DEFAULT_SETTLE_MS);

/// Sets how long lookups of a lost create keep searching before concluding it did not happen
/// (process-wide; the search index is a property of the Jira site, not of a flow).
pub fn set_search_settle(settle: Duration) {
    let ms = u64::try_from(settle.as_millis()).unwrap_or(u64::MAX);
    SEARCH_SETTLE_MS.store(ms, Ordering::Relaxed);
}

/// The current settle time (see [`set_search_settle`]).
pub fn search_settle() -> Duration {
    Duration::from_millis(SEARCH_SETTLE_MS.load(Ordering::Relaxed))
}

/// The marker's value for `key` (an external id or a step's write key).
pub fn marker_value(key: &str) -> Value {
    json!({ "key": key })
}

/// Whether a property value is the marker of `key`.
fn is_marker(value: Option<&Value>, key: &str) -> bool {
    value
        .and_then(|v| v.get("key"))
        .and_then(Value::as_str)
        .is_some_and(|k| k == key)
}

/// The ledger key of a write to the client's site.
pub fn ledger_key(jira: &JiraClient, kind: &str, scope: &str, key: &str) -> LedgerKey {
    LedgerKey {
        site: jira.api_base().to_owned(),
        kind: kind.to_owned(),
        scope: scope.to_owned(),
        key: key.to_owned(),
    }
}

type KeyLocks = Mutex<HashMap<LedgerKey, Weak<tokio::sync::Mutex<()>>>>;

static LOCKS: LazyLock<KeyLocks> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Serialises writes of one ledger key within the process: two concurrent upserts of one
/// external id would otherwise both miss and both create. Entries die with their last holder.
pub async fn lock_key(key: &LedgerKey) -> OwnedMutexGuard<()> {
    let lock = {
        // A poisoned map only means another task panicked while inserting; the map is intact.
        let mut map = LOCKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lock) = map.get(key).and_then(Weak::upgrade) {
            lock
        } else {
            map.retain(|_, weak| weak.strong_count() > 0);
            let lock = Arc::new(tokio::sync::Mutex::new(()));
            map.insert(key.clone(), Arc::downgrade(&lock));
            lock
        }
    };
    lock.lock_owned().await
}

/// The ledger of `ctx` with the step and action for error messages.
#[derive(Clone, Copy)]
pub struct Ledger<'a> {
    ctx: &'a ActionContext<'a>,
    action: Action,
    store: Option<&'a dyn jiraflow_store::WriteLedger>,
}

impl<'a> Ledger<'a> {
    /// The context's ledger (absent operations are no-ops).
    pub fn of(ctx: &'a ActionContext<'a>, action: Action) -> Self {
        Self {
            ctx,
            action,
            store: ctx.ledger,
        }
    }

    /// Whether a ledger is present.
    pub fn present(&self) -> bool {
        self.store.is_some()
    }

    fn error(&self, source: jiraflow_store::StoreError) -> ActionError {
        ActionError::Ledger {
            step: self.ctx.step_id.to_owned(),
            action: self.action.name(),
            source: Box::new(source),
        }
    }

    /// What the ledger knows of `key`.
    pub async fn get(&self, key: &LedgerKey) -> Result<Option<LedgerEntry>, ActionError> {
        match self.store {
            Some(store) => store.ledger_get(key).await.map_err(|e| self.error(e)),
            None => Ok(None),
        }
    }

    /// Records a create about to be sent.
    pub async fn pending(&self, key: &LedgerKey, at: DateTime<Utc>) -> Result<(), ActionError> {
        match self.store {
            Some(store) => store
                .ledger_pending(key, at)
                .await
                .map_err(|e| self.error(e)),
            None => Ok(()),
        }
    }

    /// Records what a create wrote.
    pub async fn commit(&self, key: &LedgerKey, jira_id: &str) -> Result<(), ActionError> {
        match self.store {
            Some(store) => store
                .ledger_commit(key, jira_id)
                .await
                .map_err(|e| self.error(e)),
            None => Ok(()),
        }
    }

    /// Forgets a write (its object is gone, or the create certainly failed).
    pub async fn forget(&self, key: &LedgerKey) -> Result<(), ActionError> {
        match self.store {
            Some(store) => store.ledger_forget(key).await.map_err(|e| self.error(e)),
            None => Ok(()),
        }
    }
}

/// Whether a failed create certainly wrote nothing (Jira refused it), so its pending ledger entry
/// can go. Timeouts, dropped connections and 5xx leave the outcome open.
pub fn certainly_not_written(error: &jiraflow_jira::Error) -> bool {
    match error {
        jiraflow_jira::Error::Api(api) => (400..500).contains(&api.status) && api.status != 429,
        jiraflow_jira::Error::InvalidInput(_) | jiraflow_jira::Error::Field(_) => true,
        _ => false,
    }
}

/// The earliest and the latest of two optional instants, when there is one.
pub fn span(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a.min(b), a.max(b))),
        (Some(one), None) | (None, Some(one)) => Some((one, one)),
        (None, None) => None,
    }
}

/// Finds the issue in `project` that the caller created at or after `since` carrying the marker
/// of `key`; `last_sent` is when the create was last sent, as far as the caller knows (client
/// retries may have sent it again later, but never after this lookup began).
///
/// Search is eventually consistent, so a miss is repeated until the last send could have become
/// visible: the settle time after that send, counted from now at the latest (every send precedes
/// this lookup) and from `last_sent` plus the longest a create's retries can go on when that
/// is earlier. Only then is "not found" an answer.
///
/// # Errors
/// The search's errors.
pub async fn find_marked_issue(
    jira: &JiraClient,
    project: &str,
    key: &str,
    since: DateTime<Utc>,
    last_sent: DateTime<Utc>,
) -> jiraflow_jira::Result<Option<IssueBean>> {
    let settle = chrono::Duration::from_std(search_settle()).unwrap_or(chrono::Duration::MAX);
    let latest_send = Utc::now().min(
        last_sent
            .checked_add_signed(ATTEMPT_SPAN)
            .unwrap_or(last_sent),
    );
    let settled_at = latest_send
        .checked_add_signed(settle)
        .unwrap_or(latest_send);
    loop {
        if let Some(found) = search_marked_issue(jira, project, key, since).await? {
            return Ok(Some(found));
        }
        if Utc::now() >= settled_at {
            return Ok(None);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// One search of the creation window for the marker of `key`.
async fn search_marked_issue(
    jira: &JiraClient,
    project: &str,
    key: &str,
    since: DateTime<Utc>,
) -> jiraflow_jira::Result<Option<IssueBean>> {
    // A relative date: absolute JQL dates are read in the user's profile time zone, which we do
    // not know; "-Nm" is the same instant in every zone.
    let minutes = (Utc::now() - since).num_minutes().max(0) + 1 + WINDOW_MARGIN_MINUTES;
    let jql = format!(
        "project = {} AND creator = currentUser() AND created >= \"-{minutes}m\" ORDER BY created DESC",
        jiraflow_jira::jql::quote(project)
    );
    let mut issues = std::pin::pin!(
        jira.search()
            .jql(jql)
            .fields(["created"])
            .property(MARKER_PROPERTY)
            .max_results(100)
            .issues()
    );
    while let Some(issue) = issues.try_next().await? {
        let marker = issue
            .properties
            .as_ref()
            .and_then(|p| p.get(MARKER_PROPERTY));
        if is_marker(marker, key) {
            return Ok(Some(issue));
        }
    }
    Ok(None)
}

/// Finds the comment on `issue` carrying the marker of `key`, newest first. Comment reads are
/// consistent, so one scan is an answer.
///
/// # Errors
/// The reads' errors (404 for an unknown issue).
pub async fn find_marked_comment(
    jira: &JiraClient,
    issue: &str,
    key: &str,
) -> jiraflow_jira::Result<Option<Comment>> {
    // Only `POST /comment/list` returns properties, so ids are read a page at a time and their
    // properties fetched in one call per page.
    let mut pages = std::pin::pin!(
        jira.comments()
            .list(issue)
            .order_by(CommentOrder::NewestFirst)
            .max_results(COMMENT_PAGE)
            .stream()
            .chunks(usize::try_from(COMMENT_PAGE).unwrap_or(100))
    );
    while let Some(page) = pages.next().await {
        let ids: Vec<CommentId> = page
            .into_iter()
            .map(|c| c.map(|c| c.id))
            .collect::<jiraflow_jira::Result<_>>()?;
        if ids.is_empty() {
            continue;
        }
        let mut comments = jira.comments().by_ids(ids).properties().send().await?;
        // `comment/list` answers in id order; the newest marked one wins.
        comments.sort_by_key(|c| std::cmp::Reverse(c.id.as_str().parse::<u64>().unwrap_or(0)));
        let found = comments.into_iter().find(|c| {
            c.properties
                .iter()
                .flatten()
                .any(|p| p.key == MARKER_PROPERTY && is_marker(Some(&p.value), key))
        });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The retry check of a create: after an ambiguous failure, looks for the object the attempt
/// may have written and hands it to the client as the create's answer.
pub enum MarkerCheck {
    /// An issue created in `project` at or after `since`.
    Issue {
        /// Project key or id, as in the create.
        project: String,
        /// The marker key.
        key: String,
        /// When the create was first sent.
        since: DateTime<Utc>,
    },
    /// A comment on `issue`.
    Comment {
        /// Issue key or id, as in the create.
        issue: String,
        /// The marker key.
        key: String,
    },
}

impl RetryCheck for MarkerCheck {
    fn check<'a>(
        &'a self,
        client: &'a JiraClient,
    ) -> BoxFuture<'a, jiraflow_jira::Result<Option<Value>>> {
        Box::pin(async move {
            match self {
                Self::Issue {
                    project,
                    key,
                    since,
                } => Ok(find_marked_issue(client, project, key, *since, Utc::now())
                    .await?
                    .map(|issue| {
                        // The shape of create's answer (`CreatedIssue`).
                        json!({ "id": issue.id, "key": issue.key, "self": issue.self_url })
                    })),
                Self::Comment { issue, key } => {
                    match find_marked_comment(client, issue, key).await? {
                        Some(comment) => Ok(Some(serde_json::to_value(comment).map_err(|e| {
                            jiraflow_jira::Error::InvalidInput(format!(
                                "a found comment does not serialize: {e}"
                            ))
                        })?)),
                        None => Ok(None),
                    }
                }
            }
        })
    }
}
