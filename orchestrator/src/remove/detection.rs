//! Detection, after the SCP: the trail's CloudWatch Logs link (before the group and role it names
//! go), Insights, the CIS alarms and metric filters, the alarm topic, the log group, its role.
//! Each is looked up by the name `apply` gives it, so a config that dropped a block since still
//! finds what an earlier apply made.
use super::{Item, Work};
use crate::aws::Site;
use crate::steps::detection::{cis::FILTERS, home, insights, log_group, logs_role_arn, topic_arn, trail_log_group_arn, LOGS_ROLE_NAME};
use crate::steps::support::{in_region, trail_resource};
use crate::steps::{absent, Ctx, StepError};

/// The log group `apply` uses (configured, else its default name).
fn group_name(ctx: &Ctx<'_>) -> String {
    crate::steps::support::log_group_name(ctx).unwrap_or_else(|| format!("/aws/cloudtrail/{}", ctx.config.trail.name))
}

pub async fn observe(ctx: &Ctx<'_>) -> Result<Vec<Item>, StepError> {
    let mgmt = ctx.management_account();
    let mut items = Vec::new();
    let arn = ctx.trail_arn();
    let trail = trail_resource(&arn);
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let site = Site::new(mgmt, ct.config().region(), trail.clone());
    let live = absent(ct.get_trail().name(&arn).send().await.map_err(site.fail("CloudTrail.GetTrail")), &["TrailNotFoundException"])?.and_then(|o| o.trail);
    let group = group_name(ctx);
    if let Some(t) = &live {
        if t.cloud_watch_logs_log_group_arn() == Some(trail_log_group_arn(ctx, &group).as_str()) || t.cloud_watch_logs_role_arn() == Some(logs_role_arn(ctx).as_str()) {
            items.push(Item::remove(mgmt, format!("{trail} (CloudWatch Logs)"), Work::UnlinkLogGroup { trail_arn: arn.clone() }));
        }
        if let Some(on) = insights::read(&ct, &arn).await.map_err(|e| site.error(e))? {
            match (on.is_empty(), ctx.config.detection.insights.is_some()) {
                (true, _) => {}
                (false, true) => items.push(Item::remove(mgmt, format!("{trail} (Insights)"), Work::ClearInsights { trail_arn: arn.clone() })),
                (false, false) => items.push(Item::keep(mgmt, format!("{trail} (Insights)"), "the config has no [trail.insights]: not set by orgtrail")),
            }
        }
    }
    let names: Vec<String> = FILTERS.iter().map(|f| f.name()).collect();
    let cw = ctx.aws.cloudwatch(&home(ctx));
    let alarms = cw.describe_alarms().set_alarm_names(Some(names.clone())).send().await.map_err(Site::new(mgmt, cw.config().region(), "cloudwatch-alarms").fail("CloudWatch.DescribeAlarms"))?;
    for a in alarms.metric_alarms().iter().filter_map(|a| a.alarm_name()) {
        items.push(Item::remove(mgmt, format!("cloudwatch-alarm {a}"), Work::DeleteAlarm { name: a.to_string() }));
    }
    let logs = ctx.aws.logs(&home(ctx));
    let group_exists = log_group::describe_log_group(ctx, &logs, &group).await?.is_some();
    if group_exists {
        let filters = crate::steps::detection::alarms::metric_filters(&logs, mgmt, &group).await?;
        for name in names.iter().filter(|n| filters.contains_key(*n)) {
            items.push(Item::remove(mgmt, format!("cloudwatch-metric-filter {group} {name}"), Work::DeleteMetricFilter { group: group.clone(), name: name.clone(), region: ctx.home_region().into() }));
        }
    }
    let topic = topic_arn(ctx, ctx.config.detection.alarms.as_ref().map_or("orgtrail-alarms", |a| a.sns_topic.as_str()));
    let sns = ctx.aws.sns(&home(ctx));
    let topic_site = Site::new(mgmt, sns.config().region(), format!("sns-topic {topic}"));
    if absent(sns.get_topic_attributes().topic_arn(&topic).send().await.map_err(topic_site.fail("SNS.GetTopicAttributes")), &["NotFound"])?.is_some() {
        items.push(Item::remove(mgmt, format!("sns-topic {topic}"), Work::DeleteTopic { arn: topic }));
    }
    if group_exists {
        items.push(Item::remove(mgmt, format!("cloudwatch-log-group {group}"), Work::DeleteLogGroup { name: group, region: ctx.home_region().into() }));
    }
    let iam = ctx.aws.iam(&home(ctx));
    let role_site = Site::global(mgmt, format!("iam-role {LOGS_ROLE_NAME}"));
    if absent(iam.get_role().role_name(LOGS_ROLE_NAME).send().await.map_err(role_site.fail("IAM.GetRole")), &["NoSuchEntity"])?.is_some() {
        let inline = iam.list_role_policies().role_name(LOGS_ROLE_NAME).send().await.map_err(role_site.fail("IAM.ListRolePolicies"))?.policy_names().to_vec();
        items.push(Item::remove(mgmt, format!("iam-role {LOGS_ROLE_NAME}"), Work::DeleteRole { name: LOGS_ROLE_NAME.into(), inline }));
    }
    Ok(items)
}
