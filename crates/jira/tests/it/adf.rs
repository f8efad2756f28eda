//! ADF conversion: every output validates against the published ADF schema, the real jira-cli
//! fixture survives ADF -> Markdown -> ADF, Markdown -> ADF -> Markdown is stable for generated
//! documents, and converted bodies are accepted by the simulator where plain strings are not.

#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use jiraflow_jira::adf::{self, RichText};
use jiraflow_jira::{ApiRequest, Error};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::core::{admin, start_sim};

fn workspace_file(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    std::fs::read_to_string(format!("{root}{path}")).unwrap()
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(&workspace_file("testdata/jira/adf-full.schema.json")).unwrap();
        jsonschema::draft4::new(&schema).unwrap()
    })
}

/// Panics with every schema violation and its path.
fn assert_valid(doc: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "ADF does not validate:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(doc).unwrap()
    );
    assert_no_empty_text(doc);
}

fn assert_no_empty_text(node: &Value) {
    if node["type"] == "text" {
        assert!(
            node["text"].as_str().is_some_and(|t| !t.is_empty()),
            "empty text node: {node}"
        );
    }
    if let Some(children) = node["content"].as_array() {
        children.iter().for_each(assert_no_empty_text);
    }
}

const RICH: &str = r#"# Release notes

Intro with **bold**, *italic*, ~~gone~~, `code`, a [link](https://example.com/a?b=1&c=2) and
<https://example.com/auto>, mail <ops@example.com>. Thanks [~accountid:5b10a2844c20165700ede21g|Ada Admin] and @[557058:f58131cb-b67d-43c7-b30d-6b58d40bd077]!
Line one\
line two

## Steps

1. First
2. Second with *emphasis*
   - nested bullet
   - another
3. Third

7) starts at seven
8) eight

- [ ] not a task list in ADF
- plain

> Quoted **text**
>
> ```sh
> echo quoted
> ```

```rust
fn main() {
    println!("hi");
}
```

---

| Field | Value |
| --- | :---: |
| `status` | **Done** |
| empty |  |

![diagram](https://example.com/d.png) and <span>raw html</span>

<div>
block html
</div>
"#;

#[test]
fn markdown_with_every_supported_construct_converts_to_valid_adf() {
    let doc = adf::from_markdown(RICH);
    assert_valid(&doc);
    insta::assert_json_snapshot!("rich_markdown_to_adf", doc);
}

#[test]
fn converted_rich_markdown_renders_back_to_stable_markdown() {
    let md1 = adf::to_markdown(&adf::from_markdown(RICH));
    let md2 = adf::to_markdown(&adf::from_markdown(&md1));
    assert_eq!(md1, md2);
    insta::assert_snapshot!("rich_markdown_round_trip", md1);
}

#[test]
fn the_jira_cli_fixture_converts_to_markdown_and_back_to_valid_adf() {
    let fixture: Value = serde_json::from_str(&workspace_file(
        "testdata/jira/fixtures/jira-cli/adf/md.json",
    ))
    .unwrap();
    let markdown = adf::to_markdown(&fixture);
    insta::assert_snapshot!("jira_cli_fixture_markdown", markdown);
    let back = adf::from_markdown(&markdown);
    assert_valid(&back);
    // Once in our Markdown dialect, the document is a fixed point.
    assert_eq!(adf::to_markdown(&back), markdown);
    let text = adf::to_text(&fixture);
    assert!(text.contains("Person A"), "{text}");
    assert!(text.contains("Blockquote text"), "{text}");
}

#[test]
fn plain_text_converts_to_valid_adf_keeping_every_line() {
    let doc = adf::from_plain_text("first line\nsecond *not markdown*\n\n\nnext paragraph\n");
    assert_valid(&doc);
    assert_eq!(
        adf::to_text(&doc),
        "first line\nsecond *not markdown*\nnext paragraph"
    );
}

#[test]
fn rich_text_given_as_a_string_is_converted_never_sent_raw() {
    let doc = RichText::from(json!("**hi**")).into_adf().unwrap();
    assert_valid(&doc);
    let err = RichText::from(json!({"type": "doc", "version": 2, "content": []}))
        .into_adf()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[test]
fn foreign_adf_degrades_to_text_content_in_markdown() {
    let doc = json!({"type": "doc", "version": 1, "content": [
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "under", "marks": [{"type": "underline"}]},
                {"type": "text", "text": " "},
                {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
                {"type": "text", "text": " "},
                {"type": "status", "attrs": {"text": "IN PROGRESS", "color": "blue"}}
            ]}
        ]},
        {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "x", "type": "file", "collection": "c"}}]},
        {"type": "expand", "attrs": {"title": "More"}, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "inside"}]}
        ]}
    ]});
    assert_eq!(adf::to_markdown(&doc), "under 😄 IN PROGRESS\n\ninside\n");
}

