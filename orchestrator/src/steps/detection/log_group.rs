//! The `cloudwatch-logs` step: the trail's log group (retention, encrypted with the log-archive key),
//! the IAM role CloudTrail assumes to write to it (trust scoped by aws:SourceArn to the trail, only
//! CreateLogStream/PutLogEvents on that group), and the trail's CloudWatchLogsLogGroupArn/RoleArn.
//! The org-trail step leaves those two trail fields to this step when the log group is managed.
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::LogGroup;
use serde_json::Value;

use super::{home, log_group_arn, log_group_name, logs_account, logs_role_arn, scp_context, trail_log_group_arn, LOGS_ROLE_NAME, LOGS_ROLE_POLICY};
use crate::aws::Site;
use crate::policy::{diff_policies, render_logs_role_policy, render_logs_role_trust};
use crate::steps::kms_key::{lookup_key, KeyRef};
use crate::steps::support::{in_region, policy_fields, trail_resource};
use crate::steps::trail::describe;
use crate::steps::{absent, Action, Change, Ctx, Outcome, StepError, StepResult};

pub const STEP: &str = "cloudwatch-logs";

/// IAM returns policy documents URL-encoded.
pub(crate) fn decode_policy(doc: &str) -> Value {
    let text = percent_encoding::percent_decode_str(doc).decode_utf8_lossy();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    let Some(name) = log_group_name(ctx) else { return Ok(Outcome::default()) };
    let mut outcome = Outcome::default();
    let key = lookup_key(ctx).await?;
    outcome.push(converge_log_group(ctx, &name, &key).await?);
    let (role_change, role_created) = converge_role(ctx, &name).await?;
    outcome.push(role_change);
    outcome.push(converge_trail_fields(ctx, &name, role_created).await?);
    Ok(outcome)
}

pub async fn describe_log_group(ctx: &Ctx<'_>, logs: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Result<Option<LogGroup>, StepError> {
    let mgmt = logs_account(ctx);
    let site = Site::new(mgmt, logs.config().region(), format!("cloudwatch-log-group {name}"));
    let out = logs.describe_log_groups().log_group_name_prefix(name).send().await.map_err(site.fail("CloudWatchLogs.DescribeLogGroups"))?;
    Ok(out.log_groups().iter().find(|g| g.log_group_name() == Some(name)).cloned())
}

async fn converge_log_group(ctx: &Ctx<'_>, name: &str, key: &KeyRef) -> Result<Change, StepError> {
    let mgmt = logs_account(ctx);
    let resource = format!("cloudwatch-log-group {name}");
    let logs = ctx.aws.logs(&home(ctx));
    let site = Site::new(mgmt, logs.config().region(), resource.clone());
    let retention = ctx.config.detection.log_group.as_ref().map_or(365, |g| g.retention_days);
    let key_arn = match key {
        KeyRef::Arn(a) => Some(a.as_str()),
        KeyRef::Missing { alias } if ctx.apply => {
            return Err(StepError::refused(mgmt, resource, format!("KMS key {alias} does not exist in the log-archive account: the kms-key step must run first")));
        }
        KeyRef::Missing { .. } => None,
    };
    let Some(live) = describe_log_group(ctx, &logs, name).await? else {
        if ctx.apply {
            logs.create_log_group().log_group_name(name).set_kms_key_id(key_arn.map(str::to_string)).send().await.map_err(site.fail("CloudWatchLogs.CreateLogGroup"))?;
            logs.put_retention_policy().log_group_name(name).retention_in_days(retention).send().await.map_err(site.fail("CloudWatchLogs.PutRetentionPolicy"))?;
        }
        return Ok(Change::new(resource, Action::Create));
    };
    let mut fields = Vec::new();
    if live.retention_in_days() != Some(retention) {
        fields.push(format!("retentionInDays ({} -> {retention})", live.retention_in_days().map_or("never expire".to_string(), |d| d.to_string())));
        if ctx.apply {
            logs.put_retention_policy().log_group_name(name).retention_in_days(retention).send().await.map_err(site.fail("CloudWatchLogs.PutRetentionPolicy"))?;
        }
    }
    if live.kms_key_id() != key_arn {
        fields.push(match key_arn {
            Some(_) => "kmsKeyId".to_string(),
            None => "kmsKeyId (created by kms-key step)".to_string(),
        });
        if let (true, Some(k)) = (ctx.apply, key_arn) {
            logs.associate_kms_key().log_group_name(name).kms_key_id(k).send().await.map_err(site.fail("CloudWatchLogs.AssociateKmsKey"))?;
        }
    }
    Ok(Change::update(resource, fields))
}

