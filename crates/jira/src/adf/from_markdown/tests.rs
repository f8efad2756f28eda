//! Unit tests of Markdown -> ADF, one per construct.

use super::*;

fn content(md: &str) -> Value {
    from_markdown(md)["content"].clone()
}

#[test]
fn paragraph_with_marks() {
    assert_eq!(
        content("a **b** *c* ~~d~~ `e`"),
        json!([{"type": "paragraph", "content": [
            {"type": "text", "text": "a "},
            {"type": "text", "text": "b", "marks": [{"type": "strong"}]},
            {"type": "text", "text": " "},
            {"type": "text", "text": "c", "marks": [{"type": "em"}]},
            {"type": "text", "text": " "},
            {"type": "text", "text": "d", "marks": [{"type": "strike"}]},
            {"type": "text", "text": " "},
            {"type": "text", "text": "e", "marks": [{"type": "code"}]}
        ]}])
    );
}

#[test]
fn headings_keep_their_level() {
    for level in 1..=6 {
        let md = format!("{} Title", "#".repeat(level));
        assert_eq!(content(&md)[0]["attrs"]["level"], level);
    }
}

#[test]
fn links_and_autolinks_become_link_marks() {
    let c = content("[site](https://x.test/a) <https://y.test>");
    assert_eq!(
        c[0]["content"][0]["marks"][0]["attrs"]["href"],
        "https://x.test/a"
    );
    assert_eq!(c[0]["content"][2]["text"], "https://y.test");
    assert_eq!(
        c[0]["content"][2]["marks"][0]["attrs"]["href"],
        "https://y.test"
    );
}

#[test]
fn email_autolinks_get_the_mailto_scheme() {
    let c = content("<a@b.test>");
    assert_eq!(c[0]["content"][0]["text"], "a@b.test");
    assert_eq!(
        c[0]["content"][0]["marks"][0]["attrs"]["href"],
        "mailto:a@b.test"
    );
}

#[test]
fn ordered_lists_record_a_start_other_than_one() {
    assert_eq!(content("3. a\n4. b")[0]["attrs"]["order"], 3);
    assert!(content("1. a")[0].get("attrs").is_none());
    assert_eq!(
        content("- a\n  - b")[0]["content"][0]["content"][1]["type"],
        "bulletList"
    );
}

#[test]
fn code_blocks_keep_language_and_text() {
    assert_eq!(
        content("```rust\nfn main() {}\n```"),
        json!([{"type": "codeBlock", "attrs": {"language": "rust"}, "content": [{"type": "text", "text": "fn main() {}"}]}])
    );
    assert_eq!(
        content("```\n```"),
        json!([{"type": "codeBlock", "content": []}])
    );
}

#[test]
fn mentions_in_both_syntaxes() {
    let c = content("hi @[5b10a2844c20165700ede21g] and [~accountid:557058:abc-1|Jane Doe]");
    assert_eq!(
        c[0]["content"],
        json!([
            {"type": "text", "text": "hi "},
            {"type": "mention", "attrs": {"id": "5b10a2844c20165700ede21g"}},
            {"type": "text", "text": " and "},
            {"type": "mention", "attrs": {"id": "557058:abc-1", "text": "Jane Doe"}}
        ])
    );
    // Not a mention: escaped brackets, or a label that is no account id.
    assert_eq!(content("@\\[x\\]")[0]["content"][0]["text"], "@[x]");
    assert_eq!(
        content("[not an id]")[0]["content"][0]["text"],
        "[not an id]"
    );
}

#[test]
fn soft_breaks_are_spaces_and_hard_breaks_stay() {
    assert_eq!(content("a\nb")[0]["content"][0]["text"], "a b");
    assert_eq!(content("a\\\nb")[0]["content"][1]["type"], "hardBreak");
}

#[test]
fn tables_have_header_and_body_cells_holding_paragraphs() {
    let c = content("| a | b |\n|---|---|\n| 1 |  |");
    assert_eq!(c[0]["content"][0]["content"][0]["type"], "tableHeader");
    assert_eq!(c[0]["content"][1]["content"][0]["type"], "tableCell");
    assert_eq!(
        c[0]["content"][1]["content"][1]["content"],
        json!([{"type": "paragraph", "content": []}])
    );
}

#[test]
fn images_and_html_degrade_to_text() {
    let c = content("![logo](https://x.test/l.png) <b>x</b>");
    assert_eq!(c[0]["content"][0]["text"], "logo");
    assert_eq!(
        c[0]["content"][0]["marks"][0]["attrs"]["href"],
        "https://x.test/l.png"
    );
    assert_eq!(c[0]["content"][1]["text"], " <b>x</b>");
}

#[test]
fn disallowed_blocks_inside_lists_and_quotes_degrade() {
    let c = content("- # h\n\n  > q\n\n> # h2\n> > inner\n> ---");
    assert_eq!(c[0]["content"][0]["content"][0]["type"], "paragraph");
    assert_eq!(c[0]["content"][0]["content"][1]["type"], "paragraph");
    assert_eq!(
        c[1]["content"]
            .as_array()
            .map(|a| a.iter().map(node_type).collect::<Vec<_>>()),
        Some(vec!["paragraph", "paragraph"])
    );
}

#[test]
fn code_inside_strong_keeps_only_the_code_mark() {
    let c = content("**`x`**");
    assert_eq!(c[0]["content"][0]["marks"], json!([{"type": "code"}]));
}

#[test]
fn empty_input_is_an_empty_doc() {
    assert_eq!(
        from_markdown(""),
        json!({"type": "doc", "version": 1, "content": []})
    );
}
