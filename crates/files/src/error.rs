//! The crate's error type. The size limit is its own variant, [`FilesError::TooLarge`], so
//! callers (actions, the HTTP API) can answer it distinctly; its message names the size and the
//! limit in bytes and in MiB.

use std::fmt;
use std::path::PathBuf;

use jiraflow_store::{FileId, StoreError};

/// Bytes in one MiB (1024 × 1024).
pub const MIB: u64 = 1024 * 1024;

/// How big a refused file is: known exactly (declared up front), or only a lower bound (the
/// transfer stopped as soon as it crossed the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The exact size.
    Exactly(u64),
    /// At least this many bytes.
    AtLeast(u64),
}

impl Size {
    /// The number of bytes (exact or lower bound).
    #[must_use]
    pub fn bytes(self) -> u64 {
        match self {
            Self::Exactly(n) | Self::AtLeast(n) => n,
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Exactly(n) => write!(f, "{n} bytes ({})", mib(n)),
            Self::AtLeast(n) => write!(f, "at least {n} bytes ({})", mib(n)),
        }
    }
}

/// `n` bytes in MiB: whole MiB exactly, otherwise to two decimals.
#[must_use]
pub fn mib(n: u64) -> String {
    if n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        // Display only; the byte count next to it is exact.
        #[allow(clippy::cast_precision_loss)]
        let value = n as f64 / MIB as f64;
        format!("{value:.2} MiB")
    }
}

/// Everything that can go wrong with file objects.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilesError {
    /// The file is over the size limit; nothing was kept.
    #[error("the file is {size_or_at_least}, over the limit of {limit} bytes ({})", mib(*limit))]
    TooLarge {
        /// Its size, or how much had arrived when the transfer stopped.
        size_or_at_least: Size,
        /// The limit in bytes.
        limit: u64,
    },
    /// The configuration is refused.
    #[error("invalid files configuration: {0}")]
    Config(String),
    /// No file object has this id.
    #[error("file {0} not found")]
    NotFound(FileId),
    /// The record exists but the content store has no bytes for it.
    #[error("the content of file {0} is missing from the file store")]
    ContentMissing(FileId),
    /// The stream supplying the content failed; nothing was kept.
    #[error("reading the file's content failed: {0}")]
    Source(#[source] std::io::Error),
    /// The content store's own I/O failed.
    #[error("file store I/O on {}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A transfer delivered another number of bytes than was declared; nothing was kept.
    #[error("{what}: {expected} bytes were declared but {actual} arrived")]
    LengthMismatch {
        /// Which transfer.
        what: String,
        /// Declared length.
        expected: u64,
        /// Bytes received.
        actual: u64,
    },
    /// A copy's SHA-256 differs from the original's.
    #[error("{what}: SHA-256 {actual} does not match the file's {expected}")]
    ChecksumMismatch {
        /// Which copy.
        what: String,
        /// The file object's digest.
        expected: String,
        /// The copy's digest.
        actual: String,
    },
    /// A Jira call failed.
    #[error("{context}: {source}")]
    Jira {
        /// What was being done.
        context: String,
        /// The client's error (boxed: it is large, and this type is returned everywhere).
        #[source]
        source: Box<jiraflow_jira::Error>,
    },
    /// The record store failed or refused the input (a bad file name names the field).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FilesError {
    /// Whether this is the size limit.
    #[must_use]
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge { .. })
    }

    /// Whether the file (or its content) does not exist.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_) | Self::ContentMissing(_))
    }

    pub(crate) fn jira(context: impl Into<String>, source: jiraflow_jira::Error) -> Self {
        Self::Jira {
            context: context.into(),
            source: Box::new(source),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type FilesResult<T> = Result<T, FilesError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_error_names_size_and_limit_in_bytes_and_mib() {
        let error = FilesError::TooLarge {
            size_or_at_least: Size::Exactly(15 * MIB + 1),
            limit: 15 * MIB,
        };
        assert_eq!(
            error.to_string(),
            "the file is 15728641 bytes (15.00 MiB), over the limit of 15728640 bytes (15 MiB)"
        );
        let error = FilesError::TooLarge {
            size_or_at_least: Size::AtLeast(3 * MIB / 2),
            limit: MIB,
        };
        assert!(
            error
                .to_string()
                .contains("at least 1572864 bytes (1.50 MiB)")
        );
    }
}
