//! [`TokenManager`]: hands out access tokens per connection and refreshes them single-flight.
//!
//! Atlassian rotates the refresh token on every use, and presenting a rotated-out token outside
//! the reuse interval revokes the whole family (the user must consent again). So for one token
//! family there is at most one refresh in flight anywhere:
//!
//! 1. inside the process, a per-family `tokio::sync::Mutex`;
//! 2. across processes, the store's refresh lease (a row with an expiry, taken atomically);
//! 3. after taking both, the tokens are read again (another holder may have refreshed already);
//! 4. the token endpoint is called with no database transaction open;
//! 5. the rotated pair is written with a version compare-and-swap *before* the new access token is
//!    returned, keeping the old refresh token when none came back;
//! 6. `invalid_grant` marks every connection of the family `reconnect_required`; network and 5xx
//!    failures are retried with the *same* refresh token (tolerated within the reuse interval).
//!
//! Families, not connections, are the unit of locking: connections built on one named credential
//! share its principal's family.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jiraflow_store::{
    AccessToken, Connection, ConnectionId, ConnectionStatus, RecordKind, RefreshLease, Store,
    StoreError, TokenFamilyId, TokenSet,
};
use url::Url;

use crate::error::{OAuthError, OAuthResult};
use crate::protocol::{AppCredentials, OAuthClient};

/// Tuning of the token manager.
#[derive(Debug, Clone)]
pub struct TokenManagerConfig {
    /// Refresh this long before the stored expiry (Atlassian's gateway does not always answer an
    /// expired token with 401, so expiry is anticipated rather than detected).
    pub skew: Duration,
    /// Lifetime of the cross-process refresh lease. Must exceed the worst-case refresh (HTTP
    /// timeout times retries); otherwise another process could refresh the same token.
    pub lease_ttl: Duration,
    /// How long to wait for another holder of the lease before giving up with `RefreshBusy`.
    pub lease_wait: Duration,
    /// Retries of a transient token endpoint failure, with the same refresh token.
    pub transient_retries: u32,
    /// First retry delay (doubled each time).
    pub retry_base: Duration,
    /// Label written into leases (diagnostics only).
    pub owner: String,
}

impl Default for TokenManagerConfig {
    fn default() -> Self {
        Self {
            skew: Duration::from_secs(300),
            lease_ttl: Duration::from_secs(120),
            lease_wait: Duration::from_secs(150),
            transient_retries: 3,
            retry_base: Duration::from_millis(500),
            owner: default_owner(),
        }
    }
}

/// A process-unique lease owner label: pid plus a random suffix (two managers in one process get
/// distinct labels).
#[must_use]
pub fn default_owner() -> String {
    format!("pid{}-{:08x}", std::process::id(), rand::random::<u32>())
}

/// Why a refresh is wanted.
enum Want {
    /// The token read at `version` is stale (or about to be).
    Stale { version: i64 },
    /// The API rejected this token; refresh unless it has already been replaced.
    Rejected(AccessToken),
}

/// What a refresh under the lease produced.
enum Outcome {
    /// A new pair was stored (`store_refreshed` released the lease).
    Stored(AccessToken),
    /// Someone else had already refreshed; the stored token is good.
    Existing(AccessToken),
    /// The family changed under us; read again.
    Again,
}

