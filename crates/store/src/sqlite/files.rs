//! File object records on SQLite (table `files`, migration 0003). Sizes are INTEGER (bytes),
//! instants epoch milliseconds, the owner a kind plus an optional id.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use super::parse_id;
use super::rows::{from_ms, ms, opt_from_ms};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::files::{FileObject, FileOwner, FileQuery, validate_file_object};
use crate::ids::{FileId, RunId};
use crate::traits::{FileObjectStore, StoreFuture};

/// Columns read by [`file_object`], as a literal for `concat!`.
macro_rules! file_columns {
    () => {
        "id, name, media_type, size, sha256, created_at, expires_at, owner_kind, owner_id"
    };
}

fn file_object(row: &SqliteRow) -> StoreResult<FileObject> {
    let ctx = "files";
    let kind: &str = row.try_get("owner_kind")?;
    let owner_id: Option<&str> = row.try_get("owner_id")?;
    let owner = match (kind, owner_id) {
        ("run", Some(id)) => FileOwner::Run(parse_id(id, ctx)?),
        ("user", Some(id)) => FileOwner::User(parse_id(id, ctx)?),
        ("system", None) => FileOwner::System,
        _ => {
            return Err(StoreError::Corrupt {
                context: ctx.to_owned(),
                reason: format!("owner {kind:?} with id {owner_id:?}"),
            });
        }
    };
    let size: i64 = row.try_get("size")?;
    Ok(FileObject {
        id: parse_id(row.try_get("id")?, ctx)?,
        name: row.try_get("name")?,
        media_type: row.try_get("media_type")?,
        size: u64::try_from(size).map_err(|_| StoreError::Corrupt {
            context: ctx.to_owned(),
            reason: format!("negative size {size}"),
        })?,
        sha256: row.try_get("sha256")?,
        created_at: from_ms(row.try_get("created_at")?, ctx)?,
        expires_at: opt_from_ms(row.try_get("expires_at")?, ctx)?,
        owner,
    })
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl SqliteStore {
    async fn file_by_id(&self, id: FileId) -> StoreResult<Option<FileObject>> {
        sqlx::query(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(file_object)
        .transpose()
    }

    async fn create_file_impl(&self, file: FileObject) -> StoreResult<FileObject> {
        validate_file_object(&file)?;
        let size = i64::try_from(file.size)
            .map_err(|_| StoreError::invalid("file size", "out of range"))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO files (id, name, media_type, size, sha256, created_at, expires_at, \
             owner_kind, owner_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(file.id.to_string())
        .bind(&file.name)
        .bind(&file.media_type)
        .bind(size)
        .bind(&file.sha256)
        .bind(ms(file.created_at))
        .bind(file.expires_at.map(ms))
        .bind(file.owner.kind())
        .bind(file.owner.id_text())
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::invalid("file id", format!("{} is already used", file.id))
            }
            other => StoreError::Database(other),
        })?;
        tx.commit().await?;
        self.file_by_id(file.id)
            .await?
            .ok_or_else(|| StoreError::not_found(RecordKind::File, file.id))
    }

    async fn list_files_impl(&self, query: FileQuery) -> StoreResult<Vec<FileObject>> {
        let limit = query.limit.map_or(-1, i64::from);
        let rows = match query.owner {
            Some(owner) => {
                sqlx::query(concat!(
                    "SELECT ",
                    file_columns!(),
                    " FROM files WHERE owner_kind = $1 AND owner_id IS $2 \
                     ORDER BY created_at DESC, id LIMIT $3"
                ))
                .bind(owner.kind())
                .bind(owner.id_text())
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    file_columns!(),
                    " FROM files ORDER BY created_at DESC, id LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
        };
        rows.iter().map(file_object).collect()
    }

    async fn delete_file_impl(&self, id: FileId) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_expired_impl(&self, now: DateTime<Utc>) -> StoreResult<Vec<FileObject>> {
        sqlx::query(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files WHERE expires_at IS NOT NULL AND expires_at <= $1 \
             ORDER BY expires_at, id"
        ))
        .bind(ms(now))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(file_object)
        .collect()
    }

    async fn delete_run_files_impl(&self, run_id: RunId) -> StoreResult<Vec<FileId>> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "DELETE FROM files WHERE owner_kind = 'run' AND owner_id = $1 RETURNING id",
        )
        .bind(run_id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut ids = ids
            .iter()
            .map(|id| parse_id(id, "files"))
            .collect::<StoreResult<Vec<FileId>>>()?;
        ids.sort();
        Ok(ids)
    }

    async fn file_totals_impl(&self) -> StoreResult<(u64, u64)> {
        let row = sqlx::query("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM files")
            .fetch_one(&self.read)
            .await?;
        Ok((count(row.try_get("n")?), count(row.try_get("bytes")?)))
    }
}

impl FileObjectStore for SqliteStore {
    fn create_file(&self, file: FileObject) -> StoreFuture<'_, FileObject> {
        Box::pin(self.create_file_impl(file))
    }

    fn get_file(&self, id: FileId) -> StoreFuture<'_, Option<FileObject>> {
        Box::pin(self.file_by_id(id))
    }

    fn list_files(&self, query: FileQuery) -> StoreFuture<'_, Vec<FileObject>> {
        Box::pin(self.list_files_impl(query))
    }

    fn delete_file(&self, id: FileId) -> StoreFuture<'_, bool> {
        Box::pin(self.delete_file_impl(id))
    }

    fn list_expired_files(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<FileObject>> {
        Box::pin(self.list_expired_impl(now))
    }

    fn delete_run_files(&self, run_id: RunId) -> StoreFuture<'_, Vec<FileId>> {
        Box::pin(self.delete_run_files_impl(run_id))
    }

    fn file_totals(&self) -> StoreFuture<'_, (u64, u64)> {
        Box::pin(self.file_totals_impl())
    }
}
