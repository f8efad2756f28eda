//! ADF -> Markdown. Owns block layout (lists, quotes, fences, GFM tables), the nesting of marks
//! as delimiters, and escaping, chosen so that Markdown -> ADF -> Markdown -> ADF is stable.
//! Nodes without a Markdown counterpart degrade to their text content.

mod inline;

use serde_json::Value;

use super::{attr_str, children, node_type};
use inline::{Mode, render_inline};

/// Converts an ADF document (or any ADF node) to Markdown. Never fails: unknown nodes degrade to
/// their text content, unknown marks are dropped.
pub fn to_markdown(adf: &Value) -> String {
    let blocks: &[Value] = if node_type(adf) == "doc" {
        children(adf)
    } else {
        std::slice::from_ref(adf)
    };
    let mut out = render_blocks(blocks);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn is_inline(node: &Value) -> bool {
    matches!(
        node_type(node),
        "text"
            | "hardBreak"
            | "mention"
            | "emoji"
            | "date"
            | "status"
            | "inlineCard"
            | "placeholder"
            | "mediaInline"
            | "inlineExtension"
    )
}

/// Renders sibling blocks separated by blank lines; adjacent lists of the same kind switch
/// markers so Markdown does not merge them.
fn render_blocks(blocks: &[Value]) -> String {
    render_blocks_with(blocks, false)
}

/// `tight`: inside a list item, a list right after a paragraph follows on the next line, so the
/// outer list stays tight.
fn render_blocks_with(blocks: &[Value], tight: bool) -> String {
    let mut out = Blocks {
        out: String::new(),
        previous_paragraph: false,
        tight,
    };
    let mut previous_list: Option<(&str, bool)> = None;
    // Inline nodes directly in a block container (foreign ADF) are gathered into one paragraph.
    let mut pending_inline: Vec<Value> = Vec::new();
    for block in blocks {
        if is_inline(block) {
            pending_inline.push(block.clone());
            continue;
        }
        if !pending_inline.is_empty() {
            let rendered = render_inline(&std::mem::take(&mut pending_inline), Mode::Block);
            if out.push(rendered, true, false) {
                previous_list = None;
            }
        }
        let kind = node_type(block);
        match kind {
            "bulletList" | "orderedList" | "taskList" | "decisionList" => {
                // Markdown merges adjacent lists with the same marker.
                let family = if kind == "orderedList" {
                    "ordered"
                } else {
                    "bullet"
                };
                let alternate = previous_list.is_some_and(|(k, alt)| k == family && !alt);
                let rendered = render_list(block, alternate);
                // Only a list whose first item has content and (if ordered) starts at 1 may
                // interrupt a paragraph.
                let first = rendered.lines().next().unwrap_or("");
                let can_interrupt = first.len() > 2
                    && (family == "bullet" || first.starts_with("1.") || first.starts_with("1)"));
                if out.push(rendered, false, can_interrupt) {
                    previous_list = Some((family, alternate));
                }
            }
            _ => {
                let rendered = render_block(block);
                if out.push(rendered, kind == "paragraph", false) {
                    previous_list = None;
                }
            }
        }
    }
    if !pending_inline.is_empty() {
        out.push(render_inline(&pending_inline, Mode::Block), true, false);
    }
    out.out
}

/// Rendered sibling blocks.
struct Blocks {
    out: String,
    previous_paragraph: bool,
    tight: bool,
}

impl Blocks {
    /// Appends a rendered block (nothing when empty); returns whether it appended.
    fn push(&mut self, rendered: String, paragraph: bool, list_can_interrupt: bool) -> bool {
        if rendered.is_empty() {
            return false;
        }
        if !self.out.is_empty() {
            let follows_on = self.tight && self.previous_paragraph && list_can_interrupt;
            self.out.push_str(if follows_on { "\n" } else { "\n\n" });
        }
        self.out.push_str(&rendered);
        self.previous_paragraph = paragraph;
        true
    }
}

fn render_block(block: &Value) -> String {
    match node_type(block) {
        "paragraph" => render_inline(children(block), Mode::Block),
        "heading" => {
            let level = block
                .get("attrs")
                .and_then(|a| a.get("level"))
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 6) as usize;
            let text = render_inline(children(block), Mode::Heading);
            if text.is_empty() {
                "#".repeat(level)
            } else {
                format!("{} {text}", "#".repeat(level))
            }
        }
        "codeBlock" => render_code_block(block),
        "blockquote" => {
            let inner = render_blocks(children(block));
            if inner.is_empty() {
                // An empty quote still separates what is around it.
                return ">".to_owned();
            }
            inner
                .lines()
                .map(|line| {
                    if line.is_empty() {
                        ">".to_owned()
                    } else {
                        format!("> {line}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        "rule" => "---".to_owned(),
        "table" => render_table(block),
        "blockCard" | "embedCard" => match attr_str(block, "url") {
            Some(url) => render_inline(
                &[serde_json::json!({"type": "inlineCard", "attrs": {"url": url}})],
                Mode::Block,
            ),
            None => String::new(),
        },
        // Media needs Jira's file ids; nothing of it survives in Markdown.
        "mediaSingle" | "mediaGroup" | "media" => String::new(),
        _ => {
            let kids = children(block);
            if kids.iter().any(is_inline) {
                render_inline(kids, Mode::Block)
            } else {
                render_blocks(kids)
            }
        }
    }
}

fn render_code_block(block: &Value) -> String {
    let text: String = children(block)
        .iter()
        .filter_map(|n| n.get("text").and_then(Value::as_str))
        .collect();
    let language = attr_str(block, "language").unwrap_or("");
    let (fence_char, longest) = if language.contains('`') {
        ('~', longest_run(&text, '~'))
    } else {
        ('`', longest_run(&text, '`'))
    };
    let fence = fence_char.to_string().repeat(longest.max(2) + 1);
    let language = language.replace('\n', " ");
    let mut out = format!("{fence}{}\n", language.trim());
    out.push_str(&text);
    if !text.is_empty() {
        out.push('\n');
    }
    out.push_str(&fence);
    out
}

fn longest_run(text: &str, c: char) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for ch in text.chars() {
        if ch == c {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

fn render_list(list: &Value, alternate: bool) -> String {
    let kind = node_type(list);
    let ordered = kind == "orderedList";
    let start = list
        .get("attrs")
        .and_then(|a| a.get("order"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let items = children(list);
    let mut rendered_items = Vec::with_capacity(items.len());
    let mut tight = true;
    for (i, item) in items.iter().enumerate() {
        let marker = if ordered {
            format!("{}{} ", start + i as u64, if alternate { ")" } else { "." })
        } else {
            (if alternate { "* " } else { "- " }).to_owned()
        };
        let body = match node_type(item) {
            // Task and decision items hold inline content; their state becomes a text prefix.
            "taskItem" | "decisionItem" => {
                let done = attr_str(item, "state").is_some_and(|s| s == "DONE" || s == "DECIDED");
                let prefix = if done { "\\[x\\] " } else { "\\[ \\] " };
                let text = render_inline(children(item), Mode::Block);
                format!("{prefix}{text}")
            }
            "taskList" | "bulletList" | "orderedList" => render_list(item, false),
            _ => render_blocks_with(children(item), true),
        };
        if body.contains("\n\n") {
            tight = false;
        }
        let indent = " ".repeat(marker.len());
        let mut out = String::new();
        // An item that opens with a nested list (its paragraph was empty) keeps its marker on a
        // line of its own: `- - -` on one line would read back as a thematic break.
        let opens_with_list = body.lines().next().is_some_and(starts_with_list_marker);
        if opens_with_list {
            out.push_str(marker.trim_end());
        }
        for (n, line) in body.lines().enumerate() {
            if n == 0 && !opens_with_list {
                out.push_str(&marker);
                out.push_str(line);
            } else {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&indent);
                    out.push_str(line);
                }
            }
        }
        if body.is_empty() {
            out.push_str(marker.trim_end());
        }
        rendered_items.push(out);
    }
    rendered_items.join(if tight { "\n" } else { "\n\n" })
}

/// Whether `line` begins with a bullet (`-`, `*`, `+`) or ordered (`1.`, `1)`) list marker.
fn starts_with_list_marker(line: &str) -> bool {
    let bullet = |c: char| matches!(c, '-' | '*' | '+');
    let mut chars = line.chars();
    match chars.next() {
        Some(c) if bullet(c) => matches!(chars.next(), None | Some(' ')),
        Some(c) if c.is_ascii_digit() => {
            let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
            let mut rest = rest.chars();
            matches!(rest.next(), Some('.' | ')')) && matches!(rest.next(), None | Some(' '))
        }
        _ => false,
    }
}

fn render_table(table: &Value) -> String {
    let rows: Vec<Vec<String>> = children(table)
        .iter()
        .map(|row| children(row).iter().map(render_cell).collect())
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut lines = Vec::with_capacity(rows.len() + 1);
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::from("|");
        for c in 0..columns {
            line.push(' ');
            line.push_str(row.get(c).map_or("", String::as_str));
            line.push_str(" |");
        }
        lines.push(line);
        if i == 0 {
            lines.push(format!("|{}", " --- |".repeat(columns)));
        }
    }
    lines.join("\n")
}

/// A GFM cell holds one line of inline content: the cell's blocks are joined with spaces.
fn render_cell(cell: &Value) -> String {
    let mut parts = Vec::new();
    collect_cell_parts(children(cell), &mut parts);
    parts.join(" ")
}

fn collect_cell_parts(blocks: &[Value], parts: &mut Vec<String>) {
    for block in blocks {
        let rendered = match node_type(block) {
            "paragraph" | "heading" => render_inline(children(block), Mode::Table),
            "codeBlock" => {
                let text: String = children(block)
                    .iter()
                    .filter_map(|n| n.get("text").and_then(Value::as_str))
                    .collect();
                let node =
                    serde_json::json!({"type": "text", "text": text, "marks": [{"type": "code"}]});
                if text.is_empty() {
                    String::new()
                } else {
                    render_inline(&[node], Mode::Table)
                }
            }
            _ if is_inline(block) => render_inline(std::slice::from_ref(block), Mode::Table),
            _ => {
                collect_cell_parts(children(block), parts);
                continue;
            }
        };
        if !rendered.is_empty() {
            parts.push(rendered);
        }
    }
}

#[cfg(test)]
mod tests;
