//! Semantic checks of a parsed flow: step ids, step references, connections, trigger options,
//! JQL, templates and values. Every check runs; all problems are reported together.

use std::collections::HashMap;

use super::ConnectionCatalog;
use super::error::{FlowError, FlowErrorKind};
use super::locate::{FieldPath, locate};
use super::spec::{FlowFile, StepSpec, TriggerSpec};
use crate::mapping;

struct Checker<'a> {
    name: &'a str,
    text: &'a str,
    errors: Vec<FlowError>,
}

impl Checker<'_> {
    fn report(&mut self, path: &FieldPath, kind: FlowErrorKind) {
        let (line, column) = locate(self.text, path);
        self.errors.push(FlowError {
            file: self.name.to_owned(),
            line,
            column,
            path: path.to_string(),
            kind,
        });
    }
}

/// Runs every semantic check and returns the problems in file order.
pub(super) fn check(
    name: &str,
    text: &str,
    flow: &FlowFile,
    catalog: &dyn ConnectionCatalog,
) -> Vec<FlowError> {
    let mut c = Checker {
        name,
        text,
        errors: Vec::new(),
    };
    check_trigger(&mut c, &flow.trigger, catalog);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let ids: Vec<&str> = flow.steps.iter().map(|s| s.id.as_str()).collect();
    for (i, step) in flow.steps.iter().enumerate() {
        let path = FieldPath::default().key("steps").index(i);
        if !valid_id(&step.id) {
            c.report(
                &path.key("id"),
                FlowErrorKind::InvalidStepId(step.id.clone()),
            );
        }
        if let Some(first) = seen.get(step.id.as_str()) {
            let kind = FlowErrorKind::DuplicateStepId {
                id: step.id.clone(),
                first: *first,
            };
            c.report(&path.key("id"), kind);
        } else {
            seen.insert(&step.id, i);
        }
        check_step(&mut c, &path, step, &ids[..i], &ids[i..], catalog);
    }
    c.errors.sort_by_key(|e| (e.line, e.column));
    c.errors
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_trigger(c: &mut Checker<'_>, trigger: &TriggerSpec, catalog: &dyn ConnectionCatalog) {
    let path = FieldPath::default().key("trigger");
    if !catalog.exists(&trigger.connection) {
        let kind = FlowErrorKind::UnknownConnection(trigger.connection.clone());
        c.report(&path.key("connection"), kind);
    }
    let opts = &trigger.options;
    let opath = path.key("options");
    let kind_name = serde_json::to_value(trigger.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match (&opts.jql, trigger.kind.is_filtered()) {
        (None, true) => c.report(
            &opath,
            FlowErrorKind::TriggerOption(format!("trigger `{kind_name}` requires `options.jql`")),
        ),
        (Some(_), false) => c.report(
            &opath.key("jql"),
            FlowErrorKind::TriggerOption(format!(
                "trigger `{kind_name}` takes no `jql`; use `{kind_name}_with_filter`"
            )),
        ),
        (Some(jql), true) => {
            if let Err(e) = jiraflow_jql::parse(jql) {
                let kind = FlowErrorKind::InvalidJql {
                    message: e.message().to_owned(),
                    line: e.line(),
                    column: e.column(),
                };
                c.report(&opath.key("jql"), kind);
            }
        }
        (None, false) => {}
    }
    if opts.project.is_some() && trigger.kind.is_filtered() {
        c.report(
            &opath.key("project"),
            FlowErrorKind::TriggerOption(format!(
                "trigger `{kind_name}` takes no `project`; put `project = KEY` in the JQL"
            )),
        );
    }
    if opts.fields.is_some() && !trigger.kind.fires_on_update() {
        c.report(
            &opath.key("fields"),
            FlowErrorKind::TriggerOption(format!(
                "trigger `{kind_name}` does not fire on updates, so `fields` does not apply"
            )),
        );
    }
    if let Some(interval) = &opts.poll_interval
        && let Err(msg) = parse_duration(interval)
    {
        c.report(
            &opath.key("poll_interval"),
            FlowErrorKind::InvalidValue(msg),
        );
    }
    if let Some(start) = &opts.start
        && start != "now"
        && !is_rfc3339(start)
    {
        c.report(
            &opath.key("start"),
            FlowErrorKind::InvalidValue(format!(
                "`{start}` is neither `now` nor an RFC 3339 timestamp like 2026-01-31T09:00:00Z"
            )),
        );
    }
}

fn check_step(
    c: &mut Checker<'_>,
    path: &FieldPath,
    step: &StepSpec,
    earlier: &[&str],
    later: &[&str],
    catalog: &dyn ConnectionCatalog,
) {
    match (&step.connection, step.action.needs_connection()) {
        (None, true) => c.report(
            path,
            FlowErrorKind::MissingConnection(step.action.name().to_owned()),
        ),
        (Some(_), false) => c.report(
            &path.key("connection"),
            FlowErrorKind::UnexpectedConnection(step.action.name().to_owned()),
        ),
        (Some(name), true) if !catalog.exists(name) => c.report(
            &path.key("connection"),
            FlowErrorKind::UnknownConnection(name.clone()),
        ),
        _ => {}
    }
    if step.retry.max_attempts == 0 || step.retry.max_attempts > 10 {
        c.report(
            &path.key("retry").key("max_attempts"),
            FlowErrorKind::InvalidValue(format!(
                "max_attempts must be between 1 and 10, not {}",
                step.retry.max_attempts
            )),
        );
    }
    if let Err(msg) = parse_duration(&step.retry.backoff) {
        c.report(
            &path.key("retry").key("backoff"),
            FlowErrorKind::InvalidValue(msg),
        );
    }
    if let Some(cond) = &step.condition {
        let cpath = path.key("if");
        if let Err(e) = mapping::check_condition(cond) {
            c.report(&cpath, template_error(e));
        }
        check_refs(c, &cpath, step_refs(cond, true), earlier, later);
    }
    let ipath = path.key("input");
    for (key, value) in &step.input {
        check_value(c, &ipath.key(key), value, earlier, later);
    }
}

fn check_value(
    c: &mut Checker<'_>,
    path: &FieldPath,
    value: &serde_json::Value,
    earlier: &[&str],
    later: &[&str],
) {
    match value {
        serde_json::Value::String(s) => {
            if let Err(e) = mapping::check_template(s) {
                c.report(path, template_error(e));
            }
            check_refs(c, path, step_refs(s, false), earlier, later);
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_value(c, &path.index(i), item, earlier, later);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                check_value(c, &path.key(k), v, earlier, later);
            }
        }
        _ => {}
    }
}

fn check_refs(
    c: &mut Checker<'_>,
    path: &FieldPath,
    refs: Vec<String>,
    earlier: &[&str],
    later: &[&str],
) {
    for id in refs {
        if !earlier.contains(&id.as_str()) {
            let later = later.contains(&id.as_str());
            c.report(path, FlowErrorKind::UnknownStepReference { id, later });
        }
    }
}

/// The step ids a template or condition reads, by the mapping module's analysis.
fn step_refs(text: &str, is_condition: bool) -> Vec<String> {
    if is_condition && !text.contains("{{") {
        // Conditions may be bare expressions; the analysis reads templates.
        mapping::referenced_steps(&format!("{{{{ {text} }}}}"))
    } else {
        mapping::referenced_steps(text)
    }
}

fn template_error(e: mapping::TemplateError) -> FlowErrorKind {
    FlowErrorKind::InvalidTemplate {
        message: e.message,
        line: e.line,
        column: e.column,
    }
}

/// Parses a duration like `500ms`, `30s`, `5m` or `2h` into milliseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => 0,
    };
    match num.parse::<u64>() {
        Ok(n) if factor > 0 && n > 0 => Ok(n.saturating_mul(factor)),
        _ => Err(format!(
            "`{text}` is not a duration: write a positive number and ms, s, m or h, e.g. `30s`"
        )),
    }
}

// Shape check only (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)); the trigger parses it for real.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_conditions_and_templates_both_yield_their_step_references() {
        assert_eq!(step_refs("steps.a.output.ok and trigger.x", true), ["a"]);
        assert_eq!(
            step_refs("{{ steps.find.output.key }} steps.x", false),
            ["find"]
        );
        assert!(step_refs("steps.a.output", false).is_empty());
    }

    #[test]
    fn durations_need_a_positive_number_and_a_unit() {
        assert_eq!(parse_duration("30s"), Ok(30_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1d").is_err());
    }

    #[test]
    fn timestamps_must_look_like_rfc3339() {
        assert!(is_rfc3339("2026-01-31T09:00:00Z"));
        assert!(is_rfc3339("2026-01-31T09:00:00.123+02:00"));
        assert!(!is_rfc3339("2026-01-31 09:00"));
        assert!(!is_rfc3339("yesterday"));
    }
}
