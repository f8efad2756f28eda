//! SQLite-specific behaviour: the master key check, key rotation, what lands on disk, and
//! row-bound ciphertexts.

use std::time::Duration;

use chrono::Utc;
use jiraflow_store::{
    AccessToken, ClientSecret, ConnectionSource, ConnectionStore, Environment, MasterKey,
    NamedCredentialStore, NewConnection, NewNamedCredential, NewOAuthApp, NewPendingAuthorization,
    NewTokens, NewUser, OAuthAppStore, PendingAuthStore, PendingPurpose, RefreshToken,
    RefreshedTokens, SqliteStore, StoreError, TokenStore, UserStore,
};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use crate::support::TempDir;

const SECRETS: [&str; 5] = [
    "CLIENT-SECRET-5f1e",
    "ACCESS-TOKEN-77ab",
    "REFRESH-TOKEN-c0de",
    "PRINCIPAL-ACCESS-9a9a",
    "PRINCIPAL-REFRESH-8b8b",
];

fn tokens(access: &str, refresh: &str) -> NewTokens {
    NewTokens {
        access_token: AccessToken::new(access),
        refresh_token: Some(RefreshToken::new(refresh)),
        expires_at: Utc::now() + chrono::Duration::hours(1),
        scopes: vec!["read:jira-work".to_owned(), "offline_access".to_owned()],
    }
}

/// Fills a store with one of everything secret-bearing; returns the clear API key and state.
async fn populate(
    store: &SqliteStore,
) -> anyhow::Result<(String, String, jiraflow_store::Connection)> {
    let user = store
        .create_user(NewUser {
            name: "alice".to_owned(),
            permissions: vec![],
        })
        .await?;
    let key = store.create_api_key(user.id, "cli".to_owned()).await?;
    let app = store
        .create_oauth_app(NewOAuthApp {
            name: "sim".to_owned(),
            client_id: "client-1".to_owned(),
            client_secret: ClientSecret::new(SECRETS[0]),
            scopes: vec!["read:jira-work".to_owned()],
            auth_base_url: "http://127.0.0.1:9".to_owned(),
            api_base_url: "http://127.0.0.1:9".to_owned(),
            environment: Environment::Sandbox,
        })
        .await?;
    let conn = store
        .create_connection(NewConnection {
            name: "Jira".to_owned(),
            description: String::new(),
            source: ConnectionSource::OAuthApp {
                oauth_app_id: app.id,
                tokens: tokens(SECRETS[1], SECRETS[2]),
            },
            cloud_id: "cloud-1".to_owned(),
            site_url: None,
            created_by: Some(user.id),
        })
        .await?;
    store
        .create_named_credential(NewNamedCredential {
            name: "NC".to_owned(),
            url: "http://127.0.0.1:9/ex/jira/cloud-1".to_owned(),
            oauth_app_id: app.id,
            principal: tokens(SECRETS[3], SECRETS[4]),
        })
        .await?;
    let (state, _) = store
        .create_pending(NewPendingAuthorization {
            user_id: user.id,
            oauth_app_id: app.id,
            purpose: PendingPurpose::Reconnect {
                connection_id: conn.id,
            },
            redirect_uri: "http://127.0.0.1:8080/callback".to_owned(),
            scopes: vec![],
            ttl: Duration::from_secs(600),
        })
        .await?;
    Ok((key.key.expose().to_owned(), state.expose().to_owned(), conn))
}

fn files_contain(dir: &TempDir, needle: &str) -> anyhow::Result<Vec<String>> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir.path())? {
        let path = entry?.path();
        let bytes = std::fs::read(&path)?;
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            hits.push(path.display().to_string());
        }
    }
    Ok(hits)
}

async fn raw_pool(dir: &TempDir) -> anyhow::Result<SqlitePool> {
    Ok(SqlitePool::connect_with(SqliteConnectOptions::new().filename(dir.db())).await?)
}

