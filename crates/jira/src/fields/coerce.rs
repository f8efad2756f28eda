//! Coercion of plain user input into the JSON each field kind needs in an `IssueUpdateDetails`
//! `fields` object: options become `{"value"}`/`{"id"}`, users `{"accountId"}`, dates
//! `YYYY-MM-DD`, rich text an ADF document, and so on (docs/fields.md has the full table).
//!
//! Inputs are what a person or an upstream system naturally has: strings (`"Platform"`,
//! `"a, b"`, `"Europe > Berlin"`, `"2026-01-17"`), numbers, lists, or the exact Jira shape, which
//! passes through. `null` clears a field and is sent as `null` for every kind.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::FieldError;
use super::meta::{FieldKind, FieldMeta};

/// Jira's limit for single-line text fields and labels.
const MAX_TEXT: usize = 255;
/// How many allowed values an error lists before summarising the rest.
const MAX_LISTED: usize = 20;
/// Jira's date-time format: milliseconds and an offset without a colon.
const JIRA_DATETIME: &str = "%Y-%m-%dT%H:%M:%S%.3f%z";

/// Converts plain `input` into the value `field` needs in a create or edit body.
///
/// Errors name the field (name and id), what it expects and what was given. An e-mail address
/// where an account id is needed is [`FieldError::UserLookupNeeded`], so the caller can resolve it
/// and try again.
pub fn coerce(field: &FieldMeta, input: Value) -> Result<Value, FieldError> {
    if input.is_null() {
        return Ok(Value::Null);
    }
    let cx = Cx { field };
    match field.kind() {
        FieldKind::Text => cx.text(&input).map(Value::String),
        FieldKind::RichText => cx.rich_text(input),
        FieldKind::Number => cx.number(&input),
        FieldKind::Date => cx.date(&input),
        FieldKind::DateTime => cx.datetime(&input),
        FieldKind::Select => cx.option(&input, cx.allowed("value").as_deref()),
        FieldKind::MultiSelect => {
            let allowed = cx.allowed("value");
            cx.list(&input, allowed.as_deref())
                .iter()
                .map(|item| cx.option(item, allowed.as_deref()))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        FieldKind::Cascading => cx.cascading(&input),
        FieldKind::User => cx.users(&input, false),
        FieldKind::MultiUser => cx.users(&input, true),
        FieldKind::Labels => cx.labels(&input),
        FieldKind::Group => cx.group(&input),
        FieldKind::MultiGroup => cx
            .list(&input, None)
            .iter()
            .map(|item| cx.group(item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        FieldKind::Priority | FieldKind::IssueType | FieldKind::Version => {
            cx.named(&input, "name", cx.allowed("name").as_deref())
        }
        FieldKind::Project => cx.named(&input, "key", None),
        FieldKind::Parent => cx.parent(&input),
        FieldKind::NamedList => {
            let allowed = cx.allowed("name");
            cx.list(&input, allowed.as_deref())
                .iter()
                .map(|item| cx.named(item, "name", allowed.as_deref()))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        FieldKind::Other => Ok(input),
    }
}

/// One allowed value from createmeta/editmeta: an option, priority, component, version, ...
#[derive(Debug, Clone)]
struct Allowed {
    id: Option<String>,
    label: Option<String>,
    children: Vec<Allowed>,
}

impl Allowed {
    fn parse(value: &Value, label_key: &str) -> Allowed {
        Allowed {
            id: value.get("id").and_then(scalar_text),
            label: value
                .get(label_key)
                .or_else(|| value.get("value"))
                .or_else(|| value.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            children: value
                .get("children")
                .and_then(Value::as_array)
                .map(|c| c.iter().map(|v| Allowed::parse(v, label_key)).collect())
                .unwrap_or_default(),
        }
    }
}

/// Which option a text or id names, if any.
enum Match<'a> {
    Label(&'a Allowed),
    Id(&'a Allowed),
}

fn find<'a>(allowed: &'a [Allowed], text: &str) -> Option<Match<'a>> {
    allowed
        .iter()
        .find(|a| a.label.as_deref() == Some(text))
        .or_else(|| {
            allowed.iter().find(|a| {
                a.label
                    .as_deref()
                    .is_some_and(|l| l.to_lowercase() == text.to_lowercase())
            })
        })
        .map(Match::Label)
        .or_else(|| {
            allowed
                .iter()
                .find(|a| a.id.as_deref() == Some(text))
                .map(Match::Id)
        })
}

/// The field being coerced, for error messages.
struct Cx<'f> {
    field: &'f FieldMeta,
}

impl Cx<'_> {
    fn invalid(&self, expected: &str, given: &Value) -> FieldError {
        FieldError::InvalidValue {
            field: self.field.name.clone(),
            id: self.field.id.clone(),
            expected: expected.to_owned(),
            given: describe(given),
        }
    }

    fn not_allowed(&self, given: &str, allowed: &[Allowed]) -> FieldError {
        let mut names: Vec<String> = allowed
            .iter()
            .take(MAX_LISTED)
            .filter_map(|a| a.label.clone().or_else(|| a.id.clone()))
            .collect();
        if allowed.len() > MAX_LISTED {
            names.push(format!("and {} more", allowed.len() - MAX_LISTED));
        }
        FieldError::NotAllowed {
            field: self.field.name.clone(),
            id: self.field.id.clone(),
            given: format!("'{}'", abbreviate(given)),
            allowed: names,
        }
    }

    fn allowed(&self, label_key: &str) -> Option<Vec<Allowed>> {
        self.field.allowed_values.as_ref().map(|values| {
            values
                .iter()
                .map(|v| Allowed::parse(v, label_key))
                .collect()
        })
    }

    /// An array as is; a string split at commas (unless the whole string is an allowed value);
    /// any other value as a one-element list.
    fn list(&self, input: &Value, allowed: Option<&[Allowed]>) -> Vec<Value> {
        match input {
            Value::Array(items) => items.clone(),
            Value::String(text) => {
                if allowed.is_some_and(|a| find(a, text.trim()).is_some()) {
                    return vec![Value::String(text.trim().to_owned())];
                }
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect()
            }
            other => vec![other.clone()],
        }
    }

    fn text(&self, input: &Value) -> Result<String, FieldError> {
        let text = match input {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(self.invalid("text", other)),
        };
        let len = text.chars().count();
        if len > MAX_TEXT {
            return Err(FieldError::TooLong {
                field: self.field.name.clone(),
                id: self.field.id.clone(),
                max: MAX_TEXT,
                len,
            });
        }
        Ok(text)
    }

    fn rich_text(&self, input: Value) -> Result<Value, FieldError> {
        match input {
            Value::String(markdown) => Ok(crate::adf::from_markdown(&markdown)),
            doc @ Value::Object(_) if doc.get("type").and_then(Value::as_str) == Some("doc") => {
                // The envelope is checked here; node-level problems are Jira's to report.
                match crate::adf::check_doc(&doc) {
                    Ok(()) => Ok(doc),
                    Err(error) => Err(self.invalid(&format!("an ADF document ({error})"), &doc)),
                }
            }
            other => Err(self.invalid("Markdown text or an ADF document", &other)),
        }
    }

    fn number(&self, input: &Value) -> Result<Value, FieldError> {
        const EXPECTED: &str = "a number";
        match input {
            Value::Number(_) => Ok(input.clone()),
            Value::String(text) => {
                let text = text.trim();
                if let Ok(n) = text.parse::<i64>() {
                    return Ok(json!(n));
                }
                text.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| self.invalid(EXPECTED, input))
            }
            other => Err(self.invalid(EXPECTED, other)),
        }
    }

    fn instant(&self, input: &Value, expected: &str) -> Result<When, FieldError> {
        let invalid = || self.invalid(expected, input);
        match input {
            Value::Number(n) => n
                .as_i64()
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                .map(|t| When::At(t.fixed_offset()))
                .ok_or_else(invalid),
            Value::String(text) => parse_when(text.trim()).ok_or_else(invalid),
            _ => Err(invalid()),
        }
    }

    fn date(&self, input: &Value) -> Result<Value, FieldError> {
        let when = self.instant(
            input,
            "a date (YYYY-MM-DD), a date-time or epoch milliseconds",
        )?;
        let day = match when {
            When::Day(day) => day,
            // The day as written: `2026-01-17T23:30:00-0500` is the 17th, wherever we run.
            When::At(at) => at.date_naive(),
        };
        Ok(Value::String(day.format("%Y-%m-%d").to_string()))
    }

    fn datetime(&self, input: &Value) -> Result<Value, FieldError> {
        let when = self.instant(
            input,
            "a date-time (2026-01-17T12:34:00.000+0000 or RFC 3339), a date or epoch milliseconds",
        )?;
        let at = match when {
            When::At(at) => at,
            When::Day(day) => day
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().fixed_offset())
                .ok_or_else(|| self.invalid("a valid date", input))?,
        };
        Ok(Value::String(at.format(JIRA_DATETIME).to_string()))
    }

    /// One select option: `{"value"}` for option text, `{"id"}` for an option id.
    fn option(&self, input: &Value, allowed: Option<&[Allowed]>) -> Result<Value, FieldError> {
        const EXPECTED: &str = "an option value, an option id or {\"value\"}/{\"id\"}";
        let (text, by_id) = match input {
            Value::String(s) if !s.trim().is_empty() => (s.trim().to_owned(), false),
            Value::Number(n) => (n.to_string(), true),
            Value::Object(obj) => {
                if let Some(id) = obj.get("id").and_then(scalar_text) {
                    (id, true)
                } else if let Some(value) = obj.get("value").and_then(Value::as_str) {
                    (value.to_owned(), false)
                } else {
                    return Err(self.invalid(EXPECTED, input));
                }
            }
            other => return Err(self.invalid(EXPECTED, other)),
        };
        let Some(allowed) = allowed else {
            return Ok(if by_id {
                json!({ "id": text })
            } else {
                json!({ "value": text })
            });
        };
        let found = if by_id {
            allowed
                .iter()
                .find(|a| a.id.as_deref() == Some(text.as_str()))
                .map(Match::Id)
        } else {
            find(allowed, &text)
        };
        match found {
            Some(Match::Label(option)) => Ok(json!({ "value": option.label })),
            Some(Match::Id(option)) => Ok(json!({ "id": option.id })),
            None => Err(self.not_allowed(&text, allowed)),
        }
    }

    /// `"Parent > Child"`, `["Parent", "Child"]`, `{"value", "child": {"value"}}` or
    /// `{"parent", "child"}` → `{"value": parent, "child": {"value": child}}`.
    fn cascading(&self, input: &Value) -> Result<Value, FieldError> {
        const EXPECTED: &str = "\"Parent > Child\", [parent, child] or {\"value\", \"child\"}";
        let allowed = self.allowed("value");
        let (parent, child): (Value, Option<Value>) = match input {
            Value::String(text) => {
                let whole = text.trim();
                // An option whose own text contains '>' wins over splitting.
                let whole_is_parent = allowed.as_deref().is_some_and(|a| find(a, whole).is_some());
                match whole.split_once('>') {
                    Some((p, c)) if !whole_is_parent => (
                        Value::String(p.trim().to_owned()),
                        Some(Value::String(c.trim().to_owned())),
                    ),
                    _ => (Value::String(whole.to_owned()), None),
                }
            }
            Value::Array(items) if (1..=2).contains(&items.len()) => {
                (items[0].clone(), items.get(1).cloned())
            }
            Value::Object(obj) => {
                let parent = obj
                    .get("parent")
                    .cloned()
                    .unwrap_or_else(|| strip_child(obj));
                (parent, obj.get("child").cloned())
            }
            other => return Err(self.invalid(EXPECTED, other)),
        };
        let mut out = self.option(&parent, allowed.as_deref())?;
        let Some(child) = child.filter(|c| !c.is_null()) else {
            return Ok(out);
        };
        let children = allowed.as_deref().and_then(|a| {
            let chosen = out.get("value").and_then(Value::as_str).map_or_else(
                || {
                    let id = out.get("id").and_then(scalar_text);
                    a.iter().find(|o| o.id == id)
                },
                |v| a.iter().find(|o| o.label.as_deref() == Some(v)),
            );
            chosen.map(|o| o.children.clone())
        });
        let child = self.option(&child, children.as_deref())?;
        if let Some(obj) = out.as_object_mut() {
            obj.insert("child".to_owned(), child);
        }
        Ok(out)
    }

    fn users(&self, input: &Value, many: bool) -> Result<Value, FieldError> {
        const EXPECTED: &str = "an Atlassian account id or {\"accountId\"}";
        let items = if many {
            self.list(input, None)
        } else {
            vec![input.clone()]
        };
        let mut accounts = Vec::new();
        let mut emails = Vec::new();
        for item in &items {
            let text = match item {
                Value::String(s) => s.trim().to_owned(),
                Value::Object(obj) => match (obj.get("accountId"), obj.get("emailAddress")) {
                    (Some(Value::String(id)), _) => id.trim().to_owned(),
                    (_, Some(Value::String(email))) => email.trim().to_owned(),
                    _ => return Err(self.invalid(EXPECTED, item)),
                },
                other => return Err(self.invalid(EXPECTED, other)),
            };
            if text.is_empty() {
                return Err(self.invalid(EXPECTED, item));
            }
            if text.contains('@') {
                emails.push(text);
            } else {
                accounts.push(json!({ "accountId": text }));
            }
        }
        if !emails.is_empty() {
            return Err(FieldError::UserLookupNeeded {
                field: self.field.name.clone(),
                id: self.field.id.clone(),
                emails,
            });
        }
        if many {
            Ok(Value::Array(accounts))
        } else {
            accounts.pop().ok_or_else(|| self.invalid(EXPECTED, input))
        }
    }

    fn labels(&self, input: &Value) -> Result<Value, FieldError> {
        let mut labels: Vec<Value> = Vec::new();
        for item in self.list(input, None) {
            let label = match &item {
                Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
                Value::Number(n) => n.to_string(),
                other => return Err(self.invalid("labels (text without spaces)", other)),
            };
            if label.chars().any(char::is_whitespace) {
                return Err(FieldError::LabelHasSpaces {
                    field: self.field.name.clone(),
                    id: self.field.id.clone(),
                    label,
                });
            }
            let len = label.chars().count();
            if len > MAX_TEXT {
                return Err(FieldError::TooLong {
                    field: self.field.name.clone(),
                    id: self.field.id.clone(),
                    max: MAX_TEXT,
                    len,
                });
            }
            let label = Value::String(label);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        Ok(Value::Array(labels))
    }

    fn group(&self, input: &Value) -> Result<Value, FieldError> {
        match input {
            Value::String(name) if !name.trim().is_empty() => Ok(json!({ "name": name.trim() })),
            Value::Object(obj) if obj.contains_key("groupId") || obj.contains_key("name") => {
                Ok(pick(obj, &["groupId", "name"]))
            }
            other => Err(self.invalid("a group name or {\"name\"}/{\"groupId\"}", other)),
        }
    }

    /// `{"name"}` (or `{"key"}` for projects) from text, `{"id"}` from digits or a number; with
    /// allowed values known, names are matched case-insensitively and checked.
    fn named(
        &self,
        input: &Value,
        text_key: &str,
        allowed: Option<&[Allowed]>,
    ) -> Result<Value, FieldError> {
        let expected = format!("a {text_key}, an id or {{\"{text_key}\"}}/{{\"id\"}}");
        let text = match input {
            Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
            Value::Number(n) => return Ok(json!({ "id": n.to_string() })),
            Value::Object(obj) if obj.contains_key("id") || obj.contains_key(text_key) => {
                return Ok(pick(obj, &["id", text_key]));
            }
            other => return Err(self.invalid(&expected, other)),
        };
        match allowed {
            Some(allowed) => match find(allowed, &text) {
                Some(Match::Label(a)) => Ok(json!({ text_key: a.label })),
                Some(Match::Id(a)) => Ok(json!({ "id": a.id })),
                None => Err(self.not_allowed(&text, allowed)),
            },
            None if text.bytes().all(|b| b.is_ascii_digit()) => Ok(json!({ "id": text })),
            None => Ok(json!({ text_key: text })),
        }
    }

    fn parent(&self, input: &Value) -> Result<Value, FieldError> {
        const EXPECTED: &str = "an issue key (DEMO-1), an issue id or {\"key\"}/{\"id\"}";
        match input {
            Value::String(s) if is_issue_key(s.trim()) => Ok(json!({ "key": s.trim() })),
            Value::String(s) if !s.is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
                Ok(json!({ "id": s.trim() }))
            }
            Value::Number(n) => Ok(json!({ "id": n.to_string() })),
            Value::Object(obj) if obj.contains_key("id") || obj.contains_key("key") => {
                Ok(pick(obj, &["id", "key"]))
            }
            other => Err(self.invalid(EXPECTED, other)),
        }
    }
}

