//! Named credentials: URL + external credential (OAuth app) + exactly one principal, a token
//! family obtained by consent. Administrators (`manage_integration_connections`) create and
//! reconnect them through the same authorization code flow as connections; users holding a grant
//! on the principal build connections on them. Such a connection shares the principal's token
//! family (Atlassian has one refresh-token family per consent, so it must never be copied), shows
//! the credential's details read-only, and deleting it keeps the credential.

use jiraflow_store::{
    Connection, ConnectionSource, ConnectionStatus, NamedCredential, NamedCredentialId,
    NewConnection, NewNamedCredential, NewTokens, OAuthApp, PendingPurpose, Permission, RecordKind,
    StoreError, User,
};

use crate::connect::{
    Completed, ConnectFlow, StartedAuthorization, check_site_scopes, cloud_id_of_instance_url,
};
use crate::error::{OAuthError, OAuthResult};
use crate::protocol::AccessibleResource;
use crate::site::validate_site_url;

/// What an administrator asks for when creating a named credential.
#[derive(Debug, Clone)]
pub struct NamedCredentialDraft {
    /// Unique name.
    pub name: String,
    /// The OAuth app (external credential).
    pub oauth_app_id: jiraflow_store::OAuthAppId,
    /// Site or instance URL, needed when the consent may cover several sites.
    pub url: Option<String>,
}

fn require_admin(user: &User, what: &str) -> OAuthResult<()> {
    if user.has(Permission::ManageIntegrationConnections) {
        Ok(())
    } else {
        Err(OAuthError::Forbidden(format!(
            "{what} requires the manage_integration_connections permission"
        )))
    }
}

impl ConnectFlow {
    /// Starts the consent that creates a named credential and its principal.
    ///
    /// # Errors
    /// `Forbidden` without `manage_integration_connections`; `Invalid` / `InvalidUrl` for bad input.
    pub async fn begin_named_credential(
        &self,
        user: &User,
        draft: NamedCredentialDraft,
        redirect_uri: &str,
    ) -> OAuthResult<StartedAuthorization> {
        require_admin(user, "creating a named credential")?;
        let name = draft.name.trim().to_owned();
        if name.is_empty() {
            return Err(OAuthError::invalid(
                "name",
                "a named credential needs a name",
            ));
        }
        let app = self.app(draft.oauth_app_id).await?;
        let url = match draft.url.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => {
                Some(validate_site_url(raw, sandbox_base(&app)?.as_ref())?.to_string())
            }
            _ => None,
        };
        let purpose = PendingPurpose::NewNamedCredential { name, url };
        self.start(user, app.id, purpose, redirect_uri).await
    }

    /// Starts the consent that replaces a named credential's principal token family.
    ///
    /// # Errors
    /// `Forbidden` without `manage_integration_connections`; `NotFound`.
    pub async fn begin_reconnect_named_credential(
        &self,
        user: &User,
        id: NamedCredentialId,
        redirect_uri: &str,
    ) -> OAuthResult<StartedAuthorization> {
        require_admin(user, "reconnecting a named credential")?;
        let credential = self.named_credential(id).await?;
        let purpose = PendingPurpose::ReconnectNamedCredential {
            named_credential_id: id,
        };
        self.start(user, credential.oauth_app_id, purpose, redirect_uri)
            .await
    }

    /// Creates a connection on a named credential. No consent is involved. Using it needs a grant
    /// on the credential's principal (or `manage_integration_connections`): without one the
    /// connection is created `inactive`, with a message naming the missing grant, and Test
    /// Connection fails until an administrator grants it.
    ///
    /// # Errors
    /// `NotFound`; `Duplicate` / `Invalid` from the store.
    pub async fn connect_named_credential(
        &self,
        user: &User,
        name: &str,
        description: &str,
        id: NamedCredentialId,
    ) -> OAuthResult<Connection> {
        let credential = self.named_credential(id).await?;
        let cloud_id = cloud_id_of_instance_url(&credential.url)
            .ok_or_else(|| {
                OAuthError::invalid(
                    "named credential URL",
                    format!(
                        "{:?} is not an instance URL (…/ex/jira/{{cloudId}})",
                        credential.url
                    ),
                )
            })?
            .to_owned();
        let connection = self
            .store
            .create_connection(NewConnection {
                name: name.trim().to_owned(),
                description: description.trim().to_owned(),
                source: ConnectionSource::NamedCredential {
                    named_credential_id: id,
                },
                cloud_id,
                site_url: None,
                created_by: Some(user.id),
            })
            .await?;
        if may_use_principal(self.store.as_ref(), user, id).await? {
            return Ok(connection);
        }
        Ok(self
            .store
            .set_connection_status(
                connection.id,
                ConnectionStatus::Inactive,
                Some(missing_grant_message(&credential.name)),
            )
            .await?)
    }

    async fn named_credential(&self, id: NamedCredentialId) -> OAuthResult<NamedCredential> {
        Ok(self
            .store
            .get_named_credential(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: RecordKind::NamedCredential,
                id: id.to_string(),
            })?)
    }
}

