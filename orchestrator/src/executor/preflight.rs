//! Refusals before writes: what will make a central step refuse (another organization trail under
//! `existing_org_trail = "refuse"`, a bucket policy that would lock orgtrail out, a bucket in
//! another region or account, trusted access only the management account can enable) is looked
//! for before the first central write. Each check is the step's own (the step calls it again
//! before its writes), so `plan`, which runs every step read-only, reports the same refusal.
use super::CentralStep;
use crate::steps::{self, Ctx, StepError};

/// The first refusal among `steps`, with the step it belongs to; reads only.
pub async fn check(ctx: &Ctx<'_>, central: &[CentralStep]) -> Result<(), (CentralStep, StepError)> {
    for &s in central {
        let found = match s {
            CentralStep::AccessLogBucket => steps::log_bucket::preflight_access_log_bucket(ctx).await,
            CentralStep::LogBucket => steps::log_bucket::preflight_log_bucket(ctx).await,
            CentralStep::TrustedAccess => steps::trusted_access::preflight(ctx).await,
            CentralStep::OrgTrail => steps::org_trail::preflight(ctx).await,
            // The key step runs first: its own refusals (an unusable key) come before any write.
            // Enforce-encryption's lock-out check is the log bucket's (the same deny statements);
            // MFA Delete never refuses.
            CentralStep::TamperProtectionScp => steps::detection::scp::preflight(ctx).await,
            // The detection steps below refuse nothing that depends on another step's writes.
            CentralStep::KmsKey
            | CentralStep::EnforceEncryption
            | CentralStep::MfaDelete
            | CentralStep::CloudWatchLogs
            | CentralStep::TrailInsights
            | CentralStep::CisAlarms => Ok(()),
        };
        found.map_err(|e| (s, e))?;
    }
    Ok(())
}
