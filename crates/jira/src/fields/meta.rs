//! Field metadata: the wire types of `GET /field` and of createmeta/editmeta field entries, the
//! merged [`FieldMeta`] the catalog and coercion work on, the [`FieldKind`] a schema implies, and
//! a per-connection [`FieldCache`] with a time-to-live.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::FieldCatalog;

/// The prefix of Jira's built-in custom field type keys (`...customfieldtypes:select`).
pub const BUILTIN_CUSTOM_TYPES: &str = "com.atlassian.jira.plugin.system.customfieldtypes";

/// A field's `JsonTypeBean`: what kind of value it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSchema {
    /// The value type: `string`, `number`, `date`, `datetime`, `option`, `array`, `user`, ...
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub kind: String,
    /// The element type when `kind` is `array`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    /// The system field this schema belongs to (`labels`, `description`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The custom field type key (`com.atlassian.jira.plugin.system.customfieldtypes:select`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<String>,
    /// The custom field's number (`10016` for `customfield_10016`).
    #[serde(
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_id: Option<i64>,
    /// Anything else Jira sent (`configuration`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `GET /rest/api/3/field` (`FieldDetails`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDetails {
    /// The field id: `summary`, `customfield_10016`.
    pub id: String,
    /// The field key (the id, for nearly every field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The display name (`Story Points`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Whether this is a custom field.
    #[serde(default)]
    pub custom: bool,
    /// What the field holds; absent for a few system fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<FieldSchema>,
    /// The names JQL accepts for the field (`cf[10016]`, `"Story Points"`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub clause_names: Vec<String>,
    /// Anything else Jira sent (`navigable`, `orderable`, `searchable`, `scope`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One field of createmeta (`FieldCreateMetadata`) or editmeta (`FieldMetadata`).
///
/// createmeta entries carry `fieldId`; editmeta entries are keyed by id in a map and carry only
/// `key`, so both are optional here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMetadata {
    /// The field id (createmeta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_id: Option<String>,
    /// The field key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Whether the screen requires a value.
    #[serde(default)]
    pub required: bool,
    /// What the field holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<FieldSchema>,
    /// The values the field accepts (options, priorities, components, ...), when Jira lists them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<Vec<Value>>,
    /// The update operations the field supports (`set`, `add`, `remove`, `edit`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub operations: Vec<String>,
    /// Whether the field has a default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_default_value: Option<bool>,
    /// Where to look values up (user pickers, labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_complete_url: Option<String>,
    /// Anything else Jira sent (`defaultValue`, `configuration`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FieldMetadata {
    /// The field id: `fieldId`, else `key`.
    pub fn id(&self) -> Option<&str> {
        self.field_id.as_deref().or(self.key.as_deref())
    }
}

/// A page of `GET /issue/createmeta/{project}/issuetypes/{issueTypeId}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMetaFieldsPage {
    /// The fields on this page (some Jira versions name the list `results`).
    #[serde(default, alias = "results", deserialize_with = "null_as_default")]
    pub fields: Vec<FieldMetadata>,
    /// Index of the first field on this page.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// The page size the server used.
    #[serde(default)]
    pub max_results: Option<u64>,
    /// Total number of fields; absent means unknown, so paging goes on until an empty page.
    #[serde(default)]
    pub total: Option<u64>,
}

/// The answer of `GET /issue/{key}/editmeta`: fields keyed by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EditMeta {
    /// The editable fields, keyed by id.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, FieldMetadata>,
}

impl EditMeta {
    /// One field's metadata by id.
    pub fn field(&self, field_id: &str) -> Option<&FieldMetadata> {
        self.fields.get(field_id)
    }
}

