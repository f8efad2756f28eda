//! Options of the `IssueBean` renderer, parsed from query parameters or request bodies: the
//! field selection (`*all`, `*navigable`, ids, `-id` exclusions), the `expand` flags and the issue
//! property selection.

use std::collections::BTreeSet;

use super::field_defs::FieldInfo;

/// Which fields to put in `fields` (the `fields` query parameter / body list).
#[derive(Debug, Clone, Default)]
pub struct FieldSelection {
    all: bool,
    navigable: bool,
    pub(super) include: BTreeSet<String>,
    exclude: BTreeSet<String>,
}

impl FieldSelection {
    /// Every field (`*all`, the default of get issue).
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// Navigable fields (`*navigable`).
    pub fn navigable() -> Self {
        Self {
            navigable: true,
            ..Self::default()
        }
    }

    /// No fields (`fields` then is `{}`; the default of `search/jql`, which returns ids only).
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses `fields` items (each may itself be a comma-separated list): `*all`, `*navigable`,
    /// field ids, and `-id` exclusions. When only exclusions are given they apply to `default`.
    pub fn parse<S: AsRef<str>>(items: &[S], default: FieldSelection) -> Self {
        let mut selection = Self::default();
        let mut positive = false;
        for token in items
            .iter()
            .flat_map(|i| i.as_ref().split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            match token {
                "*all" => {
                    selection.all = true;
                    positive = true;
                }
                "*navigable" => {
                    selection.navigable = true;
                    positive = true;
                }
                "*none" => positive = true,
                t => match t.strip_prefix('-') {
                    Some(excluded) => {
                        selection.exclude.insert(excluded.to_owned());
                    }
                    None => {
                        selection.include.insert(t.to_owned());
                        positive = true;
                    }
                },
            }
        }
        if !positive {
            selection.all = default.all;
            selection.navigable = default.navigable;
            selection.include = default.include;
        }
        selection
    }

    pub(super) fn selects(&self, field: &FieldInfo, resolved_include: &BTreeSet<String>) -> bool {
        if self.exclude.contains(&field.id) {
            return false;
        }
        self.all || (self.navigable && field.navigable) || resolved_include.contains(&field.id)
    }
}

/// The `expand` options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expand {
    /// `renderedFields`.
    pub rendered_fields: bool,
    /// `names`.
    pub names: bool,
    /// `schema`.
    pub schema: bool,
    /// `transitions`.
    pub transitions: bool,
    /// `transitions.fields` (transition screens' fields).
    pub transitions_fields: bool,
    /// `editmeta`.
    pub editmeta: bool,
    /// `changelog`.
    pub changelog: bool,
    /// `operations`.
    pub operations: bool,
    /// `versionedRepresentations`.
    pub versioned_representations: bool,
}

impl Expand {
    /// Parses comma-separated expand items (unknown items are ignored like Jira does).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Self {
        let mut expand = Self::default();
        for token in items
            .iter()
            .flat_map(|i| i.as_ref().split(','))
            .map(str::trim)
        {
            match token {
                "renderedFields" => expand.rendered_fields = true,
                "names" => expand.names = true,
                "schema" => expand.schema = true,
                "transitions" => expand.transitions = true,
                "transitions.fields" => {
                    expand.transitions = true;
                    expand.transitions_fields = true;
                }
                "editmeta" => expand.editmeta = true,
                "changelog" => expand.changelog = true,
                "operations" => expand.operations = true,
                "versionedRepresentations" => expand.versioned_representations = true,
                _ => {}
            }
        }
        expand
    }
}

/// Which issue properties to include (`properties` parameter).
#[derive(Debug, Clone, Default)]
pub struct PropertySelection {
    all: bool,
    include: BTreeSet<String>,
    exclude: BTreeSet<String>,
}

impl PropertySelection {
    /// Parses `*all`, keys and `-key` exclusions (comma-separated items allowed).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Self {
        let mut selection = Self::default();
        for token in items
            .iter()
            .flat_map(|i| i.as_ref().split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if token == "*all" {
                selection.all = true;
            } else if let Some(key) = token.strip_prefix('-') {
                selection.exclude.insert(key.to_owned());
            } else {
                selection.include.insert(token.to_owned());
            }
        }
        selection
    }

    pub(super) fn any(&self) -> bool {
        self.all || !self.include.is_empty()
    }

    pub(super) fn selects(&self, key: &str) -> bool {
        !self.exclude.contains(key) && (self.all || self.include.contains(key))
    }
}

/// Everything that shapes an `IssueBean`.
#[derive(Debug, Clone, Default)]
pub struct IssueOptions {
    /// Fields to include.
    pub fields: FieldSelection,
    /// Expansions.
    pub expand: Expand,
    /// Issue properties to include.
    pub properties: PropertySelection,
}

impl IssueOptions {
    /// Get-issue defaults: all fields, no expansions, no properties.
    pub fn all_fields() -> Self {
        Self {
            fields: FieldSelection::all(),
            ..Self::default()
        }
    }

    /// Builds options from query-style values (`fields`, `expand`, `properties`), with
    /// `default_fields` applying when `fields` is absent or only has exclusions.
    pub fn from_query(
        fields: &[String],
        expand: &[String],
        properties: &[String],
        default_fields: FieldSelection,
    ) -> Self {
        Self {
            fields: FieldSelection::parse(fields, default_fields),
            expand: Expand::parse(expand),
            properties: PropertySelection::parse(properties),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(selection: &FieldSelection, fields: &[(&str, bool)]) -> Vec<String> {
        fields
            .iter()
            .map(|(id, navigable)| FieldInfo {
                id: (*id).to_owned(),
                name: (*id).to_owned(),
                schema: None,
                custom: false,
                navigable: *navigable,
                orderable: true,
                searchable: true,
                clause_names: Vec::new(),
                writable: crate::rest::field_defs::Writable::No,
                kind: None,
            })
            .filter(|f| selection.selects(f, &selection.include))
            .map(|f| f.id)
            .collect()
    }

    const FIELDS: &[(&str, bool)] = &[("summary", true), ("comment", false), ("status", true)];

    #[test]
    fn explicit_fields_select_only_themselves() {
        let s = FieldSelection::parse(&["summary", "status"], FieldSelection::all());
        assert_eq!(ids(&s, FIELDS), vec!["summary", "status"]);
    }

    #[test]
    fn exclusions_alone_apply_to_the_default() {
        let s = FieldSelection::parse(&["-comment"], FieldSelection::all());
        assert_eq!(ids(&s, FIELDS), vec!["summary", "status"]);
        let none = FieldSelection::parse::<&str>(&[], FieldSelection::none());
        assert!(ids(&none, FIELDS).is_empty());
    }

    #[test]
    fn navigable_leaves_out_comment_and_comma_lists_are_split() {
        let s = FieldSelection::parse(&["*navigable,-status"], FieldSelection::none());
        assert_eq!(ids(&s, FIELDS), vec!["summary"]);
    }

    #[test]
    fn expand_and_properties_parse_comma_lists() {
        let e = Expand::parse(&["names,transitions.fields", "changelog"]);
        assert!(e.names && e.transitions && e.transitions_fields && e.changelog);
        assert!(!e.schema);
        let p = PropertySelection::parse(&["*all,-secret"]);
        assert!(p.selects("a") && !p.selects("secret"));
    }
}
