//! `[verify]`: how `orgtrail verify` judges the record itself. `max_delivery_age` (a duration such
//! as "90m", "2h" or "1d"; default "2h") bounds how old the newest delivery and digest may be:
//! CloudTrail delivers log files about every 5 minutes and a digest every hour, so two hours allow
//! one missed digest.
use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;
use super::raw::S;
use super::validate::Checker;

pub const DEFAULT_MAX_DELIVERY_AGE: Duration = Duration::from_secs(2 * 3600);
/// A digest arrives every hour: a bound under that could never pass; over 31 days proves little.
const RANGE: std::ops::RangeInclusive<u64> = 3600..=31 * 24 * 3600;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVerify {
    pub max_delivery_age: Option<S<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyConfig {
    #[serde(serialize_with = "as_text")]
    pub max_delivery_age: Duration,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig { max_delivery_age: DEFAULT_MAX_DELIVERY_AGE }
    }
}

fn as_text<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

/// "2h", "90m", "1d", "3600s": a whole number and one unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("`{text}` is not a duration: write a whole number and a unit, e.g. \"2h\", \"90m\", \"1d\""))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{text}` has no known unit: use s, m, h or d (e.g. \"2h\")")),
    };
    if !RANGE.contains(&secs) {
        return Err(format!("`{text}` is out of range: max_delivery_age must be from 1h (a digest arrives every hour) to 31d"));
    }
    Ok(Duration::from_secs(secs))
}

pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s % 86_400 == 0 => format!("{}d", s / 86_400),
        _ if s % 3600 == 0 => format!("{}h", s / 3600),
        _ if s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

pub(super) fn verify(checker: &Checker<'_>, raw: Option<&RawVerify>) -> Result<VerifyConfig, ConfigError> {
    let Some(age) = raw.and_then(|r| r.max_delivery_age.as_ref()) else { return Ok(VerifyConfig::default()) };
    let max_delivery_age = parse_duration(age.get_ref()).map_err(|m| checker.err(age.span(), format!("verify.max_delivery_age: {m}")))?;
    Ok(VerifyConfig { max_delivery_age })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_whole_units_within_range() {
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("30m").unwrap_err().contains("out of range"));
        assert!(parse_duration("2 hours").is_err());
        assert!(parse_duration("h").is_err());
        assert_eq!(format_duration(Duration::from_secs(5400)), "90m");
    }
}
