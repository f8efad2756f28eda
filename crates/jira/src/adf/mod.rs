//! Atlassian Document Format (ADF): the rich-text format Jira Cloud's REST v3 requires for
//! descriptions, environments, textarea custom fields and comment bodies.
//!
//! This module owns every conversion jiraflow does: Markdown -> ADF ([`from_markdown`]), plain
//! text -> ADF ([`from_plain_text`]), ADF -> Markdown ([`to_markdown`]), ADF -> plain text
//! ([`to_text`]), and [`RichText`], the one way callers turn "a string or an ADF document" into
//! the ADF Jira accepts, so a plain string is converted and never sent raw (v3 answers 400).
//! Documents are `serde_json::Value`s because Jira's node set grows; the builders here only
//! emit nodes the published ADF schema accepts and never emit empty text nodes. The mapping is
//! documented in `docs/adf.md`.

mod from_markdown;
mod to_markdown;
mod to_text;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub use from_markdown::from_markdown;
pub use to_markdown::to_markdown;
pub use to_text::{from_plain_text, to_text};

/// Rich text as a caller supplies it: Markdown (or plain text, which is valid Markdown) or a
/// ready ADF document.
#[derive(Debug, Clone, PartialEq)]
pub enum RichText {
    /// Markdown, converted with [`from_markdown`].
    Markdown(String),
    /// Plain text, converted with [`from_plain_text`] (every newline kept).
    PlainText(String),
    /// An ADF document, checked with [`check_doc`] and sent as is.
    Adf(Value),
}

impl RichText {
    /// The ADF document to send. Markdown and plain text are converted; a given ADF value must be
    /// an object with `"type": "doc"`, `"version": 1` and a `content` array, else
    /// [`Error::InvalidInput`] says what is wrong.
    pub fn into_adf(self) -> Result<Value> {
        match self {
            Self::Markdown(text) => Ok(from_markdown(&text)),
            Self::PlainText(text) => Ok(from_plain_text(&text)),
            Self::Adf(doc) => {
                check_doc(&doc)?;
                Ok(doc)
            }
        }
    }
}

impl From<&str> for RichText {
    fn from(text: &str) -> Self {
        Self::Markdown(text.to_owned())
    }
}

impl From<String> for RichText {
    fn from(text: String) -> Self {
        Self::Markdown(text)
    }
}

impl From<Value> for RichText {
    /// A JSON string is Markdown; anything else is taken as an ADF document.
    fn from(value: Value) -> Self {
        match value {
            Value::String(text) => Self::Markdown(text),
            other => Self::Adf(other),
        }
    }
}

/// Every node type of the ADF schema (`adf-full.schema.json`), marks excluded.
const NODE_TYPES: &[&str] = &[
    "blockCard",
    "blockquote",
    "bodiedExtension",
    "bulletList",
    "codeBlock",
    "date",
    "decisionItem",
    "decisionList",
    "doc",
    "embedCard",
    "emoji",
    "expand",
    "extension",
    "extensionFrame",
    "hardBreak",
    "heading",
    "inlineCard",
    "inlineExtension",
    "layoutColumn",
    "layoutSection",
    "listItem",
    "media",
    "mediaGroup",
    "mediaInline",
    "mediaSingle",
    "mention",
    "multiBodiedExtension",
    "nestedExpand",
    "orderedList",
    "panel",
    "paragraph",
    "placeholder",
    "rule",
    "status",
    "table",
    "tableCell",
    "tableHeader",
    "tableRow",
    "taskItem",
    "taskList",
    "text",
];

/// Deepest nesting checked; Jira's own limit is far below it.
const MAX_DEPTH: usize = 64;

/// Checks an ADF document: the envelope (an object with `"type": "doc"`, `"version": 1` and a
/// `content` array), and that every node below it is an object with a known `type` (and text nodes
/// have a `text` string), naming the path of the first offending node (`content[0].content[2]`).
/// Attribute- and nesting-rule validation stays Jira's (it answers 400).
pub fn check_doc(doc: &Value) -> Result<()> {
    check_envelope(doc)?;
    if let Some(Value::Array(children)) = doc.get("content") {
        check_children(children, "content", 1)?;
    }
    Ok(())
}

