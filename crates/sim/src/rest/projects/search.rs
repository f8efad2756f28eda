//! `project/search`: its `orderBy` and its filters (query, keys, type).

use std::cmp::Ordering;

use crate::error::{ApiError, ApiResult};
use crate::rest::params::Params;
use crate::world::{Project, Site, World};

/// The `orderBy` of `project/search`.
#[derive(Debug, Clone, Copy)]
pub struct SearchOrder {
    field: OrderField,
    descending: bool,
}

#[derive(Debug, Clone, Copy)]
enum OrderField {
    Key,
    Name,
    Owner,
    IssueCount,
    LastIssueUpdated,
}

impl SearchOrder {
    /// Parses `orderBy` (default `key`); values outside the spec's enum are a 400.
    pub fn parse(value: Option<&str>) -> ApiResult<Self> {
        let raw = value.unwrap_or("key");
        let (descending, name) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix('+').unwrap_or(raw)),
        };
        let field = match name {
            // The simulator has no categories, archived or deleted dates: those orders fall back
            // to the key, which is also Jira's tie-breaker.
            "key" | "category" | "archivedDate" | "deletedDate" => OrderField::Key,
            "name" => OrderField::Name,
            "owner" => OrderField::Owner,
            "issueCount" => OrderField::IssueCount,
            "lastIssueUpdatedDate" => OrderField::LastIssueUpdated,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "The value '{raw}' is not valid for the parameter 'orderBy'."
                )));
            }
        };
        Ok(Self { field, descending })
    }

    /// Sorts `projects` in place.
    pub fn sort(&self, world: &World, site: &Site, projects: &mut [&Project]) {
        let count = |p: &Project| {
            site.jira
                .issues
                .values()
                .filter(|i| i.project_id == p.id)
                .count()
        };
        let last = |p: &Project| {
            site.jira
                .issues
                .values()
                .filter(|i| i.project_id == p.id)
                .map(|i| i.updated)
                .max()
        };
        let owner = |p: &Project| {
            world
                .user(&p.lead)
                .map(|u| u.display_name.to_lowercase())
                .unwrap_or_default()
        };
        projects.sort_by(|a, b| {
            let primary = match self.field {
                OrderField::Key => Ordering::Equal,
                OrderField::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                OrderField::Owner => owner(a).cmp(&owner(b)),
                OrderField::IssueCount => count(a).cmp(&count(b)),
                OrderField::LastIssueUpdated => last(a).cmp(&last(b)),
            };
            let ordering = primary.then_with(|| a.key.cmp(&b.key));
            if self.descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
}

/// The filters of `project/search`.
#[derive(Debug, Default)]
pub struct SearchFilter {
    query: Option<String>,
    keys: Vec<String>,
    ids: Vec<u64>,
    type_keys: Vec<String>,
    category: Option<i64>,
}

impl SearchFilter {
    /// Reads `query`, `keys`, `id`, `typeKey` and `categoryId`.
    pub fn from_params(params: &Params) -> ApiResult<Self> {
        let ids = params
            .list("id")
            .iter()
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "The value '{v}' is not valid for the parameter 'id'."
                    ))
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let keys = params.list("keys");
        if ids.len() > 50 || keys.len() > 50 {
            return Err(ApiError::bad_request(
                "Up to 50 project IDs and 50 project keys can be provided.",
            ));
        }
        let category = match params.non_empty("categoryId") {
            Some(_) => Some(params.int("categoryId", 0)?),
            None => None,
        };
        Ok(Self {
            query: params.non_empty("query").map(str::to_lowercase),
            keys,
            ids,
            type_keys: params.list("typeKey"),
            category,
        })
    }

    /// Whether `project` passes every filter.
    pub fn matches(&self, project: &Project) -> bool {
        if self.category.is_some() {
            // No project has a category in the simulator.
            return false;
        }
        if let Some(q) = &self.query
            && !project.key.to_lowercase().contains(q)
            && !project.name.to_lowercase().contains(q)
        {
            return false;
        }
        (self.keys.is_empty() || self.keys.iter().any(|k| k == &project.key))
            && (self.ids.is_empty() || self.ids.contains(&project.id))
            && (self.type_keys.is_empty()
                || self
                    .type_keys
                    .iter()
                    .any(|t| t == &project.project_type_key))
    }
}
