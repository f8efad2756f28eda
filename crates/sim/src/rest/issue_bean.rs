//! The `IssueBean` renderer: field selection (`fields=*all,-comment`), expansions
//! (`renderedFields`, `names`, `schema`, `transitions`, `editmeta`, `changelog`,
//! `versionedRepresentations`) and issue properties, for get issue, edit with `returnIssue`,
//! search and bulk fetch. Build one [`IssueRenderer`] per request and render every issue of the
//! page with it: it resolves the selection once and indexes subtasks and links only when they are
//! selected, so a page of 100 issues costs no scan per issue.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::adf;
use super::field_defs::{self, FieldInfo};
pub use super::issue_options::{Expand, FieldSelection, IssueOptions, PropertySelection};
use super::render::{self, rest_base};
use crate::clock::{EpochMs, ms_to_utc};
use crate::rest::access::Viewer;
use crate::world::{FieldKind, Issue, IssueLink, Site, World};

/// The expansions an issue advertises in its `expand` attribute.
const EXPANDABLE: &str =
    "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations";

/// Renders issues of one site for one viewer with fixed options.
pub struct IssueRenderer<'a> {
    world: &'a World,
    site: &'a Site,
    viewer: Viewer<'a>,
    options: &'a IssueOptions,
    fields: Vec<FieldInfo>,
    children: HashMap<u64, Vec<u64>>,
    links: HashMap<u64, Vec<&'a IssueLink>>,
    base: String,
    cache: EntityCache,
}

/// Rendered statuses, issue types, priorities, projects and users, built once per renderer: a
/// page of issues repeats the same few entities, and formatting their URLs dominates otherwise.
#[derive(Default)]
struct EntityCache {
    statuses: HashMap<String, Value>,
    issue_types: HashMap<String, Value>,
    priorities: HashMap<String, Value>,
    projects: HashMap<u64, Value>,
    users: RefCell<HashMap<String, Value>>,
}

impl EntityCache {
    fn new(site: &Site) -> Self {
        Self {
            statuses: site
                .jira
                .statuses
                .iter()
                .map(|s| (s.id.clone(), render::status(site, s)))
                .collect(),
            issue_types: site
                .jira
                .issue_types
                .iter()
                .map(|t| (t.id.clone(), render::issue_type(site, t)))
                .collect(),
            priorities: site
                .jira
                .priorities
                .iter()
                .map(|p| (p.id.clone(), render::priority_ref(site, p)))
                .collect(),
            projects: site
                .jira
                .projects
                .values()
                .map(|p| (p.id, render::project_ref(site, p)))
                .collect(),
            users: RefCell::new(HashMap::new()),
        }
    }
}

impl<'a> IssueRenderer<'a> {
    /// Prepares rendering: resolves the field selection and builds the indexes it needs.
    pub fn new(
        world: &'a World,
        site: &'a Site,
        viewer: Viewer<'a>,
        options: &'a IssueOptions,
    ) -> Self {
        let include: BTreeSet<String> = options
            .fields
            .include
            .iter()
            .filter_map(|f| field_defs::resolve_id(site, f))
            .collect();
        let fields: Vec<FieldInfo> = field_defs::all_fields(site)
            .into_iter()
            .filter(|f| options.fields.selects(f, &include))
            .collect();
        let mut children: HashMap<u64, Vec<u64>> = HashMap::new();
        if fields.iter().any(|f| f.id == "subtasks") {
            for issue in site.jira.issues.values() {
                if let Some(parent) = issue.parent_id {
                    children.entry(parent).or_default().push(issue.id);
                }
            }
        }
        let mut links: HashMap<u64, Vec<&IssueLink>> = HashMap::new();
        if fields.iter().any(|f| f.id == "issuelinks") {
            for link in site.jira.links.values() {
                links.entry(link.inward_issue_id).or_default().push(link);
                links.entry(link.outward_issue_id).or_default().push(link);
            }
        }
        Self {
            world,
            site,
            viewer,
            options,
            fields,
            children,
            links,
            base: rest_base(site),
            cache: EntityCache::new(site),
        }
    }

    /// The selected fields, in rendering order.
    pub fn fields(&self) -> &[FieldInfo] {
        &self.fields
    }

