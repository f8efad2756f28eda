//! The field registry: every field an issue of a site has (system fields and the site's custom
//! fields), with the id, name, `schema` (`JsonTypeBean`), clause names and the flags `GET /field`
//! reports, and whether the field can be written through create/edit bodies. The renderer,
//! `expand=names,schema`, createmeta/editmeta and the field catalog all read it from here.

use std::sync::LazyLock;

use serde_json::{Value, json};

use crate::world::{FieldDef, FieldKind, Site};

/// How a field is written in create and edit bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writable {
    /// Never settable through `fields`/`update` (status, created, watches ...).
    No,
    /// Settable on create and edit.
    Yes,
    /// Settable on create only (project, issue type: moving issues is a separate operation).
    CreateOnly,
}

/// One field as the registry knows it.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    /// Field id (`summary`, `customfield_10016`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The `JsonTypeBean` (`None` for the few fields Jira reports without one).
    pub schema: Option<Value>,
    /// Whether it is a custom field.
    pub custom: bool,
    /// Shown in issue navigator columns (part of `*navigable`).
    pub navigable: bool,
    /// Can be ordered by in JQL.
    pub orderable: bool,
    /// Can be searched in JQL.
    pub searchable: bool,
    /// JQL names.
    pub clause_names: Vec<String>,
    /// Whether create/edit bodies may set it.
    pub writable: Writable,
    /// The custom field kind, for custom fields.
    pub kind: Option<FieldKind>,
}

/// Plugin key prefix of Jira's built-in custom field types.
const CF_TYPES: &str = "com.atlassian.jira.plugin.system.customfieldtypes";

fn system(
    id: &str,
    name: &str,
    schema: Option<Value>,
    flags: (bool, bool, bool),
    clauses: &[&str],
    writable: Writable,
) -> FieldInfo {
    FieldInfo {
        id: id.to_owned(),
        name: name.to_owned(),
        schema,
        custom: false,
        navigable: flags.0,
        orderable: flags.1,
        searchable: flags.2,
        clause_names: clauses.iter().map(|c| (*c).to_owned()).collect(),
        writable,
        kind: None,
    }
}

fn plain(kind: &str, system_id: &str) -> Option<Value> {
    Some(json!({ "type": kind, "system": system_id }))
}

fn array_of(items: &str, system_id: &str) -> Option<Value> {
    Some(json!({ "type": "array", "items": items, "system": system_id }))
}

static SYSTEM_FIELDS: LazyLock<Vec<FieldInfo>> = LazyLock::new(build_system_fields);

/// The system fields, in the order Jira lists them in issue bodies.
pub fn system_fields() -> &'static [FieldInfo] {
    &SYSTEM_FIELDS
}

fn build_system_fields() -> Vec<FieldInfo> {
    use Writable::{CreateOnly, No, Yes};
    // (navigable, orderable, searchable)
    const NOS: (bool, bool, bool) = (true, true, true);
    vec![
        system(
            "statuscategorychangedate",
            "Status Category Changed",
            plain("datetime", "statuscategorychangedate"),
            (true, false, true),
            &["statusCategoryChangedDate"],
            No,
        ),
        system(
            "issuetype",
            "Issue Type",
            plain("issuetype", "issuetype"),
            NOS,
            &["issuetype", "type"],
            CreateOnly,
        ),
        system(
            "parent",
            "Parent",
            plain("issuelink", "parent"),
            (true, true, true),
            &["parent"],
            Yes,
        ),
        system(
            "project",
            "Project",
            plain("project", "project"),
            (true, false, true),
            &["project"],
            CreateOnly,
        ),
        system(
            "resolution",
            "Resolution",
            plain("resolution", "resolution"),
            NOS,
            &["resolution"],
            No,
        ),
        system(
            "resolutiondate",
            "Resolved",
            plain("datetime", "resolutiondate"),
            (true, false, true),
            &["resolutiondate", "resolved"],
            No,
        ),
        system(
            "watches",
            "Watchers",
            plain("watches", "watches"),
            (true, false, false),
            &["watchers"],
            No,
        ),
        system(
            "lastViewed",
            "Last Viewed",
            plain("datetime", "lastViewed"),
            (true, false, false),
            &["lastViewed"],
            No,
        ),
        system(
            "created",
            "Created",
            plain("datetime", "created"),
            (true, false, true),
            &["created", "createdDate"],
            No,
        ),
        system(
            "priority",
            "Priority",
            plain("priority", "priority"),
            NOS,
            &["priority"],
            Yes,
        ),
        system(
            "labels",
            "Labels",
            array_of("string", "labels"),
            NOS,
            &["labels"],
            Yes,
        ),
        system(
            "issuelinks",
            "Linked Issues",
            array_of("issuelinks", "issuelinks"),
            (true, true, false),
            &["issueLink"],
            No,
        ),
        system(
            "assignee",
            "Assignee",
            plain("user", "assignee"),
            NOS,
            &["assignee"],
            Yes,
        ),
        system(
            "updated",
            "Updated",
            plain("datetime", "updated"),
            (true, false, true),
            &["updated", "updatedDate"],
            No,
        ),
        system(
            "status",
            "Status",
            plain("status", "status"),
            (true, false, true),
            &["status"],
            No,
        ),
        system(
            "description",
            "Description",
            plain("string", "description"),
            NOS,
            &["description"],
            Yes,
        ),
        system(
            "attachment",
            "Attachment",
            array_of("attachment", "attachment"),
            (true, true, true),
            &["attachments"],
            No,
        ),
        system(
            "summary",
            "Summary",
            plain("string", "summary"),
            NOS,
            &["summary"],
            Yes,
        ),
        system(
            "creator",
            "Creator",
            plain("user", "creator"),
            (true, false, true),
            &["creator"],
            No,
        ),
        system(
            "subtasks",
            "Sub-tasks",
            array_of("issuelinks", "subtasks"),
            (true, false, false),
            &["subtasks"],
            No,
        ),
        system(
            "reporter",
            "Reporter",
            plain("user", "reporter"),
            NOS,
            &["reporter"],
            Yes,
        ),
        system(
            "environment",
            "Environment",
            plain("string", "environment"),
            NOS,
            &["environment"],
            Yes,
        ),
        system(
            "duedate",
            "Due date",
            plain("date", "duedate"),
            NOS,
            &["due", "duedate"],
            Yes,
        ),
        system(
            "votes",
            "Votes",
            plain("votes", "votes"),
            (true, false, false),
            &["votes"],
            No,
        ),
        system(
            "comment",
            "Comment",
            plain("comments-page", "comment"),
            (false, true, true),
            &["comment"],
            No,
        ),
        system(
            "timetracking",
            "Time tracking",
            plain("timetracking", "timetracking"),
            (false, true, false),
            &[],
            No,
        ),
    ]
}

