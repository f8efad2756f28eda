//! Jira timestamp (de)serialization. Jira writes `2026-01-17T12:34:00.000+0000` (an offset without
//! a colon, which strict RFC 3339 parsers reject), some endpoints send RFC 3339, and a few send
//! epoch milliseconds as numbers. Everything parses into `DateTime<FixedOffset>` so the original
//! offset survives; comparisons should use instants, not strings.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// A Jira timestamp with the offset Jira sent.
pub type Timestamp = DateTime<FixedOffset>;

/// Jira's own timestamp format.
pub const JIRA_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%z";

/// Parses Jira's format, RFC 3339, or a decimal epoch-milliseconds string.
pub fn parse(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .or_else(|| text.parse::<i64>().ok().and_then(from_epoch_ms))
}

/// Converts epoch milliseconds into a UTC timestamp.
pub fn from_epoch_ms(ms: i64) -> Option<Timestamp> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.fixed_offset())
}

/// Formats in Jira's own format (`2026-01-17T12:34:00.000+0000`).
pub fn format(value: &Timestamp) -> String {
    value.format(JIRA_FORMAT).to_string()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Millis(i64),
    Float(f64),
}

fn from_raw<E: serde::de::Error>(raw: Raw) -> Result<Timestamp, E> {
    match raw {
        Raw::Text(text) => {
            parse(&text).ok_or_else(|| E::custom(format!("unrecognised Jira timestamp {text:?}")))
        }
        Raw::Millis(ms) => from_epoch_ms(ms).ok_or_else(|| E::custom("epoch ms out of range")),
        // Truncation is intended: sub-millisecond precision does not exist in Jira.
        #[allow(clippy::cast_possible_truncation)]
        Raw::Float(ms) => {
            from_epoch_ms(ms as i64).ok_or_else(|| E::custom("epoch ms out of range"))
        }
    }
}

/// Serializes in Jira's format.
pub fn serialize<S: Serializer>(value: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(value))
}

/// Deserializes Jira's format, RFC 3339 or epoch milliseconds.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    from_raw(Raw::deserialize(deserializer)?)
}

/// The same helpers for `Option<Timestamp>` (absent, `null`, or any accepted form).
pub mod option {
    use super::{Raw, Timestamp, from_raw};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes `None` as `null` and `Some` in Jira's format.
    pub fn serialize<S: Serializer>(
        value: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes `null` as `None`, anything else like [`super::deserialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        match Option::<Raw>::deserialize(deserializer)? {
            Some(raw) => from_raw(raw).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn jira_rfc3339_and_epoch_forms_denote_the_same_instant() {
        let jira = parse("2026-01-17T12:34:00.000+0000").unwrap();
        let rfc = parse("2026-01-17T12:34:00Z").unwrap();
        let ms = from_epoch_ms(jira.timestamp_millis()).unwrap();
        assert_eq!(jira, rfc);
        assert_eq!(jira, ms);
    }

    #[test]
    fn offsets_survive_a_round_trip_in_jira_format() {
        let t = parse("2026-01-17T12:34:00.123-0500").unwrap();
        assert_eq!(format(&t), "2026-01-17T12:34:00.123-0500");
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(parse("yesterday").is_none());
    }
}
