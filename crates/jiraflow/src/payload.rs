//! JSON given on the command line: `--payload`, `--input` and friends take the JSON text itself
//! or `@FILE`. A syntax error names where the JSON came from and its line and column.

use anyhow::Context as _;
use serde_json::Value;

/// Parses `arg` (JSON text, or `@FILE` to read it from a file); `option` names the flag in
/// error messages (`--payload`).
pub fn parse(option: &str, arg: &str) -> anyhow::Result<Value> {
    let (origin, text) = match arg.strip_prefix('@') {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{option} @{path}: cannot read the file"))?;
            (format!("{option} @{path}"), text)
        }
        None => (option.to_owned(), arg.to_owned()),
    };
    parse_text(&origin, &text)
}

/// Parses JSON `text` from `origin`, naming the line and column of a syntax error.
pub fn parse_text(origin: &str, text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{origin}: invalid JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        )
    })
}

// serde_json appends " at line L column C", which the message already leads with.
fn strip_position(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |cut| &message[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_json_parses_and_a_syntax_error_names_its_line_and_column() {
        assert_eq!(
            parse("--payload", r#"{"a": 1}"#).ok(),
            Some(serde_json::json!({"a": 1}))
        );
        let err = parse("--payload", "{\n  \"a\": ,\n}")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("--payload: invalid JSON at line 2, column 8: "),
            "{err}"
        );
        assert!(!err.contains(" at line 2 column"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = parse("--input", "@/nonexistent/input.json")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("--input @/nonexistent/input.json"), "{err}");
    }
}
