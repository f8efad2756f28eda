//! Initial worlds: `demo` (sites, users, groups, projects, issues with comments, attachments,
//! watchers and links) and `empty` (the app, users and site configuration only), plus the ready
//! line built from them.

mod catalog;
mod demo;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::clock::EpochMs;
use crate::config::{SeedKind, SimConfig};
use crate::server::ReadyInfo;
use crate::state::SimUrls;
use crate::world::{App, Group, Site, SiteRole, User, World};

/// Every classic scope the connector uses, plus refresh and webhooks.
pub const CLASSIC_SCOPES: &[&str] = &[
    "read:jira-user",
    "read:jira-work",
    "write:jira-work",
    "manage:jira-project",
    "manage:jira-configuration",
    "manage:jira-webhook",
    "offline_access",
];

/// Account id of the seeded site admin (Ada).
pub const ADMIN_ACCOUNT: &str = "5f1a00000000000000000a01";
/// Account id of a plain member in UTC-10 (Bob, Pacific/Honolulu).
pub const MEMBER_ACCOUNT: &str = "5f1a00000000000000000b02";
/// Account id of a plain member in UTC+13 (Kiri, Pacific/Tongatapu).
pub const MEMBER_PLUS13_ACCOUNT: &str = "5f1a00000000000000000c03";
/// Account id of a Jira admin who is not a site admin (Jo).
pub const JIRA_ADMIN_ACCOUNT: &str = "5f1a00000000000000000d04";
/// Account id of a security-team member who can browse the restricted project (Sam).
pub const SECURITY_ACCOUNT: &str = "5f1a00000000000000000e05";
/// Cloud id of the first site (`acme`).
pub const ACME_CLOUD_ID: &str = "a1b2c3d4-0000-4000-8000-00000000ac3e";
/// Cloud id of the second site (`globex`).
pub const GLOBEX_CLOUD_ID: &str = "a1b2c3d4-0000-4000-8000-0000000610b3";
/// Password of every seeded account on the consent page.
pub const SEED_PASSWORD: &str = "sandbox";

/// Builds the initial world for `config`.
pub fn build(config: &SimConfig, urls: &SimUrls, now: EpochMs) -> World {
    let mut world = World::default();
    let client_id = config
        .client_id
        .clone()
        .unwrap_or_else(|| crate::util::random_token(32));
    let client_secret = config
        .client_secret
        .clone()
        .unwrap_or_else(|| crate::util::random_token(64));
    let mut redirect_uris = vec![
        "http://127.0.0.1:8080/oauth/callback".to_owned(),
        "http://localhost:8080/oauth/callback".to_owned(),
    ];
    redirect_uris.extend(config.redirect_uris.iter().cloned());
    world.apps.insert(
        client_id.clone(),
        App {
            client_id,
            client_secret,
            name: "jiraflow".to_owned(),
            redirect_uris,
            scopes: CLASSIC_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            owner: Some(ADMIN_ACCOUNT.to_owned()),
        },
    );
    for (id, name, login, tz, email_visible) in [
        (ADMIN_ACCOUNT, "Ada Admin", "ada@acme.example", "UTC", true),
        (
            MEMBER_ACCOUNT,
            "Bob Builder",
            "bob@acme.example",
            "Pacific/Honolulu",
            true,
        ),
        (
            MEMBER_PLUS13_ACCOUNT,
            "Kiri Tane",
            "kiri@acme.example",
            "Pacific/Tongatapu",
            false,
        ),
        (
            JIRA_ADMIN_ACCOUNT,
            "Jo Jira-Admin",
            "jo@acme.example",
            "Europe/Berlin",
            true,
        ),
        (
            SECURITY_ACCOUNT,
            "Sam Secure",
            "sam@acme.example",
            "America/New_York",
            true,
        ),
    ] {
        world.users.insert(
            id.to_owned(),
            User {
                account_id: id.to_owned(),
                display_name: name.to_owned(),
                email: email_visible.then(|| login.to_owned()),
                login: login.to_owned(),
                password: SEED_PASSWORD.to_owned(),
                time_zone: tz.to_owned(),
                locale: "en_US".to_owned(),
                account_type: "atlassian".to_owned(),
                active: true,
            },
        );
    }
    let acme = new_site(
        urls,
        ACME_CLOUD_ID,
        "acme",
        &[
            (ADMIN_ACCOUNT, SiteRole::SiteAdmin),
            (MEMBER_ACCOUNT, SiteRole::Member),
            (MEMBER_PLUS13_ACCOUNT, SiteRole::Member),
            (JIRA_ADMIN_ACCOUNT, SiteRole::JiraAdmin),
            (SECURITY_ACCOUNT, SiteRole::Member),
        ],
    );
    let globex = new_site(
        urls,
        GLOBEX_CLOUD_ID,
        "globex",
        &[
            (ADMIN_ACCOUNT, SiteRole::SiteAdmin),
            (MEMBER_ACCOUNT, SiteRole::Member),
        ],
    );
    world.sites.insert(acme.cloud_id.clone(), acme);
    world.sites.insert(globex.cloud_id.clone(), globex);
    if config.seed == SeedKind::Demo {
        demo::seed_demo_content(&mut world, now);
    }
    world
}

