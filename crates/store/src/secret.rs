//! Secret newtypes. Each wraps a [`SecretString`], so `Debug` prints `[REDACTED]`, the memory is
//! zeroed on drop, and none of them implements `Serialize`: a secret can only leave the process
//! through an explicit [`ExposeSecret::expose_secret`] call at the point of use (an HTTP header or
//! form body), never through logging or a JSON response by accident.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            #[must_use]
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The clear value, for the single place that must send it.
            #[must_use]
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}([REDACTED])", stringify!($name))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl ExposeSecret<str> for $name {
            fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
        }
    };
}

secret_type!(
    /// An OAuth app's client secret.
    ClientSecret
);
secret_type!(
    /// An OAuth access token (opaque, unbounded length; never parsed).
    AccessToken
);
secret_type!(
    /// An OAuth refresh token. Atlassian rotates it on every use.
    RefreshToken
);
secret_type!(
    /// A jiraflow API key in clear, shown once when created and afterwards only presented by
    /// clients; the store keeps its SHA-256 hash.
    ApiKeySecret
);
secret_type!(
    /// An OAuth `state` value in clear, handed to the browser once; the store keeps its hash.
    StateToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let token = AccessToken::new("very-secret-access-token");
        let shown = format!("{token:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert_eq!(shown, "AccessToken([REDACTED])");
    }

    #[test]
    fn expose_returns_the_clear_value_for_the_point_of_use() {
        assert_eq!(RefreshToken::new("r-1").expose(), "r-1");
    }
}