    /// `names` for the selected fields (`{fieldId: name}`), as search puts at the top level.
    pub fn names(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|f| (f.id.clone(), json!(f.name)))
                .collect(),
        )
    }

    /// `schema` for the selected fields (`{fieldId: JsonTypeBean}`).
    pub fn schema(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .filter_map(|f| f.schema.clone().map(|s| (f.id.clone(), s)))
                .collect(),
        )
    }

    /// Renders one issue as an `IssueBean`.
    pub fn render(&self, issue: &Issue) -> Value {
        let expand = self.options.expand;
        let mut bean = Map::new();
        bean.insert("expand".to_owned(), json!(EXPANDABLE));
        bean.insert("id".to_owned(), json!(issue.id.to_string()));
        bean.insert(
            "self".to_owned(),
            json!(format!("{}/issue/{}", self.base, issue.id)),
        );
        bean.insert("key".to_owned(), json!(issue.key));
        let mut fields = Map::new();
        for field in &self.fields {
            if let Some(value) = self.field_value(issue, field) {
                fields.insert(field.id.clone(), value);
            }
        }
        if expand.rendered_fields {
            bean.insert("renderedFields".to_owned(), self.rendered(issue, &fields));
        }
        if self.options.properties.any() {
            let props: Map<String, Value> = issue
                .properties
                .iter()
                .filter(|(k, _)| self.options.properties.selects(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            bean.insert("properties".to_owned(), Value::Object(props));
        }
        if expand.names {
            bean.insert("names".to_owned(), self.names());
        }
        if expand.schema {
            bean.insert("schema".to_owned(), self.schema());
        }
        if expand.transitions {
            let transitions =
                super::meta::issue_transitions(self.site, issue, expand.transitions_fields, None);
            bean.insert("transitions".to_owned(), Value::Array(transitions));
        }
        if expand.operations {
            bean.insert("operations".to_owned(), json!({ "linkGroups": [] }));
        }
        if expand.editmeta {
            bean.insert(
                "editmeta".to_owned(),
                json!({ "fields": super::meta::edit_fields(self.site, issue) }),
            );
        }
        if expand.changelog {
            bean.insert("changelog".to_owned(), self.changelog(issue));
        }
        if expand.versioned_representations {
            let versioned: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.clone(), json!({ "1": v })))
                .collect();
            bean.insert(
                "versionedRepresentations".to_owned(),
                Value::Object(versioned),
            );
        }
        bean.insert("fields".to_owned(), Value::Object(fields));
        Value::Object(bean)
    }

    fn changelog(&self, issue: &Issue) -> Value {
        // Jira embeds at most the 100 most recent histories, newest first.
        let histories: Vec<Value> = issue
            .changelog
            .iter()
            .rev()
            .take(100)
            .map(|h| render::changelog(self.world, self.site, h))
            .collect();
        json!({
            "startAt": 0,
            "maxResults": histories.len(),
            "total": issue.changelog.len(),
            "histories": histories,
        })
    }

    fn user(&self, account_id: Option<&str>) -> Value {
        let Some(account_id) = account_id else {
            return Value::Null;
        };
        if let Some(user) = self.cache.users.borrow().get(account_id) {
            return user.clone();
        }
        let user = render::user_ref(self.world, self.site, Some(account_id));
        self.cache
            .users
            .borrow_mut()
            .insert(account_id.to_owned(), user.clone());
        user
    }

    fn cached(map: &HashMap<String, Value>, id: Option<&str>) -> Value {
        id.and_then(|id| map.get(id))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// `{id, key, self, fields:{summary,status,priority,issuetype}}` from the cache.
    fn issue_ref(&self, issue: &Issue) -> Value {
        let mut fields = Map::new();
        fields.insert("summary".to_owned(), json!(issue.summary));
        for (name, value) in [
            ("status", self.cache.statuses.get(&issue.status_id)),
            (
                "priority",
                issue
                    .priority_id
                    .as_deref()
                    .and_then(|p| self.cache.priorities.get(p)),
            ),
            (
                "issuetype",
                self.cache.issue_types.get(&issue.issue_type_id),
            ),
        ] {
            if let Some(value) = value {
                fields.insert(name.to_owned(), value.clone());
            }
        }
        json!({
            "id": issue.id.to_string(),
            "key": issue.key,
            "self": format!("{}/issue/{}", self.base, issue.id),
            "fields": fields,
        })
    }

    /// The value of one field, or `None` when Jira leaves the key out (an issue without parent).
    fn field_value(&self, issue: &Issue, field: &FieldInfo) -> Option<Value> {
        let site = self.site;
        let ts = |ms: EpochMs| json!(timestamp(ms));
        if field.custom {
            let value = issue.custom_fields.get(&field.id).cloned();
            return Some(match (field.kind, value) {
                (_, None) => Value::Null,
                // User pickers store the account id; render the user as it is now.
                (Some(FieldKind::User), Some(v)) => {
                    self.user(v.get("accountId").and_then(Value::as_str))
                }
                (_, Some(v)) => v,
            });
        }
        let value = match field.id.as_str() {
            "statuscategorychangedate" => ts(status_category_changed(issue)),
            "issuetype" => Self::cached(&self.cache.issue_types, Some(&issue.issue_type_id)),
            "parent" => {
                let parent = site.jira.issues.get(&issue.parent_id?)?;
                self.issue_ref(parent)
            }
            "project" => self
                .cache
                .projects
                .get(&issue.project_id)
                .cloned()
                .unwrap_or(Value::Null),
            "resolution" => issue
                .resolution
                .as_deref()
                .map_or(Value::Null, |r| render::resolution(site, r)),
            "resolutiondate" => issue.resolution_date.map_or(Value::Null, ts),
            "watches" => json!({
                "self": format!("{}/issue/{}/watchers", self.base, issue.key),
                "watchCount": issue.watchers.len(),
                "isWatching": issue.watchers.contains(self.viewer.account_id),
            }),
            "lastViewed" => Value::Null,
            "created" => ts(issue.created),
            "updated" => ts(issue.updated),
            "priority" => Self::cached(&self.cache.priorities, issue.priority_id.as_deref()),
            "labels" => json!(issue.labels),
            "issuelinks" => Value::Array(self.issue_links(issue)),
            "assignee" => self.user(issue.assignee.as_deref()),
            "reporter" => self.user(issue.reporter.as_deref()),
            "creator" => self.user(Some(&issue.creator)),
            "status" => Self::cached(&self.cache.statuses, Some(&issue.status_id)),
            "description" => issue.description.clone().unwrap_or(Value::Null),
            "environment" => issue.environment.clone().unwrap_or(Value::Null),
            "attachment" => Value::Array(
                issue
                    .attachment_ids
                    .iter()
                    .filter_map(|id| site.jira.attachments.get(id))
                    .map(|a| render::attachment(self.world, site, a))
                    .collect(),
            ),
            "summary" => json!(issue.summary),
            "subtasks" => Value::Array(
                self.children
                    .get(&issue.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| site.jira.issues.get(id))
                    .map(|child| self.issue_ref(child))
                    .collect(),
            ),
            "duedate" => json!(issue.duedate),
            "votes" => json!({
                "self": format!("{}/issue/{}/votes", self.base, issue.key),
                "votes": 0,
                "hasVoted": false,
            }),
            "comment" => self.comments(issue, false),
            "timetracking" => json!({}),
            _ => Value::Null,
        };
        Some(value)
    }

    fn comments(&self, issue: &Issue, rendered: bool) -> Value {
        let project = self.site.jira.projects.get(&issue.project_id);
        let comments: Vec<Value> = issue
            .comments
            .iter()
            .filter(|c| self.viewer.can_see_comment(self.site, project, c))
            .map(|c| {
                // Same shape as `render::comment`, with users from the cache.
                let mut body = json!({
                    "self": format!("{}/issue/{}/comment/{}", self.base, issue.id, c.id),
                    "id": c.id.to_string(),
                    "author": self.user(Some(&c.author)),
                    "body": if rendered { json!(adf::to_html(&c.body)) } else { c.body.clone() },
                    "updateAuthor": self.user(Some(&c.update_author)),
                    "created": timestamp(c.created),
                    "updated": timestamp(c.updated),
                    "jsdPublic": true,
                });
                if let (Some(v), Some(obj)) = (&c.visibility, body.as_object_mut()) {
                    obj.insert("visibility".to_owned(), render::visibility(v));
                }
                body
            })
            .collect();
        json!({
            "comments": comments,
            "self": format!("{}/issue/{}/comment", self.base, issue.id),
            "maxResults": comments.len(),
            "total": comments.len(),
            "startAt": 0,
        })
    }

    fn issue_links(&self, issue: &Issue) -> Vec<Value> {
        let site = self.site;
        let Some(links) = self.links.get(&issue.id) else {
            return Vec::new();
        };
        links
            .iter()
            .filter_map(|link| {
                let link_type = site.jira.link_types.iter().find(|t| t.id == link.type_id)?;
                // This issue on the outward side "blocks" the other one, shown as outwardIssue;
                // on the inward side it "is blocked by" the other one, shown as inwardIssue.
                let (side, other_id) = if link.outward_issue_id == issue.id {
                    ("outwardIssue", link.inward_issue_id)
                } else {
                    ("inwardIssue", link.outward_issue_id)
                };
                let other = site.jira.issues.get(&other_id)?;
                if !self.viewer.can_see_issue(site, other) {
                    return None;
                }
                let mut entry = Map::new();
                entry.insert("id".to_owned(), json!(link.id.to_string()));
                entry.insert(
                    "self".to_owned(),
                    json!(format!("{}/issueLink/{}", self.base, link.id)),
                );
                entry.insert(
                    "type".to_owned(),
                    json!({
                        "id": link_type.id,
                        "name": link_type.name,
                        "inward": link_type.inward,
                        "outward": link_type.outward,
                        "self": format!("{}/issueLinkType/{}", self.base, link_type.id),
                    }),
                );
                entry.insert(side.to_owned(), self.issue_ref(other));
                Some(Value::Object(entry))
            })
            .collect()
    }

    fn rendered(&self, issue: &Issue, fields: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        for field in &self.fields {
            if !fields.contains_key(&field.id) {
                continue;
            }
            let schema_type = field
                .schema
                .as_ref()
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str);
            let value = match field.id.as_str() {
                "description" | "environment" => fields
                    .get(&field.id)
                    .filter(|v| !v.is_null())
                    .map_or(Value::Null, |v| json!(adf::to_html(v))),
                "comment" => self.comments(issue, true),
                _ if field.kind == Some(FieldKind::TextArea) => fields
                    .get(&field.id)
                    .filter(|v| !v.is_null())
                    .map_or(Value::Null, |v| json!(adf::to_html(v))),
                _ if schema_type == Some("datetime") => match field.id.as_str() {
                    "created" => json!(rendered_date(issue.created)),
                    "updated" => json!(rendered_date(issue.updated)),
                    "resolutiondate" => issue
                        .resolution_date
                        .map_or(Value::Null, |ms| json!(rendered_date(ms))),
                    _ => Value::Null,
                },
                _ => Value::Null,
            };
            out.insert(field.id.clone(), value);
        }
        Value::Object(out)
    }
}

