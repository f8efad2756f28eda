//! [`Files`]: file objects as one service over the record store and the content store.
//!
//! # Ordering
//! - Create: content first (streamed into [`FileStore::put`] under the size limit), record only
//!   once the content is complete. A failure at any point removes the content, so it leaves
//!   neither record nor content nor temporary file.
//! - Delete, sweep, run purge: content first, then the record. A crash in between leaves a
//!   record whose content is gone (reported as [`FilesError::ContentMissing`] and removed by
//!   the next delete), never content nobody can find.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use jiraflow_store::files::{validate_file_name, validate_media_type};
use jiraflow_store::{FileId, FileObject, FileOwner, FileQuery, RunId, Store};

use crate::content::{Content, FileStore};
use crate::error::{FilesError, FilesResult, MIB, Size, mib};
use crate::media;

/// The largest file object jiraflow accepts: 15 MiB, that is 15 × 1024 × 1024 bytes.
pub const MAX_FILE_BYTES: u64 = 15 * MIB;

/// How long a file object lives unless it is deleted first.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// Limits of a [`Files`] service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilesConfig {
    /// Largest file in bytes; at most [`MAX_FILE_BYTES`].
    pub max_bytes: u64,
    /// Lifetime of new file objects.
    pub default_ttl: Duration,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            max_bytes: MAX_FILE_BYTES,
            default_ttl: DEFAULT_TTL,
        }
    }
}

impl FilesConfig {
    /// Checks the limits.
    ///
    /// # Errors
    /// [`FilesError::Config`] for a size limit of 0 or above [`MAX_FILE_BYTES`] (naming both
    /// numbers), or a zero lifetime.
    pub fn validate(&self) -> FilesResult<()> {
        if self.max_bytes > MAX_FILE_BYTES {
            return Err(FilesError::Config(format!(
                "max_bytes {} ({}) is above the maximum of {MAX_FILE_BYTES} bytes ({})",
                self.max_bytes,
                mib(self.max_bytes),
                mib(MAX_FILE_BYTES)
            )));
        }
        if self.max_bytes == 0 {
            return Err(FilesError::Config(
                "max_bytes must be at least 1 byte".to_owned(),
            ));
        }
        if self.default_ttl.is_zero() {
            return Err(FilesError::Config(
                "default_ttl must be longer than zero".to_owned(),
            ));
        }
        Ok(())
    }
}

/// How many file objects there are and how many bytes they hold (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTotals {
    /// Number of file objects.
    pub count: u64,
    /// Sum of their sizes in bytes.
    pub bytes: u64,
}

/// A file object opened for reading.
#[derive(Debug)]
pub struct OpenFile {
    /// Its record.
    pub object: FileObject,
    /// Its bytes, streamed.
    pub content: Content,
}

/// What [`Files::purge_finished_runs`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunPurge {
    /// Runs deleted (with their steps).
    pub runs: u64,
    /// File objects those runs owned (and orphans of runs already gone).
    pub files: usize,
}

