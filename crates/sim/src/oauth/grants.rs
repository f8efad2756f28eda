//! The token rules, as plain functions over the world: issuing codes at consent, redeeming them
//! (single use, expiry, exact `redirect_uri`, revocation on reuse), rotating refresh tokens with
//! Atlassian's reuse interval and breach detection, inactivity and absolute expiry, and sweeping
//! expired entries. The HTTP handlers only parse, authenticate the client and count.

use std::collections::BTreeSet;

use super::{AccessToken, AuthCode, FamilyEnd, RefreshToken, TokenFamily};
use crate::clock::EpochMs;
use crate::config::Settings;
use crate::util::random_token;
use crate::world::World;

/// Length of authorization codes. Atlassian's codes, like its tokens, are opaque strings of
/// indeterminate length; generous lengths catch clients that store them in short columns.
const CODE_LEN: usize = 320;
/// Length of access tokens (Atlassian's are JWTs of roughly a kilobyte).
const ACCESS_TOKEN_LEN: usize = 1024;
/// Length of refresh tokens.
const REFRESH_TOKEN_LEN: usize = 640;
/// Rotated-out tokens remembered per family beyond `previous`, for reuse detection.
const STALE_KEPT: usize = 32;
/// Expired access tokens and codes stay this long, so the gateway can still tell "expired" from
/// "unknown" and a late code reuse still revokes.
const GRACE_MS: i64 = 24 * 3600 * 1000;
/// Ended families are forgotten this long after they ended.
const ENDED_FAMILY_KEPT_MS: i64 = 30 * 24 * 3600 * 1000;
/// The sweep runs at most this often.
const SWEEP_EVERY_MS: i64 = 60 * 1000;

/// A consent the user approved.
#[derive(Debug, Clone)]
pub(super) struct Approval {
    pub client_id: String,
    pub redirect_uri: String,
    pub account_id: String,
    pub cloud_id: String,
    pub scopes: Vec<String>,
}

/// A successful token-endpoint answer.
#[derive(Debug, Clone)]
pub(super) struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
    pub refresh_token: Option<String>,
}

/// How a refresh succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefreshOutcome {
    /// The current token was exchanged and rotated out.
    Rotated,
    /// The previous token was presented again inside the reuse interval.
    ReusedWithinInterval,
}

/// Why a grant was refused (all are `invalid_grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GrantError {
    /// Unknown, expired or another client's code.
    InvalidCode,
    /// The code was already redeemed; the family it produced has been revoked.
    CodeReused,
    /// `redirect_uri` differs from the authorization request's.
    RedirectMismatch,
    /// Unknown, revoked or another client's refresh token.
    InvalidRefreshToken,
    /// The family expired (inactivity or absolute lifetime).
    RefreshExpired,
    /// A rotated-out token was presented after the reuse interval; the family is revoked.
    RefreshReuseBreach,
}

impl GrantError {
    /// The `error_description` of the answer.
    pub(super) fn description(self) -> &'static str {
        match self {
            GrantError::InvalidCode | GrantError::CodeReused => "Invalid authorization code",
            GrantError::RedirectMismatch => {
                "The redirect_uri does not match the one used in the authorization request."
            }
            GrantError::InvalidRefreshToken
            | GrantError::RefreshExpired
            | GrantError::RefreshReuseBreach => "Unknown or invalid refresh token.",
        }
    }
}

/// The key of the grant of `account_id` to `client_id`.
pub(super) fn grant_key(client_id: &str, account_id: &str) -> String {
    format!("{client_id} {account_id}")
}

/// Records the consent in the account's grant and issues an authorization code.
pub(super) fn issue_code(
    world: &mut World,
    approval: Approval,
    now: EpochMs,
    settings: &Settings,
) -> String {
    world
        .oauth
        .grants
        .entry(grant_key(&approval.client_id, &approval.account_id))
        .or_default()
        .cloud_ids
        .insert(approval.cloud_id.clone());
    let code = random_token(CODE_LEN);
    world.oauth.codes.insert(
        code.clone(),
        AuthCode {
            client_id: approval.client_id,
            redirect_uri: approval.redirect_uri,
            account_id: approval.account_id,
            cloud_id: approval.cloud_id,
            scopes: approval.scopes,
            issued_at: now,
            expires_at: now + secs(settings.authorization_code_ttl_secs),
            redeemed_family: None,
        },
    );
    code
}

