//! The narrow storage traits the rest of jiraflow codes against. Each returns a boxed future so
//! the traits are object-safe: services hold an `Arc<dyn Store>` and do not care whether SQLite
//! or (later) PostgreSQL sits behind it. Every backend must pass [`crate::conformance`].
//!
//! # Invariants every backend keeps
//! - Writes that touch several rows happen in one transaction: bad input leaves nothing behind.
//! - Secrets are sealed with the master key before they reach the database, with
//!   `table:row_id:column` as associated data.
//! - Names (users, OAuth apps, connections, named credentials) are unique case-insensitively.
//! - No method holds a transaction open across anything but database work, so callers can make
//!   HTTP calls between `try_acquire_refresh_lease` and `store_refreshed`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::files::{FileObject, FileQuery};
use crate::ids::{
    ApiKeyId, ConnectionId, FileId, NamedCredentialId, OAuthAppId, RunId, TokenFamilyId, UserId,
};
use crate::model::{
    ApiKeyRecord, Connection, ConnectionStatus, ConnectionUpdate, CreatedApiKey, NamedCredential,
    NewConnection, NewNamedCredential, NewOAuthApp, NewPendingAuthorization, NewTokens, NewUser,
    OAuthApp, PendingAuthorization, Permission, RefreshLease, RefreshedTokens, TokenSet, User,
};
use crate::runs::{
    ClaimedRun, FlowRecord, LedgerEntry, LedgerKey, NewRun, RunDetail, RunQuery, RunRecord,
    RunStatus, SaveFlow, StepRecord,
};
use crate::secret::{ApiKeySecret, ClientSecret, StateToken};
use crate::triggers::{EnqueueOutcome, TriggerEvent, TriggerState, WebhookRegistration};

/// The future every store method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Users, permissions and API keys.
pub trait UserStore: Send + Sync {
    /// Creates a user. Fails with `Duplicate` when the name is taken.
    fn create_user(&self, user: NewUser) -> StoreFuture<'_, User>;
    /// Looks a user up by id.
    fn get_user(&self, id: UserId) -> StoreFuture<'_, Option<User>>;
    /// Looks a user up by name (case-insensitive).
    fn find_user_by_name<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<User>>;
    /// All users, by name.
    fn list_users(&self) -> StoreFuture<'_, Vec<User>>;
    /// Replaces a user's permissions.
    fn set_permissions(&self, id: UserId, permissions: Vec<Permission>) -> StoreFuture<'_, User>;
    /// Creates an API key for a user; the clear key is returned once and only its hash is kept.
    fn create_api_key(&self, user_id: UserId, label: String) -> StoreFuture<'_, CreatedApiKey>;
    /// The user a presented API key belongs to, or `None` for an unknown or revoked key.
    fn authenticate_api_key<'a>(&'a self, key: &'a ApiKeySecret) -> StoreFuture<'a, Option<User>>;
    /// A user's API keys (public records only).
    fn list_api_keys(&self, user_id: UserId) -> StoreFuture<'_, Vec<ApiKeyRecord>>;
    /// Revokes (deletes) an API key.
    fn revoke_api_key(&self, id: ApiKeyId) -> StoreFuture<'_, ()>;
}

/// OAuth apps (external credentials).
pub trait OAuthAppStore: Send + Sync {
    /// Creates an app; the client secret is sealed. Fails with `Duplicate` or `Invalid`.
    fn create_oauth_app(&self, app: NewOAuthApp) -> StoreFuture<'_, OAuthApp>;
    /// Looks an app up by id.
    fn get_oauth_app(&self, id: OAuthAppId) -> StoreFuture<'_, Option<OAuthApp>>;
    /// Looks an app up by name (case-insensitive).
    fn find_oauth_app_by_name<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<OAuthApp>>;
    /// All apps, by name.
    fn list_oauth_apps(&self) -> StoreFuture<'_, Vec<OAuthApp>>;
    /// The decrypted client secret, for the token endpoint only.
    fn oauth_app_client_secret(&self, id: OAuthAppId) -> StoreFuture<'_, ClientSecret>;
    /// Replaces the client secret.
    fn set_oauth_app_client_secret(
        &self,
        id: OAuthAppId,
        secret: ClientSecret,
    ) -> StoreFuture<'_, ()>;
    /// Deletes an app; refused (`InUse`) while connections or named credentials use it.
    fn delete_oauth_app(&self, id: OAuthAppId) -> StoreFuture<'_, ()>;
}

