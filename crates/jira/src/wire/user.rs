//! Users (`/myself`, user search), the [`UserDetails`] other resources embed (issue people
//! fields, authors, leads, watchers, group members) and server info.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::AccountId;
use crate::time::Timestamp;

/// A Jira user. Privacy settings can hide `emailAddress` and `timeZone`; deleted users keep an
/// `accountId` but little else.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The account id (the only user key REST v3 accepts).
    pub account_id: AccountId,
    /// `atlassian`, `app` or `customer`.
    #[serde(default)]
    pub account_type: Option<String>,
    /// Whether the account is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Email, when the user's privacy settings allow.
    #[serde(default)]
    pub email_address: Option<String>,
    /// IANA time zone (needed to format absolute JQL dates), when visible.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Locale (`en_US`).
    #[serde(default)]
    pub locale: Option<String>,
    /// Link to the user resource (site host; do not follow with a 3LO token).
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Everything else (`avatarUrls`, `groups`, `applicationRoles`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user as other resources embed it (`UserDetails`): issue people fields, comment and
/// attachment authors, project leads, watchers, group members. Trimmed payloads (and anonymous or
/// deleted authors) may lack the account id, so every member is optional. Absent members stay
/// absent when serialized, so `IssueFields::get` hands back what Jira sent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDetails {
    /// Account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Email, when privacy settings allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Whether the account is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Everything else (`avatarUrls`, `timeZone`, `self`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /serverInfo`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The site's base URL (`https://x.atlassian.net`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Version string.
    #[serde(default)]
    pub version: Option<String>,
    /// `Cloud` for Jira Cloud.
    #[serde(default)]
    pub deployment_type: Option<String>,
    /// Build number.
    #[serde(default)]
    pub build_number: Option<i64>,
    /// The server's clock, for skew checks.
    #[serde(default, with = "crate::time::option")]
    pub server_time: Option<Timestamp>,
    /// Server title.
    #[serde(default)]
    pub server_title: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
