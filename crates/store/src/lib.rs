//! jiraflow's storage: narrow traits the rest of the system uses, and their SQLite backend.
//! Secrets (client secrets, access and refresh tokens) are sealed with XChaCha20-Poly1305 under a
//! master key, with the row's identity as associated data, before they reach the database.
//!
//! - [`traits`]: the object-safe store traits (`Arc<dyn Store>`).
//! - [`model`], [`ids`], [`secret`]: records, id newtypes and redacted secret newtypes.
//! - [`files`]: file object records (the bytes live in `jiraflow-files`).
//! - [`runs`]: applied flows, runs and their steps, and the write ledger.
//! - [`crypto`]: the master key and the seal/open envelope.
//! - [`sqlite`]: the SQLite backend.
//! - `conformance` (hidden from docs): the behaviour suite every backend must pass.
//!
//! See `docs/security.md` for the at-rest design and key rotation.

#[doc(hidden)]
pub mod conformance;
pub mod crypto;
pub mod error;
pub mod files;
pub mod ids;
pub mod model;
pub mod runs;
pub mod secret;
pub mod sqlite;
pub mod traits;
pub mod triggers;

pub use crypto::{KeySource, MasterKey};
pub use error::{RecordKind, StateRejection, StoreError, StoreResult};
pub use files::{FileObject, FileOwner, FileQuery};
pub use ids::{
    ApiKeyId, ConnectionId, FileId, LeaseId, NamedCredentialId, OAuthAppId, PendingAuthId, RunId,
    TokenFamilyId, UserId,
};
pub use model::*;
pub use runs::{
    ClaimedRun, FlowRecord, LedgerEntry, LedgerKey, NewRun, RunDetail, RunOrigin, RunQuery,
    RunRecord, RunStatus, SaveFlow, StepRecord, StepStatus,
};
pub use secret::{AccessToken, ApiKeySecret, ClientSecret, RefreshToken, StateToken};
pub use sqlite::{DATABASE_FILE_NAME, SqliteStore};
pub use traits::{
    ConnectionStore, FileObjectStore, FlowStore, NamedCredentialStore, OAuthAppStore,
    PendingAuthStore, RunStore, Store, StoreFuture, TokenStore, TriggerStore, UserStore,
    WriteLedger,
};
pub use triggers::{EnqueueOutcome, TriggerEvent, TriggerState, WebhookRegistration};