/// Pending authorizations: the server side of the OAuth `state` parameter.
pub trait PendingAuthStore: Send + Sync {
    /// Records a pending authorization and returns a fresh random state (256 bits) to send to
    /// the authorization server. Only the state's SHA-256 hash is stored.
    fn create_pending(
        &self,
        pending: NewPendingAuthorization,
    ) -> StoreFuture<'_, (StateToken, PendingAuthorization)>;
    /// Atomically consumes a state for `user_id`. Exactly one caller can take a given state;
    /// others get `StoreError::State` with `Unknown`, `Expired`, `AlreadyUsed` or `OtherUser`
    /// (a state presented by another user is not consumed).
    fn take_pending<'a>(
        &'a self,
        state: &'a StateToken,
        user_id: UserId,
    ) -> StoreFuture<'a, PendingAuthorization>;
    /// Deletes expired and consumed pending authorizations; returns how many.
    fn purge_pending(&self) -> StoreFuture<'_, u64>;
}

/// Connections and the flow references that pin them.
pub trait ConnectionStore: Send + Sync {
    /// Creates a connection (and, for a standard one, its token family) in one transaction.
    fn create_connection(&self, connection: NewConnection) -> StoreFuture<'_, Connection>;
    /// Looks a connection up by id.
    fn get_connection(&self, id: ConnectionId) -> StoreFuture<'_, Option<Connection>>;
    /// Looks a connection up by name (case-insensitive).
    fn find_connection_by_name<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<Connection>>;
    /// All connections, by name.
    fn list_connections(&self) -> StoreFuture<'_, Vec<Connection>>;
    /// Renames or re-describes a connection.
    fn update_connection(
        &self,
        id: ConnectionId,
        update: ConnectionUpdate,
    ) -> StoreFuture<'_, Connection>;
    /// Sets a connection's status and message (`None` clears the message).
    fn set_connection_status(
        &self,
        id: ConnectionId,
        status: ConnectionStatus,
        message: Option<String>,
    ) -> StoreFuture<'_, Connection>;
    /// Marks a connection `reconnect_required` with a message for the user; the record is kept.
    fn mark_reconnect_required(
        &self,
        id: ConnectionId,
        message: String,
    ) -> StoreFuture<'_, Connection>;
    /// Deletes a connection. Refused with `ConnectionInUse` (naming the flows) while flows
    /// reference it. A standard connection's token family goes with it; a named credential
    /// connection leaves the credential and its principal untouched.
    fn delete_connection(&self, id: ConnectionId) -> StoreFuture<'_, ()>;
    /// Records that a flow uses a connection (idempotent).
    fn add_flow_reference(&self, id: ConnectionId, flow_name: String) -> StoreFuture<'_, ()>;
    /// Removes a flow's reference to a connection (idempotent).
    fn remove_flow_reference(&self, id: ConnectionId, flow_name: String) -> StoreFuture<'_, ()>;
    /// Names of the flows that use a connection, sorted.
    fn connection_in_use(&self, id: ConnectionId) -> StoreFuture<'_, Vec<String>>;
}

