//! Inline ADF -> Markdown: marks as properly nested delimiters, code spans, links and
//! autolinks, mentions, hard breaks, and the escaping that keeps text literal.

use serde_json::Value;

use super::super::{attr_str, children, node_type};

/// Where inline content is rendered; it decides what a line break can be and what to escape.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A paragraph: hard breaks are `\` + newline.
    Block,
    /// An ATX heading: one line, `#` always escaped.
    Heading,
    /// A GFM table cell: one line, `|` escaped everywhere (code spans too).
    Table,
}

/// The marks Markdown can express.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Marks {
    link: Option<String>,
    strong: bool,
    em: bool,
    strike: bool,
    code: bool,
}

impl Marks {
    fn of(node: &Value) -> Self {
        let mut marks = Self::default();
        for mark in node
            .get("marks")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            match node_type(mark) {
                "link" => marks.link = Some(attr_str(mark, "href").unwrap_or("").to_owned()),
                "strong" => marks.strong = true,
                "em" => marks.em = true,
                "strike" => marks.strike = true,
                "code" => marks.code = true,
                _ => {}
            }
        }
        marks
    }

    fn has_delimiters(&self) -> bool {
        self.strong || self.em || self.strike
    }

    /// The delimiter marks in canonical nesting order (outermost first).
    fn wanted(&self) -> Vec<Open> {
        let mut wanted = Vec::new();
        if let Some(href) = &self.link {
            wanted.push(Open::Link(href.clone()));
        }
        if self.strong {
            wanted.push(Open::Strong);
        }
        if self.em {
            wanted.push(Open::Em);
        }
        if self.strike {
            wanted.push(Open::Strike);
        }
        wanted
    }
}

/// One open delimiter.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Open {
    Link(String),
    Strong,
    Em,
    Strike,
}

/// Inline content flattened to what Markdown distinguishes.
#[derive(Debug)]
enum Piece {
    Text(String, Marks),
    Break,
    /// Already-rendered Markdown (mentions).
    Raw(String),
}

/// Renders inline nodes as Markdown.
pub(super) fn render_inline(nodes: &[Value], mode: Mode) -> String {
    let pieces = hoist_whitespace(flatten(nodes, mode));
    let mut out = Renderer {
        out: String::new(),
        open: Vec::new(),
        line_start: true,
        mode,
    };
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Break => {
                out.close_to(0);
                out.encode_trailing_space();
                out.out.push_str("\\\n");
                out.line_start = true;
            }
            Piece::Raw(raw) => {
                out.close_to(0);
                out.out.push_str(raw);
                // `[label]` directly followed by `[..]`, `(..)` or `:` would parse as part of a
                // link or a definition; the collapsed form `[label][]` stands alone.
                let next_binds = match pieces.get(i + 1) {
                    Some(Piece::Raw(_)) => true,
                    Some(Piece::Text(text, marks)) => {
                        marks.link.is_none()
                            && !marks.has_delimiters()
                            && !marks.code
                            && text.starts_with(['(', ':'])
                    }
                    _ => false,
                };
                if next_binds {
                    out.out.push_str("[]");
                }
                out.line_start = false;
            }
            Piece::Text(text, marks) => {
                let neighbours_share_link = |j: Option<usize>| {
                    j.and_then(|j| pieces.get(j)).is_some_and(|p| {
                        matches!(p, Piece::Text(_, m) if m.link.is_some() && m.link == marks.link)
                    })
                };
                let autolink = marks.link.as_deref().is_some_and(|href| {
                    href == text
                        && !marks.has_delimiters()
                        && !marks.code
                        && is_autolink(href, mode)
                        && !neighbours_share_link(i.checked_sub(1))
                        && !neighbours_share_link(Some(i + 1))
                        && !out.open.iter().any(|o| matches!(o, Open::Link(_)))
                });
                if autolink {
                    out.close_to(0);
                    out.out.push('<');
                    out.out.push_str(text);
                    out.out.push('>');
                    out.line_start = false;
                    continue;
                }
                out.open_marks(marks.wanted());
                if marks.code {
                    out.out.push_str(&code_span(text, mode));
                } else {
                    out.text(text);
                    // `!` right before `[` would make the link or mention an image.
                    let next_opens_bracket = match pieces.get(i + 1) {
                        Some(Piece::Raw(_)) => true,
                        Some(Piece::Text(_, next)) => {
                            next.link.is_some() && next.link != marks.link
                        }
                        _ => false,
                    };
                    if next_opens_bracket && out.out.ends_with('!') {
                        out.out.pop();
                        out.out.push_str("\\!");
                    }
                }
                out.line_start = false;
            }
        }
    }
    out.close_to(0);
    out.encode_trailing_space();
    out.out
}

