//! Pending authorizations: the server side of the OAuth `state`. The state is 256 random bits
//! (base64url); only its SHA-256 hash is stored, so a copy of the database cannot be used to
//! finish someone's consent. Taking a state is one `UPDATE ... RETURNING` guarded by
//! `consumed_at IS NULL AND expires_at > now AND user_id = ?`, so exactly one caller wins.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use super::rows::{from_ms, ms, now_ms, parse_scopes, scopes_json, valid_url};
use crate::error::{StateRejection, StoreError, StoreResult};
use crate::ids::{PendingAuthId, UserId};
use crate::model::{NewPendingAuthorization, PendingAuthorization};
use crate::secret::StateToken;
use crate::traits::{PendingAuthStore, StoreFuture};

const TABLE: &str = "pending_authorizations";
/// Upper bound on a state's lifetime; consent screens do not take an hour.
const MAX_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

fn pending(row: &SqliteRow) -> StoreResult<PendingAuthorization> {
    let purpose: String = row.try_get("purpose")?;
    Ok(PendingAuthorization {
        id: super::parse_id(row.try_get("id")?, TABLE)?,
        user_id: super::parse_id(row.try_get("user_id")?, TABLE)?,
        oauth_app_id: super::parse_id(row.try_get("oauth_app_id")?, TABLE)?,
        purpose: serde_json::from_str(&purpose).map_err(|e| StoreError::Corrupt {
            context: TABLE.to_owned(),
            reason: format!("purpose: {e}"),
        })?,
        redirect_uri: row.try_get("redirect_uri")?,
        scopes: parse_scopes(row.try_get("scopes")?, TABLE)?,
        created_at: from_ms(row.try_get("created_at")?, TABLE)?,
        expires_at: from_ms(row.try_get("expires_at")?, TABLE)?,
    })
}

impl SqliteStore {
    async fn create_pending_impl(
        &self,
        new: NewPendingAuthorization,
    ) -> StoreResult<(StateToken, PendingAuthorization)> {
        // The redirect URI is compared exactly later, so it is stored exactly as given.
        valid_url("redirect URI", &new.redirect_uri)?;
        if new.ttl.is_zero() || new.ttl > MAX_TTL {
            return Err(StoreError::invalid(
                "state lifetime",
                "must be between 1 second and 1 hour",
            ));
        }
        let ttl = chrono::Duration::from_std(new.ttl)
            .map_err(|_| StoreError::invalid("state lifetime", "is too long"))?;
        let purpose = serde_json::to_string(&new.purpose).map_err(|e| StoreError::Corrupt {
            context: TABLE.to_owned(),
            reason: format!("purpose: {e}"),
        })?;
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let state = URL_SAFE_NO_PAD.encode(random);
        let id = PendingAuthId::new();
        let created_at = chrono::Utc::now();
        let expires_at = created_at + ttl;
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "INSERT INTO pending_authorizations (id, state_hash, user_id, oauth_app_id, purpose, \
             redirect_uri, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        )
        .bind(id.to_string())
        .bind(state_hash(&state))
        .bind(new.user_id.to_string())
        .bind(new.oauth_app_id.to_string())
        .bind(purpose)
        .bind(&new.redirect_uri)
        .bind(scopes_json(&new.scopes))
        .bind(ms(created_at))
        .bind(ms(expires_at))
        .fetch_one(&mut *tx)
        .await;
        let row = match result {
            Ok(row) => row,
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(StoreError::invalid(
                    "pending authorization",
                    "the user or OAuth app does not exist",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let record = pending(&row)?;
        tx.commit().await?;
        Ok((StateToken::new(state), record))
    }

    async fn take_pending_impl(
        &self,
        state: &StateToken,
        user_id: UserId,
    ) -> StoreResult<PendingAuthorization> {
        let hash = state_hash(state.expose());
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE pending_authorizations SET consumed_at = $1 \
             WHERE state_hash = $2 AND user_id = $3 AND consumed_at IS NULL AND expires_at > $1 \
             RETURNING *",
        )
        .bind(now)
        .bind(&hash)
        .bind(user_id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = taken {
            let record = pending(&row)?;
            tx.commit().await?;
            return Ok(record);
        }
        // Classify the refusal for a clear message; nothing was changed.
        let row = sqlx::query(
            "SELECT user_id, consumed_at, expires_at FROM pending_authorizations \
             WHERE state_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let rejection = match row {
            None => StateRejection::Unknown,
            Some(row) => {
                let owner: String = row.try_get("user_id")?;
                let consumed: Option<i64> = row.try_get("consumed_at")?;
                let expires_at: i64 = row.try_get("expires_at")?;
                if consumed.is_some() {
                    StateRejection::AlreadyUsed
                } else if expires_at <= now {
                    StateRejection::Expired
                } else if owner != user_id.to_string() {
                    StateRejection::OtherUser
                } else {
                    StateRejection::Unknown
                }
            }
        };
        Err(StoreError::State(rejection))
    }

    async fn purge_pending_impl(&self) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM pending_authorizations WHERE consumed_at IS NOT NULL OR expires_at <= $1",
        )
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

impl PendingAuthStore for SqliteStore {
    fn create_pending(
        &self,
        pending: NewPendingAuthorization,
    ) -> StoreFuture<'_, (StateToken, PendingAuthorization)> {
        Box::pin(self.create_pending_impl(pending))
    }

    fn take_pending<'a>(
        &'a self,
        state: &'a StateToken,
        user_id: UserId,
    ) -> StoreFuture<'a, PendingAuthorization> {
        Box::pin(self.take_pending_impl(state, user_id))
    }

    fn purge_pending(&self) -> StoreFuture<'_, u64> {
        Box::pin(self.purge_pending_impl())
    }
}
