//! Validation of Atlassian Document Format bodies, as strict as Jira.
//!
//! REST v3 takes rich text (description, environment, textarea custom fields, comment bodies) only
//! as ADF documents. Jira answers a plain string with "Operation value must be an Atlassian
//! Document" and a malformed document with the bare code `INVALID_INPUT`; both are 400s keyed by
//! the field. Documents are checked against Atlassian's published JSON schema
//! (`testdata/jira/adf-full.schema.json`), compiled once.

use std::sync::LazyLock;

use serde_json::Value;

/// The message Jira puts in `errors.<field>` when a rich-text field gets anything but an ADF
/// object (a plain string, a number, an array).
pub const NOT_A_DOCUMENT: &str =
    "Operation value must be an Atlassian Document (see the Atlassian Document Format)";

/// The message Jira puts in `errors.<field>` for an object that is not a valid ADF document.
pub const INVALID_INPUT: &str = "INVALID_INPUT";

/// Why a value is not acceptable as ADF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdfError {
    /// Not a JSON object at all (typically a v2-style plain string).
    NotADocument,
    /// An object that does not validate against the ADF schema (unknown node, empty text node,
    /// wrong version ...).
    Invalid,
}

impl AdfError {
    /// The text Jira reports for this problem in `errors.<field>`.
    pub fn message(self) -> &'static str {
        match self {
            AdfError::NotADocument => NOT_A_DOCUMENT,
            AdfError::Invalid => INVALID_INPUT,
        }
    }
}

const SCHEMA_TEXT: &str = include_str!("../../../../testdata/jira/adf-full.schema.json");

/// The compiled validator, or `None` if the embedded schema failed to compile (then every object
/// is accepted after the structural checks below; a unit test guards against that).
static VALIDATOR: LazyLock<Option<jsonschema::Validator>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA_TEXT).ok()?;
    match jsonschema::draft4::new(&schema) {
        Ok(validator) => Some(validator),
        Err(err) => {
            tracing::error!(error = %err, "the embedded ADF schema does not compile");
            None
        }
    }
});

/// Checks that `value` is a valid ADF document.
pub fn validate(value: &Value) -> Result<(), AdfError> {
    let Value::Object(obj) = value else {
        return Err(AdfError::NotADocument);
    };
    // Cheap structural checks first: they catch the common mistakes without running the schema.
    if obj.get("type").and_then(Value::as_str) != Some("doc")
        || obj.get("version") != Some(&1.into())
    {
        return Err(AdfError::Invalid);
    }
    match VALIDATOR.as_ref() {
        Some(validator) if !validator.is_valid(value) => Err(AdfError::Invalid),
        _ => Ok(()),
    }
}

/// Whether the schema compiled (exposed for tests and start-up checks).
pub fn schema_loaded() -> bool {
    VALIDATOR.is_some()
}

/// The plain text of a document: text nodes joined, blocks separated by newlines. Used for
/// `renderedFields`, changelog display strings and JQL text matching.
pub fn plain_text(doc: &Value) -> String {
    let mut out = String::new();
    collect_text(doc, &mut out);
    out.trim_end().to_owned()
}

fn collect_text(node: &Value, out: &mut String) {
    match node.get("type").and_then(Value::as_str) {
        Some("text") => {
            if let Some(text) = node.get("text").and_then(Value::as_str) {
                out.push_str(text);
            }
        }
        Some("hardBreak") => out.push('\n'),
        Some("mention") => {
            if let Some(text) = node.pointer("/attrs/text").and_then(Value::as_str) {
                out.push_str(text);
            }
        }
        _ => {}
    }
    if let Some(children) = node.get("content").and_then(Value::as_array) {
        for child in children {
            collect_text(child, out);
        }
        let block = matches!(
            node.get("type").and_then(Value::as_str),
            Some("paragraph" | "heading" | "codeBlock" | "listItem" | "blockquote" | "tableRow")
        );
        if block && !out.ends_with('\n') {
            out.push('\n');
        }
    }
}

/// HTML for `renderedFields`: paragraphs and line breaks, text escaped. Jira renders richer HTML;
/// the simulator keeps to what clients usually read back.
pub fn to_html(doc: &Value) -> String {
    let text = plain_text(doc);
    let mut html = String::new();
    for para in text.split('\n').filter(|p| !p.is_empty()) {
        html.push_str("<p>");
        html.push_str(&escape_html(para));
        html.push_str("</p>");
    }
    html
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_embedded_schema_compiles() {
        assert!(schema_loaded());
    }

    #[test]
    fn a_minimal_paragraph_document_is_valid() {
        let doc = json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Hi"}]}]});
        assert_eq!(validate(&doc), Ok(()));
    }

    #[test]
    fn a_plain_string_is_not_a_document() {
        assert_eq!(validate(&json!("hello")), Err(AdfError::NotADocument));
        assert_eq!(validate(&json!(["x"])), Err(AdfError::NotADocument));
    }

    #[test]
    fn empty_text_nodes_and_unknown_nodes_are_invalid() {
        let empty = json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]});
        assert_eq!(validate(&empty), Err(AdfError::Invalid));
        let unknown = json!({"type":"doc","version":1,"content":[{"type":"sparkle"}]});
        assert_eq!(validate(&unknown), Err(AdfError::Invalid));
        let version = json!({"type":"doc","version":2,"content":[]});
        assert_eq!(validate(&version), Err(AdfError::Invalid));
    }

    #[test]
    fn a_large_real_document_is_valid() {
        let doc: Value = serde_json::from_str(include_str!(
            "../../../../testdata/jira/fixtures/jira-cli/adf/md.json"
        ))
        .expect("fixture parses");
        assert_eq!(validate(&doc), Ok(()));
    }

    #[test]
    fn plain_text_joins_blocks_with_newlines() {
        let doc = json!({"type":"doc","version":1,"content":[
            {"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]},
            {"type":"paragraph","content":[{"type":"text","text":"<c>"}]}]});
        assert_eq!(plain_text(&doc), "a\nb\n<c>");
        assert_eq!(to_html(&doc), "<p>a</p><p>b</p><p>&lt;c&gt;</p>");
    }
}