/// Renders one issue with `options` (a convenience for single-issue endpoints; pages should build
/// one [`IssueRenderer`] and reuse it).
pub fn issue(
    world: &World,
    site: &Site,
    viewer: Viewer<'_>,
    issue: &Issue,
    options: &IssueOptions,
) -> Value {
    IssueRenderer::new(world, site, viewer, options).render(issue)
}

/// When the status category last changed: the last status change in the changelog, else creation.
fn status_category_changed(issue: &Issue) -> EpochMs {
    issue
        .changelog
        .iter()
        .rev()
        .find(|h| h.items.iter().any(|i| i.field_id == "status"))
        .map_or(issue.created, |h| h.created)
}

/// `jira_timestamp` without chrono's format-string interpretation: rendering a page formats a few
/// hundred instants, and this is the hot path.
fn timestamp(ms: EpochMs) -> String {
    use chrono::{Datelike, Timelike};
    let t = ms_to_utc(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    )
}

/// Dates in `renderedFields` use Jira's default display format (`17/Jan/26 12:34 PM`).
fn rendered_date(ms: EpochMs) -> String {
    ms_to_utc(ms).format("%d/%b/%y %-I:%M %p").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_timestamp_matches_jira_timestamp() {
        for ms in [0, 1_768_653_240_000, 1_768_653_240_123, 4_102_444_799_999] {
            assert_eq!(timestamp(ms), crate::clock::jira_timestamp(ms));
        }
    }
}
