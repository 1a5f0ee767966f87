//! The trail engine: the desired state of one trail (`TrailSpec`), how it is read (`describe`,
//! `observe`), compared (`diff_properties`, `selectors::same_set`) and converged
//! (`converge_trail`): CreateTrail when absent or UpdateTrail with only the fields that differ
//! (never delete-and-recreate: that leaves a gap in the audit record), PutEventSelectors,
//! StartLogging, and GetTrailStatus to confirm. The org-trail step, the account-trail step and
//! `verify` share it.
//!
//! The trail is addressed by its full ARN everywhere but CreateTrail: a delegated administrator
//! calling by bare name gets TrailNotFoundException, the trail belonging to the management account.
pub mod owner;
pub mod selectors;
pub mod topic;

use aws_sdk_cloudtrail::types::Trail as LiveTrail;

use super::kms_key::KeyRef;
use super::support::trail_resource;
use super::{Action, Change, Ctx, Outcome, StepError, StepResult};
use crate::aws::Site;
use crate::config::CloudWatchLogs;

pub use selectors::{desired_selectors, logs_management_events, Selector};

/// The desired state of one trail (the organization trail, or an account trail).
#[derive(Debug, Clone)]
pub struct TrailSpec {
    /// The account whose credentials act on the trail (errors name it).
    pub account: String,
    pub arn: String,
    pub name: String,
    pub organization: bool,
    pub bucket: String,
    pub prefix: Option<String>,
    pub key: KeyRef,
    /// The delivery topic (`[trail] sns_topic`) by ARN: it lives in the acting account (`account`),
    /// so for a delegated administrator it is not the trail owner's.
    pub sns_topic_arn: Option<String>,
    pub cloudwatch: Option<CloudWatchLogs>,
    pub selectors: Vec<Selector>,
}

impl TrailSpec {
    /// Where this trail's calls go through `ct`: its account, the client's region, the trail.
    fn site(&self, ct: &aws_sdk_cloudtrail::Client) -> Site {
        Site::new(&self.account, ct.config().region(), trail_resource(&self.arn))
    }

    /// The baseline for a trail of this config: multi-region, global events, validation, the
    /// central bucket and key, and the configured selectors (management events only when `management`).
    pub fn new(ctx: &Ctx<'_>, account: &str, arn: String, organization: bool, key: KeyRef, management: bool) -> TrailSpec {
        let la = &ctx.config.log_archive;
        TrailSpec {
            account: account.to_string(),
            arn,
            name: ctx.config.trail.name.clone(),
            organization,
            bucket: la.bucket.clone(),
            prefix: la.prefix.clone().filter(|p| !p.is_empty()),
            key,
            sns_topic_arn: ctx.config.trail.sns_topic.as_deref().map(|name| topic::arn(ctx, account, name)),
            cloudwatch: ctx.config.trail.cloudwatch_logs.clone(),
            selectors: {
                let mut s = desired_selectors(&ctx.config.trail, ctx.partition(), &la.bucket, management);
                // Issue 15: network activity selectors join the organization trail's.
                if organization {
                    s.extend(selectors::network_selectors(ctx));
                }
                s
            },
        }
    }
}

/// A trail property that can differ from the spec; named as CreateTrail/UpdateTrail name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IsOrganizationTrail,
    IsMultiRegionTrail,
    IncludeGlobalServiceEvents,
    EnableLogFileValidation,
    KmsKeyId,
    S3BucketName,
    S3KeyPrefix,
    SnsTopicName,
    CloudWatchLogs,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::IsOrganizationTrail => "IsOrganizationTrail",
            Field::IsMultiRegionTrail => "IsMultiRegionTrail",
            Field::IncludeGlobalServiceEvents => "IncludeGlobalServiceEvents",
            Field::EnableLogFileValidation => "EnableLogFileValidation",
            Field::KmsKeyId => "KmsKeyId",
            Field::S3BucketName => "S3BucketName",
            Field::S3KeyPrefix => "S3KeyPrefix",
            Field::SnsTopicName => "SnsTopicName",
            Field::CloudWatchLogs => "CloudWatchLogsLogGroupArn/CloudWatchLogsRoleArn",
        }
    }
}