/// Token families and the single-flight refresh protocol.
///
/// # Refresh protocol (what the token manager does)
/// 1. `try_acquire_refresh_lease`; if `None`, someone else is refreshing: wait and re-read.
/// 2. `get_tokens` again after taking the lease: if the version moved or the token is now
///    fresh, release the lease and use what is stored.
/// 3. Call the token endpoint (no transaction is open).
/// 4. `store_refreshed` with the version read in step 2, *before* using the new access token.
/// 5. On `invalid_grant`, `mark_family_reconnect_required`.
pub trait TokenStore: Send + Sync {
    /// The family's current tokens, decrypted. `NotFound` if it does not exist.
    fn get_tokens(&self, family_id: TokenFamilyId) -> StoreFuture<'_, TokenSet>;
    /// Takes the family's refresh lease if it is free or lapsed; `None` while someone else holds
    /// a live one. Atomic across processes sharing the database.
    fn try_acquire_refresh_lease<'a>(
        &'a self,
        family_id: TokenFamilyId,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Option<RefreshLease>>;
    /// Persists refreshed tokens if the stored version is still `expected_version`, bumps the
    /// version and returns it; otherwise `VersionConflict`. Keeps the stored refresh token when
    /// `tokens.refresh_token` is `None`. Whether it succeeds or conflicts, it releases `lease`
    /// if that is still the holder. A lapsed lease does not stop the write: the version check
    /// alone decides, so a pair obtained from the token endpoint is never dropped while it is
    /// still the newest generation.
    fn store_refreshed<'a>(
        &'a self,
        lease: &'a RefreshLease,
        expected_version: i64,
        tokens: RefreshedTokens,
    ) -> StoreFuture<'a, i64>;
    /// Releases a lease if it is still held by `lease` (no-op otherwise).
    fn release_lease<'a>(&'a self, lease: &'a RefreshLease) -> StoreFuture<'a, ()>;
    /// Replaces a family's tokens after a fresh consent (reconnect): new tokens, version bumped,
    /// lease cleared, and every connection using the family set back to `active`; one
    /// transaction. An in-flight refresh of the old generation then loses its compare-and-swap.
    fn replace_family(&self, family_id: TokenFamilyId, tokens: NewTokens) -> StoreFuture<'_, i64>;
    /// Families whose access token expires before `before` and that can be refreshed (they
    /// have a refresh token and no connection waiting for a reconnect), soonest first: the
    /// work list of a proactive background refresher.
    fn families_expiring_before(
        &self,
        before: DateTime<Utc>,
    ) -> StoreFuture<'_, Vec<TokenFamilyId>>;
    /// Marks every connection using the family `reconnect_required` with `message`; returns
    /// them. The family and connections are kept.
    fn mark_family_reconnect_required(
        &self,
        family_id: TokenFamilyId,
        message: String,
    ) -> StoreFuture<'_, Vec<ConnectionId>>;
}

/// Named credentials and principal grants.
pub trait NamedCredentialStore: Send + Sync {
    /// Creates a named credential and its principal token family in one transaction.
    fn create_named_credential(
        &self,
        credential: NewNamedCredential,
    ) -> StoreFuture<'_, NamedCredential>;
    /// Looks one up by id.
    fn get_named_credential(
        &self,
        id: NamedCredentialId,
    ) -> StoreFuture<'_, Option<NamedCredential>>;
    /// All named credentials, by name.
    fn list_named_credentials(&self) -> StoreFuture<'_, Vec<NamedCredential>>;
    /// Deletes a named credential and its principal; refused (`InUse`) while connections use it.
    fn delete_named_credential(&self, id: NamedCredentialId) -> StoreFuture<'_, ()>;
    /// Grants a user the use of the credential's principal (idempotent).
    fn grant_principal(&self, id: NamedCredentialId, user_id: UserId) -> StoreFuture<'_, ()>;
    /// Revokes a principal grant (idempotent).
    fn revoke_principal(&self, id: NamedCredentialId, user_id: UserId) -> StoreFuture<'_, ()>;
    /// Whether the user holds a grant on the credential's principal.
    fn has_principal_grant(&self, id: NamedCredentialId, user_id: UserId) -> StoreFuture<'_, bool>;
    /// Users holding a grant, sorted by id.
    fn list_principal_grants(&self, id: NamedCredentialId) -> StoreFuture<'_, Vec<UserId>>;
}