/// Hands out access tokens and refreshes them single-flight (see the module documentation).
pub struct TokenManager {
    store: Arc<dyn Store>,
    client: OAuthClient,
    config: TokenManagerConfig,
    locks: parking_lot::Mutex<HashMap<TokenFamilyId, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, client: OAuthClient, config: TokenManagerConfig) -> Self {
        Self {
            store,
            client,
            config,
            locks: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TokenManagerConfig {
        &self.config
    }

    /// A usable access token for the connection: the stored one while it is fresh
    /// (`expires_at - skew > now`), otherwise a refreshed one.
    ///
    /// # Errors
    /// `ReconnectRequired` when the family is dead (now or earlier); `ConnectionUnavailable` for a
    /// disabled connection; `RefreshBusy` / `Transient` when a refresh could not finish now.
    pub async fn access_token(&self, connection_id: ConnectionId) -> OAuthResult<AccessToken> {
        let connection = self.usable_connection(connection_id).await?;
        let set = self.store.get_tokens(connection.token_family_id).await?;
        if self.is_fresh(&set, Utc::now()) {
            return Ok(set.access_token);
        }
        self.refresh(
            &connection,
            Want::Stale {
                version: set.version,
            },
        )
        .await
    }

    /// The API rejected `seen` (401, or the 403/404 Atlassian sometimes answers for an expired
    /// token): refresh, unless the stored token has already been replaced, in which case the
    /// stored one is returned. Many requests failing with the same token cause one refresh.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn force_refresh(
        &self,
        connection_id: ConnectionId,
        seen: &AccessToken,
    ) -> OAuthResult<AccessToken> {
        let connection = self.usable_connection(connection_id).await?;
        self.refresh(&connection, Want::Rejected(seen.clone()))
            .await
    }

    fn is_fresh(&self, set: &TokenSet, now: DateTime<Utc>) -> bool {
        is_fresh(self.config.skew, set, now)
    }

    /// Whether the stored set still needs a refresh for `want`.
    fn still_needed(&self, want: &Want, set: &TokenSet, now: DateTime<Utc>) -> bool {
        match want {
            // Someone else refreshed since we looked: use theirs while it is still valid, even if
            // it is inside the skew window (avoids refreshing twice back to back).
            Want::Stale { version } => {
                !(self.is_fresh(set, now) || (set.version != *version && set.expires_at > now))
            }
            Want::Rejected(seen) => set.access_token.expose() == seen.expose(),
        }
    }

    async fn usable_connection(&self, id: ConnectionId) -> OAuthResult<Connection> {
        let connection =
            self.store
                .get_connection(id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    kind: RecordKind::Connection,
                    id: id.to_string(),
                })?;
        check_status(&connection)?;
        Ok(connection)
    }

    fn family_lock(&self, family: TokenFamilyId) -> Arc<tokio::sync::Mutex<()>> {
        self.locks.lock().entry(family).or_default().clone()
    }

    async fn refresh(&self, connection: &Connection, want: Want) -> OAuthResult<AccessToken> {
        let family = connection.token_family_id;
        let lock = self.family_lock(family);
        let _local = lock.lock().await;
        let deadline = Instant::now() + self.config.lease_wait;
        let mut wait = Duration::from_millis(25);
        loop {
            let set = self.store.get_tokens(family).await?;
            if !self.still_needed(&want, &set, Utc::now()) {
                return Ok(set.access_token);
            }
            let lease = self
                .store
                .try_acquire_refresh_lease(family, &self.config.owner, self.config.lease_ttl)
                .await;
            let lease = match lease {
                Ok(lease) => lease,
                Err(e) if e.is_retryable() => None,
                Err(e) => return Err(e.into()),
            };
            let Some(lease) = lease else {
                // Another process is refreshing: wait for its result instead of racing it.
                if Instant::now() >= deadline {
                    return Err(OAuthError::RefreshBusy {
                        connection: connection.name.clone(),
                    });
                }
                tokio::time::sleep(jitter(wait)).await;
                wait = (wait * 2).min(Duration::from_millis(500));
                continue;
            };
            match self.refresh_with_lease(connection, &want, &lease).await? {
                Outcome::Stored(token) | Outcome::Existing(token) => return Ok(token),
                // Lost a compare-and-swap (a reconnect replaced the family): look again.
                Outcome::Again => {}
            }
        }
    }

    /// Refreshes while holding `lease`.
    async fn refresh_with_lease(
        &self,
        connection: &Connection,
        want: &Want,
        lease: &RefreshLease,
    ) -> OAuthResult<Outcome> {
        let result = self.refresh_inner(connection, want, lease).await;
        if !matches!(result, Ok(Outcome::Stored(_))) {
            // store_refreshed releases the lease on success; every other path releases it here.
            if let Err(e) = self.store.release_lease(lease).await {
                tracing::warn!(family = %lease.family_id, error = %e, "releasing the refresh lease failed");
            }
        }
        result
    }

    async fn refresh_inner(
        &self,
        connection: &Connection,
        want: &Want,
        lease: &RefreshLease,
    ) -> OAuthResult<Outcome> {
        let family = lease.family_id;
        // Re-read under the lease: the previous holder may have just stored a fresh pair.
        let set = self.store.get_tokens(family).await?;
        if !self.still_needed(want, &set, Utc::now()) {
            return Ok(Outcome::Existing(set.access_token));
        }
        // A reconnect-required mark from another process is final until the user reconnects.
        let current = self
            .store
            .get_connection(connection.id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: RecordKind::Connection,
                id: connection.id.to_string(),
            })?;
        check_status(&current)?;
        let Some(refresh_token) = set.refresh_token.clone() else {
            let message = "the consent did not include offline_access, so there is no refresh \
                           token; reconnect with offline_access"
                .to_owned();
            self.store
                .mark_family_reconnect_required(family, message.clone())
                .await?;
            return Err(OAuthError::ReconnectRequired {
                connection: connection.name.clone(),
                message,
            });
        };
        let app = self.app_credentials(connection).await?;
        let started = Instant::now();
        let budget = self.config.lease_ttl / 2;
        let mut attempt = 0u32;
        let answer = loop {
            match self.client.refresh(&app, &refresh_token).await {
                Ok(answer) => break answer,
                Err(e)
                    if e.is_transient()
                        && attempt < self.config.transient_retries
                        && started.elapsed() < budget =>
                {
                    // Same refresh token again: if the server did rotate and the answer was
                    // lost, the previous token is still accepted within the reuse interval.
                    attempt += 1;
                    tracing::info!(family = %family, attempt, "token refresh failed transiently; retrying");
                    tokio::time::sleep(jitter(self.config.retry_base * 2u32.pow(attempt - 1)))
                        .await;
                }
                Err(e) if e.is_invalid_grant() => {
                    return self.on_invalid_grant(connection, &set, e).await;
                }
                Err(e) => return Err(e),
            }
        };
        let now = Utc::now();
        let refreshed = answer.into_refreshed(now);
        let access = refreshed.access_token.clone();
        let mut tries = 0u32;
        loop {
            match self
                .store
                .store_refreshed(lease, set.version, refreshed.clone())
                .await
            {
                Ok(version) => {
                    tracing::debug!(
                        family = %family,
                        version,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "tokens refreshed"
                    );
                    return Ok(Outcome::Stored(access));
                }
                Err(e) if e.is_conflict() => {
                    // The family was replaced (reconnect) while we refreshed the old generation:
                    // the new pair belongs to a superseded family, drop it.
                    tracing::info!(family = %family, "refreshed tokens superseded by a concurrent write");
                    return Ok(Outcome::Again);
                }
                // Never refresh again with the old token because a write failed: retry the write.
                Err(e) if e.is_retryable() && tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(jitter(Duration::from_millis(20 * u64::from(tries)))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn on_invalid_grant(
        &self,
        connection: &Connection,
        seen: &TokenSet,
        error: OAuthError,
    ) -> OAuthResult<Outcome> {
        // A reconnect may have replaced the family while we called: then the refusal concerns the
        // old generation only.
        let now = self.store.get_tokens(seen.family_id).await?;
        if now.version != seen.version {
            return Ok(Outcome::Again);
        }
        let description = match &error {
            OAuthError::InvalidGrant { description } => description.clone(),
            _ => String::new(),
        };
        let message = format!(
            "Atlassian no longer accepts this connection's refresh token ({description}). The \
             consent was revoked, expired, or the password changed; reconnect the connection."
        );
        tracing::warn!(family = %seen.family_id, connection = %connection.id, "refresh token refused; connection needs reconnecting");
        self.store
            .mark_family_reconnect_required(seen.family_id, message.clone())
            .await?;
        Err(OAuthError::ReconnectRequired {
            connection: connection.name.clone(),
            message,
        })
    }

    async fn app_credentials(&self, connection: &Connection) -> OAuthResult<AppCredentials> {
        app_credentials(self.store.as_ref(), connection.oauth_app_id).await
    }
}

/// Loads an OAuth app with its secret as protocol credentials.
pub(crate) async fn app_credentials(
    store: &dyn Store,
    id: jiraflow_store::OAuthAppId,
) -> OAuthResult<AppCredentials> {
    let app = store
        .get_oauth_app(id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: RecordKind::OAuthApp,
            id: id.to_string(),
        })?;
    let client_secret = store.oauth_app_client_secret(id).await?;
    let parse = |field: &'static str, raw: &str| {
        Url::parse(raw).map_err(|e| OAuthError::invalid(field, format!("{raw:?}: {e}")))
    };
    Ok(AppCredentials {
        client_id: app.client_id,
        client_secret,
        auth_base_url: parse("auth base URL", &app.auth_base_url)?,
        api_base_url: parse("API base URL", &app.api_base_url)?,
    })
}

