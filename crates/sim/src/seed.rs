//! Initial worlds: `demo` (sites, users, groups, projects, issues with comments, attachments,
//! watchers and links) and `empty` (the app, users and site configuration only), plus the ready
//! line built from them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::clock::EpochMs;
use crate::config::{SeedKind, SimConfig};
use crate::server::ReadyInfo;
use crate::state::SimUrls;
use crate::world::{
    App, Attachment, Comment, FieldDef, FieldKind, Group, Issue, IssueLink, IssueType, JiraData,
    LinkType, Priority, Project, Site, SiteRole, SiteSettings, Status, StatusCategory, Transition,
    User, World,
};

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
        seed_demo_content(&mut world, now);
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
        jira: site_configuration(),
    }
}

fn site_configuration() -> JiraData {
    let issue_type = |id: &str, name: &str, subtask: bool, level: i32| IssueType {
        id: id.to_owned(),
        name: name.to_owned(),
        description: format!("A {}.", name.to_lowercase()),
        subtask,
        hierarchy_level: level,
    };
    let status = |id: &str, name: &str, category| Status {
        id: id.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        category,
    };
    let transition = |id: &str, name: &str, from: &[&str], to: &str, resolves| Transition {
        id: id.to_owned(),
        name: name.to_owned(),
        from: from.iter().map(|s| (*s).to_owned()).collect(),
        to: to.to_owned(),
        resolves,
    };
    let priority = |id: &str, name: &str, color: &str, default| Priority {
        id: id.to_owned(),
        name: name.to_owned(),
        status_color: color.to_owned(),
        is_default: default,
    };
    let field = |id: &str, name: &str, kind, options: &[(&str, &str)]| {
        (
            id.to_owned(),
            FieldDef {
                id: id.to_owned(),
                name: name.to_owned(),
                kind,
                options: options
                    .iter()
                    .map(|(i, v)| ((*i).to_owned(), (*v).to_owned(), Vec::new()))
                    .collect(),
            },
        )
    };
    let mut custom_fields: BTreeMap<String, FieldDef> = [
        field("customfield_10016", "Story Points", FieldKind::Number, &[]),
        field(
            "customfield_10020",
            "Team",
            FieldKind::Select,
            &[
                ("10100", "Platform"),
                ("10101", "Payments"),
                ("10102", "Mobile"),
            ],
        ),
        field(
            "customfield_10021",
            "Severity",
            FieldKind::Select,
            &[("10110", "S1"), ("10111", "S2"), ("10112", "S3")],
        ),
        field(
            "customfield_10022",
            "Components Affected",
            FieldKind::MultiSelect,
            &[("10120", "API"), ("10121", "Web"), ("10122", "Worker")],
        ),
        field(
            "customfield_10030",
            "Acceptance Criteria",
            FieldKind::TextArea,
            &[],
        ),
        field(
            "customfield_10040",
            "External Reference",
            FieldKind::TextField,
            &[],
        ),
        field("customfield_10050", "Reviewer", FieldKind::User, &[]),
        field("customfield_10060", "Start Date", FieldKind::Date, &[]),
        field("customfield_10061", "Deployed At", FieldKind::DateTime, &[]),
        field("customfield_10070", "Tags", FieldKind::Labels, &[]),
    ]
    .into_iter()
    .collect();
    custom_fields.insert(
        "customfield_10080".to_owned(),
        FieldDef {
            id: "customfield_10080".to_owned(),
            name: "Region".to_owned(),
            kind: FieldKind::Cascading,
            options: vec![
                (
                    "10130".to_owned(),
                    "Europe".to_owned(),
                    vec![
                        ("10131".to_owned(), "Berlin".to_owned()),
                        ("10132".to_owned(), "Paris".to_owned()),
                    ],
                ),
                (
                    "10133".to_owned(),
                    "Americas".to_owned(),
                    vec![
                        ("10134".to_owned(), "Toronto".to_owned()),
                        ("10135".to_owned(), "Lima".to_owned()),
                    ],
                ),
            ],
        },
    );
    JiraData {
        issue_types: vec![
            issue_type("10000", "Epic", false, 1),
            issue_type("10001", "Task", false, 0),
            issue_type("10002", "Bug", false, 0),
            issue_type("10003", "Story", false, 0),
            issue_type("10004", "Subtask", true, -1),
        ],
        statuses: vec![
            status("10000", "To Do", StatusCategory::ToDo),
            status("3", "In Progress", StatusCategory::InProgress),
            status("10001", "In Review", StatusCategory::InProgress),
            status("10002", "Done", StatusCategory::Done),
        ],
        transitions: vec![
            transition("11", "Start Progress", &["10000"], "3", false),
            transition("21", "Request Review", &["3"], "10001", false),
            transition("31", "Done", &[], "10002", true),
            transition("41", "Reopen", &["10002"], "10000", false),
            transition("51", "Back to To Do", &["3", "10001"], "10000", false),
        ],
        priorities: vec![
            priority("1", "Highest", "#d04437", false),
            priority("2", "High", "#f15c75", false),
            priority("3", "Medium", "#f79232", true),
            priority("4", "Low", "#707070", false),
            priority("5", "Lowest", "#999999", false),
        ],
        custom_fields,
        link_types: vec![
            link_type("10000", "Blocks", "is blocked by", "blocks"),
            link_type("10001", "Cloners", "is cloned by", "clones"),
            link_type("10002", "Duplicate", "is duplicated by", "duplicates"),
            link_type("10003", "Relates", "relates to", "relates to"),
        ],
        settings: SiteSettings::default(),
        ..JiraData::default()
    }
}

