//! Verification of one webhook delivery: the `Authorization: Bearer <JWT>` Jira signs with the
//! OAuth app's client secret (HS256 only), its expiry and issue time, the query-string hash of
//! the receiver path when the token carries one, and the `X-Atlassian-Webhook-Identifier` that
//! deduplicates redeliveries. Errors are typed so the HTTP layer answers 401 or 400 (Jira stops
//! retrying those) and 503 for what may pass on a retry.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Clock skew tolerated on `exp` and `iat`, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// The header carrying a delivery's stable identifier (the same on every retry).
pub const IDENTIFIER_HEADER: &str = "x-atlassian-webhook-identifier";

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The token is not signed by an app we know, or uses another algorithm (HTTP 401).
    #[error("forged webhook delivery: {0}")]
    Forged(String),
    /// The token has expired or is issued in the future (HTTP 401).
    #[error("expired webhook delivery: {0}")]
    Expired(String),
    /// The request is not a webhook delivery (HTTP 400).
    #[error("malformed webhook delivery: {0}")]
    Malformed(String),
    /// The `X-Atlassian-Webhook-Identifier` header is missing or empty (HTTP 400).
    #[error("webhook delivery without an X-Atlassian-Webhook-Identifier header")]
    MissingIdentifier,
    /// The delivery could not be taken now (store failure, full queue): Jira should retry
    /// (HTTP 503).
    #[error("webhook delivery not taken now: {0}")]
    Unavailable(String),
}

impl DeliveryError {
    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Forged(_) | Self::Expired(_) => 401,
            Self::Malformed(_) | Self::MissingIdentifier => 400,
            Self::Unavailable(_) => 503,
        }
    }
}

/// The claims of a delivery token that are checked or reported.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeliveryClaims {
    /// `jira:{cloudId}` on Jira's tokens.
    #[serde(default)]
    pub iss: Option<String>,
    /// The app's client id.
    #[serde(default)]
    pub aud: Option<Value>,
    /// Issued at (epoch seconds).
    #[serde(default)]
    pub iat: Option<i64>,
    /// Expiry (epoch seconds); required.
    pub exp: i64,
    /// SHA-256 of `POST&{path}&{sorted query}`.
    #[serde(default)]
    pub qsh: Option<String>,
}

impl DeliveryClaims {
    /// The cloud id of `iss` (`jira:{cloudId}`), when present.
    pub fn cloud_id(&self) -> Option<&str> {
        self.iss.as_deref().and_then(|i| i.strip_prefix("jira:"))
    }
}

/// A delivery whose signature, times and identifier checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedDelivery {
    /// `X-Atlassian-Webhook-Identifier`.
    pub identifier: String,
    /// The token's claims.
    pub claims: DeliveryClaims,
    /// The JSON body.
    pub body: Value,
}

/// Verifies a delivery against `client_secret` at `now`, without a path check.
///
/// # Errors
/// [`DeliveryError`] naming what failed.
pub fn verify_delivery(
    headers: &HeaderMap,
    body: &[u8],
    client_secret: &str,
    now: DateTime<Utc>,
) -> Result<VerifiedDelivery, DeliveryError> {
    verify_delivery_at(headers, body, client_secret, now, None)
}

/// Verifies a delivery; with `receiver_path` (`/hooks/jira?x=1`), a `qsh` claim must hash it.
///
/// # Errors
/// [`DeliveryError`] naming what failed.
pub fn verify_delivery_at(
    headers: &HeaderMap,
    body: &[u8],
    client_secret: &str,
    now: DateTime<Utc>,
    receiver_path: Option<&str>,
) -> Result<VerifiedDelivery, DeliveryError> {
    let identifier = identifier(headers)?;
    let token = bearer(headers)?;
    let claims = verify_token(token, client_secret, now)?;
    if let (Some(qsh), Some(path)) = (claims.qsh.as_deref(), receiver_path)
        && !bool::from(qsh.as_bytes().ct_eq(query_string_hash(path).as_bytes()))
    {
        return Err(DeliveryError::Forged(format!(
            "the token's qsh is not for POST {path}"
        )));
    }
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| DeliveryError::Malformed(format!("the body is not JSON: {e}")))?;
    Ok(VerifiedDelivery {
        identifier,
        claims,
        body,
    })
}

/// The delivery identifier header.
///
/// # Errors
/// [`DeliveryError::MissingIdentifier`].
pub fn identifier(headers: &HeaderMap) -> Result<String, DeliveryError> {
    headers
        .get(IDENTIFIER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or(DeliveryError::MissingIdentifier)
}

fn bearer(headers: &HeaderMap) -> Result<&str, DeliveryError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or_else(|| DeliveryError::Forged("no Authorization header".to_owned()))?
        .to_str()
        .map_err(|_| DeliveryError::Malformed("the Authorization header is not text".to_owned()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| DeliveryError::Malformed("the Authorization header is not Bearer".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(DeliveryError::Malformed(
            "the Authorization header is not Bearer".into(),
        ));
    }
    Ok(token.trim())
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

fn decode_part(part: &str, what: &str) -> Result<Vec<u8>, DeliveryError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| DeliveryError::Malformed(format!("the token's {what} is not base64url")))
}

/// Checks an HS256 token's signature and times; returns its claims.
fn verify_token(
    token: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<DeliveryClaims, DeliveryError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DeliveryError::Malformed(
            "the bearer token is not a JWT (three dot-separated parts)".into(),
        ));
    };
    let jwt_header: JwtHeader = serde_json::from_slice(&decode_part(header, "header")?)
        .map_err(|e| DeliveryError::Malformed(format!("the token header: {e}")))?;
    // Only the algorithm Jira uses: `none` or an asymmetric algorithm keyed with the secret as
    // a "public key" are the classic JWT forgeries.
    if jwt_header.alg != "HS256" {
        return Err(DeliveryError::Forged(format!(
            "token algorithm {:?} is not HS256",
            jwt_header.alg
        )));
    }
    let signature = decode_part(signature, "signature")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| DeliveryError::Unavailable("the client secret cannot key HMAC".into()))?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    let expected = mac.finalize().into_bytes();
    if !bool::from(expected.as_slice().ct_eq(signature.as_slice())) {
        return Err(DeliveryError::Forged(
            "the token's signature does not match the app's client secret".into(),
        ));
    }
    let claims: DeliveryClaims = serde_json::from_slice(&decode_part(payload, "claims")?)
        .map_err(|e| DeliveryError::Malformed(format!("the token claims: {e}")))?;
    let now_secs = now.timestamp();
    if claims.exp + LEEWAY_SECS < now_secs {
        return Err(DeliveryError::Expired(format!(
            "the token expired at {} (now {now_secs})",
            claims.exp
        )));
    }
    if let Some(iat) = claims.iat
        && iat > now_secs + LEEWAY_SECS
    {
        return Err(DeliveryError::Expired(format!(
            "the token is issued in the future ({iat}, now {now_secs})"
        )));
    }
    Ok(claims)
}

/// Atlassian's query-string hash of a POST to `path_and_query`.
pub fn query_string_hash(path_and_query: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut pairs: Vec<(String, String)> = url_pairs(query);
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let path = if path.is_empty() { "/" } else { path };
    let digest = Sha256::digest(format!("POST&{path}&{}", query.join("&")).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
