//! `nextPageToken`: an opaque, signed keyset cursor.
//!
//! A token records where the previous page ended (the last issue's sort values and id), a hash
//! of the request it belongs to (JQL, fields, reconciled ids) and its expiry (7 days, by the
//! simulated clock). A token presented with a different JQL, a tampered token or an expired one
//! is rejected with 400, so clients that change the query mid-pagination find out.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::order::SortVal;
use crate::clock::EpochMs;

/// How long a token stays valid.
pub const TOKEN_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// Where a page ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Hash of the request the token belongs to.
    #[serde(rename = "q")]
    pub request: String,
    /// Expiry instant.
    #[serde(rename = "x")]
    pub expires: EpochMs,
    /// Sort values of the last issue of the page.
    #[serde(rename = "k")]
    pub keys: Vec<SortVal>,
    /// Id of the last issue of the page.
    #[serde(rename = "i")]
    pub id: u64,
}

fn secret() -> &'static str {
    static SECRET: OnceLock<String> = OnceLock::new();
    SECRET.get_or_init(|| crate::util::random_token(32))
}

fn mac(payload: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret().as_bytes());
    hasher.update(payload.as_bytes());
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..12])
}

/// A short hash identifying a request (its JQL, fields and reconciled ids).
pub fn request_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..12])
}

/// Encodes a cursor as an opaque token.
pub fn encode(cursor: &Cursor) -> String {
    let json = serde_json::to_string(cursor).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json.as_bytes());
    let tag = mac(&payload);
    format!("{payload}.{tag}")
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this simulator issued, or issued for another request.
    Invalid,
    /// Older than [`TOKEN_TTL_MS`].
    Expired,
}

/// Decodes and checks a token for the request with hash `request` at `now`.
pub fn decode(token: &str, request: &str, now: EpochMs) -> Result<Cursor, TokenError> {
    let (payload, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
    if mac(payload) != tag {
        return Err(TokenError::Invalid);
    }
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Invalid)?;
    let cursor: Cursor = serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
    if cursor.request != request {
        return Err(TokenError::Invalid);
    }
    if now > cursor.expires {
        return Err(TokenError::Expired);
    }
    Ok(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor {
            request: request_hash(&["project = DEMO", "id"]),
            expires: 1_000,
            keys: vec![SortVal::Int(5), SortVal::Null],
            id: 10_042,
        }
    }

    #[test]
    fn a_token_round_trips_for_its_own_request() {
        let c = cursor();
        assert_eq!(decode(&encode(&c), &c.request, 999), Ok(c));
    }

    #[test]
    fn tokens_are_bound_to_the_request_and_expire() {
        let c = cursor();
        let token = encode(&c);
        let other = request_hash(&["project = OPS", "id"]);
        assert_eq!(decode(&token, &other, 0), Err(TokenError::Invalid));
        assert_eq!(decode(&token, &c.request, 1_001), Err(TokenError::Expired));
        let tampered = format!("A{token}");
        assert_eq!(decode(&tampered, &c.request, 0), Err(TokenError::Invalid));
        assert_eq!(decode("garbage", &c.request, 0), Err(TokenError::Invalid));
    }
}
