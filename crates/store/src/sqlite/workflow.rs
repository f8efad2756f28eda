//! Flows, runs and the write ledger on SQLite (placeholder until implemented).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::SqliteStore;
use crate::ids::RunId;
use crate::runs::{
    ClaimedRun, FlowRecord, LedgerEntry, LedgerKey, NewRun, RunDetail, RunQuery, RunRecord,
    RunStatus, SaveFlow, StepRecord,
};
use crate::traits::{FlowStore, RunStore, StoreFuture, WriteLedger};

impl FlowStore for SqliteStore {
    fn save_flow(&self, _flow: SaveFlow) -> StoreFuture<'_, FlowRecord> {
        todo!()
    }
    fn get_flow<'a>(&'a self, _name: &'a str) -> StoreFuture<'a, Option<FlowRecord>> {
        todo!()
    }
    fn list_flows(&self) -> StoreFuture<'_, Vec<FlowRecord>> {
        todo!()
    }
    fn set_flow_enabled<'a>(
        &'a self,
        _name: &'a str,
        _enabled: bool,
    ) -> StoreFuture<'a, FlowRecord> {
        todo!()
    }
    fn delete_flow<'a>(&'a self, _name: &'a str) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn flow_source<'a>(&'a self, _name: &'a str, _version: i64) -> StoreFuture<'a, Option<String>> {
        todo!()
    }
}

impl RunStore for SqliteStore {
    fn create_run(&self, _run: NewRun) -> StoreFuture<'_, RunRecord> {
        todo!()
    }
    fn get_run(&self, _id: RunId) -> StoreFuture<'_, Option<RunDetail>> {
        todo!()
    }
    fn list_runs(&self, _query: RunQuery) -> StoreFuture<'_, Vec<RunRecord>> {
        todo!()
    }
    fn claim_run<'a>(
        &'a self,
        _owner: &'a str,
        _lease: Duration,
        _only: Option<RunId>,
    ) -> StoreFuture<'a, Option<ClaimedRun>> {
        todo!()
    }
    fn renew_claim<'a>(
        &'a self,
        _id: RunId,
        _owner: &'a str,
        _lease: Duration,
    ) -> StoreFuture<'a, bool> {
        todo!()
    }
    fn save_step<'a>(&'a self, _owner: &'a str, _step: StepRecord) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn finish_run<'a>(
        &'a self,
        _id: RunId,
        _owner: &'a str,
        _status: RunStatus,
        _error: Option<String>,
    ) -> StoreFuture<'a, RunRecord> {
        todo!()
    }
    fn purge_runs(&self, _before: DateTime<Utc>) -> StoreFuture<'_, u64> {
        todo!()
    }
}

impl WriteLedger for SqliteStore {
    fn ledger_get<'a>(&'a self, _key: &'a LedgerKey) -> StoreFuture<'a, Option<LedgerEntry>> {
        todo!()
    }
    fn ledger_pending<'a>(
        &'a self,
        _key: &'a LedgerKey,
        _attempt_started_at: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn ledger_commit<'a>(&'a self, _key: &'a LedgerKey, _jira_id: &'a str) -> StoreFuture<'a, ()> {
        todo!()
    }
    fn ledger_forget<'a>(&'a self, _key: &'a LedgerKey) -> StoreFuture<'a, ()> {
        todo!()
    }
}