pub const SELECTORS_FIELD: &str = "AdvancedEventSelectors";
pub const LOGGING_FIELD: &str = "IsLogging";

fn same(live: Option<&str>, want: Option<&str>) -> bool {
    live.unwrap_or("") == want.unwrap_or("")
}

/// The trail properties that differ from the spec.
pub fn diff_properties(spec: &TrailSpec, t: &LiveTrail) -> Vec<Field> {
    let mut out = Vec::new();
    let flag = |v: Option<bool>| v.unwrap_or(false);
    if flag(t.is_organization_trail()) != spec.organization {
        out.push(Field::IsOrganizationTrail);
    }
    if !flag(t.is_multi_region_trail()) {
        out.push(Field::IsMultiRegionTrail);
    }
    if !flag(t.include_global_service_events()) {
        out.push(Field::IncludeGlobalServiceEvents);
    }
    if !flag(t.log_file_validation_enabled()) {
        out.push(Field::EnableLogFileValidation);
    }
    match &spec.key {
        KeyRef::Arn(arn) if t.kms_key_id() == Some(arn.as_str()) => {}
        _ => out.push(Field::KmsKeyId),
    }
    if t.s3_bucket_name() != Some(spec.bucket.as_str()) {
        out.push(Field::S3BucketName);
    }
    if !same(t.s3_key_prefix(), spec.prefix.as_deref()) {
        out.push(Field::S3KeyPrefix);
    }
    // CloudTrail reports the topic by ARN (SnsTopicName is deprecated in responses); compared whole,
    // so a topic of the same name in another account (the trail owner's) is drift.
    if !same(t.sns_topic_arn(), spec.sns_topic_arn.as_deref()) {
        out.push(Field::SnsTopicName);
    }
    let cw = spec.cloudwatch.as_ref();
    if !same(t.cloud_watch_logs_log_group_arn(), cw.map(|c| c.log_group_arn.as_str())) || !same(t.cloud_watch_logs_role_arn(), cw.map(|c| c.role_arn.as_str())) {
        out.push(Field::CloudWatchLogs);
    }
    out
}

/// A trail as it is now: its description, its selectors (None: basic or default selectors), and logging.
#[derive(Debug, Clone)]
pub struct Observed {
    pub trail: LiveTrail,
    pub selectors: Option<Vec<Selector>>,
    pub logs_management_events: bool,
    pub logging: bool,
}

/// DescribeTrails in the client's region, shadow trails included (organization trails in members,
/// multi-region trails homed elsewhere).
pub async fn describe(ct: &aws_sdk_cloudtrail::Client, account: &str, include_shadow: bool) -> Result<Vec<LiveTrail>, StepError> {
    let site = Site::new(account, ct.config().region(), "cloudtrail-trails");
    let out = ct.describe_trails().include_shadow_trails(include_shadow).send().await.map_err(site.fail("CloudTrail.DescribeTrails"))?;
    Ok(out.trail_list().to_vec())
}

/// Selectors and status of a trail seen in DescribeTrails, read by its ARN.
pub async fn observe(ct: &aws_sdk_cloudtrail::Client, account: &str, trail: LiveTrail) -> Result<Observed, StepError> {
    let arn = trail.trail_arn().unwrap_or_default().to_string();
    let site = Site::new(account, ct.config().region(), trail_resource(&arn));
    let sel = ct.get_event_selectors().trail_name(&arn).send().await.map_err(site.fail("CloudTrail.GetEventSelectors"))?;
    let status = ct.get_trail_status().name(&arn).send().await.map_err(site.fail("CloudTrail.GetTrailStatus"))?;
    let advanced = sel.advanced_event_selectors();
    Ok(Observed {
        selectors: (!advanced.is_empty()).then(|| advanced.iter().map(Selector::from_sdk).collect()),
        logs_management_events: logs_management_events(&sel),
        logging: status.is_logging().unwrap_or(false),
        trail,
    })
}

