//! The SQLite backend.
//!
//! # Concurrency
//! The database runs in WAL mode with `synchronous=NORMAL`, `busy_timeout=5s` and foreign keys
//! on. Each [`SqliteStore`] has a one-connection write pool and a small read pool; every write
//! transaction starts with `BEGIN IMMEDIATE`, so it takes SQLite's write lock up front and waits
//! in the busy handler instead of failing at a lock upgrade. Several processes may open the same
//! file: the write lock serialises them, and the token lease and version columns carry the
//! cross-process refresh protocol. No transaction is ever held across anything but SQL.
//!
//! # Master key
//! `meta.key_check` holds a known constant sealed with AAD `meta:key_check`, and `meta.key_id`
//! the active key id byte. Opening with a key that cannot open the check fails with
//! [`StoreError::WrongMasterKey`] before anything else happens.

mod apps;
mod connections;
mod files;
mod flows;
mod ledger;
mod named;
mod pending;
mod rows;
mod runs;
mod tokens;
mod triggers;
mod users;

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::crypto::{self, KeySource, MasterKey};
use crate::error::{StoreError, StoreResult};

/// The constant sealed in `meta.key_check`.
const KEY_CHECK_PLAINTEXT: &[u8] = b"jiraflow master key check v1";
const KEY_CHECK_AAD: &[u8] = b"meta:key_check";
const MIGRATION_ATTEMPTS: u32 = 5;

/// The database file's name inside the data directory.
pub const DATABASE_FILE_NAME: &str = "jiraflow.db";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// The active master key and the id byte written into new envelopes.
struct KeyState {
    key: MasterKey,
    id: u8,
}

