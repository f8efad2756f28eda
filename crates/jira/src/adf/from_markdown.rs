//! Markdown -> ADF. Owns the walk over pulldown-cmark's events (CommonMark + GFM tables and
//! strikethrough), the mention syntax (`[~accountid:ID]`, `[~accountid:ID|Name]`, `@[ID]`), and
//! the degrading of constructs ADF does not allow where Markdown put them (a heading inside a
//! list item becomes a paragraph, a quote inside a quote is flattened, ...), so the result always
//! validates against the ADF schema.

use pulldown_cmark::{
    BrokenLink, CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd,
};
use serde_json::{Map, Value, json};

use super::{children, doc, node, node_type, node_with_attrs, push_text};

/// Prefix of the wiki-style mention label: `[~accountid:5b10a2844c20165700ede21g]`.
const WIKI_MENTION: &str = "~accountid:";

/// Converts Markdown to an ADF document. Never fails: anything without an ADF counterpart
/// degrades to text (see `docs/adf.md`).
pub fn from_markdown(markdown: &str) -> Value {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let source = markdown;
    // Mentions are reference links nobody defined; the callback turns those that look like a
    // mention into a link whose destination carries the account id and whose title carries the
    // display name (the `@` / `~` prefix tells the two syntaxes apart).
    let callback = |link: BrokenLink<'_>| -> Option<(CowStr<'_>, CowStr<'_>)> {
        let label = source.get(link.span.clone())?;
        // `[label][]` (collapsed) is what ADF -> Markdown writes when a mention is followed by
        // another mention or by `(` / `:`, which would otherwise change how `[label]` parses.
        let label = match link.link_type {
            LinkType::Shortcut | LinkType::ShortcutUnknown => label,
            LinkType::Collapsed | LinkType::CollapsedUnknown => {
                label.strip_suffix("[]").unwrap_or(label)
            }
            _ => return None,
        };
        let label = label.strip_prefix('[')?.strip_suffix(']')?;
        if let Some(rest) = label.strip_prefix(WIKI_MENTION) {
            let (id, name) = rest.split_once('|').unwrap_or((rest, ""));
            let id = id.trim();
            if !is_account_id(id) {
                return None;
            }
            return Some((format!("~{id}").into(), name.trim().to_owned().into()));
        }
        let at = link
            .span
            .start
            .checked_sub(1)
            .and_then(|i| source.get(i..link.span.start));
        if at == Some("@") && is_account_id(label) {
            return Some((format!("@{label}").into(), "".into()));
        }
        None
    };
    let parser = Parser::new_with_broken_link_callback(markdown, options, Some(callback));
    let mut builder = Builder::new();
    for event in parser {
        builder.event(event);
    }
    builder.finish()
}

/// Jira account ids: `5b10a2844c20165700ede21g`, `557058:f58131cb-...`, `qm:...`.
fn is_account_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
}

/// What an open Markdown element becomes.
enum Kind {
    Doc,
    Paragraph,
    Heading(u8),
    Quote,
    List(Option<u64>),
    Item,
    Code {
        language: Option<String>,
        text: String,
    },
    Html,
    Table,
    Row {
        head: bool,
    },
    Cell {
        header: bool,
    },
}

/// One open element: finished child blocks plus inline content not yet put in a block.
struct Frame {
    kind: Kind,
    blocks: Vec<Value>,
    inline: Vec<Value>,
}

/// An open link: a real link (its mark is on the mark stack) or a mention (its label is skipped).
enum OpenLink {
    Mark,
    Mention { id: String, name: String },
}

struct Builder {
    frames: Vec<Frame>,
    marks: Vec<Value>,
    links: Vec<OpenLink>,
    images: Vec<(String, usize)>,
    /// Characters of text emitted so far (tells whether an image had alt text).
    emitted: usize,
}

/// Nesting order of marks (outermost first); equal mark sets then compare equal.
fn mark_rank(mark: &Value) -> u8 {
    match node_type(mark) {
        "link" => 0,
        "strong" => 1,
        "em" => 2,
        "strike" => 3,
        _ => 4,
    }
}

