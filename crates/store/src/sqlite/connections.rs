//! Connections and flow references. A standard connection owns its token family and deletes it
//! with itself; a named-credential connection borrows the credential's principal family and
//! leaves it alone. Creating, renaming and deleting each run in one `BEGIN IMMEDIATE`
//! transaction, so a duplicate name or unknown app leaves nothing behind.

use sqlx::Row;

use super::SqliteStore;
use super::rows::{connection, connection_columns, map_unique, now_ms, valid_name, valid_url};
use crate::error::{RecordKind, StoreError, StoreResult};
use crate::ids::{ConnectionId, OAuthAppId, TokenFamilyId};
use crate::model::{
    Connection, ConnectionKind, ConnectionSource, ConnectionStatus, ConnectionUpdate, NewConnection,
};
use crate::traits::{ConnectionStore, StoreFuture};

const MAX_DESCRIPTION_CHARS: usize = 4000;

fn valid_description(description: &str) -> StoreResult<String> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(StoreError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(description.to_owned())
}

/// Cloud ids are UUID-like; anything else would be spliced into URLs, so it is refused.
pub(crate) fn valid_cloud_id(cloud_id: &str) -> StoreResult<String> {
    let cloud_id = cloud_id.trim();
    if cloud_id.is_empty()
        || cloud_id.len() > 64
        || !cloud_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(StoreError::invalid(
            "cloud id",
            format!("{cloud_id:?} is not a Jira Cloud id (letters, digits and dashes)"),
        ));
    }
    Ok(cloud_id.to_owned())
}

impl SqliteStore {
    pub(crate) async fn connection_by_id(
        &self,
        id: ConnectionId,
    ) -> StoreResult<Option<Connection>> {
        sqlx::query(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(connection)
        .transpose()
    }

    async fn connection_required(&self, id: ConnectionId) -> StoreResult<Connection> {
        self.connection_by_id(id)
            .await?
            .ok_or_else(|| StoreError::not_found(RecordKind::Connection, id))
    }

    async fn create_connection_impl(&self, new: NewConnection) -> StoreResult<Connection> {
        let name = valid_name("connection name", &new.name)?;
        let description = valid_description(&new.description)?;
        let cloud_id = valid_cloud_id(&new.cloud_id)?;
        let site_url = new
            .site_url
            .as_deref()
            .map(|u| valid_url("site URL", u))
            .transpose()?;
        let id = ConnectionId::new();
        let mut tx = self.begin_write().await?;
        let (kind, oauth_app_id, named_id, family_id, instance_url): (
            ConnectionKind,
            OAuthAppId,
            Option<String>,
            TokenFamilyId,
            Option<String>,
        ) = match &new.source {
            ConnectionSource::OAuthApp {
                oauth_app_id,
                tokens,
            } => {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT id FROM oauth_apps WHERE id = $1")
                        .bind(oauth_app_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Err(StoreError::not_found(RecordKind::OAuthApp, oauth_app_id));
                }
                let family = self.insert_family(&mut tx, *oauth_app_id, tokens).await?;
                (ConnectionKind::Standard, *oauth_app_id, None, family, None)
            }
            ConnectionSource::NamedCredential {
                named_credential_id,
            } => {
                let row = sqlx::query(
                    "SELECT oauth_app_id, principal_family_id, url FROM named_credentials \
                     WHERE id = $1",
                )
                .bind(named_credential_id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| {
                    StoreError::not_found(RecordKind::NamedCredential, named_credential_id)
                })?;
                let app: String = row.try_get("oauth_app_id")?;
                let family: String = row.try_get("principal_family_id")?;
                (
                    ConnectionKind::NamedCredential,
                    super::parse_id(&app, "named_credentials")?,
                    Some(named_credential_id.to_string()),
                    super::parse_id(&family, "named_credentials")?,
                    Some(row.try_get("url")?),
                )
            }
        };
        let app = sqlx::query("SELECT environment, api_base_url FROM oauth_apps WHERE id = $1")
            .bind(oauth_app_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let environment: String = app.try_get("environment")?;
        let api_base_url: String = app.try_get("api_base_url")?;
        let instance_url =
            instance_url.unwrap_or_else(|| format!("{api_base_url}/ex/jira/{cloud_id}"));
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO connections (id, name, description, environment, oauth_app_id, cloud_id, \
             instance_url, site_url, status, status_message, kind, named_credential_id, \
             token_family_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', NULL, $9, $10, $11, $12, $13, $13)",
        )
        .bind(id.to_string())
        .bind(&name)
        .bind(&description)
        .bind(environment)
        .bind(oauth_app_id.to_string())
        .bind(&cloud_id)
        .bind(instance_url)
        .bind(site_url)
        .bind(kind.as_str())
        .bind(named_id)
        .bind(family_id.to_string())
        .bind(new.created_by.map(|u| u.to_string()))
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(StoreError::invalid("created by", "the user does not exist"));
            }
            Err(e) => return Err(map_unique(e, RecordKind::Connection, &name)),
        }
        tx.commit().await?;
        self.connection_required(id).await
    }