/// Redeems an authorization code: a new family, an access token, and a refresh token when
/// `offline_access` was granted. A second redemption revokes what the first one issued
/// (RFC 6749 §4.1.2).
pub(super) fn exchange_code(
    world: &mut World,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    now: EpochMs,
    settings: &Settings,
) -> Result<Issued, GrantError> {
    let Some(entry) = world.oauth.codes.get(code).cloned() else {
        return Err(GrantError::InvalidCode);
    };
    if entry.client_id != client_id {
        return Err(GrantError::InvalidCode);
    }
    if let Some(family_id) = &entry.redeemed_family {
        end_family(world, family_id, FamilyEnd::CodeReuse, now);
        return Err(GrantError::CodeReused);
    }
    if entry.expires_at <= now {
        world.oauth.codes.remove(code);
        return Err(GrantError::InvalidCode);
    }
    if entry.redirect_uri != redirect_uri {
        return Err(GrantError::RedirectMismatch);
    }
    let family_id = crate::util::uuid();
    if let Some(stored) = world.oauth.codes.get_mut(code) {
        stored.redeemed_family = Some(family_id.clone());
    }
    let scopes: BTreeSet<String> = entry.scopes.iter().cloned().collect();
    let offline = scopes.contains("offline_access");
    let mut family = TokenFamily {
        id: family_id.clone(),
        client_id: entry.client_id.clone(),
        account_id: entry.account_id.clone(),
        scopes,
        consented_at: entry.issued_at,
        current: None,
        previous: None,
        previous_rotated_at: 0,
        stale: Default::default(),
        refreshes: 0,
        ended: None,
    };
    let refresh_token = offline.then(|| mint_refresh(world, &family_id, now));
    family.current = refresh_token.clone();
    let access_token = mint_access(world, &family, now, settings);
    let scope = scope_string(&family);
    world.oauth.families.insert(family_id, family);
    Ok(Issued {
        access_token,
        expires_in: settings.access_token_ttl_secs,
        scope,
        refresh_token,
    })
}

/// Exchanges a refresh token: rotation, the reuse interval, breach detection and expiries.
///
/// Only the family's `previous` token may be reused, and only inside the reuse interval counted
/// from its rotation (Auth0's rule, which Atlassian's authorization server follows). Such a reuse
/// mints a fresh pair; its refresh token becomes current and the token it replaces (the one from
/// the response the client lost) is rotated out, so the reuse window never extends. Any other
/// rotated-out token revokes the whole family, access tokens included.
pub(super) fn refresh(
    world: &mut World,
    client_id: &str,
    token: &str,
    now: EpochMs,
    settings: &Settings,
) -> Result<(Issued, RefreshOutcome), GrantError> {
    let Some(record) = world.oauth.refresh_tokens.get(token).cloned() else {
        return Err(GrantError::InvalidRefreshToken);
    };
    let Some(family) = world.oauth.families.get(&record.family_id).cloned() else {
        return Err(GrantError::InvalidRefreshToken);
    };
    if family.ended.is_some() || family.client_id != client_id {
        return Err(GrantError::InvalidRefreshToken);
    }
    if now >= family.consented_at + secs(settings.refresh_absolute_secs) {
        end_family(world, &family.id, FamilyEnd::AbsoluteExpired, now);
        return Err(GrantError::RefreshExpired);
    }
    let outcome = if family.current.as_deref() == Some(token) {
        RefreshOutcome::Rotated
    } else if family.previous.as_deref() == Some(token)
        && now < family.previous_rotated_at + secs(settings.refresh_reuse_interval_secs)
    {
        RefreshOutcome::ReusedWithinInterval
    } else {
        end_family(world, &family.id, FamilyEnd::RefreshReuse, now);
        return Err(GrantError::RefreshReuseBreach);
    };
    // Inactivity counts from the last successful exchange: when the current token was issued.
    let last_activity = family
        .current
        .as_ref()
        .and_then(|current| world.oauth.refresh_tokens.get(current))
        .map_or(record.issued_at, |r| r.issued_at);
    if now >= last_activity + secs(settings.refresh_inactivity_secs) {
        end_family(world, &family.id, FamilyEnd::InactivityExpired, now);
        return Err(GrantError::RefreshExpired);
    }
    let new_refresh = mint_refresh(world, &family.id, now);
    let mut updated = family;
    let replaced = updated.current.replace(new_refresh.clone());
    match outcome {
        RefreshOutcome::Rotated => {
            if let Some(old_previous) = updated.previous.replace(token.to_owned()) {
                updated.stale.push_back(old_previous);
            }
            updated.previous_rotated_at = now;
        }
        RefreshOutcome::ReusedWithinInterval => {
            if let Some(lost) = replaced {
                updated.stale.push_back(lost);
            }
        }
    }
    while updated.stale.len() > STALE_KEPT {
        if let Some(forgotten) = updated.stale.pop_front() {
            world.oauth.refresh_tokens.remove(&forgotten);
        }
    }
    updated.refreshes += 1;
    let access_token = mint_access(world, &updated, now, settings);
    let scope = scope_string(&updated);
    world.oauth.families.insert(updated.id.clone(), updated);
    Ok((
        Issued {
            access_token,
            expires_in: settings.access_token_ttl_secs,
            scope,
            refresh_token: Some(new_refresh),
        },
        outcome,
    ))
}

