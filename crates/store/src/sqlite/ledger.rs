//! The write ledger: one row per (site, kind, scope, key) saying whether a create is in flight
//! (`pending`, with when it was sent) or happened (`committed`, with the Jira id it created).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::SqliteStore;
use super::rows::{from_ms, ms, now_ms};
use crate::error::{StoreError, StoreResult};
use crate::runs::{LedgerEntry, LedgerKey};
use crate::traits::{StoreFuture, WriteLedger};

const TABLE: &str = "write_ledger";

/// Site, kind and key identify the write; an empty one would make unrelated writes collide.
fn check_key(key: &LedgerKey) -> StoreResult<()> {
    for (field, value) in [
        ("ledger site", &key.site),
        ("ledger kind", &key.kind),
        ("ledger key", &key.key),
    ] {
        if value.trim().is_empty() {
            return Err(StoreError::invalid(
                field,
                format!(
                    "must not be empty (write {}/{}/{}/{})",
                    key.site, key.kind, key.scope, key.key
                ),
            ));
        }
    }
    Ok(())
}

impl SqliteStore {
    async fn ledger_get_impl(&self, key: &LedgerKey) -> StoreResult<Option<LedgerEntry>> {
        let row = sqlx::query(
            "SELECT state, jira_id, attempt_started_at, recorded_at FROM write_ledger \
             WHERE site = $1 AND kind = $2 AND scope = $3 AND key = $4",
        )
        .bind(&key.site)
        .bind(&key.kind)
        .bind(&key.scope)
        .bind(&key.key)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let state: String = row.try_get("state")?;
        let jira_id: Option<String> = row.try_get("jira_id")?;
        let attempt: Option<i64> = row.try_get("attempt_started_at")?;
        Ok(Some(match (state.as_str(), jira_id, attempt) {
            ("committed", Some(jira_id), _) => LedgerEntry::Committed {
                jira_id,
                recorded_at: from_ms(row.try_get("recorded_at")?, TABLE)?,
            },
            ("pending", _, Some(at)) => LedgerEntry::Pending {
                attempt_started_at: from_ms(at, TABLE)?,
            },
            (other, _, _) => {
                return Err(StoreError::Corrupt {
                    context: TABLE.to_owned(),
                    reason: format!("inconsistent entry in state {other:?}"),
                });
            }
        }))
    }

    async fn ledger_pending_impl(
        &self,
        key: &LedgerKey,
        attempt_started_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        check_key(key)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO write_ledger (site, kind, scope, key, state, jira_id, \
             attempt_started_at, recorded_at) VALUES ($1, $2, $3, $4, 'pending', NULL, $5, $6) \
             ON CONFLICT (site, kind, scope, key) DO UPDATE SET state = 'pending', \
             jira_id = NULL, attempt_started_at = excluded.attempt_started_at, \
             recorded_at = excluded.recorded_at",
        )
        .bind(&key.site)
        .bind(&key.kind)
        .bind(&key.scope)
        .bind(&key.key)
        .bind(ms(attempt_started_at))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ledger_commit_impl(&self, key: &LedgerKey, jira_id: &str) -> StoreResult<()> {
        check_key(key)?;
        let jira_id = jira_id.trim();
        if jira_id.is_empty() {
            return Err(StoreError::invalid(
                "ledger Jira id",
                format!(
                    "must not be empty (write {}/{}/{}/{})",
                    key.site, key.kind, key.scope, key.key
                ),
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO write_ledger (site, kind, scope, key, state, jira_id, \
             attempt_started_at, recorded_at) VALUES ($1, $2, $3, $4, 'committed', $5, NULL, $6) \
             ON CONFLICT (site, kind, scope, key) DO UPDATE SET state = 'committed', \
             jira_id = excluded.jira_id, recorded_at = excluded.recorded_at",
        )
        .bind(&key.site)
        .bind(&key.kind)
        .bind(&key.scope)
        .bind(&key.key)
        .bind(jira_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ledger_forget_impl(&self, key: &LedgerKey) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM write_ledger WHERE site = $1 AND kind = $2 AND scope = $3 AND key = $4",
        )
        .bind(&key.site)
        .bind(&key.kind)
        .bind(&key.scope)
        .bind(&key.key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl WriteLedger for SqliteStore {
    fn ledger_get<'a>(&'a self, key: &'a LedgerKey) -> StoreFuture<'a, Option<LedgerEntry>> {
        Box::pin(self.ledger_get_impl(key))
    }

    fn ledger_pending<'a>(
        &'a self,
        key: &'a LedgerKey,
        attempt_started_at: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.ledger_pending_impl(key, attempt_started_at))
    }

    fn ledger_commit<'a>(&'a self, key: &'a LedgerKey, jira_id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.ledger_commit_impl(key, jira_id))
    }

    fn ledger_forget<'a>(&'a self, key: &'a LedgerKey) -> StoreFuture<'a, ()> {
        Box::pin(self.ledger_forget_impl(key))
    }
}
