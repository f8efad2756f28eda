//! The polling window: Jira's clock (never ours), the trigger's start position, and the span one
//! poll reads, `[cursor − overlap, jira_now − settle)`, in epoch milliseconds so neither the
//! users' time zones nor a skewed local clock can open a gap.

use chrono::{DateTime, Utc};
use jiraflow_jira::JiraClient;

/// Where a trigger begins before its first poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At Jira's current time (minus the settle time) on the first poll: nothing older fires.
    Now,
    /// At this instant (epoch ms): events from then on fire, including past ones.
    At(i64),
}

impl Start {
    /// Reads the `start` option: absent or `now`, or an RFC 3339 timestamp with an offset.
    ///
    /// # Errors
    /// A message naming the value and the accepted forms.
    pub fn parse(text: Option<&str>) -> Result<Self, String> {
        match text.map(str::trim) {
            None | Some("") => Ok(Self::Now),
            Some(t) if t.eq_ignore_ascii_case("now") => Ok(Self::Now),
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|d| Self::At(d.timestamp_millis()))
                .map_err(|e| {
                    format!(
                        "options.start {t:?} is neither `now` nor an RFC 3339 timestamp \
                         (e.g. 2026-01-17T09:30:00-10:00): {e}"
                    )
                }),
        }
    }
}

/// A half-open span of Jira time, `[from_ms, to_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive lower bound (epoch ms).
    pub from_ms: i64,
    /// Exclusive upper bound (epoch ms).
    pub to_ms: i64,
}

impl Window {
    /// Whether `ms` lies inside.
    pub fn contains(&self, ms: i64) -> bool {
        (self.from_ms..self.to_ms).contains(&ms)
    }

    /// The smallest window covering both.
    pub fn union(self, other: Self) -> Self {
        Self {
            from_ms: self.from_ms.min(other.from_ms),
            to_ms: self.to_ms.max(other.to_ms),
        }
    }
}

/// What one trigger's poll does, given its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// First poll with `start: now`: only set the cursor here; nothing is read.
    Initialize(i64),
    /// Read this window.
    Read(Window),
}

/// Plans a poll: `cursor` is the stored one (`None` before the first poll), `upper` is
/// Jira's now minus the settle time, `floor` the earliest instant the trigger may ever fire for
/// (its start), and `overlap_ms` how far before the cursor to re-read.
pub fn plan(
    cursor: Option<i64>,
    start: Start,
    floor: Option<i64>,
    upper: i64,
    overlap_ms: i64,
) -> Plan {
    let cursor = match (cursor, start) {
        (Some(c), _) => c,
        (None, Start::Now) => return Plan::Initialize(upper),
        (None, Start::At(at)) => at,
    };
    let mut from = cursor.saturating_sub(overlap_ms);
    if let Some(floor) = floor {
        from = from.max(floor);
    }
    if let Start::At(at) = start {
        // The overlap never reaches before the configured start.
        from = from.max(at);
    }
    Plan::Read(Window {
        from_ms: from,
        // An upper bound below the lower one (Jira's clock jumped back, or polled right after
        // the start) reads an empty window: the cursor cannot move backwards anyway.
        to_ms: upper.max(from),
    })
}

/// Jira's current time in epoch ms, from `GET /serverInfo`. `local_now` is used only when Jira
/// sends no `serverTime` (Cloud always does), with a warning.
///
/// # Errors
/// The client's error.
pub async fn jira_now_ms(
    jira: &JiraClient,
    local_now: DateTime<Utc>,
) -> Result<i64, jiraflow_jira::Error> {
    let info = jira.server_info().send().await?;
    Ok(match info.server_time {
        Some(t) => t.timestamp_millis(),
        None => {
            tracing::warn!("serverInfo has no serverTime; polling by the local clock");
            local_now.timestamp_millis()
        }
    })
}

/// Epoch ms as an RFC 3339 UTC timestamp with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_poll_from_now_only_places_the_cursor() {
        assert_eq!(
            plan(None, Start::Now, None, 10_000, 120_000),
            Plan::Initialize(10_000)
        );
    }

    #[test]
    fn later_polls_reread_the_overlap_but_never_before_the_start() {
        assert_eq!(
            plan(Some(500_000), Start::Now, None, 600_000, 120_000),
            Plan::Read(Window {
                from_ms: 380_000,
                to_ms: 600_000
            })
        );
        assert_eq!(
            plan(Some(500_000), Start::At(450_000), None, 600_000, 120_000),
            Plan::Read(Window {
                from_ms: 450_000,
                to_ms: 600_000
            })
        );
        assert_eq!(
            plan(None, Start::At(450_000), None, 600_000, 120_000),
            Plan::Read(Window {
                from_ms: 450_000,
                to_ms: 600_000
            })
        );
    }

    #[test]
    fn a_clock_that_went_back_reads_an_empty_window() {
        let Plan::Read(w) = plan(Some(500_000), Start::Now, None, 100_000, 1_000) else {
            panic!("expected a read");
        };
        assert_eq!(w.from_ms, w.to_ms);
    }

    #[test]
    fn start_accepts_now_and_offsets_and_names_bad_values() {
        assert_eq!(Start::parse(None), Ok(Start::Now));
        assert_eq!(Start::parse(Some("NOW")), Ok(Start::Now));
        assert_eq!(
            Start::parse(Some("2026-01-17T02:34:00-10:00")),
            Ok(Start::At(1_768_653_240_000))
        );
        let err = Start::parse(Some("yesterday")).err().unwrap_or_default();
        assert!(
            err.contains("yesterday") && err.contains("RFC 3339"),
            "{err}"
        );
    }
}
