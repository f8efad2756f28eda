//! Unit tests of ADF -> Markdown, one per construct, each checked to read back to the same ADF.

use serde_json::{Value, json};

use super::to_markdown;
use crate::adf::from_markdown;

fn para(content: Value) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": content}]})
}

fn text(t: &str, marks: Value) -> Value {
    json!({"type": "text", "text": t, "marks": marks})
}

/// Renders `doc`, checks the Markdown, and checks it reads back to `doc`.
fn round_trip(doc: &Value, markdown: &str) {
    assert_eq!(to_markdown(doc), markdown);
    assert_eq!(&from_markdown(markdown), doc, "{markdown}");
}

#[test]
fn special_characters_are_escaped() {
    let doc = para(json!([{"type": "text", "text": "*a* _b_ `c` [d] <e> f|g ~h~ &amp; \\"}]));
    round_trip(
        &doc,
        "\\*a\\* \\_b\\_ \\`c\\` \\[d\\] \\<e\\> f\\|g \\~h\\~ \\&amp; \\\\\n",
    );
}

#[test]
fn block_starters_are_escaped_only_at_line_start() {
    let doc = para(json!([
        {"type": "text", "text": "- a - b"}, {"type": "hardBreak"},
        {"type": "text", "text": "1. x 2. y"}, {"type": "hardBreak"},
        {"type": "text", "text": "# z #"}
    ]));
    round_trip(&doc, "\\- a - b\\\n1\\. x 2. y\\\n\\# z #\n");
}

#[test]
fn edge_whitespace_is_written_as_character_references() {
    let doc = para(json!([{"type": "text", "text": "  padded "}]));
    round_trip(&doc, "&#32;&#32;padded&#32;\n");
}

#[test]
fn marks_nest_and_whitespace_moves_outside_delimiters() {
    let doc = para(json!([
        text("a", json!([{"type": "strong"}])),
        text("b", json!([{"type": "strong"}, {"type": "em"}])),
        {"type": "text", "text": " "},
        text("c", json!([{"type": "strike"}])),
    ]));
    round_trip(&doc, "**a*b*** ~~c~~\n");
    let spaced = para(json!([text("x ", json!([{"type": "em"}])), {"type": "text", "text": "y"}]));
    assert_eq!(to_markdown(&spaced), "*x* y\n");
}

#[test]
fn code_spans_use_a_fence_longer_than_their_backticks() {
    let doc = para(json!([text("a`b", json!([{"type": "code"}]))]));
    round_trip(&doc, "``a`b``\n");
    let edge = para(json!([text("`x", json!([{"type": "code"}]))]));
    round_trip(&edge, "`` `x ``\n");
}

#[test]
fn links_autolinks_and_awkward_destinations() {
    let href = json!([{"type": "link", "attrs": {"href": "https://x.test/a b(c)"}}]);
    round_trip(
        &para(json!([text("t", href)])),
        "[t](<https://x.test/a b(c)>)\n",
    );
    let auto = json!([{"type": "link", "attrs": {"href": "https://x.test"}}]);
    round_trip(
        &para(json!([text("https://x.test", auto)])),
        "<https://x.test>\n",
    );
}

#[test]
fn mentions_use_the_wiki_syntax_and_stand_alone_when_followed_by_brackets() {
    let m = |id: &str, name: Option<&str>| match name {
        Some(n) => json!({"type": "mention", "attrs": {"id": id, "text": n}}),
        None => json!({"type": "mention", "attrs": {"id": id}}),
    };
    round_trip(
        &para(json!([m("a1", Some("Ada")), m("b2", None), {"type": "text", "text": "(x)"}])),
        "[~accountid:a1|Ada][][~accountid:b2][](x)\n",
    );
    round_trip(
        &para(json!([{"type": "text", "text": "wow!"}, m("a1", None)])),
        "wow\\![~accountid:a1]\n",
    );
}

#[test]
fn adjacent_lists_of_one_kind_switch_markers() {
    let item = |t: &str| json!({"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": t}]}]});
    let doc = json!({"type": "doc", "version": 1, "content": [
        {"type": "bulletList", "content": [item("a")]},
        {"type": "bulletList", "content": [item("b")]},
        {"type": "orderedList", "attrs": {"order": 4}, "content": [item("c"), item("d")]},
        {"type": "orderedList", "content": [item("e")]}
    ]});
    round_trip(&doc, "- a\n\n* b\n\n4. c\n5. d\n\n1) e\n");
}

#[test]
fn code_blocks_pick_a_fence_longer_than_their_content() {
    let doc = json!({"type": "doc", "version": 1, "content": [
        {"type": "codeBlock", "attrs": {"language": "md"}, "content": [{"type": "text", "text": "```\nx"}]}
    ]});
    round_trip(&doc, "````md\n```\nx\n````\n");
}

#[test]
fn tables_escape_pipes_and_pad_short_rows() {
    let cell = |kind: &str, t: &str| json!({"type": kind, "content": [{"type": "paragraph", "content": [{"type": "text", "text": t}]}]});
    let doc = json!({"type": "doc", "version": 1, "content": [{"type": "table", "content": [
        {"type": "tableRow", "content": [cell("tableHeader", "a|b"), cell("tableHeader", "c")]},
        {"type": "tableRow", "content": [cell("tableCell", "1")]}
    ]}]});
    assert_eq!(
        to_markdown(&doc),
        "| a\\|b | c |\n| --- | --- |\n| 1 |  |\n"
    );
}

#[test]
fn empty_quote_still_separates_lists() {
    let doc = json!({"type": "doc", "version": 1, "content": [
        {"type": "blockquote", "content": [{"type": "paragraph", "content": []}]}
    ]});
    round_trip(&doc, ">\n");
}
