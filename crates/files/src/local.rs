//! [`LocalFileStore`]: content as files under `<data_dir>/files/`, for a single host.
//!
//! Layout: `files/<first two hex chars of the id>/<id>`, so no directory grows past a few
//! thousand entries. The root and shard directories are mode 0700 and content files 0600: file
//! objects are whatever users and flows moved through jiraflow and may be confidential.
//!
//! Writes go to `.tmp-<id>-<random>` in the target's own directory and are renamed into place
//! only when the stream is complete and within the limit; rename within one directory is atomic,
//! so a reader sees the whole file or none. A guard removes the temporary file on every early
//! exit, including a dropped future. A temporary file can only survive a crash of the process;
//! opening the store removes those older than an hour (younger ones may belong to another
//! process writing right now).

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use jiraflow_store::FileId;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::content::{ByteStream, Content, FileStore, FilesFuture, Stored, hex};
use crate::error::{FilesError, FilesResult, Size};

/// Chunk size of streamed reads.
pub const READ_CHUNK: usize = 64 * 1024;

/// Temporary files older than this are taken for leftovers of a crash.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Prefix of temporary files.
const TEMP_PREFIX: &str = ".tmp-";

/// Content under `<data_dir>/files/`. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalFileStore {
    root: PathBuf,
}

impl LocalFileStore {
    /// Opens (creating if needed, mode 0700) `<data_dir>/files/` and removes temporary files
    /// older than [`STALE_TEMP_AGE`].
    ///
    /// # Errors
    /// [`FilesError::Io`] when the directory cannot be created or read.
    pub async fn open(data_dir: &Path) -> FilesResult<Self> {
        let store = Self {
            root: data_dir.join("files"),
        };
        create_private_dir(&store.root).await?;
        let removed = store.remove_stale_temps(STALE_TEMP_AGE).await?;
        if removed > 0 {
            tracing::info!(removed, root = %store.root.display(), "removed stale temporary files");
        }
        Ok(store)
    }

    /// The directory holding the content (`<data_dir>/files`).
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the content of `id` lives.
    #[must_use]
    pub fn path_of(&self, id: FileId) -> PathBuf {
        let name = id.to_string();
        self.root.join(&name[..2]).join(name)
    }

    /// Removes temporary files last modified more than `older_than` ago; returns how many.
    ///
    /// # Errors
    /// [`FilesError::Io`] when a directory cannot be read.
    pub async fn remove_stale_temps(&self, older_than: Duration) -> FilesResult<usize> {
        let now = SystemTime::now();
        let mut removed = 0;
        for path in self.temp_files().await? {
            let modified = tokio::fs::metadata(&path)
                .await
                .and_then(|m| m.modified())
                .ok();
            let stale = modified
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= older_than);
            if stale && tokio::fs::remove_file(&path).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Every temporary file currently in the store.
    ///
    /// # Errors
    /// [`FilesError::Io`] when a directory cannot be read.
    pub async fn temp_files(&self) -> FilesResult<Vec<PathBuf>> {
        let mut found = Vec::new();
        let mut shards = tokio::fs::read_dir(&self.root)
            .await
            .map_err(|e| FilesError::io(&self.root, e))?;
        while let Some(shard) = shards
            .next_entry()
            .await
            .map_err(|e| FilesError::io(&self.root, e))?
        {
            let dir = shard.path();
            if !dir.is_dir() {
                continue;
            }
            let mut entries = tokio::fs::read_dir(&dir)
                .await
                .map_err(|e| FilesError::io(&dir, e))?;
            while let Some(entry) = entries
                .next_entry()
                .await
                .map_err(|e| FilesError::io(&dir, e))?
            {
                if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                    found.push(entry.path());
                }
            }
        }
        Ok(found)
    }