fn check_status(connection: &Connection) -> OAuthResult<()> {
    match connection.status {
        ConnectionStatus::Active => Ok(()),
        ConnectionStatus::ReconnectRequired => Err(OAuthError::ReconnectRequired {
            connection: connection.name.clone(),
            message: connection
                .status_message
                .clone()
                .unwrap_or_else(|| "the connection must be reconnected".to_owned()),
        }),
        ConnectionStatus::Inactive => Err(OAuthError::ConnectionUnavailable {
            connection: connection.name.clone(),
            status: "inactive",
        }),
    }
}

/// Whether `set`'s access token is still usable `skew` ahead of its expiry.
fn is_fresh(skew: Duration, set: &TokenSet, now: DateTime<Utc>) -> bool {
    let skew = chrono::Duration::from_std(skew).unwrap_or(chrono::Duration::zero());
    // Never anticipate by more than half the token's lifetime: with short-lived tokens (a
    // sandbox issuing 2-second tokens) a 5-minute skew would refresh on every call.
    let issued = set.last_refreshed_at.unwrap_or(set.family_created_at);
    let half_life = (set.expires_at - issued) / 2;
    let skew = if half_life > chrono::Duration::zero() {
        skew.min(half_life)
    } else {
        skew
    };
    set.expires_at - skew > now
}