fn link_type(id: &str, name: &str, inward: &str, outward: &str) -> LinkType {
    LinkType {
        id: id.to_owned(),
        name: name.to_owned(),
        inward: inward.to_owned(),
        outward: outward.to_owned(),
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

fn seed_demo_content(world: &mut World, now: EpochMs) {
    const HOUR: i64 = 3600 * 1000;
    let security_group = world
        .sites
        .get(ACME_CLOUD_ID)
        .and_then(|s| s.group_by_name("security-team"))
        .map(|g| g.group_id.clone());
    let projects = [
        ("DEMO", "Demo Project", "software", None),
        ("OPS", "Operations", "business", None),
        ("SEC", "Security (restricted)", "software", security_group),
    ];
    let mut project_ids = Vec::new();
    for (key, name, kind, browse_group) in projects {
        let id = world.allocate_id();
        project_ids.push(id);
        if let Some(site) = world.sites.get_mut(ACME_CLOUD_ID) {
            site.jira.projects.insert(
                id,
                Project {
                    id,
                    key: key.to_owned(),
                    name: name.to_owned(),
                    description: format!("{name}, seeded by the simulator."),
                    lead: ADMIN_ACCOUNT.to_owned(),
                    project_type_key: kind.to_owned(),
                    project_template_key: None,
                    assignee_type: "UNASSIGNED".to_owned(),
                    url: None,
                    browse_group,
                    admins: Vec::new(),
                    next_issue_number: 1,
                    issue_type_ids: vec![
                        "10000".to_owned(),
                        "10001".to_owned(),
                        "10002".to_owned(),
                        "10003".to_owned(),
                        "10004".to_owned(),
                    ],
                    archived: false,
                },
            );
        }
    }
    let people = [
        ADMIN_ACCOUNT,
        MEMBER_ACCOUNT,
        MEMBER_PLUS13_ACCOUNT,
        JIRA_ADMIN_ACCOUNT,
    ];
    let summaries = [
        "Login page times out under load",
        "Add dark mode to the console",
        "Rotate the signing keys",
        "Webhook retries pile up after an outage",
        "Document the upgrade path",
        "Search returns stale results after edits",
        "Export issues to CSV",
        "Crash when the attachment name has emoji",
        "Move CI to the new runners",
        "Quarterly access review",
    ];
    let statuses = ["10000", "3", "10001", "10002"];
    let mut demo_issue_ids = Vec::new();
    for (n, project_id) in [
        (24usize, project_ids[0]),
        (6, project_ids[1]),
        (3, project_ids[2]),
    ] {
        for i in 0..n {
            let id = world.allocate_id();
            let created = now - (10 * 24 * HOUR) + (i as i64) * 7 * HOUR;
            let updated = created + ((i as i64) % 5) * HOUR;
            let status_id = statuses[i % statuses.len()].to_owned();
            let author = people[i % people.len()].to_owned();
            let comment_count = i % 3;
            let mut comments = Vec::new();
            for c in 0..comment_count {
                let cid = world.allocate_id();
                let at = created + (c as i64 + 1) * 20 * 60 * 1000;
                comments.push(Comment {
                    id: cid,
                    body: adf_paragraph(&format!("Comment {} on this issue.", c + 1)),
                    author: people[(i + c + 1) % people.len()].to_owned(),
                    update_author: people[(i + c + 1) % people.len()].to_owned(),
                    created: at,
                    updated: at,
                    visibility: None,
                });
            }
            let Some(site) = world.sites.get_mut(ACME_CLOUD_ID) else {
                return;
            };
            let Some(project) = site.jira.projects.get_mut(&project_id) else {
                return;
            };
            let key = format!("{}-{}", project.key, project.next_issue_number);
            project.next_issue_number += 1;
            let resolved = status_id == "10002";
            let mut custom_fields = BTreeMap::new();
            if i % 2 == 0 {
                custom_fields.insert("customfield_10016".to_owned(), json!((i % 8) as f64 + 1.0));
            }
            if i % 3 == 0 {
                custom_fields.insert(
                    "customfield_10020".to_owned(),
                    json!({"self": format!("{}/rest/api/3/customFieldOption/10100", site.url), "value": "Platform", "id": "10100"}),
                );
            }
            let issue = Issue {
                id,
                key: key.clone(),
                project_id,
                issue_type_id: ["10001", "10002", "10003"][i % 3].to_owned(),
                summary: format!("{} ({})", summaries[i % summaries.len()], i + 1),
                description: (i % 4 != 3)
                    .then(|| adf_paragraph(&format!("Seeded issue number {}.", i + 1))),
                environment: None,
                status_id,
                resolution: resolved.then(|| "Done".to_owned()),
                resolution_date: resolved.then_some(updated),
                priority_id: Some(["2", "3", "3", "4"][i % 4].to_owned()),
                assignee: (i % 3 != 2).then(|| people[(i + 1) % people.len()].to_owned()),
                reporter: Some(author.clone()),
                creator: author.clone(),
                labels: if i % 4 == 0 {
                    vec!["backend".to_owned()]
                } else if i % 4 == 1 {
                    vec!["frontend".to_owned(), "ux".to_owned()]
                } else {
                    Vec::new()
                },
                duedate: None,
                parent_id: None,
                created,
                updated: updated.max(comments.last().map_or(created, |c| c.created)),
                custom_fields,
                comments,
                attachment_ids: Vec::new(),
                watchers: BTreeSet::from([author]),
                properties: BTreeMap::new(),
                changelog: Vec::new(),
            };
            site.jira.issue_keys.insert(key, id);
            site.jira.issues.insert(id, issue);
            if project_id == project_ids[0] {
                demo_issue_ids.push(id);
            }
        }
    }
    // Two attachments and a few links on the first DEMO issues.
    let attachments = [
        (
            "notes.txt",
            "text/plain",
            b"Release notes draft.\n".to_vec(),
        ),
        (
            "r\u{e9}sum\u{e9} \u{1f4ce}.txt",
            "text/plain",
            "Non-ASCII name.\n".as_bytes().to_vec(),
        ),
    ];
    for (idx, (name, mime, content)) in attachments.into_iter().enumerate() {
        let id = world.allocate_id();
        let Some(site) = world.sites.get_mut(ACME_CLOUD_ID) else {
            return;
        };
        let Some(&issue_id) = demo_issue_ids.get(idx) else {
            return;
        };
        let created = site
            .jira
            .issues
            .get(&issue_id)
            .map_or(now, |i| i.created + HOUR);
        site.jira.attachments.insert(
            id,
            Attachment {
                id,
                issue_id,
                filename: name.to_owned(),
                mime_type: mime.to_owned(),
                size: content.len() as u64,
                created,
                author: ADMIN_ACCOUNT.to_owned(),
            },
        );
        site.jira.attachment_content.insert(id, content.into());
        if let Some(issue) = site.jira.issues.get_mut(&issue_id) {
            issue.attachment_ids.push(id);
        }
    }
    for (type_id, inward, outward) in [("10000", 1usize, 0usize), ("10003", 2, 3)] {
        let id = world.allocate_id();
        let (Some(&inward_issue_id), Some(&outward_issue_id)) =
            (demo_issue_ids.get(inward), demo_issue_ids.get(outward))
        else {
            return;
        };
        if let Some(site) = world.sites.get_mut(ACME_CLOUD_ID) {
            site.jira.links.insert(
                id,
                IssueLink {
                    id,
                    type_id: type_id.to_owned(),
                    inward_issue_id,
                    outward_issue_id,
                },
            );
        }
    }
}
