//! JQL date values: literals (relative `-15m`, `-1w 2d`; absolute `"yyyy/MM/dd HH:mm"`,
//! `"yyyy-MM-dd"`; epoch milliseconds) and the date functions (`now()`, `startOfDay("-1d")`, ...),
//! all read in the calling user's time zone with minute precision, as Jira does.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::clock::{EpochMs, ms_to_utc};

const MINUTE: i64 = 60_000;

/// Where date values are read: the caller's time zone and "now".
#[derive(Debug, Clone, Copy)]
pub struct DateContext {
    /// The calling user's profile time zone.
    pub tz: Tz,
    /// The simulated now.
    pub now: EpochMs,
    /// Whether weeks start on Sunday (the caller's locale is `en_US`) instead of Monday.
    pub week_starts_sunday: bool,
}

impl DateContext {
    /// A context for a user with IANA zone `tz` (UTC when unknown) and locale `locale`.
    pub fn new(tz: &str, locale: &str, now: EpochMs) -> Self {
        Self {
            tz: tz.parse().unwrap_or(Tz::UTC),
            now,
            week_starts_sunday: locale == "en_US",
        }
    }

    /// Reads a date literal: relative offset, absolute date (time) in the caller's zone, or
    /// epoch milliseconds. `None` when it is not a date.
    pub fn literal(&self, text: &str) -> Option<EpochMs> {
        let text = text.trim();
        if let Ok(ms) = text.parse::<i64>() {
            // A bare number is epoch milliseconds (Jira reads longs that way).
            return Some(ms);
        }
        if let Some(offset) = relative_offset(text) {
            // Relative dates count from now, cut to the minute like every JQL date.
            return Some(floor_minute(self.now + offset));
        }
        self.absolute(text)
    }

    fn absolute(&self, text: &str) -> Option<EpochMs> {
        for format in ["%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
                return self.local(naive);
            }
        }
        for format in ["%Y/%m/%d", "%Y-%m-%d"] {
            if let Ok(date) = NaiveDate::parse_from_str(text, format) {
                return self.local(date.and_hms_opt(0, 0, 0)?);
            }
        }
        None
    }

    /// The instant of a local wall-clock time in the caller's zone (the earlier one when it
    /// repeats, the first valid minute after a gap).
    pub fn local(&self, naive: NaiveDateTime) -> Option<EpochMs> {
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp_millis()),
            LocalResult::None => self
                .tz
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .map(|t| t.timestamp_millis()),
        }
    }

    /// A due-date style day (`YYYY-MM-DD`) as the instant it starts in the caller's zone.
    pub fn day_start(&self, day: &str) -> Option<EpochMs> {
        let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        self.local(date.and_hms_opt(0, 0, 0)?)
    }

    fn now_local(&self) -> DateTime<Tz> {
        ms_to_utc(self.now).with_timezone(&self.tz)
    }

    /// Evaluates a date function. `Err` carries Jira's message for a bad argument; `Ok(None)`
    /// means the name is not a date function.
    pub fn function(&self, name: &str, args: &[String]) -> Result<Option<EpochMs>, String> {
        let lower = name.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "now" => {
                if !args.is_empty() {
                    return Err(format!(
                        "Function '{name}' expected '0' arguments but received '{}'.",
                        args.len()
                    ));
                }
                return Ok(Some(self.now));
            }
            "startofday" | "endofday" => Unit::Day,
            "startofweek" | "endofweek" => Unit::Week,
            "startofmonth" | "endofmonth" => Unit::Month,
            "startofyear" | "endofyear" => Unit::Year,
            _ => return Ok(None),
        };
        let start = lower.starts_with("start");
        let offset = match args {
            [] => None,
            [arg] => Some(
                parse_calendar_offset(arg)
                    .ok_or_else(|| format!("Invalid date format '{arg}' for function '{name}'."))?,
            ),
            _ => {
                return Err(format!(
                    "Function '{name}' expected between '0' and '1' arguments but received '{}'.",
                    args.len()
                ));
            }
        };
        let base = self.now_local();
        let shifted = match offset {
            Some(off) => off
                .apply(base)
                .ok_or_else(|| format!("Invalid date for function '{name}'."))?,
            None => base,
        };
        let begin = self.period_start(shifted, kind).ok_or("Invalid date.")?;
        if start {
            return Ok(Some(begin));
        }
        let next_local = ms_to_utc(begin).with_timezone(&self.tz);
        let next = match kind {
            Unit::Day => next_local.date_naive().succ_opt(),
            Unit::Week => next_local
                .date_naive()
                .checked_add_days(chrono::Days::new(7)),
            Unit::Month => add_months(next_local.date_naive(), 1),
            Unit::Year => add_months(next_local.date_naive(), 12),
        }
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|n| self.local(n))
        .ok_or("Invalid date.")?;
        Ok(Some(next - 1))
    }

    fn period_start(&self, at: DateTime<Tz>, unit: Unit) -> Option<EpochMs> {
        let day = at.date_naive();
        let first = match unit {
            Unit::Day => day,
            Unit::Week => {
                let back = if self.week_starts_sunday {
                    day.weekday().num_days_from_sunday()
                } else {
                    day.weekday().num_days_from_monday()
                };
                day.checked_sub_days(chrono::Days::new(u64::from(back)))?
            }
            Unit::Month => day.with_day(1)?,
            Unit::Year => NaiveDate::from_ymd_opt(day.year(), 1, 1)?,
        };
        self.local(first.and_hms_opt(0, 0, 0)?)
    }
}

#[derive(Debug, Clone, Copy)]
enum Unit {
    Day,
    Week,
    Month,
    Year,
}

