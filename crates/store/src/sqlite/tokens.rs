//! Token families and the cross-process refresh lease.
//!
//! A family row holds the sealed access and refresh tokens (AAD
//! `token_families:{id}:access_token` / `:refresh_token`), the expiry, a `version` bumped by every
//! write (the compare-and-swap key) and a lease (`lease_id`, `lease_owner`, `lease_until`). The
//! lease is taken and released by single `UPDATE` statements, so it is atomic across processes
//! sharing the file; nothing here keeps a transaction open while the caller talks HTTP.

use std::time::Duration;

use chrono::Utc;
use sqlx::{Row, Sqlite, Transaction};

use super::SqliteStore;
use super::rows::{from_ms, ms, now_ms, opt_from_ms, parse_scopes, scopes_json};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::ids::{ConnectionId, LeaseId, OAuthAppId, TokenFamilyId};
use crate::model::{NewTokens, RefreshLease, RefreshedTokens, TokenSet};
use crate::secret::{AccessToken, RefreshToken};
use crate::traits::{StoreFuture, TokenStore};

const TABLE: &str = "token_families";

fn check_tokens(access: &AccessToken, refresh: Option<&RefreshToken>) -> StoreResult<()> {
    if access.expose().is_empty() {
        return Err(StoreError::invalid("access token", "must not be empty"));
    }
    if refresh.is_some_and(|r| r.expose().is_empty()) {
        return Err(StoreError::invalid("refresh token", "must not be empty"));
    }
    Ok(())
}

impl SqliteStore {
    /// Inserts a new family inside the caller's transaction.
    pub(crate) async fn insert_family(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        oauth_app_id: OAuthAppId,
        tokens: &NewTokens,
    ) -> StoreResult<TokenFamilyId> {
        check_tokens(&tokens.access_token, tokens.refresh_token.as_ref())?;
        let id = TokenFamilyId::new();
        let key = id.to_string();
        let access = self.seal(TABLE, &key, "access_token", tokens.access_token.expose())?;
        let refresh = tokens
            .refresh_token
            .as_ref()
            .map(|r| self.seal(TABLE, &key, "refresh_token", r.expose()))
            .transpose()?;
        sqlx::query(
            "INSERT INTO token_families (id, oauth_app_id, access_token, refresh_token, \
             expires_at, scopes, version, family_created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
        )
        .bind(&key)
        .bind(oauth_app_id.to_string())
        .bind(access)
        .bind(refresh)
        .bind(ms(tokens.expires_at))
        .bind(scopes_json(&tokens.scopes))
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }

