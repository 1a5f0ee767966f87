//! Sending ASFF findings to one Security Hub: DescribeHub first (a hub that is not enabled is a clear
//! error naming its account and region, not a pile of failed batches), then orgtrail's own ACTIVE
//! findings read back (GetFindings) so those this run no longer produces go ARCHIVED with the rest,
//! then BatchImportFindings in batches of at most 100 (the API's limit), collecting the findings it
//! refused with their codes.
use aws_config::{Region, SdkConfig};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, Recommendation, RecordState, Remediation, Resource, Severity, SeverityLabel,
};
use serde::Serialize;

use super::asff::{self, HubTarget};
use super::stale;
use crate::aws::{Aws, CallError, Site};

/// BatchImportFindings accepts at most 100 findings per request.
pub const MAX_BATCH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("Security Hub is not enabled in account {account} ({region}): {message}")]
    NotEnabled { account: String, region: String, message: String },
    #[error(transparent)]
    Call(#[from] CallError),
}

/// One finding Security Hub refused, with its error code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedFinding {
    pub id: String,
    pub error_code: String,
    pub error_message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub hub_arn: String,
    pub account: String,
    pub region: String,
    pub sent: usize,
    pub imported: usize,
    pub batches: usize,
    /// Of those sent: passing now (Compliance PASSED, RecordState ARCHIVED).
    pub archived: usize,
    /// Of those sent: orgtrail's earlier ACTIVE findings this run no longer produces, now ARCHIVED.
    pub stale: usize,
    pub failed: Vec<FailedFinding>,
}

/// The config that acts in the hub's account and region: the base credentials for their own account,
/// else the member role in the aggregator account.
pub fn hub_config(aws: &Aws, hub: &HubTarget, caller_account: &str) -> SdkConfig {
    let conf = if hub.account == caller_account { aws.base().clone() } else { aws.session(&hub.account) };
    conf.to_builder().region(Region::new(hub.region.clone())).build()
}

/// `findings` as this run produced them at `generated_at` (the report's time, the stale archives' UpdatedAt).
pub async fn import(aws: &Aws, conf: &SdkConfig, hub: &HubTarget, findings: &[asff::Finding], generated_at: &str) -> Result<ImportOutcome, HubError> {
    let client = aws.securityhub(conf);
    let site = Site::new(&hub.account, conf.region(), "securityhub-hub");
    let described = client.describe_hub().send().await;
    let hub_arn = match described {
        Ok(out) => out.hub_arn.unwrap_or_default(),
        Err(e) => {
            let err = site.fail("SecurityHub.DescribeHub")(e);
            if err.source.is_code("InvalidAccessException") || err.source.is_code("ResourceNotFoundException") {
                return Err(HubError::NotEnabled { account: hub.account.clone(), region: hub.region.clone(), message: err.source.message.clone() });
            }
            return Err(err.into());
        }
    };
    let previous = stale::active(&client, &site.on("securityhub-findings"), hub).await?;
    let stale = stale::archive_stale(&previous, findings, generated_at);
    let archived = findings.iter().filter(|f| f.record_state == "ARCHIVED").count();
    let mut outcome = ImportOutcome { hub_arn, account: hub.account.clone(), region: hub.region.clone(), sent: 0, imported: 0, batches: 0, archived, stale: stale.len(), failed: vec![] };
    let site = site.on("securityhub-findings");
    let all: Vec<AwsSecurityFinding> = findings.iter().map(to_sdk).chain(stale).collect();
    for batch in all.chunks(MAX_BATCH) {
        let out = client.batch_import_findings().set_findings(Some(batch.to_vec())).send().await.map_err(site.fail("SecurityHub.BatchImportFindings"))?;
        outcome.batches += 1;
        outcome.sent += batch.len();
        outcome.imported += usize::try_from(out.success_count.unwrap_or(0)).unwrap_or(0);
        outcome.failed.extend(out.failed_findings.unwrap_or_default().into_iter().map(|f| FailedFinding {
            id: f.id.unwrap_or_default(),
            error_code: f.error_code.unwrap_or_default(),
            error_message: f.error_message.unwrap_or_default(),
        }));
    }
    Ok(outcome)
}

fn to_sdk(f: &asff::Finding) -> AwsSecurityFinding {
    let resources = f.resources.iter().map(|r| Resource::builder().r#type(r.r#type).id(&r.id).partition(r.partition.as_str().into()).region(&r.region).build()).collect();
    let mut b = AwsSecurityFinding::builder()
        .schema_version(f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .set_types(Some(f.types.clone()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(Severity::builder().label(SeverityLabel::from(f.severity.label)).build())
        .title(&f.title)
        .description(&f.description)
        .remediation(Remediation::builder().recommendation(Recommendation::builder().text(&f.remediation.recommendation.text).build()).build())
        .set_resources(Some(resources))
        .compliance(Compliance::builder().status(ComplianceStatus::from(f.compliance.status)).set_related_requirements(Some(f.compliance.related_requirements.clone()).filter(|r| !r.is_empty())).build())
        .record_state(RecordState::from(f.record_state));
    for (k, v) in &f.product_fields {
        b = b.product_fields(k, v);
    }
    b.build()
}
