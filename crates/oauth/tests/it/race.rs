//! The refresh race: many tasks, several store handles and several processes hammering one
//! connection while the simulator's access tokens expire every two seconds. Rotating refresh
//! tokens punish any double refresh with a revoked family, so the simulator's counters prove the
//! single-flight: zero `invalid_grant`, zero family revocations, zero reuse hits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiraflow_oauth::{OAuthClient, TokenManager};
use jiraflow_store::{ConnectionId, MasterKey, SqliteStore, Store, TokenStore};
use secrecy::ExposeSecret;

use crate::support::{Env, contains, manager_over};

const CHILD_ENV: &str = "JIRAFLOW_OAUTH_RACE_CHILD";

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    errors: AtomicU64,
    api_rejections: AtomicU64,
}

/// `tasks` tasks calling `access_token` in a loop for `run`, using every fifth token against
/// `/myself` and force-refreshing on a 401 as the Jira client would.
async fn hammer(
    manager: Arc<TokenManager>,
    connection: ConnectionId,
    instance_url: String,
    tasks: usize,
    run: Duration,
    tally: Arc<Tally>,
) {
    let http = OAuthClient::new().unwrap().http().clone();
    let until = Instant::now() + run;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let manager = manager.clone();
        let tally = tally.clone();
        let http = http.clone();
        let myself = format!("{instance_url}/rest/api/3/myself");
        handles.push(tokio::spawn(async move {
            let mut i = task;
            while Instant::now() < until {
                i += 1;
                match manager.access_token(connection).await {
                    Ok(token) => {
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                        if i % 5 == 0 {
                            let status = http
                                .get(&myself)
                                .bearer_auth(token.expose())
                                .send()
                                .await
                                .map(|r| r.status().as_u16())
                                .unwrap_or(0);
                            if status == 401 {
                                tally.api_rejections.fetch_add(1, Ordering::Relaxed);
                                if let Err(e) = manager.force_refresh(connection, &token).await {
                                    eprintln!("force_refresh failed: {e}");
                                    tally.errors.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("access_token failed: {e}");
                        tally.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tasks_and_store_handles_never_break_the_token_family() {
    let env = Env::start().await;
    env.settings(serde_json::json!({"access_token_ttl_secs": 2}))
        .await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    let second: Arc<dyn Store> = env.second_handle().await;
    let managers = [
        manager_over(env.dyn_store(), Duration::from_millis(500)),
        manager_over(second, Duration::from_millis(500)),
    ];
    let tally = Arc::new(Tally::default());
    let runs: Vec<_> = managers
        .iter()
        .map(|m| {
            tokio::spawn(hammer(
                m.clone(),
                c.id,
                c.instance_url.clone(),
                6,
                Duration::from_secs(8),
                tally.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    for run in runs {
        run.await.unwrap();
    }
    // Nobody waited for a lapsed lease: every holder released it.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    let counters = env.counters().await;
    assert_eq!(tally.errors.load(Ordering::Relaxed), 0);
    assert!(tally.ok.load(Ordering::Relaxed) > 100);
    assert_eq!(counters["invalidGrants"], 0, "{counters}");
    assert_eq!(counters["familyRevocations"], 0, "{counters}");
    assert_eq!(counters["refreshReuseHits"], 0, "{counters}");
    assert!(counters["refreshes"].as_u64().unwrap() >= 3, "{counters}");

    // Secrets never reach the database file in clear.
    let tokens = env.store.get_tokens(c.token_family_id).await.unwrap();
    let bytes = env.database_bytes();
    assert!(!contains(&bytes, tokens.access_token.expose()));
    assert!(!contains(&bytes, tokens.refresh_token.unwrap().expose()));
    assert!(!contains(&bytes, &env.sim.info.client_secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_processes_sharing_one_database_never_break_the_token_family() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let env = Env::start().await;
    env.settings(serde_json::json!({"access_token_ttl_secs": 2}))
        .await;
    let c = env
        .connect(env.draft("acme"), &[])
        .await
        .unwrap()
        .connection;
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for _ in 0..3 {
        children.push(
            std::process::Command::new(&exe)
                .args([
                    "race::child_process_hammers_when_asked",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, "1")
                .env("RACE_DB", env.db_path())
                .env("RACE_KEY", env.key.to_base64().expose_secret())
                .env("RACE_CONNECTION", c.id.to_string())
                .env("RACE_INSTANCE", &c.instance_url)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    hammer(
        env.manager(Duration::from_millis(500)),
        c.id,
        c.instance_url.clone(),
        4,
        Duration::from_secs(8),
        tally.clone(),
    )
    .await;
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("RACE-CHILD errors=0"), "{stdout}\n{stderr}");
    }
    // Nobody waited for a lapsed lease: every holder released it.
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    let counters = env.counters().await;
    assert_eq!(tally.errors.load(Ordering::Relaxed), 0);
    assert_eq!(counters["invalidGrants"], 0, "{counters}");
    assert_eq!(counters["familyRevocations"], 0, "{counters}");
    assert_eq!(counters["refreshReuseHits"], 0, "{counters}");
    assert!(counters["refreshes"].as_u64().unwrap() >= 3, "{counters}");
}

/// The body of a child process of the test above; does nothing in a normal test run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process_hammers_when_asked() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let var = |name: &str| std::env::var(name).unwrap();
    let key = MasterKey::from_base64(&var("RACE_KEY")).unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(std::path::Path::new(&var("RACE_DB")), key)
            .await
            .unwrap(),
    );
    let connection: ConnectionId = var("RACE_CONNECTION").parse().unwrap();
    let tally = Arc::new(Tally::default());
    hammer(
        manager_over(store, Duration::from_millis(500)),
        connection,
        var("RACE_INSTANCE"),
        4,
        Duration::from_secs(7),
        tally.clone(),
    )
    .await;
    println!(
        "RACE-CHILD errors={} ok={} rejections={}",
        tally.errors.load(Ordering::Relaxed),
        tally.ok.load(Ordering::Relaxed),
        tally.api_rejections.load(Ordering::Relaxed)
    );
}