/// Read, compare and (when applying) converge one trail through `ct` (in the trail's home region).
/// `live` is the trail as DescribeTrails showed it, if it exists.
pub async fn converge_trail(ctx: &Ctx<'_>, ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, live: Option<LiveTrail>) -> StepResult {
    let resource = trail_resource(&spec.arn);
    if spec.selectors.is_empty() {
        return Err(StepError::refused(&spec.account, resource, "the trail would log nothing: [trail] management_events and [trail.data_events] s3 are both \"none\""));
    }
    let mut outcome = Outcome::default();
    let key_arn = match &spec.key {
        KeyRef::Arn(arn) => Some(arn.clone()),
        KeyRef::Missing { alias } if ctx.apply => {
            return Err(StepError::refused(
                &spec.account,
                resource,
                format!("KMS key {alias} does not exist in the log-archive account {}: the kms-key step must run first", ctx.config.log_archive.account),
            ))
        }
        KeyRef::Missing { .. } => None,
    };
    let Some(live) = live else {
        if let (true, Some(key_arn)) = (ctx.apply, &key_arn) {
            create(ct, spec, key_arn).await?;
            put_selectors(ct, spec).await?;
            start_and_confirm(ct, spec).await?;
        }
        let resource = match &spec.key {
            KeyRef::Missing { alias } => format!("{resource} (KMS key {alias}: created by kms-key step)"),
            KeyRef::Arn(_) => resource,
        };
        outcome.push(Change::new(resource, Action::Create));
        return Ok(outcome);
    };
    let seen = observe(ct, &spec.account, live).await?;
    let props = diff_properties(spec, &seen.trail);
    let selectors_differ = !selectors::same_set(seen.selectors.as_deref(), &spec.selectors);
    let mut fields: Vec<String> = props
        .iter()
        .map(|f| match (f, &spec.key) {
            (Field::KmsKeyId, KeyRef::Missing { .. }) => "KmsKeyId (created by kms-key step)".to_string(),
            _ => f.as_str().to_string(),
        })
        .collect();
    if selectors_differ {
        fields.push(SELECTORS_FIELD.into());
    }
    if !seen.logging {
        fields.push(LOGGING_FIELD.into());
    }
    if ctx.apply {
        if let (false, Some(key_arn)) = (props.is_empty(), &key_arn) {
            update(ct, spec, key_arn, &props).await?;
        }
        if selectors_differ {
            put_selectors(ct, spec).await?;
        }
        if !seen.logging {
            start_and_confirm(ct, spec).await?;
        }
    }
    outcome.push(Change::update(resource, fields));
    Ok(outcome)
}

async fn create(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, key_arn: &str) -> Result<(), StepError> {
    let site = spec.site(ct);
    let cw = spec.cloudwatch.as_ref();
    let out = ct
        .create_trail()
        .name(&spec.name)
        .s3_bucket_name(&spec.bucket)
        .set_s3_key_prefix(spec.prefix.clone())
        // SnsTopicName takes "the name or ARN": the ARN, since the topic need not be in the trail
        // owner's account (a delegated administrator's topic is in its own).
        .set_sns_topic_name(spec.sns_topic_arn.clone())
        .include_global_service_events(true)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .is_organization_trail(spec.organization)
        .kms_key_id(key_arn)
        .set_cloud_watch_logs_log_group_arn(cw.map(|c| c.log_group_arn.clone()))
        .set_cloud_watch_logs_role_arn(cw.map(|c| c.role_arn.clone()))
        .send()
        .await
        .map_err(site.fail("CloudTrail.CreateTrail"))?;
    // Every later call addresses the trail by this ARN (a delegated administrator's organization
    // trail belongs to the management account): a trail created elsewhere would be lost track of.
    match out.trail_arn() {
        Some(arn) if arn != spec.arn => Err(StepError::refused(
            &spec.account,
            site.resource,
            format!("CreateTrail made {arn}, not the expected {}: the caller is neither the management account nor a registered CloudTrail delegated administrator", spec.arn),
        )),
        _ => Ok(()),
    }
}