/// What a field holds, as far as coercion cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Single-line text (`textfield`, `url`, `summary`): a string of at most 255 characters.
    Text,
    /// Rich text (`textarea`, `description`, `environment`): an ADF document.
    RichText,
    /// A number (`float`).
    Number,
    /// A day (`datepicker`, `duedate`): `YYYY-MM-DD`.
    Date,
    /// An instant (`datetime`): `2026-01-17T12:34:00.000+0000`.
    DateTime,
    /// One option (`select`, `radiobuttons`): `{"value"}` or `{"id"}`.
    Select,
    /// Several options (`multiselect`, `multicheckboxes`): `[{"value"}]`.
    MultiSelect,
    /// A parent option and an optional child (`cascadingselect`).
    Cascading,
    /// One user (`userpicker`, `assignee`, `reporter`): `{"accountId"}`.
    User,
    /// Several users (`multiuserpicker`): `[{"accountId"}]`.
    MultiUser,
    /// Labels (`labels`): strings without spaces.
    Labels,
    /// One group (`grouppicker`): `{"name"}`.
    Group,
    /// Several groups (`multigrouppicker`): `[{"name"}]`.
    MultiGroup,
    /// The priority: `{"name"}` or `{"id"}`.
    Priority,
    /// The issue type: `{"name"}` or `{"id"}`.
    IssueType,
    /// The project: `{"key"}` or `{"id"}`.
    Project,
    /// The parent issue: `{"key"}` or `{"id"}`.
    Parent,
    /// One version (`version`): `{"name"}` or `{"id"}`.
    Version,
    /// Components, fix versions, affected versions (`multiversion`): `[{"name"}|{"id"}]`.
    NamedList,
    /// Anything else: the input is sent as given.
    Other,
}

impl FieldKind {
    /// The kind a field id and schema imply.
    pub fn of(id: &str, schema: Option<&FieldSchema>) -> FieldKind {
        // System fields first: their schema types are shared with custom kinds (`string`).
        match id {
            "summary" => return FieldKind::Text,
            "description" | "environment" => return FieldKind::RichText,
            "duedate" => return FieldKind::Date,
            "labels" => return FieldKind::Labels,
            "priority" => return FieldKind::Priority,
            "issuetype" => return FieldKind::IssueType,
            "project" => return FieldKind::Project,
            "parent" => return FieldKind::Parent,
            "assignee" | "reporter" => return FieldKind::User,
            "components" | "fixVersions" | "versions" => return FieldKind::NamedList,
            _ => {}
        }
        let Some(schema) = schema else {
            return FieldKind::Other;
        };
        if let Some(custom) = schema.custom.as_deref()
            && let Some(kind) = custom
                .strip_prefix(BUILTIN_CUSTOM_TYPES)
                .and_then(|rest| rest.strip_prefix(':'))
                .and_then(Self::of_custom_type)
        {
            return kind;
        }
        match (schema.kind.as_str(), schema.items.as_deref()) {
            ("string", _) => FieldKind::Text,
            ("number", _) => FieldKind::Number,
            ("date", _) => FieldKind::Date,
            ("datetime", _) => FieldKind::DateTime,
            ("option", _) => FieldKind::Select,
            ("option-with-child", _) => FieldKind::Cascading,
            ("user", _) => FieldKind::User,
            ("group", _) => FieldKind::Group,
            ("priority", _) => FieldKind::Priority,
            ("issuetype", _) => FieldKind::IssueType,
            ("project", _) => FieldKind::Project,
            ("version", _) => FieldKind::Version,
            ("array", Some("option")) => FieldKind::MultiSelect,
            ("array", Some("user")) => FieldKind::MultiUser,
            ("array", Some("group")) => FieldKind::MultiGroup,
            ("array", Some("string")) => FieldKind::Labels,
            ("array", Some("component" | "version")) => FieldKind::NamedList,
            _ => FieldKind::Other,
        }
    }

    /// The kind of a built-in custom field type key (the part after `customfieldtypes:`).
    fn of_custom_type(key: &str) -> Option<FieldKind> {
        Some(match key {
            "textfield" | "url" | "readonlyfield" => FieldKind::Text,
            "textarea" => FieldKind::RichText,
            "float" => FieldKind::Number,
            "datepicker" => FieldKind::Date,
            "datetime" => FieldKind::DateTime,
            "select" | "radiobuttons" => FieldKind::Select,
            "multiselect" | "multicheckboxes" => FieldKind::MultiSelect,
            "cascadingselect" => FieldKind::Cascading,
            "userpicker" => FieldKind::User,
            "multiuserpicker" => FieldKind::MultiUser,
            "labels" => FieldKind::Labels,
            "grouppicker" => FieldKind::Group,
            "multigrouppicker" => FieldKind::MultiGroup,
            "version" => FieldKind::Version,
            "multiversion" => FieldKind::NamedList,
            "project" => FieldKind::Project,
            _ => return None,
        })
    }
}