#[tokio::test]
async fn the_simulator_accepts_converted_markdown_as_a_comment_body() {
    let sim = start_sim().await;
    let client = admin(&sim);
    let body = adf::from_markdown(RICH);
    let created: Value = client
        .send(
            ApiRequest::post("/issue/{issueIdOrKey}/comment")
                .param("DEMO-1")
                .json(&json!({"body": body}))
                .unwrap(),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(created["body"], body);
    let text = adf::to_text(&created["body"]);
    assert!(text.contains("Ada Admin"), "{text}");
}

#[tokio::test]
async fn the_simulator_rejects_a_plain_string_body_that_rich_text_would_have_converted() {
    let sim = start_sim().await;
    let client = admin(&sim);
    let err = client
        .send(
            ApiRequest::post("/issue/{issueIdOrKey}/comment")
                .param("DEMO-1")
                .json(&json!({"body": "plain text"}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    let body = RichText::from(json!("plain text")).into_adf().unwrap();
    let response = client
        .send(
            ApiRequest::post("/issue/{issueIdOrKey}/comment")
                .param("DEMO-1")
                .json(&json!({"body": body}))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}

/// Words that need no escaping and a few that do.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z0-9]{1,8}",
        1 => prop::sample::select(vec![
            "a*b", "x_y", "#tag", "1.", "-", "+", "<x>", "a|b", "~", "&amp;", "[x]", "\\", "`",
            "é", "1)", "=", ">", "!", "@", "@[x]",
        ])
        .prop_map(str::to_owned),
    ]
}

fn words() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..5).prop_map(|w| w.join(" "))
}

/// One inline span: plain, marked, code, link or mention.
fn span() -> impl Strategy<Value = String> {
    let plain = "[a-z]{1,6}( [a-z]{1,6}){0,2}";
    prop_oneof![
        4 => words(),
        1 => plain.prop_map(|t| format!("**{t}**")),
        1 => plain.prop_map(|t| format!("*{t}*")),
        1 => plain.prop_map(|t| format!("~~{t}~~")),
        1 => plain.prop_map(|t| format!("***{t}***")),
        1 => (plain, plain).prop_map(|(a, b)| format!("**{a} *{b}* {a}**")),
        1 => "[a-z` ]{1,6}".prop_map(|t| format!("`{t}`")),
        1 => (plain, "[a-z]{1,8}").prop_map(|(t, p)| format!("[{t}](https://example.com/{p})")),
        1 => (plain, "[a-z]{1,8}").prop_map(|(t, p)| format!("[**{t}**](https://example.com/{p} \"title\")")),
        1 => "[a-z]{1,8}".prop_map(|p| format!("<https://example.com/{p}>")),
        1 => "[a-z]{1,8}".prop_map(|p| format!("<{p}@example.com>")),
        1 => "[0-9a-f]{6,24}".prop_map(|id| format!("@[{id}]")),
        1 => ("[0-9a-f]{6,24}", plain).prop_map(|(id, n)| format!("[~accountid:{id}|{n}]")),
    ]
}

fn inline_line() -> impl Strategy<Value = String> {
    prop::collection::vec(span(), 1..5).prop_map(|s| s.join(" "))
}

fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec(inline_line(), 1..3).prop_map(|lines| lines.join("\\\n"))
}

