//! What each control maps to outside orgtrail (the CIS AWS Foundations Benchmark recommendation and
//! the Security Hub control that judge the same setting), the API calls its evidence is read with,
//! and its severity when failing. Keyed by control id, so a control this table does not know yet
//! (a newer verify's) still renders, as orgtrail's own.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// `CIS v3.0.0 3.1`; empty when no CIS recommendation covers it.
    pub cis: &'static str,
    /// The Security Hub (CSPM) control id; empty when none.
    pub security_hub: &'static str,
    /// The read calls the evidence comes from, as `Service.Operation`.
    pub api: &'static str,
    /// ASFF severity label when the control fails.
    pub severity: &'static str,
}

const UNKNOWN: Mapping = Mapping { cis: "", security_hub: "", api: "see the finding's evidence", severity: "MEDIUM" };

/// CIS 4.x (v1.4.0 numbering, the one Security Hub's CloudWatch.1-14 follow) → CloudWatch.N.
const CIS4_SECURITY_HUB: [&str; 15] = [
    "CloudWatch.2", "CloudWatch.3", "CloudWatch.1", "CloudWatch.4", "CloudWatch.5", "CloudWatch.6", "CloudWatch.7", "CloudWatch.8", "CloudWatch.9", "CloudWatch.10", "CloudWatch.11", "CloudWatch.12",
    "CloudWatch.13", "CloudWatch.14", "",
];
const CIS4_IDS: [&str; 15] = ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "4.10", "4.11", "4.12", "4.13", "4.14", "4.15"];
const CIS4_LABELS: [&str; 15] = [
    "CIS v1.4.0 4.1", "CIS v1.4.0 4.2", "CIS v1.4.0 4.3", "CIS v1.4.0 4.4", "CIS v1.4.0 4.5", "CIS v1.4.0 4.6", "CIS v1.4.0 4.7", "CIS v1.4.0 4.8", "CIS v1.4.0 4.9", "CIS v1.4.0 4.10",
    "CIS v1.4.0 4.11", "CIS v1.4.0 4.12", "CIS v1.4.0 4.13", "CIS v1.4.0 4.14", "CIS v1.4.0 4.15",
];

pub fn of(control: &str) -> Mapping {
    let m = |cis, security_hub, api, severity| Mapping { cis, security_hub, api, severity };
    match control {
        "CloudTrail.1" => m("CIS v3.0.0 3.1", "CloudTrail.1", "CloudTrail.DescribeTrails, CloudTrail.GetTrailStatus, CloudTrail.GetEventSelectors", "HIGH"),
        "CloudTrail.2" => m("CIS v3.0.0 3.5", "CloudTrail.2", "CloudTrail.DescribeTrails (KmsKeyId)", "MEDIUM"),
        "CloudTrail.4" => m("CIS v3.0.0 3.2", "CloudTrail.4", "CloudTrail.DescribeTrails (LogFileValidationEnabled)", "MEDIUM"),
        "CloudTrail.5" => m("CIS v1.4.0 3.4", "CloudTrail.5", "CloudTrail.DescribeTrails, CloudTrail.GetTrailStatus (LatestCloudWatchLogsDeliveryTime)", "LOW"),
        "CloudTrail.6" => m("CIS v1.4.0 3.3", "CloudTrail.6", "S3.GetPublicAccessBlock, S3.GetBucketPolicy", "CRITICAL"),
        "CloudTrail.7" => m("CIS v3.0.0 3.4", "CloudTrail.7", "S3.GetBucketLogging", "LOW"),
        "S3.5" => m("CIS v3.0.0 2.1.1", "S3.5", "S3.GetBucketPolicy", "MEDIUM"),
        "CIS.2.1.2" => m("CIS v3.0.0 2.1.2", "S3.20", "S3.GetBucketVersioning (MFADelete)", "LOW"),
        "S3.22" => m("CIS v3.0.0 3.8", "S3.22", "CloudTrail.GetEventSelectors", "MEDIUM"),
        "S3.23" => m("CIS v3.0.0 3.9", "S3.23", "CloudTrail.GetEventSelectors", "MEDIUM"),
        "KMS.4" => m("CIS v3.0.0 3.6", "KMS.4", "KMS.GetKeyRotationStatus", "MEDIUM"),
        "OrgTrail.Reach" => m("", "", "STS.AssumeRole, CloudTrail.DescribeTrails, CloudTrail.GetTrailStatus (from the member)", "HIGH"),
        "OrgTrail.NoDuplicate" => m("", "", "CloudTrail.ListTrails, CloudTrail.GetEventSelectors (from the member)", "LOW"),
        "OrgTrail.DeliveryTopic" => m("", "", "CloudTrail.DescribeTrails (SnsTopicARN), SNS.GetTopicAttributes (Policy)", "LOW"),
        // Judged by a newer verify (delivery and coverage from the trail's own status and digests).
        "OrgTrail.Delivery" => m("", "", "CloudTrail.GetTrailStatus (LatestDeliveryTime, LatestDigestDeliveryTime, LatestDeliveryError)", "HIGH"),
        "OrgTrail.Coverage" => m("", "", "S3.ListObjectsV2 (the digests of each account and region)", "HIGH"),
        "OrgTrail.TamperProtectionSCP" => m("", "", "Organizations.ListPolicies, Organizations.DescribePolicy, Organizations.ListTargetsForPolicy", "HIGH"),
        id => match id.strip_prefix("CIS.").and_then(|n| CIS4_IDS.iter().position(|c| *c == n)) {
            Some(i) => m(CIS4_LABELS[i], CIS4_SECURITY_HUB[i], "CloudWatchLogs.DescribeMetricFilters, CloudWatch.DescribeAlarms", "LOW"),
            None => UNKNOWN,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Control;

    #[test]
    fn every_catalog_control_is_mapped() {
        for c in Control::ALL {
            assert_ne!(of(c.id()), UNKNOWN, "{} has no mapping", c.id());
        }
        assert_eq!(of("CIS.4.3").security_hub, "CloudWatch.1");
        assert_eq!(of("CIS.4.15").security_hub, "");
        assert_eq!(of("OrgTrail.Future"), UNKNOWN);
        assert_ne!(of("OrgTrail.Coverage"), UNKNOWN);
    }
}
