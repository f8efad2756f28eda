//! Redaction of what a run records: step inputs and error messages are kept in the run history
//! (and shown by the API and the console), so secrets never reach them and large inline
//! attachment content is reduced to its size and digest.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What replaces a secret value.
pub(crate) const REDACTED: &str = "[redacted]";

/// Inline content longer than this is recorded as its size and digest.
const MAX_INLINE_CONTENT: usize = 256;

/// Secret env values shorter than this are not searched for in strings: replacing every
/// occurrence of a two-letter value would mangle the record without protecting anything.
const MIN_SECRET_LEN: usize = 4;

/// Name fragments that mark a key (or an env entry) as secret, compared case-insensitively
/// with `-` read as `_`.
const SECRET_NAMES: &[&str] = &[
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "private_key",
];

/// Whether a key or env name looks like it holds a secret.
pub(crate) fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    SECRET_NAMES.iter().any(|s| name.contains(s))
}

/// Redacts values for the run history, knowing the secret env values of the executor.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    /// Values of env entries whose names look secret, longest first (so a value containing
    /// another is replaced whole).
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for the env values templates see.
    pub(crate) fn new(env: &BTreeMap<String, String>) -> Self {
        let mut secrets: Vec<String> = env
            .iter()
            .filter(|(name, value)| looks_secret(name) && value.len() >= MIN_SECRET_LEN)
            .map(|(_, value)| value.clone())
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// A copy of `value` with secrets replaced: values under secret-looking keys, strings
    /// containing a secret env value, and long inline `content`.
    pub(crate) fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (key, item) in map {
                    let redacted = if looks_secret(key) && !item.is_null() {
                        Value::String(REDACTED.to_owned())
                    } else if key == "content"
                        && let Value::String(content) = item
                        && content.len() > MAX_INLINE_CONTENT
                    {
                        Value::String(summarize_content(content))
                    } else {
                        self.value(item)
                    };
                    out.insert(key.clone(), redacted);
                }
                Value::Object(out)
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        }
    }

    /// `text` with every secret env value replaced.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

/// `[N bytes base64, sha256 <hex>]`: the length of the content as given and the SHA-256 of that
/// text, enough to tell which file was sent without keeping it.
fn summarize_content(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("[{} bytes base64, sha256 {hex}]", content.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn values_under_secret_looking_keys_are_redacted_anywhere_in_the_tree() {
        let r = Redactor::default();
        let input = json!({
            "summary": "keep me",
            "Password": "hunter22",
            "fields": {"X-Api-Key": "k", "nested": [{"authorization": {"a": 1}}]},
            "private_key": "pem",
            "access_token": "t",
            "client_secret": "s",
            "apikey": "a",
        });
        assert_eq!(
            r.value(&input),
            json!({
                "summary": "keep me",
                "Password": REDACTED,
                "fields": {"X-Api-Key": REDACTED, "nested": [{"authorization": REDACTED}]},
                "private_key": REDACTED,
                "access_token": REDACTED,
                "client_secret": REDACTED,
                "apikey": REDACTED,
            })
        );
    }

    #[test]
    fn strings_containing_a_secret_env_value_are_redacted_and_plain_env_values_kept() {
        let r = Redactor::new(&env(&[
            ("DEPLOY_TOKEN", "tok-12345"),
            ("TEAM", "platform"),
            ("SHORT_SECRET", "ab"),
        ]));
        let input = json!({"body": "use tok-12345 for platform", "labels": ["ab", "tok-12345"]});
        assert_eq!(
            r.value(&input),
            json!({"body": "use [redacted] for platform", "labels": ["ab", REDACTED]})
        );
        assert_eq!(r.text("failed with tok-12345"), "failed with [redacted]");
    }

    #[test]
    fn long_inline_content_is_recorded_as_its_size_and_digest() {
        let r = Redactor::default();
        let long = "QUJD".repeat(100);
        let out =
            r.value(&json!({"issue": "DEMO-1", "content": long, "short": {"content": "QUJD"}}));
        let summary = out["content"].as_str().unwrap_or_default();
        assert!(
            summary.starts_with("[400 bytes base64, sha256 ") && summary.ends_with(']'),
            "{summary}"
        );
        assert_eq!(summary.len(), "[400 bytes base64, sha256 ]".len() + 64);
        assert_eq!(out["short"]["content"], json!("QUJD"));
        assert_eq!(out["issue"], json!("DEMO-1"));
    }

    #[test]
    fn secret_looking_names_are_matched_without_case_and_with_dashes() {
        for name in [
            "PASSWORD",
            "Api-Key",
            "x_apikey",
            "Authorization",
            "ssh_private_key",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["summary", "key", "issue_key", "author"] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