/// Cuts an instant down to its minute.
pub fn floor_minute(ms: EpochMs) -> EpochMs {
    ms.div_euclid(MINUTE) * MINUTE
}

/// Parses a relative duration like `-15m`, `1h`, `-1w 2d`, `+3d` (units: w, d, h, m).
fn relative_offset(text: &str) -> Option<i64> {
    let (sign, body) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if c.is_whitespace() {
            if !digits.is_empty() {
                return None;
            }
        } else {
            let n: i64 = digits.parse().ok()?;
            digits.clear();
            let unit = match c {
                'w' => 7 * 24 * 60 * MINUTE,
                'd' => 24 * 60 * MINUTE,
                'h' => 60 * MINUTE,
                'm' => MINUTE,
                _ => return None,
            };
            total = total.checked_add(n.checked_mul(unit)?)?;
            any = true;
        }
    }
    (any && digits.is_empty()).then_some(sign * total)
}

/// An offset argument of `startOfDay(...)` and friends: calendar units move by calendar steps.
#[derive(Debug, Clone, Copy)]
struct CalendarOffset {
    months: i64,
    millis: i64,
}

impl CalendarOffset {
    fn apply(self, at: DateTime<Tz>) -> Option<DateTime<Tz>> {
        let moved = if self.months == 0 {
            at
        } else {
            let date = add_months(at.date_naive(), self.months)?;
            at.timezone()
                .from_local_datetime(&date.and_time(at.time()))
                .earliest()?
        };
        moved.checked_add_signed(Duration::milliseconds(self.millis))
    }
}

fn parse_calendar_offset(text: &str) -> Option<CalendarOffset> {
    let text = text.trim();
    let (sign, body) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    // A bare number counts days (Jira: "startOfDay(-1)" is yesterday).
    if let Ok(n) = body.trim().parse::<i64>() {
        return Some(CalendarOffset {
            months: 0,
            millis: sign * n * 24 * 60 * MINUTE,
        });
    }
    let mut months = 0;
    let mut rest = String::new();
    let mut digits = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if c == 'M' || c == 'y' {
            let n: i64 = digits.parse().ok()?;
            digits.clear();
            months += if c == 'M' { n } else { 12 * n };
        } else {
            rest.push_str(&digits);
            digits.clear();
            rest.push(c);
        }
    }
    if !digits.is_empty() {
        return None;
    }
    let rest = rest.trim();
    let millis = if rest.is_empty() {
        0
    } else {
        relative_offset(rest)?
    };
    Some(CalendarOffset {
        months: sign * months,
        millis: sign * millis,
    })
}

fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    if months >= 0 {
        date.checked_add_months(chrono::Months::new(u32::try_from(months).ok()?))
    } else {
        date.checked_sub_months(chrono::Months::new(u32::try_from(-months).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-01-17T12:34:56.789Z, a Saturday.
    const NOW: EpochMs = 1_768_653_296_789;

    fn ctx(tz: &str) -> DateContext {
        DateContext::new(tz, "en_US", NOW)
    }

    #[test]
    fn relative_literals_count_back_from_now_to_the_minute() {
        let c = ctx("UTC");
        assert_eq!(c.literal("-15m"), Some(floor_minute(NOW) - 15 * MINUTE));
        assert_eq!(
            c.literal("-1w 2d"),
            Some(floor_minute(NOW) - 9 * 24 * 60 * MINUTE)
        );
        assert_eq!(c.literal("2h"), Some(floor_minute(NOW) + 120 * MINUTE));
        assert_eq!(c.literal("-1x"), None);
    }

    #[test]
    fn absolute_literals_are_read_in_the_users_zone() {
        let utc = ctx("UTC").literal("2026/01/17 12:34");
        assert_eq!(utc, Some(1_768_653_240_000));
        let honolulu = ctx("Pacific/Honolulu").literal("2026-01-17 12:34");
        assert_eq!(honolulu, Some(1_768_653_240_000 + 10 * 3600 * 1000));
        let tonga = ctx("Pacific/Tongatapu").literal("2026/01/17");
        assert_eq!(tonga, Some(1_768_608_000_000 - 13 * 3600 * 1000));
    }

    #[test]
    fn start_and_end_functions_use_the_zone_and_offsets() {
        let c = ctx("UTC");
        let day = 1_768_608_000_000; // 2026-01-17T00:00Z
        assert_eq!(c.function("startOfDay", &[]), Ok(Some(day)));
        assert_eq!(
            c.function("startOfDay", &["-1d".into()]),
            Ok(Some(day - 86_400_000))
        );
        assert_eq!(c.function("endOfDay", &[]), Ok(Some(day + 86_400_000 - 1)));
        // Week of Saturday 2026-01-17 starts on Sunday 2026-01-11 for en_US.
        assert_eq!(
            c.function("startOfWeek", &[]),
            Ok(Some(day - 6 * 86_400_000))
        );
        assert_eq!(
            c.function("startOfMonth", &["-1M".into()]),
            Ok(Some(1_764_547_200_000))
        );
        assert_eq!(c.function("startOfYear", &[]), Ok(Some(1_767_225_600_000)));
        let tonga = ctx("Pacific/Tongatapu").function("startOfDay", &[]);
        // 12:34Z is 01:34 on the 18th in Tonga.
        assert_eq!(tonga, Ok(Some(day + 86_400_000 - 13 * 3600 * 1000)));
        assert!(c.function("startOfDay", &["soon".into()]).is_err());
        assert_eq!(c.function("membersOf", &[]), Ok(None));
    }
}
