//! The `cis-alarms` step: the CIS 4.1–4.15 metric filters on the trail's log group, one alarm on
//! each filter's metric, and the SNS topic they notify (encrypted with the log-archive key, its
//! policy letting only this account's CloudWatch alarms publish).
use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{ComparisonOperator, MetricAlarm, Statistic};
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation};
use serde_json::Value;

use super::cis::{CisFilter, FILTERS, NAMESPACE};
use super::{alarm_topic_context, home, log_group_name, logs_account, topic_arn};
use crate::aws::Site;
use crate::policy::{diff_policies, render_alarm_topic_policy};
use crate::steps::kms_key::{lookup_key, KeyRef};
use crate::steps::support::{in_region, policy_fields};
use crate::steps::{absent, Action, Change, Ctx, Outcome, StepError, StepResult};

pub const STEP: &str = "cis-alarms";

/// What every alarm is set to: any matching event in a 5-minute period alarms.
pub const PERIOD_SECONDS: i32 = 300;
pub const THRESHOLD: f64 = 1.0;

/// The log group the filters go on: (account, region, name). The managed group, or the existing
/// one named by `[trail.cloudwatch_logs] log_group_arn`.
pub fn target_log_group(ctx: &Ctx<'_>) -> Option<(String, String, String)> {
    if let Some(name) = log_group_name(ctx) {
        return Some((logs_account(ctx).to_string(), ctx.home_region().to_string(), name));
    }
    let arn = &ctx.config.trail.cloudwatch_logs.as_ref()?.log_group_arn;
    let arn: crate::aws::Arn = arn.parse().ok()?;
    let name = arn.resource().strip_prefix("log-group:").filter(|_| arn.service() == "logs")?;
    Some((arn.account().to_string(), arn.region().to_string(), name.trim_end_matches(":*").to_string()))
}

/// The filter's settings that differ from the CIS definition.
pub fn filter_diff(f: &CisFilter, live: &MetricFilter) -> Vec<String> {
    let mut out = Vec::new();
    if live.filter_pattern() != Some(f.pattern) {
        out.push("filterPattern".to_string());
    }
    let t = live.metric_transformations();
    if t.len() != 1 || t[0].metric_name() != f.metric || t[0].metric_namespace() != NAMESPACE || t[0].metric_value() != "1" {
        out.push("metricTransformations".to_string());
    }
    out
}

/// The alarm's settings that differ from what orgtrail sets.
pub fn alarm_diff(f: &CisFilter, a: &MetricAlarm, topic: &str) -> Vec<String> {
    let mut out = Vec::new();
    let checks = [
        (a.metric_name() == Some(f.metric), "MetricName"),
        (a.namespace() == Some(NAMESPACE), "Namespace"),
        (a.statistic() == Some(&Statistic::Sum), "Statistic"),
        (a.period() == Some(PERIOD_SECONDS), "Period"),
        (a.evaluation_periods() == Some(1), "EvaluationPeriods"),
        (a.threshold() == Some(THRESHOLD), "Threshold"),
        (a.comparison_operator() == Some(&ComparisonOperator::GreaterThanOrEqualToThreshold), "ComparisonOperator"),
        (a.alarm_actions() == [topic.to_string()], "AlarmActions"),
        (a.actions_enabled() != Some(false), "ActionsEnabled"),
    ];
    out.extend(checks.iter().filter(|(ok, _)| !ok).map(|(_, n)| n.to_string()));
    out
}

pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    let Some(alarms) = &ctx.config.detection.alarms else { return Ok(Outcome::default()) };
    let mgmt = ctx.management_account();
    let Some((account, region, group)) = target_log_group(ctx) else {
        return Err(StepError::refused(mgmt, "cloudwatch-metric-filters", "no log group: [monitoring] alarms need [trail.cloudwatch_logs]"));
    };
    let mut outcome = Outcome::default();
    let topic = topic_arn(ctx, &alarms.sns_topic);
    outcome.push(converge_topic(ctx, &alarms.sns_topic, &topic).await?);
    let conf = in_region(&ctx.session(&account), &region);
    let logs = ctx.aws.logs(&conf);
    let cw = ctx.aws.cloudwatch(&home(ctx));
    let group_exists = super::log_group::describe_log_group(ctx, &logs, &group).await?.is_some();
    let live_filters = if group_exists { metric_filters(&logs, &account, &group).await? } else { BTreeMap::new() };
    let names: Vec<String> = FILTERS.iter().map(CisFilter::name).collect();
    let live_alarms: BTreeMap<String, MetricAlarm> = cw
        .describe_alarms()
        .set_alarm_names(Some(names))
        .send()
        .await
        .map_err(Site::new(mgmt, cw.config().region(), "cloudwatch-alarms").fail("CloudWatch.DescribeAlarms"))?
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(|n| (n.to_string(), a.clone())))
        .collect();
    for f in &FILTERS {
        let name = f.name();
        let resource = format!("cloudwatch-metric-filter {group} {name}");
        let site = Site::new(&account, logs.config().region(), resource.clone());
        let change = match live_filters.get(&name) {
            None if !group_exists && !ctx.apply => Change::new(format!("{resource} (log group created by cloudwatch-logs step)"), Action::Create),
            None => Change::new(resource.clone(), Action::Create),
            Some(live) => Change::update(resource.clone(), filter_diff(f, live)),
        };
        if ctx.apply && change.is_change() {
            let t = MetricTransformation::builder().metric_name(f.metric).metric_namespace(NAMESPACE).metric_value("1").build().map_err(|e| StepError::unexpected(&site, "CloudWatchLogs.PutMetricFilter", e.to_string()))?;
            logs.put_metric_filter()
                .log_group_name(&group)
                .filter_name(&name)
                .filter_pattern(f.pattern)
                .metric_transformations(t)
                .send()
                .await
                .map_err(site.fail("CloudWatchLogs.PutMetricFilter"))?;
        }
        outcome.push(change);
        let resource = format!("cloudwatch-alarm {name}");
        let site = Site::new(mgmt, cw.config().region(), resource.clone());
        let change = match live_alarms.get(&name) {
            None => Change::new(resource.clone(), Action::Create),
            Some(a) => Change::update(resource.clone(), alarm_diff(f, a, &topic)),
        };
        if ctx.apply && change.is_change() {
            cw.put_metric_alarm()
                .alarm_name(&name)
                .alarm_description(format!("CIS AWS Foundations {}: {} (orgtrail)", f.id, f.title))
                .metric_name(f.metric)
                .namespace(NAMESPACE)
                .statistic(Statistic::Sum)
                .period(PERIOD_SECONDS)
                .evaluation_periods(1)
                .threshold(THRESHOLD)
                .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
                .treat_missing_data("notBreaching")
                .actions_enabled(true)
                .alarm_actions(&topic)
                .send()
                .await
                .map_err(site.fail("CloudWatch.PutMetricAlarm"))?;
        }
        outcome.push(change);
    }
    Ok(outcome)
}

/// Every metric filter of the log group, by name.
pub async fn metric_filters(logs: &aws_sdk_cloudwatchlogs::Client, account: &str, group: &str) -> Result<BTreeMap<String, MetricFilter>, StepError> {
    let site = Site::new(account, logs.config().region(), format!("cloudwatch-log-group {group}"));
    let mut out = BTreeMap::new();
    let mut pages = logs.describe_metric_filters().log_group_name(group).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(site.fail("CloudWatchLogs.DescribeMetricFilters"))?;
        out.extend(page.metric_filters().iter().filter_map(|f| f.filter_name().map(|n| (n.to_string(), f.clone()))));
    }
    Ok(out)
}

/// The alarm topic: created with its policy and the log-archive key, then converged attribute by attribute.
async fn converge_topic(ctx: &Ctx<'_>, name: &str, arn: &str) -> Result<Change, StepError> {
    let mgmt = logs_account(ctx);
    let resource = format!("sns-topic {arn}");
    let sns = ctx.aws.sns(&home(ctx));
    let site = Site::new(mgmt, sns.config().region(), resource.clone());
    let policy = render_alarm_topic_policy(&alarm_topic_context(ctx)).map_err(|e| StepError::refused(mgmt, resource.clone(), e.to_string()))?;
    let key = match lookup_key(ctx).await? {
        KeyRef::Arn(a) => Some(a),
        KeyRef::Missing { alias } if ctx.apply => return Err(StepError::refused(mgmt, resource, format!("KMS key {alias} does not exist: the kms-key step must run first"))),
        KeyRef::Missing { .. } => None,
    };
    let attrs = absent(sns.get_topic_attributes().topic_arn(arn).send().await.map_err(site.fail("SNS.GetTopicAttributes")), &["NotFound"])?;
    let attrs = attrs.map(|out| out.attributes().cloned().unwrap_or_default());
    let Some(attrs) = attrs else {
        if ctx.apply {
            sns.create_topic()
                .name(name)
                .attributes("Policy", policy.to_string())
                .attributes("KmsMasterKeyId", key.clone().unwrap_or_default())
                .send()
                .await
                .map_err(site.fail("SNS.CreateTopic"))?;
        }
        return Ok(Change::new(resource, Action::Create));
    };
    let mut fields = Vec::new();
    let live_policy: Value = attrs.get("Policy").and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null);
    let diff = diff_policies(&live_policy, &policy);
    if !diff.is_empty() {
        fields.extend(policy_fields(&diff).into_iter().map(|f| format!("Policy {f}")));
        if ctx.apply {
            sns.set_topic_attributes().topic_arn(arn).attribute_name("Policy").attribute_value(policy.to_string()).send().await.map_err(site.fail("SNS.SetTopicAttributes"))?;
        }
    }
    if attrs.get("KmsMasterKeyId").map(String::as_str).unwrap_or("") != key.as_deref().unwrap_or("") || key.is_none() {
        fields.push(if key.is_some() { "KmsMasterKeyId".to_string() } else { "KmsMasterKeyId (created by kms-key step)".to_string() });
        if let (true, Some(k)) = (ctx.apply, &key) {
            sns.set_topic_attributes().topic_arn(arn).attribute_name("KmsMasterKeyId").attribute_value(k).send().await.map_err(site.fail("SNS.SetTopicAttributes"))?;
        }
    }
    Ok(Change::update(resource, fields))
}