    async fn get_tokens_impl(&self, family_id: TokenFamilyId) -> StoreResult<TokenSet> {
        let key = family_id.to_string();
        let row = sqlx::query(
            "SELECT access_token, refresh_token, expires_at, scopes, version, family_created_at, \
             last_refreshed_at FROM token_families WHERE id = $1",
        )
        .bind(&key)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::not_found(RecordKind::TokenFamily, family_id))?;
        let access: Vec<u8> = row.try_get("access_token")?;
        let refresh: Option<Vec<u8>> = row.try_get("refresh_token")?;
        Ok(TokenSet {
            family_id,
            access_token: AccessToken::new(self.open_sealed(
                TABLE,
                &key,
                "access_token",
                &access,
            )?),
            refresh_token: refresh
                .map(|r| self.open_sealed(TABLE, &key, "refresh_token", &r))
                .transpose()?
                .map(RefreshToken::new),
            expires_at: from_ms(row.try_get("expires_at")?, TABLE)?,
            scopes: parse_scopes(row.try_get("scopes")?, TABLE)?,
            version: row.try_get("version")?,
            family_created_at: from_ms(row.try_get("family_created_at")?, TABLE)?,
            last_refreshed_at: opt_from_ms(row.try_get("last_refreshed_at")?, TABLE)?,
        })
    }

    async fn try_acquire_impl(
        &self,
        family_id: TokenFamilyId,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<RefreshLease>> {
        let ttl = chrono::Duration::from_std(ttl)
            .map_err(|_| StoreError::invalid("lease ttl", "is too long"))?;
        let now = Utc::now();
        let until = now + ttl;
        let lease_id = LeaseId::new();
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE token_families SET lease_id = $1, lease_owner = $2, lease_until = $3 \
             WHERE id = $4 AND (lease_until IS NULL OR lease_until <= $5) RETURNING id",
        )
        .bind(lease_id.to_string())
        .bind(owner)
        .bind(ms(until))
        .bind(family_id.to_string())
        .bind(ms(now))
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_none() {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT id FROM token_families WHERE id = $1")
                    .bind(family_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.commit().await?;
            return match exists {
                Some(_) => Ok(None),
                None => Err(StoreError::not_found(RecordKind::TokenFamily, family_id)),
            };
        }
        tx.commit().await?;
        Ok(Some(RefreshLease {
            family_id,
            lease_id,
            owner: owner.to_owned(),
            until,
        }))
    }

    async fn store_refreshed_impl(
        &self,
        lease: &RefreshLease,
        expected_version: i64,
        tokens: RefreshedTokens,
    ) -> StoreResult<i64> {
        check_tokens(&tokens.access_token, tokens.refresh_token.as_ref())?;
        let key = lease.family_id.to_string();
        let access = self.seal(TABLE, &key, "access_token", tokens.access_token.expose())?;
        let refresh = tokens
            .refresh_token
            .as_ref()
            .map(|r| self.seal(TABLE, &key, "refresh_token", r.expose()))
            .transpose()?;
        let scopes = tokens.scopes.as_deref().map(scopes_json);
        let mut tx = self.begin_write().await?;
        // The version check is the safety net: even a holder whose lease lapsed may only write
        // over the generation it refreshed from.
        let updated: Option<i64> = sqlx::query_scalar(
            "UPDATE token_families SET access_token = $1, \
             refresh_token = COALESCE($2, refresh_token), expires_at = $3, \
             scopes = COALESCE($4, scopes), version = version + 1, last_refreshed_at = $5, \
             lease_owner = CASE WHEN lease_id = $6 THEN NULL ELSE lease_owner END, \
             lease_until = CASE WHEN lease_id = $6 THEN NULL ELSE lease_until END, \
             lease_id = CASE WHEN lease_id = $6 THEN NULL ELSE lease_id END \
             WHERE id = $7 AND version = $8 RETURNING version",
        )
        .bind(access)
        .bind(refresh)
        .bind(ms(tokens.expires_at))
        .bind(scopes)
        .bind(now_ms())
        .bind(lease.lease_id.to_string())
        .bind(&key)
        .bind(expected_version)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(version) = updated {
            tx.commit().await?;
            return Ok(version);
        }
        let actual: Option<i64> =
            sqlx::query_scalar("SELECT version FROM token_families WHERE id = $1")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        // A lost compare-and-swap ends this holder's turn too.
        sqlx::query(
            "UPDATE token_families SET lease_id = NULL, lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_id = $2",
        )
        .bind(&key)
        .bind(lease.lease_id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        match actual {
            Some(actual) => Err(StoreError::VersionConflict {
                family: key,
                expected: expected_version,
                actual,
            }),
            None => Err(StoreError::not_found(RecordKind::TokenFamily, key)),
        }
    }

    async fn release_lease_impl(&self, lease: &RefreshLease) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE token_families SET lease_id = NULL, lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_id = $2",
        )
        .bind(lease.family_id.to_string())
        .bind(lease.lease_id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn replace_family_impl(
        &self,
        family_id: TokenFamilyId,
        tokens: NewTokens,
    ) -> StoreResult<i64> {
        check_tokens(&tokens.access_token, tokens.refresh_token.as_ref())?;
        let key = family_id.to_string();
        let access = self.seal(TABLE, &key, "access_token", tokens.access_token.expose())?;
        let refresh = tokens
            .refresh_token
            .as_ref()
            .map(|r| self.seal(TABLE, &key, "refresh_token", r.expose()))
            .transpose()?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let version: Option<i64> = sqlx::query_scalar(
            "UPDATE token_families SET access_token = $1, refresh_token = $2, expires_at = $3, \
             scopes = $4, version = version + 1, family_created_at = $5, \
             last_refreshed_at = NULL, lease_id = NULL, lease_owner = NULL, lease_until = NULL \
             WHERE id = $6 RETURNING version",
        )
        .bind(access)
        .bind(refresh)
        .bind(ms(tokens.expires_at))
        .bind(scopes_json(&tokens.scopes))
        .bind(now)
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
        let version =
            version.ok_or_else(|| StoreError::not_found(RecordKind::TokenFamily, family_id))?;
        sqlx::query(
            "UPDATE connections SET status = 'active', status_message = NULL, updated_at = $1 \
             WHERE token_family_id = $2 AND status = 'reconnect_required'",
        )
        .bind(now)
        .bind(&key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn mark_family_impl(
        &self,
        family_id: TokenFamilyId,
        message: String,
    ) -> StoreResult<Vec<ConnectionId>> {
        let key = family_id.to_string();
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM token_families WHERE id = $1")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(RecordKind::TokenFamily, family_id));
        }
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE connections SET status = 'reconnect_required', status_message = $1, \
             updated_at = $2 WHERE token_family_id = $3 RETURNING id",
        )
        .bind(&message)
        .bind(now_ms())
        .bind(&key)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut ids = ids
            .iter()
            .map(|id| super::parse_id(id, "connections"))
            .collect::<StoreResult<Vec<ConnectionId>>>()?;
        ids.sort();
        Ok(ids)
    }
}

impl TokenStore for SqliteStore {
    fn get_tokens(&self, family_id: TokenFamilyId) -> StoreFuture<'_, TokenSet> {
        Box::pin(self.get_tokens_impl(family_id))
    }

    fn try_acquire_refresh_lease<'a>(
        &'a self,
        family_id: TokenFamilyId,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Option<RefreshLease>> {
        Box::pin(self.try_acquire_impl(family_id, owner, ttl))
    }

    fn store_refreshed<'a>(
        &'a self,
        lease: &'a RefreshLease,
        expected_version: i64,
        tokens: RefreshedTokens,
    ) -> StoreFuture<'a, i64> {
        Box::pin(self.store_refreshed_impl(lease, expected_version, tokens))
    }

    fn release_lease<'a>(&'a self, lease: &'a RefreshLease) -> StoreFuture<'a, ()> {
        Box::pin(self.release_lease_impl(lease))
    }

    fn replace_family(&self, family_id: TokenFamilyId, tokens: NewTokens) -> StoreFuture<'_, i64> {
        Box::pin(self.replace_family_impl(family_id, tokens))
    }

    fn families_expiring_before(
        &self,
        before: chrono::DateTime<Utc>,
    ) -> StoreFuture<'_, Vec<TokenFamilyId>> {
        Box::pin(async move {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT f.id FROM token_families f WHERE f.expires_at < $1 \
                 AND f.refresh_token IS NOT NULL AND NOT EXISTS (SELECT 1 FROM connections c \
                 WHERE c.token_family_id = f.id AND c.status = 'reconnect_required') \
                 ORDER BY f.expires_at, f.id",
            )
            .bind(ms(before))
            .fetch_all(&self.read)
            .await?;
            ids.iter().map(|id| super::parse_id(id, TABLE)).collect()
        })
    }

    fn mark_family_reconnect_required(
        &self,
        family_id: TokenFamilyId,
        message: String,
    ) -> StoreFuture<'_, Vec<ConnectionId>> {
        Box::pin(self.mark_family_impl(family_id, message))
    }
}