/// Everything known about one field: `GET /field` merged with createmeta/editmeta when given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldMeta {
    /// The field id (`customfield_10016`, `summary`).
    pub id: String,
    /// The field key, when it differs from nothing at all (usually equal to the id).
    pub key: Option<String>,
    /// The display name.
    pub name: String,
    /// Whether this is a custom field.
    pub custom: bool,
    /// What the field holds.
    pub schema: Option<FieldSchema>,
    /// JQL clause names.
    pub clause_names: Vec<String>,
    /// Whether a create or edit screen requires a value (from createmeta; `false` otherwise).
    pub required: bool,
    /// The values the field accepts, when createmeta/editmeta listed them.
    pub allowed_values: Option<Vec<Value>>,
    /// Supported update operations (from createmeta/editmeta).
    pub operations: Vec<String>,
}

impl FieldMeta {
    /// What the field holds, as coercion sees it.
    pub fn kind(&self) -> FieldKind {
        FieldKind::of(&self.id, self.schema.as_ref())
    }

    /// A field with just an id, a name and a schema (tests and hand-built catalogs).
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        schema: Option<FieldSchema>,
    ) -> Self {
        let id = id.into();
        FieldMeta {
            custom: id.starts_with("customfield_"),
            key: Some(id.clone()),
            id,
            name: name.into(),
            schema,
            clause_names: Vec::new(),
            required: false,
            allowed_values: None,
            operations: Vec::new(),
        }
    }

    /// The same field with its allowed values set.
    pub fn with_allowed_values(mut self, values: Vec<Value>) -> Self {
        self.allowed_values = Some(values);
        self
    }

    /// Merges what createmeta or editmeta says about this field.
    pub fn merge(&mut self, meta: &FieldMetadata) {
        self.required = meta.required;
        if meta.allowed_values.is_some() {
            self.allowed_values.clone_from(&meta.allowed_values);
        }
        if !meta.operations.is_empty() {
            self.operations.clone_from(&meta.operations);
        }
        if self.schema.is_none() {
            self.schema.clone_from(&meta.schema);
        }
    }
}

impl From<FieldDetails> for FieldMeta {
    fn from(details: FieldDetails) -> Self {
        FieldMeta {
            id: details.id,
            key: details.key,
            name: details.name,
            custom: details.custom,
            schema: details.schema,
            clause_names: details.clause_names,
            required: false,
            allowed_values: None,
            operations: Vec::new(),
        }
    }
}

impl FieldMeta {
    /// A field known only from createmeta/editmeta; `None` when the entry names no id.
    pub fn from_metadata(meta: &FieldMetadata) -> Option<FieldMeta> {
        let id = meta.id()?.to_owned();
        let mut field = FieldMeta::new(id, meta.name.clone(), meta.schema.clone());
        field.merge(meta);
        Some(field)
    }
}

/// Where a [`FieldCache`] gets a site's field list from: `GET /rest/api/3/field` through
/// whichever client the caller holds.
pub trait FieldSource {
    /// The error fetching fails with.
    type Error;

    /// Fetches every field of the site.
    fn fetch_fields(&self) -> impl Future<Output = Result<Vec<FieldDetails>, Self::Error>> + Send;
}

struct CacheEntry {
    catalog: Arc<FieldCatalog>,
    fetched: Instant,
}

/// Field catalogs per connection (keyed by cloud id or base URL), refetched after a TTL.
///
/// Field lists change rarely but do change (an admin adds a custom field), so entries expire;
/// [`FieldCache::invalidate`] drops one early, e.g. after Jira rejects a field as unknown.
pub struct FieldCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl std::fmt::Debug for FieldCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldCache")
            .field("ttl", &self.ttl)
            .field("entries", &self.entries.lock().len())
            .finish()
    }
}

impl Default for FieldCache {
    fn default() -> Self {
        FieldCache::new(Self::DEFAULT_TTL)
    }
}