/// Applied flows.
pub trait FlowStore: Send + Sync {
    /// Creates or replaces the flow named `flow.name` (case-insensitive). The version is bumped
    /// when the source changed (kept otherwise), and the flow's connection references are
    /// replaced by `flow.connections`, all in one transaction.
    fn save_flow(&self, flow: SaveFlow) -> StoreFuture<'_, FlowRecord>;
    /// Looks a flow up by name (case-insensitive).
    fn get_flow<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<FlowRecord>>;
    /// All flows, by name.
    fn list_flows(&self) -> StoreFuture<'_, Vec<FlowRecord>>;
    /// Enables or disables a flow's trigger. `NotFound` for an unknown flow.
    fn set_flow_enabled<'a>(&'a self, name: &'a str, enabled: bool) -> StoreFuture<'a, FlowRecord>;
    /// Deletes a flow and its connection references; its runs are kept. `NotFound` if unknown.
    fn delete_flow<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()>;
    /// The source of an earlier version of a flow, which runs created then still execute.
    fn flow_source<'a>(&'a self, name: &'a str, version: i64) -> StoreFuture<'a, Option<String>>;
}

/// Runs and their step history; the work queue of the executor.
///
/// # Claims
/// A worker claims a pending run (or a running one whose lease lapsed: its worker died) and
/// holds it under a lease it renews while it works. Every step change is saved before the
/// worker moves on, so a new claim resumes where the old one stopped.
pub trait RunStore: Send + Sync {
    /// Enqueues a run (status `pending`). With a `dedupe_key` already used by the flow, fails
    /// with `Duplicate` and writes nothing.
    fn create_run(&self, run: NewRun) -> StoreFuture<'_, RunRecord>;
    /// A run and its steps.
    fn get_run(&self, id: RunId) -> StoreFuture<'_, Option<RunDetail>>;
    /// Runs, newest first.
    fn list_runs(&self, query: RunQuery) -> StoreFuture<'_, Vec<RunRecord>>;
    /// Claims the oldest claimable run (pending, or running with a lapsed lease) for `owner`,
    /// marking it `running` and counting the claim; `None` when there is nothing to do. With
    /// `only`, claims that run alone (if it is claimable).
    fn claim_run<'a>(
        &'a self,
        owner: &'a str,
        lease: Duration,
        only: Option<RunId>,
    ) -> StoreFuture<'a, Option<ClaimedRun>>;
    /// Extends a claim; `false` when `owner` no longer holds it (another worker took over).
    fn renew_claim<'a>(
        &'a self,
        id: RunId,
        owner: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, bool>;
    /// Saves a step (insert or replace by run and index). Refused with `Invalid` when `owner`
    /// no longer holds the run, so a worker that lost its lease cannot overwrite the new one's
    /// history.
    fn save_step<'a>(&'a self, owner: &'a str, step: StepRecord) -> StoreFuture<'a, ()>;
    /// Ends a run with a final status (and the error that failed it), releasing the claim.
    /// Refused with `Invalid` when `owner` no longer holds it.
    fn finish_run<'a>(
        &'a self,
        id: RunId,
        owner: &'a str,
        status: RunStatus,
        error: Option<String>,
    ) -> StoreFuture<'a, RunRecord>;
    /// Deletes final runs (and their steps) that finished before `before`; returns how many.
    fn purge_runs(&self, before: DateTime<Utc>) -> StoreFuture<'_, u64>;
}

/// The write ledger: which creates happened (and what they created), and which may have.
pub trait WriteLedger: Send + Sync {
    /// What is known about a write.
    fn ledger_get<'a>(&'a self, key: &'a LedgerKey) -> StoreFuture<'a, Option<LedgerEntry>>;
    /// Records that a create is being sent now (replacing any earlier entry).
    fn ledger_pending<'a>(
        &'a self,
        key: &'a LedgerKey,
        attempt_started_at: DateTime<Utc>,
    ) -> StoreFuture<'a, ()>;
    /// Records what the write created.
    fn ledger_commit<'a>(&'a self, key: &'a LedgerKey, jira_id: &'a str) -> StoreFuture<'a, ()>;
    /// Forgets a write (the created object was deleted in Jira).
    fn ledger_forget<'a>(&'a self, key: &'a LedgerKey) -> StoreFuture<'a, ()>;
}

