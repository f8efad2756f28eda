//! Response bodies in the shapes of the official spec (`User`, `IssueBean`, `Comment`, ...),
//! rendered from the world model. Every endpoint that returns these entities renders them here.

use serde_json::{Value, json};

use crate::world::{Site, User};

/// Base URL of a site's REST v3 API as it appears in `self` links (the site host, not the
/// gateway, exactly as real Jira does).
pub fn rest_base(site: &Site) -> String {
    format!("{}/rest/api/3", site.url)
}

/// Avatar URLs for an account (Jira always returns the four sizes).
pub fn avatar_urls(account_id: &str) -> Value {
    let base = format!("https://avatar-management.example/avatars/{account_id}");
    json!({
        "48x48": format!("{base}/48"),
        "24x24": format!("{base}/24"),
        "16x16": format!("{base}/16"),
        "32x32": format!("{base}/32"),
    })
}

/// A `User` as embedded in other entities (`UserDetails`: no groups, no application roles).
pub fn user_details(site: &Site, user: &User) -> Value {
    let mut body = json!({
        "self": format!("{}/user?accountId={}", rest_base(site), user.account_id),
        "accountId": user.account_id,
        "avatarUrls": avatar_urls(&user.account_id),
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": user.time_zone,
        "accountType": user.account_type,
    });
    if let (Some(email), Some(obj)) = (&user.email, body.as_object_mut()) {
        obj.insert("emailAddress".to_owned(), json!(email));
    }
    body
}

/// A full `User` (as `/myself` and `/user/search` return it).
pub fn user(site: &Site, user: &User) -> Value {
    let mut body = user_details(site, user);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("locale".to_owned(), json!(user.locale));
    }
    body
}
