//! The auth.atlassian.com role: OAuth 2.0 (3LO) authorization code flow with rotating refresh
//! tokens, plus the gateway's `accessible-resources` and the site's `_edge/tenant_info`.
//!
//! This module owns the token state of the world ([`OAuthState`]) and the lookup the gateway does
//! on every API call ([`authenticate`]). The submodules own the consent pages (`authorize`,
//! `pages`), the token endpoint (`token`), the token rules (`grants`) and the two discovery
//! endpoints (`resources`). The rules are described in `docs/simulator-oauth.md`.

mod authorize;
mod grants;
mod pages;
mod resources;
mod token;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::EpochMs;
use crate::state::SimState;
use crate::world::{AccountId, CloudId, World};

pub use grants::revoke_account;

/// Token state: consent sessions, authorization codes, grants, refresh-token families and access
/// tokens. Persisted with the world, so every part is serialisable.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthState {
    /// Live access tokens by token value (the gateway's hot-path lookup).
    pub access_tokens: BTreeMap<String, AccessToken>,
    /// Refresh tokens by token value: the current and previous token of every live family, plus
    /// a bounded tail of older rotated-out tokens kept for reuse detection.
    pub refresh_tokens: BTreeMap<String, RefreshToken>,
    /// Token families by id. One family per authorization-code exchange.
    pub families: BTreeMap<String, TokenFamily>,
    /// Authorization codes by value, kept after redemption (until a day past expiry) so a reused
    /// code can be detected.
    pub codes: BTreeMap<String, AuthCode>,
    /// Consent-page sessions by id.
    pub pending: BTreeMap<String, PendingAuthorization>,
    /// What each account granted each app: one grant per (app, account), keyed
    /// `"{client_id} {account_id}"`.
    pub grants: BTreeMap<String, Grant>,
    /// When expired entries were last swept (simulated clock).
    pub last_sweep_ms: EpochMs,
}

/// An issued access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    /// The account the token acts for.
    pub account_id: AccountId,
    /// The app it was issued to.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: BTreeSet<String>,
    /// Sites the grant covers.
    pub cloud_ids: Vec<CloudId>,
    /// Expiry instant.
    pub expires_at: EpochMs,
    /// The family the token belongs to; `None` for tokens issued without consent (the ready
    /// line's admin token, test tokens).
    #[serde(default)]
    pub family_id: Option<String>,
}

/// A refresh token's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    /// The family it belongs to.
    pub family_id: String,
    /// When it was issued; inactivity expiry counts from here.
    pub issued_at: EpochMs,
}

/// Why a token family ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FamilyEnd {
    /// A rotated-out refresh token was presented after the reuse interval (breach detection).
    RefreshReuse,
    /// The authorization code that started the family was presented again.
    CodeReuse,
    /// The refresh token was not used for `refresh_inactivity_secs`.
    InactivityExpired,
    /// `refresh_absolute_secs` passed since the first consent.
    AbsoluteExpired,
    /// The grant was revoked (the user removed the app, or the admin API did).
    Revoked,
}

/// A refresh-token family: everything minted from one authorization-code exchange.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenFamily {
    /// Family id.
    pub id: String,
    /// The app.
    pub client_id: String,
    /// The account.
    pub account_id: AccountId,
    /// Scopes granted at consent.
    pub scopes: BTreeSet<String>,
    /// The consent instant; the absolute expiry counts from here and survives rotations.
    pub consented_at: EpochMs,
    /// The latest refresh token (`None` without `offline_access`, or once the family ended).
    pub current: Option<String>,
    /// The refresh token `current` replaced; usable until `previous_rotated_at` plus the reuse
    /// interval.
    pub previous: Option<String>,
    /// When `previous` was rotated out.
    pub previous_rotated_at: EpochMs,
    /// Older rotated-out tokens still recognised (oldest first, bounded), so presenting one is
    /// detected as reuse rather than answered as unknown.
    #[serde(default)]
    pub stale: VecDeque<String>,
    /// Successful refreshes.
    pub refreshes: u64,
    /// When and why the family ended; `None` while alive.
    pub ended: Option<(EpochMs, FamilyEnd)>,
}

