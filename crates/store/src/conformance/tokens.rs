//! Conformance checks for token families, refresh leases and the compare-and-swap that together
//! make refresh single-flight across processes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;

use super::{DynStore, fixture_app, fixture_tokens};
use crate::error::{StoreError, StoreResult};
use crate::ids::TokenFamilyId;
use crate::model::{ConnectionSource, ConnectionStatus, NewConnection, RefreshedTokens};
use crate::secret::{AccessToken, RefreshToken};

async fn fixture_family(
    store: &DynStore,
    tag: &str,
) -> StoreResult<(crate::model::Connection, TokenFamilyId)> {
    let app = fixture_app(store, &format!("app-{tag}")).await?;
    let conn = store
        .create_connection(NewConnection {
            name: format!("conn-{tag}"),
            description: String::new(),
            source: ConnectionSource::OAuthApp {
                oauth_app_id: app,
                tokens: fixture_tokens(tag),
            },
            cloud_id: "cloud-1".to_owned(),
            site_url: None,
            created_by: None,
        })
        .await?;
    let family = conn.token_family_id;
    Ok((conn, family))
}

fn refreshed(access: &str, refresh: Option<&str>) -> RefreshedTokens {
    RefreshedTokens {
        access_token: AccessToken::new(access),
        refresh_token: refresh.map(RefreshToken::new),
        expires_at: Utc::now() + chrono::Duration::hours(1),
        scopes: None,
    }
}

/// Stored tokens come back decrypted with version 1 and the consent time.
pub async fn tokens_round_trip_through_the_store(store: DynStore) -> StoreResult<()> {
    let (_, family) = fixture_family(&store, "t").await?;
    let tokens = store.get_tokens(family).await?;
    assert_eq!(tokens.family_id, family);
    assert_eq!(tokens.access_token.expose(), "access-t-SENTINEL");
    assert_eq!(
        tokens.refresh_token.as_ref().map(RefreshToken::expose),
        Some("refresh-t-SENTINEL")
    );
    assert_eq!(tokens.version, 1);
    assert!(tokens.last_refreshed_at.is_none());
    assert_eq!(tokens.scopes, super::fixture_scopes());
    assert!(!format!("{tokens:?}").contains("SENTINEL"));
    let missing = store.get_tokens(TokenFamilyId::new()).await;
    assert!(missing.err().is_some_and(|e| e.is_not_found()));
    let lease = store
        .try_acquire_refresh_lease(TokenFamilyId::new(), "w", Duration::from_secs(5))
        .await;
    assert!(lease.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}

async fn race(stores: Vec<DynStore>, family: TokenFamilyId) -> StoreResult<usize> {
    let mut tasks = Vec::new();
    for (i, store) in stores.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            store
                .try_acquire_refresh_lease(family, &format!("worker-{i}"), Duration::from_secs(30))
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(Some(_))) => winners += 1,
            Ok(Ok(None)) => {}
            Ok(Err(e)) => return Err(e),
            Err(join) => panic!("task failed: {join}"),
        }
    }
    Ok(winners)
}

/// Eight concurrent lease attempts on one handle: exactly one wins.
pub async fn lease_race_has_one_winner(store: DynStore) -> StoreResult<()> {
    let (_, family) = fixture_family(&store, "race").await?;
    let winners = race(vec![Arc::clone(&store); 8], family).await?;
    assert_eq!(winners, 1);
    Ok(())
}

/// Concurrent lease attempts through two handles on one database (like two processes): exactly
/// one wins.
pub async fn lease_race_across_handles_has_one_winner(a: DynStore, b: DynStore) -> StoreResult<()> {
    let (_, family) = fixture_family(&a, "race2").await?;
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(Arc::clone(&a));
        stores.push(Arc::clone(&b));
    }
    assert_eq!(race(stores, family).await?, 1);
    Ok(())
}

