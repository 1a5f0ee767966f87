//! The log-archive buckets' policies: rendered from the templates, the phase-two encryption denies,
//! and the lock-out check (comparing and putting them is `steps::bucket::converge_policy`).
use serde_json::Value;

use crate::policy::{check_not_locked_out, check_root_can_enable_mfa_delete, normalize_policy, render_access_log_bucket_policy, render_bucket_policy};
use crate::steps::bucket::Bucket;
use crate::steps::support::home_session;
use crate::steps::{Ctx, StepError};

// Their home before the support module; `commands/policies.rs` imports policy_context from here.
pub use crate::steps::support::{policy_context, policy_fields};

/// The phase-two statements of the log bucket's policy (see `enforce_encryption`).
pub const ENFORCEMENT_SIDS: [&str; 2] = ["DenyUnencryptedObjectUploads", "DenyWrongKMSKey"];

pub(super) fn render_log_bucket(ctx: &Ctx<'_>, key_arn: &str, enforce_encryption: bool) -> Result<Value, StepError> {
    render_bucket_policy(&policy_context(ctx, key_arn, enforce_encryption)).map_err(|e| {
        StepError::refused(&ctx.config.log_archive.account, format!("s3-bucket-policy {}", ctx.config.log_archive.bucket), e.to_string())
    })
}

pub(super) fn render_access_log(ctx: &Ctx<'_>) -> Result<Value, StepError> {
    render_access_log_bucket_policy(&policy_context(ctx, "", false)).map_err(|e| {
        StepError::refused(&ctx.config.log_archive.account, format!("s3-bucket-policy {}", ctx.config.log_archive.access_log_bucket), e.to_string())
    })
}

/// Whether a live policy already carries the phase-two denies.
pub(super) fn enforces_encryption(live: &str) -> bool {
    let live = normalize_policy(&Value::String(live.to_string()));
    ENFORCEMENT_SIDS.iter().any(|s| live.statements.contains_key(*s))
}

/// Refuse a policy that would deny the principal orgtrail runs as in the log-archive account the right
/// to change the bucket's policy, versioning or lifecycle later (only the root user could undo that),
/// or that would deny the log-archive root user the versioning change that enables MFA Delete.
pub(super) async fn check_lockout(ctx: &Ctx<'_>, b: &Bucket<'_>, desired: &Value) -> Result<(), StepError> {
    let site = b.policy_site();
    let me = ctx.aws.sts_in(&home_session(ctx, b.account())).get_caller_identity().send().await.map_err(site.fail("STS.GetCallerIdentity"))?;
    let caller = me.arn().unwrap_or_default();
    let refuse = |e: crate::policy::LockoutError| StepError::refused(b.account(), site.resource.clone(), e.to_string());
    check_not_locked_out(desired, caller).map_err(refuse)?;
    check_root_can_enable_mfa_delete(desired, ctx.partition(), &ctx.org.id, b.account()).map_err(refuse)
}