#[tokio::test]
async fn secrets_never_reach_the_database_files_in_clear() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let store = SqliteStore::open(&dir.db(), MasterKey::generate()).await?;
    let (api_key, state, conn) = populate(&store).await?;
    let lease = store
        .try_acquire_refresh_lease(conn.token_family_id, "w", Duration::from_secs(5))
        .await?
        .ok_or_else(|| anyhow::anyhow!("lease"))?;
    store
        .store_refreshed(
            &lease,
            1,
            RefreshedTokens {
                access_token: AccessToken::new("ROTATED-ACCESS-1111"),
                refresh_token: Some(RefreshToken::new("ROTATED-REFRESH-2222")),
                expires_at: Utc::now(),
                scopes: None,
            },
        )
        .await?;
    let mut needles: Vec<String> = SECRETS.iter().map(|s| (*s).to_owned()).collect();
    needles.extend([
        api_key,
        state,
        "ROTATED-ACCESS-1111".to_owned(),
        "ROTATED-REFRESH-2222".to_owned(),
    ]);
    // While open, recent pages live in the -wal file; after close they are checkpointed.
    for needle in &needles {
        assert_eq!(
            files_contain(&dir, needle)?,
            Vec::<String>::new(),
            "{needle} while open"
        );
    }
    store.close().await;
    for needle in &needles {
        assert_eq!(
            files_contain(&dir, needle)?,
            Vec::<String>::new(),
            "{needle} after close"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_database_refuses_to_open_with_another_key() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let key = MasterKey::generate();
    let store = SqliteStore::open(&dir.db(), key.clone()).await?;
    populate(&store).await?;
    store.close().await;
    let wrong = SqliteStore::open(&dir.db(), MasterKey::generate()).await;
    let err = wrong
        .err()
        .ok_or_else(|| anyhow::anyhow!("opened with a wrong key"))?;
    assert!(err.is_wrong_master_key());
    assert!(
        err.to_string()
            .starts_with("the master key does not match this database"),
        "{err}"
    );
    let again = SqliteStore::open(&dir.db(), key).await?;
    assert_eq!(again.list_connections().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn rotating_the_master_key_reseals_every_secret() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let old = MasterKey::generate();
    let store = SqliteStore::open(&dir.db(), old.clone()).await?;
    let (api_key, _, conn) = populate(&store).await?;
    assert_eq!(store.active_key_id(), 1);
    let new = MasterKey::generate();
    assert_eq!(store.rotate_master_key(new.clone()).await?, 2);
    let app = conn.oauth_app_id;
    assert_eq!(
        store.oauth_app_client_secret(app).await?.expose(),
        SECRETS[0]
    );
    store.close().await;

    let refused = SqliteStore::open(&dir.db(), old).await;
    assert!(refused.err().is_some_and(|e| e.is_wrong_master_key()));
    let store = SqliteStore::open(&dir.db(), new).await?;
    assert_eq!(store.active_key_id(), 2);
    assert_eq!(
        store.oauth_app_client_secret(app).await?.expose(),
        SECRETS[0]
    );
    let tokens = store.get_tokens(conn.token_family_id).await?;
    assert_eq!(tokens.access_token.expose(), SECRETS[1]);
    assert_eq!(
        tokens.refresh_token.as_ref().map(RefreshToken::expose),
        Some(SECRETS[2])
    );
    let credential = &store.list_named_credentials().await?[0];
    let principal = store.get_tokens(credential.principal_family_id).await?;
    assert_eq!(principal.access_token.expose(), SECRETS[3]);
    let key = jiraflow_store::ApiKeySecret::new(api_key);
    assert!(
        store.authenticate_api_key(&key).await?.is_some(),
        "API keys are hashes, untouched"
    );
    Ok(())
}

#[tokio::test]
async fn a_failed_rotation_changes_nothing() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let old = MasterKey::generate();
    let store = SqliteStore::open(&dir.db(), old.clone()).await?;
    let (_, _, conn) = populate(&store).await?;
    // Corrupt the principal's refresh token so rotation fails part-way through.
    let raw = raw_pool(&dir).await?;
    let (id, mut sealed): (String, Vec<u8>) =
        sqlx::query_as("SELECT id, refresh_token FROM token_families WHERE id != $1")
            .bind(conn.token_family_id.to_string())
            .fetch_one(&raw)
            .await?;
    let last = sealed.len() - 1;
    sealed[last] ^= 0x01;
    sqlx::query("UPDATE token_families SET refresh_token = $1 WHERE id = $2")
        .bind(sealed)
        .bind(id)
        .execute(&raw)
        .await?;
    raw.close().await;
    let failed = store.rotate_master_key(MasterKey::generate()).await;
    assert!(
        matches!(failed, Err(StoreError::Decrypt { .. })),
        "{failed:?}"
    );
    assert_eq!(store.active_key_id(), 1);
    store.close().await;
    let store = SqliteStore::open(&dir.db(), old).await?;
    assert_eq!(store.active_key_id(), 1);
    let secret = store.oauth_app_client_secret(conn.oauth_app_id).await?;
    assert_eq!(
        secret.expose(),
        SECRETS[0],
        "re-sealed rows were rolled back"
    );
    let tokens = store.get_tokens(conn.token_family_id).await?;
    assert_eq!(tokens.access_token.expose(), SECRETS[1]);
    Ok(())
}

#[tokio::test]
async fn a_ciphertext_copied_to_another_row_does_not_open() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let store = SqliteStore::open(&dir.db(), MasterKey::generate()).await?;
    let (_, _, conn) = populate(&store).await?;
    let credential = store.list_named_credentials().await?.remove(0);
    let raw = raw_pool(&dir).await?;
    sqlx::query(
        "UPDATE token_families SET access_token = \
         (SELECT access_token FROM token_families WHERE id = $1) WHERE id = $2",
    )
    .bind(conn.token_family_id.to_string())
    .bind(credential.principal_family_id.to_string())
    .execute(&raw)
    .await?;
    // And a refresh token moved into the access token column of its own row.
    sqlx::query("UPDATE token_families SET access_token = refresh_token WHERE id = $1")
        .bind(conn.token_family_id.to_string())
        .execute(&raw)
        .await?;
    raw.close().await;
    let moved = store.get_tokens(credential.principal_family_id).await;
    assert!(
        matches!(moved, Err(StoreError::Decrypt { .. })),
        "{moved:?}"
    );
    let swapped = store.get_tokens(conn.token_family_id).await;
    let message = swapped.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("could not be decrypted"), "{message}");
    assert!(!message.contains(SECRETS[2]), "{message}");
    Ok(())
}

