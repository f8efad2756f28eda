//! The three steps of a poll, kept apart so triggers sharing a read (a [`PollGroup`]) fetch Jira
//! once: [`read`] takes what a window holds (one search, changelogs in bulk for update types,
//! newest comments for the comment type), [`judge`] turns it into one trigger's events, and
//! [`enqueue`] hands them to the store's inbox and moves the cursor only past what is in it.
//!
//! [`PollGroup`]: super::PollGroup

use std::collections::{BTreeMap, HashMap};

use futures_util::TryStreamExt;
use jiraflow_jira::JiraClient;
use jiraflow_jira::ids::IssueId;
use jiraflow_jira::jql::{TimeField, window};
use jiraflow_jira::ops::changelog::{BULK_MAX_ISSUES, ChangeHistory};
use jiraflow_jql::{Direction, Query};
use jiraflow_store::{Store, StoreError};

use super::comments::read_new_comments;
use super::events::{self, Built, CommentCandidate, IssueCandidate, Rules};
use super::window::Window;
use crate::flow::TriggerKind;

/// The field a trigger type's window bounds and sorts by.
pub fn time_field(kind: TriggerKind) -> TimeField {
    match kind {
        TriggerKind::NewIssue | TriggerKind::NewIssueWithFilter => TimeField::Created,
        TriggerKind::NewComment
        | TriggerKind::NewOrUpdatedIssue
        | TriggerKind::NewOrUpdatedIssueWithFilter => TimeField::Updated,
    }
}

/// Bounds how much of a window one read takes, so a backlog far larger than a poll's event limit
/// is read once in slices instead of in full by every poll.
#[derive(Debug, Clone, Copy)]
pub struct ReadCap {
    /// Issues at or after this instant (the readers' cursor) count towards the cap; the overlap
    /// before it is always read whole.
    pub fresh_from_ms: i64,
    /// Stop once this many counted issues are read (and every issue sharing the last one's
    /// instant, so the slice ends between two instants).
    pub max_fresh: usize,
}

/// What one window holds, for every trigger sharing the read.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Set when a [`ReadCap`] cut the read short: every issue whose time field is before this
    /// instant was read, none at or after it was. Readers shrink their windows to end here.
    pub complete_before_ms: Option<i64>,
    /// Issues whose time field lies in the window, ascending.
    pub issues: Vec<IssueCandidate>,
    /// Update types: each issue's histories, oldest first, by issue id.
    pub histories: BTreeMap<String, Vec<ChangeHistory>>,
    /// Comment type: the comments created in the window.
    pub comments: Vec<CommentCandidate>,
    /// Requests that made it (search pages are counted as one).
    pub requests: usize,
}

/// Reads `window` for a trigger of `kind` whose filter is `filter` (no ORDER BY), passing
/// `reconcile` so just-written issues are seen at their live state. With `cap`, the read stops
/// after a slice of the window (see [`Snapshot::complete_before_ms`]).
///
/// # Errors
/// The client's error.
pub async fn read(
    jira: &JiraClient,
    kind: TriggerKind,
    filter: &Query,
    window_ms: Window,
    page_size: u32,
    reconcile: Vec<IssueId>,
    cap: Option<ReadCap>,
) -> Result<Snapshot, jiraflow_jira::Error> {
    let mut snap = Snapshot::default();
    if window_ms.from_ms >= window_ms.to_ms {
        return Ok(snap);
    }
    // A comment's issue may have changed again after the window: its `updated` is then past
    // the upper bound, so comment windows leave the search open-ended and bound the comments.
    let upper = (kind != TriggerKind::NewComment).then_some(window_ms.to_ms);
    let jql = window(
        filter.clone(),
        time_field(kind),
        window_ms.from_ms,
        upper,
        Direction::Asc,
    )
    .to_string();
    let stream = jira
        .search()
        .jql(jql)
        .fields(["*all"])
        .max_results(page_size)
        .reconcile(reconcile)
        .issues();
    let mut stream = std::pin::pin!(stream);
    // Comments are bounded by their own times, not their issues', so only issue reads are cut.
    let cap = cap.filter(|_| kind != TriggerKind::NewComment);
    let mut fresh = 0_usize;
    let mut cut_after: Option<i64> = None;
    while let Some(bean) = stream.try_next().await? {
        let Some(candidate) = IssueCandidate::from_bean(&bean) else {
            continue;
        };
        let time = match time_field(kind) {
            TimeField::Created => candidate.created_ms,
            _ => candidate.updated_ms,
        };
        if let (Some(last), Some(time)) = (cut_after, time)
            && time > last
        {
            // Results come in ascending time order: everything before `time` has been read.
            snap.complete_before_ms = Some(time);
            break;
        }
        snap.issues.push(candidate);
        if let (Some(cap), None) = (cap, cut_after) {
            if time.is_some_and(|t| t >= cap.fresh_from_ms) {
                fresh += 1;
            }
            if fresh >= cap.max_fresh {
                cut_after = time;
            }
        }
    }
    snap.requests += 1;
    if kind.fires_on_update() && !snap.issues.is_empty() {
        let ids: Vec<String> = snap.issues.iter().map(|i| i.id.clone()).collect();
        for chunk in ids.chunks(BULK_MAX_ISSUES) {
            let logs = jira
                .changelogs()
                .bulk_fetch(chunk.iter().cloned())
                .collect()
                .await?;
            snap.requests += 1;
            snap.histories.extend(logs);
        }
    }
    if kind == TriggerKind::NewComment {
        snap.comments = read_new_comments(jira, &snap.issues, window_ms).await?;
        snap.requests += snap.issues.len();
    }
    Ok(snap)
}