/// Issues the ready line's admin token and assembles the ready information.
pub fn ready_info(world: &mut World, urls: &SimUrls, now: EpochMs) -> ReadyInfo {
    let (client_id, client_secret, redirect_uris) = world
        .apps
        .values()
        .next()
        .map(|a| {
            (
                a.client_id.clone(),
                a.client_secret.clone(),
                a.redirect_uris.clone(),
            )
        })
        .unwrap_or_default();
    let (cloud_id, site_url) = world
        .sites
        .get(ACME_CLOUD_ID)
        .or_else(|| world.sites.values().next())
        .map(|s| (s.cloud_id.clone(), s.url.clone()))
        .unwrap_or_default();
    let admin_token = crate::oauth::issue_static_token(
        world,
        ADMIN_ACCOUNT,
        &client_id,
        CLASSIC_SCOPES,
        now + 365 * 24 * 3600 * 1000,
    );
    ReadyInfo {
        auth_url: urls.auth_url.clone(),
        api_url: urls.api_url.clone(),
        jira_base_url: format!("{}/ex/jira/{cloud_id}", urls.api_url),
        site_url,
        cloud_id,
        media_url: urls.media_url.clone(),
        client_id,
        client_secret,
        redirect_uris,
        admin_token,
        admin_account_id: ADMIN_ACCOUNT.to_owned(),
        sim_admin_url: format!("{}/_sim", urls.api_url),
    }
}

/// A site with the standard configuration and default groups (`site-admins`,
/// `jira-software-users`, `security-team`, `developers`). `cloud_id` must be a UUID string.
pub fn new_site(urls: &SimUrls, cloud_id: &str, name: &str, members: &[(&str, SiteRole)]) -> Site {
    let members: BTreeMap<String, SiteRole> =
        members.iter().map(|(a, r)| ((*a).to_owned(), *r)).collect();
    let mut groups = BTreeMap::new();
    let mut add_group = |id: &str, name: &str, who: Vec<&str>| {
        groups.insert(
            id.to_owned(),
            Group {
                group_id: id.to_owned(),
                name: name.to_owned(),
                members: who.into_iter().map(str::to_owned).collect(),
            },
        );
    };
    let everyone: Vec<&str> = members.keys().map(String::as_str).collect();
    add_group(
        &format!("{}-0000-4000-8000-000000000001", &cloud_id[..8]),
        "site-admins",
        everyone
            .iter()
            .copied()
            .filter(|a| members.get(*a) == Some(&SiteRole::SiteAdmin))
            .collect(),
    );
    add_group(
        &format!("{}-0000-4000-8000-000000000002", &cloud_id[..8]),
        "jira-software-users",
        everyone.clone(),
    );
    add_group(
        &format!("{}-0000-4000-8000-000000000003", &cloud_id[..8]),
        "security-team",
        everyone
            .iter()
            .copied()
            .filter(|a| *a == crate::seed::SECURITY_ACCOUNT)
            .collect(),
    );
    add_group(
        &format!("{}-0000-4000-8000-000000000004", &cloud_id[..8]),
        "developers",
        everyone
            .iter()
            .copied()
            .filter(|a| *a == MEMBER_ACCOUNT || *a == MEMBER_PLUS13_ACCOUNT)
            .collect(),
    );
    Site {
        cloud_id: cloud_id.to_owned(),
        name: name.to_owned(),
        url: format!("{}/{name}", urls.sites_base),
        members,
        groups,
        jira: catalog::site_configuration(),
    }
}

/// A one-paragraph ADF document.
pub fn adf_paragraph(text: &str) -> Value {
    json!({
        "type": "doc",
        "version": 1,
        "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": text }] }]
    })
}