/// The `JsonTypeBean` of a custom field.
pub fn custom_schema(def: &FieldDef) -> Value {
    let (kind, items, key) = match def.kind {
        FieldKind::TextField => ("string", None, "textfield"),
        FieldKind::TextArea => ("string", None, "textarea"),
        FieldKind::Number => ("number", None, "float"),
        FieldKind::Date => ("date", None, "datepicker"),
        FieldKind::DateTime => ("datetime", None, "datetime"),
        FieldKind::Select => ("option", None, "select"),
        FieldKind::MultiSelect => ("array", Some("option"), "multiselect"),
        FieldKind::Cascading => ("option-with-child", None, "cascadingselect"),
        FieldKind::User => ("user", None, "userpicker"),
        FieldKind::Labels => ("array", Some("string"), "labels"),
    };
    let mut schema = json!({ "type": kind });
    if let Some(obj) = schema.as_object_mut() {
        if let Some(items) = items {
            obj.insert("items".to_owned(), json!(items));
        }
        obj.insert("custom".to_owned(), json!(format!("{CF_TYPES}:{key}")));
        if let Some(n) = def.number() {
            obj.insert("customId".to_owned(), json!(n));
        }
    }
    schema
}

/// The registry entry of a custom field.
pub fn custom_field(def: &FieldDef) -> FieldInfo {
    let mut clause_names = Vec::new();
    if let Some(n) = def.number() {
        clause_names.push(format!("cf[{n}]"));
    }
    clause_names.push(def.name.clone());
    FieldInfo {
        id: def.id.clone(),
        name: def.name.clone(),
        schema: Some(custom_schema(def)),
        custom: true,
        navigable: true,
        orderable: true,
        searchable: true,
        clause_names,
        writable: Writable::Yes,
        kind: Some(def.kind),
    }
}

/// Every field of `site`: system fields first, then custom fields by id.
pub fn all_fields(site: &Site) -> Vec<FieldInfo> {
    let mut fields = system_fields().to_vec();
    fields.extend(site.jira.custom_fields.values().map(custom_field));
    fields
}

/// The registry entry for `id` on `site`, if the field exists.
pub fn field(site: &Site, id: &str) -> Option<FieldInfo> {
    if let Some(def) = site.jira.custom_fields.get(id) {
        return Some(custom_field(def));
    }
    system_fields().iter().find(|f| f.id == id).cloned()
}

/// Resolves a field reference as clients write it in `fields=` lists: an id, or for custom fields
/// also `cf[10016]`. Returns the field id.
pub fn resolve_id(site: &Site, reference: &str) -> Option<String> {
    if let Some(n) = reference
        .strip_prefix("cf[")
        .and_then(|r| r.strip_suffix(']'))
    {
        let id = format!("customfield_{n}");
        return site.jira.custom_fields.contains_key(&id).then_some(id);
    }
    if site.jira.custom_fields.contains_key(reference) {
        return Some(reference.to_owned());
    }
    system_fields()
        .iter()
        .find(|f| f.id == reference)
        .map(|f| f.id.clone())
}
