//! `POST /_sim/issues/bulk`: many issues at once, for benchmarks and large-data tests. Issues go
//! straight into the world (no events, no webhooks) and the search index is rebuilt once.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AdminJson;
use crate::error::{ApiError, ApiResult};
use crate::rest::projects::rules::is_acceptable_key;
use crate::state::SimState;
use crate::world::{BulkProject, Issue, World};

/// The most issues one call may create.
const MAX_COUNT: u64 = 1_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct BulkRequest {
    /// Project key; the project is created when it does not exist.
    project_key: String,
    /// How many issues.
    count: u64,
    /// Site (default: the first seeded site).
    cloud_id: Option<String>,
    /// Name of a project created on the way.
    project_name: Option<String>,
    /// Issue type id (default `10001`, Task).
    #[serde(default = "task")]
    issue_type_id: String,
    /// Statuses assigned round-robin (default `10000`, To Do).
    status_ids: Option<Vec<String>>,
    /// Summary prefix; the issue number follows.
    summary_prefix: Option<String>,
    /// `updated` spreads evenly over this window ending now, oldest first (default 30 min).
    #[serde(default = "half_hour")]
    updated_within_ms: i64,
    /// Give every issue a one-paragraph ADF description (costs memory on large runs).
    #[serde(default)]
    with_description: bool,
    /// Labels on every issue.
    #[serde(default)]
    labels: Vec<String>,
    /// Reporter and creator (default: the seeded site admin).
    reporter: Option<String>,
}

fn task() -> String {
    "10001".to_owned()
}

fn half_hour() -> i64 {
    1_800_000
}

/// Creates the issues; answers 201 with the project and the first and last keys.
pub(super) async fn create_issues(
    State(state): State<SimState>,
    AdminJson(request): AdminJson<BulkRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if request.count == 0 || request.count > MAX_COUNT {
        return Err(ApiError::field(
            "count",
            format!("Must be between 1 and {MAX_COUNT}."),
        ));
    }
    if !is_acceptable_key(&request.project_key) {
        return Err(ApiError::field(
            "projectKey",
            "Project keys are 2-10 upper-case letters or digits, starting with a letter.",
        ));
    }
    if request.updated_within_ms < 0 {
        return Err(ApiError::field("updatedWithinMs", "Must not be negative."));
    }
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let cloud_id = match request.cloud_id.clone() {
        Some(id) => id,
        None => world
            .sites
            .contains_key(crate::seed::ACME_CLOUD_ID)
            .then(|| crate::seed::ACME_CLOUD_ID.to_owned())
            .or_else(|| world.sites.keys().next().cloned())
            .ok_or_else(|| ApiError::bad_request("No site exists."))?,
    };
    let reporter = request
        .reporter
        .clone()
        .unwrap_or_else(|| crate::seed::ADMIN_ACCOUNT.to_owned());
    check_references(&world, &cloud_id, &reporter, &request)?;
    let project_id = ensure_project(&mut world, &cloud_id, &reporter, &request);
    let statuses = request
        .status_ids
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec!["10000".to_owned()]);
    let prefix = request
        .summary_prefix
        .clone()
        .unwrap_or_else(|| "Bulk issue".to_owned());
    let count = request.count;
    let spread = request.updated_within_ms;
    let done_statuses: Vec<bool> = world.site(&cloud_id).map_or_else(Vec::new, |site| {
        statuses
            .iter()
            .map(|id| {
                site.jira
                    .status(id)
                    .is_some_and(|s| s.category == crate::world::StatusCategory::Done)
            })
            .collect()
    });
    let ids = world.add_bulk_issues(&cloud_id, project_id, count, |slot| {
        let n = slot.n;
        // Evenly spread, oldest first, the last one exactly now.
        let updated =
            now - spread + ((i128::from(spread) * i128::from(n + 1)) / i128::from(count)) as i64;
        let pick = (n as usize) % statuses.len();
        let done = done_statuses.get(pick).copied().unwrap_or(false);
        Issue {
            id: slot.id,
            key: slot.key,
            project_id,
            issue_type_id: request.issue_type_id.clone(),
            summary: format!("{prefix} {}", n + 1),
            description: request
                .with_description
                .then(|| crate::seed::adf_paragraph(&format!("Bulk-created issue {}.", n + 1))),
            environment: None,
            status_id: statuses[pick].clone(),
            resolution: done.then(|| "Done".to_owned()),
            resolution_date: done.then_some(updated),
            priority_id: Some("3".to_owned()),
            assignee: None,
            reporter: Some(reporter.clone()),
            creator: reporter.clone(),
            labels: request.labels.clone(),
            duedate: None,
            parent_id: None,
            created: updated - 86_400_000,
            updated,
            custom_fields: BTreeMap::new(),
            comments: Vec::new(),
            attachment_ids: Vec::new(),
            watchers: BTreeSet::from([reporter.clone()]),
            properties: BTreeMap::new(),
            changelog: Vec::new(),
        }
    });
    let key_of = |id: Option<&u64>| {
        id.and_then(|id| world.site(&cloud_id)?.jira.issues.get(id))
            .map(|issue| issue.key.clone())
    };
    let first_key = key_of(ids.first());
    let last_key = key_of(ids.last());
    state.search.rebuild(&world, now);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "cloudId": cloud_id,
            "projectId": project_id.to_string(),
            "projectKey": request.project_key,
            "created": count,
            "firstKey": first_key,
            "lastKey": last_key,
        })),
    ))
}

fn check_references(
    world: &World,
    cloud_id: &str,
    reporter: &str,
    request: &BulkRequest,
) -> ApiResult<()> {
    let site = world.site(cloud_id).ok_or_else(|| {
        ApiError::field("cloudId", format!("No site with cloud id '{cloud_id}'."))
    })?;
    if site.role(reporter).is_none() {
        return Err(ApiError::field(
            "reporter",
            format!("'{reporter}' is not a member of the site."),
        ));
    }
    if site.jira.issue_type(&request.issue_type_id).is_none() {
        return Err(ApiError::field("issueTypeId", "No such issue type."));
    }
    if let Some(bad) = request
        .status_ids
        .iter()
        .flatten()
        .find(|s| site.jira.status(s).is_none())
    {
        return Err(ApiError::field(
            "statusIds",
            format!("No status with id '{bad}'."),
        ));
    }
    Ok(())
}

/// The id of the project with the request's key, created when missing.
fn ensure_project(world: &mut World, cloud_id: &str, lead: &str, request: &BulkRequest) -> u64 {
    if let Some(id) = world
        .site(cloud_id)
        .and_then(|s| {
            s.jira
                .projects
                .values()
                .find(|p| p.key == request.project_key)
        })
        .map(|p| p.id)
    {
        return id;
    }
    world.create_bulk_project(
        cloud_id,
        BulkProject {
            key: request.project_key.clone(),
            name: request
                .project_name
                .clone()
                .unwrap_or_else(|| format!("{} (bulk)", request.project_key)),
            description: "Created by the simulator's bulk seeding.".to_owned(),
            lead: lead.to_owned(),
        },
    )
}
