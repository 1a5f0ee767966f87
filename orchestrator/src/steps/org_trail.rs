//! The `org-trail` step: the organization trail, converged from the management account (or a
//! CloudTrail delegated administrator) in the home region through the trail engine
//! (`super::trail`), with its optional SNS topic. Another organization trail (Control Tower's) is
//! refused, adopted (verified, never written) or left the management events, per
//! `existing_org_trail`.
use aws_sdk_cloudtrail::types::Trail as LiveTrail;

use super::kms_key::lookup_key;
use super::support::{in_region, trail_resource};
use super::trail::{converge_trail, describe, desired_selectors, observe, topic, Field, TrailSpec, LOGGING_FIELD};
use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::config::{CloudWatchLogs, ExistingOrgTrail};

// Paths the tests crate and older callers use.
pub use super::trail::{selectors, SELECTORS_FIELD};

/// Organization trails other than orgtrail's, as the management account sees them.
fn other_org_trails<'t>(trails: &'t [LiveTrail], ours: &str) -> Vec<&'t LiveTrail> {
    let mut seen = std::collections::BTreeSet::new();
    trails
        .iter()
        .filter(|t| t.is_organization_trail() == Some(true) && t.trail_arn().is_some_and(|a| a != ours && seen.insert(a.to_string())))
        .collect()
}

/// The `org-trail` step.
pub async fn converge(ctx: &Ctx<'_>) -> StepResult {
    // The base credentials act: the management account, or a delegated administrator (the trail
    // is the management account's either way, hence ARNs).
    let acting = ctx.caller.account.clone();
    let conf = in_region(ctx.aws.base(), ctx.home_region());
    let ct = ctx.aws.cloudtrail(&conf);
    let ours = ctx.trail_arn();
    let trails = describe(&ct, &acting, true).await?;
    let others = other_org_trails(&trails, &ours);
    existing_trail_refusal(ctx, &acting, &others)?;
    let management = if others.is_empty() {
        true
    } else {
        match ctx.config.trail.existing_org_trail {
            ExistingOrgTrail::Adopt => return adopt(ctx, &ct, &acting, others.into_iter().cloned().collect()).await,
            ExistingOrgTrail::Refuse | ExistingOrgTrail::DataEventsOnly => false,
        }
    };
    let spec = TrailSpec::new(ctx, &acting, ours.clone(), true, lookup_key(ctx).await?, management);
    let mut outcome = Outcome::default();
    if let Some(name) = &ctx.config.trail.sns_topic {
        outcome.push(topic::converge(ctx, &conf, &acting, name, &ours).await?);
    }
    let live = trails.into_iter().find(|t| t.trail_arn() == Some(ours.as_str()));
    // Issue 15: with a managed log group the cloudwatch-logs step owns the trail's CloudWatch Logs
    // fields (the group and role must exist first): this step leaves them as it finds them.
    let mut spec = spec;
    if ctx.config.detection.log_group.is_some() {
        spec.cloudwatch = live.as_ref().and_then(|t| Some(CloudWatchLogs { log_group_arn: t.cloud_watch_logs_log_group_arn()?.to_string(), role_arn: t.cloud_watch_logs_role_arn()?.to_string() }));
    }
    outcome.changes.extend(converge_trail(ctx, &ct, &spec, live).await?.changes);
    Ok(outcome)
}

/// The refusal the `org-trail` step will give, found before orgtrail's first write (the executor's
/// preflight) and by the step itself: another organization trail under `existing_org_trail =
/// "refuse"`, or a data-events-only trail that would log nothing.
pub async fn preflight(ctx: &Ctx<'_>) -> Result<(), StepError> {
    let acting = ctx.caller.account.clone();
    let ct = ctx.aws.cloudtrail(&in_region(ctx.aws.base(), ctx.home_region()));
    let trails = describe(&ct, &acting, true).await?;
    existing_trail_refusal(ctx, &acting, &other_org_trails(&trails, &ctx.trail_arn()))
}

