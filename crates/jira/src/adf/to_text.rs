//! Plain text in both directions: ADF -> text for logs, webhook bodies and search (blocks on
//! their own lines, list items prefixed, mentions as their names), and text -> ADF for callers
//! whose input is not Markdown (blank lines separate paragraphs, newlines are hard breaks).

use serde_json::{Value, json};

use super::{attr_str, children, doc, node, node_type, push_text};

/// Converts plain text to an ADF document: paragraphs split on blank lines, single newlines
/// become hard breaks, nothing is interpreted as markup. Never emits empty text nodes.
pub fn from_plain_text(text: &str) -> Value {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.split('\n') {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(paragraph(&current));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(paragraph(&current));
    }
    doc(paragraphs)
}

fn paragraph(lines: &[&str]) -> Value {
    let mut inline = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            inline.push(json!({"type": "hardBreak"}));
        }
        push_text(&mut inline, line, &[]);
    }
    node("paragraph", inline)
}

/// Converts an ADF document (or any node) to plain text: one line per paragraph, heading, list
/// item and table row; hard breaks are newlines; mentions, emoji, statuses and cards are their
/// text. Trailing newlines are trimmed.
pub fn to_text(adf: &Value) -> String {
    let mut out = String::new();
    block(adf, "", &mut out);
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out
}

/// Appends `node` as lines, each prefixed with `indent`.
fn block(node: &Value, indent: &str, out: &mut String) {
    match node_type(node) {
        "doc" | "blockquote" | "panel" | "expand" | "nestedExpand" | "layoutSection"
        | "layoutColumn" | "bodiedExtension" | "listItem" | "tableCell" | "tableHeader" => {
            for child in children(node) {
                block(child, indent, out);
            }
        }
        "bulletList" | "orderedList" | "taskList" | "decisionList" => {
            let start = node
                .get("attrs")
                .and_then(|a| a.get("order"))
                .and_then(Value::as_u64)
                .unwrap_or(1);
            for (i, item) in children(node).iter().enumerate() {
                let marker = match node_type(node) {
                    "orderedList" => format!("{}. ", start + i as u64),
                    "taskList" => match attr_str(item, "state") {
                        Some("DONE") => "[x] ".to_owned(),
                        _ => "[ ] ".to_owned(),
                    },
                    _ => "- ".to_owned(),
                };
                let mut item_text = String::new();
                if matches!(node_type(item), "taskItem" | "decisionItem") {
                    inline_line(children(item), &mut item_text);
                    item_text.push('\n');
                } else {
                    block(item, "", &mut item_text);
                }
                let pad = " ".repeat(marker.len());
                for (n, line) in item_text.trim_end_matches('\n').split('\n').enumerate() {
                    out.push_str(indent);
                    out.push_str(if n == 0 { &marker } else { &pad });
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        "tableRow" => {
            let cells: Vec<String> = children(node)
                .iter()
                .map(|cell| {
                    let mut text = String::new();
                    block(cell, "", &mut text);
                    text.trim_end_matches('\n').replace('\n', " ")
                })
                .collect();
            out.push_str(indent);
            out.push_str(&cells.join(" | "));
            out.push('\n');
        }
        "table" => {
            for row in children(node) {
                block(row, indent, out);
            }
        }
        "codeBlock" => {
            let mut text = String::new();
            inline_line(children(node), &mut text);
            for line in text.split('\n') {
                out.push_str(indent);
                out.push_str(line);
                out.push('\n');
            }
        }
        "rule" => {
            out.push_str(indent);
            out.push_str("---\n");
        }
        "mediaSingle" | "mediaGroup" | "media" => {}
        _ => {
            let mut text = String::new();
            inline_line(std::slice::from_ref(node), &mut text);
            if node_type(node) == "paragraph" || node_type(node) == "heading" || !text.is_empty() {
                for line in text.split('\n') {
                    out.push_str(indent);
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
}

/// Appends the text of inline nodes (and of anything nested in them).
fn inline_line(nodes: &[Value], out: &mut String) {
    for node in nodes {
        match node_type(node) {
            "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
            "hardBreak" => out.push('\n'),
            "mention" => match attr_str(node, "text") {
                Some(text) if !text.is_empty() => out.push_str(text),
                _ => {
                    out.push('@');
                    out.push_str(attr_str(node, "id").unwrap_or(""));
                }
            },
            "emoji" => out.push_str(
                attr_str(node, "text")
                    .or_else(|| attr_str(node, "shortName"))
                    .unwrap_or(""),
            ),
            "status" => out.push_str(attr_str(node, "text").unwrap_or("")),
            "inlineCard" | "blockCard" | "embedCard" => {
                out.push_str(attr_str(node, "url").unwrap_or(""));
            }
            "date" => {
                let date = attr_str(node, "timestamp")
                    .and_then(|t| t.parse::<i64>().ok())
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|d| d.format("%Y-%m-%d").to_string());
                out.push_str(date.as_deref().unwrap_or(""));
            }
            _ => inline_line(children(node), out),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::adf::from_markdown;

    #[test]
    fn plain_text_splits_paragraphs_and_keeps_newlines() {
        let doc = from_plain_text("a\nb\n\n\n*c*\r\n");
        assert_eq!(
            doc["content"],
            json!([
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}
                ]},
                {"type": "paragraph", "content": [{"type": "text", "text": "*c*"}]}
            ])
        );
        assert_eq!(from_plain_text("\n \n")["content"], json!([]));
    }

    #[test]
    fn text_puts_blocks_on_lines_and_prefixes_list_items() {
        let doc = from_markdown(
            "# Title\n\nHello [~accountid:abc|@Jane] and @[xyz]\\\nnext\n\n- one\n  1. nested\n- two\n\n3. three\n\n> quoted\n\n```\ncode\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        );
        assert_eq!(
            to_text(&doc),
            "Title\nHello @Jane and @xyz\nnext\n- one\n  1. nested\n- two\n3. three\nquoted\ncode\na | b\n1 | 2"
        );
    }

    #[test]
    fn text_of_an_empty_doc_is_empty() {
        assert_eq!(to_text(&crate::adf::empty_doc()), "");
    }
}
