//! Bulk seeding for benchmarks and tests: many plain issues straight into the world and the
//! index (visible at once, no webhooks), fast enough for 100,000 issues in well under a second.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::index::Doc;
use crate::state::SimState;
use crate::world::{BulkProject, Issue};

const SUMMARY_WORDS: &[&str] = &[
    "login",
    "timeout",
    "export",
    "webhook",
    "search",
    "billing",
    "report",
    "upload",
    "sync",
    "dashboard",
];

/// Creates `count` issues in project `project_key` of site `cloud_id` (creating the project if it
/// does not exist), with `created` = `updated` spread evenly over the last `span_ms` of simulated
/// time (oldest first, the newest at now). Statuses, priorities and assignees cycle through the
/// site's configuration. The issues are visible to search at once and fire no webhooks. Returns
/// the new issue ids in creation order.
pub fn bulk_seed(
    state: &SimState,
    cloud_id: &str,
    project_key: &str,
    count: usize,
    span_ms: i64,
) -> Result<Vec<u64>, String> {
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let world = &mut *world;
    if world.site(cloud_id).is_none() {
        return Err(format!("no site with cloud id {cloud_id}"));
    }
    let existing = world
        .site(cloud_id)
        .and_then(|s| s.jira.resolve_project(project_key));
    let project_id = match existing {
        Some(id) => id,
        None => {
            let lead = world
                .site(cloud_id)
                .and_then(|site| site.members.keys().next().cloned())
                .unwrap_or_default();
            world.create_bulk_project(
                cloud_id,
                BulkProject {
                    key: project_key.to_ascii_uppercase(),
                    name: format!("Bulk {project_key}"),
                    description: "Bulk-seeded project.".to_owned(),
                    lead,
                },
            )
        }
    };
    let site = world
        .site(cloud_id)
        .ok_or_else(|| format!("no site with cloud id {cloud_id}"))?;
    let people: Vec<String> = site.members.keys().cloned().collect();
    let statuses: Vec<String> = site.jira.statuses.iter().map(|s| s.id.clone()).collect();
    let priorities: Vec<String> = site.jira.priorities.iter().map(|p| p.id.clone()).collect();
    let type_id = site
        .jira
        .issue_types
        .iter()
        .find(|t| !t.subtask && t.hierarchy_level == 0)
        .map(|t| t.id.clone())
        .unwrap_or_else(|| "10001".to_owned());
    if !site.jira.projects.contains_key(&project_id) {
        return Err(format!("no project {project_key}"));
    }
    let step = if count > 1 {
        span_ms.max(0) / (count as i64 - 1).max(1)
    } else {
        0
    };
    let mut docs = Vec::with_capacity(count);
    let ids = world.add_bulk_issues(cloud_id, project_id, count as u64, |slot| {
        let i = slot.n as usize;
        let at = now - span_ms.max(0) + step * i as i64;
        let pick = |list: &[String]| list.get(i % list.len().max(1)).cloned();
        let person = pick(&people).unwrap_or_default();
        let issue = Issue {
            id: slot.id,
            key: slot.key,
            project_id,
            issue_type_id: type_id.clone(),
            summary: format!(
                "Bulk issue {} about {}",
                i + 1,
                SUMMARY_WORDS[i % SUMMARY_WORDS.len()]
            ),
            description: None,
            environment: None,
            status_id: pick(&statuses).unwrap_or_default(),
            resolution: None,
            resolution_date: None,
            priority_id: pick(&priorities),
            assignee: (!i.is_multiple_of(3)).then(|| person.clone()),
            reporter: Some(person.clone()),
            creator: person,
            labels: Vec::new(),
            duedate: None,
            parent_id: None,
            created: at,
            updated: at,
            custom_fields: BTreeMap::new(),
            comments: Vec::new(),
            attachment_ids: Vec::new(),
            watchers: BTreeSet::new(),
            properties: BTreeMap::new(),
            changelog: Vec::new(),
        };
        docs.push(Arc::new(Doc::from_issue(&issue)));
        issue
    });
    state.search.insert_now(cloud_id, docs);
    Ok(ids)
}
