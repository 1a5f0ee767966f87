//! The ids of the steps a run records: the central steps, then the member steps, by the same
//! strings every state file holds (`kms-key`, `org-trail`, `assume-role`, ...).
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    // Central steps (log-archive account, then management account).
    KmsKey,
    AccessLogBucket,
    LogBucket,
    TrustedAccess,
    OrgTrail,
    EnforceEncryption,
    MfaDelete,
    CloudwatchLogs,
    TrailInsights,
    CisAlarms,
    TamperProtectionScp,
    /// Registering the delegated administrator (`plan` shows it; `orgtrail delegate` does it).
    DelegatedAdmin,
    // Member steps, per account.
    AssumeRole,
    MemberChecks,
    AccountTrail,
    LegacyTrails,
    DeliveryCheck,
}

impl StepId {
    pub const ALL: [StepId; 17] = [
        StepId::KmsKey,
        StepId::AccessLogBucket,
        StepId::LogBucket,
        StepId::TrustedAccess,
        StepId::OrgTrail,
        StepId::EnforceEncryption,
        StepId::MfaDelete,
        StepId::CloudwatchLogs,
        StepId::TrailInsights,
        StepId::CisAlarms,
        StepId::TamperProtectionScp,
        StepId::DelegatedAdmin,
        StepId::AssumeRole,
        StepId::MemberChecks,
        StepId::AccountTrail,
        StepId::LegacyTrails,
        StepId::DeliveryCheck,
    ];

    /// The id as state files, `plan --json` and `status` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            StepId::KmsKey => "kms-key",
            StepId::AccessLogBucket => "access-log-bucket",
            StepId::LogBucket => "log-bucket",
            StepId::TrustedAccess => "trusted-access",
            StepId::OrgTrail => "org-trail",
            StepId::EnforceEncryption => "enforce-encryption",
            StepId::MfaDelete => "mfa-delete",
            StepId::CloudwatchLogs => "cloudwatch-logs",
            StepId::TrailInsights => "trail-insights",
            StepId::CisAlarms => "cis-alarms",
            StepId::TamperProtectionScp => "tamper-protection-scp",
            StepId::DelegatedAdmin => "delegated-admin",
            StepId::AssumeRole => "assume-role",
            StepId::MemberChecks => "member-checks",
            StepId::AccountTrail => "account-trail",
            StepId::LegacyTrails => "legacy-trails",
            StepId::DeliveryCheck => "delivery-check",
        }
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown step id `{0}`")]
pub struct UnknownStep(pub String);

impl FromStr for StepId {
    type Err = UnknownStep;
    fn from_str(s: &str) -> Result<StepId, UnknownStep> {
        StepId::ALL.into_iter().find(|id| id.as_str() == s).ok_or_else(|| UnknownStep(s.to_string()))
    }
}

impl PartialEq<str> for StepId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<StepId> for String {
    fn eq(&self, other: &StepId) -> bool {
        self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::StepId;

    #[test]
    fn every_id_reads_back_from_its_string_and_its_json() {
        for id in StepId::ALL {
            assert_eq!(id.as_str().parse::<StepId>(), Ok(id));
            assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
        }
        assert_eq!(format!("{:<10}|", StepId::KmsKey), "kms-key   |");
        assert!("org_trail".parse::<StepId>().is_err());
    }
}
