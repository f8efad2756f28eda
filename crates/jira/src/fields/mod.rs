//! Custom fields: field metadata, the catalog that addresses fields by id, key or name, and
//! coercion of plain user input (`"Platform"`, `"2026-01-17"`, `"a, b"`) into the JSON shape each
//! field needs in an `IssueUpdateDetails` `fields` object.
//!
//! - [`meta`]: wire types of `GET /field` and createmeta/editmeta, [`FieldKind`], [`FieldCache`].
//! - `source`: [`JiraClient`](crate::client::JiraClient) as a [`FieldSource`];
//!   [`FieldCatalog::fetch`], [`FieldCatalog::fetch_for_create`], [`FieldCache::catalog`].
//! - [`coerce`](coerce()): one value for one field.
//! - [`FieldCatalog`]: lookup by id, `cf[N]`, key or name (case-insensitive), with close matches
//!   for unknown names and the candidate ids for ambiguous ones; [`FieldCatalog::coerce_all`]
//!   builds a whole `fields` object.
//!
//! ```
//! use jiraflow_jira::fields::{FieldCatalog, FieldMeta, FieldSchema};
//! use serde_json::json;
//!
//! let schema = FieldSchema {
//!     kind: "number".into(),
//!     custom: Some("com.atlassian.jira.plugin.system.customfieldtypes:float".into()),
//!     ..FieldSchema::default()
//! };
//! let catalog = FieldCatalog::from_meta([FieldMeta::new("customfield_10016", "Story Points", Some(schema))]);
//! let fields = catalog.coerce_all([("story points", json!("5"))]).unwrap();
//! assert_eq!(serde_json::Value::Object(fields), json!({"customfield_10016": 5}));
//! ```

mod catalog;
mod coerce;
pub mod meta;
mod source;

pub use catalog::FieldCatalog;
pub use coerce::coerce;
pub use meta::{
    CreateMetaFieldsPage, EditMeta, FieldCache, FieldDetails, FieldKind, FieldMeta, FieldMetadata,
    FieldSchema, FieldSource,
};

/// Why a field could not be found or a value could not be coerced. Every message names the field
/// (name and id) and says what was expected and what was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// No field has this id, key or name.
    #[error("unknown field '{given}'{}", did_you_mean(suggestions))]
    UnknownField {
        /// What the caller wrote.
        given: String,
        /// Close matches, as `Name (id)`.
        suggestions: Vec<String>,
    },
    /// Several fields share this name.
    #[error(
        "field name '{given}' is ambiguous: it names {}; use the field id instead",
        candidates.join(", ")
    )]
    AmbiguousField {
        /// What the caller wrote.
        given: String,
        /// The matching fields, as `Name (id)`.
        candidates: Vec<String>,
    },
    /// The value has the wrong shape or cannot be converted.
    #[error("field '{field}' ({id}) expects {expected}, but got {given}")]
    InvalidValue {
        /// The field's name.
        field: String,
        /// The field's id.
        id: String,
        /// What the field accepts.
        expected: String,
        /// What was given (abbreviated).
        given: String,
    },
    /// The value is not one of the field's allowed values.
    #[error(
        "field '{field}' ({id}) does not allow {given}; allowed values: {}",
        allowed.join(", ")
    )]
    NotAllowed {
        /// The field's name.
        field: String,
        /// The field's id.
        id: String,
        /// What was given.
        given: String,
        /// The allowed values (option values or names).
        allowed: Vec<String>,
    },
    /// A label contains whitespace, which Jira rejects.
    #[error(
        "field '{field}' ({id}): the label '{label}' contains spaces, which Jira does not allow"
    )]
    LabelHasSpaces {
        /// The field's name.
        field: String,
        /// The field's id.
        id: String,
        /// The offending label.
        label: String,
    },
    /// Text longer than the field allows.
    #[error("field '{field}' ({id}) takes at most {max} characters, but got {len}")]
    TooLong {
        /// The field's name.
        field: String,
        /// The field's id.
        id: String,
        /// The limit.
        max: usize,
        /// The given length in characters.
        len: usize,
    },
    /// A user field was given e-mail addresses: Jira needs account ids, so the caller must look
    /// the users up (`GET /user/search?query=`) and coerce again with the account ids.
    #[error(
        "field '{field}' ({id}) needs Atlassian account ids; look up {} first",
        emails.join(", ")
    )]
    UserLookupNeeded {
        /// The field's name.
        field: String,
        /// The field's id.
        id: String,
        /// The e-mail addresses to resolve.
        emails: Vec<String>,
    },
    /// Two inputs of one `coerce_all` call address the same field.
    #[error("'{first}' and '{second}' both name the field {id}")]
    DuplicateField {
        /// The field id both resolve to.
        id: String,
        /// The first input name.
        first: String,
        /// The second input name.
        second: String,
    },
    /// Several inputs of one `coerce_all` call failed; every failure is listed.
    #[error("{} fields are invalid: {}", .0.len(), join_errors(.0))]
    Several(Vec<FieldError>),
}

impl FieldError {
    /// Whether a field could not be found by the given name or id.
    pub fn is_unknown_field(&self) -> bool {
        self.any(|e| matches!(e, FieldError::UnknownField { .. }))
    }

    /// Whether a field name matched several fields.
    pub fn is_ambiguous(&self) -> bool {
        self.any(|e| matches!(e, FieldError::AmbiguousField { .. }))
    }

    /// Whether resolving e-mail addresses to account ids would fix (part of) this error.
    pub fn needs_user_lookup(&self) -> bool {
        self.any(|e| matches!(e, FieldError::UserLookupNeeded { .. }))
    }

    /// Every e-mail address that needs an account-id lookup, across all failures.
    pub fn user_lookups(&self) -> Vec<&str> {
        match self {
            FieldError::UserLookupNeeded { emails, .. } => {
                emails.iter().map(String::as_str).collect()
            }
            FieldError::Several(errors) => {
                errors.iter().flat_map(FieldError::user_lookups).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The id of the field the error is about, when it is about one field.
    pub fn field_id(&self) -> Option<&str> {
        match self {
            FieldError::InvalidValue { id, .. }
            | FieldError::NotAllowed { id, .. }
            | FieldError::LabelHasSpaces { id, .. }
            | FieldError::TooLong { id, .. }
            | FieldError::UserLookupNeeded { id, .. }
            | FieldError::DuplicateField { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The failures one by one (a single error yields itself).
    pub fn errors(&self) -> Vec<&FieldError> {
        match self {
            FieldError::Several(errors) => errors.iter().collect(),
            other => vec![other],
        }
    }

    fn any(&self, test: impl Fn(&FieldError) -> bool + Copy) -> bool {
        match self {
            FieldError::Several(errors) => errors.iter().any(|e| e.any(test)),
            other => test(other),
        }
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

fn join_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