/// UpdateTrail with only the fields that differ (an empty string removes an optional setting).
async fn update(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec, key_arn: &str, fields: &[Field]) -> Result<(), StepError> {
    // "Only the management account for the organization can convert an organization trail to a
    // non-organization trail, or convert a non-organization trail to an organization trail": a
    // delegated administrator (acting on a trail another account owns) never sends the field.
    let owner = crate::aws::Arn::account_of(&spec.arn).unwrap_or_default();
    if fields.contains(&Field::IsOrganizationTrail) && owner != spec.account {
        return Err(StepError::refused(
            &spec.account,
            trail_resource(&spec.arn),
            format!("IsOrganizationTrail differs, and only the management account {owner} can change it: run orgtrail with its credentials once"),
        ));
    }
    let mut req = ct.update_trail().name(&spec.arn);
    for f in fields {
        req = match f {
            Field::IsOrganizationTrail => req.is_organization_trail(spec.organization),
            // A multi-region trail must include global service events: send both.
            Field::IsMultiRegionTrail => req.is_multi_region_trail(true).include_global_service_events(true),
            Field::IncludeGlobalServiceEvents => req.include_global_service_events(true),
            Field::EnableLogFileValidation => req.enable_log_file_validation(true),
            Field::KmsKeyId => req.kms_key_id(key_arn),
            Field::S3BucketName => req.s3_bucket_name(&spec.bucket),
            Field::S3KeyPrefix => req.s3_key_prefix(spec.prefix.clone().unwrap_or_default()),
            Field::SnsTopicName => req.sns_topic_name(spec.sns_topic_arn.clone().unwrap_or_default()),
            Field::CloudWatchLogs => {
                let cw = spec.cloudwatch.as_ref();
                req.cloud_watch_logs_log_group_arn(cw.map(|c| c.log_group_arn.clone()).unwrap_or_default())
                    .cloud_watch_logs_role_arn(cw.map(|c| c.role_arn.clone()).unwrap_or_default())
            }
        };
    }
    req.send().await.map_err(spec.site(ct).fail("CloudTrail.UpdateTrail"))?;
    Ok(())
}

async fn put_selectors(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec) -> Result<(), StepError> {
    let site = spec.site(ct);
    let sdk = spec.selectors.iter().map(Selector::to_sdk).collect::<Result<Vec<_>, _>>().map_err(|e| StepError::unexpected(&site, "CloudTrail.PutEventSelectors", e.to_string()))?;
    ct.put_event_selectors()
        .trail_name(&spec.arn)
        .set_advanced_event_selectors(Some(sdk))
        .send()
        .await
        .map_err(site.fail("CloudTrail.PutEventSelectors"))?;
    Ok(())
}

/// StartLogging, then GetTrailStatus must say IsLogging=true.
async fn start_and_confirm(ct: &aws_sdk_cloudtrail::Client, spec: &TrailSpec) -> Result<(), StepError> {
    let site = spec.site(ct);
    ct.start_logging().name(&spec.arn).send().await.map_err(site.fail("CloudTrail.StartLogging"))?;
    let status = ct.get_trail_status().name(&spec.arn).send().await.map_err(site.fail("CloudTrail.GetTrailStatus"))?;
    if status.is_logging() == Some(true) {
        Ok(())
    } else {
        Err(StepError::unexpected(&site, "CloudTrail.GetTrailStatus", "IsLogging is still false after StartLogging"))
    }
}