impl FieldCache {
    /// Fifteen minutes: new custom fields show up quickly, and a busy flow fetches rarely.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

    /// An empty cache whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        FieldCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached catalog for `key` if it is still fresh.
    pub fn get(&self, key: &str) -> Option<Arc<FieldCatalog>> {
        let entries = self.entries.lock();
        entries
            .get(key)
            .filter(|e| e.fetched.elapsed() < self.ttl)
            .map(|e| Arc::clone(&e.catalog))
    }

    /// Stores `catalog` for `key`, replacing any entry.
    pub fn insert(&self, key: impl Into<String>, catalog: FieldCatalog) -> Arc<FieldCatalog> {
        let catalog = Arc::new(catalog);
        self.entries.lock().insert(
            key.into(),
            CacheEntry {
                catalog: Arc::clone(&catalog),
                fetched: Instant::now(),
            },
        );
        catalog
    }

    /// Drops the entry for `key`, so the next lookup fetches again.
    pub fn invalidate(&self, key: &str) {
        self.entries.lock().remove(key);
    }

    /// The catalog for `key`, fetched through `source` when missing or stale.
    pub async fn get_or_fetch<S: FieldSource>(
        &self,
        key: &str,
        source: &S,
    ) -> Result<Arc<FieldCatalog>, S::Error> {
        self.get_or_fetch_with(key, || source.fetch_fields()).await
    }

    /// The catalog for `key`, fetched by `fetch` when missing or stale.
    ///
    /// The lock is not held while fetching, so two callers that miss at once may both fetch; the
    /// later answer wins. That costs one extra request, never a stale or blocked cache.
    pub async fn get_or_fetch_with<F, Fut, E>(
        &self,
        key: &str,
        fetch: F,
    ) -> Result<Arc<FieldCatalog>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<FieldDetails>, E>>,
    {
        if let Some(catalog) = self.get(key) {
            return Ok(catalog);
        }
        let fields = fetch().await?;
        Ok(self.insert(key, FieldCatalog::from_fields(fields)))
    }
}

/// Accepts a number, a numeric string or null.
fn lenient_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Treats an explicit `null` like an absent value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(kind: &str, items: Option<&str>, custom: Option<&str>) -> FieldSchema {
        FieldSchema {
            kind: kind.to_owned(),
            items: items.map(str::to_owned),
            custom: custom.map(|c| format!("{BUILTIN_CUSTOM_TYPES}:{c}")),
            ..FieldSchema::default()
        }
    }

    #[test]
    fn custom_type_keys_decide_before_the_generic_schema_type() {
        let textarea = schema("string", None, Some("textarea"));
        assert_eq!(
            FieldKind::of("customfield_1", Some(&textarea)),
            FieldKind::RichText
        );
        let radio = schema("option", None, Some("radiobuttons"));
        assert_eq!(
            FieldKind::of("customfield_2", Some(&radio)),
            FieldKind::Select
        );
    }

    #[test]
    fn unknown_custom_types_fall_back_to_the_schema_type() {
        let app = FieldSchema {
            kind: "array".to_owned(),
            items: Some("option".to_owned()),
            custom: Some("com.example.app:picker".to_owned()),
            ..FieldSchema::default()
        };
        assert_eq!(
            FieldKind::of("customfield_3", Some(&app)),
            FieldKind::MultiSelect
        );
        let any = schema("any", None, None);
        assert_eq!(FieldKind::of("customfield_4", Some(&any)), FieldKind::Other);
    }

    #[test]
    fn system_ids_win_over_their_generic_schema() {
        let string = schema("string", None, None);
        assert_eq!(
            FieldKind::of("description", Some(&string)),
            FieldKind::RichText
        );
        assert_eq!(FieldKind::of("summary", Some(&string)), FieldKind::Text);
        assert_eq!(FieldKind::of("fixVersions", None), FieldKind::NamedList);
    }

    #[test]
    fn null_lists_and_names_read_as_empty() {
        let meta: FieldMetadata = serde_json::from_value(serde_json::json!({
            "key": "x", "name": null, "operations": null, "schema": {"type": null}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(meta.id(), Some("x"));
        assert!(meta.operations.is_empty() && meta.name.is_empty());
    }
}
