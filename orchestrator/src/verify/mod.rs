//! `orgtrail verify`: a read-only audit of the live organization against the baseline
//! (docs: shared spec baseline.md, "Compliance controls"). Every control is judged from settings
//! read live, and each finding names the account, the resource and the setting read (evidence).
//!
//! Read-only by construction: it takes a `Ctx` with `apply == false` and only calls the steps' read
//! functions and Get/List/Describe operations; the tests assert zero write calls.
mod bucket;
pub mod context;
pub mod controls;
mod delivery;
pub mod mapping;
mod detection;
mod key;
mod members;
pub mod render;
mod topic;
mod trails;

use serde::Serialize;

pub use context::{audited_accounts, AuditContext, AuditedAccount};
pub use controls::Control;

use crate::steps::{Ctx, StepError};

/// The verdict of one control on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Status {
    Pass,
    Fail,
    /// The control does not apply to this configuration (e.g. CloudTrail.5 without CloudWatch Logs).
    NotApplicable,
    /// Only a person can satisfy it (MFA Delete needs the root user): reported, not failing.
    Manual,
    /// The setting could not be read (AccessDenied, throttling beyond retries): failing, as unknown.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotApplicable => "NOT-APPLICABLE",
            Status::Manual => "MANUAL",
            Status::Error => "ERROR",
        }
    }

    /// FAIL and ERROR fail the audit; MANUAL and NOT-APPLICABLE do not.
    pub fn is_failing(self) -> bool {
        matches!(self, Status::Fail | Status::Error)
    }
}

/// One control judged on one resource of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub control: Control,
    pub title: &'static str,
    pub account: String,
    pub resource: String,
    pub status: Status,
    /// The settings read, as AWS names them (`IsMultiRegionTrail=true; IsLogging=true`).
    pub evidence: String,
}

impl Finding {
    pub fn new(control: Control, account: &str, resource: impl Into<String>, status: Status, evidence: impl Into<String>) -> Self {
        Finding { control, title: control.title(), account: account.to_string(), resource: resource.into(), status, evidence: evidence.into() }
    }

    /// A read that failed: the control is reported as ERROR with the AWS operation and code.
    pub fn error(control: Control, account: &str, resource: impl Into<String>, err: &StepError) -> Self {
        Finding::new(control, account, resource, Status::Error, format!("could not read: {err}"))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub not_applicable: usize,
    pub manual: usize,
    pub error: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            *match f.status {
                Status::Pass => &mut s.pass,
                Status::Fail => &mut s.fail,
                Status::NotApplicable => &mut s.not_applicable,
                Status::Manual => &mut s.manual,
                Status::Error => &mut s.error,
            } += 1;
        }
        s
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub organization: String,
    pub management_account: String,
    pub accounts_checked: usize,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// When, by what and from which config (filled in by the command, which knows the config path).
    #[serde(flatten)]
    pub context: AuditContext,
    /// The organization's accounts with their OU paths (the report's OU tree).
    pub accounts: Vec<AuditedAccount>,
}

impl Report {
    /// True when nothing FAILs (MANUAL and NOT-APPLICABLE do not fail the audit).
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(|f| f.status.is_failing())
    }

    /// Distinct ids of the controls with a failing finding, in catalog order.
    pub fn failing_controls(&self) -> Vec<Control> {
        let mut ids: Vec<Control> = self.findings.iter().filter(|f| f.status.is_failing()).map(|f| f.control).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// The trail controls and the delivery-topic control, from one listing of the trails.
async fn trails_and_topic(ctx: &Ctx<'_>, key_arn: Result<&Option<String>, &crate::steps::StepError>) -> (Vec<Finding>, Vec<Finding>) {
    let scopes = trails::scopes(ctx).await;
    (trails::check(ctx, &scopes, key_arn), topic::check(ctx, &scopes).await)
}

/// Audit the organization: central controls (trail, its delivery topic, bucket, key) and, per targeted member account,
/// that the trail reaches it and no duplicate management-event trail bills it twice.
pub async fn verify(ctx: &Ctx<'_>) -> Report {
    debug_assert!(!ctx.apply, "verify only reads");
    let key_arn = key::key_arn(ctx).await;
    let ((trail_findings, topic_findings), bucket_findings, key_findings, member_findings, delivery_findings) = futures::join!(
        trails_and_topic(ctx, key_arn.as_ref()),
        bucket::check(ctx),
        key::check(ctx, key_arn.as_ref()),
        members::check(ctx),
        delivery::check(ctx)
    );
    let mut findings: Vec<Finding> =
        [trail_findings, topic_findings, bucket_findings, key_findings, member_findings, delivery_findings].into_iter().flatten().collect();
    // Issue 15: CIS 4.x, the SCP, and CloudTrail.5 when orgtrail manages the log group (then the
    // trail check's NOT-APPLICABLE, which knows only an existing pair, gives way).
    if detection::owns_cloudtrail5(ctx) {
        findings.retain(|f| f.control != Control::CloudTrail5);
    }
    findings.extend(detection::check(ctx).await);
    findings.sort_by(|a, b| (a.control, &a.account, &a.resource).cmp(&(b.control, &b.account, &b.resource)));
    Report {
        organization: ctx.org.id.clone(),
        management_account: ctx.management_account().to_string(),
        accounts_checked: ctx.targets.len(),
        summary: Summary::of(&findings),
        findings,
        context: AuditContext::default(),
        accounts: Vec::new(),
    }
}
