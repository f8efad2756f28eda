//! The store's single error type. Callers branch on the predicates (`is_not_found`,
//! `is_conflict`, ...) rather than on variants, so backends can add detail without breaking them.
//! Messages name the offending record but never contain a secret.

use std::path::PathBuf;

/// What kind of record an error is about (used in messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordKind {
    /// A user.
    User,
    /// An API key.
    ApiKey,
    /// An OAuth app (external credential).
    OAuthApp,
    /// A connection.
    Connection,
    /// A token family.
    TokenFamily,
    /// A named credential.
    NamedCredential,
    /// A pending authorization.
    PendingAuthorization,
    /// A flow.
    Flow,
    /// A run of a flow.
    Run,
    /// A file object.
    File,
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::User => "user",
            Self::ApiKey => "API key",
            Self::OAuthApp => "OAuth app",
            Self::Connection => "connection",
            Self::TokenFamily => "token family",
            Self::NamedCredential => "named credential",
            Self::PendingAuthorization => "pending authorization",
            Self::Flow => "flow",
            Self::Run => "run",
            Self::File => "file",
        })
    }
}

/// Why an OAuth `state` could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateRejection {
    /// No pending authorization has this state.
    Unknown,
    /// The state expired before the callback arrived.
    Expired,
    /// The state was already used (states are single-use).
    AlreadyUsed,
    /// The state belongs to a different user than the one completing the flow.
    OtherUser,
}

impl std::fmt::Display for StateRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unknown => "the authorization state is unknown; start the connection again",
            Self::Expired => "the authorization state has expired; start the connection again",
            Self::AlreadyUsed => {
                "the authorization state was already used; start the connection again"
            }
            Self::OtherUser => "the authorization was started by a different user",
        })
    }
}

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// Kind of record.
        kind: RecordKind,
        /// The id or name that was looked up.
        id: String,
    },
    /// A record with this unique name already exists (names compare case-insensitively).
    #[error("a {kind} named {name:?} already exists")]
    Duplicate {
        /// Kind of record.
        kind: RecordKind,
        /// The clashing name.
        name: String,
    },
    /// The input is invalid; nothing was written.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A connection cannot be deleted because flows use it.
    #[error("connection {connection:?} is used by flows: {}; remove it from those flows first", flows.join(", "))]
    ConnectionInUse {
        /// The connection's name.
        connection: String,
        /// Names of the flows that use it.
        flows: Vec<String>,
    },
    /// A record cannot be deleted because other records depend on it.
    #[error("{kind} {name:?} is still used by {dependents}")]
    InUse {
        /// Kind of record being deleted.
        kind: RecordKind,
        /// Its name.
        name: String,
        /// What still depends on it.
        dependents: String,
    },
    /// A compare-and-swap on a token family's version lost: someone else wrote first.
    #[error(
        "token family {family} changed concurrently (expected version {expected}, found {actual})"
    )]
    VersionConflict {
        /// The family.
        family: String,
        /// The version the caller read.
        expected: i64,
        /// The version now stored.
        actual: i64,
    },
    /// An OAuth `state` was rejected.
    #[error("{0}")]
    State(StateRejection),
    /// The master key cannot open this database's key check.
    #[error(
        "the master key does not match this database; start with the key it was created with \
         (JIRAFLOW_MASTER_KEY or the key file), or restore the database that matches this key"
    )]
    WrongMasterKey,
    /// The master key could not be loaded or created.
    #[error("master key: {0}")]
    MasterKey(String),
    /// The key file has permissions wider than owner-only.
    #[error(
        "the master key file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A stored secret could not be decrypted (tampered, moved between rows, or unknown key id).
    #[error(
        "a stored secret ({context}) could not be decrypted; the database may be corrupted or tampered with"
    )]
    Decrypt {
        /// Which value (table:row:column), never the value.
        context: String,
    },
    /// A stored row holds a value this version cannot interpret.
    #[error("corrupt stored value in {context}: {reason}")]
    Corrupt {
        /// Where.
        context: String,
        /// What.
        reason: String,
    },
    /// Database failure.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Migration failure.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// File system failure (key file, data directory).
    #[error("I/O error on {path}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// The record does not exist.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// A unique name is already taken.
    #[must_use]
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Duplicate { .. })
    }

    /// A compare-and-swap lost; re-read and decide again.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::VersionConflict { .. })
    }

    /// The input was rejected before anything was written.
    #[must_use]
    pub fn is_invalid(&self) -> bool {
        matches!(self, Self::Invalid { .. })
    }

    /// A delete was refused because something depends on the record.
    #[must_use]
    pub fn is_in_use(&self) -> bool {
        matches!(self, Self::ConnectionInUse { .. } | Self::InUse { .. })
    }

    /// The OAuth `state` was rejected, and why.
    #[must_use]
    pub fn state_rejection(&self) -> Option<StateRejection> {
        match self {
            Self::State(r) => Some(*r),
            _ => None,
        }
    }

    /// The master key is wrong for this database.
    #[must_use]
    pub fn is_wrong_master_key(&self) -> bool {
        matches!(self, Self::WrongMasterKey)
    }

    /// Transient database contention (busy/locked) that is worth retrying.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(db)) => {
                let code = db.code();
                // SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes.
                matches!(
                    code.as_deref(),
                    Some("5" | "6" | "261" | "262" | "517" | "773")
                )
            }
            Self::Database(sqlx::Error::PoolTimedOut) => true,
            _ => false,
        }
    }

    pub(crate) fn not_found(kind: RecordKind, id: impl ToString) -> Self {
        Self::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// Result alias for the store.
pub type StoreResult<T> = Result<T, StoreError>;