#[tokio::test]
async fn the_database_runs_in_wal_mode_with_foreign_keys() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let _store = SqliteStore::open(&dir.db(), MasterKey::generate()).await?;
    let raw = raw_pool(&dir).await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&raw)
        .await?;
    assert_eq!(mode, "wal");
    Ok(())
}

#[tokio::test]
async fn a_rejected_connection_leaves_no_token_family_behind() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let store = SqliteStore::open(&dir.db(), MasterKey::generate()).await?;
    let (_, _, conn) = populate(&store).await?;
    let raw = raw_pool(&dir).await?;
    let count =
        || sqlx::query_scalar::<_, i64>("SELECT count(*) FROM token_families").fetch_one(&raw);
    let before = count().await?;
    let dup = store
        .create_connection(NewConnection {
            name: "JIRA".to_owned(),
            description: String::new(),
            source: ConnectionSource::OAuthApp {
                oauth_app_id: conn.oauth_app_id,
                tokens: tokens("a", "b"),
            },
            cloud_id: "cloud-2".to_owned(),
            site_url: None,
            created_by: None,
        })
        .await;
    assert!(dup.err().is_some_and(|e| e.is_duplicate()));
    assert_eq!(count().await?, before);
    Ok(())
}

#[test]
fn debug_of_secret_bearing_values_shows_no_secret() {
    let new_app = NewOAuthApp::production("a", "c", ClientSecret::new(SECRETS[0]), vec![]);
    let new_tokens = tokens(SECRETS[1], SECRETS[2]);
    let refreshed = RefreshedTokens {
        access_token: AccessToken::new(SECRETS[3]),
        refresh_token: Some(RefreshToken::new(SECRETS[4])),
        expires_at: Utc::now(),
        scopes: None,
    };
    let shown = format!(
        "{new_app:?} {new_tokens:?} {refreshed:?} {:?}",
        jiraflow_store::StateToken::new(SECRETS[0])
    );
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("[REDACTED]"));
}

#[tokio::test]
async fn a_data_directory_gets_an_owner_only_key_file_on_first_start() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    if std::env::var_os(jiraflow_store::crypto::MASTER_KEY_ENV).is_some() {
        return Ok(()); // the variable would take precedence over the key file
    }
    let dir = TempDir::new();
    let data = dir.path().join("data");
    let (store, source) = SqliteStore::open_data_dir(&data).await?;
    assert!(matches!(source, jiraflow_store::KeySource::CreatedFile(_)));
    let mode = |p: &std::path::Path| -> anyhow::Result<u32> {
        Ok(std::fs::metadata(p)?.permissions().mode() & 0o777)
    };
    assert_eq!(mode(&data.join("master.key"))?, 0o600);
    assert_eq!(mode(&data)?, 0o700);
    populate(&store).await?;
    store.close().await;
    let (again, source) = SqliteStore::open_data_dir(&data).await?;
    assert!(matches!(source, jiraflow_store::KeySource::File(_)));
    assert_eq!(again.list_connections().await?.len(), 1);
    Ok(())
}