/// An authorization code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCode {
    /// The app it was issued to.
    pub client_id: String,
    /// The `redirect_uri` of the authorization request; the exchange must repeat it exactly.
    pub redirect_uri: String,
    /// The consenting account.
    pub account_id: AccountId,
    /// The site chosen on the consent page.
    pub cloud_id: CloudId,
    /// Granted scopes, in request order.
    pub scopes: Vec<String>,
    /// Consent instant.
    pub issued_at: EpochMs,
    /// Expiry instant.
    pub expires_at: EpochMs,
    /// The family its exchange created, once redeemed.
    pub redeemed_family: Option<String>,
}

/// A consent-page session between `GET /authorize` and the Accept/Deny answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// Session id (a hidden form field).
    pub id: String,
    /// The app.
    pub client_id: String,
    /// The validated redirect URI.
    pub redirect_uri: String,
    /// Requested scopes, in request order.
    pub scopes: Vec<String>,
    /// The client's `state`, echoed on the redirect.
    pub state: String,
    /// Pre-fills the login field.
    pub login_hint: Option<String>,
    /// The logged-in account, once the login form succeeded.
    pub account_id: Option<AccountId>,
    /// Form token every POST must echo; replaced after login so the login page's token cannot
    /// answer the consent form.
    pub form_token: String,
    /// Expiry instant.
    pub expires_at: EpochMs,
}

/// What an account has granted an app: the sites consented to so far. Tokens of every family of
/// the grant cover all of them, as Atlassian's `accessible-resources` lists every granted site.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Grant {
    /// Sites consented to.
    pub cloud_ids: BTreeSet<CloudId>,
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No such token (never issued, or revoked).
    Unknown,
    /// The token was valid but has expired.
    Expired,
}

/// Looks up a bearer token.
pub fn authenticate(world: &World, token: &str, now: EpochMs) -> Result<AccessToken, TokenProblem> {
    let access = world
        .oauth
        .access_tokens
        .get(token)
        .ok_or(TokenProblem::Unknown)?;
    if access.expires_at <= now {
        return Err(TokenProblem::Expired);
    }
    Ok(access.clone())
}

/// Issues an access token directly (no consent), used for the ready line's `admin_token`.
pub fn issue_static_token(
    world: &mut World,
    account_id: &str,
    client_id: &str,
    scopes: &[&str],
    expires_at: EpochMs,
) -> String {
    let token = crate::util::random_token(48);
    let cloud_ids = world
        .sites
        .values()
        .filter(|s| s.members.contains_key(account_id))
        .map(|s| s.cloud_id.clone())
        .collect();
    world.oauth.access_tokens.insert(
        token.clone(),
        AccessToken {
            account_id: account_id.to_owned(),
            client_id: client_id.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            cloud_ids,
            expires_at,
            family_id: None,
        },
    );
    token
}

/// A summary of the token state for the admin API: families alive and ended (by reason), live
/// and expired access tokens, recognised refresh tokens, open consent sessions and codes.
pub fn token_stats(world: &World, now: EpochMs) -> serde_json::Value {
    let oauth = &world.oauth;
    let mut ended: BTreeMap<String, u64> = BTreeMap::new();
    let mut alive = 0u64;
    for family in oauth.families.values() {
        match family.ended {
            None => alive += 1,
            Some((_, reason)) => {
                let key = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                *ended.entry(key).or_default() += 1;
            }
        }
    }
    let live_access = oauth
        .access_tokens
        .values()
        .filter(|t| t.expires_at > now)
        .count();
    let redeemed = oauth
        .codes
        .values()
        .filter(|c| c.redeemed_family.is_some())
        .count();
    json!({
        "families": {
            "alive": alive,
            "ended": ended.values().sum::<u64>(),
            "endedByReason": ended,
        },
        "accessTokens": {
            "live": live_access,
            "expired": oauth.access_tokens.len() - live_access,
        },
        "refreshTokens": oauth.refresh_tokens.len(),
        "authorizationCodes": {
            "unredeemed": oauth.codes.len() - redeemed,
            "redeemed": redeemed,
        },
        "pendingAuthorizations": oauth.pending.len(),
        "grants": oauth.grants.len(),
    })
}

/// Routes of the auth role (`/authorize`, `/oauth/token`, ...), the gateway's
/// `accessible-resources` and the sites' `_edge/tenant_info`.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/login", post(authorize::login))
        .route(
            "/authorize/consent",
            get(authorize::consent_page).post(authorize::consent),
        )
        .route("/oauth/token", post(token::token))
        .route(
            "/oauth/token/accessible-resources",
            get(resources::accessible_resources),
        )
        .route(
            "/site/{name}/_edge/tenant_info",
            get(resources::tenant_info),
        )
}
