//! Named credentials (URL + external credential + exactly one principal token family) and the
//! grants that let users use a principal. The principal family is created with the credential
//! and deleted with it; connections built on the credential only borrow it.

use sqlx::Row;

use super::SqliteStore;
use super::rows::{
    map_unique, named_credential, named_credential_columns, now_ms, valid_name, valid_url,
};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::ids::{NamedCredentialId, UserId};
use crate::model::{NamedCredential, NewNamedCredential};
use crate::traits::{NamedCredentialStore, StoreFuture};

impl SqliteStore {
    async fn named_by_id(&self, id: NamedCredentialId) -> StoreResult<Option<NamedCredential>> {
        sqlx::query(concat!(
            "SELECT ",
            named_credential_columns!(),
            " FROM named_credentials WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(named_credential)
        .transpose()
    }

    async fn create_named_impl(&self, new: NewNamedCredential) -> StoreResult<NamedCredential> {
        let name = valid_name("named credential name", &new.name)?;
        let url = valid_url("named credential URL", &new.url)?;
        let id = NamedCredentialId::new();
        let mut tx = self.begin_write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM oauth_apps WHERE id = $1")
            .bind(new.oauth_app_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(
                RecordKind::OAuthApp,
                new.oauth_app_id,
            ));
        }
        let family = self
            .insert_family(&mut tx, new.oauth_app_id, &new.principal)
            .await?;
        sqlx::query(
            "INSERT INTO named_credentials (id, name, url, oauth_app_id, principal_family_id, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(&name)
        .bind(url)
        .bind(new.oauth_app_id.to_string())
        .bind(family.to_string())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(|e| map_unique(e, RecordKind::NamedCredential, &name))?;
        tx.commit().await?;
        self.named_by_id(id)
            .await?
            .ok_or_else(|| StoreError::not_found(RecordKind::NamedCredential, id))
    }

    async fn delete_named_impl(&self, id: NamedCredentialId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT name, principal_family_id FROM named_credentials WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(RecordKind::NamedCredential, id))?;
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM connections WHERE named_credential_id = $1 ORDER BY name",
        )
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        if !users.is_empty() {
            return Err(StoreError::InUse {
                kind: RecordKind::NamedCredential,
                name: row.try_get("name")?,
                dependents: format!("connections {}", users.join(", ")),
            });
        }
        let family: String = row.try_get("principal_family_id")?;
        sqlx::query("DELETE FROM named_credentials WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM token_families WHERE id = $1")
            .bind(family)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn grant_impl(&self, id: NamedCredentialId, user_id: UserId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let credential: Option<String> =
            sqlx::query_scalar("SELECT id FROM named_credentials WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if credential.is_none() {
            return Err(StoreError::not_found(RecordKind::NamedCredential, id));
        }
        let user: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
            .bind(user_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if user.is_none() {
            return Err(StoreError::not_found(RecordKind::User, user_id));
        }
        sqlx::query(
            "INSERT INTO principal_grants (named_credential_id, user_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(user_id.to_string())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl NamedCredentialStore for SqliteStore {
    fn create_named_credential(
        &self,
        credential: NewNamedCredential,
    ) -> StoreFuture<'_, NamedCredential> {
        Box::pin(self.create_named_impl(credential))
    }

    fn get_named_credential(
        &self,
        id: NamedCredentialId,
    ) -> StoreFuture<'_, Option<NamedCredential>> {
        Box::pin(self.named_by_id(id))
    }

    fn list_named_credentials(&self) -> StoreFuture<'_, Vec<NamedCredential>> {
        Box::pin(async move {
            sqlx::query(concat!(
                "SELECT ",
                named_credential_columns!(),
                " FROM named_credentials ORDER BY name, id"
            ))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(named_credential)
            .collect()
        })
    }

    fn delete_named_credential(&self, id: NamedCredentialId) -> StoreFuture<'_, ()> {
        Box::pin(self.delete_named_impl(id))
    }

    fn grant_principal(&self, id: NamedCredentialId, user_id: UserId) -> StoreFuture<'_, ()> {
        Box::pin(self.grant_impl(id, user_id))
    }

    fn revoke_principal(&self, id: NamedCredentialId, user_id: UserId) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "DELETE FROM principal_grants WHERE named_credential_id = $1 AND user_id = $2",
            )
            .bind(id.to_string())
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn has_principal_grant(&self, id: NamedCredentialId, user_id: UserId) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM principal_grants WHERE named_credential_id = $1 AND user_id = $2",
            )
            .bind(id.to_string())
            .bind(user_id.to_string())
            .fetch_optional(&self.read)
            .await?;
            Ok(found.is_some())
        })
    }

    fn list_principal_grants(&self, id: NamedCredentialId) -> StoreFuture<'_, Vec<UserId>> {
        Box::pin(async move {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT user_id FROM principal_grants WHERE named_credential_id = $1 \
                 ORDER BY user_id",
            )
            .bind(id.to_string())
            .fetch_all(&self.read)
            .await?;
            ids.iter()
                .map(|u| super::parse_id(u, "principal_grants"))
                .collect()
        })
    }
}