fn check_children(children: &[Value], path: &str, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(invalid(format!(
            "ADF document nests deeper than {MAX_DEPTH} levels at {path}"
        )));
    }
    for (i, node) in children.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let Some(obj) = node.as_object() else {
            return Err(invalid(format!(
                "ADF node at {here} must be an object, got {}",
                kind_of(node)
            )));
        };
        match obj.get("type") {
            Some(Value::String(t)) if t == "doc" => {
                return Err(invalid(format!(
                    "ADF node at {here} is a nested \"doc\"; only the root is a doc"
                )));
            }
            Some(Value::String(t)) if NODE_TYPES.contains(&t.as_str()) => {
                if t == "text" && !obj.get("text").is_some_and(Value::is_string) {
                    return Err(invalid(format!(
                        "ADF text node at {here} has no \"text\" string"
                    )));
                }
            }
            Some(Value::String(t)) => {
                return Err(invalid(format!(
                    "ADF node at {here} has unknown type {t:?}"
                )));
            }
            Some(other) => {
                return Err(invalid(format!(
                    "ADF node at {here} has a non-string \"type\": {other}"
                )));
            }
            None => return Err(invalid(format!("ADF node at {here} has no \"type\""))),
        }
        match obj.get("content") {
            None => {}
            Some(Value::Array(grandchildren)) => {
                check_children(grandchildren, &format!("{here}.content"), depth + 1)?;
            }
            Some(other) => {
                return Err(invalid(format!(
                    "ADF node at {here} has \"content\" that is {}, not an array",
                    kind_of(other)
                )));
            }
        }
    }
    Ok(())
}

fn check_envelope(doc: &Value) -> Result<()> {
    let Some(obj) = doc.as_object() else {
        return Err(invalid(format!(
            "ADF document must be a JSON object, got {}",
            kind_of(doc)
        )));
    };
    match obj.get("type") {
        Some(Value::String(t)) if t == "doc" => {}
        Some(other) => {
            return Err(invalid(format!(
                "ADF document must have \"type\": \"doc\", got {other}"
            )));
        }
        None => {
            return Err(invalid(
                "ADF document has no \"type\" (expected \"doc\")".into(),
            ));
        }
    }
    match obj.get("version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(other) => {
            return Err(invalid(format!(
                "ADF document must have \"version\": 1, got {other}"
            )));
        }
        None => {
            return Err(invalid(
                "ADF document has no \"version\" (expected 1)".into(),
            ));
        }
    }
    match obj.get("content") {
        Some(Value::Array(_)) => Ok(()),
        Some(other) => Err(invalid(format!(
            "ADF document \"content\" must be an array, got {}",
            kind_of(other)
        ))),
        None => Err(invalid("ADF document has no \"content\" array".into())),
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidInput(message)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An empty document: `{"type": "doc", "version": 1, "content": []}`.
pub fn empty_doc() -> Value {
    doc(Vec::new())
}

/// A document around `content`.
pub(crate) fn doc(content: Vec<Value>) -> Value {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from("doc"));
    obj.insert("version".into(), Value::from(1));
    obj.insert("content".into(), Value::Array(content));
    Value::Object(obj)
}

/// A node `{"type": kind, "content": content}`. Built by hand: `json!` would deep-copy `content`
/// (it serializes its arguments), which made nesting quadratic.
pub(crate) fn node(kind: &str, content: Vec<Value>) -> Value {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from(kind));
    obj.insert("content".into(), Value::Array(content));
    Value::Object(obj)
}

/// A node `{"type": kind, "attrs": attrs, "content": content}`.
pub(crate) fn node_with_attrs(kind: &str, attrs: Value, content: Vec<Value>) -> Value {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from(kind));
    obj.insert("attrs".into(), attrs);
    obj.insert("content".into(), Value::Array(content));
    Value::Object(obj)
}

