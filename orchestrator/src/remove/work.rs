//! The API calls that remove one resource, through the AWS call layer (its clients, retries and
//! rate limits), every error naming the account, region and resource at fault.
use crate::aws::Site;
use crate::steps::detection::home;
use crate::steps::support::in_region;
use crate::steps::{Ctx, StepError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    DetachScp { policy_id: String, target: String },
    DeleteScp { policy_id: String },
    /// UpdateTrail with empty CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn.
    UnlinkLogGroup { trail_arn: String },
    /// PutInsightSelectors with none.
    ClearInsights { trail_arn: String },
    DeleteAlarm { name: String },
    DeleteMetricFilter { group: String, name: String, region: String },
    DeleteTopic { arn: String },
    /// The trail's delivery topic, in the caller's account (the alarm topic is the logs account's).
    DeleteTrailTopic { arn: String },
    DeleteLogGroup { name: String, region: String },
    /// Its inline policies first (IAM refuses to delete a role that has any).
    DeleteRole { name: String, inline: Vec<String> },
    /// StopLogging, then DeleteTrail.
    StopAndDeleteTrail { arn: String },
    Deregister { account: String },
}

impl Work {
    /// Run it, acting in `account`; returns the operations it called.
    pub async fn run(&self, ctx: &Ctx<'_>, account: &str, resource: &str) -> Result<Vec<&'static str>, StepError> {
        let conf = in_region(&ctx.session(account), ctx.home_region());
        let site = Site::new(account, conf.region(), resource.to_string());
        let mut calls = Vec::new();
        match self {
            Work::DetachScp { policy_id, target } => {
                ctx.aws.organizations_permit().await;
                ctx.aws.organizations().detach_policy().policy_id(policy_id).target_id(target).send().await.map_err(site.fail("Organizations.DetachPolicy"))?;
                calls.push("Organizations.DetachPolicy");
            }
            Work::DeleteScp { policy_id } => {
                ctx.aws.organizations_permit().await;
                ctx.aws.organizations().delete_policy().policy_id(policy_id).send().await.map_err(site.fail("Organizations.DeletePolicy"))?;
                calls.push("Organizations.DeletePolicy");
            }
            Work::UnlinkLogGroup { trail_arn } => {
                let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
                ct.update_trail().name(trail_arn).cloud_watch_logs_log_group_arn("").cloud_watch_logs_role_arn("").send().await.map_err(site.fail("CloudTrail.UpdateTrail"))?;
                calls.push("CloudTrail.UpdateTrail");
            }
            Work::ClearInsights { trail_arn } => {
                let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
                ct.put_insight_selectors().trail_name(trail_arn).set_insight_selectors(Some(vec![])).send().await.map_err(site.fail("CloudTrail.PutInsightSelectors"))?;
                calls.push("CloudTrail.PutInsightSelectors");
            }
            Work::DeleteAlarm { name } => {
                ctx.aws.cloudwatch(&home(ctx)).delete_alarms().alarm_names(name).send().await.map_err(site.fail("CloudWatch.DeleteAlarms"))?;
                calls.push("CloudWatch.DeleteAlarms");
            }
            Work::DeleteMetricFilter { group, name, region } => {
                let logs = ctx.aws.logs(&in_region(&ctx.session(account), region));
                logs.delete_metric_filter().log_group_name(group).filter_name(name).send().await.map_err(site.fail("CloudWatchLogs.DeleteMetricFilter"))?;
                calls.push("CloudWatchLogs.DeleteMetricFilter");
            }
            Work::DeleteTopic { arn } => {
                ctx.aws.sns(&home(ctx)).delete_topic().topic_arn(arn).send().await.map_err(site.fail("SNS.DeleteTopic"))?;
                calls.push("SNS.DeleteTopic");
            }
            Work::DeleteTrailTopic { arn } => {
                ctx.aws.sns(&in_region(ctx.aws.base(), ctx.home_region())).delete_topic().topic_arn(arn).send().await.map_err(site.fail("SNS.DeleteTopic"))?;
                calls.push("SNS.DeleteTopic");
            }
            Work::DeleteLogGroup { name, region } => {
                let logs = ctx.aws.logs(&in_region(&ctx.session(account), region));
                logs.delete_log_group().log_group_name(name).send().await.map_err(site.fail("CloudWatchLogs.DeleteLogGroup"))?;
                calls.push("CloudWatchLogs.DeleteLogGroup");
            }
            Work::DeleteRole { name, inline } => {
                let iam = ctx.aws.iam(&conf);
                for p in inline {
                    iam.delete_role_policy().role_name(name).policy_name(p).send().await.map_err(site.fail("IAM.DeleteRolePolicy"))?;
                    calls.push("IAM.DeleteRolePolicy");
                }
                iam.delete_role().role_name(name).send().await.map_err(site.fail("IAM.DeleteRole"))?;
                calls.push("IAM.DeleteRole");
            }
            Work::StopAndDeleteTrail { arn } => {
                let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
                ct.stop_logging().name(arn).send().await.map_err(site.fail("CloudTrail.StopLogging"))?;
                calls.push("CloudTrail.StopLogging");
                ct.delete_trail().name(arn).send().await.map_err(site.fail("CloudTrail.DeleteTrail"))?;
                calls.push("CloudTrail.DeleteTrail");
            }
            Work::Deregister { account: admin } => {
                let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
                ct.deregister_organization_delegated_admin().delegated_admin_account_id(admin).send().await.map_err(site.fail("CloudTrail.DeregisterOrganizationDelegatedAdmin"))?;
                calls.push("CloudTrail.DeregisterOrganizationDelegatedAdmin");
            }
        }
        Ok(calls)
    }
}