/// File object records. The content lives elsewhere (`jiraflow-files`), which writes a record
/// only after the content is complete and deletes the content before the record.
pub trait FileObjectStore: Send + Sync {
    /// Writes a new record (the caller picked the id and stored the content under it). Fails
    /// with `Invalid` for a bad name, media type or digest, and writes nothing.
    fn create_file(&self, file: FileObject) -> StoreFuture<'_, FileObject>;
    /// Looks a record up by id.
    fn get_file(&self, id: FileId) -> StoreFuture<'_, Option<FileObject>>;
    /// Records, newest first, optionally of one owner and at most `limit`.
    fn list_files(&self, query: FileQuery) -> StoreFuture<'_, Vec<FileObject>>;
    /// Deletes a record; returns whether it existed.
    fn delete_file(&self, id: FileId) -> StoreFuture<'_, bool>;
    /// Records whose `expires_at` is at or before `now`, oldest expiry first.
    fn list_expired_files(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<FileObject>>;
    /// Deletes every record owned by the run; returns their ids (their content is the caller's).
    fn delete_run_files(&self, run_id: RunId) -> StoreFuture<'_, Vec<FileId>>;
    /// How many records there are and the sum of their sizes in bytes.
    fn file_totals(&self) -> StoreFuture<'_, (u64, u64)>;
}

/// Trigger cursors, health, webhook registrations and delivery ids.
pub trait TriggerStore: Send + Sync {
    /// A flow's trigger state (`None` before its first poll).
    fn trigger_state<'a>(&'a self, flow_name: &'a str) -> StoreFuture<'a, Option<TriggerState>>;
    /// Every flow's trigger state, by flow name.
    fn list_trigger_states(&self) -> StoreFuture<'_, Vec<TriggerState>>;
    /// In one transaction: creates a pending run (origin trigger, the flow's current version)
    /// for each event whose dedupe key the flow has not used yet, counts the others as
    /// duplicates, and, with `advance_cursor_to`, moves the cursor there (never backwards) and
    /// records a successful poll (clearing the error). `NotFound` for an unknown flow.
    fn enqueue_events<'a>(
        &'a self,
        flow_name: &'a str,
        events: Vec<TriggerEvent>,
        advance_cursor_to: Option<i64>,
    ) -> StoreFuture<'a, EnqueueOutcome>;
    /// Sets (or clears) the cursor outright: the start position, or a reset.
    fn set_trigger_cursor<'a>(
        &'a self,
        flow_name: &'a str,
        cursor_ms: Option<i64>,
    ) -> StoreFuture<'a, ()>;
    /// Records a failed poll (its error, the attempt time, one more consecutive failure).
    fn record_poll_failure<'a>(&'a self, flow_name: &'a str, error: String) -> StoreFuture<'a, ()>;
    /// Pauses the trigger with a reason, or resumes it with `None`.
    fn set_trigger_paused<'a>(
        &'a self,
        flow_name: &'a str,
        reason: Option<String>,
    ) -> StoreFuture<'a, ()>;
    /// Records (or, with `None`, forgets) the flow's webhook registration.
    fn save_webhook_registration<'a>(
        &'a self,
        flow_name: &'a str,
        registration: Option<WebhookRegistration>,
    ) -> StoreFuture<'a, ()>;
    /// Records a webhook delivery identifier; `false` when it was recorded before (a replay or
    /// a redelivery), atomically across processes.
    fn record_webhook_delivery<'a>(
        &'a self,
        identifier: &'a str,
        received_at: DateTime<Utc>,
    ) -> StoreFuture<'a, bool>;
    /// Forgets delivery identifiers received before `before`; returns how many.
    fn purge_webhook_deliveries(&self, before: DateTime<Utc>) -> StoreFuture<'_, u64>;
}

/// Everything: what services hold as `Arc<dyn Store>`.
pub trait Store:
    UserStore
    + OAuthAppStore
    + PendingAuthStore
    + ConnectionStore
    + TokenStore
    + NamedCredentialStore
    + FlowStore
    + RunStore
    + WriteLedger
    + FileObjectStore
    + TriggerStore
{
}

impl<T> Store for T where
    T: UserStore
        + OAuthAppStore
        + PendingAuthStore
        + ConnectionStore
        + TokenStore
        + NamedCredentialStore
        + FlowStore
        + RunStore
        + WriteLedger
        + FileObjectStore
        + TriggerStore
{
}
