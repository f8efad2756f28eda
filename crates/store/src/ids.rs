//! Identifier newtypes. Every stored record is keyed by a random UUID (v4) kept as TEXT, so ids
//! never reveal creation order or counts and the same values work in PostgreSQL later. Distinct
//! types keep a connection id from being passed where a token family id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing UUID.
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies a jiraflow user.
    UserId
);
id_type!(
    /// Identifies an API key (not the key itself, which is a secret).
    ApiKeyId
);
id_type!(
    /// Identifies an OAuth app (an "external credential": client id and secret).
    OAuthAppId
);
id_type!(
    /// Identifies a connection to one Jira Cloud site.
    ConnectionId
);
id_type!(
    /// Identifies a token family: one consent's access and refresh token lineage.
    TokenFamilyId
);
id_type!(
    /// Identifies a named credential (URL + external credential + one principal).
    NamedCredentialId
);
id_type!(
    /// Identifies a pending authorization (an OAuth `state` awaiting its callback).
    PendingAuthId
);
id_type!(
    /// Identifies one refresh lease taken on a token family.
    LeaseId
);
id_type!(
    /// Identifies one run of a flow.
    RunId
);
id_type!(
    /// Identifies a file object (its record and its content).
    FileId
);
