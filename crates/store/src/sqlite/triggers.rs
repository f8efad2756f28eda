//! Trigger state on SQLite (placeholder until implemented).

#![allow(clippy::todo)] // placeholder bodies, replaced by the SQLite implementation

use chrono::{DateTime, Utc};

use super::SqliteStore;
use crate::traits::{StoreFuture, TriggerStore};
use crate::triggers::{EnqueueOutcome, TriggerEvent, TriggerState, WebhookRegistration};

impl TriggerStore for SqliteStore {
    fn trigger_state<'a>(&'a self, _flow_name: &'a str) -> StoreFuture<'a, Option<TriggerState>> {
        todo!()
    }
    fn list_trigger_states(&self) -> StoreFuture<'_, Vec<TriggerState>> {
        todo!()
    }
    fn enqueue_events<'a>(
        &'a self,
        _flow_name: &'a str,
        _events: Vec<TriggerEvent>,
        _advance_cursor_to: Option<i64>,
    ) -> StoreFuture<'a, EnqueueOutcome> {
        todo!()
    }
    fn set_trigger_cursor<'a>(
        &'a self,
        _flow_name: &'a str,
        _cursor_ms: Option<i64>,
    ) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn record_poll_failure<'a>(
        &'a self,
        _flow_name: &'a str,
        _error: String,
    ) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn set_trigger_paused<'a>(
        &'a self,
        _flow_name: &'a str,
        _reason: Option<String>,
    ) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn save_webhook_registration<'a>(
        &'a self,
        _flow_name: &'a str,
        _registration: Option<WebhookRegistration>,
    ) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn record_webhook_delivery<'a>(
        &'a self,
        _identifier: &'a str,
        _received_at: DateTime<Utc>,
    ) -> StoreFuture<'a, bool> {
        todo!()
    }
    fn purge_webhook_deliveries(&self, _before: DateTime<Utc>) -> StoreFuture<'_, u64> {
        todo!()
    }
}
