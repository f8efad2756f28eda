//! Conformance checks for connections, flow references and named credentials.

use super::{DynStore, fixture_app, fixture_tokens, fixture_user};
use crate::error::{StoreError, StoreResult};
use crate::ids::{NamedCredentialId, OAuthAppId};
use crate::model::{
    ConnectionKind, ConnectionSource, ConnectionStatus, ConnectionUpdate, NewConnection,
    NewNamedCredential,
};

fn standard(name: &str, app: OAuthAppId, cloud_id: &str) -> NewConnection {
    NewConnection {
        name: name.to_owned(),
        description: "team board".to_owned(),
        source: ConnectionSource::OAuthApp {
            oauth_app_id: app,
            tokens: fixture_tokens(name),
        },
        cloud_id: cloud_id.to_owned(),
        site_url: Some("https://example.atlassian.net/".to_owned()),
        created_by: None,
    }
}

/// A standard connection gets its instance URL and own token family; rename and delete work.
pub async fn connections_are_created_renamed_and_deleted(store: DynStore) -> StoreResult<()> {
    let user = fixture_user(&store, "alice").await?;
    let app = fixture_app(&store, "app").await?;
    let mut new = standard("Jira Prod", app, "11223344-aaaa-bbbb-cccc-ddddeeeeffff");
    new.created_by = Some(user);
    let conn = store.create_connection(new).await?;
    assert_eq!(conn.kind, ConnectionKind::Standard);
    assert_eq!(conn.status, ConnectionStatus::Active);
    assert_eq!(
        conn.instance_url,
        "http://127.0.0.1:9/ex/jira/11223344-aaaa-bbbb-cccc-ddddeeeeffff"
    );
    assert_eq!(
        conn.site_url.as_deref(),
        Some("https://example.atlassian.net")
    );
    assert_eq!(conn.created_by, Some(user));
    let tokens = store.get_tokens(conn.token_family_id).await?;
    assert_eq!(tokens.access_token.expose(), "access-Jira Prod-SENTINEL");
    let renamed = store
        .update_connection(
            conn.id,
            ConnectionUpdate {
                name: Some("Jira Production".to_owned()),
                description: None,
            },
        )
        .await?;
    assert_eq!(renamed.name, "Jira Production");
    assert_eq!(renamed.description, "team board");
    assert_eq!(
        store
            .find_connection_by_name("jira production")
            .await?
            .map(|c| c.id),
        Some(conn.id)
    );
    let marked = store
        .mark_reconnect_required(conn.id, "Atlassian rejected the refresh token".to_owned())
        .await?;
    assert_eq!(marked.status, ConnectionStatus::ReconnectRequired);
    assert_eq!(
        marked.status_message.as_deref(),
        Some("Atlassian rejected the refresh token")
    );
    let refused = store.delete_oauth_app(app).await;
    assert!(refused.err().is_some_and(|e| e.is_in_use()));
    store.delete_connection(conn.id).await?;
    assert!(store.get_connection(conn.id).await?.is_none());
    let gone = store.get_tokens(conn.token_family_id).await;
    assert!(
        gone.err().is_some_and(|e| e.is_not_found()),
        "the family goes with it"
    );
    assert!(store.list_connections().await?.is_empty());
    Ok(())
}

/// Duplicate names, unknown apps and malformed ids are refused and nothing is left behind.
pub async fn bad_connection_input_is_rejected_without_leaving_anything(
    store: DynStore,
) -> StoreResult<()> {
    let app = fixture_app(&store, "app").await?;
    let first = store
        .create_connection(standard("Jira", app, "cloud-1"))
        .await?;
    let dup = store
        .create_connection(standard("JIRA", app, "cloud-2"))
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate { .. })), "{dup:?}");
    let unknown = store
        .create_connection(standard("Other", OAuthAppId::new(), "cloud-3"))
        .await;
    assert!(unknown.err().is_some_and(|e| e.is_not_found()));
    let bad_cloud = store
        .create_connection(standard("Other", app, "../../etc"))
        .await;
    assert!(bad_cloud.err().is_some_and(|e| e.is_invalid()));
    let no_name = store.create_connection(standard(" ", app, "cloud-4")).await;
    assert!(no_name.err().is_some_and(|e| e.is_invalid()));
    let mut empty_token = standard("Other", app, "cloud-5");
    if let ConnectionSource::OAuthApp { tokens, .. } = &mut empty_token.source {
        tokens.access_token = crate::secret::AccessToken::new("");
    }
    assert!(
        store
            .create_connection(empty_token)
            .await
            .err()
            .is_some_and(|e| e.is_invalid())
    );
    let unknown_credential = store
        .create_connection(NewConnection {
            source: ConnectionSource::NamedCredential {
                named_credential_id: NamedCredentialId::new(),
            },
            ..standard("Other", app, "cloud-6")
        })
        .await;
    assert!(unknown_credential.err().is_some_and(|e| e.is_not_found()));
    let listed = store.list_connections().await?;
    assert_eq!(
        listed.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    let second = store
        .create_connection(standard("Second", app, "cloud-7"))
        .await?;
    let clash = store
        .update_connection(
            second.id,
            ConnectionUpdate {
                name: Some("jira".to_owned()),
                description: Some("changed".to_owned()),
            },
        )
        .await;
    assert!(clash.err().is_some_and(|e| e.is_duplicate()));
    let unchanged = store.get_connection(second.id).await?;
    assert_eq!(
        unchanged.map(|c| (c.name, c.description)),
        Some(("Second".to_owned(), "team board".to_owned()))
    );
    Ok(())
}