    async fn put_impl(
        &self,
        id: FileId,
        mut stream: ByteStream,
        limit: u64,
    ) -> FilesResult<Stored> {
        let target = self.path_of(id);
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        create_private_dir(&dir).await?;
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{id}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let mut guard = TempGuard(Some(temp.clone()));
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .await
            .map_err(|e| FilesError::io(&temp, e))?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(FilesError::Source)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(FilesError::TooLarge {
                    size_or_at_least: Size::AtLeast(size),
                    limit,
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| FilesError::io(&temp, e))?;
        }
        file.flush().await.map_err(|e| FilesError::io(&temp, e))?;
        // Durable before it becomes visible: a crash must not leave a short file under the id.
        file.sync_all()
            .await
            .map_err(|e| FilesError::io(&temp, e))?;
        drop(file);
        tokio::fs::rename(&temp, &target)
            .await
            .map_err(|e| FilesError::io(&target, e))?;
        guard.disarm();
        Ok(Stored {
            size,
            sha256: hex(&hasher.finalize()),
        })
    }

    async fn open_impl(&self, id: FileId) -> FilesResult<Content> {
        let path = self.path_of(id);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FilesError::ContentMissing(id));
            }
            Err(e) => return Err(FilesError::io(&path, e)),
        };
        let len = file
            .metadata()
            .await
            .map_err(|e| FilesError::io(&path, e))?
            .len();
        Ok(Content {
            len,
            stream: read_stream(file),
        })
    }

    async fn delete_impl(&self, id: FileId) -> FilesResult<bool> {
        let path = self.path_of(id);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(FilesError::io(&path, e)),
        }
    }

    async fn exists_impl(&self, id: FileId) -> FilesResult<bool> {
        let path = self.path_of(id);
        tokio::fs::try_exists(&path)
            .await
            .map_err(|e| FilesError::io(&path, e))
    }
}

impl FileStore for LocalFileStore {
    fn put(&self, id: FileId, stream: ByteStream, limit: u64) -> FilesFuture<'_, Stored> {
        Box::pin(self.put_impl(id, stream, limit))
    }

    fn open(&self, id: FileId) -> FilesFuture<'_, Content> {
        Box::pin(self.open_impl(id))
    }

    fn delete(&self, id: FileId) -> FilesFuture<'_, bool> {
        Box::pin(self.delete_impl(id))
    }

    fn exists(&self, id: FileId) -> FilesFuture<'_, bool> {
        Box::pin(self.exists_impl(id))
    }
}

/// Creates a directory (and parents) owner-only, tightening an existing one.
async fn create_private_dir(dir: &Path) -> FilesResult<()> {
    let owned = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&owned)?;
        let mode = std::fs::metadata(&owned)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(&owned, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    })
    .await
    .map_err(|e| FilesError::io(dir, std::io::Error::other(e)))?
    .map_err(|e| FilesError::io(dir, e))
}

fn read_stream(file: tokio::fs::File) -> ByteStream {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; READ_CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
    .boxed()
}