/// The SQLite store. Cheap to clone (pools and key are shared).
#[derive(Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    keys: Arc<RwLock<Arc<KeyState>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path`, runs migrations and verifies the
    /// master key. Refuses to open with a key other than the one the database was created with.
    pub async fn open(path: &Path, master_key: MasterKey) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        Self::migrate(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        let key_id = Self::check_key(&write, &master_key).await?;
        Ok(Self {
            write,
            read,
            keys: Arc::new(RwLock::new(Arc::new(KeyState {
                key: master_key,
                id: key_id,
            }))),
        })
    }

    /// Opens `<data_dir>/jiraflow.db` with the master key from `JIRAFLOW_MASTER_KEY` or
    /// `<data_dir>/master.key` (created on first start), creating the directory if needed.
    pub async fn open_data_dir(data_dir: &Path) -> StoreResult<(Self, KeySource)> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|source| StoreError::Io {
                path: data_dir.to_owned(),
                source,
            })?;
        let (key, source) = MasterKey::from_environment(data_dir)?;
        let store = Self::open(&data_dir.join(DATABASE_FILE_NAME), key).await?;
        Ok((store, source))
    }

    /// Runs the embedded migrations. Two processes starting on a fresh file can race here; the
    /// loser's migration fails on the winner's tables, and a retry then sees them applied.
    async fn migrate(pool: &SqlitePool) -> StoreResult<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match MIGRATOR.run(pool).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < MIGRATION_ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "migration attempt failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Verifies `key` against `meta.key_check`, writing the check on first open. Returns the
    /// active key id.
    async fn check_key(pool: &SqlitePool, key: &MasterKey) -> StoreResult<u8> {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let check: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'key_check'")
                .fetch_optional(&mut *tx)
                .await?;
        let id = match check {
            Some(sealed) => {
                let id = crypto::sealed_key_id(&sealed).ok_or(StoreError::WrongMasterKey)?;
                match crypto::open(key, id, KEY_CHECK_AAD, &sealed) {
                    Ok(plain) if plain == KEY_CHECK_PLAINTEXT => id,
                    _ => return Err(StoreError::WrongMasterKey),
                }
            }
            None => {
                let id = 1;
                write_key_check(&mut tx, key, id).await?;
                id
            }
        };
        tx.commit().await?;
        Ok(id)
    }

    /// Re-seals every secret and the key check under `new_key` in one transaction (all or
    /// nothing), then switches this store to it. Returns the new key id.
    ///
    /// # Important
    /// Other processes that still hold the old key can no longer read secrets after this; stop
    /// them first (the `jiraflow store rotate-key` command is run with the service stopped).
    pub async fn rotate_master_key(&self, new_key: MasterKey) -> StoreResult<u8> {
        let old = self.key_state();
        // Key ids cycle through 1..=255 so a stale envelope never carries the active id.
        let new_id = if old.id == u8::MAX { 1 } else { old.id + 1 };
        let mut tx = self.begin_write().await?;
        let apps = sqlx::query("SELECT id, client_secret FROM oauth_apps")
            .fetch_all(&mut *tx)
            .await?;
        for row in apps {
            let id: String = row.try_get("id")?;
            let sealed: Vec<u8> = row.try_get("client_secret")?;
            let aad = crypto::aad("oauth_apps", &id, "client_secret");
            let plain = crypto::open(&old.key, old.id, aad.as_bytes(), &sealed)?;
            let resealed = crypto::seal(&new_key, new_id, aad.as_bytes(), &plain)?;
            sqlx::query("UPDATE oauth_apps SET client_secret = $1 WHERE id = $2")
                .bind(resealed)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        let families = sqlx::query("SELECT id, access_token, refresh_token FROM token_families")
            .fetch_all(&mut *tx)
            .await?;
        for row in families {
            let id: String = row.try_get("id")?;
            let access: Vec<u8> = row.try_get("access_token")?;
            let refresh: Option<Vec<u8>> = row.try_get("refresh_token")?;
            let reseal = |column: &str, sealed: &[u8]| -> StoreResult<Vec<u8>> {
                let aad = crypto::aad("token_families", &id, column);
                let plain = crypto::open(&old.key, old.id, aad.as_bytes(), sealed)?;
                crypto::seal(&new_key, new_id, aad.as_bytes(), &plain)
            };
            let access = reseal("access_token", &access)?;
            let refresh = refresh.map(|r| reseal("refresh_token", &r)).transpose()?;
            sqlx::query(
                "UPDATE token_families SET access_token = $1, refresh_token = $2 WHERE id = $3",
            )
            .bind(access)
            .bind(refresh)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        write_key_check(&mut tx, &new_key, new_id).await?;
        tx.commit().await?;
        let mut guard = self.keys.write().unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(KeyState {
            key: new_key,
            id: new_id,
        });
        Ok(new_id)
    }

    /// The active key id byte.
    #[must_use]
    pub fn active_key_id(&self) -> u8 {
        self.key_state().id
    }

    /// Closes both pools (checkpointing the WAL when this is the last connection).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    fn key_state(&self) -> Arc<KeyState> {
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub(crate) fn seal(
        &self,
        table: &str,
        id: &str,
        column: &str,
        plain: &str,
    ) -> StoreResult<Vec<u8>> {
        let keys = self.key_state();
        let aad = crypto::aad(table, id, column);
        crypto::seal(&keys.key, keys.id, aad.as_bytes(), plain.as_bytes())
    }

    pub(crate) fn open_sealed(
        &self,
        table: &str,
        id: &str,
        column: &str,
        sealed: &[u8],
    ) -> StoreResult<String> {
        let keys = self.key_state();
        let aad = crypto::aad(table, id, column);
        let plain = crypto::open(&keys.key, keys.id, aad.as_bytes(), sealed)?;
        String::from_utf8(plain).map_err(|_| StoreError::Corrupt {
            context: aad,
            reason: "sealed value is not UTF-8".to_owned(),
        })
    }
}

async fn write_key_check(
    tx: &mut Transaction<'static, Sqlite>,
    key: &MasterKey,
    id: u8,
) -> StoreResult<()> {
    let sealed = crypto::seal(key, id, KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT)?;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('key_check', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(sealed)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('key_id', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(vec![id])
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Parses a stored id column.
pub(crate) fn parse_id<T: FromStr>(value: &str, context: &str) -> StoreResult<T> {
    value.parse().map_err(|_| StoreError::Corrupt {
        context: context.to_owned(),
        reason: format!("not a UUID: {value:?}"),
    })
}
