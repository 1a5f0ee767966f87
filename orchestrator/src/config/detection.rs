//! Detection and tamper protection (issue 15): `[trail.cloudwatch_logs]`, `[trail.insights]`,
//! `[trail.network_events]`, `[monitoring]`, `[protection]`. Raw TOML types, the resolved model,
//! and their validation; every block is optional and off when absent.
use serde::Deserialize;

use super::error::ConfigError;
use super::model::{CloudWatchLogs, EventScope};
use super::raw::S;
use super::rules;
use super::validate::Checker;

// ---- raw ----------------------------------------------------------------------------------

/// `[trail.cloudwatch_logs]`: either orgtrail manages the log group and role (`retention_days`,
/// `log_group`), or the trail is pointed at an existing pair (`log_group_arn`, `role_arn`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudWatchLogs {
    pub retention_days: Option<S<i64>>,
    pub log_group: Option<S<String>>,
    pub log_group_arn: Option<S<String>>,
    pub role_arn: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInsights {
    pub api_call_rate: Option<bool>,
    pub api_error_rate: Option<bool>,
    pub categories: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetworkEvents {
    pub sources: S<Vec<S<String>>>,
    pub vpce_denied_only: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitoring {
    pub alarms: Option<S<String>>,
    pub sns_topic: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProtection {
    pub scp: Option<bool>,
    #[serde(default)]
    pub targets: Vec<S<String>>,
}

// ---- model --------------------------------------------------------------------------------

/// The resolved detection settings. `Default` is everything off.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Detection {
    /// The log group and role orgtrail creates (None: off, or an existing pair in `trail.cloudwatch_logs`).
    pub log_group: Option<ManagedLogGroup>,
    pub insights: Option<Insights>,
    pub network_events: Option<NetworkEvents>,
    pub alarms: Option<Alarms>,
    pub protection: Option<Protection>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ManagedLogGroup {
    /// None: `/aws/cloudtrail/<trail name>`.
    pub name: Option<String>,
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Insights {
    pub api_call_rate: bool,
    pub api_error_rate: bool,
    /// "Management" and/or "Data", sorted.
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NetworkEvents {
    /// eventSource values, sorted, unique.
    pub sources: Vec<String>,
    pub vpce_denied_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Alarms {
    pub sns_topic: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Protection {
    /// OU paths or ids; empty: the organization root.
    pub targets: Vec<String>,
}

/// The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
pub const RETENTION_DAYS: &[i32] = &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

// ---- validation ---------------------------------------------------------------------------

type R<T> = Result<T, ConfigError>;

/// The raw blocks, as found in `[trail]` and at the top level.
pub(super) struct RawDetection<'a> {
    pub cloudwatch_logs: Option<&'a S<RawCloudWatchLogs>>,
    pub insights: Option<&'a S<RawInsights>>,
    pub network_events: Option<&'a S<RawNetworkEvents>>,
    pub monitoring: Option<&'a S<RawMonitoring>>,
    pub protection: Option<&'a S<RawProtection>>,
    pub s3_data_events: EventScope,
    /// `[trail] mode = "organization"`: the detection features build on the organization trail.
    pub organization_mode: bool,
}

/// `[trail.cloudwatch_logs]` given as an existing pair: the `Trail` model's field.
pub(super) fn existing_pair(c: &Checker, raw: Option<&S<RawCloudWatchLogs>>, partition: &str) -> R<Option<CloudWatchLogs>> {
    let Some(raw) = raw else { return Ok(None) };
    let r = raw.get_ref();
    match (&r.log_group_arn, &r.role_arn) {
        (None, None) => Ok(None),
        (Some(g), Some(role)) => {
            if let Some(extra) = r.retention_days.as_ref().map(|v| v.span()).or(r.log_group.as_ref().map(|v| v.span())) {
                return Err(c.err(
                    extra,
                    "[trail.cloudwatch_logs] either names an existing log group and role (log_group_arn, role_arn) or lets \
                     orgtrail create them (retention_days, log_group), not both",
                ));
            }
            Ok(Some(CloudWatchLogs {
                log_group_arn: c.check(g, |s| {
                    if s.starts_with(&format!("arn:{partition}:logs:")) && s.contains(":log-group:") {
                        Ok(())
                    } else {
                        Err(format!("`{s}` is not a CloudWatch Logs log group ARN (arn:{partition}:logs:REGION:ACCOUNT:log-group:NAME:*)"))
                    }
                })?,
                role_arn: c.check(role, |s| rules::role_arn(s, partition))?,
            }))
        }
        (Some(v), None) | (None, Some(v)) => Err(c.err(v.span(), "[trail.cloudwatch_logs] log_group_arn and role_arn go together: give both, or neither to let orgtrail create the log group and role")),
    }
}

pub(super) fn detection(c: &Checker, raw: RawDetection<'_>, existing: Option<&CloudWatchLogs>) -> R<Detection> {
    if !raw.organization_mode {
        let spans = [raw.insights.map(|v| v.span()), raw.network_events.map(|v| v.span()), raw.monitoring.map(|v| v.span()), raw.protection.map(|v| v.span())];
        let managed_logs = raw.cloudwatch_logs.filter(|_| existing.is_none()).map(|v| v.span());
        if let Some(span) = managed_logs.into_iter().chain(spans.into_iter().flatten()).next() {
            return Err(c.err(span, "[trail.cloudwatch_logs] (retention_days/log_group), [trail.insights], [trail.network_events], [monitoring] and [protection] build on the organization trail: they need [trail] mode = \"organization\""));
        }
    }
    let log_group = match raw.cloudwatch_logs {
        Some(_) if existing.is_some() => None,
        Some(cw) => Some(managed_log_group(c, cw.get_ref())?),
        None => None,
    };
    let insights = raw.insights.map(|i| insights(c, i, raw.s3_data_events)).transpose()?;
    let network_events = raw.network_events.map(|n| network_events(c, n.get_ref())).transpose()?;
    let alarms = match raw.monitoring {
        None => None,
        Some(m) => {
            let r = m.get_ref();
            let on = c.choice(&r.alarms, true, &[("cis", true), ("none", false)], "monitoring.alarms setting")?;
            let topic = match &r.sns_topic {
                Some(t) => c.check(t, super::validate::sns_topic_name)?,
                None => "orgtrail-alarms".to_string(),
            };
            if on && log_group.is_none() && existing.is_none() {
                return Err(c.err(m.span(), "[monitoring] alarms = \"cis\" needs [trail.cloudwatch_logs]: the CIS 4.x metric filters read the trail's CloudWatch Logs log group"));
            }
            on.then_some(Alarms { sns_topic: topic })
        }
    };
    let protection = match raw.protection {
        Some(p) if p.get_ref().scp.unwrap_or(true) => {
            Some(Protection { targets: p.get_ref().targets.iter().map(|t| c.check(t, rules::ou_selector)).collect::<R<_>>()? })
        }
        _ => None,
    };
    Ok(Detection { log_group, insights, network_events, alarms, protection })
}

fn managed_log_group(c: &Checker, r: &RawCloudWatchLogs) -> R<ManagedLogGroup> {
    let retention_days = match &r.retention_days {
        None => 365,
        Some(v) => {
            let n = *v.get_ref();
            match RETENTION_DAYS.iter().find(|d| **d as i64 == n) {
                Some(d) => *d,
                None => {
                    let all: Vec<String> = RETENTION_DAYS.iter().map(i32::to_string).collect();
                    return Err(c.err(v.span(), format!("trail.cloudwatch_logs.retention_days = {n} is not a retention CloudWatch Logs accepts: one of {}", all.join(", "))));
                }
            }
        }
    };
    let name = r.log_group.as_ref().map(|g| c.check(g, log_group_name)).transpose()?;
    Ok(ManagedLogGroup { name, retention_days })
}

fn insights(c: &Checker, raw: &S<RawInsights>, s3_data_events: EventScope) -> R<Insights> {
    let r = raw.get_ref();
    let (call, error) = (r.api_call_rate.unwrap_or(false), r.api_error_rate.unwrap_or(false));
    if !call && !error {
        return Err(c.err(raw.span(), "[trail.insights] selects no insight: set api_call_rate = true and/or api_error_rate = true"));
    }
    let mut categories = Vec::new();
    match &r.categories {
        None => categories.push("Management".to_string()),
        Some(list) if list.get_ref().is_empty() => return Err(c.err(list.span(), "trail.insights.categories is empty: list \"Management\" and/or \"Data\"")),
        Some(list) => {
            for cat in list.get_ref() {
                let v = c.choice(&Some(cat.clone()), "", &[("Management", "Management"), ("Data", "Data")], "Insights event category")?;
                if v == "Data" && s3_data_events == EventScope::None {
                    return Err(c.err(cat.span(), "Insights on \"Data\" events needs data events on the trail: [trail.data_events] s3 is \"none\""));
                }
                categories.push(v.to_string());
            }
        }
    }
    categories.sort();
    categories.dedup();
    Ok(Insights { api_call_rate: call, api_error_rate: error, categories })
}

fn network_events(c: &Checker, r: &RawNetworkEvents) -> R<NetworkEvents> {
    if r.sources.get_ref().is_empty() {
        return Err(c.err(r.sources.span(), "trail.network_events.sources is empty: list eventSource values such as \"kms.amazonaws.com\""));
    }
    let mut sources = r.sources.get_ref().iter().map(|s| c.check(s, event_source)).collect::<R<Vec<_>>>()?;
    sources.sort();
    sources.dedup();
    Ok(NetworkEvents { sources, vpce_denied_only: r.vpce_denied_only.unwrap_or(false) })
}

/// CloudWatch Logs: 1-512 characters of letters, digits, `_ - / . #`.
fn log_group_name(s: &str) -> Result<(), String> {
    if (1..=512).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-/.#".contains(&b)) && !s.starts_with("aws/") {
        Ok(())
    } else {
        Err(format!("`{s}` is not a valid log group name: 1 to 512 letters, digits or `_-/.#` (not starting with `aws/`)"))
    }
}

/// Network activity events name a service endpoint: `<service>.amazonaws.com`.
fn event_source(s: &str) -> Result<(), String> {
    match s.strip_suffix(".amazonaws.com") {
        Some(svc) if !svc.is_empty() && svc.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') => Ok(()),
        _ => Err(format!("`{s}` is not an eventSource: expected a service endpoint such as \"kms.amazonaws.com\"")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{parse, EXAMPLE};

    fn with(extra_trail: &str, extra_top: &str) -> Result<crate::config::Config, crate::config::ConfigError> {
        let text = EXAMPLE.replacen("\n[trail]\n", &format!("\n{extra_top}\n[trail]\n"), 1);
        let text = text.replacen("\n[trail]\n", &format!("\n[trail]\n{extra_trail}\n"), 1);
        parse(Path::new("orgtrail.toml"), &text)
    }

    #[test]
    fn everything_off_by_default() {
        let c = with("", "").unwrap();
        assert_eq!(c.detection, Default::default());
    }

    #[test]
    fn resolves_the_issue_example() {
        let c = with(
            "cloudwatch_logs = { retention_days = 365 }\ninsights = { api_call_rate = true, api_error_rate = true }\nnetwork_events = { sources = [\"s3.amazonaws.com\", \"kms.amazonaws.com\"] }",
            "[monitoring]\nalarms = \"cis\"\nsns_topic = \"orgtrail-alarms\"\n\n[protection]\nscp = true\n",
        )
        .unwrap();
        let d = &c.detection;
        assert_eq!(d.log_group.as_ref().map(|g| g.retention_days), Some(365));
        assert_eq!(d.insights.as_ref().map(|i| i.categories.clone()), Some(vec!["Management".to_string()]));
        assert_eq!(d.network_events.as_ref().map(|n| n.sources.clone()), Some(vec!["kms.amazonaws.com".to_string(), "s3.amazonaws.com".to_string()]));
        assert_eq!(d.alarms.as_ref().map(|a| a.sns_topic.as_str()), Some("orgtrail-alarms"));
        assert_eq!(d.protection.as_ref().map(|p| p.targets.len()), Some(0));
        assert!(c.trail.cloudwatch_logs.is_none(), "managed, not an existing pair");
    }

    #[test]
    fn errors_point_at_the_value() {
        let cases = [
            ("cloudwatch_logs = { retention_days = 366 }", "", "retention_days = 366"),
            ("cloudwatch_logs = { log_group = \"bad name\" }", "", "not a valid log group name"),
            ("cloudwatch_logs = { retention_days = 30, log_group_arn = \"arn:aws:logs:us-east-1:111111111111:log-group:x:*\", role_arn = \"arn:aws:iam::111111111111:role/r\" }", "", "not both"),
            ("insights = { api_call_rate = false }", "", "selects no insight"),
            ("insights = { api_call_rate = true, categories = [\"Network\"] }", "", "not a valid Insights event category"),
            ("network_events = { sources = [\"kms\"] }", "", "not an eventSource"),
            ("", "[monitoring]\nalarms = \"cis\"\n", "needs [trail.cloudwatch_logs]"),
            ("cloudwatch_logs = {}", "[monitoring]\nalarms = \"all\"\n", "not a valid monitoring.alarms"),
            ("", "[protection]\ntargets = [\"Workloads\"]\n", "Workloads"),
        ];
        for (trail, top, want) in cases {
            let e = with(trail, top).expect_err(want);
            let text = e.to_string();
            assert!(text.contains(want), "{want}: {text}");
            assert!(e.line().is_some() && e.column().is_some(), "{text}");
        }
    }

    #[test]
    fn account_mode_refuses_the_organization_trail_features() {
        let text = EXAMPLE.replace("mode = \"organization\"", "mode = \"account\"").replacen("\n[trail]\n", "\n[protection]\n\n[trail]\n", 1);
        let e = parse(Path::new("orgtrail.toml"), &text).expect_err("refused");
        assert!(e.to_string().contains("need [trail] mode = \"organization\"") && e.line().is_some(), "{e}");
    }

    #[test]
    fn monitoring_none_and_scp_false_are_off() {
        let c = with("", "[monitoring]\nalarms = \"none\"\n\n[protection]\nscp = false\n").unwrap();
        assert!(c.detection.alarms.is_none() && c.detection.protection.is_none());
    }
}