/// Ends a family. Revocations (reuse, code reuse, revoked grant) kill its access tokens too;
/// expiries only stop refreshing, outstanding access tokens run out on their own.
pub(super) fn end_family(world: &mut World, family_id: &str, reason: FamilyEnd, now: EpochMs) {
    let Some(family) = world.oauth.families.get_mut(family_id) else {
        return;
    };
    if family.ended.is_some() {
        return;
    }
    family.ended = Some((now, reason));
    family.current = None;
    family.previous = None;
    family.stale.clear();
    world
        .oauth
        .refresh_tokens
        .retain(|_, r| r.family_id != family_id);
    if matches!(
        reason,
        FamilyEnd::RefreshReuse | FamilyEnd::CodeReuse | FamilyEnd::Revoked
    ) {
        world
            .oauth
            .access_tokens
            .retain(|_, t| t.family_id.as_deref() != Some(family_id));
    }
}

/// Revokes what `account_id` granted (to `client_id`, or to every app when `None`): the grants,
/// every family with its refresh and access tokens, and tokens issued without consent. Returns
/// how many families were ended. For the admin API ("remove the app from Connected apps").
pub fn revoke_account(
    world: &mut World,
    client_id: Option<&str>,
    account_id: &str,
    now: EpochMs,
) -> usize {
    let matches = |c: &str, a: &str| a == account_id && client_id.is_none_or(|id| id == c);
    let families: Vec<String> = world
        .oauth
        .families
        .values()
        .filter(|f| f.ended.is_none() && matches(&f.client_id, &f.account_id))
        .map(|f| f.id.clone())
        .collect();
    for id in &families {
        end_family(world, id, FamilyEnd::Revoked, now);
    }
    world
        .oauth
        .access_tokens
        .retain(|_, t| !matches(&t.client_id, &t.account_id));
    world.oauth.grants.retain(|key, _| {
        key.split_once(' ')
            .is_none_or(|(client, account)| !matches(client, account))
    });
    families.len()
}

/// Drops expired consent sessions, long-expired access tokens and codes, and long-ended
/// families. Runs at most once a simulated minute.
pub(super) fn sweep(world: &mut World, now: EpochMs) {
    let oauth = &mut world.oauth;
    if now - oauth.last_sweep_ms < SWEEP_EVERY_MS {
        return;
    }
    oauth.last_sweep_ms = now;
    oauth.pending.retain(|_, p| p.expires_at > now);
    oauth
        .access_tokens
        .retain(|_, t| t.expires_at + GRACE_MS > now);
    oauth.codes.retain(|_, c| c.expires_at + GRACE_MS > now);
    oauth.families.retain(|_, f| match f.ended {
        Some((at, _)) => at + ENDED_FAMILY_KEPT_MS > now,
        None => true,
    });
}