/// The named-credential branches of [`ConnectFlow::complete`].
pub(crate) async fn complete_named(
    flow: &ConnectFlow,
    app: &OAuthApp,
    purpose: PendingPurpose,
    resources: &[AccessibleResource],
    tokens: NewTokens,
) -> OAuthResult<Completed> {
    match purpose {
        PendingPurpose::NewNamedCredential { name, url } => {
            let site = flow.choose_site(app, resources, url.as_deref()).await?;
            check_site_scopes(site)?;
            let instance_url = format!(
                "{}/ex/jira/{}",
                app.api_base_url.trim_end_matches('/'),
                site.id
            );
            let credential = flow
                .store
                .create_named_credential(NewNamedCredential {
                    name,
                    url: instance_url,
                    oauth_app_id: app.id,
                    principal: tokens,
                })
                .await?;
            tracing::info!(named_credential = %credential.id, "named credential created");
            Ok(Completed::NamedCredential {
                credential,
                reconnected: false,
            })
        }
        PendingPurpose::ReconnectNamedCredential {
            named_credential_id,
        } => {
            let credential = flow.named_credential(named_credential_id).await?;
            let cloud_id = cloud_id_of_instance_url(&credential.url).unwrap_or_default();
            let site = resources.iter().find(|r| r.id == cloud_id).ok_or_else(|| {
                OAuthError::UnknownSite {
                    site_url: credential.url.clone(),
                    reason: "is not covered by the new consent; choose the credential's site on \
                             the consent page"
                        .to_owned(),
                }
            })?;
            check_site_scopes(site)?;
            flow.store
                .replace_family(credential.principal_family_id, tokens)
                .await?;
            tracing::info!(named_credential = %credential.id, "named credential reconnected");
            Ok(Completed::NamedCredential {
                credential,
                reconnected: true,
            })
        }
        _ => Err(OAuthError::invalid(
            "state",
            "this authorization was started for a connection",
        )),
    }
}

fn sandbox_base(app: &OAuthApp) -> OAuthResult<Option<url::Url>> {
    crate::connect::sandbox_base(app)
}

/// Whether `user` may use the principal of named credential `id`: a grant on it, or
/// `manage_integration_connections`.
pub(crate) async fn may_use_principal(
    store: &dyn jiraflow_store::Store,
    user: &User,
    id: NamedCredentialId,
) -> OAuthResult<bool> {
    Ok(user.has(Permission::ManageIntegrationConnections)
        || store.has_principal_grant(id, user.id).await?)
}

/// The status message and Test Connection problem for a connection whose user lacks the grant.
pub(crate) fn missing_grant_message(credential_name: &str) -> String {
    format!(
        "no grant on the principal of named credential {credential_name:?}: the connection stays \
         inactive until an administrator grants it (jiraflow credential grant)"
    )
}
