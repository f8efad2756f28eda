//! Users, permissions and API keys. An API key is `jf_` + 43 base64url characters (256 random
//! bits); only its SHA-256 hash and a short display prefix are stored. Because the key is high
//! entropy, an unsalted fast hash is enough: there is nothing to brute-force.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use super::SqliteStore;
use super::rows::{from_ms, map_unique, now_ms, valid_name};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::ids::{ApiKeyId, UserId};
use crate::model::{ApiKeyRecord, CreatedApiKey, NewUser, Permission, User};
use crate::secret::ApiKeySecret;
use crate::traits::{StoreFuture, UserStore};

const API_KEY_PREFIX: &str = "jf_";
const DISPLAY_PREFIX_CHARS: usize = 10;

fn key_hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

impl SqliteStore {
    async fn user_by(&self, sql: &'static str, value: &str) -> StoreResult<Option<User>> {
        let Some(row) = sqlx::query(sql)
            .bind(value)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let id: String = row.try_get("id")?;
        let permissions = self.permissions_of(&id).await?;
        Ok(Some(User {
            id: super::parse_id(&id, "users")?,
            name: row.try_get("name")?,
            permissions,
            created_at: from_ms(row.try_get("created_at")?, "users")?,
        }))
    }

    async fn permissions_of(&self, user_id: &str) -> StoreResult<Vec<Permission>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT permission FROM user_permissions WHERE user_id = $1 ORDER BY permission",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        // Unknown names come from a newer version; ignoring them keeps this one conservative.
        Ok(names.iter().filter_map(|n| Permission::parse(n)).collect())
    }

    async fn get_user_required(&self, id: UserId) -> StoreResult<User> {
        self.user_by(
            "SELECT id, name, created_at FROM users WHERE id = $1",
            &id.to_string(),
        )
        .await?
        .ok_or_else(|| StoreError::not_found(RecordKind::User, id))
    }

    async fn create_user_impl(&self, user: NewUser) -> StoreResult<User> {
        let name = valid_name("user name", &user.name)?;
        let id = UserId::new();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(&name)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(|e| map_unique(e, RecordKind::User, &name))?;
        insert_permissions(&mut tx, id, &user.permissions).await?;
        tx.commit().await?;
        self.get_user_required(id).await
    }

    async fn set_permissions_impl(
        &self,
        id: UserId,
        permissions: Vec<Permission>,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(RecordKind::User, id));
        }
        sqlx::query("DELETE FROM user_permissions WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_permissions(&mut tx, id, &permissions).await?;
        tx.commit().await?;
        self.get_user_required(id).await
    }

    async fn create_api_key_impl(
        &self,
        user_id: UserId,
        label: String,
    ) -> StoreResult<CreatedApiKey> {
        let label = label.trim().to_owned();
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let key = format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(random));
        let prefix: String = key.chars().take(DISPLAY_PREFIX_CHARS).collect();
        let id = ApiKeyId::new();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
            .bind(user_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(RecordKind::User, user_id));
        }
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, label, prefix, key_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(user_id.to_string())
        .bind(&label)
        .bind(&prefix)
        .bind(key_hash(&key))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CreatedApiKey {
            record: ApiKeyRecord {
                id,
                user_id,
                label,
                prefix,
                created_at: from_ms(now, "api_keys")?,
            },
            key: ApiKeySecret::new(key),
        })
    }

    async fn authenticate_api_key_impl(&self, key: &ApiKeySecret) -> StoreResult<Option<User>> {
        let presented = key_hash(key.expose());
        let row = sqlx::query("SELECT user_id, key_hash FROM api_keys WHERE key_hash = $1")
            .bind(&presented)
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = row.try_get("key_hash")?;
        // The index lookup already matched; the constant-time comparison keeps the final
        // decision independent of where two hashes first differ.
        if !bool::from(stored.ct_eq(&presented)) {
            return Ok(None);
        }
        let user_id: String = row.try_get("user_id")?;
        self.user_by(
            "SELECT id, name, created_at FROM users WHERE id = $1",
            &user_id,
        )
        .await
    }

    async fn list_api_keys_impl(&self, user_id: UserId) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, user_id, label, prefix, created_at FROM api_keys \
             WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiKeyRecord {
                    id: super::parse_id(row.try_get("id")?, "api_keys")?,
                    user_id: super::parse_id(row.try_get("user_id")?, "api_keys")?,
                    label: row.try_get("label")?,
                    prefix: row.try_get("prefix")?,
                    created_at: from_ms(row.try_get("created_at")?, "api_keys")?,
                })
            })
            .collect()
    }

    async fn revoke_api_key_impl(&self, id: ApiKeyId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RecordKind::ApiKey, id));
        }
        Ok(())
    }
}

async fn insert_permissions(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    id: UserId,
    permissions: &[Permission],
) -> StoreResult<()> {
    for permission in permissions {
        sqlx::query(
            "INSERT INTO user_permissions (user_id, permission) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(permission.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl UserStore for SqliteStore {
    fn create_user(&self, user: NewUser) -> StoreFuture<'_, User> {
        Box::pin(self.create_user_impl(user))
    }

    fn get_user(&self, id: UserId) -> StoreFuture<'_, Option<User>> {
        Box::pin(async move {
            self.user_by(
                "SELECT id, name, created_at FROM users WHERE id = $1",
                &id.to_string(),
            )
            .await
        })
    }

    fn find_user_by_name<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<User>> {
        Box::pin(self.user_by(
            "SELECT id, name, created_at FROM users WHERE name = $1",
            name.trim(),
        ))
    }

    fn list_users(&self) -> StoreFuture<'_, Vec<User>> {
        Box::pin(async move {
            let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM users ORDER BY name, id")
                .fetch_all(&self.read)
                .await?;
            let mut users = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(user) = self
                    .user_by("SELECT id, name, created_at FROM users WHERE id = $1", &id)
                    .await?
                {
                    users.push(user);
                }
            }
            Ok(users)
        })
    }

    fn set_permissions(&self, id: UserId, permissions: Vec<Permission>) -> StoreFuture<'_, User> {
        Box::pin(self.set_permissions_impl(id, permissions))
    }

    fn create_api_key(&self, user_id: UserId, label: String) -> StoreFuture<'_, CreatedApiKey> {
        Box::pin(self.create_api_key_impl(user_id, label))
    }

    fn authenticate_api_key<'a>(&'a self, key: &'a ApiKeySecret) -> StoreFuture<'a, Option<User>> {
        Box::pin(self.authenticate_api_key_impl(key))
    }

    fn list_api_keys(&self, user_id: UserId) -> StoreFuture<'_, Vec<ApiKeyRecord>> {
        Box::pin(self.list_api_keys_impl(user_id))
    }

    fn revoke_api_key(&self, id: ApiKeyId) -> StoreFuture<'_, ()> {
        Box::pin(self.revoke_api_key_impl(id))
    }
}
