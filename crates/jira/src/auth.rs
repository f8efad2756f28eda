//! Bearer tokens and where the client gets them. The client never stores credentials itself: it
//! asks a [`TokenProvider`] before every attempt and, when Jira rejects a token, tells the provider
//! which token failed so it can refresh (the OAuth crate implements this against its token store;
//! [`StaticToken`] serves a fixed token for tests and API-token setups).

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::error::Error;

/// An OAuth access token. `Debug` is redacted and there is no `Serialize`, so it cannot leak into
/// logs or JSON by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(Arc<str>);

impl BearerToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Arc::from(token.into()))
    }

    /// The token text, for the `Authorization` header only.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// Supplies access tokens to the client.
///
/// # Invariants
/// `invalidate(seen)` must only discard the token if it is still `seen`: several requests can fail
/// with the same stale token at once, and only the first should cause a refresh (refresh tokens
/// rotate, so parallel refreshes invalidate each other).
pub trait TokenProvider: Send + Sync + 'static {
    /// A token valid now (refreshing first if the provider knows it is about to expire).
    fn token(&self) -> BoxFuture<'_, Result<BearerToken, Error>>;

    /// Jira rejected `seen`; the next [`token`](Self::token) call should return a fresh one.
    fn invalidate(&self, seen: &BearerToken);
}

/// A fixed token; `invalidate` does nothing, so a rejected token fails on the second attempt.
pub struct StaticToken {
    token: BearerToken,
}

impl StaticToken {
    /// Serves `token` forever.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: BearerToken::new(token),
        }
    }

    /// Convenience: the provider as the `Arc<dyn TokenProvider>` the client builder takes.
    pub fn shared(token: impl Into<String>) -> Arc<dyn TokenProvider> {
        Arc::new(Self::new(token))
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticToken").finish_non_exhaustive()
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<BearerToken, Error>> {
        let token = self.token.clone();
        Box::pin(async move { Ok(token) })
    }

    fn invalidate(&self, _seen: &BearerToken) {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = BearerToken::new("s3cret");
        assert!(!format!("{token:?}").contains("s3cret"));
        assert!(!format!("{:?}", StaticToken::new("s3cret")).contains("s3cret"));
    }
}
