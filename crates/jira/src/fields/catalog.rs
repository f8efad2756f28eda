//! The field catalog of one site: every field by id, `cf[N]`, key and (case-insensitive) name,
//! with close-match suggestions for unknown names, and `fields` objects built from plain inputs.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::meta::{FieldDetails, FieldMeta, FieldMetadata};
use super::{FieldError, coerce};

/// How many close matches an unknown-field error lists.
const MAX_SUGGESTIONS: usize = 5;

/// The fields of one site, addressable by id, key or name.
#[derive(Debug, Clone, Default)]
pub struct FieldCatalog {
    fields: Vec<FieldMeta>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl FieldCatalog {
    /// A catalog of the fields `GET /field` returned.
    pub fn from_fields(fields: impl IntoIterator<Item = FieldDetails>) -> Self {
        Self::from_meta(fields.into_iter().map(FieldMeta::from))
    }

    /// A catalog of already-built field metadata.
    pub fn from_meta(fields: impl IntoIterator<Item = FieldMeta>) -> Self {
        let mut catalog = FieldCatalog::default();
        for field in fields {
            catalog.push(field);
        }
        catalog
    }

    /// The catalog with createmeta or editmeta entries merged in: required flags, allowed values
    /// and operations. Entries for fields the catalog lacks are added.
    pub fn with_metadata<'m>(
        mut self,
        metadata: impl IntoIterator<Item = &'m FieldMetadata>,
    ) -> Self {
        for meta in metadata {
            let Some(id) = meta.id() else { continue };
            match self.by_id.get(id).copied() {
                Some(index) => {
                    if let Some(field) = self.fields.get_mut(index) {
                        field.merge(meta);
                    }
                }
                None => {
                    if let Some(field) = FieldMeta::from_metadata(meta) {
                        self.push(field);
                    }
                }
            }
        }
        self
    }

    fn push(&mut self, field: FieldMeta) {
        if let Some(&index) = self.by_id.get(&field.id) {
            // A repeated id replaces the earlier entry; names are re-indexed below.
            if let Some(slot) = self.fields.get_mut(index) {
                *slot = field;
            }
            self.reindex_names();
            return;
        }
        let index = self.fields.len();
        self.by_id.insert(field.id.clone(), index);
        self.by_name
            .entry(fold(&field.name))
            .or_default()
            .push(index);
        self.fields.push(field);
    }

    fn reindex_names(&mut self) {
        self.by_name.clear();
        for (index, field) in self.fields.iter().enumerate() {
            self.by_name
                .entry(fold(&field.name))
                .or_default()
                .push(index);
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the catalog has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Every field, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &FieldMeta> {
        self.fields.iter()
    }

    /// The field with exactly this id.
    pub fn by_id(&self, id: &str) -> Option<&FieldMeta> {
        self.by_id.get(id).and_then(|&i| self.fields.get(i))
    }

    /// The field `reference` names: an id (`customfield_10016`, `summary`), `cf[10016]`, a key, or
    /// a name compared case-insensitively (`story points`).
    ///
    /// Ids win over names, so a field can always be addressed unambiguously by id.
    pub fn lookup(&self, reference: &str) -> Result<&FieldMeta, FieldError> {
        let reference = reference.trim();
        if let Some(field) = self.by_id(reference) {
            return Ok(field);
        }
        if let Some(number) = reference
            .strip_prefix("cf[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.trim().parse::<u64>().ok())
            && let Some(field) = self.by_id(&format!("customfield_{number}"))
        {
            return Ok(field);
        }
        if let Some(field) = self
            .fields
            .iter()
            .find(|f| f.key.as_deref() == Some(reference))
        {
            return Ok(field);
        }
        match self.by_name.get(&fold(reference)).map(Vec::as_slice) {
            Some([index]) => self
                .fields
                .get(*index)
                .ok_or_else(|| self.unknown(reference)),
            Some(indices) if indices.len() > 1 => Err(FieldError::AmbiguousField {
                given: reference.to_owned(),
                candidates: indices
                    .iter()
                    .filter_map(|&i| self.fields.get(i))
                    .map(label)
                    .collect(),
            }),
            _ => Err(self.unknown(reference)),
        }
    }

    fn unknown(&self, reference: &str) -> FieldError {
        let wanted = fold(reference);
        let budget = (wanted.chars().count() / 3).max(2);
        let mut scored: Vec<(usize, &FieldMeta)> = self
            .fields
            .iter()
            .filter_map(|field| {
                let name = fold(&field.name);
                let distance = edit_distance(&wanted, &name)
                    .min(edit_distance(&wanted, &field.id.to_lowercase()));
                let contains = !wanted.is_empty()
                    && !name.is_empty()
                    && (name.contains(&wanted) || wanted.contains(&name));
                (distance <= budget || contains).then_some((distance, field))
            })
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        FieldError::UnknownField {
            given: reference.to_owned(),
            suggestions: scored
                .into_iter()
                .take(MAX_SUGGESTIONS)
                .map(|(_, f)| label(f))
                .collect(),
        }
    }

    /// Coerces `input` for the field `reference` names; returns the field id and the JSON value.
    pub fn coerce(&self, reference: &str, input: Value) -> Result<(String, Value), FieldError> {
        let field = self.lookup(reference)?;
        Ok((field.id.clone(), coerce(field, input)?))
    }

    /// Builds an `IssueUpdateDetails` `fields` object from `name-or-id → plain value` pairs.
    ///
    /// Every input is tried; when several fail, the error is [`FieldError::Several`] listing all
    /// of them (as Jira reports every failing field of a request at once). Two inputs naming the
    /// same field are an error rather than a silent overwrite.
    pub fn coerce_all<K: AsRef<str>>(
        &self,
        inputs: impl IntoIterator<Item = (K, Value)>,
    ) -> Result<Map<String, Value>, FieldError> {
        let mut fields = Map::new();
        let mut sources: HashMap<String, String> = HashMap::new();
        let mut errors = Vec::new();
        for (reference, input) in inputs {
            let reference = reference.as_ref();
            match self.coerce(reference, input) {
                Ok((id, value)) => {
                    if let Some(first) = sources.get(&id) {
                        errors.push(FieldError::DuplicateField {
                            id: id.clone(),
                            first: first.clone(),
                            second: reference.to_owned(),
                        });
                        continue;
                    }
                    sources.insert(id.clone(), reference.to_owned());
                    fields.insert(id, value);
                }
                Err(error) => errors.push(error),
            }
        }
        match errors.len() {
            0 => Ok(fields),
            1 => Err(errors.remove(0)),
            _ => Err(FieldError::Several(errors)),
        }
    }
}

/// `Name (id)`, as errors show fields.
fn label(field: &FieldMeta) -> String {
    format!("{} ({})", field.name, field.id)
}

/// Case-insensitive, whitespace-trimmed form of a field name.
fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Levenshtein distance over characters; names are short, so the quadratic cost is irrelevant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let insertion = current[j] + 1;
            let deletion = previous[j + 1] + 1;
            current.push(substitution.min(insertion).min(deletion));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("story points", "story point"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("team", "team"), 0);
    }
}
