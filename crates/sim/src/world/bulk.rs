//! Bulk issue creation shared by `POST /_sim/issues/bulk` and [`crate::search::bulk_seed`]: a
//! project created on the way when missing, then many issues with consecutive ids and keys. Each
//! caller decides what the issues contain and how the search index learns about them; this module
//! only keeps the world's bookkeeping (ids, key numbers, the key map) in one place.

use super::{Issue, Project, World};

/// A project that bulk seeding creates when the requested key does not exist yet.
pub(crate) struct BulkProject {
    /// Project key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Lead account id.
    pub lead: String,
}

/// Where one bulk-created issue goes: its position in the run, id and key.
pub(crate) struct BulkSlot {
    /// Position in the run, from 0.
    pub n: u64,
    /// The issue id.
    pub id: u64,
    /// The issue key.
    pub key: String,
}

impl World {
    /// Creates a plain software project on site `cloud_id` offering every issue type of the site,
    /// and returns its id. The id is allocated even when the site is missing, as callers check the
    /// site first.
    pub(crate) fn create_bulk_project(&mut self, cloud_id: &str, spec: BulkProject) -> u64 {
        let id = self.allocate_id();
        if let Some(site) = self.site_mut(cloud_id) {
            let issue_type_ids = site.jira.issue_types.iter().map(|t| t.id.clone()).collect();
            site.jira.projects.insert(
                id,
                Project {
                    id,
                    key: spec.key,
                    name: spec.name,
                    description: spec.description,
                    lead: spec.lead,
                    project_type_key: "software".to_owned(),
                    project_template_key: None,
                    assignee_type: "UNASSIGNED".to_owned(),
                    url: None,
                    browse_group: None,
                    admins: Vec::new(),
                    next_issue_number: 1,
                    issue_type_ids,
                    archived: false,
                },
            );
        }
        id
    }

    /// Adds `count` issues to project `project_id` of site `cloud_id`, each built by `build` from
    /// its slot, and returns their ids in creation order (empty when the site or project is
    /// missing). Ids are reserved as one block and keys take the project's next numbers, so the
    /// result matches creating the issues one by one. No events, no webhooks, no index update.
    pub(crate) fn add_bulk_issues(
        &mut self,
        cloud_id: &str,
        project_id: u64,
        count: u64,
        mut build: impl FnMut(BulkSlot) -> Issue,
    ) -> Vec<u64> {
        let Some(site) = self.sites.get_mut(cloud_id) else {
            return Vec::new();
        };
        let Some(project) = site.jira.projects.get_mut(&project_id) else {
            return Vec::new();
        };
        if count == 0 {
            return Vec::new();
        }
        let key_prefix = project.key.clone();
        let first_number = project.next_issue_number;
        project.next_issue_number += count;
        let first_id = self.next_id.max(10_000) + 1;
        self.next_id = self.next_id.max(10_000) + count;
        let mut ids = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for n in 0..count {
            let id = first_id + n;
            let key = format!("{key_prefix}-{}", first_number + n);
            // Lookups upper-case the key, so the map holds upper-case keys (as issue creation
            // does).
            site.jira.issue_keys.insert(key.to_ascii_uppercase(), id);
            let issue = build(BulkSlot { n, id, key });
            site.jira.issues.insert(id, issue);
            ids.push(id);
        }
        ids
    }
}
