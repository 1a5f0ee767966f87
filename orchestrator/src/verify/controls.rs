//! The controls `verify` reports, with the ids Security Hub and CIS give them (orgtrail's own checks are
//! `OrgTrail.*`). Declaration order is report order.
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Control {
    CloudTrail1,
    CloudTrail2,
    CloudTrail4,
    CloudTrail5,
    CloudTrail6,
    CloudTrail7,
    S3_5,
    MfaDelete,
    S3_22,
    S3_23,
    Kms4,
    OrgTrailReach,
    OrgTrailNoDuplicate,
    /// With `[trail] sns_topic`: the trail notifies orgtrail's topic, whose policy lets CloudTrail publish for it.
    OrgTrailTopic,
    /// The trail's status shows a log and a digest delivery within `[verify] max_delivery_age` and no delivery error.
    OrgTrailDelivery,
    /// Every targeted ACTIVE account has, in every region the trail covers, a digest within `max_delivery_age`.
    OrgTrailCoverage,
    /// CIS AWS Foundations 4.1–4.15: a metric filter and alarm per recommendation (index 1..=15).
    Cis4(u8),
    /// The tamper-protection SCP exists as rendered and is attached where configured.
    TamperProtectionScp,
}

impl Control {
    pub const ALL: [Control; 32] = [
        Control::CloudTrail1,
        Control::CloudTrail2,
        Control::CloudTrail4,
        Control::CloudTrail5,
        Control::CloudTrail6,
        Control::CloudTrail7,
        Control::S3_5,
        Control::MfaDelete,
        Control::S3_22,
        Control::S3_23,
        Control::Kms4,
        Control::OrgTrailReach,
        Control::OrgTrailNoDuplicate,
        Control::OrgTrailTopic,
        Control::OrgTrailDelivery,
        Control::OrgTrailCoverage,
        Control::Cis4(1),
        Control::Cis4(2),
        Control::Cis4(3),
        Control::Cis4(4),
        Control::Cis4(5),
        Control::Cis4(6),
        Control::Cis4(7),
        Control::Cis4(8),
        Control::Cis4(9),
        Control::Cis4(10),
        Control::Cis4(11),
        Control::Cis4(12),
        Control::Cis4(13),
        Control::Cis4(14),
        Control::Cis4(15),
        Control::TamperProtectionScp,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Control::CloudTrail1 => "CloudTrail.1",
            Control::CloudTrail2 => "CloudTrail.2",
            Control::CloudTrail4 => "CloudTrail.4",
            Control::CloudTrail5 => "CloudTrail.5",
            Control::CloudTrail6 => "CloudTrail.6",
            Control::CloudTrail7 => "CloudTrail.7",
            Control::S3_5 => "S3.5",
            Control::MfaDelete => "CIS.2.1.2",
            Control::S3_22 => "S3.22",
            Control::S3_23 => "S3.23",
            Control::Kms4 => "KMS.4",
            Control::OrgTrailReach => "OrgTrail.Reach",
            Control::OrgTrailNoDuplicate => "OrgTrail.NoDuplicate",
            Control::OrgTrailTopic => "OrgTrail.DeliveryTopic",
            Control::OrgTrailDelivery => "OrgTrail.Delivery",
            Control::OrgTrailCoverage => "OrgTrail.Coverage",
            Control::Cis4(n) => CIS4_IDS.get(usize::from(n).wrapping_sub(1)).copied().unwrap_or("CIS.4.?"),
            Control::TamperProtectionScp => "OrgTrail.TamperProtectionSCP",
        }
    }

    pub fn from_id(id: &str) -> Option<Control> {
        Control::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn title(self) -> &'static str {
        match self {
            Control::CloudTrail1 => "A multi-region trail is logging read and write management events",
            Control::CloudTrail2 => "The trail encrypts log files with SSE-KMS",
            Control::CloudTrail4 => "The trail has log file validation enabled",
            Control::CloudTrail5 => "The trail delivers to CloudWatch Logs (when configured)",
            Control::CloudTrail6 => "The CloudTrail log bucket is not publicly accessible",
            Control::CloudTrail7 => "The CloudTrail log bucket has server access logging enabled",
            Control::S3_5 => "The bucket policy denies requests without SSL (aws:SecureTransport)",
            Control::MfaDelete => "MFA Delete is enabled on the CloudTrail log bucket and its access-log bucket (CIS 2.1.2)",
            Control::S3_22 => "A multi-region trail logs S3 object-level write events",
            Control::S3_23 => "A multi-region trail logs S3 object-level read events",
            Control::Kms4 => "The log encryption key has automatic rotation enabled",
            Control::OrgTrailReach => "The organization trail reaches the account (visible and logging from it)",
            Control::OrgTrailNoDuplicate => "No trail of the account logs management events a second time",
            Control::OrgTrailTopic => "The trail notifies its delivery topic, whose policy lets CloudTrail publish for this trail (when configured)",
            Control::OrgTrailDelivery => "The trail delivered log files and digests within [verify] max_delivery_age, with no delivery error",
            Control::OrgTrailCoverage => "Every targeted account has a digest within [verify] max_delivery_age in every region the trail covers",
            Control::Cis4(n) => crate::steps::detection::cis::FILTERS.get(usize::from(n).wrapping_sub(1)).map_or("CIS 4.x", |f| f.title),
            Control::TamperProtectionScp => "The tamper-protection SCP is intact and attached (never binds the management account)",
        }
    }

    /// What fixes a failure: `orgtrail apply` converges every control but MFA Delete and duplicates kept by config.
    pub fn remediation(self) -> &'static str {
        match self {
            Control::MfaDelete => "the log-archive account's root user runs `orgtrail mfa-delete enable --mfa-serial SERIAL --mfa-code CODE`",
            Control::OrgTrailNoDuplicate => "stop or delete the duplicate trail, or set [trail] legacy_trails = \"stop\" or \"delete\" and run `orgtrail apply`",
            Control::CloudTrail5 => "set [trail.cloudwatch_logs] and run `orgtrail apply`",
            Control::Cis4(_) => "set [monitoring] alarms = \"cis\" (with [trail.cloudwatch_logs]) and run `orgtrail apply`",
            Control::TamperProtectionScp => "set [protection] scp = true and run `orgtrail apply`",
            Control::OrgTrailDelivery | Control::OrgTrailCoverage => {
                "run `orgtrail apply` to repair the bucket and key policies (or the missing bucket, the disabled key), then wait for the next hourly digest"
            }
            _ => "run `orgtrail apply` to converge the setting back to the baseline",
        }
    }
}

const CIS4_IDS: [&str; 15] = [
    "CIS.4.1", "CIS.4.2", "CIS.4.3", "CIS.4.4", "CIS.4.5", "CIS.4.6", "CIS.4.7", "CIS.4.8", "CIS.4.9", "CIS.4.10", "CIS.4.11", "CIS.4.12", "CIS.4.13", "CIS.4.14", "CIS.4.15",
];

impl Serialize for Control {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl std::fmt::Display for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
