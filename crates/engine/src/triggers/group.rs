//! Shared polls: triggers of several flows with the same share key (connection, trigger type,
//! normalised filter) read Jira once per poll, over the union of their windows, and each
//! enqueues its own events with its own cursor, filters and limit. A single trigger's poll is a
//! group of one.

use chrono::{DateTime, Utc};
use jiraflow_jira::JiraClient;
use jiraflow_store::Store;

use super::poll::{self, Snapshot};
use super::window::{self, Plan, Window};
use super::{PollReport, PollTrigger, TriggerError};

/// Polling triggers that share one read of Jira.
#[derive(Debug, Clone)]
pub struct PollGroup {
    key: String,
    members: Vec<PollTrigger>,
}

/// One member's outcome: its flow and its report or error.
pub type MemberResult = (String, Result<PollReport, TriggerError>);

impl PollGroup {
    /// A group of triggers with one share key.
    ///
    /// # Errors
    /// [`TriggerError::Invalid`] when the group is empty or the keys differ.
    pub fn new(members: Vec<PollTrigger>) -> Result<Self, TriggerError> {
        let Some(first) = members.first() else {
            return Err(TriggerError::Invalid {
                flow: String::new(),
                message: "a poll group needs at least one trigger".to_owned(),
            });
        };
        let key = first.share_key();
        if let Some(other) = members.iter().find(|m| m.share_key() != key) {
            return Err(TriggerError::Invalid {
                flow: other.flow_name().to_owned(),
                message: format!(
                    "cannot share a poll: its key {:?} differs from the group's {key:?}",
                    other.share_key()
                ),
            });
        }
        Ok(Self { key, members })
    }

    pub(crate) fn single(trigger: PollTrigger) -> Self {
        Self {
            key: trigger.share_key(),
            members: vec![trigger],
        }
    }

    /// The share key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The members, in the order given.
    pub fn members(&self) -> &[PollTrigger] {
        &self.members
    }

    /// Polls every member once, reading Jira once. The outer error is a failure of the shared
    /// read (Jira's time, the connection's account, the search): no member's cursor moved.
    /// Member errors (their store writes) are per member. Recording failures is the caller's.
    ///
    /// # Errors
    /// The shared read's failure.
    pub async fn poll_once(
        &self,
        jira: &JiraClient,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<Vec<MemberResult>, TriggerError> {
        let Some(lead) = self.members.first() else {
            return Ok(Vec::new());
        };
        let jira_now = window::jira_now_ms(jira, now)
            .await
            .map_err(|e| lead.jira_error(e))?;
        let mut results: Vec<Option<Result<PollReport, TriggerError>>> =
            self.members.iter().map(|_| None).collect();
        let mut reads: Vec<(usize, Window, Option<i64>)> = Vec::new();
        for (index, member) in self.members.iter().enumerate() {
            let settle = ms(member.settings().settle);
            let overlap = ms(member.settings().overlap);
            let upper = jira_now.saturating_sub(settle);
            let cursor = match store.trigger_state(member.flow_name()).await {
                Ok(state) => state.and_then(|s| s.cursor_ms),
                Err(e) => {
                    results[index] = Some(Err(e.into()));
                    continue;
                }
            };
            match window::plan(cursor, member.start(), member.floor(), upper, overlap) {
                Plan::Initialize(at) => {
                    let outcome = store
                        .enqueue_events(member.flow_name(), Vec::new(), Some(at))
                        .await;
                    results[index] = Some(match outcome {
                        Ok(_) => {
                            member.set_floor(at);
                            Ok(PollReport {
                                cursor_ms: Some(at),
                                ..PollReport::default()
                            })
                        }
                        Err(e) => Err(e.into()),
                    });
                }
                Plan::Read(w) => reads.push((index, w, cursor)),
            }
        }
        if let Some(span) = reads.iter().map(|(_, w, _)| *w).reduce(Window::union) {
            let own = if self
                .members
                .iter()
                .any(|m| m.spec.options.ignores_own_changes())
            {
                lead.own_account(jira).await?
            } else {
                None
            };
            let reconcile = lead.recent_writes().recent(lead.connection());
            // Read no more than the readers can enqueue this time: past the earliest cursor,
            // at most one poll's worth of issues.
            let cap = poll::ReadCap {
                fresh_from_ms: reads
                    .iter()
                    .map(|(_, w, cursor)| cursor.unwrap_or(w.from_ms))
                    .min()
                    .unwrap_or(span.from_ms),
                max_fresh: self
                    .members
                    .iter()
                    .map(|m| m.settings().max_events_per_poll)
                    .max()
                    .unwrap_or(usize::MAX),
            };
            let snap = poll::read(
                jira,
                lead.kind(),
                lead.filter(),
                span,
                lead.settings().page_size,
                reconcile,
                Some(cap),
            )
            .await
            .map_err(|e| lead.jira_error(e))?;
            for (index, w, cursor) in reads {
                let member = &self.members[index];
                let w = snap.complete_before_ms.map_or(w, |end| Window {
                    from_ms: w.from_ms,
                    to_ms: w.to_ms.min(end),
                });
                let own = own
                    .as_deref()
                    .filter(|_| member.spec.options.ignores_own_changes());
                results[index] = Some(poll_member(member, store, &snap, w, cursor, own).await);
            }
        }
        Ok(self
            .members
            .iter()
            .zip(results)
            .map(|(m, r)| {
                (
                    m.flow_name().to_owned(),
                    r.unwrap_or_else(|| Ok(PollReport::default())),
                )
            })
            .collect())
    }
}

/// One member's part of a shared poll: judge, enqueue, remember what was reported.
async fn poll_member(
    member: &PollTrigger,
    store: &dyn Store,
    snap: &Snapshot,
    w: Window,
    cursor: Option<i64>,
    own: Option<&str>,
) -> Result<PollReport, TriggerError> {
    let last_seen = member.last_seen_map();
    let built = poll::judge(snap, w, member.rules(own), Some(&last_seen));
    let done = poll::enqueue(
        store,
        member.flow_name(),
        &built,
        Some(w.to_ms),
        member.settings().max_events_per_poll,
    )
    .await?;
    if member.kind().fires_on_update() {
        let seen = built
            .iter()
            .take(done.taken)
            .filter(|(_, b)| b.event.is_some())
            .map(|(id, b)| (id.clone(), b.time_ms));
        member.note_seen(
            seen,
            w.from_ms.saturating_sub(ms(member.settings().overlap)),
        );
    }
    let filtered = built.iter().filter(|(_, b)| b.event.is_none()).count();
    Ok(PollReport {
        candidates: built.len(),
        enqueued: done.enqueued,
        duplicates: done.duplicates,
        filtered,
        cursor_ms: match (cursor, done.advanced_to) {
            (Some(c), Some(a)) => Some(c.max(a)),
            (c, a) => a.or(c),
        },
    })
}

/// A duration in ms, saturating.
pub(crate) fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