/// The `type` of a node, or "" for anything that is not a node.
pub(crate) fn node_type(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The `content` array of a node, empty when absent.
pub(crate) fn children(node: &Value) -> &[Value] {
    node.get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A string attribute of a node.
pub(crate) fn attr_str<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    node.get("attrs")?.get(name)?.as_str()
}

/// Appends a text node to `inline`, merging it into the previous text node when the marks are
/// identical, and dropping it when empty (ADF rejects empty text nodes).
pub(crate) fn push_text(inline: &mut Vec<Value>, text: &str, marks: &[Value]) {
    if text.is_empty() {
        return;
    }
    if let Some(Value::Object(last)) = inline.last_mut()
        && last.get("type").and_then(Value::as_str) == Some("text")
        && marks_of(last) == marks
        && let Some(Value::String(existing)) = last.get_mut("text")
    {
        existing.push_str(text);
        return;
    }
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from("text"));
    obj.insert("text".into(), Value::from(text));
    if !marks.is_empty() {
        obj.insert("marks".into(), Value::Array(marks.to_vec()));
    }
    inline.push(Value::Object(obj));
}

/// The marks of a node object (empty when absent).
pub(crate) fn marks_of(obj: &Map<String, Value>) -> &[Value] {
    obj.get("marks")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rich_text_markdown_becomes_a_doc() {
        let doc = RichText::from("hello *world*").into_adf().unwrap();
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["content"][0]["content"][1]["marks"][0]["type"], "em");
    }

    #[test]
    fn an_unknown_node_type_is_refused_with_its_path() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "ok"}]},
            {"type": "bulletList", "content": [{"type": "nonsense"}]}
        ]});
        let err = check_doc(&doc).unwrap_err().to_string();
        assert!(err.contains("content[1].content[0]"), "{err}");
        assert!(err.contains("\"nonsense\""), "{err}");
        let textless = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text"}]}
        ]});
        let err = check_doc(&textless).unwrap_err().to_string();
        assert!(err.contains("content[0].content[0]"), "{err}");
    }

    #[test]
    fn every_markdown_conversion_passes_the_node_check() {
        let doc = RichText::from("# T\n\n- a\n- **b** `c`\n\n> q\n\n```\nx\n```\n\n1. one")
            .into_adf()
            .unwrap();
        check_doc(&doc).unwrap();
    }

    #[test]
    fn rich_text_rejects_adf_without_doc_envelope() {
        let err = RichText::Adf(json!({"type": "paragraph"}))
            .into_adf()
            .unwrap_err();
        assert!(err.to_string().contains("\"type\": \"doc\""), "{err}");
        let err = RichText::Adf(json!({"type": "doc", "content": []}))
            .into_adf()
            .unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
        let err = RichText::Adf(json!({"type": "doc", "version": 1, "content": {}}))
            .into_adf()
            .unwrap_err();
        assert!(err.to_string().contains("array"), "{err}");
        let err = RichText::Adf(json!([1])).into_adf().unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
    }

    #[test]
    fn json_strings_are_markdown_and_objects_are_adf() {
        assert!(matches!(RichText::from(json!("x")), RichText::Markdown(_)));
        assert!(matches!(RichText::from(empty_doc()), RichText::Adf(_)));
        assert_eq!(RichText::from(empty_doc()).into_adf().unwrap(), empty_doc());
    }

    #[test]
    fn push_text_merges_equal_marks_and_skips_empty_text() {
        let mut inline = Vec::new();
        push_text(&mut inline, "a", &[]);
        push_text(&mut inline, "", &[]);
        push_text(&mut inline, "b", &[]);
        push_text(&mut inline, "c", &[json!({"type": "em"})]);
        assert_eq!(
            Value::Array(inline),
            json!([{"type": "text", "text": "ab"}, {"type": "text", "text": "c", "marks": [{"type": "em"}]}])
        );
    }
}
