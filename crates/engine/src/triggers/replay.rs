//! Replay: re-reads a past window and enqueues its events again without touching the cursor.
//! Events already in the inbox are dropped by their dedupe keys, unless forced: then each key
//! gets a `#replay-<uuid>` suffix (one uuid per replay) so every event runs once more.

use chrono::{DateTime, Utc};
use jiraflow_jira::JiraClient;
use jiraflow_store::Store;

use super::poll;
use super::window::Window;
use super::{PollReport, PollTrigger, TriggerError};

impl PollTrigger {
    /// Re-emits the events of `[from, to)` (Jira time). With `force`, events already run run
    /// again. The cursor does not move and no limit applies.
    ///
    /// # Errors
    /// [`TriggerError::Invalid`] when `to` is not after `from`; Jira and store failures.
    pub async fn replay(
        &self,
        jira: &JiraClient,
        store: &dyn Store,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        force: bool,
    ) -> Result<PollReport, TriggerError> {
        if to <= from {
            return Err(TriggerError::Invalid {
                flow: self.flow_name().to_owned(),
                message: format!("replay --to ({to}) must be after --from ({from})"),
            });
        }
        let w = Window {
            from_ms: from.timestamp_millis(),
            to_ms: to.timestamp_millis(),
        };
        let own = self.own_account(jira).await?;
        let reconcile = self.recent_writes().recent(self.connection());
        let snap = poll::read(
            jira,
            self.kind(),
            self.filter(),
            w,
            self.settings().page_size,
            reconcile,
            None,
        )
        .await
        .map_err(|e| self.jira_error(e))?;
        let mut built = poll::judge(&snap, w, self.rules(own.as_deref()), None);
        if force {
            let tag = uuid::Uuid::new_v4();
            for (_, b) in &mut built {
                if let Some(event) = &mut b.event {
                    event.dedupe_key = format!("{}#replay-{tag}", event.dedupe_key);
                }
            }
        }
        let done = poll::enqueue(store, self.flow_name(), &built, None, usize::MAX).await?;
        let cursor_ms = store
            .trigger_state(self.flow_name())
            .await?
            .and_then(|s| s.cursor_ms);
        Ok(PollReport {
            candidates: built.len(),
            enqueued: done.enqueued,
            duplicates: done.duplicates,
            filtered: built.iter().filter(|(_, b)| b.event.is_none()).count(),
            cursor_ms,
        })
    }
}
