//! Several processes on one database file. The test binary re-runs itself as child processes
//! (selected by environment variables) that refresh one token family near its expiry, against a
//! fake rotating authorization server kept in a second SQLite file: every refresh token works
//! exactly once. Zero rejected refreshes means the lease + re-read + compare-and-swap protocol
//! held across processes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use jiraflow_store::{
    AccessToken, ClientSecret, ConnectionSource, ConnectionStore, Environment, MasterKey,
    NewConnection, NewOAuthApp, NewTokens, OAuthAppStore, RefreshToken, RefreshedTokens,
    SqliteStore, TokenFamilyId, TokenStore,
};
use secrecy::ExposeSecret;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::support::TempDir;

const DIR_VAR: &str = "JIRAFLOW_STORE_TEST_CHILD_DIR";
const KEY_VAR: &str = "JIRAFLOW_STORE_TEST_CHILD_KEY";
const FAMILY_VAR: &str = "JIRAFLOW_STORE_TEST_CHILD_FAMILY";
const NAME_VAR: &str = "JIRAFLOW_STORE_TEST_CHILD_NAME";
const PROCESSES: usize = 4;
const RUN_FOR: Duration = Duration::from_secs(3);
/// Access tokens live this long, so each process sees many expiries during the run.
const ACCESS_TTL_MS: i64 = 300;
/// Refresh when less than this is left.
const MARGIN_MS: i64 = 120;

async fn server_pool(dir: &std::path::Path) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(dir.join("server.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10));
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?)
}

/// The fake token endpoint: rotates on a match, counts an `invalid_grant` otherwise.
async fn server_refresh(
    pool: &SqlitePool,
    presented: &str,
) -> anyhow::Result<Option<(String, String)>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (current, issued): (String, i64) =
        sqlx::query_as("SELECT current, issued FROM server WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
    let answer = if current == presented {
        let next = format!("rotated-refresh-{}", issued + 1);
        sqlx::query("UPDATE server SET current = $1, issued = issued + 1 WHERE id = 1")
            .bind(&next)
            .execute(&mut *tx)
            .await?;
        Some((format!("rotated-access-{}", issued + 1), next))
    } else {
        sqlx::query("UPDATE server SET invalid = invalid + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        None
    };
    tx.commit().await?;
    Ok(answer)
}

fn ms_left(expires_at: chrono::DateTime<Utc>) -> i64 {
    (expires_at - Utc::now()).num_milliseconds()
}

async fn worker(dir: &str, key: &str, family: &str, name: &str) -> anyhow::Result<()> {
    let dir = std::path::Path::new(dir);
    let store = SqliteStore::open(&dir.join("jiraflow.db"), MasterKey::from_base64(key)?).await?;
    let server = server_pool(dir).await?;
    let family: TokenFamilyId = family.parse()?;
    let deadline = Instant::now() + RUN_FOR;
    while Instant::now() < deadline {
        let seen = store.get_tokens(family).await?;
        if ms_left(seen.expires_at) > MARGIN_MS {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let Some(lease) = store
            .try_acquire_refresh_lease(family, name, Duration::from_secs(10))
            .await?
        else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        // Re-read under the lease: another process may have refreshed while we waited.
        let current = store.get_tokens(family).await?;
        if current.version != seen.version || ms_left(current.expires_at) > MARGIN_MS {
            store.release_lease(&lease).await?;
            continue;
        }
        let presented = current
            .refresh_token
            .as_ref()
            .map(|r| r.expose().to_owned())
            .unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(15)).await; // network latency
        let Some((access, refresh)) = server_refresh(&server, &presented).await? else {
            store.release_lease(&lease).await?;
            anyhow::bail!("{name}: the server rejected a refresh token");
        };
        store
            .store_refreshed(
                &lease,
                current.version,
                RefreshedTokens {
                    access_token: AccessToken::new(access),
                    refresh_token: Some(RefreshToken::new(refresh)),
                    expires_at: Utc::now() + chrono::Duration::milliseconds(ACCESS_TTL_MS),
                    scopes: None,
                },
            )
            .await?;
    }
    store.close().await;
    Ok(())
}

/// Runs only inside a child process started by the test below.
#[test]
fn child_refresh_worker() -> anyhow::Result<()> {
    let (Ok(dir), Ok(key), Ok(family), Ok(name)) = (
        std::env::var(DIR_VAR),
        std::env::var(KEY_VAR),
        std::env::var(FAMILY_VAR),
        std::env::var(NAME_VAR),
    ) else {
        return Ok(());
    };
    tokio::runtime::Runtime::new()?.block_on(worker(&dir, &key, &family, &name))
}

#[test]
fn processes_sharing_one_file_never_present_a_rotated_refresh_token() -> anyhow::Result<()> {
    let dir = TempDir::new();
    let key = MasterKey::generate();
    let runtime = tokio::runtime::Runtime::new()?;
    let family = runtime.block_on(async {
        let store = SqliteStore::open(&dir.db(), key.clone()).await?;
        let app = store
            .create_oauth_app(NewOAuthApp {
                name: "sim".to_owned(),
                client_id: "c".to_owned(),
                client_secret: ClientSecret::new("s"),
                scopes: vec![],
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
                    tokens: NewTokens {
                        access_token: AccessToken::new("initial-access"),
                        refresh_token: Some(RefreshToken::new("initial-refresh")),
                        expires_at: Utc::now(),
                        scopes: vec![],
                    },
                },
                cloud_id: "cloud-1".to_owned(),
                site_url: None,
                created_by: None,
            })
            .await?;
        store.close().await;
        let server = server_pool(dir.path()).await?;
        sqlx::query(
            "CREATE TABLE server (id INTEGER PRIMARY KEY, current TEXT NOT NULL, \
             issued INTEGER NOT NULL, invalid INTEGER NOT NULL)",
        )
        .execute(&server)
        .await?;
        sqlx::query("INSERT INTO server VALUES (1, 'initial-refresh', 0, 0)")
            .execute(&server)
            .await?;
        server.close().await;
        anyhow::Ok(conn.token_family_id)
    })?;

    let exe = std::env::current_exe()?;
    let children = (0..PROCESSES)
        .map(|i| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "processes::child_refresh_worker",
                    "--test-threads=1",
                ])
                .env(DIR_VAR, dir.path())
                .env(KEY_VAR, key.to_base64().expose_secret())
                .env(FAMILY_VAR, family.to_string())
                .env(NAME_VAR, format!("process-{i}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Vec<_>>();
    for (i, child) in children.into_iter().enumerate() {
        let out = child?.wait_with_output()?;
        assert!(
            out.status.success(),
            "process {i} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    runtime.block_on(async {
        let server = server_pool(dir.path()).await?;
        let (current, issued, invalid): (String, i64, i64) =
            sqlx::query_as("SELECT current, issued, invalid FROM server WHERE id = 1")
                .fetch_one(&server)
                .await?;
        assert_eq!(invalid, 0, "a rotated refresh token was presented");
        assert!(issued >= 5, "only {issued} refreshes happened");
        let store = SqliteStore::open(&dir.db(), key).await?;
        let tokens = store.get_tokens(family).await?;
        assert_eq!(tokens.version, 1 + issued);
        assert_eq!(
            tokens.refresh_token.as_ref().map(RefreshToken::expose),
            Some(current.as_str())
        );
        anyhow::Ok(())
    })
}
