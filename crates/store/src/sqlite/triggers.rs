//! Trigger state on SQLite: each flow's cursor, poll health, pause and webhook registration in
//! `trigger_state`, the delivery identifiers already received in `webhook_deliveries`, and the
//! enqueue transaction that turns events into runs.
//!
//! `enqueue_events` inserts the runs and moves the cursor in one `BEGIN IMMEDIATE` transaction:
//! a crash either loses both (the next poll sees the events again) or keeps both (the cursor is
//! past them), and `UNIQUE (flow_name, dedupe_key)` drops an event seen twice, so an event
//! starts exactly one run. Every write names a flow that must exist (`NotFound` otherwise), and
//! the state row is created on its first write.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use super::rows::{
    events_json, json_text, ms, now_ms, trigger_state, trigger_state_columns, valid_name,
};
use super::runs::{OnUsedKey, RunRow, insert_run};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::ids::RunId;
use crate::runs::RunOrigin;
use crate::traits::{StoreFuture, TriggerStore};
use crate::triggers::{EnqueueOutcome, TriggerEvent, TriggerState, WebhookRegistration};

/// Longest accepted webhook delivery identifier, in bytes (Jira's are short; this only stops
/// a hostile request from filling the table with huge keys).
const MAX_DELIVERY_ID_BYTES: usize = 512;

/// The flow's stored spelling and current version, or `NotFound`.
async fn stored_flow(
    tx: &mut Transaction<'static, Sqlite>,
    name: &str,
) -> StoreResult<(String, i64)> {
    let name = valid_name("flow name", name)?;
    let found: Option<(String, i64)> =
        sqlx::query_as("SELECT name, version FROM flows WHERE name = $1")
            .bind(&name)
            .fetch_optional(&mut **tx)
            .await?;
    found.ok_or_else(|| StoreError::not_found(RecordKind::Flow, name))
}

/// A count as SQLite stores it (saturating: no call enqueues 2^63 events).
fn count_i64<T: TryInto<i64>>(value: T) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

impl SqliteStore {
    async fn trigger_state_impl(&self, flow_name: &str) -> StoreResult<Option<TriggerState>> {
        sqlx::query(concat!(
            "SELECT ",
            trigger_state_columns!(),
            " FROM trigger_state t JOIN flows f ON f.name = t.flow_name WHERE t.flow_name = $1"
        ))
        .bind(flow_name.trim())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(trigger_state)
        .transpose()
    }

    async fn list_trigger_states_impl(&self) -> StoreResult<Vec<TriggerState>> {
        sqlx::query(concat!(
            "SELECT ",
            trigger_state_columns!(),
            " FROM trigger_state t JOIN flows f ON f.name = t.flow_name ORDER BY f.name"
        ))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(trigger_state)
        .collect()
    }