    async fn update_connection_impl(
        &self,
        id: ConnectionId,
        update: ConnectionUpdate,
    ) -> StoreResult<Connection> {
        let name = update
            .name
            .as_deref()
            .map(|n| valid_name("connection name", n))
            .transpose()?;
        let description = update
            .description
            .as_deref()
            .map(valid_description)
            .transpose()?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE connections SET name = COALESCE($1, name), \
             description = COALESCE($2, description), updated_at = $3 WHERE id = $4",
        )
        .bind(name.as_deref())
        .bind(description)
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| map_unique(e, RecordKind::Connection, name.as_deref().unwrap_or("")))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RecordKind::Connection, id));
        }
        tx.commit().await?;
        self.connection_required(id).await
    }

    async fn set_status_impl(
        &self,
        id: ConnectionId,
        status: ConnectionStatus,
        message: Option<String>,
    ) -> StoreResult<Connection> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE connections SET status = $1, status_message = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(message)
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RecordKind::Connection, id));
        }
        tx.commit().await?;
        self.connection_required(id).await
    }

    async fn delete_connection_impl(&self, id: ConnectionId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT name, kind, token_family_id FROM connections WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(RecordKind::Connection, id))?;
        let flows: Vec<String> = sqlx::query_scalar(
            "SELECT flow_name FROM connection_refs WHERE connection_id = $1 ORDER BY flow_name",
        )
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        if !flows.is_empty() {
            return Err(StoreError::ConnectionInUse {
                connection: row.try_get("name")?,
                flows,
            });
        }
        let kind: String = row.try_get("kind")?;
        let family: String = row.try_get("token_family_id")?;
        sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if kind == ConnectionKind::Standard.as_str() {
            sqlx::query(
                "DELETE FROM token_families WHERE id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM connections WHERE token_family_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM named_credentials WHERE principal_family_id = $1)",
            )
            .bind(family)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn add_flow_reference_impl(
        &self,
        id: ConnectionId,
        flow_name: String,
    ) -> StoreResult<()> {
        let flow_name = valid_name("flow name", &flow_name)?;
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "INSERT INTO connection_refs (connection_id, flow_name) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(flow_name)
        .execute(&mut *tx)
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(StoreError::not_found(RecordKind::Connection, id));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    async fn remove_flow_reference_impl(
        &self,
        id: ConnectionId,
        flow_name: String,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM connection_refs WHERE connection_id = $1 AND flow_name = $2")
            .bind(id.to_string())
            .bind(flow_name.trim())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl ConnectionStore for SqliteStore {
    fn create_connection(&self, connection: NewConnection) -> StoreFuture<'_, Connection> {
        Box::pin(self.create_connection_impl(connection))
    }

    fn get_connection(&self, id: ConnectionId) -> StoreFuture<'_, Option<Connection>> {
        Box::pin(self.connection_by_id(id))
    }

    fn find_connection_by_name<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<Connection>> {
        Box::pin(async move {
            sqlx::query(concat!(
                "SELECT ",
                connection_columns!(),
                " FROM connections WHERE name = $1"
            ))
            .bind(name.trim())
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(connection)
            .transpose()
        })
    }

    fn list_connections(&self) -> StoreFuture<'_, Vec<Connection>> {
        Box::pin(async move {
            sqlx::query(concat!(
                "SELECT ",
                connection_columns!(),
                " FROM connections ORDER BY name, id"
            ))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(connection)
            .collect()
        })
    }

    fn update_connection(
        &self,
        id: ConnectionId,
        update: ConnectionUpdate,
    ) -> StoreFuture<'_, Connection> {
        Box::pin(self.update_connection_impl(id, update))
    }

    fn set_connection_status(
        &self,
        id: ConnectionId,
        status: ConnectionStatus,
        message: Option<String>,
    ) -> StoreFuture<'_, Connection> {
        Box::pin(self.set_status_impl(id, status, message))
    }

    fn mark_reconnect_required(
        &self,
        id: ConnectionId,
        message: String,
    ) -> StoreFuture<'_, Connection> {
        Box::pin(self.set_status_impl(id, ConnectionStatus::ReconnectRequired, Some(message)))
    }

    fn delete_connection(&self, id: ConnectionId) -> StoreFuture<'_, ()> {
        Box::pin(self.delete_connection_impl(id))
    }

    fn add_flow_reference(&self, id: ConnectionId, flow_name: String) -> StoreFuture<'_, ()> {
        Box::pin(self.add_flow_reference_impl(id, flow_name))
    }

    fn remove_flow_reference(&self, id: ConnectionId, flow_name: String) -> StoreFuture<'_, ()> {
        Box::pin(self.remove_flow_reference_impl(id, flow_name))
    }

    fn connection_in_use(&self, id: ConnectionId) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "SELECT flow_name FROM connection_refs WHERE connection_id = $1 \
                 ORDER BY flow_name",
            )
            .bind(id.to_string())
            .fetch_all(&self.read)
            .await?)
        })
    }
}
