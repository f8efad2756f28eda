//! OAuth apps (external credentials). The client secret is sealed with AAD
//! `oauth_apps:{id}:client_secret` and is never part of the returned record.

use sqlx::Row;

use super::SqliteStore;
use super::rows::{
    map_unique, now_ms, oauth_app, oauth_app_columns, scopes_json, valid_name, valid_url,
};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::ids::OAuthAppId;
use crate::model::{NewOAuthApp, OAuthApp};
use crate::secret::ClientSecret;
use crate::traits::{OAuthAppStore, StoreFuture};

impl SqliteStore {
    pub(crate) async fn oauth_app_by_id(&self, id: OAuthAppId) -> StoreResult<Option<OAuthApp>> {
        sqlx::query(concat!(
            "SELECT ",
            oauth_app_columns!(),
            " FROM oauth_apps WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(oauth_app)
        .transpose()
    }

    async fn create_oauth_app_impl(&self, app: NewOAuthApp) -> StoreResult<OAuthApp> {
        let name = valid_name("OAuth app name", &app.name)?;
        let client_id = app.client_id.trim().to_owned();
        if client_id.is_empty() {
            return Err(StoreError::invalid("client id", "must not be empty"));
        }
        if app.client_secret.expose().is_empty() {
            return Err(StoreError::invalid("client secret", "must not be empty"));
        }
        let auth_base_url = valid_url("auth base URL", &app.auth_base_url)?;
        let api_base_url = valid_url("API base URL", &app.api_base_url)?;
        let id = OAuthAppId::new();
        let sealed = self.seal(
            "oauth_apps",
            &id.to_string(),
            "client_secret",
            app.client_secret.expose(),
        )?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO oauth_apps (id, name, client_id, client_secret, scopes, auth_base_url, \
             api_base_url, environment, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id.to_string())
        .bind(&name)
        .bind(&client_id)
        .bind(sealed)
        .bind(scopes_json(&app.scopes))
        .bind(auth_base_url)
        .bind(api_base_url)
        .bind(app.environment.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| map_unique(e, RecordKind::OAuthApp, &name))?;
        tx.commit().await?;
        self.oauth_app_by_id(id)
            .await?
            .ok_or_else(|| StoreError::not_found(RecordKind::OAuthApp, id))
    }

    async fn client_secret_impl(&self, id: OAuthAppId) -> StoreResult<ClientSecret> {
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT client_secret FROM oauth_apps WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.read)
                .await?;
        let sealed = sealed.ok_or_else(|| StoreError::not_found(RecordKind::OAuthApp, id))?;
        let clear = self.open_sealed("oauth_apps", &id.to_string(), "client_secret", &sealed)?;
        Ok(ClientSecret::new(clear))
    }

    async fn set_client_secret_impl(
        &self,
        id: OAuthAppId,
        secret: ClientSecret,
    ) -> StoreResult<()> {
        if secret.expose().is_empty() {
            return Err(StoreError::invalid("client secret", "must not be empty"));
        }
        let sealed = self.seal(
            "oauth_apps",
            &id.to_string(),
            "client_secret",
            secret.expose(),
        )?;
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE oauth_apps SET client_secret = $1, updated_at = $2 WHERE id = $3")
                .bind(sealed)
                .bind(now_ms())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RecordKind::OAuthApp, id));
        }
        Ok(())
    }

    async fn delete_oauth_app_impl(&self, id: OAuthAppId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM oauth_apps WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let name = name.ok_or_else(|| StoreError::not_found(RecordKind::OAuthApp, id))?;
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM connections WHERE oauth_app_id = $1) AS connections, \
             (SELECT count(*) FROM named_credentials WHERE oauth_app_id = $1) AS credentials",
        )
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let connections: i64 = row.try_get("connections")?;
        let credentials: i64 = row.try_get("credentials")?;
        if connections > 0 || credentials > 0 {
            return Err(StoreError::InUse {
                kind: RecordKind::OAuthApp,
                name,
                dependents: format!(
                    "{connections} connection(s) and {credentials} named credential(s)"
                ),
            });
        }
        // Families without a connection (orphans of failed flows) and pending authorizations go
        // with the app.
        sqlx::query("DELETE FROM token_families WHERE oauth_app_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM oauth_apps WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl OAuthAppStore for SqliteStore {
    fn create_oauth_app(&self, app: NewOAuthApp) -> StoreFuture<'_, OAuthApp> {
        Box::pin(self.create_oauth_app_impl(app))
    }

    fn get_oauth_app(&self, id: OAuthAppId) -> StoreFuture<'_, Option<OAuthApp>> {
        Box::pin(self.oauth_app_by_id(id))
    }

    fn find_oauth_app_by_name<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<OAuthApp>> {
        Box::pin(async move {
            sqlx::query(concat!(
                "SELECT ",
                oauth_app_columns!(),
                " FROM oauth_apps WHERE name = $1"
            ))
            .bind(name.trim())
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(oauth_app)
            .transpose()
        })
    }

    fn list_oauth_apps(&self) -> StoreFuture<'_, Vec<OAuthApp>> {
        Box::pin(async move {
            sqlx::query(concat!(
                "SELECT ",
                oauth_app_columns!(),
                " FROM oauth_apps ORDER BY name, id"
            ))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(oauth_app)
            .collect()
        })
    }

    fn oauth_app_client_secret(&self, id: OAuthAppId) -> StoreFuture<'_, ClientSecret> {
        Box::pin(self.client_secret_impl(id))
    }

    fn set_oauth_app_client_secret(
        &self,
        id: OAuthAppId,
        secret: ClientSecret,
    ) -> StoreFuture<'_, ()> {
        Box::pin(self.set_client_secret_impl(id, secret))
    }

    fn delete_oauth_app(&self, id: OAuthAppId) -> StoreFuture<'_, ()> {
        Box::pin(self.delete_oauth_app_impl(id))
    }
}