    async fn enqueue_events_impl(
        &self,
        flow_name: &str,
        events: Vec<TriggerEvent>,
        advance_cursor_to: Option<i64>,
    ) -> StoreResult<EnqueueOutcome> {
        if let Some(event) = events.iter().find(|e| e.dedupe_key.trim().is_empty()) {
            return Err(StoreError::invalid(
                "dedupe key",
                format!(
                    "flow {:?}: an event has an empty dedupe key (payload {})",
                    flow_name.trim(),
                    json_text(&event.payload)
                ),
            ));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let (flow_name, version) = stored_flow(&mut tx, flow_name).await?;
        let mut outcome = EnqueueOutcome {
            enqueued: Vec::with_capacity(events.len()),
            duplicates: 0,
        };
        for event in &events {
            let id = RunId::new();
            let created = insert_run(
                &mut tx,
                &RunRow {
                    id,
                    flow_name: &flow_name,
                    flow_version: version,
                    origin: RunOrigin::Trigger,
                    trigger: &json_text(&event.payload),
                    dedupe_key: Some(&event.dedupe_key),
                    created_at: now,
                },
                OnUsedKey::Skip,
            )
            .await?;
            if created {
                outcome.enqueued.push(id);
            } else {
                outcome.duplicates += 1;
            }
        }
        let polled_at = advance_cursor_to.map(|_| now);
        let event_at = (!outcome.enqueued.is_empty()).then_some(now);
        // On conflict, unqualified columns are the stored row's and `excluded.*` this call's.
        sqlx::query(
            "INSERT INTO trigger_state (flow_name, cursor_ms, last_poll_at, last_success_at, \
             last_error, consecutive_failures, last_event_at, events_enqueued, \
             duplicates_dropped, updated_at) \
             VALUES ($1, $2, $3, $3, NULL, 0, $4, $5, $6, $7) \
             ON CONFLICT (flow_name) DO UPDATE SET \
             cursor_ms = CASE WHEN excluded.cursor_ms IS NULL THEN cursor_ms \
                 WHEN cursor_ms IS NULL THEN excluded.cursor_ms \
                 ELSE MAX(cursor_ms, excluded.cursor_ms) END, \
             last_poll_at = COALESCE(excluded.last_poll_at, last_poll_at), \
             last_success_at = COALESCE(excluded.last_success_at, last_success_at), \
             last_error = CASE WHEN excluded.last_poll_at IS NULL THEN last_error END, \
             consecutive_failures = CASE WHEN excluded.last_poll_at IS NULL \
                 THEN consecutive_failures ELSE 0 END, \
             last_event_at = COALESCE(excluded.last_event_at, last_event_at), \
             events_enqueued = events_enqueued + excluded.events_enqueued, \
             duplicates_dropped = duplicates_dropped + excluded.duplicates_dropped, \
             updated_at = excluded.updated_at",
        )
        .bind(&flow_name)
        .bind(advance_cursor_to)
        .bind(polled_at)
        .bind(event_at)
        .bind(count_i64(outcome.enqueued.len()))
        .bind(count_i64(outcome.duplicates))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn set_trigger_cursor_impl(
        &self,
        flow_name: &str,
        cursor_ms: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let (flow_name, _) = stored_flow(&mut tx, flow_name).await?;
        sqlx::query(
            "INSERT INTO trigger_state (flow_name, cursor_ms, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (flow_name) DO UPDATE SET cursor_ms = excluded.cursor_ms, \
             updated_at = excluded.updated_at",
        )
        .bind(&flow_name)
        .bind(cursor_ms)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_poll_failure_impl(&self, flow_name: &str, error: String) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let (flow_name, _) = stored_flow(&mut tx, flow_name).await?;
        sqlx::query(
            "INSERT INTO trigger_state (flow_name, last_poll_at, last_error, \
             consecutive_failures, updated_at) VALUES ($1, $2, $3, 1, $2) \
             ON CONFLICT (flow_name) DO UPDATE SET last_poll_at = excluded.last_poll_at, \
             last_error = excluded.last_error, consecutive_failures = consecutive_failures + 1, \
             updated_at = excluded.updated_at",
        )
        .bind(&flow_name)
        .bind(now)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_trigger_paused_impl(
        &self,
        flow_name: &str,
        reason: Option<String>,
    ) -> StoreResult<()> {
        if reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(StoreError::invalid(
                "pause reason",
                format!(
                    "flow {:?}: a paused trigger needs a reason (use None to resume)",
                    flow_name.trim()
                ),
            ));
        }
        let mut tx = self.begin_write().await?;
        let (flow_name, _) = stored_flow(&mut tx, flow_name).await?;
        sqlx::query(
            "INSERT INTO trigger_state (flow_name, paused_reason, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (flow_name) DO UPDATE SET paused_reason = excluded.paused_reason, \
             updated_at = excluded.updated_at",
        )
        .bind(&flow_name)
        .bind(reason)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_webhook_registration_impl(
        &self,
        flow_name: &str,
        registration: Option<WebhookRegistration>,
    ) -> StoreResult<()> {
        if let Some(reg) = &registration {
            let problem = if reg.jql.trim().is_empty() {
                Some("has an empty JQL filter")
            } else if reg.events.is_empty() {
                Some("registers no events")
            } else if reg.events.iter().any(|e| e.trim().is_empty()) {
                Some("has an empty event name")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(StoreError::invalid(
                    "webhook registration",
                    format!(
                        "flow {:?}: webhook {} {problem}",
                        flow_name.trim(),
                        reg.webhook_id
                    ),
                ));
            }
        }
        let mut tx = self.begin_write().await?;
        let (flow_name, _) = stored_flow(&mut tx, flow_name).await?;
        let reg = registration.as_ref();
        sqlx::query(
            "INSERT INTO trigger_state (flow_name, webhook_id, webhook_connection_id, \
             webhook_jql, webhook_events, webhook_expires_at, webhook_refreshed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (flow_name) DO UPDATE SET webhook_id = excluded.webhook_id, \
             webhook_connection_id = excluded.webhook_connection_id, \
             webhook_jql = excluded.webhook_jql, webhook_events = excluded.webhook_events, \
             webhook_expires_at = excluded.webhook_expires_at, \
             webhook_refreshed_at = excluded.webhook_refreshed_at, \
             updated_at = excluded.updated_at",
        )
        .bind(&flow_name)
        .bind(reg.map(|r| r.webhook_id))
        .bind(reg.map(|r| r.connection_id.to_string()))
        .bind(reg.map(|r| r.jql.clone()))
        .bind(reg.map(|r| events_json(&r.events)))
        .bind(reg.map(|r| ms(r.expires_at)))
        .bind(reg.map(|r| ms(r.refreshed_at)))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_webhook_delivery_impl(
        &self,
        identifier: &str,
        received_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let identifier = identifier.trim();
        if identifier.is_empty() || identifier.len() > MAX_DELIVERY_ID_BYTES {
            return Err(StoreError::invalid(
                "webhook delivery identifier",
                format!(
                    "must be 1 to {MAX_DELIVERY_ID_BYTES} bytes, got {} bytes",
                    identifier.len()
                ),
            ));
        }
        let mut tx = self.begin_write().await?;
        // INSERT OR IGNORE changes one row only for the first recording; the PRIMARY KEY makes
        // that decision under the write lock, whichever process gets there first.
        let done = sqlx::query(
            "INSERT OR IGNORE INTO webhook_deliveries (identifier, received_at) VALUES ($1, $2)",
        )
        .bind(identifier)
        .bind(ms(received_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_webhook_deliveries_impl(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
            .bind(ms(before))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

impl TriggerStore for SqliteStore {
    fn trigger_state<'a>(&'a self, flow_name: &'a str) -> StoreFuture<'a, Option<TriggerState>> {
        Box::pin(self.trigger_state_impl(flow_name))
    }

    fn list_trigger_states(&self) -> StoreFuture<'_, Vec<TriggerState>> {
        Box::pin(self.list_trigger_states_impl())
    }

    fn enqueue_events<'a>(
        &'a self,
        flow_name: &'a str,
        events: Vec<TriggerEvent>,
        advance_cursor_to: Option<i64>,
    ) -> StoreFuture<'a, EnqueueOutcome> {
        Box::pin(self.enqueue_events_impl(flow_name, events, advance_cursor_to))
    }

    fn set_trigger_cursor<'a>(
        &'a self,
        flow_name: &'a str,
        cursor_ms: Option<i64>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_trigger_cursor_impl(flow_name, cursor_ms))
    }

    fn record_poll_failure<'a>(&'a self, flow_name: &'a str, error: String) -> StoreFuture<'a, ()> {
        Box::pin(self.record_poll_failure_impl(flow_name, error))
    }

    fn set_trigger_paused<'a>(
        &'a self,
        flow_name: &'a str,
        reason: Option<String>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_trigger_paused_impl(flow_name, reason))
    }

    fn save_webhook_registration<'a>(
        &'a self,
        flow_name: &'a str,
        registration: Option<WebhookRegistration>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.save_webhook_registration_impl(flow_name, registration))
    }

    fn record_webhook_delivery<'a>(
        &'a self,
        identifier: &'a str,
        received_at: DateTime<Utc>,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.record_webhook_delivery_impl(identifier, received_at))
    }

    fn purge_webhook_deliveries(&self, before: DateTime<Utc>) -> StoreFuture<'_, u64> {
        Box::pin(self.purge_webhook_deliveries_impl(before))
    }
}
