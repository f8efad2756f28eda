//! The auth.atlassian.com role: OAuth 2.0 (3LO) authorization code flow with rotating refresh
//! tokens, plus the gateway's `accessible-resources` and the site's `_edge/tenant_info`.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::clock::EpochMs;
use crate::state::SimState;
use crate::world::{AccountId, CloudId, World};

/// Token state: access tokens by value. (Codes and refresh families are added by the OAuth
/// server.)
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OAuthState {
    /// Live access tokens by token value.
    pub access_tokens: BTreeMap<String, AccessToken>,
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
        },
    );
    token
}

/// Routes of the auth role (`/authorize`, `/oauth/token`, ...).
pub fn routes() -> Router<SimState> {
    Router::new()
}
