//! Watchers of an issue (`GET /issue/{key}/watchers`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::wire::user::UserDetails;

/// The watchers of an issue.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Watchers {
    /// Whether the calling user watches the issue.
    #[serde(default)]
    pub is_watching: Option<bool>,
    /// Number of watchers (may exceed `watchers` when some are hidden).
    #[serde(default)]
    pub watch_count: Option<u64>,
    /// The watchers the caller may see.
    #[serde(default)]
    pub watchers: Vec<UserDetails>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
