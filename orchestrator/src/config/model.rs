//! The validated, resolved configuration the rest of orgtrail works from: plain types, no spans.
use std::collections::BTreeMap;

pub use super::detection::{Alarms, Detection, Insights, ManagedLogGroup, NetworkEvents, Protection};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Config {
    pub organization: Organization,
    pub access: Access,
    pub log_archive: LogArchive,
    pub trail: Trail,
    pub exclude_accounts: Vec<String>,
    pub exclude_ous: Vec<String>,
    pub waves: Vec<Wave>,
    pub state: StateConfig,
    /// CloudWatch Logs, Insights, network activity events, CIS alarms, the SCP (issue 15).
    pub detection: Detection,
    /// `[verify]`: the delivery age verify accepts.
    pub verify: super::verify::VerifyConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Organization {
    pub home_region: String,
    pub partition: String,
    pub id: Option<String>,
    pub management_account: Option<String>,
    pub delegated_admin_account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Access {
    pub role_name: String,
    /// Never printed: it is a shared secret between orgtrail and the member roles' trust policy.
    #[serde(skip)]
    pub external_id: Option<String>,
    pub session_duration_seconds: i32,
    pub max_concurrency: usize,
    pub organizations_calls_per_second: u32,
}

pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogArchive {
    pub account: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub access_log_bucket: String,
    pub access_logging: bool,
    /// `access_log_encryption = "sse-kms"`: the access-log bucket's default encryption uses this
    /// customer-managed key (created by the kms-key step); None: SSE-S3. Left out of the serialized
    /// config when None, so configs without the option keep their identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_kms_alias: Option<String>,
    pub kms_alias: String,
    pub reader_roles: Vec<String>,
    pub admin_roles: Vec<String>,
    pub mfa_delete: bool,
    pub object_lock: Option<ObjectLock>,
    pub lifecycle: Option<Lifecycle>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ObjectLockMode {
    Governance,
    Compliance,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectLock {
    pub mode: ObjectLockMode,
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lifecycle {
    pub archive_after_days: Option<i32>,
    pub archive_storage_class: String,
    pub expire_after_days: Option<i32>,
    pub noncurrent_expire_after_days: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrailMode {
    Organization,
    Account,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventScope {
    All,
    Read,
    Write,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExistingOrgTrail {
    Adopt,
    DataEventsOnly,
    Refuse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegacyTrails {
    Keep,
    Stop,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trail {
    pub name: String,
    pub mode: TrailMode,
    pub management_events: EventScope,
    pub existing_org_trail: ExistingOrgTrail,
    pub legacy_trails: LegacyTrails,
    pub sns_topic: Option<String>,
    pub cloudwatch_logs: Option<CloudWatchLogs>,
    pub delivery_check: bool,
    pub s3_data_events: EventScope,
    pub s3_data_event_buckets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CloudWatchLogs {
    pub log_group_arn: String,
    pub role_arn: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    Count(u32),
    Percent(u32),
}

impl Amount {
    /// Resolve against the number of accounts in the wave (percentages round down, at least 1 for concurrency).
    pub fn of(self, total: usize) -> usize {
        match self {
            Amount::Count(n) => n as usize,
            Amount::Percent(p) => total * p as usize / 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wave {
    pub name: String,
    pub accounts: Vec<String>,
    pub ous: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub remaining: bool,
    pub max_concurrency: Amount,
    pub failure_tolerance: Amount,
    pub pause_after: bool,
    pub strict: bool,
    /// 1-based line of the wave in the config file, so plan-time errors can point at it.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StateConfig {
    pub url: Option<String>,
    pub checkpoint_interval_seconds: u32,
}

impl Config {
    pub fn partition(&self) -> &str {
        &self.organization.partition
    }
}