/// Text, breaks and atoms, with adjacent equal-mark text merged and newlines made breaks.
fn flatten(nodes: &[Value], mode: Mode) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for node in nodes {
        match node_type(node) {
            "text" => {
                let text = node.get("text").and_then(Value::as_str).unwrap_or("");
                let marks = Marks::of(node);
                let mut lines = text.split('\n').peekable();
                while let Some(line) = lines.next() {
                    push_piece(&mut pieces, line, &marks);
                    if lines.peek().is_some() {
                        push_break(&mut pieces, mode);
                    }
                }
            }
            "hardBreak" => push_break(&mut pieces, mode),
            "mention" => {
                let id = attr_str(node, "id").unwrap_or("");
                let name: String = attr_str(node, "text")
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !matches!(c, '[' | ']' | '|' | '\\' | '\n' | '\r'))
                    .collect();
                let name = name.trim();
                if id.is_empty() {
                    push_piece(&mut pieces, name, &Marks::default());
                } else if name.is_empty() {
                    pieces.push(Piece::Raw(format!("[~accountid:{id}]")));
                } else {
                    pieces.push(Piece::Raw(format!("[~accountid:{id}|{name}]")));
                }
            }
            "inlineCard" => {
                if let Some(url) = attr_str(node, "url") {
                    let marks = Marks {
                        link: Some(url.to_owned()),
                        ..Marks::default()
                    };
                    push_piece(&mut pieces, url, &marks);
                }
            }
            "emoji" => {
                let text = attr_str(node, "text").or_else(|| attr_str(node, "shortName"));
                push_piece(&mut pieces, text.unwrap_or(""), &Marks::of(node));
            }
            "status" => push_piece(
                &mut pieces,
                attr_str(node, "text").unwrap_or(""),
                &Marks::default(),
            ),
            "date" => {
                let text = attr_str(node, "timestamp")
                    .and_then(|t| t.parse::<i64>().ok())
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                push_piece(&mut pieces, &text, &Marks::default());
            }
            _ => pieces.extend(flatten(children(node), mode)),
        }
    }
    // Breaks at the edges of a paragraph cannot be written in Markdown.
    while matches!(pieces.last(), Some(Piece::Break)) {
        pieces.pop();
    }
    let lead = pieces
        .iter()
        .take_while(|p| matches!(p, Piece::Break))
        .count();
    pieces.drain(..lead);
    pieces
}

fn push_break(pieces: &mut Vec<Piece>, mode: Mode) {
    if mode == Mode::Block {
        pieces.push(Piece::Break);
    } else {
        push_piece(pieces, " ", &Marks::default());
    }
}

fn push_piece(pieces: &mut Vec<Piece>, text: &str, marks: &Marks) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(last, last_marks)) = pieces.last_mut()
        && last_marks == marks
    {
        last.push_str(text);
        return;
    }
    pieces.push(Piece::Text(text.to_owned(), marks.clone()));
}

/// `** a**` is not emphasis in Markdown: whitespace at the edges of delimited text moves outside
/// the delimiters (keeping only the link mark).
fn hoist_whitespace(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match piece {
            Piece::Text(text, marks) if marks.has_delimiters() && !marks.code => {
                let plain = Marks {
                    link: marks.link.clone(),
                    ..Marks::default()
                };
                let trimmed_start = text.trim_start();
                let lead = &text[..text.len() - trimmed_start.len()];
                let core = trimmed_start.trim_end();
                let trail = &trimmed_start[core.len()..];
                push_piece(&mut out, lead, &plain);
                push_piece(&mut out, core, &marks);
                push_piece(&mut out, trail, &plain);
            }
            Piece::Text(text, marks) => push_piece(&mut out, &text, &marks),
            other => out.push(other),
        }
    }
    out
}

struct Renderer {
    out: String,
    open: Vec<Open>,
    line_start: bool,
    mode: Mode,
}