/// File objects: records in the store, bytes in a [`FileStore`]. Cheap to clone.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn Store>,
    content: Arc<dyn FileStore>,
    config: FilesConfig,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Files {
    /// A service over `store` (records) and `content` (bytes).
    ///
    /// # Errors
    /// [`FilesError::Config`] when `config` is refused (see [`FilesConfig::validate`]).
    pub fn new(
        store: Arc<dyn Store>,
        content: Arc<dyn FileStore>,
        config: FilesConfig,
    ) -> FilesResult<Self> {
        config.validate()?;
        Ok(Self {
            store,
            content,
            config,
        })
    }

    /// The limits in force.
    #[must_use]
    pub fn config(&self) -> FilesConfig {
        self.config
    }

    /// The content store.
    #[must_use]
    pub fn content_store(&self) -> &Arc<dyn FileStore> {
        &self.content
    }

    /// Makes a file object from a stream of bytes.
    ///
    /// `media_type` wins when given; otherwise it is detected (see [`media::detect`]). With
    /// `expected_len`, a length above the limit fails before a byte is read, and a stream of
    /// another length fails with [`FilesError::LengthMismatch`]. The object expires after the
    /// configured lifetime.
    ///
    /// # Errors
    /// [`FilesError::TooLarge`] over the limit; `Store(Invalid)` for a bad name or media type;
    /// [`FilesError::Source`] when the stream fails. In every case nothing is left behind.
    pub async fn create_from_stream<S>(
        &self,
        name: &str,
        media_type: Option<&str>,
        owner: FileOwner,
        stream: S,
        expected_len: Option<u64>,
    ) -> FilesResult<FileObject>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        validate_file_name(name)?;
        let given = media_type.map(str::trim).filter(|m| !m.is_empty());
        if let Some(given) = given {
            validate_media_type(given)?;
        }
        let limit = self.config.max_bytes;
        if let Some(len) = expected_len
            && len > limit
        {
            return Err(FilesError::TooLarge {
                size_or_at_least: Size::Exactly(len),
                limit,
            });
        }
        let (head, stream) = peek(stream.boxed()).await?;
        let media_type = media::detect(given, &head, name);
        let id = FileId::new();
        let stored = self.content.put(id, stream, limit).await?;
        let result = self
            .finish_create(id, name, media_type, owner, stored, expected_len)
            .await;
        if result.is_err() {
            self.discard_content(id).await;
        }
        result
    }

    async fn finish_create(
        &self,
        id: FileId,
        name: &str,
        media_type: String,
        owner: FileOwner,
        stored: crate::content::Stored,
        expected_len: Option<u64>,
    ) -> FilesResult<FileObject> {
        if let Some(expected) = expected_len
            && expected != stored.size
        {
            return Err(FilesError::LengthMismatch {
                what: format!("file {name:?}"),
                expected,
                actual: stored.size,
            });
        }
        let created_at = Utc::now();
        let ttl = chrono::Duration::from_std(self.config.default_ttl)
            .map_err(|e| FilesError::Config(format!("default_ttl: {e}")))?;
        let record = FileObject {
            id,
            name: name.to_owned(),
            media_type,
            size: stored.size,
            sha256: stored.sha256,
            created_at,
            expires_at: Some(created_at + ttl),
            owner,
        };
        Ok(self.store.create_file(record).await?)
    }

    /// Deletes content left by a failed create; the original error is what the caller needs, so
    /// a failure here is only logged.
    async fn discard_content(&self, id: FileId) {
        if let Err(e) = self.content.delete(id).await {
            tracing::warn!(file = %id, error = %e, "could not remove the content of a failed file");
        }
    }

    /// A file object's record.
    ///
    /// # Errors
    /// [`FilesError::NotFound`] for an unknown id.
    pub async fn get(&self, id: FileId) -> FilesResult<FileObject> {
        self.store
            .get_file(id)
            .await?
            .ok_or(FilesError::NotFound(id))
    }

    /// File objects, newest first, optionally of one owner and at most `limit`.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list(&self, query: FileQuery) -> FilesResult<Vec<FileObject>> {
        Ok(self.store.list_files(query).await?)
    }

    /// Opens a file object for streamed reading.
    ///
    /// # Errors
    /// [`FilesError::NotFound`] for an unknown id, [`FilesError::ContentMissing`] when its
    /// content is gone.
    pub async fn open(&self, id: FileId) -> FilesResult<OpenFile> {
        let object = self.get(id).await?;
        let content = self.content.open(id).await?;
        Ok(OpenFile { object, content })
    }

    /// Deletes a file object (content, then record); returns whether it existed.
    ///
    /// # Errors
    /// Content store or record store failures.
    pub async fn delete(&self, id: FileId) -> FilesResult<bool> {
        let had_content = self.content.delete(id).await?;
        let had_record = self.store.delete_file(id).await?;
        Ok(had_record || had_content)
    }

    /// Deletes every file object whose expiry is at or before `now`; returns how many. One
    /// that cannot be deleted is logged and left for the next sweep.
    ///
    /// # Errors
    /// Store failures while listing.
    pub async fn sweep(&self, now: DateTime<Utc>) -> FilesResult<usize> {
        let expired = self.store.list_expired_files(now).await?;
        let mut removed = 0;
        for file in expired {
            match self.delete(file.id).await {
                Ok(_) => removed += 1,
                Err(e) => {
                    tracing::warn!(file = %file.id, error = %e, "could not sweep an expired file");
                }
            }
        }
        Ok(removed)
    }

    /// Deletes every file object owned by a run (for when the run is purged); returns how many.
    ///
    /// # Errors
    /// Content store or record store failures.
    pub async fn purge_run(&self, run_id: RunId) -> FilesResult<usize> {
        let owned = self
            .store
            .list_files(FileQuery {
                owner: Some(FileOwner::Run(run_id)),
                limit: None,
            })
            .await?;
        for file in &owned {
            self.content.delete(file.id).await?;
        }
        let removed = self.store.delete_run_files(run_id).await?;
        // A file the run created after the listing: its record is gone now, its content too.
        for id in removed
            .iter()
            .filter(|id| !owned.iter().any(|f| f.id == **id))
        {
            self.content.delete(*id).await?;
        }
        Ok(removed.len())
    }

    /// Purges the runs that ended before `before` (their steps go with them) together with the
    /// file objects they own, files first so no object outlives its run's record; returns the
    /// runs and files removed. This is how run history is trimmed; `RunStore::purge_runs`
    /// alone would leave the runs' files until they expire.
    ///
    /// # Errors
    /// Content store or record store failures (what was removed before stays removed).
    pub async fn purge_finished_runs(&self, before: DateTime<Utc>) -> FilesResult<RunPurge> {
        let run_owned = self
            .store
            .list_files(FileQuery {
                owner: None,
                limit: None,
            })
            .await?;
        let mut runs: Vec<RunId> = run_owned
            .iter()
            .filter_map(|f| match f.owner {
                FileOwner::Run(id) => Some(id),
                _ => None,
            })
            .collect();
        runs.sort_unstable();
        runs.dedup();
        let mut files = 0;
        for run_id in runs {
            let ends_before = self.store.get_run(run_id).await?.is_none_or(|detail| {
                detail.run.status.is_final() && detail.run.finished_at.is_some_and(|at| at < before)
            });
            if ends_before {
                files += self.purge_run(run_id).await?;
            }
        }
        let runs = self.store.purge_runs(before).await?;
        Ok(RunPurge { runs, files })
    }

    /// How many file objects there are and their total size.
    ///
    /// # Errors
    /// Store failures.
    pub async fn totals(&self) -> FilesResult<FileTotals> {
        let (count, bytes) = self.store.file_totals().await?;
        Ok(FileTotals { count, bytes })
    }
}

/// Reads chunks until [`media::SNIFF_BYTES`] bytes are known (or the stream ends) and returns
/// those bytes with a stream that yields everything again, starting with the chunks read.
async fn peek(
    mut stream: crate::content::ByteStream,
) -> FilesResult<(Vec<u8>, crate::content::ByteStream)> {
    let mut chunks = Vec::new();
    let mut head = Vec::with_capacity(media::SNIFF_BYTES);
    while head.len() < media::SNIFF_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let take = (media::SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
                chunks.push(Ok(chunk));
            }
            Some(Err(e)) => return Err(FilesError::Source(e)),
            None => break,
        }
    }
    let replay = futures_util::stream::iter(chunks).chain(stream).boxed();
    Ok((head, replay))
}
