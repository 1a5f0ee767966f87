//! orgtrail's findings that a run no longer produces (an account that left the organization, a
//! control no longer evaluated) would stay ACTIVE forever: nothing else updates them. Before each
//! import orgtrail reads its own ACTIVE findings back (its product ARN, its `orgtrail/` generator
//! ids and ProductFields) and sends each one this run did not produce again, ARCHIVED, in the same
//! batches; Security Hub then resolves its workflow as for a fixed drift.
use std::collections::BTreeSet;

use aws_sdk_securityhub::types::{AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, RecordState, Severity, StringFilter, StringFilterComparison};

use super::asff::{self, HubTarget};
use crate::aws::{CallError, Site};

/// The prefix of every id and generator id orgtrail gives a finding (asff::finding_id).
const OURS: &str = "orgtrail/";
/// The ProductFields key every orgtrail finding carries.
const CONTROL_FIELD: &str = "orgtrail/Control";
pub const STALE_FIELD: &str = "orgtrail/Stale";
const PAGE: i32 = 100;

/// Whether a finding read from the hub is one orgtrail imported: filters are only a request, so the
/// answer is checked again (another tool importing into the same default product keeps its own).
pub fn is_orgtrails(f: &AwsSecurityFinding, hub: &HubTarget) -> bool {
    f.product_arn() == Some(hub.product_arn().as_str())
        && f.id().is_some_and(|id| id.starts_with(OURS))
        && f.generator_id().is_some_and(|g| g.starts_with(OURS))
        && f.product_fields().is_some_and(|p| p.contains_key(CONTROL_FIELD))
        && f.record_state() == Some(&RecordState::Active)
}

/// orgtrail's ACTIVE findings in the hub, every page of GetFindings.
pub async fn active(client: &aws_sdk_securityhub::Client, site: &Site, hub: &HubTarget) -> Result<Vec<AwsSecurityFinding>, CallError> {
    let equals = |v: &str| StringFilter::builder().value(v).comparison(StringFilterComparison::Equals).build();
    let filters = AwsSecurityFindingFilters::builder()
        .product_arn(equals(&hub.product_arn()))
        .generator_id(StringFilter::builder().value(OURS).comparison(StringFilterComparison::Prefix).build())
        .record_state(equals(RecordState::Active.as_str()))
        .build();
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client.get_findings().filters(filters.clone()).max_results(PAGE).set_next_token(token).send().await.map_err(site.fail("SecurityHub.GetFindings"))?;
        found.extend(page.findings.unwrap_or_default().into_iter().filter(|f| is_orgtrails(f, hub)));
        token = page.next_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// The findings of `previous` that `current` does not produce, as ARCHIVED updates at `now`:
/// the provider's own fields only (Security Hub's `aws/` ProductFields and the customer's workflow,
/// notes and user fields are never sent back).
pub fn archive_stale(previous: &[AwsSecurityFinding], current: &[asff::Finding], now: &str) -> Vec<AwsSecurityFinding> {
    let produced: BTreeSet<&str> = current.iter().map(|f| f.id.as_str()).collect();
    previous.iter().filter(|f| f.id().is_some_and(|id| !produced.contains(id))).map(|f| archived(f, now)).collect()
}

fn archived(f: &AwsSecurityFinding, now: &str) -> AwsSecurityFinding {
    let mut b = AwsSecurityFinding::builder()
        .set_schema_version(f.schema_version.clone())
        .set_id(f.id.clone())
        .set_product_arn(f.product_arn.clone())
        .set_generator_id(f.generator_id.clone())
        .set_aws_account_id(f.aws_account_id.clone())
        .set_types(f.types.clone())
        .set_created_at(f.created_at.clone())
        .updated_at(now)
        .severity(Severity::builder().set_label(f.severity.as_ref().and_then(|s| s.label.clone())).build())
        .set_title(f.title.clone())
        .set_description(f.description.clone())
        .set_remediation(f.remediation.clone())
        .set_resources(f.resources.clone())
        .set_compliance(f.compliance.as_ref().map(|c| Compliance::builder().set_status(c.status.clone()).set_related_requirements(c.related_requirements.clone()).build()))
        .record_state(RecordState::Archived);
    for (k, v) in f.product_fields().into_iter().flatten().filter(|(k, _)| k.starts_with(OURS)) {
        b = b.product_fields(k, v);
    }
    b.product_fields(STALE_FIELD, "no longer produced: the account left the organization or the control is no longer evaluated").build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> HubTarget {
        HubTarget { account: "123456789012".into(), region: "us-east-1".into(), partition: "aws".into() }
    }

    fn found(id: &str, generator: &str) -> AwsSecurityFinding {
        AwsSecurityFinding::builder()
            .id(id)
            .product_arn(hub().product_arn())
            .generator_id(generator)
            .record_state(RecordState::Active)
            .product_fields(CONTROL_FIELD, "OrgTrail.NoDuplicate")
            .product_fields("aws/securityhub/FindingId", "x")
            .workflow(aws_sdk_securityhub::types::Workflow::builder().status(aws_sdk_securityhub::types::WorkflowStatus::Notified).build())
            .build()
    }

    #[test]
    fn only_orgtrails_findings_it_no_longer_produces_are_archived_with_its_own_fields() {
        let theirs = found("other/1", "someone-else");
        assert!(!is_orgtrails(&theirs, &hub()));
        let mut untagged = found("orgtrail/x/1/us-east-1", "orgtrail/x");
        untagged.product_fields = None;
        assert!(!is_orgtrails(&untagged, &hub()), "no orgtrail/Control: not orgtrail's");
        let kept = found("orgtrail/CloudTrail.4/1/us-east-1", "orgtrail/CloudTrail.4");
        let gone = found("orgtrail/OrgTrail.NoDuplicate/2/us-east-1", "orgtrail/OrgTrail.NoDuplicate");
        assert!(is_orgtrails(&gone, &hub()));
        use crate::verify::{AuditContext, Control, Finding, Report, Status, Summary};
        let findings = vec![Finding::new(Control::CloudTrail4, "1", "cloudtrail-trail t", Status::Fail, "x")];
        let context = AuditContext { caller_account: "123456789012".into(), home_region: "us-east-1".into(), partition: "aws".into(), ..AuditContext::default() };
        let report = Report { organization: "o-x".into(), management_account: "1".into(), accounts_checked: 1, summary: Summary::of(&findings), findings, context, accounts: vec![] };
        let current = asff::findings(&report, &hub());
        let out = archive_stale(&[kept, gone], &current, "2026-12-07T00:00:00Z");
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].id(), out[0].record_state(), out[0].updated_at()), (Some("orgtrail/OrgTrail.NoDuplicate/2/us-east-1"), Some(&RecordState::Archived), Some("2026-12-07T00:00:00Z")));
        let fields = out[0].product_fields().unwrap();
        assert!(fields.contains_key(CONTROL_FIELD) && fields.contains_key(STALE_FIELD) && !fields.contains_key("aws/securityhub/FindingId"));
        assert!(out[0].workflow().is_none(), "the customer's workflow is never sent");
    }
}