impl Builder {
    fn new() -> Self {
        Self {
            frames: vec![Frame::new(Kind::Doc)],
            marks: Vec::new(),
            links: Vec::new(),
            images: Vec::new(),
            emitted: 0,
        }
    }

    fn top(&mut self) -> &mut Frame {
        if self.frames.is_empty() {
            self.frames.push(Frame::new(Kind::Doc));
        }
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    /// Starts a block element: pending inline text of the container becomes a paragraph first.
    fn open_block(&mut self, kind: Kind) {
        self.top().flush_inline();
        self.frames.push(Frame::new(kind));
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(text) => {
                let mut marks: Vec<Value> = self
                    .marks
                    .iter()
                    .filter(|m| node_type(m) == "link")
                    .cloned()
                    .collect();
                // ADF allows only link (and annotation) next to the code mark.
                marks.push(json!({"type": "code"}));
                self.inline_text(&text, &marks);
            }
            Event::Html(text) | Event::InlineHtml(text) => self.html(&text),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => {
                if self.in_mention() {
                    return;
                }
                if let Kind::Code { text, .. } = &mut self.top().kind {
                    text.push('\n');
                } else {
                    self.top().inline.push(json!({"type": "hardBreak"}));
                }
            }
            Event::Rule => {
                self.top().flush_inline();
                self.top().blocks.push(json!({"type": "rule"}));
            }
            Event::FootnoteReference(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                self.text(&text);
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn in_mention(&self) -> bool {
        self.links
            .iter()
            .any(|l| matches!(l, OpenLink::Mention { .. }))
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.open_block(Kind::Paragraph),
            Tag::Heading { level, .. } => self.open_block(Kind::Heading(level as u8)),
            Tag::BlockQuote(_) => self.open_block(Kind::Quote),
            Tag::CodeBlock(kind) => {
                let language = match kind {
                    CodeBlockKind::Fenced(info) => {
                        let info = info.trim();
                        (!info.is_empty()).then(|| info.to_owned())
                    }
                    CodeBlockKind::Indented => None,
                };
                self.open_block(Kind::Code {
                    language,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => self.open_block(Kind::Html),
            Tag::List(start) => self.open_block(Kind::List(start)),
            Tag::Item => self.open_block(Kind::Item),
            Tag::Table(_) => self.open_block(Kind::Table),
            Tag::TableHead => self.open_block(Kind::Row { head: true }),
            Tag::TableRow => self.open_block(Kind::Row { head: false }),
            Tag::TableCell => {
                let header = matches!(self.top().kind, Kind::Row { head: true });
                self.open_block(Kind::Cell { header });
            }
            Tag::Emphasis => self.push_mark(json!({"type": "em"})),
            Tag::Strong => self.push_mark(json!({"type": "strong"})),
            Tag::Strikethrough => self.push_mark(json!({"type": "strike"})),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                let unknown = matches!(
                    link_type,
                    LinkType::ShortcutUnknown
                        | LinkType::CollapsedUnknown
                        | LinkType::ReferenceUnknown
                );
                if unknown && let Some(id) = dest_url.strip_prefix('@') {
                    self.strip_trailing_at();
                    self.links.push(OpenLink::Mention {
                        id: id.to_owned(),
                        name: String::new(),
                    });
                } else if unknown && let Some(id) = dest_url.strip_prefix('~') {
                    self.links.push(OpenLink::Mention {
                        id: id.to_owned(),
                        name: title.to_string(),
                    });
                } else {
                    // pulldown-cmark gives e-mail autolinks without their scheme.
                    let href = if link_type == LinkType::Email && !dest_url.starts_with("mailto:") {
                        format!("mailto:{dest_url}")
                    } else {
                        dest_url.to_string()
                    };
                    self.links.push(OpenLink::Mark);
                    self.push_mark(json!({"type": "link", "attrs": {"href": href}}));
                }
            }
            Tag::Image { dest_url, .. } => {
                // ADF media needs an uploaded file's id; an image becomes its alt text linked to
                // the image URL.
                self.images.push((dest_url.to_string(), self.emitted));
                self.push_mark(json!({"type": "link", "attrs": {"href": dest_url.to_string()}}));
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.open_block(Kind::Paragraph),
            Tag::Superscript | Tag::Subscript => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Emphasis => self.pop_mark("em"),
            TagEnd::Strong => self.pop_mark("strong"),
            TagEnd::Strikethrough => self.pop_mark("strike"),
            TagEnd::Link => match self.links.pop() {
                Some(OpenLink::Mention { id, name }) => {
                    if !self.in_mention() {
                        let mut attrs = Map::new();
                        attrs.insert("id".into(), Value::from(id));
                        if !name.is_empty() {
                            attrs.insert("text".into(), Value::from(name));
                        }
                        self.top()
                            .inline
                            .push(json!({"type": "mention", "attrs": Value::Object(attrs)}));
                    }
                }
                Some(OpenLink::Mark) | None => self.pop_mark("link"),
            },
            TagEnd::Image => {
                if let Some((href, at)) = self.images.pop() {
                    if at == self.emitted {
                        let marks = self.marks.clone();
                        self.inline_text(&href, &marks);
                    }
                    self.pop_mark("link");
                }
            }
            TagEnd::Superscript | TagEnd::Subscript => {}
            _ => self.close_block(),
        }
    }

    fn push_mark(&mut self, mark: Value) {
        self.marks.push(mark);
    }

    /// Removes the innermost open mark of `kind`.
    fn pop_mark(&mut self, kind: &str) {
        if let Some(i) = self.marks.iter().rposition(|m| node_type(m) == kind) {
            self.marks.remove(i);
        }
    }

    /// The open marks, deduplicated, in canonical order.
    fn current_marks(&self) -> Vec<Value> {
        let mut marks: Vec<Value> = Vec::with_capacity(self.marks.len());
        // The innermost link wins; other marks are flags.
        for mark in self.marks.iter().rev() {
            if !marks.iter().any(|m| node_type(m) == node_type(mark)) {
                marks.push(mark.clone());
            }
        }
        marks.sort_by_key(mark_rank);
        marks
    }

    fn text(&mut self, text: &str) {
        if self.in_mention() {
            return;
        }
        if let Kind::Code { text: code, .. } = &mut self.top().kind {
            code.push_str(text);
            return;
        }
        let marks = self.current_marks();
        self.inline_text(text, &marks);
    }

    fn inline_text(&mut self, text: &str, marks: &[Value]) {
        if self.in_mention() {
            return;
        }
        self.emitted += text.len();
        push_text(&mut self.top().inline, text, marks);
    }

    /// Raw HTML has no ADF counterpart: it is kept as text, line breaks as hard breaks.
    fn html(&mut self, html: &str) {
        if let Kind::Code { text, .. } = &mut self.top().kind {
            text.push_str(html);
            return;
        }
        let marks = self.current_marks();
        // Breaks at the end of the block are trimmed when the paragraph closes.
        let mut lines = html.split('\n').peekable();
        while let Some(line) = lines.next() {
            self.inline_text(line, &marks);
            if lines.peek().is_some() {
                self.top().inline.push(json!({"type": "hardBreak"}));
            }
        }
    }

    /// `@[id]`: the `@` was already emitted as text before the parser saw the link.
    fn strip_trailing_at(&mut self) {
        let inline = &mut self.top().inline;
        if let Some(Value::Object(last)) = inline.last_mut()
            && let Some(Value::String(text)) = last.get_mut("text")
            && text.ends_with('@')
        {
            text.pop();
            if text.is_empty() {
                inline.pop();
            }
        }
    }

    fn close_block(&mut self) {
        if self.frames.len() <= 1 {
            return;
        }
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let Some(block) = frame.into_block() else {
            return;
        };
        self.top().blocks.push(block);
    }

    fn finish(mut self) -> Value {
        while self.frames.len() > 1 {
            self.close_block();
        }
        let mut root = self.frames.pop().unwrap_or_else(|| Frame::new(Kind::Doc));
        root.flush_inline();
        doc(root.blocks)
    }
}

impl Frame {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            blocks: Vec::new(),
            inline: Vec::new(),
        }
    }

    /// Container elements hold inline content only loosely (tight list items, table cells): it
    /// becomes a paragraph.
    fn flush_inline(&mut self) {
        if matches!(
            self.kind,
            Kind::Paragraph | Kind::Heading(_) | Kind::Html | Kind::Code { .. }
        ) {
            return;
        }
        if !self.inline.is_empty() {
            let inline = trim_breaks(std::mem::take(&mut self.inline));
            self.blocks.push(node("paragraph", inline));
        }
    }

    fn into_block(mut self) -> Option<Value> {
        self.flush_inline();
        let blocks = self.blocks;
        let inline = trim_breaks(self.inline);
        Some(match self.kind {
            Kind::Doc => doc(blocks),
            Kind::Paragraph => node("paragraph", inline),
            Kind::Html => {
                if inline.is_empty() {
                    return None;
                }
                node("paragraph", inline)
            }
            Kind::Heading(level) => node_with_attrs("heading", json!({"level": level}), inline),
            Kind::Code { language, text } => {
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let content: Vec<Value> = if text.is_empty() {
                    Vec::new()
                } else {
                    vec![json!({"type": "text", "text": text})]
                };
                match language {
                    Some(language) => {
                        node_with_attrs("codeBlock", json!({"language": language}), content)
                    }
                    None => node("codeBlock", content),
                }
            }
            Kind::Quote => {
                let mut content = degrade(blocks, Container::Quote);
                if content.is_empty() {
                    content.push(node("paragraph", Vec::new()));
                }
                node("blockquote", content)
            }
            Kind::List(start) => {
                if blocks.is_empty() {
                    return None;
                }
                match start {
                    None => node("bulletList", blocks),
                    Some(1) => node("orderedList", blocks),
                    Some(order) => node_with_attrs("orderedList", json!({"order": order}), blocks),
                }
            }
            Kind::Item => {
                let mut content = degrade(blocks, Container::Item);
                // A list item starts with a paragraph (or code block) in Jira's schema.
                if !content
                    .first()
                    .is_some_and(|b| matches!(node_type(b), "paragraph" | "codeBlock"))
                {
                    content.insert(0, node("paragraph", Vec::new()));
                }
                node("listItem", content)
            }
            Kind::Table => {
                if blocks.is_empty() {
                    return None;
                }
                node("table", blocks)
            }
            Kind::Row { .. } => node("tableRow", blocks),
            Kind::Cell { header } => {
                let mut content = degrade(blocks, Container::Cell);
                if content.is_empty() {
                    content.push(node("paragraph", Vec::new()));
                }
                node(if header { "tableHeader" } else { "tableCell" }, content)
            }
        })
    }
}

/// Hard breaks at the edges of a paragraph render as nothing and do not survive Markdown.
fn trim_breaks(mut inline: Vec<Value>) -> Vec<Value> {
    while inline.last().is_some_and(|n| node_type(n) == "hardBreak") {
        inline.pop();
    }
    let lead = inline
        .iter()
        .take_while(|n| node_type(n) == "hardBreak")
        .count();
    inline.drain(..lead);
    inline
}

/// Block containers whose allowed children are narrower than the document's.
#[derive(Clone, Copy)]
enum Container {
    Quote,
    Item,
    Cell,
}

impl Container {
    fn allows(self, kind: &str) -> bool {
        match self {
            Self::Quote => matches!(
                kind,
                "paragraph" | "bulletList" | "orderedList" | "codeBlock"
            ),
            Self::Item => matches!(
                kind,
                "paragraph" | "bulletList" | "orderedList" | "codeBlock"
            ),
            Self::Cell => !matches!(kind, "table"),
        }
    }
}

/// Rewrites blocks a container does not allow into ones it does: headings become paragraphs,
/// quotes and tables are flattened into their content, rules are dropped.
fn degrade(blocks: Vec<Value>, container: Container) -> Vec<Value> {
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        let kind = node_type(&block);
        if container.allows(kind) {
            out.push(block);
            continue;
        }
        match kind {
            "heading" => out.push(node("paragraph", children(&block).to_vec())),
            "rule" => {}
            _ => {
                let inner: Vec<Value> = match kind {
                    "table" => children(&block)
                        .iter()
                        .flat_map(|row| children(row).iter())
                        .flat_map(|cell| children(cell).iter().cloned())
                        .collect(),
                    _ => children(&block).to_vec(),
                };
                out.extend(degrade(inner, container));
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