/// A lapsed lease can be taken over; releasing the lapsed one does not free the new one.
pub async fn leases_expire(store: DynStore) -> StoreResult<()> {
    let (_, family) = fixture_family(&store, "exp").await?;
    let first = store
        .try_acquire_refresh_lease(family, "a", Duration::from_millis(600))
        .await?;
    let Some(first) = first else {
        panic!("a free lease must be granted")
    };
    assert_eq!(first.owner, "a");
    assert!(
        store
            .try_acquire_refresh_lease(family, "b", Duration::from_secs(30))
            .await?
            .is_none()
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let second = store
        .try_acquire_refresh_lease(family, "b", Duration::from_secs(30))
        .await?;
    let Some(second) = second else {
        panic!("a lapsed lease must be granted again")
    };
    assert_ne!(first.lease_id, second.lease_id);
    store.release_lease(&first).await?;
    assert!(
        store
            .try_acquire_refresh_lease(family, "c", Duration::from_secs(30))
            .await?
            .is_none(),
        "releasing a lapsed lease must not free its successor"
    );
    store.release_lease(&second).await?;
    assert!(
        store
            .try_acquire_refresh_lease(family, "c", Duration::from_secs(30))
            .await?
            .is_some()
    );
    Ok(())
}

/// `store_refreshed` writes only over the version it read, bumps it, keeps the refresh token
/// when none is given, and frees the lease.
pub async fn refreshed_tokens_are_compare_and_swapped(store: DynStore) -> StoreResult<()> {
    let (_, family) = fixture_family(&store, "cas").await?;
    let Some(lease) = store
        .try_acquire_refresh_lease(family, "a", Duration::from_secs(30))
        .await?
    else {
        panic!("a free lease must be granted")
    };
    let v2 = store
        .store_refreshed(&lease, 1, refreshed("access-2", None))
        .await?;
    assert_eq!(v2, 2);
    let now = store.get_tokens(family).await?;
    assert_eq!(now.access_token.expose(), "access-2");
    assert_eq!(
        now.refresh_token.as_ref().map(RefreshToken::expose),
        Some("refresh-cas-SENTINEL"),
        "the old refresh token is kept when none comes back"
    );
    assert!(now.last_refreshed_at.is_some());
    assert_eq!(now.scopes, super::fixture_scopes());
    let stale = store
        .store_refreshed(&lease, 1, refreshed("access-x", Some("refresh-x")))
        .await;
    match stale {
        Err(StoreError::VersionConflict {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (1, 2)),
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert_eq!(
        store.get_tokens(family).await?.access_token.expose(),
        "access-2"
    );
    let Some(lease) = store
        .try_acquire_refresh_lease(family, "b", Duration::from_secs(30))
        .await?
    else {
        panic!("store_refreshed must release the lease")
    };
    let mut with_scopes = refreshed("access-3", Some("refresh-3"));
    with_scopes.scopes = Some(vec!["read:jira-work".to_owned()]);
    assert_eq!(store.store_refreshed(&lease, 2, with_scopes).await?, 3);
    let now = store.get_tokens(family).await?;
    assert_eq!(
        now.refresh_token.as_ref().map(RefreshToken::expose),
        Some("refresh-3")
    );
    assert_eq!(now.scopes, vec!["read:jira-work".to_owned()]);
    let Some(lease) = store
        .try_acquire_refresh_lease(family, "c", Duration::from_secs(30))
        .await?
    else {
        panic!("store_refreshed must release the lease")
    };
    let lost = store
        .store_refreshed(&lease, 1, refreshed("access-y", None))
        .await;
    assert!(lost.err().is_some_and(|e| e.is_conflict()));
    assert!(
        store
            .try_acquire_refresh_lease(family, "d", Duration::from_secs(30))
            .await?
            .is_some(),
        "a lost compare-and-swap releases the lease"
    );
    Ok(())
}

/// Reconnect replaces the family atomically: the version moves, connections become active, and
/// a refresh that started before loses its compare-and-swap.
pub async fn replacing_a_family_defeats_in_flight_refreshes(store: DynStore) -> StoreResult<()> {
    let (conn, family) = fixture_family(&store, "rep").await?;
    let soon = Utc::now() + chrono::Duration::hours(2);
    assert_eq!(store.families_expiring_before(soon).await?, vec![family]);
    assert!(store.families_expiring_before(Utc::now()).await?.is_empty());
    let marked = store
        .mark_family_reconnect_required(family, "refresh token rejected; reconnect".to_owned())
        .await?;
    assert!(
        store.families_expiring_before(soon).await?.is_empty(),
        "a family waiting for reconnect is not refreshed"
    );
    assert_eq!(marked, vec![conn.id]);
    let shown = store.get_connection(conn.id).await?;
    assert_eq!(
        shown.map(|c| c.status),
        Some(ConnectionStatus::ReconnectRequired)
    );
    let Some(lease) = store
        .try_acquire_refresh_lease(family, "slow-worker", Duration::from_secs(30))
        .await?
    else {
        panic!("a free lease must be granted")
    };
    let v = store
        .replace_family(family, fixture_tokens("fresh"))
        .await?;
    assert_eq!(v, 2);
    let shown = store.get_connection(conn.id).await?;
    assert_eq!(
        shown.map(|c| (c.status, c.status_message)),
        Some((ConnectionStatus::Active, None))
    );
    let late = store
        .store_refreshed(&lease, 1, refreshed("old-gen", Some("old-gen")))
        .await;
    assert!(late.err().is_some_and(|e| e.is_conflict()));
    let tokens = store.get_tokens(family).await?;
    assert_eq!(tokens.access_token.expose(), "access-fresh-SENTINEL");
    assert!(
        store
            .try_acquire_refresh_lease(family, "next", Duration::from_secs(30))
            .await?
            .is_some(),
        "replacement clears the lease"
    );
    let missing = store
        .replace_family(TokenFamilyId::new(), fixture_tokens("x"))
        .await;
    assert!(missing.err().is_some_and(|e| e.is_not_found()));
    Ok(())
}

/// A rotating authorization server in memory: each refresh token works once.
struct RotatingServer {
    current: String,
    issued: u64,
    invalid_grants: u64,
}

impl RotatingServer {
    fn refresh(&mut self, presented: &str) -> Option<(String, String)> {
        if presented != self.current {
            self.invalid_grants += 1;
            return None;
        }
        self.issued += 1;
        self.current = format!("refresh-{}", self.issued);
        Some((format!("access-{}", self.issued), self.current.clone()))
    }
}

/// Workers on two handles follow the documented protocol (lease, re-read, refresh, persist
/// before use) against a server that burns each refresh token on use: no token is ever
/// presented twice, and the stored token is always the server's current one.
pub async fn refresh_protocol_never_reuses_a_rotated_token(
    a: DynStore,
    b: DynStore,
) -> StoreResult<()> {
    let (_, family) = fixture_family(&a, "proto").await?;
    let server = Arc::new(Mutex::new(RotatingServer {
        current: "refresh-proto-SENTINEL".to_owned(),
        issued: 0,
        invalid_grants: 0,
    }));
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let store = if worker % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        let server = Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            let mut refreshes = 0u32;
            for _ in 0..5 {
                let seen = store.get_tokens(family).await?.version;
                let owner = format!("worker-{worker}");
                let lease = loop {
                    if let Some(lease) = store
                        .try_acquire_refresh_lease(family, &owner, Duration::from_secs(30))
                        .await?
                    {
                        break lease;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                };
                let current = store.get_tokens(family).await?;
                if current.version != seen {
                    // Someone refreshed while we waited: use theirs.
                    store.release_lease(&lease).await?;
                    continue;
                }
                let presented = current
                    .refresh_token
                    .as_ref()
                    .map(|r| r.expose().to_owned())
                    .unwrap_or_default();
                let answer = server
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .refresh(&presented);
                let Some((access, refresh)) = answer else {
                    store.release_lease(&lease).await?;
                    continue;
                };
                store
                    .store_refreshed(&lease, current.version, refreshed(&access, Some(&refresh)))
                    .await?;
                refreshes += 1;
            }
            Ok::<u32, StoreError>(refreshes)
        }));
    }
    let mut total = 0;
    for task in tasks {
        match task.await {
            Ok(result) => total += result?,
            Err(join) => panic!("worker failed: {join}"),
        }
    }
    let (invalid_grants, issued, current) = {
        let server = server.lock().unwrap_or_else(|e| e.into_inner());
        (server.invalid_grants, server.issued, server.current.clone())
    };
    assert_eq!(invalid_grants, 0, "a rotated refresh token was reused");
    assert_eq!(u64::from(total), issued);
    let stored = a.get_tokens(family).await?;
    assert_eq!(stored.version, 1 + i64::from(total));
    assert_eq!(
        stored.refresh_token.as_ref().map(RefreshToken::expose),
        Some(current.as_str())
    );
    Ok(())
}
