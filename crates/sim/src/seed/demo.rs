//! The demo content: three projects on `acme` (one restricted to a group) with issues, comments,
//! attachments, watchers and links.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{
    ACME_CLOUD_ID, ADMIN_ACCOUNT, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT, MEMBER_PLUS13_ACCOUNT,
    adf_paragraph,
};
use crate::clock::EpochMs;
use crate::world::{Attachment, Comment, Issue, IssueLink, Project, World};

/// Adds the demo projects and issues to a freshly built world.
pub fn seed_demo_content(world: &mut World, now: EpochMs) {
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
