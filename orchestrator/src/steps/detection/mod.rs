//! Detection and tamper protection (issue 15), as central steps after the trail and the bucket
//! policy's second phase, each observe → diff → converge:
//! - `cloudwatch-logs`: the log group (retention, the log-archive KMS key), the IAM role CloudTrail
//!   writes with, and the trail's CloudWatchLogsLogGroupArn/RoleArn (`log_group`);
//! - `trail-insights`: the trail's Insights selectors (`insights`);
//! - `cis-alarms`: the CIS 4.1–4.15 metric filters and alarms, and their SNS topic (`alarms`);
//! - `tamper-protection-scp`: the SCP, the policy type, the attachments (`scp`).
//!
//! Network activity selectors are merged into the trail's advanced selectors by the org-trail step
//! (`trail::selectors::network_selectors`), which owns them. The log group, its role, the alarms and
//! their topic live in the account that calls UpdateTrail (`logs_account`: the management account,
//! or a delegated administrator, whose trail is still the management account's) in the home
//! region; the SCP is the organization's.
pub mod alarms;
pub mod cis;
pub mod insights;
pub mod log_group;
pub mod scp;

use aws_config::SdkConfig;

use super::support::in_region;
use super::Ctx;
use crate::policy::ScpContext;

pub use super::support::{key_users, log_group_arn, log_group_name, logs_account};
// Network activity selectors are the trail's (the org-trail step owns them); found here before.
pub use super::trail::selectors::{network_selectors, selectors_for};

/// The role CloudTrail assumes to write to the managed log group.
pub const LOGS_ROLE_NAME: &str = "orgtrail-cloudtrail-to-logs";
/// Its inline policy.
pub const LOGS_ROLE_POLICY: &str = "cloudtrail-to-cloudwatch-logs";
/// The tamper-protection SCP's name in Organizations.
pub const SCP_NAME: &str = "orgtrail-tamper-protection";

/// The value CloudTrail's CloudWatchLogsLogGroupArn takes (with the `:*` suffix).
pub fn trail_log_group_arn(ctx: &Ctx<'_>, name: &str) -> String {
    format!("{}:*", log_group_arn(ctx, name))
}

pub fn logs_role_arn(ctx: &Ctx<'_>) -> String {
    format!("arn:{}:iam::{}:role/{LOGS_ROLE_NAME}", ctx.partition(), logs_account(ctx))
}

pub fn topic_arn(ctx: &Ctx<'_>, name: &str) -> String {
    format!("arn:{}:sns:{}:{}:{name}", ctx.partition(), ctx.home_region(), logs_account(ctx))
}

/// The logs account's session (the base credentials) in the home region.
pub fn home(ctx: &Ctx<'_>) -> SdkConfig {
    in_region(&ctx.session(logs_account(ctx)), ctx.home_region())
}

/// The alarm topic policy's inputs: its owner (`{mgmt}` in the template) is the logs account, where
/// the alarms that publish to it are.
pub fn alarm_topic_context(ctx: &Ctx<'_>) -> ScpContext {
    ScpContext { management_account: logs_account(ctx).to_string(), ..scp_context(ctx, "") }
}

/// The detection templates' inputs; `key_arn` may be a placeholder while the key does not exist.
pub fn scp_context(ctx: &Ctx<'_>, key_arn: &str) -> ScpContext {
    let la = &ctx.config.log_archive;
    let group = log_group_name(ctx).unwrap_or_else(|| format!("/aws/cloudtrail/{}", ctx.config.trail.name));
    let topic = ctx.config.detection.alarms.as_ref().map_or("orgtrail-alarms", |a| a.sns_topic.as_str());
    ScpContext {
        partition: ctx.partition().to_string(),
        org_id: ctx.org.id.clone(),
        management_account: ctx.management_account().to_string(),
        log_archive_account: la.account.clone(),
        home_region: ctx.home_region().to_string(),
        trail_arn: ctx.trail_arn(),
        key_arn: key_arn.to_string(),
        bucket: la.bucket.clone(),
        access_log_bucket: la.access_log_bucket.clone(),
        admin_role_arns: la.admin_roles.clone(),
        log_group_arn: log_group_arn(ctx, &group),
        topic_arn: topic_arn(ctx, topic),
    }
}

/// The detection policies this config would apply, for `render-policies`: (JSON key, title, document).
pub fn render_for_review(ctx: &Ctx<'_>, key_arn: &str) -> Result<Vec<(&'static str, String, serde_json::Value)>, crate::policy::PolicyError> {
    let sc = scp_context(ctx, key_arn);
    let d = &ctx.config.detection;
    let mut out = Vec::new();
    if d.protection.is_some() {
        let targets = d.protection.as_ref().map_or(String::new(), |p| if p.targets.is_empty() { "the organization root".into() } else { p.targets.join(", ") });
        out.push(("scp", format!("service control policy {SCP_NAME}, attached to {targets} (SCPs never apply to the management account)"), crate::policy::render_scp(&sc)?));
    }
    if d.log_group.is_some() {
        out.push(("cloudwatch_logs_role_trust_policy", format!("trust policy of role {LOGS_ROLE_NAME}"), crate::policy::render_logs_role_trust(&sc)?));
        out.push(("cloudwatch_logs_role_policy", format!("inline policy {LOGS_ROLE_POLICY} of role {LOGS_ROLE_NAME}"), crate::policy::render_logs_role_policy(&sc)?));
    }
    if d.alarms.is_some() {
        out.push(("alarm_topic_policy", format!("policy of SNS topic {}", sc.topic_arn), crate::policy::render_alarm_topic_policy(&alarm_topic_context(ctx))?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn network_selectors_one_per_source_and_merged_with_the_others() {
        use crate::steps::trail::selectors::{desired_selectors, same_set, Op};
        let text = crate::config::EXAMPLE.replacen("\n[trail]\n", "\n[trail]\nnetwork_events = { sources = [\"s3.amazonaws.com\", \"kms.amazonaws.com\"], vpce_denied_only = true }\n", 1);
        let config = crate::config::parse(std::path::Path::new("t.toml"), &text).unwrap();
        let sel = super::selectors_for(config.detection.network_events.as_ref().unwrap());
        assert_eq!(sel.len(), 2, "one selector per event source");
        for (s, source) in sel.iter().zip(["kms.amazonaws.com", "s3.amazonaws.com"]) {
            let eq = |f: &str| s.fields[f][&Op::Equals].iter().cloned().collect::<Vec<_>>();
            assert_eq!((eq("eventCategory"), eq("eventSource"), eq("errorCode")), (vec!["NetworkActivity".to_string()], vec![source.to_string()], vec!["VpceAccessDenied".to_string()]));
        }
        let base = desired_selectors(&config.trail, "aws", "logs", true);
        let mut merged = base.clone();
        merged.extend(sel);
        assert_eq!(merged.len(), base.len() + 2);
        assert!(!same_set(Some(&base), &merged), "a trail without them differs");
        let no_filter = crate::config::NetworkEvents { sources: vec!["kms.amazonaws.com".into()], vpce_denied_only: false };
        assert!(!super::selectors_for(&no_filter)[0].fields.contains_key("errorCode"));
    }

    #[test]
    fn step_names_are_stable() {
        // Recorded in the state: renaming one would orphan the records of earlier runs.
        assert_eq!(super::log_group::STEP, "cloudwatch-logs");
        assert_eq!(super::insights::STEP, "trail-insights");
        assert_eq!(super::alarms::STEP, "cis-alarms");
        assert_eq!(super::scp::STEP, "tamper-protection-scp");
    }
}
