//! Times as CloudTrail writes them: `--start-time`/`--end-time` input (ISO-8601 UTC, like the
//! AWS CLI's), the `YYYYMMDDTHHmmssZ` stamps in digest keys, and the window a run covers.
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

pub type Time = OffsetDateTime;

/// The hour CloudTrail may take to deliver a digest after its period: the listing reaches one hour
/// past the window's end, as the AWS CLI's does, so the digest of the window's last hour is read.
pub const SPILL: Duration = Duration::hours(1);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a UTC time (want e.g. 2026-01-08T05:21:42Z, 2026-01-08T05:21Z or 2026-01-08)")]
pub struct BadTime {
    pub value: String,
}

/// `2026-01-08T05:21:42Z`, `2026-01-08T05:21:42+00:00`, `2026-01-08T05:21Z`, `2026-01-08T05:21:42`
/// (read as UTC) or `2026-01-08` (midnight UTC).
pub fn parse_time(value: &str) -> Result<Time, BadTime> {
    let v = value.trim();
    if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
        return Ok(t.to_offset(UtcOffset::UTC));
    }
    let naive = v.strip_suffix('Z').unwrap_or(v);
    let formats: [&[time::format_description::FormatItem<'_>]; 3] = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    ];
    for f in formats {
        if let Ok(t) = PrimitiveDateTime::parse(naive, f) {
            return Ok(t.assume_utc());
        }
    }
    if let Ok(d) = time::Date::parse(naive, format_description!("[year]-[month]-[day]")) {
        return Ok(d.midnight().assume_utc());
    }
    Err(BadTime { value: value.to_string() })
}

/// `2026-01-08T05:21:42Z`: how results show a time.
pub fn display(t: Time) -> String {
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).expect("a UTC time formats")
}

/// `20260108T052142Z`, the stamp at the end of a digest key.
pub fn key_stamp(t: Time) -> String {
    t.format(format_description!("[year][month][day]T[hour][minute][second]Z")).expect("a UTC time formats")
}

/// `20260108T0521Z`, the stamp in a log file key.
pub fn log_stamp(t: Time) -> String {
    t.format(format_description!("[year][month][day]T[hour][minute]Z")).expect("a UTC time formats")
}

/// `2026/01/08`, the day folder of a key.
pub fn day_path(t: Time) -> String {
    t.format(format_description!("[year]/[month]/[day]")).expect("a UTC time formats")
}

/// A digest key's stamp (`20260108T052142Z`) as a time.
pub fn parse_key_stamp(stamp: &str) -> Option<Time> {
    PrimitiveDateTime::parse(stamp, format_description!("[year][month][day]T[hour][minute][second]Z")).ok().map(PrimitiveDateTime::assume_utc)
}

/// A log key's stamp (`20260108T0521Z`) as a time.
pub fn parse_log_stamp(stamp: &str) -> Option<Time> {
    PrimitiveDateTime::parse(stamp, format_description!("[year][month][day]T[hour][minute]Z")).ok().map(PrimitiveDateTime::assume_utc)
}

/// The period a run validates: digests whose key stamp is in `[start, end + SPILL]`, the AWS CLI's
/// selection (a digest is stamped when delivered, after the period it covers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Time,
    pub end: Time,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(transparent)]
    Time(#[from] BadTime),
    #[error("--start-time {start} is after --end-time {end}")]
    Reversed { start: String, end: String },
}

impl Window {
    /// From the flags: the end defaults to `now`, the start to 24 hours before the end.
    pub fn from_flags(start: Option<&str>, end: Option<&str>, now: Time) -> Result<Window, WindowError> {
        let end = end.map(parse_time).transpose()?.unwrap_or(now);
        let start = start.map(parse_time).transpose()?.unwrap_or(end - Duration::hours(24));
        if start > end {
            return Err(WindowError::Reversed { start: display(start), end: display(end) });
        }
        Ok(Window { start, end })
    }

    /// Whether a digest stamped at `t` belongs to the window.
    pub fn holds_digest_stamp(&self, t: Time) -> bool {
        t >= self.start && t <= self.end + SPILL
    }
}

/// Whole hours between two times, rounded to the nearest (digests are hourly).
pub fn hours_between(from: Time, to: Time) -> i64 {
    ((to - from).whole_seconds() as f64 / 3600.0).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_the_forms_the_aws_cli_takes() {
        let t = datetime!(2026-01-08 05:21:42 UTC);
        assert_eq!(parse_time("2026-01-08T05:21:42Z").unwrap(), t);
        assert_eq!(parse_time("2026-01-08T06:21:42+01:00").unwrap(), t);
        assert_eq!(parse_time("2026-01-08T05:21:42").unwrap(), t);
        assert_eq!(parse_time("2026-01-08T05:21Z").unwrap(), datetime!(2026-01-08 05:21 UTC));
        assert_eq!(parse_time("2026-01-08").unwrap(), datetime!(2026-01-08 0:00 UTC));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2026-13-08").is_err());
    }

    #[test]
    fn window_defaults_to_the_last_day_and_refuses_a_reversed_range() {
        let now = datetime!(2026-01-08 05:00 UTC);
        let w = Window::from_flags(None, None, now).unwrap();
        assert_eq!((w.start, w.end), (datetime!(2026-01-07 05:00 UTC), now));
        let w = Window::from_flags(Some("2026-01-08T01:00:00Z"), None, now).unwrap();
        assert_eq!(w.start, datetime!(2026-01-08 01:00 UTC));
        assert!(matches!(Window::from_flags(Some("2026-01-09"), Some("2026-01-08"), now), Err(WindowError::Reversed { .. })));
        assert!(matches!(Window::from_flags(Some("nope"), None, now), Err(WindowError::Time(_))));
    }

    #[test]
    fn digest_stamps_reach_one_hour_past_the_end() {
        let w = Window { start: datetime!(2026-01-08 01:00 UTC), end: datetime!(2026-01-08 04:00 UTC) };
        assert!(w.holds_digest_stamp(datetime!(2026-01-08 01:00 UTC)));
        assert!(w.holds_digest_stamp(datetime!(2026-01-08 05:00 UTC)));
        assert!(!w.holds_digest_stamp(datetime!(2026-01-08 05:00:01 UTC)));
        assert!(!w.holds_digest_stamp(datetime!(2026-01-08 00:59:59 UTC)));
    }

    #[test]
    fn stamps_round_trip() {
        let t = datetime!(2026-01-08 05:21:42 UTC);
        assert_eq!(key_stamp(t), "20260108T052142Z");
        assert_eq!(parse_key_stamp("20260108T052142Z"), Some(t));
        assert_eq!(log_stamp(t), "20260108T0521Z");
        assert_eq!(parse_log_stamp("20260108T0521Z"), Some(datetime!(2026-01-08 05:21 UTC)));
        assert_eq!(day_path(t), "2026/01/08");
        assert_eq!(hours_between(datetime!(2026-01-08 01:00 UTC), datetime!(2026-01-08 03:00:20 UTC)), 2);
    }
}