/// One block of the grammar.
fn block() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => paragraph(),
        1 => (1usize..=6, inline_line()).prop_map(|(l, t)| format!("{} {t}", "#".repeat(l))),
        1 => ("[a-z]{0,5}", prop::collection::vec("[ -~]{0,20}", 0..4))
            .prop_map(|(lang, lines)| format!("```{lang}\n{}\n```", lines.join("\n"))),
        1 => Just("---".to_owned()),
        1 => (1usize..4, 1usize..4).prop_flat_map(|(cols, rows)| {
            prop::collection::vec(prop::collection::vec(prop_oneof![Just(String::new()), inline_line()], cols), rows + 1)
                .prop_map(move |table| {
                    let line = |r: &Vec<String>| format!("| {} |", r.join(" | "));
                    let mut out = vec![line(&table[0]), format!("|{}", " --- |".repeat(cols))];
                    out.extend(table[1..].iter().map(line));
                    out.join("\n")
                })
        }),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            (
                prop::collection::vec(inner.clone(), 1..4),
                any::<bool>(),
                0u64..12
            )
                .prop_map(|(items, ordered, start)| {
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let marker = if ordered {
                                format!("{}. ", start + i as u64)
                            } else {
                                "- ".to_owned()
                            };
                            indent_item(&marker, item)
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }),
            prop::collection::vec(inner, 1..3).prop_map(|blocks| {
                blocks
                    .join("\n\n")
                    .lines()
                    .map(|l| {
                        if l.is_empty() {
                            ">".to_owned()
                        } else {
                            format!("> {l}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        ]
    })
}

fn indent_item(marker: &str, body: &str) -> String {
    let pad = " ".repeat(marker.len());
    body.lines()
        .enumerate()
        .map(|(n, l)| {
            if n == 0 {
                format!("{marker}{l}")
            } else if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(block(), 0..6).prop_map(|b| b.join("\n\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn markdown_to_adf_to_markdown_is_stable_and_always_valid(src in document()) {
        let adf1 = adf::from_markdown(&src);
        assert_valid(&adf1);
        let md1 = adf::to_markdown(&adf1);
        let adf2 = adf::from_markdown(&md1);
        assert_valid(&adf2);
        let md2 = adf::to_markdown(&adf2);
        prop_assert_eq!(&md1, &md2, "source:\n{}\nadf1: {}\nadf2: {}", src, adf1, adf2);
    }

    #[test]
    fn any_text_converts_to_valid_adf(text in "[\\PC\t\n]{0,80}") {
        assert_valid(&adf::from_markdown(&text));
        assert_valid(&adf::from_plain_text(&text));
        let md = adf::to_markdown(&adf::from_markdown(&text));
        assert_valid(&adf::from_markdown(&md));
        let md2 = adf::to_markdown(&adf::from_markdown(&md));
        prop_assert_eq!(&md, &md2, "src {:?}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    /// Fragments of Markdown syntax in any order: whatever they parse to, the Markdown written
    /// back is a fixed point.
    #[test]
    fn markdown_made_of_syntax_fragments_is_stable(text in "([a-c]{1,3}|[ *_`#>+1.|~()!@&:<>=]|\\\\|\\[|\\]|-|\n|\n\n|    |https://x.y|\\[~accountid:ab\\]|@\\[ab\\]|\\| a \\| b \\|\n\\|---\\|---\\|\n){0,30}") {
        let md1 = adf::to_markdown(&adf::from_markdown(&text));
        let md2 = adf::to_markdown(&adf::from_markdown(&md1));
        prop_assert_eq!(&md1, &md2, "src {:?}\nadf1 {}\nadf2 {}", text, adf::from_markdown(&text), adf::from_markdown(&md1));
    }
}

#[test]
fn an_item_opening_with_a_nested_list_does_not_turn_into_a_thematic_break() {
    let md1 = adf::to_markdown(&adf::from_markdown("-    *    -"));
    assert_eq!(md1, "-\n  -\n    -\n");
    let md2 = adf::to_markdown(&adf::from_markdown(&md1));
    assert_eq!(md1, md2);
    let ordered = adf::to_markdown(&adf::from_markdown("1. - a"));
    assert_eq!(ordered, adf::to_markdown(&adf::from_markdown(&ordered)));
}