/// The role and its inline policy. Returns whether the role was created (IAM then needs a moment
/// before CloudTrail can assume it).
async fn converge_role(ctx: &Ctx<'_>, name: &str) -> Result<(Change, bool), StepError> {
    let mgmt = logs_account(ctx);
    let resource = format!("iam-role {LOGS_ROLE_NAME}");
    let iam = ctx.aws.iam(&home(ctx));
    let site = Site::global(mgmt, resource.clone());
    let sc = scp_context(ctx, "");
    let sc = crate::policy::ScpContext { log_group_arn: log_group_arn(ctx, name), ..sc };
    let render_err = |e: crate::policy::PolicyError| StepError::refused(mgmt, format!("iam-role {LOGS_ROLE_NAME}"), e.to_string());
    let trust = render_logs_role_trust(&sc).map_err(render_err)?;
    let perms = render_logs_role_policy(&sc).map_err(render_err)?;
    let role = absent(iam.get_role().role_name(LOGS_ROLE_NAME).send().await.map_err(site.fail("IAM.GetRole")), &["NoSuchEntity"])?;
    let put_policy = || async {
        iam.put_role_policy().role_name(LOGS_ROLE_NAME).policy_name(LOGS_ROLE_POLICY).policy_document(perms.to_string()).send().await.map_err(site.fail("IAM.PutRolePolicy"))
    };
    let Some(role) = role.and_then(|r| r.role) else {
        if ctx.apply {
            iam.create_role()
                .role_name(LOGS_ROLE_NAME)
                .assume_role_policy_document(trust.to_string())
                .description("CloudTrail writes the organization trail's events to CloudWatch Logs (orgtrail)")
                .send()
                .await
                .map_err(site.fail("IAM.CreateRole"))?;
            put_policy().await?;
        }
        return Ok((Change::new(resource, Action::Create), ctx.apply));
    };
    let mut fields = Vec::new();
    let live_trust = role.assume_role_policy_document().map(decode_policy).unwrap_or(Value::Null);
    let trust_diff = diff_policies(&live_trust, &trust);
    if !trust_diff.is_empty() {
        fields.extend(policy_fields(&trust_diff).into_iter().map(|f| format!("AssumeRolePolicyDocument {f}")));
        if ctx.apply {
            iam.update_assume_role_policy().role_name(LOGS_ROLE_NAME).policy_document(trust.to_string()).send().await.map_err(site.fail("IAM.UpdateAssumeRolePolicy"))?;
        }
    }
    let live_perms = absent(iam.get_role_policy().role_name(LOGS_ROLE_NAME).policy_name(LOGS_ROLE_POLICY).send().await.map_err(site.fail("IAM.GetRolePolicy")), &["NoSuchEntity"])?
        .map(|p| decode_policy(p.policy_document()));
    let perms_diff = diff_policies(live_perms.as_ref().unwrap_or(&Value::Null), &perms);
    if live_perms.is_none() || !perms_diff.is_empty() {
        fields.push(match live_perms {
            None => format!("{LOGS_ROLE_POLICY} (missing)"),
            Some(_) => format!("{LOGS_ROLE_POLICY} {}", policy_fields(&perms_diff).join(", ")),
        });
        if ctx.apply {
            put_policy().await?;
        }
    }
    Ok((Change::update(resource, fields), false))
}

/// The trail's CloudWatchLogsLogGroupArn/RoleArn, by UpdateTrail with just those two fields.
async fn converge_trail_fields(ctx: &Ctx<'_>, name: &str, role_created: bool) -> Result<Change, StepError> {
    let acting = ctx.caller.account.as_str();
    let arn = ctx.trail_arn();
    let resource = format!("{} (CloudWatch Logs)", trail_resource(&arn));
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let site = Site::new(acting, ct.config().region(), resource.clone());
    // Shadow trails included: a delegated administrator sees the management account's trail only so.
    let trails = describe(&ct, acting, true).await?;
    let (want_group, want_role) = (trail_log_group_arn(ctx, name), logs_role_arn(ctx));
    let Some(live) = trails.into_iter().find(|t| t.trail_arn() == Some(arn.as_str())) else {
        if ctx.apply {
            return Err(StepError::refused(acting, resource, "the organization trail does not exist: the org-trail step must run first"));
        }
        return Ok(Change::new(resource, Action::Update { fields: vec!["CloudWatchLogsLogGroupArn (after org-trail creates the trail)".into(), "CloudWatchLogsRoleArn".into()] }));
    };
    let mut fields = Vec::new();
    if live.cloud_watch_logs_log_group_arn() != Some(want_group.as_str()) {
        fields.push("CloudWatchLogsLogGroupArn".to_string());
    }
    if live.cloud_watch_logs_role_arn() != Some(want_role.as_str()) {
        fields.push("CloudWatchLogsRoleArn".to_string());
    }
    if ctx.apply && !fields.is_empty() {
        // A role made moments ago is not yet assumable everywhere in IAM: CloudTrail answers
        // InvalidCloudWatchLogsRoleArnException until it is. Bounded retries, then the error.
        let mut wait = Duration::from_secs(2);
        loop {
            let r = ct.update_trail().name(&arn).cloud_watch_logs_log_group_arn(&want_group).cloud_watch_logs_role_arn(&want_role).send().await.map_err(site.fail("CloudTrail.UpdateTrail"));
            match r {
                Err(e) if role_created && e.source.is_code("InvalidCloudWatchLogsRoleArnException") && wait <= Duration::from_secs(32) => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                r => {
                    r?;
                    break;
                }
            }
        }
    }
    Ok(Change::update(resource, fields))
}