/// The sites a new token of `family` covers: every site of the grant the account still belongs
/// to.
fn granted_sites(world: &World, client_id: &str, account_id: &str) -> Vec<String> {
    world
        .oauth
        .grants
        .get(&grant_key(client_id, account_id))
        .map(|grant| {
            grant
                .cloud_ids
                .iter()
                .filter(|id| {
                    world
                        .site(id)
                        .is_some_and(|s| s.members.contains_key(account_id))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn mint_access(
    world: &mut World,
    family: &TokenFamily,
    now: EpochMs,
    settings: &Settings,
) -> String {
    let token = random_token(ACCESS_TOKEN_LEN);
    let cloud_ids = granted_sites(world, &family.client_id, &family.account_id);
    world.oauth.access_tokens.insert(
        token.clone(),
        AccessToken {
            account_id: family.account_id.clone(),
            client_id: family.client_id.clone(),
            scopes: family.scopes.clone(),
            cloud_ids,
            expires_at: now + secs(settings.access_token_ttl_secs),
            family_id: Some(family.id.clone()),
        },
    );
    token
}

fn mint_refresh(world: &mut World, family_id: &str, now: EpochMs) -> String {
    let token = random_token(REFRESH_TOKEN_LEN);
    world.oauth.refresh_tokens.insert(
        token.clone(),
        RefreshToken {
            family_id: family_id.to_owned(),
            issued_at: now,
        },
    );
    token
}

/// The granted scopes as the token response's space-separated `scope`.
fn scope_string(family: &TokenFamily) -> String {
    let scopes: Vec<&str> = family.scopes.iter().map(String::as_str).collect();
    scopes.join(" ")
}

fn secs(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::world::{Site, SiteRole};

    const CLIENT: &str = "client";
    const ADA: &str = "ada";
    const SITE: &str = "site-1";

    fn world() -> World {
        let mut world = World::default();
        world.sites.insert(
            SITE.to_owned(),
            Site {
                cloud_id: SITE.to_owned(),
                name: "acme".to_owned(),
                url: "http://sim/site/acme".to_owned(),
                members: [(ADA.to_owned(), SiteRole::SiteAdmin)]
                    .into_iter()
                    .collect(),
                groups: Default::default(),
                jira: Default::default(),
            },
        );
        world
    }

    fn code(world: &mut World, scopes: &[&str], now: EpochMs, settings: &Settings) -> String {
        issue_code(
            world,
            Approval {
                client_id: CLIENT.to_owned(),
                redirect_uri: "http://cb".to_owned(),
                account_id: ADA.to_owned(),
                cloud_id: SITE.to_owned(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            },
            now,
            settings,
        )
    }

    fn offline_pair(world: &mut World, settings: &Settings) -> Issued {
        let c = code(world, &["read:jira-work", "offline_access"], 0, settings);
        exchange_code(world, CLIENT, &c, "http://cb", 1, settings).unwrap()
    }

    #[test]
    fn a_code_is_single_use_and_its_reuse_revokes_the_tokens_it_produced() {
        let settings = Settings::default();
        let mut world = world();
        let c = code(&mut world, &["read:jira-work"], 0, &settings);
        let issued = exchange_code(&mut world, CLIENT, &c, "http://cb", 1, &settings).unwrap();
        assert!(issued.refresh_token.is_none());
        assert_eq!(issued.access_token.len(), ACCESS_TOKEN_LEN);
        let again = exchange_code(&mut world, CLIENT, &c, "http://cb", 2, &settings);
        assert_eq!(again.unwrap_err(), GrantError::CodeReused);
        assert!(!world.oauth.access_tokens.contains_key(&issued.access_token));
    }

    #[test]
    fn a_code_with_a_different_redirect_uri_is_refused_without_being_consumed() {
        let settings = Settings::default();
        let mut world = world();
        let c = code(&mut world, &["read:jira-work"], 0, &settings);
        let wrong = exchange_code(&mut world, CLIENT, &c, "http://other", 1, &settings);
        assert_eq!(wrong.unwrap_err(), GrantError::RedirectMismatch);
        assert!(exchange_code(&mut world, CLIENT, &c, "http://cb", 2, &settings).is_ok());
    }

    #[test]
    fn an_expired_code_is_refused() {
        let settings = Settings::default();
        let mut world = world();
        let c = code(&mut world, &["read:jira-work"], 0, &settings);
        let late = secs(settings.authorization_code_ttl_secs);
        let result = exchange_code(&mut world, CLIENT, &c, "http://cb", late, &settings);
        assert_eq!(result.unwrap_err(), GrantError::InvalidCode);
    }

    #[test]
    fn the_previous_token_is_reusable_inside_the_interval_only() {
        let settings = Settings::default();
        let mut world = world();
        let first = offline_pair(&mut world, &settings).refresh_token.unwrap();
        let (second, outcome) = refresh(&mut world, CLIENT, &first, 10, &settings).unwrap();
        assert_eq!(outcome, RefreshOutcome::Rotated);
        let (_, outcome) = refresh(&mut world, CLIENT, &first, 20, &settings).unwrap();
        assert_eq!(outcome, RefreshOutcome::ReusedWithinInterval);
        // The pair from the "lost" response is rotated out by the reuse: presenting it is a breach.
        let lost = second.refresh_token.unwrap();
        let breach = refresh(&mut world, CLIENT, &lost, 30, &settings);
        assert_eq!(breach.unwrap_err(), GrantError::RefreshReuseBreach);
        assert!(world.oauth.refresh_tokens.is_empty());
    }

    #[test]
    fn reuse_after_the_interval_revokes_the_family_and_its_access_tokens() {
        let settings = Settings::default();
        let mut world = world();
        let first = offline_pair(&mut world, &settings).refresh_token.unwrap();
        let (second, _) = refresh(&mut world, CLIENT, &first, 10, &settings).unwrap();
        let late = 10 + secs(settings.refresh_reuse_interval_secs);
        let breach = refresh(&mut world, CLIENT, &first, late, &settings);
        assert_eq!(breach.unwrap_err(), GrantError::RefreshReuseBreach);
        let newest = second.refresh_token.unwrap();
        let dead = refresh(&mut world, CLIENT, &newest, late + 1, &settings);
        assert_eq!(dead.unwrap_err(), GrantError::InvalidRefreshToken);
        assert!(world.oauth.access_tokens.is_empty());
    }

    #[test]
    fn an_idle_refresh_token_expires_and_the_absolute_lifetime_survives_rotation() {
        let settings = Settings {
            refresh_inactivity_secs: 100,
            refresh_absolute_secs: 250,
            ..Settings::default()
        };
        let mut world = world();
        let t = offline_pair(&mut world, &settings).refresh_token.unwrap();
        let (t, _) = refresh(&mut world, CLIENT, &t, 90_000, &settings).unwrap();
        let (t, _) = refresh(
            &mut world,
            CLIENT,
            &t.refresh_token.unwrap(),
            180_000,
            &settings,
        )
        .unwrap();
        let t = t.refresh_token.unwrap();
        let expired = refresh(&mut world, CLIENT, &t, 250_000, &settings);
        assert_eq!(expired.unwrap_err(), GrantError::RefreshExpired);

        let mut world = self::world();
        let t = offline_pair(&mut world, &settings).refresh_token.unwrap();
        let idle = refresh(&mut world, CLIENT, &t, 100_001, &settings);
        assert_eq!(idle.unwrap_err(), GrantError::RefreshExpired);
    }

    #[test]
    fn another_clients_refresh_token_is_unknown_and_harmless() {
        let settings = Settings::default();
        let mut world = world();
        let t = offline_pair(&mut world, &settings).refresh_token.unwrap();
        let other = refresh(&mut world, "other", &t, 5, &settings);
        assert_eq!(other.unwrap_err(), GrantError::InvalidRefreshToken);
        assert!(refresh(&mut world, CLIENT, &t, 6, &settings).is_ok());
    }

    #[test]
    fn the_token_state_survives_a_save_and_load() {
        let settings = Settings::default();
        let mut world = world();
        let first = offline_pair(&mut world, &settings).refresh_token.unwrap();
        let (second, _) = refresh(&mut world, CLIENT, &first, 10, &settings).unwrap();
        let text = serde_json::to_string(&world.oauth).unwrap();
        world.oauth = serde_json::from_str(&text).unwrap();
        let newest = second.refresh_token.unwrap();
        assert!(refresh(&mut world, CLIENT, &newest, 20, &settings).is_ok());
        assert!(authenticate_ok(&world, &second.access_token));
    }

    fn authenticate_ok(world: &World, token: &str) -> bool {
        super::super::authenticate(world, token, 30).is_ok()
    }

    #[test]
    fn revoking_an_account_ends_its_families_and_tokens() {
        let settings = Settings::default();
        let mut world = world();
        let issued = offline_pair(&mut world, &settings);
        assert_eq!(revoke_account(&mut world, Some(CLIENT), ADA, 5), 1);
        assert!(world.oauth.access_tokens.is_empty());
        assert!(world.oauth.grants.is_empty());
        let t = issued.refresh_token.unwrap();
        assert!(refresh(&mut world, CLIENT, &t, 6, &settings).is_err());
    }
}
