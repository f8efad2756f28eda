//! The content seam: [`FileStore`] keeps the bytes of file objects, keyed by [`FileId`]. All
//! content access goes through it, so a backend shared by several workers (object storage, a
//! network volume) can replace [`LocalFileStore`](crate::LocalFileStore) without touching
//! callers.
//!
//! # Contract every backend keeps
//! - `put` is all or nothing: the content becomes visible under its id only once the whole
//!   stream was read and stayed within the limit. Over the limit, on a stream error or when the
//!   future is dropped, nothing is left behind (no partial file, no temporary file).
//! - Content is streamed in bounded chunks both ways; nothing holds a whole file in memory.
//! - `delete` is idempotent and says whether there was anything to delete.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use jiraflow_store::FileId;

use crate::error::FilesError;

/// A stream of file bytes.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// The future every [`FileStore`] method returns (boxed, so the trait is object-safe).
pub type FilesFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, FilesError>> + Send + 'a>>;

/// What `put` measured while writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Bytes written.
    pub size: u64,
    /// SHA-256 of those bytes, 64 lowercase hex digits.
    pub sha256: String,
}

/// Stored content opened for reading.
pub struct Content {
    /// Its length in bytes.
    pub len: u64,
    /// The bytes, in chunks of at most 64 KiB.
    pub stream: ByteStream,
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Content")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Keeps file content. See the module documentation for the contract.
pub trait FileStore: Send + Sync {
    /// Writes `stream` as the content of `id`, refusing it with
    /// [`FilesError::TooLarge`] as soon as more than `limit` bytes arrived. Returns the size
    /// and SHA-256 of what was stored.
    fn put(&self, id: FileId, stream: ByteStream, limit: u64) -> FilesFuture<'_, Stored>;
    /// Opens the content of `id` for streamed reading; [`FilesError::ContentMissing`] if none.
    fn open(&self, id: FileId) -> FilesFuture<'_, Content>;
    /// Deletes the content of `id`; returns whether there was any.
    fn delete(&self, id: FileId) -> FilesFuture<'_, bool>;
    /// Whether content is stored for `id`.
    fn exists(&self, id: FileId) -> FilesFuture<'_, bool>;
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
