//! verify's findings as ASFF (AWS Security Finding Format, schema 2018-10-08), one finding per
//! control × account × region, with that triple as its id so every run updates the same findings and
//! never adds duplicates. Several resources judged by one control in one account and region (the log
//! bucket and its access-log bucket) are one finding with several resources and the worst status.
//!
//! The default product ARN only accepts findings whose `AwsAccountId` is the importing account, so
//! every finding belongs to the hub's account and names the account it is about as a resource.
use std::collections::BTreeMap;

use serde::Serialize;

use crate::aws::Arn;
use crate::verify::{mapping, Report, Status};

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// ProductFields values are capped at 2,048 characters.
const MAX_FIELD: usize = 2000;

/// The Security Hub the findings go to: the account orgtrail runs from (or an aggregator) and a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubTarget {
    pub account: String,
    pub region: String,
    pub partition: String,
}

impl HubTarget {
    /// The hub of the account the audit ran from, in its home region.
    pub fn of_caller(report: &Report) -> HubTarget {
        let c = &report.context;
        HubTarget { account: c.caller_account.clone(), region: c.home_region.clone(), partition: c.partition.clone() }
    }

    /// The default product ARN of the hub's account: findings a customer account imports itself.
    pub fn product_arn(&self) -> String {
        format!("arn:{}:securityhub:{}:{}:product/{}/default", self.partition, self.region, self.account, self.account)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub remediation: Remediation,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    pub compliance: Compliance,
    pub record_state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Severity {
    pub label: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    pub r#type: &'static str,
    pub id: String,
    pub partition: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Compliance {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<String>,
}

/// The stable id of a control's finding on one account and region.
pub fn finding_id(control: &str, account: &str, region: &str) -> String {
    format!("orgtrail/{control}/{account}/{region}")
}

/// FAIL and ERROR stay ACTIVE; a pass (or a control that does not apply) is ARCHIVED, and Security
/// Hub itself then turns the workflow of a finding that was failing to RESOLVED.
fn compliance_of(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Pass => ("PASSED", "ARCHIVED"),
        Status::Fail => ("FAILED", "ACTIVE"),
        Status::Error => ("NOT_AVAILABLE", "ACTIVE"),
        Status::Manual => ("WARNING", "ACTIVE"),
        Status::NotApplicable => ("NOT_AVAILABLE", "ARCHIVED"),
    }
}

/// Which status a merged finding takes: the one that needs the most attention.
fn urgency(status: Status) -> u8 {
    match status {
        Status::Fail => 4,
        Status::Error => 3,
        Status::Manual => 2,
        Status::Pass => 1,
        Status::NotApplicable => 0,
    }
}

/// The region a finding is about: the region of the ARN its resource names (`cloudtrail-trail
/// arn:aws:cloudtrail:eu-west-1:…`), else the trail's home region.
fn region_of(resource: &str, home_region: &str) -> String {
    resource.split_whitespace().find_map(|w| w.parse::<Arn>().ok()).map(|a| a.region().to_string()).filter(|r| !r.is_empty()).unwrap_or_else(|| home_region.to_string())
}

/// Every finding of `report` as ASFF for `hub`, in the report's order, ids unique.
pub fn findings(report: &Report, hub: &HubTarget) -> Vec<Finding> {
    let ctx = &report.context;
    let home = if ctx.home_region.is_empty() { hub.region.as_str() } else { ctx.home_region.as_str() };
    let partition = if ctx.partition.is_empty() { hub.partition.clone() } else { ctx.partition.clone() };
    let mut order: Vec<String> = Vec::new();
    let mut merged: BTreeMap<String, Vec<&crate::verify::Finding>> = BTreeMap::new();
    for f in &report.findings {
        let id = finding_id(f.control.id(), &f.account, &region_of(&f.resource, home));
        let group = merged.entry(id.clone()).or_default();
        if group.is_empty() {
            order.push(id);
        }
        group.push(f);
    }
    order
        .into_iter()
        .map(|id| {
            let group = &merged[&id];
            let first = group[0];
            let status = group.iter().map(|f| f.status).max_by_key(|s| urgency(*s)).expect("a group has a finding");
            let region = region_of(&first.resource, home);
            let control = first.control.id();
            let map = mapping::of(control);
            let (compliance, record_state) = compliance_of(status);
            let evidence = group.iter().map(|f| if group.len() > 1 { format!("{}: {}", f.resource, f.evidence) } else { f.evidence.clone() }).collect::<Vec<_>>().join("; ");
            let mut resources = vec![Resource { r#type: "AwsAccount", id: format!("AWS::::Account:{}", first.account), partition: partition.clone(), region: region.clone() }];
            resources.extend(group.iter().map(|f| Resource { r#type: "Other", id: f.resource.clone(), partition: partition.clone(), region: region.clone() }));
            let mut fields = BTreeMap::new();
            fields.insert("orgtrail/Control".into(), control.to_string());
            fields.insert("orgtrail/Status".into(), status.as_str().to_string());
            fields.insert("orgtrail/Account".into(), first.account.clone());
            fields.insert("orgtrail/Evidence".into(), truncate(&evidence));
            fields.insert("orgtrail/Api".into(), map.api.to_string());
            if !map.security_hub.is_empty() {
                fields.insert("orgtrail/SecurityHubControl".into(), map.security_hub.to_string());
            }
            Finding {
                schema_version: SCHEMA_VERSION,
                id,
                product_arn: hub.product_arn(),
                generator_id: format!("orgtrail/{control}"),
                aws_account_id: hub.account.clone(),
                types: vec!["Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark".into()],
                created_at: ctx.generated_at.clone(),
                updated_at: ctx.generated_at.clone(),
                severity: Severity { label: if matches!(status, Status::Fail | Status::Error) { map.severity } else { "INFORMATIONAL" } },
                title: format!("{control} {}", first.title),
                description: truncate(&format!("{} {} in account {} ({region}): {evidence}", control, status.as_str(), first.account)),
                remediation: Remediation { recommendation: Recommendation { text: first.control.remediation().to_string() } },
                product_fields: fields,
                resources,
                compliance: Compliance { status: compliance, related_requirements: if map.cis.is_empty() { vec![] } else { vec![map.cis.to_string()] } },
                record_state,
            }
        })
        .collect()
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_FIELD) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{AuditContext, Control, Finding as VerifyFinding, Summary};

    fn report(findings: Vec<VerifyFinding>) -> Report {
        let context = AuditContext { generated_at: "2026-12-06T20:00:00Z".into(), home_region: "us-east-1".into(), partition: "aws".into(), caller_account: "123456789012".into(), ..AuditContext::default() };
        Report { organization: "o-x".into(), management_account: "123456789012".into(), accounts_checked: 1, summary: Summary::of(&findings), findings, context, accounts: vec![] }
    }

    #[test]
    fn one_finding_per_control_account_region_with_the_worst_status_and_stable_ids() {
        let r = report(vec![
            VerifyFinding::new(Control::MfaDelete, "222222222222", "s3-bucket logs", Status::Pass, "MFADelete=Enabled"),
            VerifyFinding::new(Control::MfaDelete, "222222222222", "s3-bucket access-logs", Status::Manual, "MFADelete=Disabled"),
            VerifyFinding::new(Control::OrgTrailReach, "333333333333", "trail orgtrail", Status::Pass, "IsLogging=true"),
            VerifyFinding::new(Control::CloudTrail4, "123456789012", "cloudtrail-trail arn:aws:cloudtrail:eu-west-1:123456789012:trail/t", Status::Fail, "LogFileValidationEnabled=false"),
        ]);
        let hub = HubTarget::of_caller(&r);
        let f = findings(&r, &hub);
        assert_eq!(f.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [
            "orgtrail/CIS.2.1.2/222222222222/us-east-1",
            "orgtrail/OrgTrail.Reach/333333333333/us-east-1",
            "orgtrail/CloudTrail.4/123456789012/eu-west-1",
        ]);
        assert_eq!((f[0].compliance.status, f[0].record_state, f[0].resources.len()), ("WARNING", "ACTIVE", 3), "merged: the account and both buckets");
        assert_eq!((f[1].compliance.status, f[1].record_state, f[1].severity.label), ("PASSED", "ARCHIVED", "INFORMATIONAL"));
        assert_eq!((f[2].compliance.status, f[2].severity.label), ("FAILED", "MEDIUM"));
        assert_eq!(f[2].compliance.related_requirements, vec!["CIS v3.0.0 3.2".to_string()]);
        assert!(f.iter().all(|f| f.aws_account_id == "123456789012" && f.product_arn == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"));
        assert_eq!(findings(&r, &hub), f, "the same report gives the same findings");
    }
}