/// `d` plus up to 50 % random extra, so waiting processes do not poll in lockstep.
fn jitter(d: Duration) -> Duration {
    let extra = rand::random::<f64>() * 0.5;
    d + d.mul_f64(extra)
}

/// A token source bound to one connection, shaped like the Jira client's token provider:
/// `invalidate` is synchronous and only remembers the rejected token; the next `token` call
/// force-refreshes if that token is still the stored one.
pub struct ConnectionTokenSource {
    manager: Arc<TokenManager>,
    connection_id: ConnectionId,
    rejected: parking_lot::Mutex<Option<AccessToken>>,
}

impl std::fmt::Debug for ConnectionTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionTokenSource")
            .field("connection_id", &self.connection_id)
            .finish_non_exhaustive()
    }
}

impl ConnectionTokenSource {
    /// A source for `connection_id`.
    #[must_use]
    pub fn new(manager: Arc<TokenManager>, connection_id: ConnectionId) -> Self {
        Self {
            manager,
            connection_id,
            rejected: parking_lot::Mutex::new(None),
        }
    }

    /// A token valid now.
    ///
    /// # Errors
    /// As [`TokenManager::access_token`].
    pub async fn token(&self) -> OAuthResult<AccessToken> {
        let rejected = self.rejected.lock().take();
        match rejected {
            Some(seen) => self.manager.force_refresh(self.connection_id, &seen).await,
            None => self.manager.access_token(self.connection_id).await,
        }
    }

    /// The API rejected `seen`.
    pub fn invalidate(&self, seen: &AccessToken) {
        *self.rejected.lock() = Some(seen.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiraflow_store::TokenFamilyId;

    fn set(issued: DateTime<Utc>, lifetime_secs: i64) -> TokenSet {
        TokenSet {
            family_id: TokenFamilyId::new(),
            access_token: AccessToken::new("a"),
            refresh_token: None,
            expires_at: issued + chrono::Duration::seconds(lifetime_secs),
            scopes: vec![],
            version: 1,
            family_created_at: issued,
            last_refreshed_at: None,
        }
    }

    #[test]
    fn an_hour_token_is_refreshed_five_minutes_ahead() {
        let now = Utc::now();
        let s = set(now - chrono::Duration::minutes(50), 3600);
        assert!(is_fresh(Duration::from_secs(300), &s, now));
        let s = set(now - chrono::Duration::minutes(56), 3600);
        assert!(!is_fresh(Duration::from_secs(300), &s, now));
    }

    #[test]
    fn a_short_lived_token_is_used_for_half_its_life_despite_a_long_skew() {
        let now = Utc::now();
        assert!(is_fresh(Duration::from_secs(300), &set(now, 2), now));
        let s = set(now - chrono::Duration::milliseconds(1500), 2);
        assert!(!is_fresh(Duration::from_secs(300), &s, now));
    }
}
