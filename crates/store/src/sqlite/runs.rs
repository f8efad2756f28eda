//! Runs, their steps, and the claim protocol that makes the runs table a work queue shared by
//! every process on the database file.
//!
//! A claim is one `UPDATE ... WHERE id = (SELECT oldest claimable)` inside a `BEGIN IMMEDIATE`
//! transaction: SQLite's write lock serialises claimers across processes, so a run is handed to
//! exactly one worker per lease. Step saves and finishing check `lease_owner` under the same
//! lock, so a worker that lost its lease cannot write over the new holder's history.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use super::rows::{
    from_ms, json_text, ms, now_ms, run, run_columns, step, step_columns, valid_name,
};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::ids::RunId;
use crate::runs::{
    ClaimedRun, NewRun, RunDetail, RunOrigin, RunQuery, RunRecord, RunStatus, StepRecord,
};
use crate::traits::{RunStore, StoreFuture};

/// `list_runs` without a limit.
const DEFAULT_LIST_LIMIT: u32 = 100;
/// `list_runs` never returns more than this.
const MAX_LIST_LIMIT: u32 = 1_000;

/// When a lease taken now for `lease` ends, in epoch milliseconds.
fn lease_end(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// A new run's row: a pending run nobody has claimed yet.
pub(super) struct RunRow<'a> {
    pub id: RunId,
    /// The flow's stored spelling.
    pub flow_name: &'a str,
    pub flow_version: i64,
    pub origin: RunOrigin,
    /// The trigger payload as JSON text.
    pub trigger: &'a str,
    pub dedupe_key: Option<&'a str>,
    pub created_at: i64,
}

/// What [`insert_run`] does with a dedupe key the flow has already used.
#[derive(Clone, Copy)]
pub(super) enum OnUsedKey {
    /// Fail with a UNIQUE violation (a manual enqueue wants to hear about it).
    Fail,
    /// Insert nothing (a trigger seeing the same event again).
    Skip,
}

