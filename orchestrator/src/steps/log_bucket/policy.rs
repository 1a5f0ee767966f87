//! The buckets' policies: rendered from the templates, compared semantically with the live policy
//! (statements by Sid, never as strings), checked for lock-out, and put only when they differ.
use serde_json::Value;

use super::Bucket;
use crate::aws::aws_err;
use crate::config::TrailMode as ConfigTrailMode;
use crate::policy::{
    check_not_locked_out, check_root_can_enable_mfa_delete, diff_policies, normalize_policy, render_access_log_bucket_policy, render_bucket_policy, PolicyContext, PolicyDiff,
    TrailMode,
};
use crate::steps::{Action, Change, Ctx, StepError};

/// The phase-two statements of the log bucket's policy (see `enforce_encryption`).
pub const ENFORCEMENT_SIDS: [&str; 2] = ["DenyUnencryptedObjectUploads", "DenyWrongKMSKey"];

/// The policy templates' inputs for this run. Account-trail mode scopes CloudTrail's writes to the
/// run's targeted accounts; `key_arn` may be empty while the key does not exist (phase one does not use it).
pub fn policy_context(ctx: &Ctx<'_>, key_arn: &str, enforce_encryption: bool) -> PolicyContext {
    let la = &ctx.config.log_archive;
    PolicyContext {
        partition: ctx.partition().to_string(),
        org_id: ctx.org.id.clone(),
        management_account: ctx.management_account().to_string(),
        log_archive_account: la.account.clone(),
        home_region: ctx.home_region().to_string(),
        trail_name: ctx.config.trail.name.clone(),
        bucket: la.bucket.clone(),
        prefix: la.prefix.clone(),
        access_log_bucket: la.access_log_bucket.clone(),
        key_arn: key_arn.to_string(),
        reader_role_arns: la.reader_roles.clone(),
        admin_role_arns: la.admin_roles.clone(),
        mode: match ctx.config.trail.mode {
            ConfigTrailMode::Organization => TrailMode::Organization,
            ConfigTrailMode::Account => TrailMode::Account { account_ids: ctx.targets.to_vec() },
        },
        enforce_encryption,
        key_users: crate::steps::detection::key_users(ctx),
    }
}

/// A policy diff as the fields of an `Update`: one entry per statement that differs, named by Sid.
pub(crate) fn policy_fields(diff: &PolicyDiff) -> Vec<String> {
    let mut fields = Vec::new();
    if diff.version.is_some() {
        fields.push("Version".to_string());
    }
    fields.extend(diff.missing.iter().map(|s| format!("{s} (missing)")));
    fields.extend(diff.changed.iter().map(|s| match diff.changed_fields.get(s) {
        Some(f) if !f.is_empty() => format!("{s} (changed: {})", f.join(", ")),
        _ => format!("{s} (changed)"),
    }));
    fields.extend(diff.unexpected.iter().map(|s| format!("{s} (unexpected)")));
    fields
}

pub(super) fn resource(b: &Bucket<'_>) -> String {
    format!("s3-bucket-policy {}", b.name)
}

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

/// The live policy document, None when the bucket has none.
pub(super) async fn live(b: &Bucket<'_>) -> Result<Option<String>, StepError> {
    let out = b.s3.get_bucket_policy().bucket(b.name).send().await.map_err(aws_err("S3.GetBucketPolicy"));
    let out = super::absent_if(out, &["NoSuchBucketPolicy"]).map_err(StepError::aws(b.account, resource(b)))?;
    Ok(out.and_then(|o| o.policy))
}

/// Refuse a policy that would deny the principal orgtrail runs as in the log-archive account the right
/// to change the bucket's policy, versioning or lifecycle later (only the root user could undo that),
/// or that would deny the log-archive root user the versioning change that enables MFA Delete.
pub(super) async fn check_lockout(ctx: &Ctx<'_>, b: &Bucket<'_>, desired: &Value) -> Result<(), StepError> {
    let session = super::home_session(ctx, b.account);
    let me = ctx.aws.sts_in(&session).get_caller_identity().send().await.map_err(aws_err("STS.GetCallerIdentity")).map_err(StepError::aws(b.account, resource(b)))?;
    let caller = me.arn().unwrap_or_default();
    check_not_locked_out(desired, caller).map_err(|e| StepError::refused(b.account, resource(b), e.to_string()))?;
    check_root_can_enable_mfa_delete(desired, ctx.partition(), &ctx.org.id, b.account).map_err(|e| StepError::refused(b.account, resource(b), e.to_string()))
}

/// Put `desired` when it differs from `live`; the change names the statements that differ.
pub(super) async fn converge(b: &Bucket<'_>, live: Option<String>, desired: &Value) -> Result<Change, StepError> {
    let change = match &live {
        None => Change::new(resource(b), Action::Create),
        Some(live) => Change::update(resource(b), policy_fields(&diff_policies(&Value::String(live.clone()), desired))),
    };
    if change.is_change() && b.apply {
        b.s3.put_bucket_policy()
            .bucket(b.name)
            .policy(desired.to_string())
            .send()
            .await
            .map_err(aws_err("S3.PutBucketPolicy"))
            .map_err(StepError::aws(b.account, resource(b)))?;
    }
    Ok(change)
}