/// A connection used by flows cannot be deleted; the error names the flows.
pub async fn flow_references_block_connection_deletion(store: DynStore) -> StoreResult<()> {
    let app = fixture_app(&store, "app").await?;
    let conn = store
        .create_connection(standard("Jira", app, "cloud-1"))
        .await?;
    store
        .add_flow_reference(conn.id, "Triage bugs".to_owned())
        .await?;
    store
        .add_flow_reference(conn.id, "Auto close".to_owned())
        .await?;
    store
        .add_flow_reference(conn.id, "Auto close".to_owned())
        .await?;
    assert_eq!(
        store.connection_in_use(conn.id).await?,
        vec!["Auto close".to_owned(), "Triage bugs".to_owned()]
    );
    let refused = store.delete_connection(conn.id).await;
    match refused {
        Err(StoreError::ConnectionInUse { connection, flows }) => {
            assert_eq!(connection, "Jira");
            assert_eq!(
                flows,
                vec!["Auto close".to_owned(), "Triage bugs".to_owned()]
            );
        }
        other => panic!("expected ConnectionInUse, got {other:?}"),
    }
    let message = store
        .delete_connection(conn.id)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("Triage bugs") && message.contains("Auto close"),
        "{message}"
    );
    assert!(store.get_connection(conn.id).await?.is_some());
    store
        .remove_flow_reference(conn.id, "Triage bugs".to_owned())
        .await?;
    store
        .remove_flow_reference(conn.id, "Auto close".to_owned())
        .await?;
    store.delete_connection(conn.id).await?;
    let missing = store.add_flow_reference(conn.id, "Late".to_owned()).await;
    assert!(missing.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}

/// A named-credential connection uses the principal, shows the credential's URL, and deleting
/// it keeps the credential; the credential cannot go while connections use it.
pub async fn named_credentials_lend_their_principal_to_connections(
    store: DynStore,
) -> StoreResult<()> {
    let alice = fixture_user(&store, "alice").await?;
    let bob = fixture_user(&store, "bob").await?;
    let app = fixture_app(&store, "app").await?;
    let credential = store
        .create_named_credential(NewNamedCredential {
            name: "Jira NC".to_owned(),
            url: "http://127.0.0.1:9/ex/jira/cloud-9".to_owned(),
            oauth_app_id: app,
            principal: fixture_tokens("principal"),
        })
        .await?;
    let dup = store
        .create_named_credential(NewNamedCredential {
            name: "jira nc".to_owned(),
            url: "http://127.0.0.1:9/ex/jira/cloud-9".to_owned(),
            oauth_app_id: app,
            principal: fixture_tokens("other"),
        })
        .await;
    assert!(dup.err().is_some_and(|e| e.is_duplicate()));
    assert_eq!(store.list_named_credentials().await?.len(), 1);
    store.grant_principal(credential.id, alice).await?;
    store.grant_principal(credential.id, alice).await?;
    assert!(store.has_principal_grant(credential.id, alice).await?);
    assert!(!store.has_principal_grant(credential.id, bob).await?);
    assert_eq!(
        store.list_principal_grants(credential.id).await?,
        vec![alice]
    );
    let conn = store
        .create_connection(NewConnection {
            name: "Via NC".to_owned(),
            description: String::new(),
            source: ConnectionSource::NamedCredential {
                named_credential_id: credential.id,
            },
            cloud_id: "cloud-9".to_owned(),
            site_url: None,
            created_by: Some(alice),
        })
        .await?;
    assert_eq!(conn.kind, ConnectionKind::NamedCredential);
    assert_eq!(conn.named_credential_id, Some(credential.id));
    assert_eq!(conn.token_family_id, credential.principal_family_id);
    assert_eq!(conn.instance_url, credential.url);
    assert_eq!(conn.oauth_app_id, app);
    let refused = store.delete_named_credential(credential.id).await;
    assert!(refused.err().is_some_and(|e| e.is_in_use()));
    store.delete_connection(conn.id).await?;
    assert!(store.get_named_credential(credential.id).await?.is_some());
    let principal = store.get_tokens(credential.principal_family_id).await?;
    assert_eq!(principal.access_token.expose(), "access-principal-SENTINEL");
    store.revoke_principal(credential.id, alice).await?;
    assert!(!store.has_principal_grant(credential.id, alice).await?);
    store.delete_named_credential(credential.id).await?;
    assert!(store.get_named_credential(credential.id).await?.is_none());
    let family = store.get_tokens(credential.principal_family_id).await;
    assert!(family.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}