/// Removes a temporary file when dropped, unless disarmed after the rename.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a temporary file");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use futures_util::TryStreamExt;

    use super::*;

    struct Dir(PathBuf);

    impl Dir {
        fn new() -> Self {
            let path =
                std::env::temp_dir().join(format!("jiraflow-files-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn chunks(parts: Vec<std::io::Result<&'static [u8]>>) -> ByteStream {
        futures_util::stream::iter(parts.into_iter().map(|p| p.map(Bytes::from_static))).boxed()
    }

    async fn read_all(store: &LocalFileStore, id: FileId) -> Vec<u8> {
        let content = store.open(id).await.unwrap();
        let chunks: Vec<Bytes> = content.stream.try_collect().await.unwrap();
        chunks.concat()
    }

    #[tokio::test]
    async fn a_complete_stream_is_stored_owner_only_with_its_size_and_digest() {
        let dir = Dir::new();
        let store = LocalFileStore::open(&dir.0).await.unwrap();
        let id = FileId::new();
        let stored = store
            .put(id, chunks(vec![Ok(b"hello "), Ok(b"world")]), 11)
            .await
            .unwrap();
        assert_eq!(stored.size, 11);
        assert_eq!(
            stored.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(read_all(&store, id).await, b"hello world");
        let path = store.path_of(id);
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let shard = path.parent().unwrap();
        assert_eq!(
            shard.file_name().unwrap().to_str().unwrap(),
            &id.to_string()[..2]
        );
        assert_eq!(std::fs::metadata(shard).unwrap().mode() & 0o777, 0o700);
        assert_eq!(
            std::fs::metadata(store.root()).unwrap().mode() & 0o777,
            0o700
        );
        assert!(store.exists(id).await.unwrap());
        assert!(store.delete(id).await.unwrap());
        assert!(!store.delete(id).await.unwrap());
        assert!(!store.exists(id).await.unwrap());
    }

    #[tokio::test]
    async fn a_failing_stream_leaves_neither_content_nor_temporary_file() {
        let dir = Dir::new();
        let store = LocalFileStore::open(&dir.0).await.unwrap();
        let id = FileId::new();
        let broken = chunks(vec![
            Ok(b"partial"),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "peer went away",
            )),
        ]);
        let err = store.put(id, broken, 1024).await.unwrap_err();
        assert!(matches!(err, FilesError::Source(_)), "{err}");
        assert!(err.to_string().contains("peer went away"));
        assert!(!store.exists(id).await.unwrap());
        assert!(store.temp_files().await.unwrap().is_empty());
        assert!(store.open(id).await.unwrap_err().is_not_found());
    }

    #[tokio::test]
    async fn a_stream_over_the_limit_is_cut_off_and_leaves_nothing() {
        let dir = Dir::new();
        let store = LocalFileStore::open(&dir.0).await.unwrap();
        let id = FileId::new();
        let err = store
            .put(
                id,
                chunks(vec![Ok(b"12345"), Ok(b"6789"), Ok(b"never read")]),
                8,
            )
            .await
            .unwrap_err();
        match err {
            FilesError::TooLarge {
                size_or_at_least,
                limit,
            } => {
                assert_eq!(size_or_at_least, Size::AtLeast(9));
                assert_eq!(limit, 8);
            }
            other => panic!("{other}"),
        }
        assert!(!store.exists(id).await.unwrap());
        assert!(store.temp_files().await.unwrap().is_empty());
        // Exactly at the limit is fine.
        let stored = store
            .put(id, chunks(vec![Ok(b"1234"), Ok(b"5678")]), 8)
            .await
            .unwrap();
        assert_eq!(stored.size, 8);
    }

    #[tokio::test]
    async fn a_write_dropped_midway_leaves_no_temporary_file() {
        let dir = Dir::new();
        let store = LocalFileStore::open(&dir.0).await.unwrap();
        let id = FileId::new();
        let endless = futures_util::stream::once(async { Ok(Bytes::from_static(b"abc")) })
            .chain(futures_util::stream::pending())
            .boxed();
        let put = store.put(id, endless, 1024);
        let timed = tokio::time::timeout(Duration::from_millis(200), put).await;
        assert!(timed.is_err(), "the stream never ends");
        assert!(store.temp_files().await.unwrap().is_empty());
        assert!(!store.exists(id).await.unwrap());
    }

    #[tokio::test]
    async fn opening_the_store_removes_only_stale_temporary_files() {
        let dir = Dir::new();
        let store = LocalFileStore::open(&dir.0).await.unwrap();
        let shard = store.root().join("ab");
        std::fs::create_dir_all(&shard).unwrap();
        let old = shard.join(".tmp-old");
        let young = shard.join(".tmp-young");
        std::fs::write(&old, b"x").unwrap();
        std::fs::write(&young, b"y").unwrap();
        let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        let reopened = LocalFileStore::open(&dir.0).await.unwrap();
        assert_eq!(reopened.temp_files().await.unwrap(), [young]);
    }

    #[tokio::test]
    async fn reads_come_in_chunks_of_at_most_64_kib() {
        let dir = Dir::new();
        let store = LocalFileStore::open(&dir.0).await.unwrap();
        let id = FileId::new();
        let data = Bytes::from(vec![7u8; 200 * 1024]);
        let one_chunk = futures_util::stream::iter([Ok(data)]).boxed();
        store.put(id, one_chunk, 1 << 20).await.unwrap();
        let content = store.open(id).await.unwrap();
        assert_eq!(content.len, 200 * 1024);
        let sizes: Vec<usize> = content
            .stream
            .map_ok(|c| c.len())
            .try_collect()
            .await
            .unwrap();
        assert!(sizes.iter().all(|n| *n <= READ_CHUNK), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 200 * 1024);
    }
}