/// A parsed date or date-time input.
enum When {
    Day(NaiveDate),
    At(DateTime<FixedOffset>),
}

fn parse_when(text: &str) -> Option<When> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(When::Day(day));
    }
    if let Ok(at) = DateTime::parse_from_str(text, JIRA_DATETIME)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z"))
        .or_else(|_| DateTime::parse_from_rfc3339(text))
    {
        return Some(When::At(at));
    }
    // A date-time without an offset is taken as UTC: the only zone every caller agrees on.
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(When::At(naive.and_utc().fixed_offset()));
        }
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let ms = text.parse::<i64>().ok()?;
        return Utc
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| When::At(t.fixed_offset()));
    }
    None
}

/// `PROJ-123`: letters, digits and underscores starting with a letter, a dash, digits.
fn is_issue_key(text: &str) -> bool {
    let Some((project, number)) = text.rsplit_once('-') else {
        return false;
    };
    project.chars().next().is_some_and(char::is_alphabetic)
        && project.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The first of `keys` present in `obj`, as a one-key object (drops `self` and other noise).
fn pick(obj: &Map<String, Value>, keys: &[&str]) -> Value {
    for key in keys {
        if let Some(value) = obj.get(*key) {
            let value = scalar_text(value).map_or_else(|| value.clone(), Value::String);
            return json!({ *key: value });
        }
    }
    Value::Object(obj.clone())
}

/// A cascading-select object without its `child`, for matching the parent option.
fn strip_child(obj: &Map<String, Value>) -> Value {
    let mut parent = obj.clone();
    parent.remove("child");
    Value::Object(parent)
}

/// A string or number as text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A short description of a given value for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("{b} (a boolean)"),
        Value::Number(n) => format!("{n} (a number)"),
        Value::String(s) => format!("'{}' (text)", abbreviate(s)),
        Value::Array(items) => format!("a list of {} items", items.len()),
        Value::Object(obj) => {
            let keys: Vec<&str> = obj.keys().map(String::as_str).take(5).collect();
            format!("an object with keys {}", keys.join(", "))
        }
    }
}

fn abbreviate(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}