impl Renderer {
    /// Keeps the longest prefix of open delimiters that is still wanted, closes the rest and
    /// opens what is missing.
    fn open_marks(&mut self, wanted: Vec<Open>) {
        let keep = self.open.iter().take_while(|o| wanted.contains(o)).count();
        self.close_to(keep);
        for mark in wanted {
            if self.open.contains(&mark) {
                continue;
            }
            self.out.push_str(match &mark {
                Open::Link(_) => "[",
                Open::Strong => "**",
                Open::Em => "*",
                Open::Strike => "~~",
            });
            self.open.push(mark);
        }
    }

    fn close_to(&mut self, keep: usize) {
        while self.open.len() > keep {
            let Some(mark) = self.open.pop() else {
                break;
            };
            match mark {
                Open::Link(href) => {
                    self.out.push_str("](");
                    self.out.push_str(&destination(&href, self.mode));
                    self.out.push(')');
                }
                Open::Strong => self.out.push_str("**"),
                Open::Em => self.out.push('*'),
                Open::Strike => self.out.push_str("~~"),
            }
        }
    }

    /// Escapes `text` so Markdown reads it literally.
    fn text(&mut self, text: &str) {
        let mut chars = text.char_indices().peekable();
        if self.line_start && self.open.is_empty() {
            // Leading whitespace of a line is stripped by Markdown; write it as references.
            while let Some(&(_, c)) = chars.peek() {
                match c {
                    ' ' => self.out.push_str("&#32;"),
                    '\t' => self.out.push_str("&#9;"),
                    _ => break,
                }
                chars.next();
            }
            // Line-start characters that would open a block.
            if let Some(&(i, c)) = chars.peek() {
                if matches!(c, '-' | '+' | '=') || (c == '#' && self.mode != Mode::Heading) {
                    // `>` and heading `#`s are escaped below anyway.
                    self.out.push('\\');
                } else if c.is_ascii_digit() {
                    let rest = &text[i..];
                    let digits = rest.chars().take_while(char::is_ascii_digit).count();
                    if matches!(rest[digits..].chars().next(), Some('.' | ')')) {
                        self.out.push_str(&rest[..digits]);
                        self.out.push('\\');
                        for _ in 0..digits {
                            chars.next();
                        }
                    }
                }
            }
        }
        for (_, c) in chars {
            match c {
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                '#' if self.mode == Mode::Heading => self.out.push_str("\\#"),
                '\r' => self.out.push(' '),
                _ => self.out.push(c),
            }
        }
    }

    /// Trailing whitespace of a line is stripped by Markdown; write it as references.
    fn encode_trailing_space(&mut self) {
        let trimmed = self.out.trim_end_matches([' ', '\t']).len();
        if trimmed == self.out.len() {
            return;
        }
        let tail: String = self.out[trimmed..]
            .chars()
            .map(|c| if c == '\t' { "&#9;" } else { "&#32;" })
            .collect();
        self.out.truncate(trimmed);
        self.out.push_str(&tail);
    }
}

/// A code span whose fence is longer than any backtick run inside.
fn code_span(text: &str, mode: Mode) -> String {
    let mut text = text.replace(['\n', '\r'], " ");
    if mode == Mode::Table {
        text = text.replace('|', "\\|");
    }
    let fence = "`".repeat(super::longest_run(&text, '`') + 1);
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
    if pad {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// A link destination, in angle brackets when it has characters a bare destination cannot.
fn destination(href: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(href.len() + 2);
    let bracketed = href.is_empty()
        || href
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '(' | ')'));
    if bracketed {
        out.push('<');
    }
    for c in href.chars() {
        match c {
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            '<' | '>' | '\\' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '|' if mode == Mode::Table => out.push_str("\\|"),
            _ => out.push(c),
        }
    }
    if bracketed {
        out.push('>');
    }
    out
}

/// Whether `<href>` is a CommonMark autolink that reads back as exactly `href`.
fn is_autolink(href: &str, mode: Mode) -> bool {
    let Some((scheme, rest)) = href.split_once(':') else {
        return false;
    };
    let scheme_ok = (2..=32).contains(&scheme.len())
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    scheme_ok
        && !rest.is_empty()
        && !href.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '\\' | '&' | '*' | '_' | '~' | '`')
                || (c == '|' && mode == Mode::Table)
        })
}
