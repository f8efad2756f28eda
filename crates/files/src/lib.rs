//! jiraflow's file objects: files of up to 15 MiB (15 × 1024 × 1024 bytes) that flows move
//! between Jira and other steps, kept as a record (in the store, `Arc<dyn Store>`) plus content
//! (behind the [`FileStore`] seam), and deleted after use or when they expire.
//!
//! - [`Files`]: the service: create from a stream (bounded, media type detected), open, delete,
//!   sweep expired objects, remove a purged run's files, totals for metrics.
//! - [`FileStore`] and [`LocalFileStore`]: content storage with all-or-nothing writes.
//! - [`Files::download_attachment`] and [`Files::upload_to_issue`] (in `transfer`): streamed
//!   transfers with Jira attachments, size- and checksum-checked.
//! - [`media`]: media type detection.
//!
//! See `docs/files.md`.

pub mod content;
pub mod error;
pub mod local;
pub mod media;
pub mod service;
mod transfer;

pub use content::{ByteStream, Content, FileStore, FilesFuture, Stored};
pub use error::{FilesError, FilesResult, MIB, Size};
pub use jiraflow_store::{FileId, FileObject, FileOwner, FileQuery};
pub use local::LocalFileStore;
pub use service::{
    DEFAULT_TTL, FileTotals, Files, FilesConfig, MAX_FILE_BYTES, OpenFile, RunPurge,
};
