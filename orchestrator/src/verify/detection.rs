//! Issue 15's controls: CloudTrail.5 for the log group orgtrail manages (an existing pair is judged
//! in `trails`), CIS 4.1–4.15 (a metric filter with the benchmark's pattern on the trail's log
//! group, and an alarm on its metric notifying the topic), and the tamper-protection SCP (content
//! as rendered, attached exactly where configured, the policy type on). Reads only.
use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::MetricAlarm;

use super::{Control, Finding, Status};
use crate::aws::{aws_err, Site};
use crate::policy::{diff_policies, render_scp};
use crate::steps::detection::alarms::{alarm_diff, filter_diff, metric_filters, target_log_group};
use crate::steps::detection::cis::FILTERS;
use crate::steps::detection::{home, log_group_name, logs_role_arn, scp, scp_context, topic_arn, trail_log_group_arn};
use crate::steps::kms_key::{lookup_key, KeyRef};
use crate::steps::support::{in_region, trail_resource};
use crate::steps::trail::describe;
use crate::steps::{Ctx, StepError};

/// Whether this module judges CloudTrail.5 (orgtrail manages the log group).
pub(super) fn owns_cloudtrail5(ctx: &Ctx<'_>) -> bool {
    ctx.config.detection.log_group.is_some()
}

pub(super) async fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let (cw, cis, scp) = futures::join!(cloudtrail5(ctx), cis(ctx), scp_control(ctx));
    cw.into_iter().chain(cis).chain(scp).collect()
}

async fn cloudtrail5(ctx: &Ctx<'_>) -> Option<Finding> {
    let name = log_group_name(ctx)?;
    let acting = ctx.caller.account.as_str();
    let arn = ctx.trail_arn();
    let resource = trail_resource(&arn);
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let trails = match describe(&ct, acting, true).await {
        Ok(t) => t,
        Err(e) => return Some(Finding::error(Control::CloudTrail5, acting, resource, &e)),
    };
    let Some(t) = trails.into_iter().find(|t| t.trail_arn() == Some(arn.as_str())) else {
        return Some(Finding::new(Control::CloudTrail5, acting, resource, Status::Fail, "the organization trail does not exist (DescribeTrails)"));
    };
    let (group, role) = (t.cloud_watch_logs_log_group_arn().unwrap_or("(none)"), t.cloud_watch_logs_role_arn().unwrap_or("(none)"));
    let logs = ctx.aws.logs(&home(ctx));
    let exists = match crate::steps::detection::log_group::describe_log_group(ctx, &logs, &name).await {
        Ok(g) => g.is_some(),
        Err(e) => return Some(Finding::error(Control::CloudTrail5, acting, resource, &e)),
    };
    let ok = group == trail_log_group_arn(ctx, &name) && role == logs_role_arn(ctx) && exists;
    let status = if ok { Status::Pass } else { Status::Fail };
    Some(Finding::new(Control::CloudTrail5, acting, resource, status, format!("CloudWatchLogsLogGroupArn={group}; CloudWatchLogsRoleArn={role}; log group {name} exists={exists}")))
}

async fn cis(ctx: &Ctx<'_>) -> Vec<Finding> {
    let logs_owner = crate::steps::detection::logs_account(ctx);
    let controls = (1..=15u8).map(Control::Cis4);
    let Some(alarms) = &ctx.config.detection.alarms else {
        return controls.map(|c| Finding::new(c, logs_owner, "cloudwatch-metric-filters", Status::NotApplicable, "[monitoring] alarms not configured")).collect();
    };
    let Some((account, region, group)) = target_log_group(ctx) else {
        return controls.map(|c| Finding::new(c, logs_owner, "cloudwatch-metric-filters", Status::Fail, "no CloudWatch Logs log group configured for the trail")).collect();
    };
    let logs = ctx.aws.logs(&in_region(&ctx.session(&account), &region));
    let cw = ctx.aws.cloudwatch(&home(ctx));
    let topic = topic_arn(ctx, &alarms.sns_topic);
    let filters = match metric_filters(&logs, &account, &group).await {
        Ok(f) => f,
        Err(e) if e.is_code("ResourceNotFoundException") => BTreeMap::new(),
        Err(e) => return controls.map(|c| Finding::error(c, &account, format!("cloudwatch-log-group {group}"), &e)).collect(),
    };
    let names: Vec<String> = FILTERS.iter().map(|f| f.name()).collect();
    let alarms: BTreeMap<String, MetricAlarm> = match cw.describe_alarms().set_alarm_names(Some(names)).send().await.map_err(aws_err("CloudWatch.DescribeAlarms")) {
        Ok(out) => out.metric_alarms().iter().filter_map(|a| a.alarm_name().map(|n| (n.to_string(), a.clone()))).collect(),
        Err(e) => {
            let e = StepError::from(Site::new(logs_owner, cw.config().region(), "cloudwatch-alarms").error(e));
            return controls.map(|c| Finding::error(c, logs_owner, "cloudwatch-alarms", &e)).collect();
        }
    };
    FILTERS
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let control = Control::Cis4(i as u8 + 1);
            let name = f.name();
            let resource = format!("cloudwatch-metric-filter {group} {name}");
            let filter = match filters.get(&name) {
                None => return Finding::new(control, &account, resource, Status::Fail, format!("no metric filter {name} on log group {group} (DescribeMetricFilters)")),
                Some(live) => filter_diff(f, live),
            };
            let alarm = match alarms.get(&name) {
                None => return Finding::new(control, &account, resource, Status::Fail, format!("filterPattern ok={}; no alarm {name} (DescribeAlarms)", filter.is_empty())),
                Some(a) => alarm_diff(f, a, &topic),
            };
            let status = if filter.is_empty() && alarm.is_empty() { Status::Pass } else { Status::Fail };
            let differs: Vec<String> = filter.into_iter().chain(alarm).collect();
            let evidence = format!("metric {}/{} alarm {name} -> {topic}{}", crate::steps::detection::cis::NAMESPACE, f.metric, if differs.is_empty() { String::new() } else { format!("; differs: {}", differs.join(", ")) });
            Finding::new(control, &account, resource, status, evidence)
        })
        .collect()
}