/// One trigger's events from a snapshot, restricted to its own `window`, sorted by time then
/// id. `last_seen` holds each issue's last reported update (changes after it belong to the
/// next event); without an entry the window's start stands in.
pub fn judge(
    snap: &Snapshot,
    window_ms: Window,
    rules: Rules<'_>,
    last_seen: Option<&HashMap<String, i64>>,
) -> Vec<(String, Built)> {
    let mut built: Vec<(String, Built)> = if rules.kind == TriggerKind::NewComment {
        snap.comments
            .iter()
            .filter(|c| window_ms.contains(c.created_ms))
            .map(|c| (c.issue.id.clone(), events::build_comment(c, rules)))
            .collect()
    } else {
        let none = Vec::new();
        snap.issues
            .iter()
            .filter_map(|issue| {
                let histories = snap.histories.get(&issue.id).unwrap_or(&none);
                let after = last_seen
                    .and_then(|m| m.get(&issue.id).copied())
                    .map_or(window_ms.from_ms, |seen| seen.max(window_ms.from_ms));
                let b = events::build_issue(issue, histories, after, rules)?;
                window_ms.contains(b.time_ms).then(|| (issue.id.clone(), b))
            })
            .collect()
    };
    built.sort_by_key(|(_, b)| (b.time_ms, b.order));
    built
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// Runs created.
    pub enqueued: usize,
    /// Events the inbox already had.
    pub duplicates: usize,
    /// Where the cursor was moved (before the store's never-backwards rule), if it was.
    pub advanced_to: Option<i64>,
    /// How many of the judged items were handed to the store (all unless truncated).
    pub taken: usize,
}

/// Hands the events of `built` (in order) to the store. With `advance_to`, the cursor moves
/// there in the same transaction as the last events, unless more than `max_new` new runs would
/// be created: then the store takes them in chunks, stops once `max_new` runs were created, and
/// the cursor moves only to the time of the last event taken (events at that same ms are read
/// again next time and dropped as duplicates). Without `advance_to` (replays) nothing moves.
///
/// # Errors
/// The store's error; events committed before it stay committed, the cursor stays behind them.
pub async fn enqueue(
    store: &dyn Store,
    flow: &str,
    built: &[(String, Built)],
    advance_to: Option<i64>,
    max_new: usize,
) -> Result<Enqueued, StoreError> {
    let max_new = max_new.max(1);
    let kept: Vec<(usize, i64)> = built
        .iter()
        .enumerate()
        .filter(|(_, (_, b))| b.event.is_some())
        .map(|(i, (_, b))| (i, b.time_ms))
        .collect();
    let mut out = Enqueued::default();
    if kept.is_empty() {
        if advance_to.is_some() {
            store.enqueue_events(flow, Vec::new(), advance_to).await?;
        }
        out.advanced_to = advance_to;
        out.taken = built.len();
        return Ok(out);
    }
    let mut next = 0;
    while next < kept.len() {
        // Duplicates do not count against the limit, so an overlap full of already-seen events
        // cannot stall the cursor.
        let budget = max_new.saturating_sub(out.enqueued).max(1);
        let end = (next + budget).min(kept.len());
        let last_chunk = end == kept.len();
        let events = kept[next..end]
            .iter()
            .filter_map(|(i, _)| built[*i].1.event.clone())
            .collect();
        let advance = if last_chunk { advance_to } else { None };
        let outcome = store.enqueue_events(flow, events, advance).await?;
        out.enqueued += outcome.enqueued.len();
        out.duplicates += usize::try_from(outcome.duplicates).unwrap_or(usize::MAX);
        next = end;
        if last_chunk {
            out.advanced_to = advance;
            out.taken = built.len();
            break;
        }
        if out.enqueued >= max_new {
            let (index, time) = kept[end - 1];
            if advance_to.is_some() {
                store.enqueue_events(flow, Vec::new(), Some(time)).await?;
                out.advanced_to = Some(time);
            }
            out.taken = index + 1;
            break;
        }
    }
    Ok(out)
}
