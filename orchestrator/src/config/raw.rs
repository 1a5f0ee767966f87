//! The TOML schema as written by people: every field the file may hold, with spans on the
//! values that validation can reject, so errors point at them. Unknown keys are rejected.
use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub organization: RawOrganization,
    #[serde(default)]
    pub access: RawAccess,
    pub log_archive: RawLogArchive,
    pub trail: RawTrail,
    #[serde(default)]
    pub exclude_accounts: Vec<S<String>>,
    #[serde(default)]
    pub exclude_ous: Vec<S<String>>,
    #[serde(default, rename = "wave")]
    pub waves: Vec<S<RawWave>>,
    #[serde(default)]
    pub state: RawState,
    pub monitoring: Option<S<RawMonitoring>>,
    pub protection: Option<S<RawProtection>>,
    pub verify: Option<super::verify::RawVerify>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganization {
    pub home_region: S<String>,
    pub partition: Option<S<String>>,
    /// Optional: when set, orgtrail refuses to run against any other organization.
    pub id: Option<S<String>>,
    pub management_account: Option<S<String>>,
    /// A CloudTrail delegated administrator account that owns the rollout instead of the management account.
    pub delegated_admin_account: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccess {
    pub role_name: Option<S<String>>,
    pub external_id: Option<S<String>>,
    pub session_duration_seconds: Option<S<i64>>,
    pub max_concurrency: Option<S<i64>>,
    pub organizations_calls_per_second: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogArchive {
    pub account: S<String>,
    pub bucket: S<String>,
    pub prefix: Option<S<String>>,
    pub access_log_bucket: Option<S<String>>,
    pub kms_alias: Option<S<String>>,
    #[serde(default)]
    pub reader_roles: Vec<S<String>>,
    #[serde(default)]
    pub admin_roles: Vec<S<String>>,
    pub mfa_delete: Option<S<bool>>,
    pub access_logging: Option<bool>,
    pub access_log_encryption: Option<S<String>>,
    pub access_log_kms_alias: Option<S<String>>,
    pub object_lock: Option<S<RawObjectLock>>,
    pub lifecycle: Option<S<RawLifecycle>>,
    #[serde(default)]
    pub tags: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjectLock {
    pub mode: S<String>,
    pub retention_days: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub archive_after_days: Option<S<i64>>,
    pub archive_storage_class: Option<S<String>>,
    pub expire_after_days: Option<S<i64>>,
    pub noncurrent_expire_after_days: Option<S<i64>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrail {
    pub name: S<String>,
    pub mode: Option<S<String>>,
    pub management_events: Option<S<String>>,
    pub existing_org_trail: Option<S<String>>,
    pub legacy_trails: Option<S<String>>,
    pub sns_topic: Option<S<String>>,
    pub cloudwatch_logs: Option<S<RawCloudWatchLogs>>,
    pub delivery_check: Option<bool>,
    #[serde(default)]
    pub data_events: RawDataEvents,
    pub insights: Option<S<RawInsights>>,
    pub network_events: Option<S<RawNetworkEvents>>,
}

pub use super::detection::{RawCloudWatchLogs, RawInsights, RawMonitoring, RawNetworkEvents, RawProtection};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataEvents {
    pub s3: Option<S<String>>,
    #[serde(default)]
    pub buckets: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWave {
    pub name: S<String>,
    #[serde(default)]
    pub accounts: Vec<S<String>>,
    #[serde(default)]
    pub ous: Vec<S<String>>,
    #[serde(default)]
    pub tags: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub remaining: bool,
    pub max_concurrency: Option<S<CountOrPercent>>,
    pub failure_tolerance: Option<S<CountOrPercent>>,
    #[serde(default)]
    pub pause_after: bool,
    #[serde(default)]
    pub strict: bool,
}

/// `20` or `"25%"`.
#[derive(Debug, Clone)]
pub enum CountOrPercent {
    Count(i64),
    Text(String),
}

/// By hand rather than `#[serde(untagged)]`, whose only error is "data did not match any variant".
impl<'de> Deserialize<'de> for CountOrPercent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = CountOrPercent;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a count (an integer such as 20) or a percentage (a string such as \"25%\")")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<CountOrPercent, E> {
                Ok(CountOrPercent::Count(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<CountOrPercent, E> {
                Ok(CountOrPercent::Count(i64::try_from(n).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<CountOrPercent, E> {
                Ok(CountOrPercent::Text(s.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub url: Option<S<String>>,
    pub checkpoint_interval_seconds: Option<S<i64>>,
}
