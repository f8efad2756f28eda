//! Applied flows and their version history. Saving a flow writes the flow row, a
//! `flow_versions` row when the source changed, and the flow's connection references in one
//! `BEGIN IMMEDIATE` transaction, so an unknown connection leaves the previous flow untouched.

use super::SqliteStore;
use super::rows::{flow, flow_columns, now_ms, valid_name};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::runs::{FlowRecord, SaveFlow};
use crate::traits::{FlowStore, StoreFuture};

impl SqliteStore {
    async fn flow_by_name(&self, name: &str) -> StoreResult<Option<FlowRecord>> {
        sqlx::query(concat!(
            "SELECT ",
            flow_columns!(),
            " FROM flows WHERE name = $1"
        ))
        .bind(name.trim())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(flow)
        .transpose()
    }

    async fn flow_required(&self, name: &str) -> StoreResult<FlowRecord> {
        self.flow_by_name(name)
            .await?
            .ok_or_else(|| StoreError::not_found(RecordKind::Flow, name.trim()))
    }

    async fn save_flow_impl(&self, save: SaveFlow) -> StoreResult<FlowRecord> {
        let name = valid_name("flow name", &save.name)?;
        if save.source.trim().is_empty() {
            return Err(StoreError::invalid(
                "flow source",
                format!("flow {name:?} has an empty source"),
            ));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let current: Option<(i64, String)> =
            sqlx::query_as("SELECT version, source FROM flows WHERE name = $1")
                .bind(&name)
                .fetch_optional(&mut *tx)
                .await?;
        let (version, changed) = match current {
            Some((version, source)) if source == save.source => (version, false),
            Some((version, _)) => (version + 1, true),
            // A name used before (and deleted) continues its numbering: runs of the old flow
            // still point at their (name, version).
            None => (
                sqlx::query_scalar::<_, i64>(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM flow_versions WHERE name = $1",
                )
                .bind(&name)
                .fetch_one(&mut *tx)
                .await?,
                true,
            ),
        };
        if changed {
            sqlx::query(
                "INSERT INTO flow_versions (name, version, source, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&name)
            .bind(version)
            .bind(&save.source)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let written = sqlx::query(
            "INSERT INTO flows (name, version, source, file_name, enabled, applied_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (name) DO UPDATE SET name = excluded.name, version = excluded.version, \
             source = excluded.source, file_name = excluded.file_name, \
             enabled = excluded.enabled, applied_by = excluded.applied_by, \
             updated_at = excluded.updated_at",
        )
        .bind(&name)
        .bind(version)
        .bind(&save.source)
        .bind(&save.file_name)
        .bind(i64::from(save.enabled))
        .bind(save.applied_by.map(|u| u.to_string()))
        .bind(now)
        .execute(&mut *tx)
        .await;
        match written {
            Ok(_) => {}
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(StoreError::invalid(
                    "applied by",
                    format!("flow {name:?}: the applying user does not exist"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        // References are keyed by the flow's name; replace them wholesale so a connection the
        // flow stopped using can be deleted again.
        sqlx::query("DELETE FROM connection_refs WHERE flow_name = $1 COLLATE NOCASE")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        for connection in &save.connections {
            let added = sqlx::query(
                "INSERT INTO connection_refs (connection_id, flow_name) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(connection.to_string())
            .bind(&name)
            .execute(&mut *tx)
            .await;
            match added {
                Ok(_) => {}
                Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                    return Err(StoreError::not_found(RecordKind::Connection, connection));
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        self.flow_required(&name).await
    }

    async fn set_flow_enabled_impl(&self, name: &str, enabled: bool) -> StoreResult<FlowRecord> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE flows SET enabled = $1, updated_at = $2 WHERE name = $3")
            .bind(i64::from(enabled))
            .bind(now_ms())
            .bind(name.trim())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RecordKind::Flow, name.trim()));
        }
        tx.commit().await?;
        self.flow_required(name).await
    }

    async fn delete_flow_impl(&self, name: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM flows WHERE name = $1")
            .bind(name.trim())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RecordKind::Flow, name.trim()));
        }
        sqlx::query("DELETE FROM connection_refs WHERE flow_name = $1 COLLATE NOCASE")
            .bind(name.trim())
            .execute(&mut *tx)
            .await?;
        // Its runs stay (they outlive the flow); its cursor and webhook record do not.
        sqlx::query("DELETE FROM trigger_state WHERE flow_name = $1")
            .bind(name.trim())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl FlowStore for SqliteStore {
    fn save_flow(&self, flow: SaveFlow) -> StoreFuture<'_, FlowRecord> {
        Box::pin(self.save_flow_impl(flow))
    }

    fn get_flow<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<FlowRecord>> {
        Box::pin(self.flow_by_name(name))
    }

    fn list_flows(&self) -> StoreFuture<'_, Vec<FlowRecord>> {
        Box::pin(async move {
            sqlx::query(concat!(
                "SELECT ",
                flow_columns!(),
                " FROM flows ORDER BY name"
            ))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(flow)
            .collect()
        })
    }

    fn set_flow_enabled<'a>(&'a self, name: &'a str, enabled: bool) -> StoreFuture<'a, FlowRecord> {
        Box::pin(self.set_flow_enabled_impl(name, enabled))
    }

    fn delete_flow<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.delete_flow_impl(name))
    }

    fn flow_source<'a>(&'a self, name: &'a str, version: i64) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "SELECT source FROM flow_versions WHERE name = $1 AND version = $2",
            )
            .bind(name.trim())
            .bind(version)
            .fetch_optional(&self.read)
            .await?)
        })
    }
}