/// Inserts a pending run; `false` when `OnUsedKey::Skip` dropped it. Both statements are
/// constant strings, so a caller inserting in a loop reuses one prepared statement.
pub(super) async fn insert_run(
    tx: &mut Transaction<'static, Sqlite>,
    row: &RunRow<'_>,
    on_used_key: OnUsedKey,
) -> Result<bool, sqlx::Error> {
    let sql = match on_used_key {
        OnUsedKey::Fail => {
            "INSERT INTO runs (id, flow_name, flow_version, origin, trigger, dedupe_key, status, \
             claims, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7)"
        }
        OnUsedKey::Skip => {
            "INSERT INTO runs (id, flow_name, flow_version, origin, trigger, dedupe_key, status, \
             claims, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7) \
             ON CONFLICT (flow_name, dedupe_key) DO NOTHING"
        }
    };
    let done = sqlx::query(sql)
        .bind(row.id.to_string())
        .bind(row.flow_name)
        .bind(row.flow_version)
        .bind(row.origin.as_str())
        .bind(row.trigger)
        .bind(row.dedupe_key)
        .bind(row.created_at)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

async fn run_in(tx: &mut Transaction<'static, Sqlite>, id: &str) -> StoreResult<Option<RunRecord>> {
    sqlx::query(concat!(
        "SELECT ",
        run_columns!(),
        " FROM runs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(run)
    .transpose()
}

async fn steps_in(tx: &mut Transaction<'static, Sqlite>, id: &str) -> StoreResult<Vec<StepRecord>> {
    sqlx::query(concat!(
        "SELECT ",
        step_columns!(),
        " FROM run_steps WHERE run_id = $1 ORDER BY idx"
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(step)
    .collect()
}

/// Explains why `owner` may not write to run `id`: it does not exist, or someone else (or
/// nobody) holds it.
async fn not_held(
    tx: &mut Transaction<'static, Sqlite>,
    id: RunId,
    owner: &str,
) -> StoreResult<StoreError> {
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT status, lease_owner FROM runs WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match row {
        None => StoreError::not_found(RecordKind::Run, id),
        Some((status, holder)) => StoreError::invalid(
            "run",
            format!(
                "run {id} is not held by {owner:?} (status {status}, held by {}); another \
                 worker took it over",
                holder.map_or_else(|| "nobody".to_owned(), |h| format!("{h:?}"))
            ),
        ),
    })
}

impl SqliteStore {
    async fn create_run_impl(&self, new: NewRun) -> StoreResult<RunRecord> {
        let flow_name = valid_name("flow name", &new.flow_name)?;
        let id = RunId::new();
        let mut tx = self.begin_write().await?;
        // The stored spelling of the name, so runs of "Triage" and "triage" list together.
        let stored: Option<String> = sqlx::query_scalar("SELECT name FROM flows WHERE name = $1")
            .bind(&flow_name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(flow_name) = stored else {
            return Err(StoreError::not_found(RecordKind::Flow, flow_name));
        };
        let known_version: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM flow_versions WHERE name = $1 AND version = $2",
        )
        .bind(&flow_name)
        .bind(new.flow_version)
        .fetch_optional(&mut *tx)
        .await?;
        if known_version.is_none() {
            return Err(StoreError::invalid(
                "flow version",
                format!("flow {flow_name:?} has no version {}", new.flow_version),
            ));
        }
        let inserted = insert_run(
            &mut tx,
            &RunRow {
                id,
                flow_name: &flow_name,
                flow_version: new.flow_version,
                origin: new.origin,
                trigger: &json_text(&new.trigger),
                dedupe_key: new.dedupe_key.as_deref(),
                created_at: now_ms(),
            },
            OnUsedKey::Fail,
        )
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Duplicate {
                    kind: RecordKind::Run,
                    name: format!(
                        "{flow_name}/{}",
                        new.dedupe_key.as_deref().unwrap_or_default()
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let created = run_in(&mut tx, &id.to_string()).await?;
        tx.commit().await?;
        created.ok_or_else(|| StoreError::not_found(RecordKind::Run, id))
    }

    async fn get_run_impl(&self, id: RunId) -> StoreResult<Option<RunDetail>> {
        // One read transaction: the run and its steps come from the same snapshot.
        let mut tx = self.read.begin().await?;
        let Some(run) = run_in(&mut tx, &id.to_string()).await? else {
            return Ok(None);
        };
        let steps = steps_in(&mut tx, &id.to_string()).await?;
        tx.commit().await?;
        Ok(Some(RunDetail { run, steps }))
    }

    async fn list_runs_impl(&self, query: RunQuery) -> StoreResult<Vec<RunRecord>> {
        let limit = query
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .min(MAX_LIST_LIMIT);
        sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE ($1 IS NULL OR flow_name = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY created_at DESC, rowid DESC LIMIT $3"
        ))
        .bind(query.flow_name.as_deref().map(str::trim))
        .bind(query.status.map(RunStatus::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(run)
        .collect()
    }

    async fn claim_run_impl(
        &self,
        owner: &str,
        lease: Duration,
        only: Option<RunId>,
    ) -> StoreResult<Option<ClaimedRun>> {
        let owner = valid_name("worker name", owner)?;
        let now = now_ms();
        let until = lease_end(now, lease);
        let mut tx = self.begin_write().await?;
        // Both shapes pick their row through the `(status, created_at)` index (or the primary
        // key), so a claim costs the same with ten pending runs or a hundred thousand: a single
        // `status = 'pending' OR (...)` condition would make SQLite scan and sort the backlog.
        let claimed: Option<String> =
            match only {
                Some(id) => sqlx::query_scalar(
                    "UPDATE runs SET status = 'running', claims = claims + 1, lease_owner = $1, \
                     lease_expires_at = $2, started_at = COALESCE(started_at, $3) \
                     WHERE id = $4 \
                       AND (status = 'pending' OR (status = 'running' AND lease_expires_at < $3)) \
                     RETURNING id",
                )
                .bind(&owner)
                .bind(until)
                .bind(now)
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?,
                None => sqlx::query_scalar(
                    "UPDATE runs SET status = 'running', claims = claims + 1, lease_owner = $1, \
                     lease_expires_at = $2, started_at = COALESCE(started_at, $3) \
                     WHERE id = (SELECT id FROM ( \
                         SELECT * FROM (SELECT id, created_at, rowid AS seq FROM runs \
                             WHERE status = 'pending' ORDER BY created_at, rowid LIMIT 1) \
                         UNION ALL \
                         SELECT * FROM (SELECT id, created_at, rowid AS seq FROM runs \
                             WHERE status = 'running' AND lease_expires_at < $3 \
                             ORDER BY created_at, rowid LIMIT 1)) \
                         ORDER BY created_at, seq LIMIT 1) \
                     RETURNING id",
                )
                .bind(&owner)
                .bind(until)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?,
            };
        let Some(id) = claimed else {
            tx.commit().await?;
            return Ok(None);
        };
        let run = run_in(&mut tx, &id)
            .await?
            .ok_or_else(|| StoreError::not_found(RecordKind::Run, &id))?;
        let steps = steps_in(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(Some(ClaimedRun {
            run,
            steps,
            owner,
            lease_expires_at: from_ms(until, "runs")?,
        }))
    }

    async fn renew_claim_impl(&self, id: RunId, owner: &str, lease: Duration) -> StoreResult<bool> {
        let until = lease_end(now_ms(), lease);
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE runs SET lease_expires_at = $1 \
             WHERE id = $2 AND status = 'running' AND lease_owner = $3",
        )
        .bind(until)
        .bind(id.to_string())
        .bind(owner.trim())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn save_step_impl(&self, owner: &str, step: StepRecord) -> StoreResult<()> {
        let owner = owner.trim();
        let mut tx = self.begin_write().await?;
        // The ownership check and the write share one statement under the write lock.
        let done = sqlx::query(
            "INSERT INTO run_steps (run_id, idx, step_id, action, status, attempts, input, \
             output, error, started_at, finished_at, duration_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1 AND status = 'running' \
                           AND lease_owner = $13) \
             ON CONFLICT (run_id, idx) DO UPDATE SET step_id = excluded.step_id, \
             action = excluded.action, status = excluded.status, \
             attempts = excluded.attempts, input = excluded.input, output = excluded.output, \
             error = excluded.error, started_at = excluded.started_at, \
             finished_at = excluded.finished_at, duration_ms = excluded.duration_ms",
        )
        .bind(step.run_id.to_string())
        .bind(i64::from(step.index))
        .bind(&step.step_id)
        .bind(&step.action)
        .bind(step.status.as_str())
        .bind(i64::from(step.attempts))
        .bind(step.input.as_ref().map(json_text))
        .bind(step.output.as_ref().map(json_text))
        .bind(step.error.as_ref().map(json_text))
        .bind(step.started_at.map(ms))
        .bind(step.finished_at.map(ms))
        .bind(step.duration_ms)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_held(&mut tx, step.run_id, owner).await?);
        }
        tx.commit().await?;
        Ok(())
    }

    async fn finish_run_impl(
        &self,
        id: RunId,
        owner: &str,
        status: RunStatus,
        error: Option<String>,
    ) -> StoreResult<RunRecord> {
        if !status.is_final() {
            return Err(StoreError::invalid(
                "run status",
                format!(
                    "run {id} cannot finish as {}: use succeeded or failed",
                    status.as_str()
                ),
            ));
        }
        let owner = owner.trim();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE runs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = $4 AND status = 'running' AND lease_owner = $5",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now_ms())
        .bind(id.to_string())
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_held(&mut tx, id, owner).await?);
        }
        let finished = run_in(&mut tx, &id.to_string()).await?;
        tx.commit().await?;
        finished.ok_or_else(|| StoreError::not_found(RecordKind::Run, id))
    }

    async fn purge_runs_impl(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        // Steps go with their run through ON DELETE CASCADE.
        let done = sqlx::query(
            "DELETE FROM runs WHERE status IN ('succeeded', 'failed') AND finished_at < $1",
        )
        .bind(ms(before))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

impl RunStore for SqliteStore {
    fn create_run(&self, run: NewRun) -> StoreFuture<'_, RunRecord> {
        Box::pin(self.create_run_impl(run))
    }

    fn get_run(&self, id: RunId) -> StoreFuture<'_, Option<RunDetail>> {
        Box::pin(self.get_run_impl(id))
    }

    fn list_runs(&self, query: RunQuery) -> StoreFuture<'_, Vec<RunRecord>> {
        Box::pin(self.list_runs_impl(query))
    }

    fn claim_run<'a>(
        &'a self,
        owner: &'a str,
        lease: Duration,
        only: Option<RunId>,
    ) -> StoreFuture<'a, Option<ClaimedRun>> {
        Box::pin(self.claim_run_impl(owner, lease, only))
    }

    fn renew_claim<'a>(
        &'a self,
        id: RunId,
        owner: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.renew_claim_impl(id, owner, lease))
    }

    fn save_step<'a>(&'a self, owner: &'a str, step: StepRecord) -> StoreFuture<'a, ()> {
        Box::pin(self.save_step_impl(owner, step))
    }

    fn finish_run<'a>(
        &'a self,
        id: RunId,
        owner: &'a str,
        status: RunStatus,
        error: Option<String>,
    ) -> StoreFuture<'a, RunRecord> {
        Box::pin(self.finish_run_impl(id, owner, status, error))
    }

    fn purge_runs(&self, before: DateTime<Utc>) -> StoreFuture<'_, u64> {
        Box::pin(self.purge_runs_impl(before))
    }
}