async fn scp_control(ctx: &Ctx<'_>) -> Option<Finding> {
    let acting = ctx.caller.account.as_str();
    let resource = format!("scp {}", crate::steps::detection::SCP_NAME);
    let Some(protection) = &ctx.config.detection.protection else {
        return Some(Finding::new(Control::TamperProtectionScp, acting, resource, Status::NotApplicable, "[protection] not configured"));
    };
    let key = match lookup_key(ctx).await {
        Ok(KeyRef::Arn(a)) => a,
        Ok(KeyRef::Missing { alias }) => return Some(Finding::new(Control::TamperProtectionScp, acting, resource, Status::Fail, format!("KMS key {alias} does not exist"))),
        Err(e) => return Some(Finding::error(Control::TamperProtectionScp, acting, resource, &e)),
    };
    let err = |e: crate::aws::AwsError| Finding::error(Control::TamperProtectionScp, acting, resource.clone(), &Site::global(acting, resource.clone()).error(e).into());
    let want = match render_scp(&scp_context(ctx, &key)) {
        Ok(w) => w,
        Err(e) => return Some(Finding::new(Control::TamperProtectionScp, acting, resource.clone(), Status::Error, e.to_string())),
    };
    let id = match scp::find_policy(ctx).await {
        Ok(Some(id)) => id,
        Ok(None) => return Some(Finding::new(Control::TamperProtectionScp, acting, resource, Status::Fail, "no SCP named orgtrail-tamper-protection (ListPolicies)")),
        Err(e) => return Some(err(e)),
    };
    ctx.aws.organizations_permit().await;
    let live = match ctx.aws.organizations().describe_policy().policy_id(&id).send().await.map_err(aws_err("Organizations.DescribePolicy")) {
        Ok(out) => out.policy().and_then(|p| p.content()).and_then(|c| serde_json::from_str(c).ok()).unwrap_or(serde_json::Value::Null),
        Err(e) => return Some(err(e)),
    };
    let diff = diff_policies(&live, &want);
    let attached = match scp::targets_of(ctx, &id).await {
        Ok(t) => t,
        Err(e) => return Some(err(e)),
    };
    let mut wanted = std::collections::BTreeSet::new();
    if protection.targets.is_empty() {
        wanted.insert(ctx.org.root_id.clone());
    } else {
        for t in &protection.targets {
            match scp::resolve_target(ctx, &ctx.org.root_id, t).await {
                Ok(id) => {
                    wanted.insert(id);
                }
                Err(scp::Resolve::Aws(e)) => return Some(err(e)),
                Err(scp::Resolve::Unknown) => return Some(Finding::new(Control::TamperProtectionScp, acting, resource, Status::Fail, format!("target OU {t} not found"))),
            }
        }
    }
    let missing: Vec<&String> = wanted.difference(&attached).collect();
    let status = if diff.is_empty() && missing.is_empty() { Status::Pass } else { Status::Fail };
    let content = if diff.is_empty() { "content as rendered".to_string() } else { format!("content differs: {diff}") };
    let evidence = format!("{id}: {content}; attached to {:?}; not attached to {:?}; SCPs never apply to the management account {}", attached, missing, ctx.management_account());
    Some(Finding::new(Control::TamperProtectionScp, acting, format!("{resource} {id}"), status, evidence))
}