fn existing_trail_refusal(ctx: &Ctx<'_>, acting: &str, others: &[&LiveTrail]) -> Result<(), StepError> {
    let ours = ctx.trail_arn();
    let names: Vec<&str> = others.iter().filter_map(|t| t.trail_arn()).collect();
    let management = match ctx.config.trail.existing_org_trail {
        _ if others.is_empty() => true,
        ExistingOrgTrail::Refuse => return Err(StepError::refused(acting, trail_resource(&ours), refusal(&names))),
        ExistingOrgTrail::Adopt => return Ok(()),
        ExistingOrgTrail::DataEventsOnly => false,
    };
    if !desired_selectors(&ctx.config.trail, ctx.partition(), &ctx.config.log_archive.bucket, management).is_empty() {
        return Ok(());
    }
    let reason = if management {
        "the trail would log nothing: [trail] management_events and [trail.data_events] s3 are both \"none\""
    } else {
        "the trail would log nothing: management events are left to the existing organization trail (existing_org_trail = \"data-events-only\") and [trail.data_events] s3 = \"none\""
    };
    Err(StepError::refused(acting, trail_resource(&ours), reason))
}

fn refusal(existing: &[&str]) -> String {
    format!(
        "the organization already has an organization trail ({}), e.g. Control Tower's aws-controltower-BaselineCloudTrail. \
         A second organization trail with management events doubles the CloudTrail bill (only the first copy of management \
         events is free). Choose in [trail]: existing_org_trail = \"adopt\" to verify the existing trail instead of creating \
         one, or existing_org_trail = \"data-events-only\" to create orgtrail's trail with S3 data events only, leaving \
         management events to the existing trail",
        existing.join(", ")
    )
}

/// `existing_org_trail = "adopt"`: verify the existing organization trails against the baseline and
/// report drift as a manual action. Another tool owns them: orgtrail never writes to them.
async fn adopt(ctx: &Ctx<'_>, ct: &aws_sdk_cloudtrail::Client, acting: &str, others: Vec<LiveTrail>) -> StepResult {
    let mut outcome = Outcome::default();
    for t in others {
        let seen = observe(ct, acting, t).await?;
        let arn = seen.trail.trail_arn().unwrap_or_default().to_string();
        let bucket = seen.trail.s3_bucket_name().unwrap_or_default().to_string();
        // Judged against its own bucket (whose object events it must not log) and any KMS key.
        let want = desired_selectors(&ctx.config.trail, ctx.partition(), &bucket, true);
        let flag = |v: Option<bool>| v.unwrap_or(false);
        let mut fields: Vec<&str> = Vec::new();
        for (ok, name) in [
            (flag(seen.trail.is_multi_region_trail()), Field::IsMultiRegionTrail.as_str()),
            (flag(seen.trail.include_global_service_events()), Field::IncludeGlobalServiceEvents.as_str()),
            (flag(seen.trail.log_file_validation_enabled()), Field::EnableLogFileValidation.as_str()),
            (!seen.trail.kms_key_id().unwrap_or("").is_empty(), Field::KmsKeyId.as_str()),
            (selectors::same_set(seen.selectors.as_deref(), &want), SELECTORS_FIELD),
            (seen.logging, LOGGING_FIELD),
        ] {
            if !ok {
                fields.push(name);
            }
        }
        let resource = format!("{} (adopted)", trail_resource(&arn));
        outcome.push(if fields.is_empty() {
            Change::no_change(resource)
        } else {
            Change::new(
                resource,
                Action::ManualAction {
                    instructions: format!(
                        "the adopted organization trail {arn} differs from the baseline in: {}. orgtrail does not modify a trail \
                         another tool owns: fix it in that tool (for Control Tower, its landing zone settings), or set \
                         existing_org_trail = \"data-events-only\" to add orgtrail's own data-events trail",
                        fields.join(", ")
                    ),
                },
            )
        });
    }
    Ok(outcome)
}

