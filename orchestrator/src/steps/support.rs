//! Helpers several steps share, so that no step imports another for them: sessions pinned to a
//! region, the inputs of the policy templates, the names of resources more than one step reads,
//! tag and policy-diff fields. Depends on no step.
use std::collections::BTreeMap;

use aws_config::{Region, SdkConfig};

use super::Ctx;
use crate::config::TrailMode as ConfigTrailMode;
use crate::policy::{KeyUsers, PolicyContext, PolicyDiff, TrailMode};

/// The same session, pinned to a region (trails are regional resources; the base region may differ).
pub fn in_region(conf: &SdkConfig, region: &str) -> SdkConfig {
    conf.to_builder().region(Region::new(region.to_string())).build()
}

/// SDK config acting in `account`, pinned to the home region: the key and buckets live there whatever
/// region the run's base config uses (a bucket created through another region's endpoint would land there).
pub fn home_session(ctx: &Ctx<'_>, account: &str) -> SdkConfig {
    in_region(&ctx.session(account), ctx.home_region())
}

pub fn trail_resource(arn: &str) -> String {
    format!("cloudtrail-trail {arn}")
}

/// Desired tags absent from `live` or with another value there. Tags others added are left alone
/// (cost allocation, ownership): orgtrail only guarantees its own.
pub fn missing_tags(desired: &BTreeMap<String, String>, live: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    desired.iter().filter(|(k, v)| live.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A policy diff as the fields of an `Update`: one entry per statement that differs, named by Sid.
pub fn policy_fields(diff: &PolicyDiff) -> Vec<String> {
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

/// The managed log group's name, when orgtrail manages one (`[trail.cloudwatch_logs]`).
pub fn log_group_name(ctx: &Ctx<'_>) -> Option<String> {
    let g = ctx.config.detection.log_group.as_ref()?;
    Some(g.name.clone().unwrap_or_else(|| format!("/aws/cloudtrail/{}", ctx.config.trail.name)))
}

/// The account the trail's CloudWatch Logs group and role (and the alarms on that group) live in:
/// the account that calls CreateTrail/UpdateTrail, i.e. the base credentials' (the management
/// account, or a delegated administrator). AWS: "Both the CloudWatch Logs log group and log role
/// must exist in the calling account".
pub fn logs_account<'c>(ctx: &Ctx<'c>) -> &'c str {
    &ctx.caller.account
}

/// `arn:…:logs:{home}:{logs account}:log-group:NAME` (no `:*`): the KMS encryption context, the role's resources.
pub fn log_group_arn(ctx: &Ctx<'_>, name: &str) -> String {
    format!("arn:{}:logs:{}:{}:log-group:{name}", ctx.partition(), ctx.home_region(), logs_account(ctx))
}

/// What the log-archive key policy must let use the key (see `templates/kms-key-policy.json`).
pub fn key_users(ctx: &Ctx<'_>) -> KeyUsers {
    KeyUsers { log_group_arn: log_group_name(ctx).map(|n| log_group_arn(ctx, &n)), alarm_topic: ctx.config.detection.alarms.is_some() }
}

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
        key_users: key_users(ctx),
    }
}
